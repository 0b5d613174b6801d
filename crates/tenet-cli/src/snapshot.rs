//! `tenet snapshot` and `tenet test --snapshot`: a district's decisions written to a file that
//! lives in the admin's policy repository, and compared with on every change. The format is the
//! engine's ([`tenet::snapshot`]); this module reads and writes the file and says what changed
//! and why, for people (text) and tools (JSON).

use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use std::path::Path;
use tenet::snapshot::{Change, Entry, Guardians};
use tenet::{Diagnostic, Engine, Report, Snapshot, Source, SourceMap};

/// Why a snapshot could not be compared.
#[derive(Debug)]
pub enum Failure {
    /// The file is not a snapshot, or is damaged: located diagnostics.
    Damaged(Report),
    /// The file can't be read or written, or can't be compared: one message, with the fix.
    Message(String),
}

/// What comparing with a snapshot file found.
#[derive(Debug)]
pub struct Compared {
    /// Every decision that differs from the file, in order.
    pub changes: Vec<Change>,
    /// The file was (re)written with the current decisions (`--update`).
    pub written: bool,
}

/// How a snapshot names guardians: pseudonyms unless contacts were asked for.
pub fn guardians(show_contacts: bool) -> Guardians {
    if show_contacts { Guardians::Contacts } else { Guardians::Pseudonyms }
}

/// The engine's decisions as a snapshot's text.
pub fn text(engine: &Engine, guardians: Guardians) -> String {
    Snapshot::of(engine.table(), guardians).render()
}

/// Whether a file is a snapshot (by its first line), for `tenet diff`'s sides.
pub fn is_snapshot(file: &Path) -> bool {
    use std::io::Read as _;
    let mut head = [0u8; 27];
    std::fs::File::open(file).and_then(|mut f| f.read_exact(&mut head)).is_ok()
        && head.starts_with(b"# tenet decision snapshot")
}

/// Reads and parses a snapshot file.
pub fn read(file: &Path) -> Result<Snapshot, Failure> {
    let shown = file.display();
    match std::fs::read_to_string(file) {
        Ok(text) => {
            let mut sources = SourceMap::default();
            let id = sources.add(Source::new(shown.to_string(), text.as_str()));
            Snapshot::parse(id, &text).map_err(|diagnostics| Failure::Damaged(Report { sources, diagnostics }))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Failure::Message(format!(
            "no snapshot at `{shown}`: write one with `tenet snapshot --out {shown}` (or add --update)"
        ))),
        Err(e) => Err(Failure::Message(format!("can't read the snapshot `{shown}`: {e}"))),
    }
}

/// Compares the engine's decisions with the snapshot in `file`. With `update`, the file is then
/// written with the current decisions (created if missing) when anything differs.
pub fn compare(engine: &Engine, file: &Path, update: bool, guardians: Guardians) -> Result<Compared, Failure> {
    let now = Snapshot::of(engine.table(), guardians);
    let shown = file.display();
    let before = match read(file) {
        Ok(before) => Some(before),
        Err(Failure::Message(_)) if update && !file.exists() => None,
        Err(e) => return Err(e),
    };
    if let Some(before) = &before
        && before.guardians != now.guardians
    {
        let (was, is) = match before.guardians {
            Guardians::Contacts => ("real guardian ids (--show-contacts)", "pseudonyms"),
            Guardians::Pseudonyms => ("pseudonyms", "real guardian ids (--show-contacts)"),
        };
        return Err(Failure::Message(format!(
            "the snapshot `{shown}` names guardians by {was}, this run by {is}: run it the way the snapshot was written, or rewrite the snapshot with --update"
        )));
    }
    let changes = match &before {
        Some(before) => now.changes_since(before),
        None => now.changes_since(&Snapshot { guardians: now.guardians, entries: BTreeMap::new() }),
    };
    let written = update && (before.is_none() || !changes.is_empty());
    if written {
        std::fs::write(file, now.render())
            .map_err(|e| Failure::Message(format!("can't write the snapshot `{shown}`: {e}")))?;
    }
    Ok(Compared { changes, written })
}

/// Why a decision changed, in the admin's words: the rule that blocks it now, what blocks it
/// besides, or what no longer does.
pub fn cause(c: &Change) -> String {
    let (before, after) = match (&c.before, &c.after) {
        (None, Some(_)) => {
            return "a decision the snapshot doesn't have (a new user, guardian or decision)".to_string();
        }
        (_, None) => return "gone from the district (a user, guardian or decision removed)".to_string(),
        (Some(b), Some(a)) => (b, a),
    };
    let blockers = |e: &Entry| -> Vec<String> {
        if e.outcome == "deny" {
            e.reasons.iter().filter(|r| !r.starts_with("warn:")).cloned().collect()
        } else {
            Vec::new()
        }
    };
    let (was, now) = (blockers(before), blockers(after));
    let added: Vec<&str> = now.iter().filter(|r| !was.contains(r)).map(String::as_str).collect();
    let removed: Vec<&str> = was.iter().filter(|r| !now.contains(r)).map(String::as_str).collect();
    if before.outcome != "deny" && after.outcome == "deny" {
        // The deciding rule's message names the setting and the fix.
        return match &after.message {
            Some(m) => format!("{}: {m}", now.first().map_or("", String::as_str)),
            None => now.join(", "),
        };
    }
    let mut parts = Vec::new();
    if !added.is_empty() {
        parts.push(format!("now also blocked by {}", added.join(", ")));
    }
    if !removed.is_empty() {
        parts.push(format!("no longer blocked by {}", removed.join(", ")));
    }
    if before.outcome != after.outcome && after.outcome != "deny" && before.outcome != "deny" {
        parts.push(format!("channel {} → {}", before.outcome, after.outcome));
    }
    if parts.is_empty() {
        parts.push(format!("warnings {} → {}", before.reasons.join(", "), after.reasons.join(", ")));
    }
    parts.join("; ")
}

/// What a change is counted under in the summary: the rule or setting its cause starts with.
fn cause_key(cause: &str) -> String {
    let first = cause.split(';').next().unwrap_or_default();
    if let Some(rest) = first.strip_prefix("now also blocked by ") {
        return rest.to_string();
    }
    if first.starts_with("no longer blocked by ") {
        return first.to_string();
    }
    first.split_whitespace().next().unwrap_or_default().trim_end_matches(':').to_string()
}

fn side(e: Option<&Entry>) -> String {
    e.map_or_else(|| "none".to_string(), Entry::summary)
}

/// The changes for people: `heading: N decisions changed`, one line each with its cause, then
/// counts by decision and by cause.
pub fn render_changes(heading: &str, changes: &[Change]) -> String {
    render_with(heading, changes, &cause)
}

/// [`render_changes`] with another idea of each change's cause (what-if names the settings).
pub fn render_with(heading: &str, changes: &[Change], cause: &dyn Fn(&Change) -> String) -> String {
    let n = changes.len();
    let mut out = String::new();
    if n == 0 {
        out.push_str(&format!("{heading}: no decision changed\n"));
        return out;
    }
    out.push_str(&format!("{heading}: {n} decision{} changed\n", if n == 1 { "" } else { "s" }));
    let mut by_decision: BTreeMap<&str, usize> = BTreeMap::new();
    for c in changes {
        let (user, decision, guardian) = &c.key;
        *by_decision.entry(decision).or_default() += 1;
        let guardian = if guardian == "-" { String::new() } else { format!(" {guardian}") };
        out.push_str(&format!(
            "  {user} {decision}{guardian}: {} -> {}\n      because {}\n",
            side(c.before.as_ref()),
            side(c.after.as_ref()),
            cause(c)
        ));
    }
    let counts: Vec<String> = by_decision.iter().map(|(d, n)| format!("{d} {n}")).collect();
    out.push_str(&format!("by decision: {}\n", counts.join(", ")));
    let mut by_cause: BTreeMap<String, usize> = BTreeMap::new();
    for c in changes {
        *by_cause.entry(cause_key(&cause(c))).or_default() += 1;
    }
    let mut by_cause: Vec<(String, usize)> = by_cause.into_iter().collect();
    by_cause.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let counts: Vec<String> = by_cause.iter().map(|(c, n)| format!("{c} {n}")).collect();
    out.push_str(&format!("by cause: {}\n", counts.join(", ")));
    out
}

/// What `test --snapshot` prints: the changes, then how to accept them (or that they were).
pub fn render(file: &Path, compared: &Compared) -> String {
    let mut out = render_changes(&format!("snapshot {}", file.display()), &compared.changes);
    if compared.written {
        out.push_str(&format!("updated {}\n", file.display()));
    } else if !compared.changes.is_empty() {
        out.push_str(&format!("accept them with `tenet test --snapshot {} --update`\n", file.display()));
    }
    out
}

fn entry_json(e: Option<&Entry>) -> Json {
    e.map_or(Json::Null, |e| json!({ "outcome": e.outcome, "reasons": e.reasons }))
}

/// The changes for tools.
pub fn to_json(file: &Path, compared: &Compared) -> Json {
    json!({ "file": file.display().to_string(), "changed": changes_json(&compared.changes), "updated": compared.written })
}

/// Each change with both sides and its cause.
pub fn changes_json(changes: &[Change]) -> Json {
    let changed: Vec<Json> = changes
        .iter()
        .map(|c| {
            let (user, decision, guardian) = &c.key;
            json!({
                "user": user,
                "decision": decision,
                "guardian": (guardian != "-").then_some(guardian),
                "before": entry_json(c.before.as_ref()),
                "after": entry_json(c.after.as_ref()),
                "cause": cause(c),
            })
        })
        .collect();
    Json::Array(changed)
}

/// A one-off diagnostic for a snapshot that can't be read (used where a report is expected).
pub fn failure_diagnostic(message: &str) -> Diagnostic {
    Diagnostic::error(tenet::unstable::diagnostic::Code::Io, message)
}
