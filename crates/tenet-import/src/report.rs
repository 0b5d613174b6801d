//! What an import read, used, ignored and rejected, file by file, and why.
//!
//! Values that are a guardian's email or phone are marked personal: they are shown only when the
//! admin asks for them (`tenet import --show-contacts`), never in logs.

use serde::Serialize;
use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::sync::Arc;

/// One source of the facts the pack reads, and whether the import has it.
#[derive(Debug, Clone, Serialize)]
pub struct SourceLine {
    /// What it is: `Get-CsOnlineUser (users, direct assignments, licences)`.
    pub source: String,
    pub status: Status,
    /// The files it was read from (or where an id came from).
    pub files: Vec<String>,
    /// For a missing source, how to export it; for an assumed one, what is assumed.
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Found,
    /// Required and missing: an error.
    Missing,
    /// Optional and missing: the detail says what is assumed instead.
    Assumed,
    /// Two sources of one fact that can't both be right: an error.
    Conflict,
}

/// The report of one import: a section per file read, in reading order.
#[derive(Debug, Default, Clone, Serialize)]
pub struct ImportReport {
    /// The sources of the facts the pack reads: found, missing (an error) or assumed. Listed
    /// first.
    pub sources: Vec<SourceLine>,
    /// Facts read from two sources, with which one wins and why: listed next.
    pub overlaps: Vec<String>,
    /// Files under `--from` that are not read, with the reason: listed next.
    pub not_exports: Vec<NotExport>,
    pub files: Vec<FileReport>,
    /// Facts about the import as a whole that fit no section above.
    pub notes: Vec<String>,
}

/// A file that is not read.
#[derive(Debug, Clone, Serialize)]
pub struct NotExport {
    pub file: String,
    pub reason: String,
    /// It looks like an export that can't be read: an error, not a note.
    pub error: bool,
}

/// What one file held and what became of it.
#[derive(Debug, Default, Clone, Serialize)]
pub struct FileReport {
    /// The file, as the user named it (relative to the `--from` directory it was found in).
    pub file: String,
    /// The format read: `Get-CsOnlineUser`, `SDS v1 user.csv`, `Graph groups`...
    pub format: String,
    /// `UTF-8`, `UTF-16LE with BOM`...
    pub encoding: String,
    /// Rows (CSV) or objects (JSON) read.
    pub read: usize,
    /// Rows or objects that went into the tenant.
    pub used: usize,
    /// Rows or objects read but deliberately left out (each with a warning saying why).
    pub ignored: usize,
    /// Rows or objects refused (each with an error saying why).
    pub rejected: usize,
    /// Properties present in the file that tenet does not read.
    pub unknown_properties: BTreeSet<String>,
    /// Properties absent from the file, so their documented default was used.
    pub defaulted: BTreeSet<String>,
    /// Every problem, in the order found. JSON lists them all (an admin fixing 75,000 phone
    /// numbers needs every row); text lists [`LISTED_PER_KIND`] of each kind and counts the rest.
    pub problems: Vec<Problem>,
    /// The problems' texts, each held once.
    #[serde(skip)]
    texts: std::collections::HashSet<Arc<str>>,
}

/// Problems of one kind: severity, field and message.
type ProblemKind<'a> = (Severity, Option<&'a str>, &'a str);

/// The text report lists at most this many problems of one kind (same severity, field and
/// message) per file, and counts the rest, naming `--format json` for the full list.
pub const LISTED_PER_KIND: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// Where in a file: a CSV row and column, or a JSON line and property path.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct At {
    /// 1-based line in the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// 1-based data row of a CSV file (the header is row 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<usize>,
    /// The column header (CSV) or property path (JSON, `[3].DefaultCatalogApps`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl At {
    pub fn file() -> Self {
        Self::default()
    }

    pub fn line(line: usize) -> Self {
        Self { line: Some(line), ..Self::default() }
    }

    /// A CSV cell: `row` counts data rows from 1, `line` is the file line it starts on.
    pub fn cell(line: usize, row: usize, column: &str) -> Self {
        Self { line: Some(line), row: Some(row), field: Some(column.to_string()) }
    }

    /// A JSON property: its path and, when known, its line.
    pub fn property(line: Option<usize>, path: impl Into<String>) -> Self {
        Self { line, row: None, field: Some(path.into()) }
    }

    fn render(&self) -> String {
        let mut out = String::new();
        if let Some(l) = self.line {
            let _ = write!(out, "line {l}");
        }
        if let Some(r) = self.row {
            let _ = write!(out, "{}row {r}", if out.is_empty() { "" } else { ", " });
        }
        if let Some(f) = &self.field {
            let _ = write!(out, "{}`{f}`", if out.is_empty() { "" } else { ", " });
        }
        if out.is_empty() { "whole file".into() } else { out }
    }
}

/// A value quoted in a problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub text: String,
    /// A guardian's email or phone (or anything that may be one).
    pub personal: bool,
}

impl Serialize for Shown {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // JSON reports are files an admin may pass around: personal values stay out unless the
        // report was rendered with them (see `ImportReport::with_personal`).
        if self.personal { s.serialize_str(REDACTED) } else { s.serialize_str(&self.text) }
    }
}

/// What a personal value is replaced with.
pub const REDACTED: &str = "<contact detail hidden: --show-contacts shows it>";

/// One error or warning about a file, row or property.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    pub severity: Severity,
    pub at: At,
    /// Shared with the file's other problems of the same text (a district's 375,000 phone
    /// warnings hold one copy of it).
    pub message: Arc<str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Shown>,
    pub help: Arc<str>,
}

impl Problem {
    pub fn error(at: At, message: impl Into<String>) -> Self {
        Self { severity: Severity::Error, at, message: message.into().into(), value: None, help: Arc::from("") }
    }

    pub fn warning(at: At, message: impl Into<String>) -> Self {
        Self { severity: Severity::Warning, ..Self::error(at, message) }
    }

    /// Quotes the offending value.
    pub fn value(mut self, text: impl Into<String>) -> Self {
        self.value = Some(Shown { text: text.into(), personal: false });
        self
    }

    /// Quotes an offending value that is a guardian's contact detail.
    pub fn personal_value(mut self, text: impl Into<String>) -> Self {
        self.value = Some(Shown { text: text.into(), personal: true });
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = help.into().into();
        self
    }
}

impl FileReport {
    pub fn new(file: impl Into<String>, format: impl Into<String>) -> Self {
        Self { file: file.into(), format: format.into(), ..Self::default() }
    }

    /// A row or object went into the tenant.
    pub fn use_one(&mut self) {
        self.read += 1;
        self.used += 1;
    }

    /// A row or object went into the tenant with a caveat.
    pub fn use_with(&mut self, warning: Problem) {
        self.use_one();
        self.push(warning);
    }

    /// A row or object is refused.
    pub fn reject(&mut self, error: Problem) {
        self.read += 1;
        self.rejected += 1;
        self.push(Problem { severity: Severity::Error, ..error });
    }

    /// A row or object is refused for the errors already noted about it.
    pub fn reject_noted(&mut self) {
        self.read += 1;
        self.rejected += 1;
    }

    /// A row or object is read but deliberately not used.
    pub fn ignore(&mut self, warning: Problem) {
        self.read += 1;
        self.ignored += 1;
        self.push(Problem { severity: Severity::Warning, ..warning });
    }

    /// A problem of the file as a whole, or of a row already counted.
    pub fn note(&mut self, problem: Problem) {
        self.push(problem);
    }

    fn push(&mut self, mut problem: Problem) {
        problem.message = self.shared(problem.message);
        problem.help = self.shared(problem.help);
        self.problems.push(problem);
    }

    /// The copy of `text` this file already holds, or `text`, kept for the next.
    fn shared(&mut self, text: Arc<str>) -> Arc<str> {
        match self.texts.get(&text) {
            Some(known) => known.clone(),
            None => {
                self.texts.insert(text.clone());
                text
            }
        }
    }

    /// Moves a counted row from used to rejected (a later check refused it).
    pub fn reject_used(&mut self, error: Problem) {
        self.used = self.used.saturating_sub(1);
        self.rejected += 1;
        self.push(Problem { severity: Severity::Error, ..error });
    }

    pub fn has_errors(&self) -> bool {
        self.count(Severity::Error) > 0
    }

    /// Problems of `severity`, listed or not.
    pub fn count(&self, severity: Severity) -> usize {
        self.problems.iter().filter(|p| p.severity == severity).count()
    }
}

impl ImportReport {
    /// The section for `file`, added if new.
    pub fn file(&mut self, file: &str, format: &str) -> &mut FileReport {
        let i = match self.files.iter().position(|f| f.file == file) {
            Some(i) => i,
            None => {
                self.files.push(FileReport::new(file, format));
                self.files.len() - 1
            }
        };
        &mut self.files[i]
    }

    pub fn rejected(&self) -> usize {
        self.files.iter().map(|f| f.rejected).sum()
    }

    /// Whether any file has an error (a rejected row, an unreadable file, a file that looks
    /// like an export but can't be read).
    pub fn has_errors(&self) -> bool {
        self.files.iter().any(FileReport::has_errors) || self.not_exports.iter().any(|n| n.error) || self.missing() > 0
    }

    /// Required sources the import lacks.
    pub fn missing(&self) -> usize {
        self.sources.iter().filter(|s| matches!(s.status, Status::Missing | Status::Conflict)).count()
    }

    pub fn errors(&self) -> usize {
        self.count(Severity::Error)
    }

    pub fn warnings(&self) -> usize {
        self.count(Severity::Warning)
    }

    fn count(&self, severity: Severity) -> usize {
        let not_read = if severity == Severity::Error {
            self.not_exports.iter().filter(|n| n.error).count() + self.missing()
        } else {
            0
        };
        self.files.iter().map(|f| f.count(severity)).sum::<usize>() + not_read
    }

    /// A copy whose personal values are shown even in JSON.
    pub fn with_personal(&self) -> Self {
        let mut out = self.clone();
        for p in out.files.iter_mut().flat_map(|f| f.problems.iter_mut()) {
            if let Some(v) = &mut p.value {
                v.personal = false;
            }
        }
        out
    }

    /// The report as text for a terminal; personal values only if `show_personal`.
    pub fn render(&self, show_personal: bool) -> String {
        let mut out = String::new();
        if !self.sources.is_empty() {
            out.push_str("sources:\n");
        }
        for s in &self.sources {
            // A large district's pages: the first few are named, `--format json` lists all.
            let names = match s.files.len() {
                0..=5 => s.files.join(", "),
                n => format!("{} and {} more", s.files[..5].join(", "), n - 5),
            };
            let (status, files) = match s.status {
                Status::Found => ("found", names),
                Status::Missing if s.files.is_empty() => ("MISSING", s.detail.clone()),
                Status::Missing => ("MISSING", format!("{names}; {}", s.detail)),
                Status::Assumed => ("assumed", s.detail.clone()),
                Status::Conflict => ("CONFLICT", format!("{names}; {}", s.detail)),
            };
            let _ = writeln!(out, "  {status:<8} {}: {files}", s.source);
        }
        for o in &self.overlaps {
            let _ = writeln!(out, "overlap: {o}");
        }
        for n in &self.not_exports {
            let kind = if n.error { "error" } else { "not an export" };
            let _ = writeln!(out, "{kind}: {}: {}", n.file, n.reason);
        }
        for f in &self.files {
            let _ = writeln!(
                out,
                "{} ({}{}): {} read, {} used, {} ignored, {} rejected",
                f.file,
                f.format,
                if f.encoding.is_empty() { String::new() } else { format!(", {}", f.encoding) },
                count(f.read),
                count(f.used),
                count(f.ignored),
                count(f.rejected)
            );
            // Problems of one kind past the first few are counted, in order of first sight.
            let mut kinds: HashMap<ProblemKind<'_>, usize> = HashMap::new();
            let mut unlisted: Vec<(ProblemKind<'_>, usize)> = Vec::new();
            for p in &f.problems {
                let kind = (p.severity, p.at.field.as_deref(), &*p.message);
                let seen = kinds.entry(kind).or_insert(0);
                *seen += 1;
                if *seen > LISTED_PER_KIND {
                    match unlisted.iter_mut().find(|(k, _)| *k == kind) {
                        Some((_, n)) => *n += 1,
                        None => unlisted.push((kind, 1)),
                    }
                    continue;
                }
                let kind = match p.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                };
                let _ = write!(out, "  {kind}: {}: {}", p.at.render(), p.message);
                if let Some(v) = &p.value {
                    let text = if v.personal && !show_personal { REDACTED } else { &v.text };
                    let _ = write!(out, " (value: {text:?})");
                }
                out.push('\n');
                if !p.help.is_empty() {
                    let _ = writeln!(out, "    help: {}", p.help);
                }
            }
            for ((severity, field, message), count) in unlisted {
                let kind = match severity {
                    Severity::Error => "errors",
                    Severity::Warning => "warnings",
                };
                let field = field.map(|f| format!(" (`{f}`)")).unwrap_or_default();
                let _ = writeln!(
                    out,
                    "  … and {count} more {kind} like \"{message}\"{field}: `--format json` lists every one"
                );
            }
            if !f.defaulted.is_empty() {
                let list: Vec<&str> = f.defaulted.iter().map(String::as_str).collect();
                let _ = writeln!(out, "  defaults used for missing properties: {}", list.join(", "));
            }
            if !f.unknown_properties.is_empty() {
                let list: Vec<&str> = f.unknown_properties.iter().map(String::as_str).collect();
                let _ = writeln!(out, "  properties not read by tenet: {}", list.join(", "));
            }
        }
        for n in &self.notes {
            let _ = writeln!(out, "note: {n}");
        }
        let (read, used, ignored, rejected) = self
            .files
            .iter()
            .fold((0, 0, 0, 0), |(r, u, i, x), f| (r + f.read, u + f.used, i + f.ignored, x + f.rejected));
        let missing = match self.missing() {
            0 => String::new(),
            n => format!(" ({n} of them required sources missing)"),
        };
        let _ = writeln!(
            out,
            "{} files: {} read, {} used, {} ignored, {} rejected; {} errors{missing}, {} warnings",
            self.files.len(),
            count(read),
            count(used),
            count(ignored),
            count(rejected),
            count(self.errors()),
            count(self.warnings())
        );
        out
    }
}

/// A count with thousands separators: easier to read, and never taken for a phone number by
/// the filter that hides contact details in output (`9823650 read` read as one).
fn count(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_have_separators_and_are_not_hidden_as_phone_numbers() {
        assert_eq!([0, 7, 999, 1000, 982365, 9823650].map(count), ["0", "7", "999", "1,000", "982,365", "9,823,650"]);
        let mut report = ImportReport::default();
        let f = report.file("sds/user.csv", "SDS v1 user.csv");
        for _ in 0..1_234_567 {
            f.use_one();
        }
        let text = report.render(false);
        let hidden = tenet::unstable::privacy::Privacy::default().hide(&text).into_owned();
        assert!(hidden.contains("1,234,567 read, 1,234,567 used"), "{hidden}");
    }

    #[test]
    fn counts_add_up_and_personal_values_stay_hidden() {
        let mut report = ImportReport::default();
        let f = report.file("sds/user.csv", "SDS v1 user.csv");
        f.use_one();
        f.reject(
            Problem::error(At::cell(3, 2, "Phone"), "not a phone number")
                .personal_value("+1 555 0100")
                .help("write it in E.164"),
        );
        f.ignore(Problem::warning(At::cell(4, 3, "Role"), "ignored").value("Coach"));
        let text = report.render(false);
        assert!(text.contains("3 read, 1 used, 1 ignored, 1 rejected"), "{text}");
        assert!(!text.contains("+1 555 0100") && text.contains(REDACTED), "{text}");
        assert!(text.contains("\"Coach\""), "{text}");
        assert!(report.render(true).contains("+1 555 0100"));
        let json = serde_json::to_string(&report).unwrap_or_default();
        assert!(!json.contains("+1 555 0100") && json.contains("Coach"), "{json}");
        let shown = serde_json::to_string(&report.with_personal()).unwrap_or_default();
        assert!(shown.contains("+1 555 0100"));
        assert_eq!((report.rejected(), report.errors(), report.warnings()), (1, 1, 1));
    }

    #[test]
    fn every_problem_is_kept_and_text_names_where_the_full_list_is() {
        let mut report = ImportReport::default();
        let f = report.file("users.csv", "SDS v2.1 users.csv");
        for row in 1..=LISTED_PER_KIND + 5 {
            f.use_with(Problem::warning(At::cell(row + 1, row, "phone"), "not E.164").personal_value("x"));
        }
        f.reject(Problem::error(At::cell(99, 98, "email"), "not an email"));
        assert_eq!(f.problems.len(), LISTED_PER_KIND + 6);
        assert_eq!(f.count(Severity::Warning), LISTED_PER_KIND + 5);
        let text = report.render(false);
        assert!(
            text.contains("… and 5 more warnings like \"not E.164\" (`phone`): `--format json` lists every one"),
            "{text}"
        );
        assert_eq!(text.matches("not E.164").count(), LISTED_PER_KIND + 1, "{text}");
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["files"][0]["problems"].as_array().map(Vec::len), Some(LISTED_PER_KIND + 6));
        assert_eq!((report.warnings(), report.errors()), (LISTED_PER_KIND + 5, 1));
    }
}
