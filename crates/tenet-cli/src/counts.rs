//! `tenet summary` (counts per decision and per reason) and `tenet who` (the users of one
//! decision, with their verdict and its reason), rendered for people and tools.

use std::io::Write;
use tenet::output::{self, RowFilter, spreadsheet_safe};
use tenet::summary::{self, Summary, Verdict};
use tenet::{DecisionHandle, DecisionTable, UserHandle};

/// The summary as aligned text: decisions, then blockers and warnings by users stopped.
pub fn summary_text(s: &Summary) -> String {
    let mut rows = vec![[
        "DECISION".to_string(),
        "ALLOWED".into(),
        "DENIED".into(),
        "USERS ALLOWED".into(),
        "USERS DENIED".into(),
    ]];
    for d in &s.decisions {
        let name = if d.per_guardian { format!("{} (per guardian)", d.decision) } else { d.decision.to_string() };
        rows.push([
            name,
            d.allowed.to_string(),
            d.denied.to_string(),
            d.users_allowed.to_string(),
            d.users_denied.to_string(),
        ]);
    }
    let mut out = format!(
        "{} user{}, {} answer{}\n\n",
        s.users,
        if s.users == 1 { "" } else { "s" },
        s.answers,
        if s.answers == 1 { "" } else { "s" }
    );
    out += &columns(&rows);
    for kind in ["blocker", "warning"] {
        let mut rows = vec![[
            format!("{}S", kind.to_uppercase()),
            "DECISION".into(),
            "USERS".into(),
            "ANSWERS".into(),
            "DECIDING".into(),
        ]];
        for r in s.reasons.iter().filter(|r| r.kind == kind) {
            rows.push([
                r.code.to_string(),
                r.decision.to_string(),
                r.users.to_string(),
                r.answers.to_string(),
                r.deciding.to_string(),
            ]);
        }
        if rows.len() > 1 {
            out += "\n";
            out += &columns(&rows);
        }
    }
    out
}

/// Left-aligned first two columns, right-aligned numbers.
fn columns<const N: usize>(rows: &[[String; N]]) -> String {
    let mut widths = [0; N];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
            if i > 0 {
                line += "  ";
            }
            let numeric = i > 0 && cell.chars().all(|c| c.is_ascii_digit());
            line += &if numeric { format!("{cell:>w$}") } else { format!("{cell:w$}") };
        }
        out += line.trim_end();
        out += "\n";
    }
    out
}

/// How `who` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhoFormat {
    Text,
    Csv,
    Json,
}

/// A verdict in a word: `allow`, `deny`, or for a guardian decision `allow 2/3` when some of the
/// user's guardians are allowed and some not.
fn verdict(v: &Verdict<'_>) -> String {
    match (v.allowed, v.denied) {
        (_, 0) => "allow".into(),
        (0, _) => "deny".into(),
        (a, d) => format!("allow {a}/{}", a + d),
    }
}

/// The verdict's reason: the deciding code and message.
fn reason<'t>(v: &Verdict<'t>) -> (&'t str, &'t str) {
    summary::reason(v).map_or(("", ""), |r| (&r.code, &r.message))
}

/// One line of `who --format json`, its fields in the order people read them.
#[derive(serde::Serialize)]
struct WhoJson<'a> {
    user: &'a str,
    name: &'a str,
    roles: &'a [std::sync::Arc<str>],
    verdict: String,
    allowed: u32,
    denied: u32,
    reason: WhoReason<'a>,
}

#[derive(serde::Serialize)]
struct WhoReason<'a> {
    code: &'a str,
    message: &'a str,
}

/// Writes the users `filter` passes for `decision`, one line each; returns how many. `allowed`
/// keeps only users allowed for every question asked (`Some(true)`) or denied for at least one
/// (`Some(false)`); the filter's own `allowed` should be `None`, so mixed verdicts stay whole.
pub fn who(
    out: &mut dyn Write,
    table: &DecisionTable,
    filter: &RowFilter,
    decision: DecisionHandle,
    allowed: Option<bool>,
    format: WhoFormat,
) -> std::io::Result<usize> {
    let d = decision.index();
    let wanted = |v: &Verdict<'_>| v.asked() && allowed.is_none_or(|want| (v.denied == 0) == want);
    let user_line = |u: UserHandle, v: &Verdict<'_>| {
        let user = table.user_at(u);
        let roles = user.roles.iter().map(|r| &**r).collect::<Vec<_>>().join(",");
        let (code, message) = reason(v);
        [
            user.upn().to_string(),
            user.display_name().to_string(),
            roles,
            verdict(v),
            code.to_string(),
            message.to_string(),
        ]
    };
    let mut n = 0;
    match format {
        WhoFormat::Text => {
            let headers = ["USER", "NAME", "ROLE", "VERDICT", "REASON"];
            let mut widths = headers.map(str::len);
            summary::for_each_user(table, filter, |u, vs| {
                if !wanted(&vs[d]) {
                    return Ok(());
                }
                let line = user_line(u, &vs[d]);
                for (w, cell) in widths.iter_mut().zip(&line) {
                    *w = (*w).max(cell.chars().count());
                }
                Ok(())
            })?;
            let [w0, w1, w2, w3, _] = widths;
            writeln!(out, "{:w0$}  {:w1$}  {:w2$}  {:w3$}  REASON", headers[0], headers[1], headers[2], headers[3])?;
            summary::for_each_user(table, filter, |u, vs| {
                if !wanted(&vs[d]) {
                    return Ok(());
                }
                let [upn, name, roles, verdict, code, message] = user_line(u, &vs[d]);
                n += 1;
                let why = if code.is_empty() { String::new() } else { format!("{code}: {message}") };
                writeln!(out, "{upn:w0$}  {name:w1$}  {roles:w2$}  {verdict:w3$}  {why}")
            })?;
        }
        WhoFormat::Csv => {
            let mut w = csv::Writer::from_writer(&mut *out);
            w.write_record(["user", "name", "roles", "verdict", "allowed", "denied", "reason_code", "reason_message"])?;
            summary::for_each_user(table, filter, |u, vs| {
                let v = &vs[d];
                if !wanted(v) {
                    return Ok(());
                }
                let [upn, name, roles, verdict, code, message] = user_line(u, v);
                n += 1;
                let (allowed, denied) = (v.allowed.to_string(), v.denied.to_string());
                let cells = [&upn, &name, &roles, &verdict, &allowed, &denied, &code, &message];
                w.write_record(cells.map(|c| spreadsheet_safe(c).into_owned())).map_err(output::csv_io)
            })?;
            w.flush()?;
        }
        WhoFormat::Json => {
            out.write_all(b"[")?;
            summary::for_each_user(table, filter, |u, vs| {
                let v = &vs[d];
                if !wanted(v) {
                    return Ok(());
                }
                let user = table.user_at(u);
                let (code, message) = reason(v);
                let row = WhoJson {
                    user: user.upn(),
                    name: user.display_name(),
                    roles: &user.roles,
                    verdict: verdict(v),
                    allowed: v.allowed,
                    denied: v.denied,
                    reason: WhoReason { code, message },
                };
                out.write_all(if n == 0 { b"\n" } else { b",\n" })?;
                serde_json::to_writer(&mut *out, &row).map_err(output::json_io)?;
                n += 1;
                Ok(())
            })?;
            out.write_all(if n == 0 { b"]\n" } else { b"\n]\n" })?;
        }
    }
    out.flush()?;
    Ok(n)
}
