//! `tenet fix`: renders the library's verified suggestions for people (text), for tools (JSON)
//! and as a script `tenet what-if` reads (ps1).

use serde_json::{Value as Json, json};
use std::fmt::Write as _;
use tenet::fix::{Fix, Population, Step};
use tenet::{Outcome, Reason};

fn codes(reasons: &[Reason]) -> String {
    reasons.iter().map(|r| &*r.code).collect::<Vec<_>>().join(" ")
}

fn outcome_line(o: &Outcome) -> String {
    if o.allowed {
        format!("allowed{}", o.channel.as_deref().map(|c| format!(" via {c}")).unwrap_or_default())
    } else {
        format!("denied ({})", codes(&o.blockers))
    }
}

fn others(n: usize) -> String {
    match n {
        0 => "no other user's decision".to_string(),
        1 => "1 decision of other users".to_string(),
        n => format!("{n} decisions of other users"),
    }
}

fn steps_text(out: &mut String, steps: &[Step]) {
    for step in steps {
        if step.is_cmdlet() {
            let _ = writeln!(out, "     {}", step.text);
        } else {
            let _ = writeln!(out, "     plain action (outside Teams PowerShell): {}", step.text);
        }
        let _ = writeln!(out, "       where: {}", step.admin_center);
    }
}

/// The suggestions for people.
pub fn render(asked: &str, fix: &Fix) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{asked}: {}", outcome_line(&fix.before));
    if fix.before.allowed {
        let _ = writeln!(out, "nothing to fix");
        return out;
    }
    if fix.suggestions.is_empty() {
        let _ = writeln!(out, "nothing can allow it:");
        for (fact, why) in &fix.unfixable {
            let _ = writeln!(out, "  - it would take changing {fact}: {why}");
        }
        return out;
    }
    let _ = writeln!(
        out,
        "{} verified suggestion{}, least collateral first:",
        fix.suggestions.len(),
        plural(fix.suggestions.len())
    );
    for (i, s) in fix.suggestions.iter().enumerate() {
        let _ = writeln!(out);
        let own = match s.also_changes_for_user {
            0 => String::new(),
            n => format!("; {n} more of this user's decisions"),
        };
        let _ = writeln!(out, "  {}. {} → also changes {}{own}", i + 1, outcome_line(&s.after), others(s.also_changes));
        steps_text(&mut out, &s.steps);
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "try one with `tenet what-if --change FILE.ps1` (the cmdlet lines; `--format ps1` prints the first)"
    );
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn steps_json(steps: &[Step]) -> (Vec<&str>, Vec<Json>, Vec<&str>) {
    let changes = steps.iter().filter(|s| s.is_cmdlet()).map(|s| s.text.as_str()).collect();
    let plain = steps
        .iter()
        .filter(|s| !s.is_cmdlet())
        .map(|s| json!({ "action": s.text, "admin_center": s.admin_center }))
        .collect();
    let admin = steps.iter().filter(|s| s.is_cmdlet()).map(|s| s.admin_center.as_str()).collect();
    (changes, plain, admin)
}

fn reasons_json(reasons: &[Reason]) -> Vec<&str> {
    reasons.iter().map(|r| &*r.code).collect()
}

/// The suggestions for tools, best first.
pub fn json(user: &str, decision: &str, guardian: Option<&str>, fix: &Fix) -> Json {
    let suggestions: Vec<Json> = fix
        .suggestions
        .iter()
        .map(|s| {
            let (changes, plain, admin) = steps_json(&s.steps);
            json!({
                "changes": changes,
                "admin_center": admin,
                "plain_actions": plain,
                "also_changes": s.also_changes,
                "also_changes_for_user": s.also_changes_for_user,
                "verified": true,
                "after": { "allowed": s.after.allowed, "channel": s.after.channel, "reason": &*s.after.reason.code },
            })
        })
        .collect();
    let unfixable: Vec<Json> = fix.unfixable.iter().map(|(fact, why)| json!({ "fact": fact, "why": why })).collect();
    json!({
        "user": user,
        "decision": decision,
        "guardian": guardian,
        "allowed": fix.before.allowed,
        "blockers": reasons_json(&fix.before.blockers),
        "suggestions": suggestions,
        "unfixable": unfixable,
    })
}

/// The best suggestion as a script for `tenet what-if`: its cmdlet lines, and its plain actions
/// as comments (what-if can't make them).
pub fn script(steps: &[Step]) -> String {
    let mut out = String::new();
    for s in steps {
        if s.is_cmdlet() {
            let _ = writeln!(out, "{}", s.text);
        } else {
            let _ = writeln!(out, "# plain action (outside Teams PowerShell): {}", s.text);
        }
    }
    out
}

/// The change sets for a population, for people.
pub fn render_population(asked: &str, p: &Population) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{asked}: {} of {} users denied", p.denied.len(), p.asked);
    if p.denied.is_empty() {
        let _ = writeln!(out, "nothing to fix");
        return out;
    }
    if p.change_sets.is_empty() {
        let _ = writeln!(out, "no change tenet knows allows any of them");
        return out;
    }
    for (i, set) in p.change_sets.iter().enumerate() {
        let lines = set.steps.len();
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "  {}. {lines} change{} allow {} of them (verified) → also changes {}; {} other decisions of these users",
            i + 1,
            plural(lines),
            set.allowed_after.len(),
            others(set.also_changes),
            set.also_changes_for_users
        );
        steps_text(&mut out, &set.steps);
        if !set.still_denied.is_empty() {
            let _ = writeln!(
                out,
                "     still denied after it ({}): {}",
                set.still_denied.len(),
                set.still_denied.join(", ")
            );
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "see why one user stays denied with `tenet fix --user UPN --decision …`");
    out
}

/// The change sets for a population, for tools.
pub fn json_population(decision: &str, p: &Population) -> Json {
    let sets: Vec<Json> = p
        .change_sets
        .iter()
        .map(|set| {
            let (changes, plain, admin) = steps_json(&set.steps);
            json!({
                "changes": changes,
                "admin_center": admin,
                "plain_actions": plain,
                "allows": set.allowed_after,
                "still_denied": set.still_denied,
                "also_changes": set.also_changes,
                "also_changes_for_users": set.also_changes_for_users,
                "verified": true,
            })
        })
        .collect();
    json!({ "decision": decision, "asked": p.asked, "denied": p.denied, "suggestions": sets })
}
