//! The compiler: checked model → [`DecisionTable`].
//!
//! 1. Resolve every user's effective instance of each consulted policy type once, using a
//!    per-group best-assignment index (not a scan).
//! 2. Intern users into **profiles**: users with the same effective instances and the same
//!    decision-relevant directory attributes share one row.
//! 3. Intern guardians into **object keys**: the packed guardian facts that decisions read,
//!    enumerated over every (relationship, relation, blocked) combination a query can produce.
//! 4. Evaluate every decision once per profile (and object key), required decisions first, each
//!    from the memoised outcomes of what it requires. Identical outcomes are stored once.
//!
//! Pure and deterministic: the same model always yields the same table.

use crate::eval::{self, Effective, Outcome, Reason, Via};
use crate::model::{
    DecisionId, DirectoryAttr, Expr, Fact, GuardianAttr, MessagePart, Model, Rule, TypeId, UserAttr, Value,
};
use crate::table::{Column, DecisionTable, ObjectKey};
use std::collections::HashMap;
use std::sync::Arc;

/// Compiles a checked model into a decision table.
pub fn compile(model: Arc<Model>) -> DecisionTable {
    let used = Used::of(&model);
    let (user_effective, effective_sets) = effective_sets(&model, &used);
    let (user_profile, profiles) = profiles(&model, &used, &user_effective, &effective_sets);
    let objects = ObjectKey::reachable(&model, used.guardian_mask);
    let columns = columns(&model);
    let order = topological(&model);
    let mut cells = Cells::default();
    let n_user = columns.iter().filter(|c| matches!(c, Column::User(_))).count();
    let n_guardian = columns.len() - n_user;
    let mut user_cells = vec![0u32; profiles.len() * n_user];
    let mut guardian_cells = vec![0u32; profiles.len() * n_guardian * objects.keys.len()];
    for (p, profile) in profiles.iter().enumerate() {
        let env = Env { model: &model, used: &used, profile, object: 0 };
        let mut memo: Vec<Option<u32>> = vec![None; model.decisions.len()];
        for &d in order.iter().filter(|d| !model.decisions[**d].has_guardian) {
            let id = env.decide(d, &memo, &mut cells);
            memo[d] = Some(id);
            if let Column::User(c) = columns[d] {
                user_cells[p * n_user + c] = id;
            }
        }
        for (o, key) in objects.keys.iter().enumerate() {
            let env = Env { object: *key, ..env };
            let mut memo = memo.clone();
            for &d in order.iter().filter(|d| model.decisions[**d].has_guardian) {
                let id = env.decide(d, &memo, &mut cells);
                memo[d] = Some(id);
                if let Column::Guardian(c) = columns[d] {
                    guardian_cells[(p * n_guardian + c) * objects.keys.len() + o] = id;
                }
            }
        }
    }
    DecisionTable {
        model,
        columns,
        n_user,
        n_guardian,
        used_types: used.types,
        guardian_mask: used.guardian_mask,
        user_profile,
        user_effective,
        effective_sets,
        profile_count: profiles.len(),
        user_cells,
        guardian_cells,
        object_index: objects.index,
        object_count: objects.keys.len(),
        outcomes: cells.outcomes,
    }
}

/// What the decisions consult, as slots.
struct Used {
    /// Policy types read by a condition or named in a message.
    types: Vec<TypeId>,
    /// Directory attributes of the user.
    attrs: Vec<UserAttr>,
    /// Which bits of an [`ObjectKey`] any decision reads.
    guardian_mask: u32,
}

impl Used {
    fn of(model: &Model) -> Used {
        let mut types = Vec::new();
        let mut attrs = Vec::new();
        let mut guardian_mask = 0;
        for d in model.decisions.values() {
            for f in &d.consulted {
                match f {
                    Fact::Policy { ptype, .. } => types.push(*ptype),
                    Fact::User(a) => attrs.push(*a),
                    Fact::Guardian(a) => guardian_mask |= ObjectKey::mask_of(*a),
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
        Used { types, attrs, guardian_mask }
    }

    fn type_slot(&self, t: TypeId) -> usize {
        self.types.binary_search(&t).unwrap_or(0)
    }

    fn attr_slot(&self, a: UserAttr) -> usize {
        self.attrs.binary_search(&a).unwrap_or(0)
    }
}

/// Each user's effective instances of the used types, interned.
fn effective_sets(model: &Model, used: &Used) -> (Vec<u32>, Vec<Box<[Effective]>>) {
    // For each used type: the best group assignment of each group, by group index.
    let best: Vec<Vec<Option<usize>>> = used
        .types
        .iter()
        .map(|&t| {
            let mut by_group = vec![None; model.directory.groups.len()];
            // `groups` is in precedence order: keep the first assignment seen per group.
            for (i, a) in model.policy_types[t].groups.iter().enumerate() {
                by_group[a.group].get_or_insert(i);
            }
            by_group
        })
        .collect();
    let mut interned: HashMap<Box<[Effective]>, u32> = HashMap::new();
    let mut sets: Vec<Box<[Effective]>> = Vec::new();
    let mut per_user = Vec::with_capacity(model.directory.users.len());
    let mut scratch: Vec<Effective> = Vec::with_capacity(used.types.len());
    for (u, user) in model.directory.users.values().enumerate() {
        scratch.clear();
        for (slot, &t) in used.types.iter().enumerate() {
            let ptype = &model.policy_types[t];
            let eff = if let Some((instance, _)) = ptype.direct.get(&u) {
                Effective { instance: *instance, via: Via::Direct }
            } else {
                let winner = user.groups.iter().filter_map(|g| best[slot][*g]).min();
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

/// A row of the table: effective instances of the used types and the used user attributes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Profile {
    instances: Box<[usize]>,
    attrs: Box<[Value]>,
}

fn user_attr(model: &Model, u: usize, a: UserAttr) -> Value {
    let user = &model.directory.users[u];
    let strings = |v: &mut dyn Iterator<Item = &str>| Value::set(v.map(|s| Value::Str(s.into())).collect());
    match a {
        UserAttr::Enabled => Value::Bool(user.enabled),
        UserAttr::Roles => strings(&mut user.roles.iter().map(String::as_str)),
        UserAttr::Licenses => strings(&mut user.licenses.iter().map(String::as_str)),
        UserAttr::Groups => strings(
            &mut user.groups.iter().filter_map(|g| model.directory.groups.get_index(*g)).map(|(_, g)| g.id.as_str()),
        ),
        UserAttr::OwnsClassTeam => Value::Bool(!user.owns.is_empty()),
        UserAttr::InClassTeam => Value::Bool(!user.student_of.is_empty()),
        UserAttr::InvitesSent => Value::Int(user.invites_sent),
    }
}

fn profiles(model: &Model, used: &Used, user_effective: &[u32], sets: &[Box<[Effective]>]) -> (Vec<u32>, Vec<Profile>) {
    let mut interned: HashMap<Profile, u32> = HashMap::new();
    let mut list = Vec::new();
    let mut per_user = Vec::with_capacity(user_effective.len());
    for (u, &set) in user_effective.iter().enumerate() {
        let profile = Profile {
            instances: sets[set as usize].iter().map(|e| e.instance).collect(),
            attrs: used.attrs.iter().map(|a| user_attr(model, u, *a)).collect(),
        };
        let next = u32::try_from(list.len()).unwrap_or(u32::MAX);
        let id = *interned.entry(profile.clone()).or_insert_with(|| {
            list.push(profile);
            next
        });
        per_user.push(id);
    }
    (per_user, list)
}

/// Column of each decision among the user-only or the guardian decisions.
fn columns(model: &Model) -> Vec<Column> {
    let (mut u, mut g) = (0, 0);
    model
        .decisions
        .values()
        .map(|d| {
            if d.has_guardian {
                g += 1;
                Column::Guardian(g - 1)
            } else {
                u += 1;
                Column::User(u - 1)
            }
        })
        .collect()
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
    fn decide(&self, d: DecisionId, memo: &[Option<u32>], cells: &mut Cells) -> u32 {
        let mut blockers: Vec<Reason> = Vec::new();
        let mut warnings: Vec<Reason> = Vec::new();
        let mut allow = None;
        for rule in &self.model.decisions[d].rules {
            match rule {
                Rule::Require { decision, .. } => {
                    // Topological order guarantees the requirement is already decided.
                    let Some(id) = memo[*decision] else { continue };
                    let sub = &cells.outcomes[id as usize];
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
                let t = &m.policy_types[ptype];
                let instance = self.profile.instances[self.used.type_slot(ptype)];
                t.instances[instance].values[setting]
                    .as_ref()
                    .map_or_else(|| t.schema.settings[setting].default.clone(), |(v, _)| v.clone())
            }
            Fact::User(a) => self.profile.attrs[self.used.attr_slot(a)].clone(),
            Fact::Directory(a) => {
                let roles = match a {
                    DirectoryAttr::EnabledRoles => &m.directory.enabled_roles,
                    DirectoryAttr::DisabledRoles => &m.directory.disabled_roles,
                };
                Value::set(roles.iter().map(|r| Value::Str(r.as_str().into())).collect())
            }
            Fact::Guardian(GuardianAttr::Relationship) => {
                let r = crate::directory::Relationship::ALL[ObjectKey::relationship(self.object)];
                m.relationship_value(r)
            }
            Fact::Guardian(a) => Value::Bool(self.object & ObjectKey::mask_of(a) != 0),
        }
    }
}
