//! The report's charts, drawn here as inline SVG: the page needs no script library and no
//! network to show them, and they print.

use super::escape;
use std::fmt::Write as _;
use tenet::Summary;

const ROW: usize = 26;
const LABEL: usize = 300;
const BAR: usize = 420;
const COUNT: usize = 170;

/// The `<svg>` element's opening tag.
fn open(id: &str, label: &str, width: usize, height: usize) -> String {
    format!(
        r#"<svg class="chart" id="{id}" role="img" aria-label="{label}" viewBox="0 0 {width} {height}" width="{width}" height="{height}">"#
    )
}

/// One horizontal bar per decision: users allowed for every question (green) and users denied
/// at least once (red).
pub fn decisions(s: &Summary) -> String {
    let rows: Vec<_> = s.decisions.iter().filter(|d| d.users_allowed + d.users_denied > 0).collect();
    let most = rows.iter().map(|d| d.users_allowed + d.users_denied).max().unwrap_or(1).max(1);
    let height = ROW * rows.len() + 30;
    let width = LABEL + BAR + COUNT;
    let mut out = open("chart-decisions", "Users allowed and denied per decision", width, height);
    for (i, d) in rows.iter().enumerate() {
        let y = i * ROW;
        let ok = d.users_allowed * BAR / most;
        let no = d.users_denied * BAR / most;
        let _ = write!(
            out,
            r#"<g><title>{name}: {a} users allowed, {n} denied</title><text x="{lx}" y="{ty}" text-anchor="end">{name}</text><rect class="ok" x="{LABEL}" y="{by}" width="{ok}" height="18"/><rect class="no" x="{nx}" y="{by}" width="{no}" height="18"/><text x="{cx}" y="{ty}">{a} ✓ · {n} ✗</text></g>"#,
            name = escape(&d.decision),
            a = d.users_allowed,
            n = d.users_denied,
            lx = LABEL - 8,
            ty = y + 14,
            by = y + 1,
            nx = LABEL + ok,
            cx = LABEL + ok + no + 6,
        );
    }
    let _ = write!(
        out,
        r#"<g class="legend"><rect class="ok" x="{LABEL}" y="{ly}" width="12" height="12"/><text x="{t1}" y="{ty}">allowed for every question</text><rect class="no" x="{x2}" y="{ly}" width="12" height="12"/><text x="{t2}" y="{ty}">denied at least once</text></g></svg>"#,
        ly = height - 20,
        ty = height - 10,
        t1 = LABEL + 16,
        x2 = LABEL + 200,
        t2 = LABEL + 216,
    );
    out
}

/// The blockers that stop the most users, one bar each (at most `n`).
pub fn blockers(s: &Summary, n: usize) -> String {
    let rows: Vec<_> = s.reasons.iter().filter(|r| r.kind == "blocker").take(n).collect();
    let most = rows.iter().map(|r| r.users).max().unwrap_or(1).max(1);
    let height = ROW * rows.len().max(1);
    let width = LABEL + BAR + COUNT;
    let mut out = open("chart-blockers", "Users stopped per blocker", width, height);
    for (i, r) in rows.iter().enumerate() {
        let y = i * ROW;
        let _ = write!(
            out,
            r#"<g><title>{code} ({decision}): {users} users, {answers} answers</title><text x="{lx}" y="{ty}" text-anchor="end">{code}</text><rect class="no" x="{LABEL}" y="{by}" width="{w}" height="18"/><text x="{cx}" y="{ty}">{users} users</text></g>"#,
            code = escape(&r.code),
            decision = escape(&r.decision),
            users = r.users,
            answers = r.answers,
            lx = LABEL - 8,
            ty = y + 14,
            by = y + 1,
            w = (r.users * BAR / most).max(1),
            cx = LABEL + (r.users * BAR / most).max(1) + 6,
        );
    }
    out + "</svg>"
}
