//! `tenet report`: the district on one self-contained HTML page. Counts, charts, the blockers
//! ranked and the guardian-data checks are written as HTML here; the who-can-what matrix, its
//! filters, paging and the per-user drill-down are drawn in the page from one embedded JSON
//! document. The page loads nothing: its style, script and charts are inline.

mod data;
mod svg;

use data::Data;
use std::fmt::Write as _;
use tenet::DecisionTable;
use tenet_import::{ImportReport, report::Status};

/// What goes into the report.
#[derive(Debug, Clone)]
pub struct Options {
    /// Show guardians' emails and phone numbers (else pseudonyms).
    pub show_contacts: bool,
    /// How many of the top blockers get a verified fix (each costs a fix search).
    pub fixes: usize,
    /// At most this many explanations of denied cells are embedded.
    pub explanations: usize,
    /// Where the district was read from, as the page's subtitle.
    pub source: String,
}

/// What a report came to, for the command's closing line.
#[derive(Debug)]
pub struct Written {
    pub bytes: usize,
    pub users: usize,
    pub explanations_left_out: usize,
}

const STYLE: &str = include_str!("page.css");
const SCRIPT: &str = include_str!("page.js");

/// Writes the report of `table` to `out`.
pub fn write(
    out: &mut dyn std::io::Write,
    table: &DecisionTable,
    import: Option<&ImportReport>,
    options: &Options,
    progress: &crate::progress::Progress,
) -> std::io::Result<Written> {
    let data = Data::gather(table, options, progress);
    progress.phase("writing");
    let mut page = String::with_capacity(1 << 20);
    let s = &data.summary;
    let _ = write!(
        page,
        r##"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>Parent Connection report — tenet</title><style>{STYLE}</style></head>
<body><header><h1>Parent Connection: who can reach guardians</h1><p class="sub">{source} · {users} users · {guardians} guardians · {answers} answers · tenet {version}</p>
<nav><a href="#summary">Summary</a><a href="#matrix-section">Who can what</a><a href="#blockers">Blockers</a><a href="#guardians">Guardian data</a><a href="#import">Sources</a></nav></header>
<main>"##,
        source = escape(&options.source),
        users = s.users,
        guardians = data.guardians.guardians,
        answers = s.answers,
        version = env!("CARGO_PKG_VERSION"),
    );
    summary_section(&mut page, &data);
    page += r#"<section id="matrix-section"><h2>Who can what</h2>
<p class="hint">One row per user, one column per decision: ✓ allowed, ✗ denied, <i>2/3</i> allowed for some of the user's guardians, – not asked. Click a row for why; click a column to sort.</p>
<form id="filters" onsubmit="return false">
<label>Search <input id="f-search" type="search" placeholder="name or UPN"></label>
<label>Role <select id="f-role"><option value="">any</option></select></label>
<label>School <select id="f-school"><option value="">any</option></select></label>
<label>Group by <select id="f-group"><option value="">nothing</option><option value="school">school</option><option value="role">role</option><option value="group">group</option><option value="class team">class team</option></select></label>
<label>Decision <select id="f-decision"><option value="">any</option></select></label>
<label>Verdict <select id="f-verdict"><option value="">any</option><option value="denied">denied at least once</option><option value="allowed">never denied</option></select></label>
<label>Reason <select id="f-reason"><option value="">any</option></select></label>
</form>
<p id="matrix-count" class="count"></p>
<div class="scroll"><table id="matrix"><thead></thead><tbody></tbody></table></div>
<p class="pager"><button id="prev" type="button">‹ previous</button> <span id="page"></span> <button id="next" type="button">next ›</button></p>
<aside id="detail" hidden></aside>
</section>"#;
    blockers_section(&mut page, &data);
    guardians_section(&mut page, &data);
    import_section(&mut page, table, import);
    page += r#"</main><script type="application/json" id="data">"#;
    // No `<` inside the script element: `</script>` would end it and `<!--` would change how
    // the browser looks for its end. In JSON `<` is only ever inside a string, where `\u003c`
    // means the same.
    page += &serde_json::to_string(&data).map_err(std::io::Error::other)?.replace('<', "\\u003c");
    let _ = writeln!(page, "</script><script>{SCRIPT}</script></body></html>");
    out.write_all(page.as_bytes())?;
    out.flush()?;
    Ok(Written { bytes: page.len(), users: s.users, explanations_left_out: data.explanations_left_out })
}

fn summary_section(page: &mut String, data: &Data) {
    let s = &data.summary;
    *page += r#"<section id="summary"><h2>Summary</h2><div class="two"><div>"#;
    *page += &svg::decisions(s);
    *page += r#"</div><table class="counts"><thead><tr><th>Decision</th><th>Answers allowed</th><th>denied</th><th>Users allowed</th><th>denied</th></tr></thead><tbody>"#;
    for d in &s.decisions {
        let _ = write!(
            page,
            r#"<tr data-decision="{name}" data-allowed="{a}" data-denied="{n}"><td>{name}{per}</td><td>{a}</td><td>{n}</td><td>{ua}</td><td>{un}</td></tr>"#,
            name = escape(&d.decision),
            per = if d.per_guardian { r#" <span class="tag">per guardian</span>"# } else { "" },
            a = d.allowed,
            n = d.denied,
            ua = d.users_allowed,
            un = d.users_denied,
        );
    }
    *page += "</tbody></table></div></section>";
}

fn blockers_section(page: &mut String, data: &Data) {
    let s = &data.summary;
    *page += r#"<section id="blockers"><h2>Blockers, by users stopped</h2>"#;
    *page += &svg::blockers(s, 12);
    *page += r#"<table class="ranked"><thead><tr><th>Blocker</th><th>Decision</th><th>Users</th><th>Answers</th><th>What to change</th></tr></thead><tbody>"#;
    for (i, r) in s.reasons.iter().enumerate().filter(|(_, r)| r.kind == "blocker") {
        let fix = match data.fixes.get(&i) {
            Some(f) if f.steps.is_empty() => format!(
                r#"<div class="fix none"><b>Nothing an admin changes allows it</b> (checked for {} ({})): {}</div>"#,
                escape(&f.user),
                escape(&f.decision),
                escape(&f.unfixable.join("; "))
            ),
            Some(f) => {
                let mut text = format!(
                    r#"<div class="fix"><b>Smallest fix</b>, verified for {} ({}){}:<ol>"#,
                    escape(&f.user),
                    escape(&f.decision),
                    match f.also_changes {
                        0 => String::new(),
                        n => format!(", also changes {n} other decisions"),
                    }
                );
                for (step, where_) in &f.steps {
                    let _ = write!(text, "<li><code>{}</code><br><small>{}</small></li>", escape(step), escape(where_));
                }
                text + "</ol></div>"
            }
            None => String::new(),
        };
        let _ = write!(
            page,
            r#"<tr data-reason="{i}"><td><code>{code}</code></td><td>{decision}</td><td>{users}</td><td>{answers}</td><td>{message}{fix}<button type="button" class="who" data-reason="{i}">users it stops</button><div class="who-list"></div></td></tr>"#,
            code = escape(&r.code),
            decision = escape(&r.decision),
            users = r.users,
            answers = r.answers,
            message = escape(&r.message),
        );
    }
    *page += "</tbody></table></section>";
}

fn guardians_section(page: &mut String, data: &Data) {
    let g = &data.guardians;
    let _ = write!(
        page,
        r#"<section id="guardians"><h2>Guardian data</h2><p>{} guardians in the directory. {}</p><table class="ranked"><thead><tr><th>Check</th><th>Guardians</th><th>Why it matters</th><th>Which</th></tr></thead><tbody>"#,
        g.guardians,
        if g.contacts_shown {
            "Contacts are shown (--show-contacts)."
        } else {
            "Guardians are named by pseudonym (<code>g:</code> and a hash of their id, as in snapshots); run with --show-contacts to see their contacts."
        }
    );
    for c in &g.checks {
        let more = c.count - c.listed.len();
        let which = if c.listed.is_empty() {
            String::new()
        } else {
            format!(
                "<details><summary>list</summary>{}{}</details>",
                c.listed.iter().map(|x| escape(x)).collect::<Vec<_>>().join(", "),
                if more > 0 { format!(" and {more} more") } else { String::new() }
            )
        };
        let _ = write!(
            page,
            r#"<tr><td>{}</td><td class="{}">{}</td><td>{}</td><td>{which}</td></tr>"#,
            escape(c.what),
            if c.count > 0 { "bad" } else { "good" },
            c.count,
            escape(c.why)
        );
    }
    *page += "</tbody></table></section>";
}

fn import_section(page: &mut String, table: &DecisionTable, import: Option<&ImportReport>) {
    *page += r#"<section id="import"><h2>Sources and assumptions</h2>"#;
    match import {
        Some(report) => {
            *page += r#"<table class="ranked"><thead><tr><th>Source</th><th>Status</th><th>Files</th><th>Detail</th></tr></thead><tbody>"#;
            for line in &report.sources {
                let status = match line.status {
                    Status::Found => "found",
                    Status::Missing => "missing",
                    Status::Assumed => "assumed",
                    Status::Conflict => "conflict",
                };
                let _ = write!(
                    page,
                    r#"<tr><td>{}</td><td class="status-{status}">{status}</td><td>{}</td><td>{}</td></tr>"#,
                    escape(&line.source),
                    escape(&line.files.join(", ")),
                    escape(&line.detail)
                );
            }
            *page += "</tbody></table>";
        }
        None => {
            *page += "<p>Decided on policy files and a directory file, or a bundle built from them (the import's report is not kept in a bundle).</p>";
        }
    }
    let assumed = table.model().directory.assumed();
    if assumed.is_empty() {
        *page += "<p>No fact is assumed for lack of an export.</p>";
    } else {
        *page += "<p>Assumed for lack of an export:</p><ul>";
        for a in assumed {
            let _ = write!(page, "<li><b>{}</b>: {}</li>", escape(&a.facts.join(", ")), escape(&a.because));
        }
        *page += "</ul>";
    }
    *page += "</section>";
}

/// Text as HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out += "&amp;",
            '<' => out += "&lt;",
            '>' => out += "&gt;",
            '"' => out += "&quot;",
            '\'' => out += "&#39;",
            c => out.push(c),
        }
    }
    out
}
