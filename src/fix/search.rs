//! The smallest sets of facts which, given other values, would allow a decision: found before
//! asking how to change them, by evaluating the decision with those facts read otherwise.
//!
//! Every blocker that fires must stop firing, and a blocker stops only if a fact its rule reads
//! changes. So the search branches on the facts of one firing blocker at a time, breadth first:
//! the first sets it finds are the smallest, and a set that holds a smaller solution is skipped.

use crate::directory::{GuardianId, UserId};
use crate::eval::{self, Outcome};
use crate::model::{DecisionId, Expr, Fact, Model, Rule, Ty, Value};
use std::collections::{HashSet, VecDeque};

/// A set of facts with the values they would need, sorted by fact.
pub(super) type Solution = Vec<(Fact, Value)>;

/// Solutions of at most this many facts are looked for.
const MAX_FACTS: usize = 4;
/// States evaluated at most, so a decision with many facts can't make a fix run long.
const MAX_STATES: usize = 20_000;

pub(super) struct Question<'m> {
    pub model: &'m Model,
    pub user: UserId,
    pub decision: DecisionId,
    pub guardian: Option<GuardianId>,
}

impl Question<'_> {
    pub fn outcome(&self, assuming: &[(Fact, Value)]) -> Outcome {
        eval::evaluate_assuming(self.model, self.user, self.decision, self.guardian, assuming)
    }

    /// The smallest solutions whose facts all pass `lever`, at most `limit` of them.
    pub fn solutions(&self, lever: &dyn Fn(Fact) -> bool, limit: usize) -> Vec<Solution> {
        let constants = constants(self.model);
        let mut found: Vec<Solution> = Vec::new();
        let mut seen: HashSet<Solution> = HashSet::new();
        let mut queue: VecDeque<Solution> = VecDeque::from([Vec::new()]);
        let mut evaluated = 0;
        while let Some(state) = queue.pop_front() {
            if found.iter().any(|s| s.iter().all(|x| state.contains(x))) {
                continue;
            }
            evaluated += 1;
            if evaluated > MAX_STATES {
                break;
            }
            let outcome = self.outcome(&state);
            if outcome.allowed {
                found.push(state);
                if found.len() >= limit {
                    break;
                }
                continue;
            }
            if state.len() == MAX_FACTS {
                continue;
            }
            let Some(blocker) = outcome.blockers.first() else { continue };
            for fact in eval::facts_read(self.model, blocker) {
                if !lever(fact) || state.iter().any(|(f, _)| *f == fact) {
                    continue;
                }
                let current = self.value_now(fact);
                for value in alternatives(self.model, fact, &current, &constants) {
                    let mut next = state.clone();
                    next.push((fact, value));
                    next.sort();
                    if seen.insert(next.clone()) {
                        queue.push_back(next);
                    }
                }
            }
        }
        found
    }

    /// The fact's value now.
    fn value_now(&self, fact: Fact) -> Value {
        eval::fact_value(self.model, self.user, self.guardian, fact)
    }
}

/// The values a fact could take instead of `current` that could matter: the other value of a
/// bool, every other variant of an enum, and for a set, with or without each value the rules
/// compare it with. Integers and strings have none.
fn alternatives(model: &Model, fact: Fact, current: &Value, constants: &[(Fact, Value)]) -> Vec<Value> {
    match (model.fact_type(fact), current) {
        (Ty::Bool, Value::Bool(b)) => vec![Value::Bool(!b)],
        (Ty::Enum(e), _) => (0..model.enums[e].variants.len())
            .map(|i| Value::Enum(e, u32::try_from(i).unwrap_or_default()))
            .filter(|v| v != current)
            .collect(),
        (Ty::Set(_), Value::Set(items)) => {
            let mut out = Vec::new();
            for (_, element) in constants.iter().filter(|(f, _)| *f == fact) {
                let mut next: Vec<Value> = items.to_vec();
                match next.iter().position(|x| x == element) {
                    Some(i) => {
                        next.remove(i);
                    }
                    None => next.push(element.clone()),
                }
                let next = Value::set(next);
                if !out.contains(&next) {
                    out.push(next);
                }
            }
            out
        }
        _ => Vec::new(),
    }
}

/// For each set-valued fact, the single values the rules compare it with: constants (`"A5" in
/// user.licenses`, `user.licenses intersects [...]`) and tenant strings (`tenant.ParentsApp.Name
/// in user.TeamsAppPermissionPolicy.DefaultCatalogApps`, read as the tenant has it now).
fn constants(model: &Model) -> Vec<(Fact, Value)> {
    let mut out = Vec::new();
    let mut visit = |e: &Expr| {
        walk(e, &mut |a, b| {
            let Expr::Fact(set) = b else { return };
            if !matches!(model.fact_type(*set), Ty::Set(_)) {
                return;
            }
            match a {
                Expr::Const(Value::Set(items)) => out.extend(items.iter().map(|v| (*set, v.clone()))),
                Expr::Const(v) => out.push((*set, v.clone())),
                Expr::Fact(f @ Fact::Tenant { config, setting }) if model.fact_type(*f) == Ty::Str => {
                    let v = &model.configs[*config].values[*setting].0;
                    if !matches!(v, Value::Str(s) if s.is_empty()) {
                        out.push((*set, v.clone()));
                    }
                }
                _ => {}
            }
        });
    };
    for d in model.decisions.values() {
        for rule in &d.rules {
            match rule {
                Rule::Deny(v) | Rule::Warn(v) => v.fires.iter().for_each(&mut visit),
                Rule::Allow { when, .. } => when.iter().for_each(&mut visit),
                Rule::Require { .. } => {}
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Calls `f(a, b)` and `f(b, a)` for the two sides of every comparison in `e`.
fn walk(e: &Expr, f: &mut impl FnMut(&Expr, &Expr)) {
    match e {
        Expr::Not(x) => walk(x, f),
        Expr::And(xs) | Expr::Or(xs) => xs.iter().for_each(|x| walk(x, f)),
        Expr::Cmp(_, a, b) => {
            f(a, b);
            f(b, a);
        }
        Expr::Const(_) | Expr::Fact(_) => {}
    }
}
