//! What the report shows, gathered from the table in three streaming passes (the summary, every
//! user's verdicts, then the denied answers for explanations, blockers and whom to fix) and
//! serialized compactly: the page draws the matrix, the drill-down
//! and the blockers' user lists from it, so nothing is written once per cell.

use super::Options;
use foldhash::{HashMap, HashMapExt as _};
use serde::Serialize;
use std::sync::Arc;
use tenet::output::{self, RowFilter};
use tenet::summary::{self, Summary};
use tenet::unstable::directory::{Directory, Relationship};
use tenet::unstable::privacy::Privacy;
use tenet::{DecisionTable, Outcome};

/// Everything the page needs, as JSON.
#[derive(Debug, Serialize)]
pub struct Data {
    pub summary: Summary,
    /// Distinct outcomes the users' cells point to.
    pub outcomes: Vec<OutcomeData>,
    pub roles: Vec<Arc<str>>,
    /// Groups and class teams, for grouping the matrix.
    pub groups: Vec<GroupData>,
    pub users: Vec<UserData>,
    /// Explanations of denied cells, keyed `upn decision` (up to `Options::explanations`).
    pub explanations: HashMap<String, String>,
    /// Denied cells with no explanation here, for want of room.
    pub explanations_left_out: usize,
    /// The smallest fix for one user of each top blocker, keyed by the reason's index.
    pub fixes: HashMap<usize, FixData>,
    pub guardians: GuardianQuality,
}

/// An outcome: the verdict and the indexes of its rules in `summary.reasons`.
#[derive(Debug, Serialize)]
pub struct OutcomeData {
    pub allowed: bool,
    pub channel: Option<Arc<str>>,
    /// The deciding rule's code and message.
    pub code: Arc<str>,
    pub message: Arc<str>,
    pub blockers: Vec<usize>,
    pub warnings: Vec<usize>,
}

#[derive(Debug, Serialize)]
pub struct GroupData {
    /// `group`, `class team` or `school`.
    pub kind: &'static str,
    pub name: String,
}

/// One user, in short keys: the data is written once per user of the district.
#[derive(Debug, Serialize)]
pub struct UserData {
    /// UPN.
    pub u: String,
    /// Display name.
    pub n: String,
    /// Indexes into `roles`.
    pub r: Vec<usize>,
    /// Indexes into `groups`: the groups the user is in, the class teams they own or learn in,
    /// then their schools.
    pub g: Vec<usize>,
    /// Per decision, three numbers: the outcome index (-1: not asked), answers allowed, answers denied.
    pub c: Vec<i64>,
    /// Indexes into `summary.reasons` of every blocker in any of the user's denied answers
    /// (a cell shows only its first denied answer: another guardian's may be denied otherwise).
    pub b: Vec<usize>,
}

/// A verified fix for one user, shown with the blocker it removes.
#[derive(Debug, Serialize)]
pub struct FixData {
    pub user: String,
    pub decision: String,
    /// Cmdlet lines or plain actions, each with its admin center path; empty when nothing can
    /// allow the decision.
    pub steps: Vec<(String, String)>,
    pub also_changes: usize,
    /// When nothing can: each fact it would take, and why no admin changes it.
    pub unfixable: Vec<String>,
}

/// Counts of guardian records that stop or weaken the Parent Connection, with pseudonyms (or
/// the contacts themselves, with --show-contacts).
#[derive(Debug, Default, Serialize)]
pub struct GuardianQuality {
    pub guardians: usize,
    pub checks: Vec<QualityCheck>,
    pub contacts_shown: bool,
}

#[derive(Debug, Serialize)]
pub struct QualityCheck {
    pub what: &'static str,
    pub why: &'static str,
    pub count: usize,
    /// Up to [`LISTED`] of them.
    pub listed: Vec<String>,
}

/// Guardians listed per check; the count says how many in all.
const LISTED: usize = 200;

impl Data {
    pub fn gather(table: &DecisionTable, options: &Options, progress: &crate::progress::Progress) -> Data {
        progress.phase("counting");
        let model = table.model();
        let dir = &model.directory;
        let all = RowFilter::default();
        let privacy = if options.show_contacts { Privacy::showing_contacts() } else { dir.privacy() };
        let mut summary = summary::summarize(table, &all);
        for r in &mut summary.reasons {
            r.message = privacy.hide(&r.message).into();
        }
        let reason_index: HashMap<(Arc<str>, Arc<str>, &'static str), usize> = summary
            .reasons
            .iter()
            .enumerate()
            .map(|(i, r)| ((r.decision.clone(), r.code.clone(), r.kind), i))
            .collect();
        let index_of = |r: &tenet::Reason, kind: &'static str| {
            reason_index.get(&(r.decision.clone(), r.code.clone(), kind)).copied()
        };
        let blocker = |r: &tenet::Reason| index_of(r, "blocker");
        let warning = |r: &tenet::Reason| index_of(r, "warning");

        // Roles and groups, indexed.
        let mut roles: Vec<Arc<str>> = Vec::new();
        let mut role_index: HashMap<Arc<str>, usize> = HashMap::new();
        let mut groups: Vec<GroupData> =
            dir.groups().map(|(_, g)| GroupData { kind: "group", name: g.name.clone() }).collect();
        let first_team = groups.len();
        groups.extend(dir.class_teams().map(|(_, t)| GroupData { kind: "class team", name: t.name.clone() }));
        let first_school = groups.len();
        let schools = dir.schools();
        groups.extend(schools.iter().map(|s| GroupData { kind: "school", name: s.to_string() }));

        // Outcomes, interned by address: every answer borrows its outcome from the table.
        let mut outcomes: Vec<OutcomeData> = Vec::new();
        let mut outcome_index: HashMap<usize, usize> = HashMap::new();
        let mut intern = |o: &Outcome| {
            *outcome_index.entry(std::ptr::from_ref(o) as usize).or_insert_with(|| {
                outcomes.push(OutcomeData {
                    allowed: o.allowed,
                    channel: o.channel.clone(),
                    code: o.reason.code.clone(),
                    message: privacy.hide(&o.reason.message).into(),
                    blockers: o.blockers.iter().filter_map(blocker).collect(),
                    warnings: o.warnings.iter().filter_map(warning).collect(),
                });
                outcomes.len() - 1
            })
        };
        let mut users = Vec::with_capacity(dir.user_count());
        // Each user's row in `users`, by user index.
        let mut row_of = vec![usize::MAX; dir.user_count()];
        let _ = summary::for_each_user(table, &all, |u, verdicts| {
            let user = table.user_at(u);
            let r = user
                .roles
                .iter()
                .map(|role| {
                    *role_index.entry(role.clone()).or_insert_with(|| {
                        roles.push(role.clone());
                        roles.len() - 1
                    })
                })
                .collect();
            let g = user
                .groups()
                .iter()
                .map(|g| g.index())
                .chain(user.owns().iter().chain(user.student_of()).map(|t| first_team + t.index()))
                .chain(
                    dir.schools_of(user)
                        .into_iter()
                        .filter_map(|s| schools.binary_search(&s).ok())
                        .map(|i| first_school + i),
                )
                .collect();
            let mut c = Vec::with_capacity(verdicts.len() * 3);
            for v in verdicts {
                c.push(v.outcome.map_or(-1, |o| intern(o) as i64));
                c.push(i64::from(v.allowed));
                c.push(i64::from(v.denied));
            }
            row_of[u.index()] = users.len();
            users.push(UserData {
                u: user.upn().to_string(),
                n: user.display_name().to_string(),
                r,
                g,
                c,
                b: Vec::new(),
            });
            Ok(())
        });

        // Explanations of the first denied answer per (user, decision), within the budget.
        let mut explanations = HashMap::new();
        let mut left_out = 0;
        let mut last: Option<(tenet::UserHandle, tenet::DecisionHandle)> = None;
        // Per blocker, the first answer it decides: whom its fix is found for.
        let mut first_decided: HashMap<usize, Asked> = HashMap::new();
        let denied = RowFilter { allowed: Some(false), ..Default::default() };
        let _ = output::for_each_row(table, &denied, |a| {
            if let Some(row) = users.get_mut(row_of[a.user.index()]) {
                row.b.extend(a.outcome.blockers.iter().filter_map(blocker));
                row.b.sort_unstable();
                row.b.dedup();
            }
            if let Some(i) = blocker(&a.outcome.reason) {
                first_decided.entry(i).or_insert_with(|| {
                    (
                        a.user().upn().to_string(),
                        a.decision_name().to_string(),
                        a.guardian().map(|g| g.id().to_string()),
                    )
                });
            }
            if last == Some((a.user, a.decision)) {
                return Ok(());
            }
            last = Some((a.user, a.decision));
            if explanations.len() < options.explanations {
                let text = privacy.hide(&output::explain(a)).into_owned();
                explanations.insert(format!("{} {}", a.user().upn(), a.decision_name()), text);
            } else {
                left_out += 1;
            }
            Ok(())
        });

        progress.phase("finding fixes");
        let fixes = fixes(table, &summary, &first_decided, options.fixes, &privacy, progress);
        let guardians = guardian_quality(dir, options.show_contacts);
        Data {
            summary,
            outcomes,
            roles,
            groups,
            users,
            explanations,
            explanations_left_out: left_out,
            fixes,
            guardians,
        }
    }
}

/// A question: user, decision, guardian.
type Asked = (String, String, Option<String>);

/// The smallest verified fix for one user stopped by each of the `n` blockers that stop the
/// most users: the first question the blocker decides (`first_decided`, by reason index).
fn fixes(
    table: &DecisionTable,
    summary: &Summary,
    first_decided: &HashMap<usize, Asked>,
    n: usize,
    privacy: &Privacy,
    progress: &crate::progress::Progress,
) -> HashMap<usize, FixData> {
    let mut out = HashMap::new();
    let top = summary.reasons.iter().enumerate().filter(|(_, r)| r.kind == "blocker" && r.deciding > 0).take(n);
    for (k, (i, reason)) in top.enumerate() {
        progress.message(format!("{} of {n}: {}", k + 1, reason.code));
        let Some((user, decision, guardian)) = first_decided.get(&i) else { continue };
        let Ok(fix) = tenet::fix::fix(table, user, decision, guardian.as_deref(), 1) else { continue };
        let (steps, also_changes) = match fix.suggestions.first() {
            Some(best) => (
                best.steps.iter().map(|s| (privacy.hide(&s.text).into_owned(), s.admin_center.clone())).collect(),
                best.also_changes,
            ),
            None => (Vec::new(), 0),
        };
        let unfixable = fix.unfixable.iter().map(|(fact, why)| format!("{fact}: {why}")).collect();
        out.insert(i, FixData { user: user.clone(), decision: decision.clone(), steps, also_changes, unfixable });
    }
    out
}

/// The guardian records that stop or weaken contact: checked on the directory itself, so the
/// counts are of guardians, not of answers.
fn guardian_quality(dir: &Directory, show_contacts: bool) -> GuardianQuality {
    let name = |id: &str, g: &tenet::unstable::directory::Guardian| {
        if show_contacts {
            let mut s = id.to_string();
            for c in [g.email(), g.phone()].into_iter().flatten() {
                if c != id {
                    s += &format!(" · {c}");
                }
            }
            s
        } else {
            tenet::snapshot::pseudonym(id)
        }
    };
    type Test = fn(&Directory, &tenet::unstable::directory::Guardian) -> bool;
    let checks: [(&str, &str, Test); 5] = [
        (
            "mobile number not in E.164 form",
            "SMS invites and profile look-up need + country code and number",
            |_, g| g.phone().is_some() && !g.phone_e164,
        ),
        ("no email address", "email from the Parents app and email invites need one", |_, g| g.email().is_none()),
        ("neither email nor mobile number", "Teams can't reach them at all", |_, g| {
            g.email().is_none() && g.phone().is_none()
        }),
        (
            "a relationship other than parent or guardian",
            "Parents supports only the parent and guardian relationships",
            |_, g| g.links().iter().any(|l| !matches!(l.relationship, Relationship::Parent | Relationship::Guardian)),
        ),
        ("linked to no student in a class team", "no teacher sees them in the Parents app", |d, g| {
            g.links().iter().all(|l| d.user_at(l.student).student_of().is_empty())
        }),
    ];
    let mut quality =
        GuardianQuality { guardians: dir.guardian_count(), contacts_shown: show_contacts, ..Default::default() };
    for (what, why, test) in checks {
        let mut check = QualityCheck { what, why, count: 0, listed: Vec::new() };
        for (_, g) in dir.guardians() {
            if test(dir, g) {
                check.count += 1;
                if check.listed.len() < LISTED {
                    check.listed.push(name(g.id(), g));
                }
            }
        }
        quality.checks.push(check);
    }
    quality
}
