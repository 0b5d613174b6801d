//! `tenet fix`: the smallest changes that would allow a denied decision, each verified.
//!
//! Three steps. First, [`search`] finds the smallest sets of facts which, read otherwise, allow
//! the decision (the reference evaluator, with those facts overridden). Then [`levers`] turns
//! each set into the changes an admin makes: cmdlet lines in `tenet what-if`'s syntax, or plain
//! actions outside Teams PowerShell (a licence, a class team's owners, a guardian's record),
//! respecting what Teams refuses (a locked default can only be replaced; an app permission
//! policy is assigned per user). Last, each suggestion is applied to a copy of the model and
//! decided again, by the reference evaluator and then by a newly compiled table, which also
//! counts the decisions of other users it changes: its collateral, by which suggestions rank.

mod levers;
mod search;

use crate::change;
use crate::directory::{ClassTeamId, GuardianId, Relationship, UserId};
use crate::eval::{self, Outcome};
use crate::model::{ConfigSource, Fact, Model, Value};
use crate::snapshot::{Guardians, changes_between};
use crate::source::{Source, Span};
use crate::table::{DecisionHandle, DecisionTable, GuardianHandle, QueryError, UserHandle};
use std::cmp::Reverse;
use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

/// One change of a suggestion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// A cmdlet line exactly as `tenet what-if` reads it, or for a plain action, what to do.
    pub text: String,
    /// Where the admin makes the change in the admin centers.
    pub admin_center: String,
    /// The change outside Teams PowerShell; `None` for a cmdlet line.
    plain: Option<Plain>,
    /// Whom the change reaches.
    reach: Reach,
    /// For a grant, how many users hold that policy already: between suggestions that reach
    /// as far, the policy the user's peers have is the likelier intent.
    peers: usize,
}

impl Step {
    /// Whether this is a cmdlet line (else a plain action, made outside Teams PowerShell).
    pub fn is_cmdlet(&self) -> bool {
        self.plain.is_none()
    }
}

/// Whom a change reaches, before anything is decided: for ordering candidates, and in a
/// population, for telling changes that stay within it from those that reach past it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// One user's own assignment or record.
    User(UserId),
    /// A guardian's record, which every teacher of the guardian's students reads.
    Guardian(GuardianId),
    /// A group's members.
    Group(crate::directory::GroupId),
    /// Everyone who holds a policy instance.
    Instance(crate::model::TypeId, usize),
    /// Everyone.
    Tenant,
}

/// A change made outside Teams PowerShell, as fix applies it to verify a suggestion.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Plain {
    Enable(UserId),
    License(UserId, String),
    Owner(ClassTeamId, UserId),
    Unblock(UserId, GuardianId),
    Email(GuardianId),
    Phone(GuardianId),
    Relationship(UserId, GuardianId, Relationship),
    Tenant { config: usize, setting: usize, value: Value },
}

/// A verified suggestion.
#[derive(Debug, Clone)]
pub struct Suggestion {
    /// The changes, cmdlet lines first, in the order to make them.
    pub steps: Vec<Step>,
    /// The decision as it comes out with the changes made (allowed).
    pub after: Outcome,
    /// How many decisions of other users (any decision, any guardian) it also changes.
    pub also_changes: usize,
    /// How many other decisions of the user it also changes.
    pub also_changes_for_user: usize,
}

impl Suggestion {
    /// The cmdlet lines alone: a script for `tenet what-if`.
    pub fn script(&self) -> String {
        self.steps.iter().filter(|s| s.is_cmdlet()).map(|s| format!("{}\n", s.text)).collect()
    }
}

/// What `fix` found for one decision.
#[derive(Debug, Clone)]
pub struct Fix {
    /// The decision as it is.
    pub before: Outcome,
    /// Verified suggestions, least collateral first. Empty when the decision is allowed, or
    /// when nothing can allow it (see `unfixable`).
    pub suggestions: Vec<Suggestion>,
    /// When no change can allow it: each fact it would take, and why no admin changes it.
    pub unfixable: Vec<(String, &'static str)>,
}

/// How many suggestions to verify and return at most, by default.
pub const DEFAULT_LIMIT: usize = 5;

/// The smallest verified changes that allow `decision` for `user` (and `guardian`), at most
/// `limit`, least collateral first.
pub fn fix(
    table: &DecisionTable,
    user: &str,
    decision: &str,
    guardian: Option<&str>,
    limit: usize,
) -> Result<Fix, QueryError> {
    let answer = table.decide(user, decision, guardian)?;
    let model = table.model();
    let q = search::Question {
        model,
        user: answer.user.id(),
        decision: answer.decision.0,
        guardian: answer.guardian.map(|g| g.id()),
    };
    let before = answer.outcome.clone();
    if before.allowed {
        return Ok(Fix { before, suggestions: Vec::new(), unfixable: Vec::new() });
    }
    let target = levers::Target { user: q.user, guardian: q.guardian, rank: true };
    let is_lever = |f: Fact| levers::fixed(model, f).is_none();
    let mut candidates: Vec<Vec<Step>> = Vec::new();
    for solution in q.solutions(&is_lever, 16) {
        for steps in levers::realize(model, &target, &solution) {
            if !candidates.contains(&steps) {
                candidates.push(steps);
            }
        }
    }
    // Screened by the reference evaluator on the changed model, cheapest kinds first.
    let mut screened: Vec<(Vec<Step>, Model)> = Vec::new();
    candidates.sort_by_key(|steps| {
        let peers: usize = steps.iter().map(|x| x.peers).sum();
        (steps.iter().map(kind).max().unwrap_or(0), steps.len(), std::cmp::Reverse(peers))
    });
    for steps in candidates {
        if screened.len() >= 2 * limit + 4 {
            break;
        }
        let Ok(changed) = apply(model, &steps) else { continue };
        if eval::evaluate_assuming(&changed, q.user, q.decision, q.guardian, &[]).allowed {
            screened.push((steps, changed));
        }
    }
    // Decided again and measured: a change of the user's own assignment or record can't reach
    // another user, so the reference evaluator decides all of the user's questions again;
    // anything wider is decided by a newly compiled table and diffed with this one.
    let mut suggestions = Vec::new();
    for (steps, changed) in screened {
        let measured =
            if steps.iter().all(|s| s.reach == Reach::User(q.user) && !matches!(s.plain, Some(Plain::Enable(_)))) {
                own_changes(&q, &changed)
            } else {
                compiled_changes(table, &q, changed)
            };
        if let Some((after, also_changes, also_changes_for_user)) = measured {
            suggestions.push(Suggestion { steps, after, also_changes, also_changes_for_user });
        }
    }
    suggestions.sort_by_key(|s| {
        let peers: usize = s.steps.iter().map(|x| x.peers).sum();
        let reach = s.steps.iter().map(kind).max().unwrap_or(0);
        (s.also_changes, s.steps.len(), reach, Reverse(peers), s.also_changes_for_user)
    });
    // Drop any that holds all the changes of a better one.
    let mut kept: Vec<Suggestion> = Vec::new();
    for s in suggestions {
        if !kept.iter().any(|k| k.steps.iter().all(|x| s.steps.contains(x))) {
            kept.push(s);
        }
    }
    kept.truncate(limit);
    let unfixable = if kept.is_empty() { unfixable(&q) } else { Vec::new() };
    Ok(Fix { before, suggestions: kept, unfixable })
}

/// The answer after a change that reaches only the asked user, and how many of the user's
/// other decisions it changes (their outcome, channel or reason codes), by the reference
/// evaluator on both models; `None` if it doesn't allow the decision.
fn own_changes(q: &search::Question<'_>, changed: &Model) -> Option<(Outcome, usize, usize)> {
    let after = eval::evaluate_assuming(changed, q.user, q.decision, q.guardian, &[]);
    if !after.allowed {
        return None;
    }
    let codes = |o: &Outcome| {
        let list = |rs: &[eval::Reason]| rs.iter().map(|r| r.code.clone()).collect::<Vec<_>>();
        (o.allowed, o.channel.clone(), list(&o.blockers), list(&o.warnings))
    };
    let guardians = q.model.directory.guardians_of(q.user);
    let mut own = 0;
    for (d, decision) in q.model.decisions.values().enumerate() {
        let asked: Vec<Option<GuardianId>> =
            if decision.has_guardian { guardians.iter().map(|g| Some(*g)).collect() } else { vec![None] };
        for g in asked {
            if (d, g) == (q.decision, q.guardian) {
                continue;
            }
            let before = eval::evaluate_assuming(q.model, q.user, d, g, &[]);
            let now = eval::evaluate_assuming(changed, q.user, d, g, &[]);
            own += usize::from(codes(&before) != codes(&now));
        }
    }
    Some((after, 0, own))
}

/// The answer after a change, by a newly compiled table, and how many decisions of other
/// users and of the user it also changes, by a diff with the table before.
fn compiled_changes(
    table: &DecisionTable,
    q: &search::Question<'_>,
    changed: Model,
) -> Option<(Outcome, usize, usize)> {
    let after_table = crate::compile::compile(Arc::new(changed));
    let user = UserHandle(q.user);
    let after = after_table.decide_handles(user, DecisionHandle(q.decision), q.guardian.map(GuardianHandle)).ok()?;
    if !after.outcome.allowed {
        return None;
    }
    let outcome = after.outcome.clone();
    let upn = q.model.directory.user_at(q.user).upn();
    let asked = &q.model.decisions[q.decision].name;
    let guardian = q.guardian.map_or("-", |g| q.model.directory.guardian_at(g).id());
    let changes = changes_between(table, &after_table, Guardians::Contacts);
    let own = changes.iter().filter(|c| c.key.0 == upn).count();
    let this = changes.iter().filter(|c| c.key.0 == upn && &c.key.1 == asked && c.key.2 == guardian).count();
    Some((outcome, changes.len() - own, own - this))
}

/// Why nothing allows it: the facts the smallest solutions would need changed that are no
/// lever, or, when even those don't help, every blocker's facts.
fn unfixable(q: &search::Question<'_>) -> Vec<(String, &'static str)> {
    let mut out = BTreeSet::new();
    for solution in q.solutions(&|_| true, 8) {
        for (fact, _) in solution {
            if let Some(why) = levers::fixed(q.model, fact) {
                out.insert((q.model.fact_name(fact), why));
            }
        }
    }
    if out.is_empty() {
        out.insert((
            "the decision's rules".to_string(),
            "no change of up to four settings or facts that tenet knows how to make allows it",
        ));
    }
    out.into_iter().collect()
}

/// How far a step reaches, for ordering candidates before they are measured: the user's own
/// assignment or record first, then a guardian's record, a group's, a policy's, the tenant's.
fn kind(step: &Step) -> u8 {
    match step.reach {
        Reach::User(_) => 0,
        Reach::Guardian(_) => 1,
        Reach::Group(_) => 2,
        Reach::Instance(..) => 3,
        Reach::Tenant => 4,
    }
}

/// A copy of `model` with the steps made: plain actions on the directory or tenant, then the
/// cmdlet lines as `tenet what-if` applies them.
pub(crate) fn apply(
    model: &Model,
    steps: &[Step],
) -> Result<Model, (crate::source::SourceMap, Vec<crate::diagnostic::Diagnostic>)> {
    let mut changed = model.clone();
    for step in steps {
        let Some(p) = &step.plain else { continue };
        match p {
            Plain::Tenant { config, setting, value } => {
                // Provenance names the action as the value's source.
                let file = changed.sources.add(Source::new("fix (plain action)", step.text.clone()));
                let span = Span::new(file, 0, step.text.len());
                changed.configs[*config].values[*setting] = (value.clone(), ConfigSource::Tenant(span));
            }
            other => {
                let dir = Arc::make_mut(&mut changed.directory);
                match other {
                    Plain::Enable(u) => dir.enable(*u),
                    Plain::License(u, l) => dir.add_license(*u, l),
                    Plain::Owner(c, u) => dir.add_owner(*c, *u),
                    Plain::Unblock(u, g) => dir.unblock(*u, *g),
                    Plain::Email(g) => dir.add_guardian_email(*g),
                    Plain::Phone(g) => dir.add_guardian_e164_phone(*g),
                    Plain::Relationship(u, g, r) => dir.set_relationship(*u, *g, *r),
                    Plain::Tenant { .. } => {}
                }
            }
        }
    }
    let script: String = steps.iter().filter(|s| s.is_cmdlet()).map(|s| format!("{}\n", s.text)).collect();
    if script.is_empty() {
        return Ok(changed);
    }
    change::applied(&changed, Source::new("fix.ps1", script))
}

/// Change sets for many users (`tenet fix --decision NAME --role teacher`).
#[derive(Debug, Clone, Default)]
pub struct Population {
    /// How many users were asked about.
    pub asked: usize,
    /// The UPNs of those denied now.
    pub denied: Vec<String>,
    /// The change sets found, least collateral first: one that stays within the asked users
    /// where it can, and one with the fewest changes, when they differ.
    pub change_sets: Vec<ChangeSet>,
}

/// One set of changes for a population, verified by a newly compiled table.
#[derive(Debug, Clone, Default)]
pub struct ChangeSet {
    /// The changes, in the order to make them.
    pub steps: Vec<Step>,
    /// The denied users the changes allow.
    pub allowed_after: Vec<String>,
    /// The denied users still denied after them.
    pub still_denied: Vec<String>,
    /// How many decisions of users not asked about they also change.
    pub also_changes: usize,
    /// How many other decisions of the asked users they also change (their guardian
    /// decisions among them).
    pub also_changes_for_users: usize,
}

/// Rounds of the greedy cover at most: each round adds the change that allows the most.
const MAX_ROUNDS: usize = 12;
/// Each round looks for shared changes from the largest groups of users alike, this many.
const SITUATIONS: usize = 12;

/// How a change set for a population is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strategy {
    /// Changes that reach no user outside the population first, then each user's own.
    Within,
    /// The change that allows the most first, whomever else it reaches.
    Fewest,
}

/// Change sets that allow `decision` (a decision about the user only) for every one of
/// `users` who is denied, built greedily (the change that allows the most first), then each
/// remaining user's own smallest fix; each verified at the end by a newly compiled table,
/// which also counts the collateral.
pub fn fix_population(table: &DecisionTable, users: &[UserId], decision: &str) -> Result<Population, QueryError> {
    let handle = table.decision(decision)?;
    let model = table.model();
    let d = handle.0;
    if model.decisions[d].has_guardian {
        return Err(QueryError::GuardianRequired(model.decisions[d].name.clone()));
    }
    let upn = |u: UserId| model.directory.user_at(u).upn().to_string();
    let denied: Vec<UserId> =
        users.iter().copied().filter(|u| !outcome_of(table, *u, d).is_some_and(|o| o.allowed)).collect();
    let mut out =
        Population { asked: users.len(), denied: denied.iter().map(|u| upn(*u)).collect(), change_sets: Vec::new() };
    if denied.is_empty() {
        return Ok(out);
    }
    for strategy in [Strategy::Within, Strategy::Fewest] {
        let (steps, changed) = cover(table, users, &denied, d, strategy);
        // The fewest-changes set earns its place only by being shorter.
        if steps.is_empty() || out.change_sets.iter().any(|c| c.steps == steps || c.steps.len() <= steps.len()) {
            continue;
        }
        out.change_sets.push(measure(table, users, &denied, d, steps, changed));
    }
    out.change_sets.sort_by_key(|c| (c.still_denied.len(), c.also_changes, c.steps.len()));
    Ok(out)
}

/// The greedy cover: rounds of the best shared change by `strategy`, or each user's own fix.
fn cover(
    table: &DecisionTable,
    users: &[UserId],
    denied: &[UserId],
    d: usize,
    strategy: Strategy,
) -> (Vec<Step>, Model) {
    let model = table.model();
    let is_lever = |f: Fact| levers::fixed(model, f).is_none();
    let inside: HashSet<UserId> = users.iter().copied().collect();
    let mut current = model.clone();
    let mut steps = Vec::new();
    let mut remaining = denied.to_vec();
    for _ in 0..MAX_ROUNDS {
        if remaining.is_empty() {
            break;
        }
        let groups = clusters(&current, d, &remaining);
        let scored = shared_changes(table, &current, d, &groups, &inside, &is_lever);
        let within = scored
            .iter()
            .filter(|c| c.outside == 0)
            .max_by_key(|c| (c.covered, Reverse(c.reach), Reverse(c.steps.len())));
        let most =
            scored.iter().max_by_key(|c| (c.covered, Reverse(c.outside), Reverse(c.reach), Reverse(c.steps.len())));
        let shared = match strategy {
            Strategy::Within => within,
            Strategy::Fewest => most,
        };
        let chosen = match shared {
            Some(best) => Some(best.steps.clone()),
            None => own_fixes(&current, d, &groups, &is_lever).or_else(|| most.map(|best| best.steps.clone())),
        };
        // Scored changes were made on copies already; making the chosen one again is cheap.
        let Some(changed) = chosen.as_ref().and_then(|c| apply(&current, c).ok()) else { break };
        steps.extend(chosen.unwrap_or_default());
        current = changed;
        // A group whose representative is allowed now is done.
        let before = remaining.len();
        remaining = groups
            .into_iter()
            .filter(|(rep, _)| !eval::evaluate_assuming(&current, *rep, d, None, &[]).allowed)
            .flat_map(|(_, members)| members)
            .collect();
        if remaining.len() == before {
            break;
        }
    }
    (steps, current)
}

/// A change set verified and measured: a newly compiled table of the changed model decides
/// every denied user, and a diff with the table before counts the rest.
fn measure(
    table: &DecisionTable,
    users: &[UserId],
    denied: &[UserId],
    d: usize,
    steps: Vec<Step>,
    changed: Model,
) -> ChangeSet {
    let model = table.model();
    let upn = |u: UserId| model.directory.user_at(u).upn().to_string();
    let after = crate::compile::compile(Arc::new(changed));
    let mut set = ChangeSet { steps, ..Default::default() };
    for u in denied {
        let ok = outcome_of(&after, *u, d).is_some_and(|o| o.allowed);
        if ok { set.allowed_after.push(upn(*u)) } else { set.still_denied.push(upn(*u)) }
    }
    let name = &model.decisions[d].name;
    let asked: HashSet<&str> = users.iter().map(|u| model.directory.user_at(*u).upn()).collect();
    let allowed: HashSet<&str> = set.allowed_after.iter().map(String::as_str).collect();
    for c in changes_between(table, &after, Guardians::Contacts) {
        if !asked.contains(c.key.0.as_str()) {
            set.also_changes += 1;
        } else if !(c.key.1 == *name && allowed.contains(c.key.0.as_str())) {
            set.also_changes_for_users += 1;
        }
    }
    set
}

/// Denied users grouped by their situation: the blockers that deny them, the policies they
/// hold, and their own facts those blockers read. Largest group first: a representative
/// answers for each (the final verification decides every user).
type Clusters = Vec<(UserId, Vec<UserId>)>;

fn clusters(model: &Model, d: usize, users: &[UserId]) -> Clusters {
    let mut groups: Vec<Vec<UserId>> = Vec::new();
    /// Blocker codes, instances held, the user's facts the blockers read.
    type Situation = (Vec<Arc<str>>, Vec<usize>, Vec<Value>);
    let mut index: std::collections::HashMap<Situation, usize> = std::collections::HashMap::new();
    // The policy types the decision reads.
    let mut types: Vec<usize> = model.decisions[d]
        .consulted
        .iter()
        .filter_map(|f| if let Fact::Policy { ptype, .. } = f { Some(*ptype) } else { None })
        .collect();
    types.sort_unstable();
    types.dedup();
    for &u in users {
        let q = search::Question { model, user: u, decision: d, guardian: None };
        let outcome = q.outcome(&[]);
        let codes: Vec<Arc<str>> = outcome.blockers.iter().map(|b| b.code.clone()).collect();
        let facts: Vec<Value> = outcome
            .blockers
            .iter()
            .flat_map(|b| eval::facts_read(model, b))
            .filter(|f| matches!(f, Fact::User(_)))
            .map(|f| eval::fact_value(model, u, None, f))
            .collect();
        let held: Vec<usize> = types.iter().map(|t| eval::effective(model, u, *t).instance).collect();
        let key = (codes, held, facts);
        match index.get(&key) {
            Some(&i) => groups[i].push(u),
            None => {
                index.insert(key, groups.len());
                groups.push(vec![u]);
            }
        }
    }
    groups.sort_by_key(|g| (Reverse(g.len()), g[0]));
    groups.into_iter().map(|g| (g[0], g)).collect()
}

/// A user's outcome of a decision about the user only.
fn outcome_of(table: &DecisionTable, u: UserId, d: usize) -> Option<&Outcome> {
    table.decide_handles(UserHandle(u), DecisionHandle(d), None).ok().map(|a| a.outcome)
}

/// A change for several users, scored.
struct Scored {
    steps: Vec<Step>,
    /// How many of the remaining users it allows.
    covered: usize,
    /// How many users outside the asked ones it reaches.
    outside: usize,
    reach: u8,
}

/// The changes that reach beyond one user, from each situation's smallest solutions, each
/// with how many remaining users it allows and how many outside users it reaches.
fn shared_changes(
    table: &DecisionTable,
    current: &Model,
    d: usize,
    clusters: &Clusters,
    inside: &HashSet<UserId>,
    is_lever: &dyn Fn(Fact) -> bool,
) -> Vec<Scored> {
    let mut shared: Vec<Vec<Step>> = Vec::new();
    for (rep, _) in clusters.iter().take(SITUATIONS) {
        let q = search::Question { model: current, user: *rep, decision: d, guardian: None };
        for solution in q.solutions(is_lever, 8) {
            for steps in
                levers::realize(current, &levers::Target { user: *rep, guardian: None, rank: false }, &solution)
            {
                if !steps.iter().all(|s| matches!(s.reach, Reach::User(_))) && !shared.contains(&steps) {
                    shared.push(steps);
                }
            }
        }
    }
    let mut out = Vec::new();
    for steps in shared {
        let Ok(model) = apply(current, &steps) else { continue };
        let covered: usize = clusters
            .iter()
            .filter(|(rep, _)| eval::evaluate_assuming(&model, *rep, d, None, &[]).allowed)
            .map(|(_, members)| members.len())
            .sum();
        if covered == 0 {
            continue;
        }
        let outside = reach_outside(table, &steps, inside);
        let reach = steps.iter().map(kind).max().unwrap_or(0);
        out.push(Scored { steps, covered, outside, reach });
    }
    out
}

/// Each remaining user's own smallest fix (steps that reach that user only): found for one
/// user of each group of users alike, then given to every user of the group. The largest
/// groups' ways are made and decided again here; every user's are by the final verification.
fn own_fixes(current: &Model, d: usize, clusters: &Clusters, is_lever: &dyn Fn(Fact) -> bool) -> Option<Vec<Step>> {
    /// Groups whose representative's way is made on a copy before it is chosen.
    const CHECKED: usize = 20;
    let local = |steps: &[Step], u: UserId| steps.iter().all(|s| s.reach == Reach::User(u));
    let mut steps = Vec::new();
    for (n, (rep, members)) in clusters.iter().enumerate() {
        let rep = *rep;
        let q = search::Question { model: current, user: rep, decision: d, guardian: None };
        let target = levers::Target { user: rep, guardian: None, rank: false };
        let mut pick = None;
        'search: for solution in q.solutions(is_lever, 4) {
            for (i, candidate) in levers::realize(current, &target, &solution).iter().enumerate() {
                let allows = || {
                    apply(current, candidate)
                        .is_ok_and(|changed| eval::evaluate_assuming(&changed, rep, d, None, &[]).allowed)
                };
                if local(candidate, rep) && (n >= CHECKED || allows()) {
                    pick = Some((solution, i));
                    break 'search;
                }
            }
        }
        let Some((solution, i)) = pick else { continue };
        for &u in members {
            // Users alike are offered the same ways in the same order.
            let ways = levers::realize(current, &levers::Target { user: u, guardian: None, rank: false }, &solution);
            if let Some(way) = ways.into_iter().nth(i).filter(|w| local(w, u)) {
                steps.extend(way);
            }
        }
    }
    (!steps.is_empty()).then_some(steps)
}

/// How many users outside `inside` the steps reach, by the table before any change.
fn reach_outside(table: &DecisionTable, steps: &[Step], inside: &HashSet<UserId>) -> usize {
    let dir = &table.model().directory;
    let mut reached: HashSet<UserId> = HashSet::new();
    for s in steps {
        match s.reach {
            Reach::User(u) => {
                reached.insert(u);
            }
            // Decisions about a guardian have no population form.
            Reach::Guardian(_) => {}
            Reach::Group(g) => reached.extend(dir.group_at(g).members.iter().copied()),
            Reach::Instance(t, i) => reached.extend(
                dir.users()
                    .map(|(u, _)| u)
                    .filter(|u| table.effective(UserHandle(*u), t).is_some_and(|e| e.instance == i)),
            ),
            Reach::Tenant => return dir.user_count() - inside.len(),
        }
    }
    reached.iter().filter(|u| !inside.contains(u)).count()
}
