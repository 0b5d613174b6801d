//! Source files and byte spans.
//!
//! Every AST node carries a [`Span`]: a file id plus a byte range. Diagnostics resolve spans
//! against the [`SourceMap`] so they can render the offending line anywhere.

use crate::privacy::Privacy;
use std::sync::{Arc, OnceLock};

/// How a policy file `tenet import` wrote begins: its values' lines end in [`ORIGIN_COMMENT`].
pub const IMPORTED_MARK: &str = "// Written by `tenet import`";

/// The comment after a value `tenet import` wrote, naming the admin's file, line and property
/// it came from: locations of that line are given as that origin.
pub const ORIGIN_COMMENT: &str = "  // from ";

/// One loaded policy or data file: its display name (a path relative to where the user pointed
/// tenet) and its full text.
/// Stored (in a bundle) as its name and text: the rest is worked out again on first use.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
#[serde(from = "StoredSource", into = "StoredSource")]
pub struct Source {
    /// The name diagnostics show: a path relative to where tenet was pointed.
    pub name: Arc<str>,
    /// The whole text.
    pub text: Arc<str>,
    /// Byte offsets of line starts, built on first use.
    lines: Arc<OnceLock<Vec<usize>>>,
    /// For a file `tenet import` wrote: the origin of each line that names one, by line.
    origins: Arc<OnceLock<std::collections::HashMap<usize, Arc<str>>>>,
}

/// What a bundle keeps of a [`Source`].
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredSource {
    name: Arc<str>,
    text: Arc<str>,
}

impl From<StoredSource> for Source {
    fn from(s: StoredSource) -> Self {
        Self { name: s.name, text: s.text, lines: Arc::default(), origins: Arc::default() }
    }
}

impl From<Source> for StoredSource {
    fn from(s: Source) -> Self {
        Self { name: s.name, text: s.text }
    }
}

impl Source {
    /// A source of `text`, whose old-Mac line ends (a `\r` alone) are read as `\n`: one byte
    /// for one, so offsets are still the file's own.
    pub fn new(name: impl Into<Arc<str>>, text: impl Into<Arc<str>>) -> Self {
        let text: Arc<str> = text.into();
        let text = lone_cr_as_lf(&text).map_or(text, Arc::from);
        Self { name: name.into(), text, lines: Arc::default(), origins: Arc::default() }
    }

    /// Where the value on `line` (1-based) came from, if `tenet import` wrote this file and
    /// noted it: `CsTeamsMessagingPolicy.json:12 [1].AllowUserChat`.
    pub fn origin(&self, line: usize) -> Option<&str> {
        let origins = self.origins.get_or_init(|| {
            if !self.text.starts_with(IMPORTED_MARK) {
                return Default::default();
            }
            self.text
                .lines()
                .enumerate()
                // The last such comment: a value's own text may hold the words.
                .filter_map(|(i, l)| l.rsplit_once(ORIGIN_COMMENT).map(|(_, o)| (i + 1, Arc::from(o.trim()))))
                .collect()
        });
        origins.get(&line).map(|o| &**o)
    }

    /// The lines holding `spans`, with `context` more on each side: their byte range in the
    /// text and the (0-based) number of the first.
    pub fn lines_around(&self, spans: &[std::ops::Range<usize>], context: usize) -> (usize, usize, usize) {
        let lines = self.lines.get_or_init(|| line_starts(&self.text));
        let line_of = |offset: usize| lines.partition_point(|s| *s <= offset.min(self.text.len())).saturating_sub(1);
        let first = spans.iter().map(|r| line_of(r.start.min(r.end))).min().unwrap_or(0).saturating_sub(context);
        let last = spans.iter().map(|r| line_of(r.end.max(r.start))).max().unwrap_or(0) + context;
        let start = lines.get(first).copied().unwrap_or(self.text.len());
        let end = lines.get(last + 1).copied().unwrap_or(self.text.len());
        (start, end.max(start), first)
    }

    /// One-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(&self.text, offset.min(self.text.len()));
        let lines = self.lines.get_or_init(|| line_starts(&self.text));
        let line = lines.partition_point(|start| *start <= offset);
        let line_start = lines.get(line.saturating_sub(1)).copied().unwrap_or(0);
        let col = self.text[line_start..offset].chars().count() + 1;
        (line, col)
    }
}

impl std::fmt::Debug for Source {
    /// The text is left out: a directory file holds guardians' contact details.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source").field("name", &self.name).field("bytes", &self.text.len()).finish_non_exhaustive()
    }
}

/// `text` with each `\r` not followed by `\n` (an old-Mac line end) made a `\n`, if it has
/// one: otherwise a file saved that way is one line, and a `//` comment would swallow it all.
pub fn lone_cr_as_lf(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let lone = |i: usize| bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n');
    (0..bytes.len()).find(|&i| lone(i))?;
    let out: Vec<u8> = (0..bytes.len()).map(|i| if lone(i) { b'\n' } else { bytes[i] }).collect();
    // Only an ASCII byte was replaced by another: still UTF-8.
    String::from_utf8(out).ok()
}

fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect()
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// Index of a file in a [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, serde::Serialize, serde::Deserialize)]
pub struct FileId(pub u32);

/// A byte range in one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
pub struct Span {
    /// The file.
    pub file: FileId,
    /// The first byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    /// The bytes `start..end` of `file` (offsets past 4 GiB are clamped).
    pub fn new(file: FileId, start: usize, end: usize) -> Self {
        Self { file, start: clamp_u32(start), end: clamp_u32(end) }
    }

    /// The byte range, for slicing the file's text.
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    /// The smallest span covering both (which must be in the same file).
    pub fn to(self, other: Span) -> Span {
        Span { file: self.file, start: self.start.min(other.start), end: self.end.max(other.end) }
    }
}

fn clamp_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// All files of one policy set (and its directory), addressed by [`FileId`].
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct SourceMap {
    files: Vec<Source>,
    /// Which contact details the files hold, to hide them wherever the files are quoted.
    privacy: Arc<Privacy>,
}

impl SourceMap {
    /// Adds a file; its id is its position.
    pub fn add(&mut self, source: Source) -> FileId {
        self.files.push(source);
        FileId(clamp_u32(self.files.len() - 1))
    }

    /// The file of an id.
    pub fn get(&self, id: FileId) -> Option<&Source> {
        self.files.get(id.0 as usize)
    }

    /// Every file, with its id.
    pub fn files(&self) -> impl Iterator<Item = (FileId, &Source)> {
        self.files.iter().enumerate().map(|(i, s)| (FileId(clamp_u32(i)), s))
    }

    /// These files with `file`'s text left out (its name stays, and so do the ids).
    pub fn without_text(&self, file: FileId) -> SourceMap {
        let mut out = self.clone();
        if let Some(source) = out.files.get_mut(file.0 as usize) {
            *source = Source::new(source.name.clone(), "");
        }
        out
    }

    /// What of these files' text may be shown (see [`crate::privacy`]).
    pub fn privacy(&self) -> &Privacy {
        &self.privacy
    }

    /// Sets what of these files' text may be shown.
    pub fn set_privacy(&mut self, privacy: Privacy) {
        self.privacy = Arc::new(privacy);
    }

    /// `file:line:col` of a span's start, for plain-text locations; in a file `tenet import`
    /// wrote, the admin's own file, line and property the value came from.
    pub fn location(&self, span: Span) -> String {
        match self.get(span.file) {
            Some(src) => {
                let (line, col) = src.line_col(span.start as usize);
                match src.origin(line) {
                    Some(origin) => origin.to_string(),
                    None => format!("{}:{line}:{col}", src.name),
                }
            }
            None => String::from("<unknown>"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_mac_line_ends_are_lines_and_windows_ones_stay() {
        let s = Source::new("a", "a // note\rb\r\nc\r");
        assert_eq!(&*s.text, "a // note\nb\r\nc\n");
        assert_eq!(s.line_col(10), (2, 1));
        assert_eq!(lone_cr_as_lf("a\r\nb"), None);
        assert_eq!(lone_cr_as_lf("ab"), None);
    }

    #[test]
    fn line_col_counts_from_one_in_characters() {
        let s = Source::new("a", "ab\ncé d\n");
        assert_eq!(s.line_col(0), (1, 1));
        assert_eq!(s.line_col(3), (2, 1));
        assert_eq!(s.line_col(6), (2, 3));
        assert_eq!(s.line_col(1000), (3, 1));
    }
}
