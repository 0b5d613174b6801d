//! Rendering decisions for people (text) and tools (JSON, CSV). The JSON shape is the one
//! documented in the README; the HTTP server returns the same.

use crate::eval::{Provenance, Reason};
use crate::table::Answer;
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
    /// Every consulted setting and attribute, with its value and source.
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
}

impl<'a> From<&'a Reason> for ReasonJson<'a> {
    fn from(r: &'a Reason) -> Self {
        Self { code: &r.code, message: &r.message, decision: &r.decision, location: &r.location }
    }
}

impl<'a> AnswerJson<'a> {
    /// The JSON of an answer (its provenance computed here).
    pub fn new(d: &Answer<'a>) -> Self {
        let o = d.outcome;
        Self {
            user: &d.user().upn,
            decision: d.decision_name(),
            guardian: d.guardian().map(|g| &*g.id),
            allowed: o.allowed,
            channel: o.channel.as_deref(),
            reason: (&o.reason).into(),
            blockers: o.blockers.iter().map(Into::into).collect(),
            warnings: o.warnings.iter().map(Into::into).collect(),
            provenance: d.provenance(),
        }
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
        Some(g) => format!("{} with guardian {}", d.user().upn, g.id),
        None => d.user().upn.clone(),
    };
    let verdict = match (&o.allowed, &o.channel) {
        (true, Some(c)) => format!("ALLOW via {c}"),
        (true, None) => "ALLOW".to_string(),
        (false, _) => "DENY".to_string(),
    };
    let _ = writeln!(s, "{} for {who}: {verdict}", d.decision_name());
    if o.allowed {
        let _ = writeln!(s, "\ndeciding rule:\n  {}", reason_line(&o.reason));
    } else {
        let _ = writeln!(s, "\ndeciding rule: {} (the first blocker)", o.reason.code);
        let _ = writeln!(s, "\nblockers ({}):", o.blockers.len());
        for (i, b) in o.blockers.iter().enumerate() {
            let _ = writeln!(s, "  {}. {}", i + 1, reason_line(b));
        }
    }
    if !o.warnings.is_empty() {
        let _ = writeln!(s, "\nwarnings ({}):", o.warnings.len());
        for (i, w) in o.warnings.iter().enumerate() {
            let _ = writeln!(s, "  {}. {}", i + 1, reason_line(w));
        }
    }
    let prov = d.provenance();
    if !prov.is_empty() {
        let _ = writeln!(s, "\nconsulted settings:");
        for p in prov {
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
                d.user().upn.clone(),
                d.decision_name().to_string(),
                d.guardian().map_or_else(|| "-".to_string(), |g| g.id.to_string()),
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

/// CSV with a header row.
/// A cell a spreadsheet won't run as a formula (OWASP's CSV injection advice): one that starts
/// with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`, which spreadsheets
/// show as text and don't display. Names and ids come from the admin's exports, so anyone who
/// can name a group or a guardian could otherwise plant a formula.
pub fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{cell}").into() } else { cell.into() }
}

/// Every answer as CSV, one row each, cells a spreadsheet would run escaped (see
/// [`spreadsheet_safe`]).
pub fn table_csv(decisions: &[Answer<'_>]) -> Result<String, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "user",
        "decision",
        "guardian",
        "allowed",
        "channel",
        "reason_code",
        "reason_message",
        "blockers",
        "warnings",
    ])?;
    for d in decisions {
        let o = d.outcome;
        let codes = |rs: &[Reason]| rs.iter().map(|r| r.code.as_ref()).collect::<Vec<_>>().join(" ");
        let cells = [
            d.user().upn.as_str(),
            d.decision_name(),
            d.guardian().map_or("", |g| &*g.id),
            if o.allowed { "true" } else { "false" },
            o.channel.as_deref().unwrap_or(""),
            &o.reason.code,
            &o.reason.message,
            &codes(&o.blockers),
            &codes(&o.warnings),
        ];
        w.write_record(cells.map(|c| spreadsheet_safe(c).into_owned().into_bytes()))?;
    }
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
