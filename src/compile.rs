//! The compiler: checked model → [`DecisionTable`].
//!
//! 1. Resolve every user's effective instance of each consulted policy type once, using a
//!    per-group best-assignment index (not a scan).
//! 2. Intern users into **profiles**: users with the same effective instances and the same
//!    decision-relevant directory attributes share one row. An attribute that conditions only
//!    compare with constants is *projected* first: a set onto the constants it is tested
//!    against (`user.groups intersects tenant.ParentsApp.AvailableToGroups` needs only those
//!    groups), a number onto its position among the thresholds (`user.invites_sent >=
//!    tenant.…InviteLimit` needs only below / at / above). Every condition then has the same
//!    value for every user of a profile, so one representative user stands for the row.
//! 3. Give each decision its own **rows**: profiles that agree on everything the decision reads
//!    (policy types, attributes, message placeholders, its requirements' included) share one.
//!    A guardian decision also gets the **guardian keys** it can tell apart: the packed guardian
//!    facts it reads, enumerated over every (relationship, relation, blocked) combination a
//!    query can produce.
//! 4. Evaluate every decision once per row (and guardian key), required decisions first, each
//!    from the stored outcomes of what it requires. Identical outcomes are stored once.
//!
//! Pure and deterministic: the same model always yields the same table.

use crate::ast::CmpOp;
use crate::directory::UserId;
use crate::eval::{self, Effective, Outcome, Reason, Via};
use crate::facts::{directory_roles, user_attr};
use crate::model::{DecisionId, Expr, Fact, MessagePart, Model, Rule, TypeId, UserAttr, Value};
use crate::table::{Compiled, DecisionColumn, DecisionTable, GuardianKey};
// Interning keys are our own data, not attacker-chosen: a fast non-cryptographic hash is safe.
use foldhash::HashMap;
use foldhash::HashMapExt as _;
use std::sync::Arc;

/// Compiles a checked model into a decision table.
pub fn compile(model: Arc<Model>) -> DecisionTable {
    let used = Used::of(&model);
    let (user_effective, effective_sets) = effective_sets(&model, &used);
    let (user_profile, profiles) = profiles(&model, &used, &user_effective, &effective_sets);
    let reads = Reads::of(&model, &used);
    let link_kinds = GuardianKey::link_kinds(&model);
    let mut cells = Cells::default();
    let mut table: Vec<u32> = Vec::new();
    let mut columns: Vec<DecisionColumn> = (0..model.decisions.len()).map(|_| DecisionColumn::default()).collect();
    let mut row_key: Vec<u32> = Vec::new();
    for d in topological(&model) {
        // Rows: profiles that agree on everything `d` reads share one.
        let mut rows: HashMap<Vec<u32>, u32> = HashMap::new();
        let mut representatives: Vec<usize> = Vec::new();
        let row_of_profile: Vec<u32> = profiles
            .iter()
            .enumerate()
            .map(|(p, profile)| {
                reads.key(d, 0, profile, &mut row_key);
                if let Some(row) = rows.get(row_key.as_slice()) {
                    return *row;
                }
                let row = u32::try_from(representatives.len()).unwrap_or(u32::MAX);
                representatives.push(p);
                rows.insert(row_key.clone(), row);
                row
            })
            .collect();
        let guardian = model.decisions[d].has_guardian;
        let (index, keys) = if guardian {
            let objects = GuardianKey::reachable(&link_kinds, reads.mask[d]);
            (objects.index, objects.keys)
        } else {
            (Vec::new(), vec![0])
        };
        let column = DecisionColumn { guardian, mask: reads.mask[d], index, keys, row_of_profile, offset: table.len() };
        table.resize(table.len() + representatives.len() * column.keys.len(), 0);
        for (row, &p) in representatives.iter().enumerate() {
            let env = Env { model: &model, used: &used, profile: &profiles[p], object: 0 };
            for (local, key) in column.keys.iter().enumerate() {
                let env = Env { object: *key, ..env };
                // Topological order: everything `d` requires already has its column.
                let required = |r: DecisionId| table[columns[r].cell(p, *key)];
                let id = env.decide(d, required, &mut cells);
                table[column.offset + row * column.keys.len() + local] = id;
            }
        }
        columns[d] = column;
    }
    let compiled = Compiled {
        columns,
        used_types: used.types,
        user_profile,
        user_effective,
        effective_sets,
        profile_count: profiles.len(),
        cells: table,
        outcomes: cells.outcomes,
    };
    DecisionTable::new(model, compiled)
}

/// What each decision reads of a profile, its requirements' reads and message placeholders
/// included: the type slots, the attribute slots and the guardian bits.
struct Reads {
    types: Vec<Vec<usize>>,
    attrs: Vec<Vec<usize>>,
    mask: Vec<u32>,
}

impl Reads {
    fn of(model: &Model, used: &Used) -> Reads {
        let n = model.decisions.len();
        let mut reads = Reads { types: vec![Vec::new(); n], attrs: vec![Vec::new(); n], mask: vec![0; n] };
        for d in 0..n {
            let mut types: Vec<usize> = Vec::new();
            let mut attrs: Vec<usize> = Vec::new();
            let mut mask = 0;
            for f in &model.decisions[d].consulted {
                match f {
                    Fact::Policy { ptype, .. } => types.push(used.type_slot(*ptype)),
                    Fact::User(a) => attrs.push(used.attr_slot(*a)),
                    Fact::Guardian(a) => mask |= GuardianKey::mask_of(*a),
                    _ => {}
                }
            }
            // Placeholders of this decision's messages and of every decision it requires.
            let mut stack = vec![d];
            let mut seen = vec![false; n];
            while let Some(x) = stack.pop() {
                if std::mem::replace(&mut seen[x], true) {
                    continue;
                }
                for r in &model.decisions[x].rules {
                    match r {
                        Rule::Require { decision, .. } => stack.push(*decision),
                        Rule::Deny(v) | Rule::Warn(v) => types.extend(v.message.iter().filter_map(|p| match p {
                            MessagePart::Policy(t) => Some(used.type_slot(*t)),
                            MessagePart::Text(_) => None,
                        })),
                        Rule::Allow { .. } => {}
                    }
                }
            }
            types.sort_unstable();
            types.dedup();
            attrs.sort_unstable();
            attrs.dedup();
            reads.types[d] = types;
            reads.attrs[d] = attrs;
            reads.mask[d] = mask;
        }
        reads
    }

    /// The memo key of decision `d` for a profile and guardian key, written into `out`.
    fn key(&self, d: DecisionId, object: u32, profile: &Profile, out: &mut Vec<u32>) {
        out.clear();
        out.push(u32::try_from(d).unwrap_or(u32::MAX));
        out.push(object & self.mask[d]);
        out.extend(self.types[d].iter().map(|t| u32::try_from(profile.instances[*t]).unwrap_or(u32::MAX)));
        out.extend(self.attrs[d].iter().map(|a| profile.attr_ids[*a]));
    }
}

/// How a user attribute enters a profile key.
#[derive(Debug, Clone, PartialEq)]
enum Projection {
    /// The whole value.
    Full,
    /// The set's members among these (sorted) strings: the only ones conditions test.
    Members(Vec<Value>),
    /// The number's position among these (sorted) thresholds.
    Thresholds(Vec<i64>),
}

/// What the decisions consult, as slots.
struct Used {
    /// Policy types read by a condition or named in a message.
    types: Vec<TypeId>,
    /// Directory attributes of the user, and how each enters a profile key.
    attrs: Vec<(UserAttr, Projection)>,
}

impl Used {
    fn of(model: &Model) -> Used {
        let mut types = Vec::new();
        let mut attrs: Vec<UserAttr> = Vec::new();
        for d in model.decisions.values() {
            for f in &d.consulted {
                match f {
                    Fact::Policy { ptype, .. } => types.push(*ptype),
                    Fact::User(a) => attrs.push(*a),
                    _ => {}
                }
            }
            for r in &d.rules {
                if let Rule::Deny(v) | Rule::Warn(v) = r {
                    types.extend(v.message.iter().filter_map(|p| match p {
                        MessagePart::Policy(t) => Some(*t),
                        MessagePart::Text(_) => None,
                    }));
                }
            }
        }
        types.sort_unstable();
        types.dedup();
        attrs.sort_unstable();
        attrs.dedup();
        let mut uses: HashMap<UserAttr, Option<Vec<Value>>> = HashMap::new();
        for d in model.decisions.values() {
            for r in &d.rules {
                let e = match r {
                    Rule::Deny(v) | Rule::Warn(v) => v.fires.as_ref(),
                    Rule::Allow { when, .. } => when.as_ref(),
                    Rule::Require { .. } => None,
                };
                if let Some(e) = e {
                    constant_uses(model, e, &mut uses);
                }
            }
        }
        let attrs = attrs
            .into_iter()
            .map(|a| {
                let projection = match (uses.get(&a), a) {
                    (Some(Some(consts)), UserAttr::Roles | UserAttr::Licenses | UserAttr::Groups) => {
                        let mut strings: Vec<Value> = consts
                            .iter()
                            .flat_map(|v| match v {
                                Value::Set(items) => items.to_vec(),
                                other => vec![other.clone()],
                            })
                            .collect();
                        strings.sort();
                        strings.dedup();
                        Projection::Members(strings)
                    }
                    (Some(Some(consts)), UserAttr::InvitesSent) => {
                        let mut t: Vec<i64> =
                            consts.iter().filter_map(|v| if let Value::Int(i) = v { Some(*i) } else { None }).collect();
                        t.sort_unstable();
                        t.dedup();
                        Projection::Thresholds(t)
                    }
                    _ => Projection::Full,
                };
                (a, projection)
            })
            .collect();
        Used { types, attrs }
    }

    fn type_slot(&self, t: TypeId) -> usize {
        self.types.binary_search(&t).unwrap_or(0)
    }

    fn attr_slot(&self, a: UserAttr) -> usize {
        self.attrs.iter().position(|(x, _)| *x == a).unwrap_or(0)
    }
}

/// The value of an expression that is the same for every user and guardian, if it is one.
fn constant(model: &Model, e: &Expr) -> Option<Value> {
    match e {
        Expr::Const(v) => Some(v.clone()),
        Expr::Fact(Fact::Tenant { config, setting }) => Some(model.configs[*config].values[*setting].0.clone()),
        Expr::Fact(Fact::Directory(a)) => Some(directory_roles(model, *a)),
        _ => None,
    }
}

/// Records, per user attribute, the constants conditions compare it with; `None` marks an
/// attribute used any other way (it is then kept whole).
fn constant_uses(model: &Model, e: &Expr, uses: &mut HashMap<UserAttr, Option<Vec<Value>>>) {
    let projectable = |op: CmpOp, attr: UserAttr, attr_on_left: bool| match attr {
        UserAttr::Roles | UserAttr::Licenses | UserAttr::Groups => {
            (op == CmpOp::Intersects) || (op == CmpOp::In && !attr_on_left)
        }
        UserAttr::InvitesSent => !matches!(op, CmpOp::In | CmpOp::Intersects),
        _ => false,
    };
    match e {
        Expr::Cmp(op, a, b) => {
            for (side, other, left) in [(a, b, true), (b, a, false)] {
                if let Expr::Fact(Fact::User(attr)) = side.as_ref() {
                    match constant(model, other) {
                        Some(v) if projectable(*op, *attr, left) => {
                            if let Some(list) = uses.entry(*attr).or_insert_with(|| Some(Vec::new())) {
                                list.push(v);
                            }
                        }
                        _ => {
                            uses.insert(*attr, None);
                        }
                    }
                } else {
                    constant_uses(model, side, uses);
                }
            }
        }
        Expr::Fact(Fact::User(attr)) => {
            uses.insert(*attr, None);
        }
        Expr::Not(x) => constant_uses(model, x, uses),
        Expr::And(xs) | Expr::Or(xs) => xs.iter().for_each(|x| constant_uses(model, x, uses)),
        Expr::Const(_) | Expr::Fact(_) => {}
    }
}

/// Each user's effective instances of the used types, interned.
fn effective_sets(model: &Model, used: &Used) -> (Vec<u32>, Vec<Box<[Effective]>>) {
    // For each used type: the best group assignment of each group, by group index.
    let best: Vec<Vec<Option<usize>>> = used
        .types
        .iter()
        .map(|&t| {
            let mut by_group = vec![None; model.directory.group_count()];
            // `groups` is in precedence order: keep the first assignment seen per group.
            for (i, a) in model.policy_types[t].groups.iter().enumerate() {
                by_group[a.group.index()].get_or_insert(i);
            }
            by_group
        })
        .collect();
    let mut interned: HashMap<Box<[Effective]>, u32> = HashMap::new();
    let mut sets: Vec<Box<[Effective]>> = Vec::new();
    let mut per_user = Vec::with_capacity(model.directory.user_count());
    let mut scratch: Vec<Effective> = Vec::with_capacity(used.types.len());
    for (u, user) in model.directory.users() {
        scratch.clear();
        for (slot, &t) in used.types.iter().enumerate() {
            let ptype = &model.policy_types[t];
            let eff = if let Some((instance, _)) = ptype.direct.get(&u) {
                Effective { instance: *instance, via: Via::Direct }
            } else {
                let winner = user.groups().iter().filter_map(|g| best[slot][g.index()]).min();
                match winner {
                    Some(i) => {
                        let a = &ptype.groups[i];
                        Effective { instance: a.instance, via: Via::Group(a.group, a.rank) }
                    }
                    None => Effective { instance: ptype.global, via: Via::Global },
                }
            };
            scratch.push(eff);
        }
        let id = match interned.get(scratch.as_slice()) {
            Some(id) => *id,
            None => {
                let id = u32::try_from(sets.len()).unwrap_or(u32::MAX);
                sets.push(scratch.clone().into_boxed_slice());
                interned.insert(scratch.clone().into_boxed_slice(), id);
                id
            }
        };
        per_user.push(id);
    }
    (per_user, sets)
}

/// A profile: its key and the actual attribute values of a representative user.
#[derive(Debug)]
pub(crate) struct Profile {
    instances: Box<[usize]>,
    /// The representative's actual attribute values, for evaluation.
    attrs: Box<[Value]>,
    /// The projected attribute values, interned per slot, for memo keys.
    attr_ids: Box<[u32]>,
}

fn project(value: Value, projection: &Projection) -> Value {
    match (projection, value) {
        (Projection::Members(keep), Value::Set(items)) => {
            Value::Set(items.iter().filter(|v| keep.binary_search(v).is_ok()).cloned().collect())
        }
        (Projection::Thresholds(t), Value::Int(v)) => Value::Int(position(t, v)),
        (_, value) => value,
    }
}

/// The position of `v` among sorted thresholds: `2i` when `v` lies below threshold `i` (and
/// above the one before), `2i + 1` when it equals threshold `i`. Every comparison of `v` with a
/// threshold has the same result for two values exactly when their positions are equal.
fn position(thresholds: &[i64], v: i64) -> i64 {
    let i = thresholds.partition_point(|t| *t < v);
    let at = thresholds.get(i) == Some(&v);
    i64::try_from(i).unwrap_or(i64::MAX / 2) * 2 + i64::from(at)
}

/// Groups users into profiles: same effective instances, same projected attributes. Per user
/// this reads the directory's lists without building values (a district has millions of
/// users and a few thousand profiles); values are built for each new profile's representative.
fn profiles(model: &Model, used: &Used, user_effective: &[u32], sets: &[Box<[Effective]>]) -> (Vec<u32>, Vec<Profile>) {
    // The instances of each effective set, interned: sets that differ only in how an instance
    // was assigned share them.
    let mut instance_ids: HashMap<Box<[usize]>, u32> = HashMap::new();
    let mut instances_of_set: Vec<u32> = Vec::with_capacity(sets.len());
    let mut instance_lists: Vec<Box<[usize]>> = Vec::new();
    for set in sets {
        let list: Box<[usize]> = set.iter().map(|e| e.instance).collect();
        let next = u32::try_from(instance_lists.len()).unwrap_or(u32::MAX);
        let id = *instance_ids.entry(list.clone()).or_insert_with(|| {
            instance_lists.push(list);
            next
        });
        instances_of_set.push(id);
    }
    let slots: Vec<AttrSlot<'_>> = used.attrs.iter().map(|(a, p)| AttrSlot::new(*a, p)).collect();
    let mut ids: Vec<SlotIds> = vec![SlotIds::default(); slots.len()];
    let mut interned: HashMap<Box<[u32]>, u32> = HashMap::new();
    let mut list = Vec::new();
    let mut per_user = Vec::with_capacity(user_effective.len());
    let mut key: Vec<u32> = Vec::with_capacity(slots.len() + 1);
    for (u, &set) in user_effective.iter().enumerate() {
        let u = UserId::new(u);
        key.clear();
        key.push(instances_of_set[set as usize]);
        for (slot, ids) in slots.iter().zip(ids.iter_mut()) {
            key.push(slot.id(model, u, ids));
        }
        if let Some(id) = interned.get(key.as_slice()) {
            per_user.push(*id);
            continue;
        }
        let id = u32::try_from(list.len()).unwrap_or(u32::MAX);
        list.push(Profile {
            instances: instance_lists[key[0] as usize].clone(),
            attrs: used.attrs.iter().map(|(a, _)| user_attr(model, u, *a)).collect(),
            attr_ids: key[1..].into(),
        });
        interned.insert(key.as_slice().into(), id);
        per_user.push(id);
    }
    (per_user, list)
}

/// How one user attribute becomes an id in a profile key: equal ids exactly when the projected
/// values are equal.
enum AttrSlot<'a> {
    /// Membership of a string set among at most 64 kept strings: a bit per kept string.
    Members { attr: UserAttr, keep: Vec<&'a str> },
    /// Anything else: the projected value.
    Value { attr: UserAttr, projection: &'a Projection },
}

/// The ids given so far to one slot's projected values.
#[derive(Clone, Default)]
struct SlotIds {
    by_bits: HashMap<u64, u32>,
    by_value: HashMap<Value, u32>,
}

impl<'a> AttrSlot<'a> {
    fn new(attr: UserAttr, projection: &'a Projection) -> Self {
        if let Projection::Members(keep) = projection {
            let strings: Option<Vec<&str>> =
                keep.iter().map(|v| if let Value::Str(s) = v { Some(&**s) } else { None }).collect();
            if let Some(keep) = strings.filter(|k| k.len() <= 64) {
                return AttrSlot::Members { attr, keep };
            }
        }
        AttrSlot::Value { attr, projection }
    }

    fn id(&self, model: &Model, u: UserId, ids: &mut SlotIds) -> u32 {
        match self {
            AttrSlot::Members { attr, keep } => {
                let user = model.directory.user_at(u);
                let mut bits = 0u64;
                let mut add = |s: &str| {
                    if let Ok(i) = keep.binary_search(&s) {
                        bits |= 1 << i;
                    }
                };
                match attr {
                    UserAttr::Roles => user.roles.iter().for_each(|r| add(r)),
                    UserAttr::Licenses => user.licenses.iter().for_each(|l| add(l)),
                    UserAttr::Groups => user.groups().iter().for_each(|g| add(&model.directory.group_at(g).id)),
                    // Not a string set: the projection never keeps members of these.
                    _ => {}
                }
                let next = u32::try_from(ids.by_bits.len()).unwrap_or(u32::MAX);
                *ids.by_bits.entry(bits).or_insert(next)
            }
            AttrSlot::Value { attr, projection } => {
                let value = project(user_attr(model, u, *attr), projection);
                let next = u32::try_from(ids.by_value.len()).unwrap_or(u32::MAX);
                *ids.by_value.entry(value).or_insert(next)
            }
        }
    }
}

/// Decisions ordered so that each comes after everything it requires.
fn topological(model: &Model) -> Vec<DecisionId> {
    fn visit(model: &Model, d: DecisionId, done: &mut [bool], out: &mut Vec<DecisionId>) {
        if std::mem::replace(&mut done[d], true) {
            return;
        }
        for r in &model.decisions[d].rules {
            if let Rule::Require { decision, .. } = r {
                visit(model, *decision, done, out);
            }
        }
        out.push(d);
    }
    let mut done = vec![false; model.decisions.len()];
    let mut out = Vec::new();
    for d in 0..model.decisions.len() {
        visit(model, d, &mut done, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::position;

    #[test]
    fn positions_separate_values_that_compare_differently() {
        let t: Vec<i64> = (0..100).map(|i| i * 10).collect();
        let mut last = -1;
        for v in -5..1005 {
            let p = position(&t, v);
            assert!(p >= last, "positions grow with the value");
            // Equal positions exactly when every comparison agrees.
            for w in [v - 1, v + 1] {
                let same = t.iter().all(|th| v.cmp(th) == w.cmp(th));
                assert_eq!(same, position(&t, w) == p, "v={v} w={w}");
            }
            last = p;
        }
    }
}

/// Interned outcomes.
#[derive(Default)]
struct Cells {
    outcomes: Vec<Outcome>,
    index: HashMap<Outcome, u32>,
}

impl Cells {
    fn intern(&mut self, o: Outcome) -> u32 {
        if let Some(id) = self.index.get(&o) {
            return *id;
        }
        let id = u32::try_from(self.outcomes.len()).unwrap_or(u32::MAX);
        self.outcomes.push(o.clone());
        self.index.insert(o, id);
        id
    }
}

/// Evaluation of one profile and object key.
#[derive(Clone, Copy)]
struct Env<'a> {
    model: &'a Model,
    used: &'a Used,
    profile: &'a Profile,
    object: u32,
}

impl Env<'_> {
    /// Evaluates decision `d`; `required` gives the stored outcome of a decision it requires.
    fn decide(&self, d: DecisionId, required: impl Fn(DecisionId) -> u32, cells: &mut Cells) -> u32 {
        let mut blockers: Vec<Reason> = Vec::new();
        let mut warnings: Vec<Reason> = Vec::new();
        let mut allow = None;
        for rule in &self.model.decisions[d].rules {
            match rule {
                Rule::Require { decision, .. } => {
                    // Topological order guarantees the requirement is already decided.
                    let sub = &cells.outcomes[required(*decision) as usize];
                    if !sub.allowed {
                        eval::extend_unique(&mut blockers, &sub.blockers);
                    }
                    eval::extend_unique(&mut warnings, &sub.warnings);
                }
                Rule::Deny(v) if self.holds(v.fires.as_ref()) => {
                    let r = eval::verdict_reason(self.model, d, v, |t| self.identity(t));
                    eval::extend_unique(&mut blockers, &[r]);
                }
                Rule::Warn(v) if self.holds(v.fires.as_ref()) => {
                    let r = eval::verdict_reason(self.model, d, v, |t| self.identity(t));
                    eval::extend_unique(&mut warnings, &[r]);
                }
                Rule::Allow { via, when, span } if allow.is_none() && self.holds(when.as_ref()) => {
                    allow = Some((via.clone(), *span));
                }
                _ => {}
            }
        }
        cells.intern(eval::conclude(self.model, d, blockers, warnings, allow))
    }

    fn identity(&self, t: TypeId) -> String {
        let instance = self.profile.instances[self.used.type_slot(t)];
        self.model.policy_types[t].instances[instance].identity()
    }

    fn holds(&self, e: Option<&Expr>) -> bool {
        e.is_none_or(|e| self.value(e).as_bool())
    }

    fn value(&self, e: &Expr) -> Value {
        match e {
            Expr::Const(v) => v.clone(),
            Expr::Fact(f) => self.fact(*f),
            Expr::Not(x) => Value::Bool(!self.value(x).as_bool()),
            Expr::And(xs) => Value::Bool(xs.iter().all(|x| self.value(x).as_bool())),
            Expr::Or(xs) => Value::Bool(xs.iter().any(|x| self.value(x).as_bool())),
            Expr::Cmp(op, a, b) => Value::Bool(eval::compare(*op, &self.value(a), &self.value(b))),
        }
    }

    fn fact(&self, f: Fact) -> Value {
        let m = self.model;
        match f {
            Fact::Tenant { config, setting } => m.configs[config].values[setting].0.clone(),
            Fact::Policy { ptype, setting } => {
                let instance = self.profile.instances[self.used.type_slot(ptype)];
                m.policy_types[ptype].value(instance, setting).clone()
            }
            Fact::User(a) => self.profile.attrs[self.used.attr_slot(a)].clone(),
            Fact::Directory(a) => directory_roles(m, a),
            Fact::Guardian(a) => GuardianKey::attr(m, self.object, a),
        }
    }
}
