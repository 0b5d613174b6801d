//! `tenet what-if --change FILE.ps1`: every decision the cmdlet lines would change, over every
//! user, from the two compiled tables, each with the setting or assignment that flipped it.

use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use tenet::output::AnswerJson;
use tenet::snapshot::{Change, Guardians, pseudonym};
use tenet::{Answer, DecisionTable, Engine, Provenance};

/// One changed decision: the snapshot change (guardian as the output names it), why, and both
/// answers as `tenet decide --format json` prints them.
#[derive(Debug)]
pub struct Changed {
    /// Which decision, and what it was and is.
    pub change: Change,
    /// The consulted settings and assignments whose value or source differs, or the rule that
    /// decides now when none does.
    pub cause: String,
    /// The answer before, as JSON (`None` for a decision that is new, or when not asked for).
    pub before: Option<Json>,
    /// The answer after, as JSON.
    pub after: Option<Json>,
}

fn answer<'t>(table: &'t DecisionTable, user: &str, decision: &str, guardian: &str) -> Option<Answer<'t>> {
    table.decide(user, decision, (guardian != "-").then_some(guardian)).ok()
}

/// What flipped it: each consulted fact whose value or source differs between the answers'
/// provenance.
fn cause(before: Option<&[Provenance]>, after: Option<&[Provenance]>, change: &Change) -> String {
    if let (Some(b), Some(a)) = (before, after) {
        let was: BTreeMap<_, _> = b.iter().map(|p| (p.setting.clone(), p)).collect();
        // Values that changed say why; a value set again to what it was (only its source moved)
        // is named only when nothing else changed.
        let (mut values, mut sources) = (Vec::new(), Vec::new());
        for p in a {
            match was.get(&p.setting) {
                Some(old) if old.value == p.value && old.source == p.source => {}
                Some(old) if old.value == p.value => sources.push(format!("{} now from {}", p.setting, p.source)),
                Some(old) => values.push(format!("{} {} → {} ({})", p.setting, old.shown, p.shown, p.source)),
                None => values.push(format!("{} = {} ({})", p.setting, p.shown, p.source)),
            }
        }
        for parts in [values, sources] {
            if !parts.is_empty() {
                return parts.join("; ");
            }
        }
    }
    crate::snapshot::cause(change)
}

/// An answer as JSON, its guardian as the report names it.
fn to_json<'t>(a: &Answer<'t>, shown_guardian: Option<&'t str>) -> AnswerJson<'t> {
    let mut j = AnswerJson::new(a);
    j.guardian = shown_guardian;
    j
}

/// Every decision that differs from `before` to `after`, in order. Guardians are compared by
/// id and shown as the snapshot would show them.
/// With `json`, both answers are kept as JSON for the report.
pub fn changes(before: &Engine, after: &Engine, guardians: Guardians, json: bool) -> Vec<Changed> {
    tenet::snapshot::changes_between(before.table(), after.table(), Guardians::Contacts)
        .into_iter()
        .map(|c| {
            let (user, decision, guardian) = c.key.clone();
            let b = answer(before.table(), &user, &decision, &guardian);
            let a = answer(after.table(), &user, &decision, &guardian);
            let shown = match (guardians, guardian.as_str()) {
                (_, "-") | (Guardians::Contacts, _) => guardian.clone(),
                (Guardians::Pseudonyms, id) => pseudonym(id),
            };
            // Each answer's provenance is computed once, for the cause and the JSON alike.
            let shown_guardian = (shown != "-").then_some(shown.as_str());
            let bj = b.as_ref().filter(|_| c.before.is_some()).map(|b| to_json(b, shown_guardian));
            let aj = a.as_ref().filter(|_| c.after.is_some()).map(|a| to_json(a, shown_guardian));
            let cause = cause(bj.as_ref().map(|j| &j.provenance[..]), aj.as_ref().map(|j| &j.provenance[..]), &c);
            let value =
                |j: Option<AnswerJson<'_>>| j.filter(|_| json).map(|j| serde_json::to_value(&j).unwrap_or(Json::Null));
            let (before, after) = (value(bj), value(aj));
            let mut change = c;
            change.key.2 = shown;
            Changed { change, cause, before, after }
        })
        .collect()
}

/// The report for people: each change with its cause, then counts by decision and by cause.
pub fn render(heading: &str, changed: &[Changed]) -> String {
    let changes: Vec<Change> = changed.iter().map(|c| c.change.clone()).collect();
    let causes: BTreeMap<_, _> = changed.iter().map(|c| (c.change.key.clone(), c.cause.clone())).collect();
    crate::snapshot::render_with(heading, &changes, &|c| causes.get(&c.key).cloned().unwrap_or_default())
}

/// The report for tools.
pub fn json(changed: &[Changed]) -> Json {
    let items: Vec<Json> = changed
        .iter()
        .map(|c| {
            let (user, decision, guardian) = &c.change.key;
            json!({
                "user": user,
                "decision": decision,
                "guardian": (guardian != "-").then_some(guardian),
                "before": c.before,
                "after": c.after,
                "cause": c.cause,
            })
        })
        .collect();
    json!({ "changed": items })
}

/// The report as CSV, cells a spreadsheet would run escaped.
pub fn csv(changed: &[Changed]) -> String {
    let safe = |s: &str| tenet::output::spreadsheet_safe(s).into_owned();
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(["user", "decision", "guardian", "before", "after", "cause"]);
    for c in changed {
        let (user, decision, guardian) = &c.change.key;
        let side = |e: Option<&tenet::snapshot::Entry>| e.map_or_else(String::new, tenet::snapshot::Entry::summary);
        let _ = w.write_record([
            safe(user),
            safe(decision),
            if guardian == "-" { String::new() } else { safe(guardian) },
            safe(&side(c.change.before.as_ref())),
            safe(&side(c.change.after.as_ref())),
            safe(&c.cause),
        ]);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}
