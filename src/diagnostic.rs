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
    Error,
    Warning,
}

macro_rules! codes {
    ($($variant:ident = $id:literal, $name:literal;)*) => {
        /// Stable diagnostic codes. The id (`E0102`) never changes meaning once released.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
}

/// A labelled span. The primary label is where the problem is; secondary ones give context
/// (for example where a locked instance was declared).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
    pub primary: bool,
}

/// One error or warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    pub labels: Vec<Label>,
    pub help: Option<String>,
    /// The labelled source holds a guardian's contact details: people see the location, not
    /// the line.
    pub personal: bool,
}

impl Diagnostic {
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

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

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
        serde_json::json!({
            "code": self.code.id(),
            "name": self.code.name(),
            "severity": self.severity,
            "message": self.message,
            "file": file, "line": line, "column": column,
            "labels": labels,
            "help": self.help,
        })
    }
}

/// Sorts diagnostics by file and position so output is stable.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by_key(|d| {
        let span = d.primary_span().unwrap_or_default();
        (d.severity == Severity::Warning, span.file, span.start, d.code.id())
    });
}

/// "did you mean `x`?" for the closest candidate, if any is close enough.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    closest(name, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// The candidate closest to `name` by edit distance, if reasonably close. A suffix shared by
/// both (such as an email domain) is left out, so it can't make unrelated names look alike.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_lowercase();
    candidates
        .into_iter()
        .filter_map(|c| {
            let cand = c.to_lowercase();
            let shared = lower.chars().rev().zip(cand.chars().rev()).take_while(|(a, b)| a == b).count();
            let a: String = lower.chars().take(lower.chars().count() - shared).collect();
            let b: String = cand.chars().take(cand.chars().count() - shared).collect();
            let distance = strsim::damerau_levenshtein(&a, &b);
            let limit = (a.chars().count().max(b.chars().count()) / 3).max(1);
            (distance <= limit).then_some((distance, c))
        })
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Renders diagnostics for people, with the source line and the offending span underlined.
/// Colour is off when `color` is false (as with `NO_COLOR=1` or when not on a terminal).
pub fn render_human(diagnostics: &[Diagnostic], sources: &SourceMap, color: bool) -> String {
    use miette::{GraphicalReportHandler, GraphicalTheme};
    let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100).with_links(false);
    let mut out = String::new();
    for diagnostic in diagnostics {
        let redacted;
        let personal = diagnostic.personal || diagnostic.labels.iter().any(|l| sources.shows_personal(l.span));
        let diagnostic = if personal {
            let location = diagnostic.primary_span().map(|s| sources.location(s)).unwrap_or_default();
            redacted = Diagnostic {
                message: format!("{} (at {location})", diagnostic.message),
                labels: Vec::new(),
                help: Some(format!(
                    "{}{}the source line is not shown: it holds a guardian's contact details",
                    diagnostic.help.as_deref().unwrap_or(""),
                    if diagnostic.help.is_some() { "; " } else { "" }
                )),
                ..diagnostic.clone()
            };
            &redacted
        } else {
            diagnostic
        };
        let report = render::Report::new(diagnostic, sources);
        if handler.render_report(&mut out, &report).is_err() {
            out.push_str(&diagnostic.message);
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

    impl Report {
        pub fn new(d: &Diagnostic, sources: &SourceMap) -> Self {
            let primary_file = d.primary_span().map(|s| s.file);
            let mut labels = Vec::new();
            let mut related = Vec::new();
            // The primary file, with its long lines cut to a window around the spans.
            let shown = primary_file.and_then(|f| {
                let ranges: Vec<Range<usize>> =
                    d.labels.iter().filter(|l| l.span.file == f).map(|l| l.span.range()).collect();
                sources.get(f).map(|s| (s, Window::of(&s.text, &ranges)))
            });
            for label in &d.labels {
                let text = (!label.message.is_empty()).then(|| label.message.clone());
                if Some(label.span.file) == primary_file {
                    let span = match &shown {
                        Some((_, w)) => w.span(label.span.range()),
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
                            let w = Window::of(&s.text, std::slice::from_ref(&label.span.range()));
                            let span = w.span(label.span.range());
                            (Some(Snippet::new(&s.name, w, s.text.clone())), span)
                        }
                        None => (None, SourceSpan::from(0..0)),
                    };
                    related.push(Report {
                        title: label.message.clone(),
                        code: String::new(),
                        severity: Severity::Warning,
                        help: None,
                        source,
                        labels: vec![LabeledSpan::new_with_span(Some(label.message.clone()), span)],
                        related: Vec::new(),
                    });
                }
            }
            Report {
                title: d.message.clone(),
                code: format!("{}({})", d.code.id(), d.code.name()),
                severity: d.severity,
                help: d.help.clone(),
                source: shown.map(|(s, w)| Snippet::new(&s.name, w, s.text.clone())),
                labels,
                related,
            }
        }
    }

    /// A file as a snippet shows it: the window's text, with the location of a span (the header's
    /// `file:line:col`) given in the original file's columns.
    #[derive(Debug)]
    pub(super) struct Snippet {
        name: String,
        window: Window,
        original: std::sync::Arc<str>,
    }

    impl Snippet {
        fn new(name: &str, window: Window, original: std::sync::Arc<str>) -> Self {
            Self { name: name.to_string(), window, original }
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
                let at = self.window.original(span.offset()).min(self.original.len());
                let line_start = self.original[..at].rfind('\n').map_or(0, |i| i + 1);
                column = self.original.get(line_start..at).map_or(column, |t| t.chars().count());
            }
            Ok(Box::new(miette::MietteSpanContents::new_named(
                self.name.clone(),
                inner.data(),
                *inner.span(),
                inner.line(),
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
            Self { text: out, cuts }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn did_you_mean_finds_close_names_only() {
        let names = ["AllowUserChat", "AllowRemoveUser"];
        assert_eq!(closest("AllowUserChta", names), Some("AllowUserChat"));
        assert_eq!(closest("Something", names), None);
    }

    #[test]
    fn a_shared_domain_does_not_make_names_close() {
        let users = ["bo.lund@school.edu", "zoe.quinn@school.edu"];
        assert_eq!(closest("tom.brooks@school.edu", users), None);
        assert_eq!(closest("zoe.quin@school.edu", users), Some("zoe.quinn@school.edu"));
    }

    #[test]
    fn codes_are_unique() {
        let mut ids: Vec<_> = Code::ALL.iter().map(|c| c.id()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), Code::ALL.len());
    }
}
