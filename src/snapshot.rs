//! Decision snapshots: every decision of a district as sorted lines, made to be reviewed in a
//! pull request and compared on the next change (`tenet snapshot`, `tenet test --snapshot`).
//!
//! ```text
//! # tenet decision snapshot 1; guardians: pseudonyms
//! # user decision guardian outcome reasons
//! ana.rivera@lakeside.edu call_guardian g:3f2a91c40b7e deny NO_PHONE,GUARDIAN_BLOCKED
//! ana.rivera@lakeside.edu chat_with_guardians - allow ALLOW
//! ```
//!
//! One line per (user, decision, guardian the user deals with), sorted, fields separated by one
//! space (none of them can hold one): the user's UPN, the decision, the guardian (`-` for a
//! decision about the user only), `allow`, `allow:CHANNEL` or `deny`, and the reason codes: the
//! deciding rule's first, then every other blocker, then each warning as `warn:CODE`.
//!
//! Guardians are named by a pseudonym, `g:` and the first 12 hex digits of the SHA-256 of their
//! id: the same guardian gets the same name in every snapshot, and no contact detail is written.
//! With contacts shown (`--show-contacts`) the real id is written instead; the header says which,
//! so the two are never compared with each other.

use crate::diagnostic::{Code, Diagnostic};
use crate::source::{FileId, Span};
use crate::table::{Answer, DecisionTable};
use sha2::{Digest as _, Sha256};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

/// The first line of every snapshot, before `; guardians: …`.
const MAGIC: &str = "# tenet decision snapshot 1";

/// How a snapshot names guardians.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guardians {
    /// `g:` and a hash of the id: no contact detail in the file.
    Pseudonyms,
    /// The real ids (often email addresses): only when asked for.
    Contacts,
}

impl Guardians {
    fn as_str(self) -> &'static str {
        match self {
            Self::Pseudonyms => "pseudonyms",
            Self::Contacts => "contacts",
        }
    }
}

/// Which decision a line is about: user, decision, guardian (`-` for none).
pub type Key = (String, String, String);

/// What a decision came to, as a snapshot records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// `allow`, `allow:CHANNEL` or `deny`.
    pub outcome: String,
    /// The deciding rule's code, every other blocker's, then `warn:CODE` for each warning.
    pub reasons: Vec<String>,
    /// The deciding rule's message, when the entry comes from a table (a file holds codes only).
    pub message: Option<Arc<str>>,
}

/// Every decision of a district, keyed and sorted.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// How guardians are named.
    pub guardians: Guardians,
    /// The decisions.
    pub entries: BTreeMap<Key, Entry>,
}

/// A decision that differs between two snapshots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Which decision.
    pub key: Key,
    /// What it was (`None`: it is new, say for a new user).
    pub before: Option<Entry>,
    /// What it is (`None`: it is gone).
    pub after: Option<Entry>,
}

/// The pseudonym of a guardian id: stable, and free of the id's text.
pub fn pseudonym(id: &str) -> String {
    let digest = Sha256::digest(crate::directory::key(id).as_bytes());
    let mut out = String::from("g:");
    for b in &digest[..6] {
        let _ = write!(out, "{b:02x}");
    }
    out
}

impl Entry {
    fn of(a: &Answer<'_>) -> Self {
        let o = a.outcome;
        let outcome = match (&o.channel, o.allowed) {
            (_, false) => "deny".to_string(),
            (Some(c), true) => format!("allow:{c}"),
            (None, true) => "allow".to_string(),
        };
        let mut reasons = vec![o.reason.code.to_string()];
        for b in &o.blockers {
            if !reasons.iter().any(|r| **r == *b.code) {
                reasons.push(b.code.to_string());
            }
        }
        reasons.extend(o.warnings.iter().map(|w| format!("warn:{}", w.code)));
        Self { outcome, reasons, message: Some(o.reason.message.clone()) }
    }

    /// `allow`, `deny`, with the reason codes: how a change report shows one side.
    pub fn summary(&self) -> String {
        format!("{} ({})", self.outcome, self.reasons.join(", "))
    }
}

/// Whether two outcomes would be recorded alike (the same codes in the same order is enough;
/// [`Entry`] settles the rest); compares without allocating.
fn recorded_alike(a: &crate::eval::Outcome, b: &crate::eval::Outcome) -> bool {
    let same = |x: &[crate::eval::Reason], y: &[crate::eval::Reason]| {
        x.len() == y.len() && x.iter().zip(y).all(|(p, q)| p.code == q.code)
    };
    a.allowed == b.allowed
        && a.channel == b.channel
        && a.reason.code == b.reason.code
        && same(&a.blockers, &b.blockers)
        && same(&a.warnings, &b.warnings)
}

/// The decisions that differ between two tables of one district (a what-if: the same users,
/// guardians and decisions), as [`Snapshot::changes_since`] lists them, without writing either
/// snapshot: only a changed decision is named. Tables of different districts are compared
/// through their snapshots.
pub fn changes_between(before: &DecisionTable, after: &DecisionTable, guardians: Guardians) -> Vec<Change> {
    let (bm, am) = (before.model(), after.model());
    let same_district = bm.directory.user_count() == am.directory.user_count()
        && bm.directory.guardian_count() == am.directory.guardian_count()
        && bm.decisions.keys().eq(am.decisions.keys());
    if !same_district {
        return Snapshot::of(after, guardians).changes_since(&Snapshot::of(before, guardians));
    }
    let mut out = Vec::new();
    before.for_each_answered(|u, d, g| {
        let (Ok(b), Ok(a)) = (before.decide_handles(u, d, g), after.decide_handles(u, d, g)) else { return };
        if recorded_alike(b.outcome, a.outcome) {
            return;
        }
        let (eb, ea) = (Entry::of(&b), Entry::of(&a));
        if eb.outcome == ea.outcome && eb.reasons == ea.reasons {
            return;
        }
        let guardian = a.guardian().map_or_else(
            || "-".to_string(),
            |g| match guardians {
                Guardians::Pseudonyms => pseudonym(g.id()),
                Guardians::Contacts => g.id().to_string(),
            },
        );
        let key = (a.user().upn().to_string(), a.decision_name().to_string(), guardian);
        out.push(Change { key, before: Some(eb), after: Some(ea) });
    });
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out
}

impl Snapshot {
    /// Every decision the table answers for each user: user-only decisions, and guardian
    /// decisions for each guardian the user deals with.
    pub fn of(table: &DecisionTable, guardians: Guardians) -> Self {
        let entries = table
            .all()
            .iter()
            .map(|a| {
                let guardian = a.guardian().map_or_else(
                    || "-".to_string(),
                    |g| match guardians {
                        Guardians::Pseudonyms => pseudonym(g.id()),
                        Guardians::Contacts => g.id().to_string(),
                    },
                );
                ((a.user().upn().to_string(), a.decision_name().to_string(), guardian), Entry::of(a))
            })
            .collect();
        Self { guardians, entries }
    }

    /// The snapshot's text: the header, then one sorted line per decision.
    pub fn render(&self) -> String {
        let mut out =
            format!("{MAGIC}; guardians: {}\n# user decision guardian outcome reasons\n", self.guardians.as_str());
        for ((user, decision, guardian), e) in &self.entries {
            let _ = writeln!(out, "{user} {decision} {guardian} {} {}", e.outcome, e.reasons.join(","));
        }
        out
    }

    /// Reads a snapshot's text (`file` names it in errors). Every error is located at its line.
    pub fn parse(file: FileId, text: &str) -> Result<Self, Vec<Diagnostic>> {
        let mut lines = text.split_inclusive('\n');
        let mut offset = 0;
        let at = |start: usize, line: &str| Span::new(file, start, start + line.trim_end().len().max(1));
        let first = lines.next().unwrap_or_default();
        let guardians = match first.trim_end().strip_prefix(MAGIC).and_then(|r| r.strip_prefix("; guardians: ")) {
            Some("pseudonyms") => Guardians::Pseudonyms,
            Some("contacts") => Guardians::Contacts,
            _ => {
                return Err(vec![
                    Diagnostic::error(Code::SnapshotSyntax, "not a tenet decision snapshot")
                        .at(at(0, first), format!("expected `{MAGIC}; guardians: pseudonyms` (or `contacts`)"))
                        .help("write one with `tenet snapshot --out FILE`"),
                ]);
            }
        };
        offset += first.len();
        let mut entries = BTreeMap::new();
        let mut first_at: BTreeMap<Key, usize> = BTreeMap::new();
        let mut errors = Vec::new();
        for line in lines {
            let start = offset;
            offset += line.len();
            let content = line.trim_end_matches(['\n', '\r']);
            if content.trim().is_empty() || content.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = content.split(' ').collect();
            let [user, decision, guardian, outcome, reasons] = fields[..] else {
                errors.push(
                    Diagnostic::error(
                        Code::SnapshotSyntax,
                        format!("a snapshot line has 5 fields separated by one space; this one has {}", fields.len()),
                    )
                    .at(at(start, content), "expected `user decision guardian outcome reasons`")
                    .help("regenerate the file with `tenet snapshot --out FILE` rather than editing it"),
                );
                continue;
            };
            let valid_outcome = outcome == "deny" || outcome == "allow" || outcome.starts_with("allow:");
            if !valid_outcome || fields.iter().any(|f| f.is_empty()) {
                errors.push(
                    Diagnostic::error(Code::SnapshotSyntax, format!("`{outcome}` is not an outcome"))
                        .at(at(start, content), "expected `allow`, `allow:CHANNEL` or `deny` as the fourth field")
                        .help("regenerate the file with `tenet snapshot --out FILE` rather than editing it"),
                );
                continue;
            }
            let key = (user.to_string(), decision.to_string(), guardian.to_string());
            if let Some(first) = first_at.get(&key) {
                let first = *first;
                errors.push(
                    Diagnostic::error(Code::SnapshotSyntax, "the same decision twice")
                        .at(at(start, content), "second line")
                        .also(Span::new(file, first, first + 1), "first line")
                        .help("keep one of the two lines"),
                );
                continue;
            }
            first_at.insert(key.clone(), start);
            let reasons = reasons.split(',').map(str::to_string).collect();
            entries.insert(key, Entry { outcome: outcome.to_string(), reasons, message: None });
        }
        if errors.is_empty() { Ok(Self { guardians, entries }) } else { Err(errors) }
    }

    /// What differs from `before` to `self`, in key order: changed, new and gone decisions. A
    /// decision whose outcome and reason codes are the same is unchanged.
    pub fn changes_since(&self, before: &Snapshot) -> Vec<Change> {
        let mut out = Vec::new();
        for (key, after) in &self.entries {
            match before.entries.get(key) {
                Some(b) if b.outcome == after.outcome && b.reasons == after.reasons => {}
                b => out.push(Change { key: key.clone(), before: b.cloned(), after: Some(after.clone()) }),
            }
        }
        for (key, b) in &before.entries {
            if !self.entries.contains_key(key) {
                out.push(Change { key: key.clone(), before: Some(b.clone()), after: None });
            }
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Engine, Sources};

    fn bundled() -> Engine {
        let Ok((engine, _)) = Engine::build(Sources::bundled()) else { panic!("the bundled example checks") };
        engine
    }

    #[test]
    fn pseudonyms_are_stable_free_of_the_id_and_blind_to_case() {
        let p = pseudonym("maria.kim@example.com");
        assert_eq!(p, pseudonym("Maria.Kim@Example.com"));
        assert_ne!(p, pseudonym("mario.kim@example.com"));
        assert!(p.starts_with("g:") && p.len() == 14 && !p.contains("example"), "{p}");
        // Fixed forever: a snapshot in git must name the same guardian the same way next year.
        assert_eq!(pseudonym("maria.kim@example.com"), "g:8209101ee03f");
    }

    #[test]
    fn a_snapshot_reads_back_as_written_and_holds_no_contact() {
        let snap = Snapshot::of(bundled().table(), Guardians::Pseudonyms);
        let text = snap.render();
        assert!(!text.contains("@example."), "{text}");
        let Ok(back) = Snapshot::parse(FileId(0), &text) else { panic!("reads back") };
        assert_eq!(back.guardians, Guardians::Pseudonyms);
        assert!(back.changes_since(&snap).is_empty() && snap.changes_since(&back).is_empty());
        assert_eq!(back.render(), text);
        let shown = Snapshot::of(bundled().table(), Guardians::Contacts).render();
        assert!(shown.contains("@example.") && shown.contains("; guardians: contacts"), "{shown}");
    }

    #[test]
    fn changes_list_changed_new_and_gone_decisions() {
        let snap = Snapshot::of(bundled().table(), Guardians::Pseudonyms);
        let mut before = snap.clone();
        let first = before.entries.keys().next().unwrap().clone();
        let entry = before.entries.get_mut(&first).unwrap_or_else(|| panic!("an entry"));
        entry.outcome = if entry.outcome == "deny" { "allow".into() } else { "deny".into() };
        let gone = ("someone@lakeside.edu".to_string(), "parents_app".to_string(), "-".to_string());
        before
            .entries
            .insert(gone.clone(), Entry { outcome: "allow".into(), reasons: vec!["ALLOW".into()], message: None });
        let (last, _) = before.entries.pop_last().unwrap();
        let changes = snap.changes_since(&before);
        let keys: Vec<&Key> = changes.iter().map(|c| &c.key).collect();
        assert_eq!(changes.len(), 3, "{changes:?}");
        assert!(keys.contains(&&first) && keys.contains(&&gone) && keys.contains(&&last));
        let new = changes.iter().find(|c| c.key == last).unwrap_or_else(|| panic!("new"));
        assert!(new.before.is_none() && new.after.as_ref().is_some_and(|a| a.message.is_some()));
        assert!(changes.iter().find(|c| c.key == gone).is_some_and(|c| c.after.is_none()));
    }

    #[test]
    fn a_damaged_snapshot_is_refused_at_its_lines() {
        let errors = |text: &str| Snapshot::parse(FileId(0), text).err().unwrap_or_default();
        let not = errors("users:\n  - upn: a@b.c\n");
        assert_eq!(not.len(), 1);
        assert!(not[0].message.contains("not a tenet decision snapshot"));
        let head = "# tenet decision snapshot 1; guardians: pseudonyms\n";
        let text = format!(
            "{head}a@x.edu parents_app - allow\nb@x.edu parents_app - maybe ALLOW\nc@x.edu parents_app - deny X\nc@x.edu parents_app - deny X\n"
        );
        let bad = errors(&text);
        assert_eq!(bad.len(), 3, "{bad:?}");
        assert!(bad.iter().all(|d| d.code == Code::SnapshotSyntax));
        let at: Vec<u32> = bad.iter().filter_map(|d| d.primary_span()).map(|s| s.start).collect();
        let line_starts: Vec<u32> = text.match_indices('\n').map(|(i, _)| i as u32 + 1).collect();
        // Lines 2, 3 and 5 of the file (the duplicate is reported at its second line).
        assert_eq!(at, vec![line_starts[0], line_starts[1], line_starts[3]]);
        assert!(bad[0].message.contains("5 fields") && bad[1].message.contains("`maybe`"));
        assert!(bad[2].labels.iter().any(|l| l.message == "first line"));
    }
}
