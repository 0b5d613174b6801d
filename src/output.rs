//! Rendering decisions for people (text) and tools (JSON, CSV). The JSON shape is the one
//! documented in the README; the HTTP server returns the same.

use crate::eval::{Provenance, Reason};
use crate::table::{Answer, DecisionHandle, DecisionTable, UserHandle};
use serde::Serialize;
use std::fmt::Write as _;

/// One answer as JSON: what `tenet decide --format json` prints and the server returns.
#[derive(Debug, Serialize)]
pub struct AnswerJson<'a> {
    /// The user's UPN, as the directory spells it.
    pub user: &'a str,
    /// The decision's name.
    pub decision: &'a str,
    /// The guardian's id, for decisions about a guardian.
    pub guardian: Option<&'a str>,
    /// Whether the decision allows.
    pub allowed: bool,
    /// The channel of the deciding `allow via ...`, if any.
    pub channel: Option<&'a str>,
    /// The deciding rule.
    pub reason: ReasonJson<'a>,
    /// Every rule that blocks.
    pub blockers: Vec<ReasonJson<'a>>,
    /// Every warning that fired.
    pub warnings: Vec<ReasonJson<'a>>,
    /// Every consulted setting and attribute, with its value and source: first the facts the
    /// blockers read (for an allowed answer, the deciding rule), then the rest.
    pub provenance: Vec<Provenance>,
}

/// A [`Reason`] as JSON.
#[derive(Debug, Serialize)]
pub struct ReasonJson<'a> {
    /// The reason code.
    pub code: &'a str,
    /// The admin-facing message.
    pub message: &'a str,
    /// The decision the rule belongs to.
    pub decision: &'a str,
    /// `file:line:col` of the rule.
    pub location: &'a str,
    /// The facts the rule read: indexes into the answer's `provenance`.
    pub facts: Vec<usize>,
}

impl<'a> ReasonJson<'a> {
    fn new(r: &'a Reason, cause: &Cause<'_>) -> Self {
        Self {
            code: &r.code,
            message: &r.message,
            decision: &r.decision,
            location: &r.location,
            facts: cause.facts_of(r),
        }
    }
}

impl<'a> AnswerJson<'a> {
    /// The JSON of an answer (its provenance computed here).
    pub fn new(d: &Answer<'a>) -> Self {
        let o = d.outcome;
        let cause = Cause::of(d);
        Self {
            user: d.user().upn(),
            decision: d.decision_name(),
            guardian: d.guardian().map(|g| g.id()),
            allowed: o.allowed,
            channel: o.channel.as_deref(),
            reason: ReasonJson::new(&o.reason, &cause),
            blockers: o.blockers.iter().map(|r| ReasonJson::new(r, &cause)).collect(),
            warnings: o.warnings.iter().map(|r| ReasonJson::new(r, &cause)).collect(),
            provenance: cause.provenance,
        }
    }
}

/// An answer's provenance with its cause first: the facts its blockers read (for an allowed
/// answer, the deciding rule's), in blocker order, then every other consulted fact.
struct Cause<'t> {
    answer: Answer<'t>,
    provenance: Vec<Provenance>,
}

impl<'t> Cause<'t> {
    fn of(d: &Answer<'t>) -> Self {
        let o = d.outcome;
        let consulted = d.provenance();
        let causes: &[Reason] = if o.allowed { std::slice::from_ref(&o.reason) } else { &o.blockers };
        let mut taken = vec![false; consulted.len()];
        let mut order = Vec::with_capacity(consulted.len());
        for r in causes {
            for name in d.facts_read(r).iter() {
                if let Some(i) = consulted.iter().position(|p| p.setting == *name)
                    && !taken[i]
                {
                    taken[i] = true;
                    order.push(i);
                }
            }
        }
        order.extend((0..consulted.len()).filter(|&i| !taken[i]));
        let mut slots: Vec<Option<Provenance>> = consulted.into_iter().map(Some).collect();
        let provenance = order.into_iter().filter_map(|i| slots[i].take()).collect();
        Self { answer: *d, provenance }
    }

    /// The indexes into `provenance` of the facts `r` (one of the answer's rules) read.
    fn facts_of(&self, r: &Reason) -> Vec<usize> {
        let names = self.answer.facts_read(r);
        names.iter().filter_map(|n| self.provenance.iter().position(|p| p.setting == *n)).collect()
    }
}

/// `allow`, `allow via email` or `deny CODE: message`, with the blockers' count.
pub fn one_line(d: &Answer<'_>) -> String {
    let o = d.outcome;
    if o.allowed {
        let mut s = match &o.channel {
            Some(c) => format!("allow via {c}"),
            None => "allow".to_string(),
        };
        for w in &o.warnings {
            let _ = write!(s, " (warning {}: {})", w.code, w.message);
        }
        s
    } else {
        let more = o.blockers.len().saturating_sub(1);
        let tail = if more > 0 {
            format!(" (+{more} more blocker{})", if more == 1 { "" } else { "s" })
        } else {
            String::new()
        };
        format!("deny {}: {}{tail}", o.reason.code, o.reason.message)
    }
}

/// The admin-facing explanation.
pub fn explain(d: &Answer<'_>) -> String {
    let o = d.outcome;
    let mut s = String::new();
    let who = match d.guardian() {
        Some(g) => format!("{} with guardian {}", d.user().upn(), g.id()),
        None => d.user().upn().to_string(),
    };
    let verdict = match (&o.allowed, &o.channel) {
        (true, Some(c)) => format!("ALLOW via {c}"),
        (true, None) => "ALLOW".to_string(),
        (false, _) => "DENY".to_string(),
    };
    let _ = writeln!(s, "{} for {who}: {verdict}", d.decision_name());
    let cause = Cause::of(d);
    let mut shown = vec![false; cause.provenance.len()];
    let mut because = |s: &mut String, r: &Reason| {
        let facts = cause.facts_of(r);
        if !facts.is_empty() {
            let _ = writeln!(s, "     because:");
        }
        for i in facts {
            let p = &cause.provenance[i];
            shown[i] = true;
            let _ = writeln!(s, "       {} = {}\n           from {}", p.setting, p.shown, p.source);
        }
    };
    if o.allowed {
        let _ = writeln!(s, "\ndeciding rule:\n  {}", reason_line(&o.reason));
        because(&mut s, &o.reason);
    } else {
        let _ = writeln!(s, "\ndeciding rule: {} (the first blocker)", o.reason.code);
        let _ = writeln!(s, "\nblockers ({}):", o.blockers.len());
        for (i, b) in o.blockers.iter().enumerate() {
            let _ = writeln!(s, "  {}. {}", i + 1, reason_line(b));
            because(&mut s, b);
        }
    }
    if !o.warnings.is_empty() {
        let _ = writeln!(s, "\nwarnings ({}):", o.warnings.len());
        for (i, w) in o.warnings.iter().enumerate() {
            let _ = writeln!(s, "  {}. {}", i + 1, reason_line(w));
            because(&mut s, w);
        }
    }
    let rest: Vec<&Provenance> = cause.provenance.iter().zip(&shown).filter(|(_, s)| !**s).map(|(p, _)| p).collect();
    if !rest.is_empty() {
        let _ = writeln!(s, "\nalso consulted:");
        for p in rest {
            let _ = writeln!(s, "  {} = {}\n      from {}", p.setting, p.shown, p.source);
        }
    }
    s
}

fn reason_line(r: &Reason) -> String {
    format!("{} — {}\n     at {} (in `{}`)", r.code, r.message, r.location, r.decision)
}

/// A text table: one line per decision.
pub fn table_text(decisions: &[Answer<'_>]) -> String {
    let rows: Vec<[String; 4]> = decisions
        .iter()
        .map(|d| {
            [
                d.user().upn().to_string(),
                d.decision_name().to_string(),
                d.guardian().map_or_else(|| "-".to_string(), |g| g.id().to_string()),
                summary(d),
            ]
        })
        .collect();
    let headers = ["USER", "DECISION", "GUARDIAN", "OUTCOME"];
    let mut widths = headers.map(str::len);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut s = String::new();
    let mut line = |cells: [&str; 4]| {
        let _ = writeln!(
            s,
            "{:w0$}  {:w1$}  {:w2$}  {}",
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        );
    };
    line(headers);
    for r in &rows {
        line([&r[0], &r[1], &r[2], &r[3]]);
    }
    s
}

fn summary(d: &Answer<'_>) -> String {
    let o = d.outcome;
    if o.allowed {
        let mut s = match &o.channel {
            Some(c) => format!("allow via {c}"),
            None => "allow".into(),
        };
        if !o.warnings.is_empty() {
            let codes: Vec<&str> = o.warnings.iter().map(|w| w.code.as_ref()).collect();
            let _ = write!(s, " (warn {})", codes.join(" "));
        }
        s
    } else {
        let codes: Vec<&str> = o.blockers.iter().map(|b| b.code.as_ref()).collect();
        format!("deny {}", codes.join(" "))
    }
}

/// A cell a spreadsheet won't run as a formula (OWASP's CSV injection advice): one that starts
/// with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`, which spreadsheets
/// show as text and don't display. Names and ids come from the admin's exports, so anyone who
/// can name a group or a guardian could otherwise plant a formula.
pub fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{cell}").into() } else { cell.into() }
}

/// Which rows of the table to list: every condition given must hold (an empty list or `None`
/// means any).
#[derive(Debug, Default, Clone)]
pub struct RowFilter {
    /// Only these decisions.
    pub decisions: Vec<DecisionHandle>,
    /// Only these users.
    pub users: Vec<UserHandle>,
    /// Only users with this role (ASCII letters in any case).
    pub role: Option<String>,
    /// Only members of this group (by its id).
    pub group: Option<String>,
    /// Only users of this school: owners and students of its class teams (by its name, in any
    /// case).
    pub school: Option<String>,
    /// Only allowed (`Some(true)`) or only denied (`Some(false)`) answers.
    pub allowed: Option<bool>,
    /// Only answers with this reason code: the deciding rule, a blocker or a warning.
    pub reason: Option<String>,
}

impl RowFilter {
    fn user_ok(&self, table: &DecisionTable, u: UserHandle) -> bool {
        let user = table.user_at(u);
        (self.users.is_empty() || self.users.contains(&u))
            && self.role.as_deref().is_none_or(|r| user.roles.iter().any(|x| x.eq_ignore_ascii_case(r)))
            && self.group.as_deref().is_none_or(|g| {
                user.groups().iter().any(|id| table.model().directory.group_at(id).id.eq_ignore_ascii_case(g))
            })
            && self.school.as_deref().is_none_or(|s| {
                table.model().directory.schools_of(user).iter().any(|x| x.eq_ignore_ascii_case(s.trim()))
            })
    }

    fn answer_ok(&self, a: &Answer<'_>) -> bool {
        let o = a.outcome;
        self.allowed.is_none_or(|want| o.allowed == want)
            && self.reason.as_deref().is_none_or(|code| {
                std::iter::once(&o.reason)
                    .chain(&o.blockers)
                    .chain(&o.warnings)
                    .any(|r| r.code.eq_ignore_ascii_case(code))
            })
    }
}

/// Calls `f` with every answer of the table that passes `filter`, in user order, computing one
/// at a time: memory stays the same whatever the district's size. Stops at `f`'s first error
/// (a reader that has gone, say).
pub fn for_each_row<'t>(
    table: &'t DecisionTable,
    filter: &RowFilter,
    mut f: impl FnMut(&Answer<'t>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut last_user = None;
    let mut user_ok = false;
    let mut failed = None;
    // The questions `tenet table` answers: guardian decisions for the guardians each user deals with.
    table.for_each_answered(|u, d, g| {
        if failed.is_some() {
            return;
        }
        if last_user != Some(u) {
            last_user = Some(u);
            user_ok = filter.user_ok(table, u);
        }
        if !user_ok || !(filter.decisions.is_empty() || filter.decisions.contains(&d)) {
            return;
        }
        let Ok(a) = table.decide_handles(u, d, g) else { return };
        if filter.answer_ok(&a)
            && let Err(e) = f(&a)
        {
            failed = Some(e);
        }
    });
    failed.map_or(Ok(()), Err)
}

/// How [`write_rows`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowFormat {
    /// Aligned columns for people.
    Text,
    /// CSV with a header, cells escaped for spreadsheets.
    Csv,
    /// One JSON array of answers (`tenet decide --format json`'s shape, with the user's name and
    /// roles).
    Json,
    /// One answer per line (newline-delimited JSON).
    Ndjson,
}

/// A user's roles as one cell.
fn roles(a: &Answer<'_>) -> String {
    a.user().roles.iter().map(|r| &**r).collect::<Vec<_>>().join(",")
}

/// Writes the rows of the table that pass `filter` to `out` as they are decided, in bounded
/// memory; returns how many. The text format reads the rows twice: once for the column widths.
pub fn write_rows(
    out: &mut dyn std::io::Write,
    table: &DecisionTable,
    filter: &RowFilter,
    format: RowFormat,
) -> std::io::Result<usize> {
    let mut n = 0;
    match format {
        RowFormat::Text => {
            let headers = ["USER", "NAME", "ROLE", "DECISION", "GUARDIAN"];
            let mut widths = headers.map(str::len);
            for_each_row(table, filter, |a| {
                let cells = [
                    a.user().upn().chars().count(),
                    a.user().display_name().chars().count(),
                    roles(a).chars().count(),
                    a.decision_name().chars().count(),
                    a.guardian().map_or(1, |g| g.id().chars().count()),
                ];
                for (w, c) in widths.iter_mut().zip(cells) {
                    *w = (*w).max(c);
                }
                Ok(())
            })?;
            let [w0, w1, w2, w3, w4] = widths;
            writeln!(
                out,
                "{:w0$}  {:w1$}  {:w2$}  {:w3$}  {:w4$}  OUTCOME",
                headers[0], headers[1], headers[2], headers[3], headers[4]
            )?;
            for_each_row(table, filter, |a| {
                n += 1;
                writeln!(
                    out,
                    "{:w0$}  {:w1$}  {:w2$}  {:w3$}  {:w4$}  {}",
                    a.user().upn(),
                    a.user().display_name(),
                    roles(a),
                    a.decision_name(),
                    a.guardian().map_or("-", |g| g.id()),
                    summary(a)
                )
            })?;
        }
        RowFormat::Csv => {
            let mut w = csv::Writer::from_writer(&mut *out);
            let header = [
                "user",
                "name",
                "roles",
                "decision",
                "guardian",
                "allowed",
                "channel",
                "reason_code",
                "reason_message",
                "blockers",
                "warnings",
            ];
            w.write_record(header)?;
            for_each_row(table, filter, |a| {
                n += 1;
                let o = a.outcome;
                let codes = |rs: &[Reason]| rs.iter().map(|r| r.code.as_ref()).collect::<Vec<_>>().join(" ");
                let roles = roles(a);
                let cells = [
                    a.user().upn(),
                    a.user().display_name(),
                    &roles,
                    a.decision_name(),
                    a.guardian().map_or("", |g| g.id()),
                    if o.allowed { "true" } else { "false" },
                    o.channel.as_deref().unwrap_or(""),
                    &o.reason.code,
                    &o.reason.message,
                    &codes(&o.blockers),
                    &codes(&o.warnings),
                ];
                w.write_record(cells.map(|c| spreadsheet_safe(c).into_owned().into_bytes())).map_err(csv_io)
            })?;
            w.flush()?;
        }
        RowFormat::Json | RowFormat::Ndjson => {
            let json = format == RowFormat::Json;
            if json {
                out.write_all(b"[")?;
            }
            for_each_row(table, filter, |a| {
                let row = RowJson { name: a.user().display_name(), roles: &a.user().roles, answer: AnswerJson::new(a) };
                let sep: &[u8] = match (json, n) {
                    (true, 0) => b"\n",
                    (true, _) => b",\n",
                    (false, _) => b"",
                };
                out.write_all(sep)?;
                serde_json::to_writer(&mut *out, &row).map_err(json_io)?;
                if !json {
                    out.write_all(b"\n")?;
                }
                n += 1;
                Ok(())
            })?;
            if json {
                out.write_all(if n == 0 { b"]\n" } else { b"\n]\n" })?;
            }
        }
    }
    out.flush()?;
    Ok(n)
}

/// A write error as the writer met it, so a closed pipe is still a broken pipe to the caller.
pub fn json_io(e: serde_json::Error) -> std::io::Error {
    match e.io_error_kind() {
        Some(kind) => kind.into(),
        None => std::io::Error::other(e),
    }
}

/// See [`json_io`].
pub fn csv_io(e: csv::Error) -> std::io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => std::io::Error::other(format!("{other:?}")),
    }
}

/// A table row as JSON: the answer, with the user's display name and roles.
#[derive(Serialize)]
struct RowJson<'a> {
    name: &'a str,
    roles: &'a [std::sync::Arc<str>],
    #[serde(flatten)]
    answer: AnswerJson<'a>,
}
