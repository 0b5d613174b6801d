//! Counts over a table's answers, for questions about groups of people rather than one user:
//! how many are allowed and denied per decision, which reasons stop how many users, and each
//! user's verdict per decision. `tenet summary`, `tenet who` and the HTML report are built on
//! these. Everything streams over [`output::for_each_row`]: memory grows with the number of
//! decisions and reason codes, not with the district.

use crate::eval::{Outcome, Reason};
use crate::output::{self, RowFilter};
use crate::table::{Answer, DecisionTable, UserHandle};
use foldhash::{HashMap, HashMapExt as _};
use serde::Serialize;
use std::sync::Arc;

/// The counts of one decision.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DecisionCount {
    /// The decision's name.
    pub decision: Arc<str>,
    /// Whether it is asked per guardian (each user once per guardian they deal with).
    pub per_guardian: bool,
    /// Answers that allow.
    pub allowed: usize,
    /// Answers that deny.
    pub denied: usize,
    /// Users allowed for every question of this decision they were asked.
    pub users_allowed: usize,
    /// Users denied for at least one question of this decision.
    pub users_denied: usize,
}

/// How often one rule decided, blocked or warned.
#[derive(Debug, Clone, Serialize)]
pub struct ReasonCount {
    /// The reason code (`CONSUMER_OFF_TENANT`).
    pub code: Arc<str>,
    /// The decision the rule belongs to.
    pub decision: Arc<str>,
    /// `blocker` or `warning`.
    pub kind: &'static str,
    /// The admin-facing message, which says what to change.
    pub message: Arc<str>,
    /// `file:line:col` of the rule.
    pub location: Arc<str>,
    /// Answers it blocks (or warns about).
    pub answers: usize,
    /// Answers where it is the deciding rule (the first blocker).
    pub deciding: usize,
    /// Distinct users it blocks (or warns about) in at least one answer.
    pub users: usize,
}

/// The counts of a table's answers (those a filter passes).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Users with at least one answer listed.
    pub users: usize,
    /// Answers listed.
    pub answers: usize,
    /// Per decision, in the policy files' order.
    pub decisions: Vec<DecisionCount>,
    /// Every blocker and warning that fired, the most users first.
    pub reasons: Vec<ReasonCount>,
}

/// One user's answers to one decision, folded: all of them for a user-only decision is one.
#[derive(Debug, Clone, Copy, Default)]
pub struct Verdict<'t> {
    /// Answers that allow.
    pub allowed: u32,
    /// Answers that deny.
    pub denied: u32,
    /// The first denying answer's outcome, else the first allowing one's; `None` when the user
    /// was not asked (a guardian decision for a user who deals with no guardian).
    pub outcome: Option<&'t Outcome>,
}

impl Verdict<'_> {
    /// Whether the user was asked this decision at all.
    pub fn asked(&self) -> bool {
        self.allowed + self.denied > 0
    }
}

/// Counts the answers `filter` passes.
pub fn summarize(table: &DecisionTable, filter: &RowFilter) -> Summary {
    let model = table.model();
    let mut decisions: Vec<DecisionCount> = model
        .decisions
        .values()
        .map(|d| DecisionCount { decision: d.name.as_str().into(), per_guardian: d.has_guardian, ..Default::default() })
        .collect();
    let mut reasons: Vec<ReasonCount> = Vec::new();
    // By decision, code and kind: a `warn` and a `deny` may share a code.
    let mut index: HashMap<(Arc<str>, Arc<str>, &'static str), usize> = HashMap::new();
    // Per reason, the last user counted: rows come in user order.
    let mut last_user: Vec<Option<UserHandle>> = Vec::new();
    let mut summary = Summary::default();
    // The current user's answers per decision: (allowed, denied), folded into the user counts
    // when the next user starts.
    let mut current: Option<UserHandle> = None;
    let mut seen = vec![(false, false); decisions.len()];
    let fold = |seen: &mut [(bool, bool)], decisions: &mut [DecisionCount]| {
        for (count, s) in decisions.iter_mut().zip(seen.iter_mut()) {
            match *s {
                (_, true) => count.users_denied += 1,
                (true, false) => count.users_allowed += 1,
                (false, false) => {}
            }
            *s = (false, false);
        }
    };
    let _ = output::for_each_row(table, filter, |a| {
        summary.answers += 1;
        if current != Some(a.user) {
            fold(&mut seen, &mut decisions);
            current = Some(a.user);
            summary.users += 1;
        }
        let o = a.outcome;
        let d = a.decision.index();
        if o.allowed {
            decisions[d].allowed += 1;
            seen[d].0 = true;
        } else {
            decisions[d].denied += 1;
            seen[d].1 = true;
        }
        let fired = o.blockers.iter().map(|r| (r, "blocker")).chain(o.warnings.iter().map(|r| (r, "warning")));
        for (r, kind) in fired {
            let i = *index.entry((r.decision.clone(), r.code.clone(), kind)).or_insert_with(|| {
                reasons.push(ReasonCount {
                    code: r.code.clone(),
                    decision: r.decision.clone(),
                    kind,
                    message: r.message.clone(),
                    location: r.location.clone(),
                    answers: 0,
                    deciding: 0,
                    users: 0,
                });
                last_user.push(None);
                reasons.len() - 1
            });
            let rc = &mut reasons[i];
            rc.answers += 1;
            if !o.allowed && o.blockers.first().is_some_and(|first| std::ptr::eq(r, first)) {
                rc.deciding += 1;
            }
            if last_user[i] != Some(a.user) {
                last_user[i] = Some(a.user);
                rc.users += 1;
            }
        }
        Ok(())
    });
    fold(&mut seen, &mut decisions);
    // Blockers before warnings ("blocker" < "warning"), each by users stopped, then answers.
    let rank = |r: &ReasonCount| (r.kind, std::cmp::Reverse(r.users), std::cmp::Reverse(r.answers));
    reasons.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| (&a.decision, &a.code).cmp(&(&b.decision, &b.code))));
    summary.decisions = decisions;
    summary.reasons = reasons;
    summary
}

/// Calls `f` once per user with at least one answer `filter` passes, with the user's verdict
/// per decision (indexed like the model's decisions), in user order. Stops at `f`'s first error.
pub fn for_each_user<'t>(
    table: &'t DecisionTable,
    filter: &RowFilter,
    mut f: impl FnMut(UserHandle, &[Verdict<'t>]) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let n = table.model().decisions.len();
    let mut verdicts: Vec<Verdict<'t>> = vec![Verdict::default(); n];
    let mut current: Option<UserHandle> = None;
    output::for_each_row(table, filter, |a: &Answer<'t>| {
        if current != Some(a.user) {
            if let Some(u) = current {
                f(u, &verdicts)?;
            }
            current = Some(a.user);
            verdicts.fill(Verdict::default());
        }
        let v = &mut verdicts[a.decision.index()];
        let o = a.outcome;
        if o.allowed {
            v.allowed += 1;
            v.outcome = v.outcome.or(Some(o));
        } else {
            if v.denied == 0 {
                v.outcome = Some(o);
            }
            v.denied += 1;
        }
        Ok(())
    })?;
    match current {
        Some(u) => f(u, &verdicts),
        None => Ok(()),
    }
}

/// The reason a verdict gives: the deciding rule of its outcome.
pub fn reason<'t>(v: &Verdict<'t>) -> Option<&'t Reason> {
    v.outcome.map(|o| &o.reason)
}
