//! Diagnostics: errors and warnings as data, with stable codes and located labels.
//!
//! The library only builds [`Diagnostic`] values; front ends choose how to show them
//! ([`render_human`] for people, [`Diagnostic::to_json`] for tools).

use crate::source::{SourceMap, Span};
use serde::Serialize;

/// Whether a diagnostic stops the policy set from compiling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The sources can't be compiled until it is fixed.
    Error,
    /// Worth a look; the sources still compile.
    Warning,
}

macro_rules! codes {
    ($($variant:ident = $id:literal, $name:literal;)*) => {
        /// Stable diagnostic codes. The id (`E0102`) never changes meaning once released.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[allow(missing_docs)] // each variant is named after what it reports
        pub enum Code { $($variant,)* }

        impl Code {
            /// All codes, in id order (used by the fixture coverage test).
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The stable id, such as `E0102`.
            pub fn id(self) -> &'static str {
                match self { $(Code::$variant => $id,)* }
            }

            /// A short kebab-case name, such as `unknown-setting`.
            pub fn name(self) -> &'static str {
                match self { $(Code::$variant => $name,)* }
            }
        }
    };
}

codes! {
    Io = "E0001", "io";
    InputTooLarge = "E0002", "input-too-large";
    NestingTooDeep = "E0003", "nesting-too-deep";
    Syntax = "E0004", "syntax";
    InvalidLiteral = "E0005", "invalid-literal";
    UnknownType = "E0101", "unknown-type";
    UnknownSetting = "E0102", "unknown-setting";
    UnknownInstance = "E0103", "unknown-instance";
    UnknownDecision = "E0104", "unknown-decision";
    UnknownUser = "E0105", "unknown-user";
    UnknownGroup = "E0106", "unknown-group";
    UnknownField = "E0107", "unknown-field";
    UnknownVariant = "E0108", "unknown-variant";
    UnknownPlaceholder = "E0109", "unknown-placeholder";
    UnknownName = "E0110", "unknown-name";
    UnknownReason = "E0111", "unknown-reason";
    UnknownGuardian = "E0112", "unknown-guardian";
    TypeMismatch = "E0201", "type-mismatch";
    BadParameters = "E0202", "bad-parameters";
    Duplicate = "E0301", "duplicate-definition";
    LockedInstance = "E0302", "locked-instance";
    GroupAssignmentNotAllowed = "E0303", "group-assignment-not-allowed";
    DuplicateRank = "E0304", "duplicate-rank";
    RequireCycle = "E0305", "require-cycle";
    HiddenMembershipGroup = "E0306", "hidden-membership-group";
    NeverAllows = "W0401", "never-allows";
    UnknownGroupInCondition = "W0402", "unknown-group-in-condition";
    DirectorySyntax = "E0501", "directory-syntax";
    DirectoryDuplicate = "E0502", "directory-duplicate";
    DirectoryReference = "E0503", "directory-reference";
    DirectoryValue = "E0504", "directory-value";
    SnapshotSyntax = "E0601", "snapshot-syntax";
    ChangeScript = "E0602", "change-script";
    ChangeRefused = "E0603", "change-refused";
    Bundle = "E0701", "bundle";
}

/// A labelled span. The primary label is where the problem is; secondary ones give context
/// (for example where a locked instance was declared).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// Where, in which file.
    pub span: Span,
    /// What the label says about that place.
    pub message: String,
    /// The place of the problem itself (else context).
    pub primary: bool,
}

/// One error or warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The stable code (`E0102`), with a fixture per code in `tests/fixtures/check/`.
    pub code: Code,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong, in the admin's words.
    pub message: String,
    /// Where: the primary label first where there is one.
    pub labels: Vec<Label>,
    /// How to fix it.
    pub help: Option<String>,
    /// The labelled values are a guardian's contact details, whatever they look like: they
    /// are blanked in the snippet (see [`crate::privacy`]).
    pub personal: bool,
}

impl Diagnostic {
    /// An error with no label yet.
    pub fn error(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            severity: Severity::Error,
            message: message.into(),
            labels: Vec::new(),
            help: None,
            personal: false,
        }
    }

    /// Marks the labelled source as personal data (see [`Diagnostic::personal`]).
    pub fn personal(mut self) -> Self {
        self.personal = true;
        self
    }

    /// A warning with no label yet.
    pub fn warning(code: Code, message: impl Into<String>) -> Self {
        Self { severity: Severity::Warning, ..Self::error(code, message) }
    }

    /// Adds the primary label.
    pub fn at(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label { span, message: message.into(), primary: true });
        self
    }

    /// Adds a secondary label.
    pub fn also(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label { span, message: message.into(), primary: false });
        self
    }

    /// Says how to fix it.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Whether it is an error (not a warning).
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The primary span, if any.
    pub fn primary_span(&self) -> Option<Span> {
        self.labels.iter().find(|l| l.primary).or(self.labels.first()).map(|l| l.span)
    }

    /// The JSON form printed by `--format json`.
    pub fn to_json(&self, sources: &SourceMap) -> serde_json::Value {
        let located = |span: Span| {
            let (file, line, column) = match sources.get(span.file) {
                Some(src) => {
                    let (l, c) = src.line_col(span.start as usize);
                    (src.name.to_string(), l, c)
                }
                None => (String::new(), 0, 0),
            };
            (file, line, column)
        };
        let labels: Vec<_> = self
            .labels
            .iter()
            .map(|l| {
                let (file, line, column) = located(l.span);
                serde_json::json!({
                    "file": file, "line": line, "column": column,
                    "message": l.message, "primary": l.primary,
                })
            })
            .collect();
        let (file, line, column) = match self.primary_span() {
            Some(span) => {
                let (f, l, c) = located(span);
                (Some(f), Some(l), Some(c))
            }
            None => (None, None, None),
        };
        let mut json = serde_json::json!({
            "code": self.code.id(),
            "name": self.code.name(),
            "severity": self.severity,
            "message": self.message,
            "file": file, "line": line, "column": column,
            "labels": labels,
            "help": self.help,
        });
        sources.privacy().hide_json(&mut json);
        json
    }
}

/// Sorts diagnostics by file and position so output is stable.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by_key(|d| {
        let span = d.primary_span().unwrap_or_default();
        (d.severity == Severity::Warning, span.file, span.start, d.code.id())
    });
}

/// "did you mean `x`?" for the closest candidate, if any is close enough (see [`closest`]).
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    closest(name, candidates).map(|c| format!("did you mean `{c}`?"))
}

pub use crate::suggest::closest;

/// Renders diagnostics for people, with the source line and the offending span underlined.
/// Colour is off when `color` is false (as with `NO_COLOR=1` or when not on a terminal).
pub fn render_human(diagnostics: &[Diagnostic], sources: &SourceMap, color: bool) -> String {
    use miette::{GraphicalReportHandler, GraphicalTheme};
    let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100).with_links(false);
    let mut out = String::new();
    for diagnostic in diagnostics {
        let report = render::Report::new(diagnostic, sources);
        if handler.render_report(&mut out, &report).is_err() {
            out.push_str(&sources.privacy().hide(&diagnostic.message));
        }
        out.push('\n');
    }
    out
}

mod render {
    //! Adapts [`Diagnostic`] to miette. Labels in other files than the primary one become
    //! related reports so each is shown with its own source.

    use super::{Diagnostic, Severity};
    use crate::source::SourceMap;
    use miette::{LabeledSpan, SourceSpan};
    use std::fmt;
    use std::ops::Range;

    #[derive(Debug)]
    pub struct Report {
        title: String,
        code: String,
        severity: Severity,
        help: Option<String>,
        source: Option<Snippet>,
        labels: Vec<LabeledSpan>,
        related: Vec<Report>,
    }

    /// Labels of the primary file further than this many lines from the primary label are
    /// shown as related reports, each with its own snippet: a snippet holds a few lines only.
    const NEAR: usize = 8;

    impl Report {
        pub fn new(d: &Diagnostic, sources: &SourceMap) -> Self {
            let primary = d.primary_span();
            let primary_line = primary.and_then(|p| sources.get(p.file).map(|s| s.line_col(p.start as usize).0));
            let near = |span: crate::source::Span| match (primary, primary_line) {
                (Some(p), Some(line)) if p.file == span.file => {
                    sources.get(span.file).is_some_and(|s| s.line_col(span.start as usize).0.abs_diff(line) <= NEAR)
                }
                _ => false,
            };
            let mut labels = Vec::new();
            let mut related = Vec::new();
            let privacy = sources.privacy();
            let hide = |text: &str| privacy.hide(text).into_owned();
            let inline: Vec<Range<usize>> = d.labels.iter().filter(|l| near(l.span)).map(|l| l.span.range()).collect();
            let shown =
                primary.and_then(|p| sources.get(p.file)).map(|s| Snippet::new(s, &inline, d.personal, privacy));
            for label in &d.labels {
                let text = (!label.message.is_empty()).then(|| hide(&label.message));
                if near(label.span) {
                    let span = match &shown {
                        Some(snippet) => snippet.span(label.span.range()),
                        None => SourceSpan::from(label.span.range()),
                    };
                    labels.push(if label.primary {
                        LabeledSpan::new_primary_with_span(text, span)
                    } else {
                        LabeledSpan::new_with_span(text, span)
                    });
                } else {
                    let (source, span) = match sources.get(label.span.file) {
                        Some(s) => {
                            let snippet =
                                Snippet::new(s, std::slice::from_ref(&label.span.range()), d.personal, privacy);
                            let span = snippet.span(label.span.range());
                            (Some(snippet), span)
                        }
                        None => (None, SourceSpan::from(0..0)),
                    };
                    related.push(Report {
                        title: hide(&label.message),
                        code: String::new(),
                        severity: Severity::Warning,
                        help: None,
                        source,
                        labels: vec![LabeledSpan::new_with_span(Some(hide(&label.message)), span)],
                        related: Vec::new(),
                    });
                }
            }
            Report {
                title: hide(&d.message),
                code: format!("{}({})", d.code.id(), d.code.name()),
                severity: d.severity,
                help: d.help.as_deref().map(hide),
                source: shown,
                labels,
                related,
            }
        }
    }

    /// What a snippet shows of a file: the lines around its spans (one more on each side, as
    /// miette shows them), long ones cut to a window (see [`Window`]). Locations are given in
    /// the file's own lines and columns. Built from those lines alone, so rendering many
    /// diagnostics of a large file costs no more than rendering each once.
    #[derive(Debug)]
    pub(super) struct Snippet {
        name: String,
        window: Window,
        source: crate::source::Source,
        /// Where the excerpt starts in the file: its byte offset and (0-based) line.
        base: usize,
        first_line: usize,
    }

    impl Snippet {
        /// A snippet of `spans`, its contact details blanked (and the spans themselves when
        /// `personal`: they are contact details however they look).
        pub(super) fn new(
            source: &crate::source::Source,
            spans: &[Range<usize>],
            personal: bool,
            privacy: &crate::privacy::Privacy,
        ) -> Self {
            let (base, end, first_line) = source.lines_around(spans, 1);
            let local: Vec<Range<usize>> =
                spans.iter().map(|r| r.start.clamp(base, end) - base..r.end.clamp(base, end) - base).collect();
            let mut window = Window::of(&source.text[base..end], &local);
            let blank: Vec<Range<usize>> = if personal {
                local.iter().map(|r| window.span(r.clone())).map(|s| s.offset()..s.offset() + s.len()).collect()
            } else {
                Vec::new()
            };
            privacy.blank(&mut window.text, &blank);
            Self { name: source.name.to_string(), window, source: source.clone(), base, first_line }
        }

        /// Where a span of the file is in the snippet.
        pub(super) fn span(&self, r: Range<usize>) -> SourceSpan {
            let end = self.base + self.window.original_len();
            self.window.span(r.start.clamp(self.base, end) - self.base..r.end.clamp(self.base, end) - self.base)
        }
    }

    impl miette::SourceCode for Snippet {
        fn read_span<'a>(
            &'a self,
            span: &SourceSpan,
            before: usize,
            after: usize,
        ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
            let inner = self.window.text.read_span(span, before, after)?;
            let mut column = inner.column();
            if before == 0 && after == 0 {
                let at = self.base + self.window.original(span.offset());
                column = self.source.line_col(at).1 - 1;
            }
            Ok(Box::new(miette::MietteSpanContents::new_named(
                self.name.clone(),
                inner.data(),
                *inner.span(),
                inner.line() + self.first_line,
                column,
                inner.line_count(),
            )))
        }
    }

    /// Lines longer than this (in characters) are shown as a window around the span, with `…`:
    /// a snippet stays readable, and its columns stay far inside what the renderer can pad to
    /// (a tab counts once here and widens to a few columns there).
    pub(super) const MAX_LINE: usize = 200;

    /// A file's text for a snippet: every line as it is, except the long lines a span touches
    /// (or that stand next to one), cut to [`MAX_LINE`] characters around the span.
    #[derive(Debug)]
    pub(super) struct Window {
        pub(super) text: String,
        /// Cuts made, in order: (start, end) in the original text and the length of what
        /// replaced them.
        cuts: Vec<(usize, usize, usize)>,
        /// The length of the text the window was made of.
        len: usize,
    }

    impl Window {
        pub(super) fn of(text: &str, spans: &[Range<usize>]) -> Self {
            let starts: Vec<usize> = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
            let line_of = |offset: usize| starts.partition_point(|s| *s <= offset).saturating_sub(1);
            let mut lines: Vec<usize> = spans
                .iter()
                .flat_map(|r| {
                    let (a, b) = (line_of(r.start.min(text.len())), line_of(r.end.min(text.len())));
                    a.saturating_sub(1)..=b + 1
                })
                .filter(|l| *l < starts.len())
                .collect();
            lines.sort_unstable();
            lines.dedup();
            let mut cuts = Vec::new();
            for l in lines {
                let start = starts[l];
                let end = starts.get(l + 1).map_or(text.len(), |s| s - 1);
                let line = &text[start..end];
                if line.chars().count() <= MAX_LINE {
                    continue;
                }
                // Centre on the first span that starts in this line (its start otherwise).
                let mut at = spans.iter().map(|r| r.start).find(|s| (start..=end).contains(s)).unwrap_or(start);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                let before: usize = line[..at - start].chars().rev().take(MAX_LINE / 3).map(char::len_utf8).sum();
                let from = at - before;
                let after: usize = text[from..end].chars().take(MAX_LINE).map(char::len_utf8).sum();
                let to = from + after;
                if from > start {
                    cuts.push((start, from, '…'.len_utf8()));
                }
                if to < end {
                    cuts.push((to, end, '…'.len_utf8()));
                }
            }
            let mut out = String::with_capacity(text.len());
            let mut last = 0;
            for (a, b, _) in &cuts {
                out.push_str(&text[last..*a]);
                out.push('…');
                last = *b;
            }
            out.push_str(&text[last..]);
            Self { text: out, cuts, len: text.len() }
        }

        pub(super) fn original_len(&self) -> usize {
            self.len
        }

        /// Where an offset of the original text is in the window: inside a cut, at its `…`.
        fn offset(&self, offset: usize) -> usize {
            let mut shift: isize = 0;
            for &(a, b, len) in &self.cuts {
                if offset < a {
                    break;
                }
                if offset < b {
                    return (a as isize + shift) as usize;
                }
                shift += len as isize - (b - a) as isize;
            }
            (offset as isize + shift) as usize
        }

        /// Where an offset of the window is in the original text (a `…` stands for its cut's
        /// start).
        fn original(&self, offset: usize) -> usize {
            let mut shift: isize = 0;
            for &(a, b, len) in &self.cuts {
                let at = (a as isize + shift) as usize;
                if offset < at {
                    break;
                }
                if offset < at + len {
                    return a;
                }
                shift += len as isize - (b - a) as isize;
            }
            (offset as isize - shift) as usize
        }

        pub(super) fn span(&self, r: Range<usize>) -> SourceSpan {
            let start = self.offset(r.start.min(r.end));
            let end = self.offset(r.end).max(start);
            SourceSpan::from(start..end.min(self.text.len()))
        }
    }

    impl fmt::Display for Report {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(&self.title)
        }
    }

    impl std::error::Error for Report {}

    impl miette::Diagnostic for Report {
        fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
            (!self.code.is_empty()).then(|| Box::new(&self.code) as Box<dyn fmt::Display>)
        }

        fn severity(&self) -> Option<miette::Severity> {
            Some(match self.severity {
                Severity::Error => miette::Severity::Error,
                Severity::Warning if self.code.is_empty() => miette::Severity::Advice,
                Severity::Warning => miette::Severity::Warning,
            })
        }

        fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
            self.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
        }

        fn source_code(&self) -> Option<&dyn miette::SourceCode> {
            self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
        }

        fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
            (!self.labels.is_empty()).then(|| Box::new(self.labels.iter().cloned()) as _)
        }

        fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
            (!self.related.is_empty()).then(|| Box::new(self.related.iter().map(|r| r as &dyn miette::Diagnostic)) as _)
        }
    }
}

/// A size for a message, in MiB past one (`4.0 MiB`), else in bytes. A bare run of nine digits
/// would read as a phone number to the privacy filter, and is hard to read anyway.
pub fn size(bytes: usize) -> String {
    const MIB: usize = 1024 * 1024;
    if bytes >= MIB { format!("{:.1} MiB", bytes as f64 / MIB as f64) } else { format!("{bytes} bytes") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique() {
        let mut ids: Vec<_> = Code::ALL.iter().map(|c| c.id()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), Code::ALL.len());
    }
}
