//! What `explain` shows, prepared once per table: the name of every setting a decision consults,
//! the tenant settings whole, and for policy settings the value and source of each instance a
//! user can hold (by direct assignment, by each group assignment, or the org-wide default). A
//! query's provenance then costs a hash probe per policy setting and reference-count
//! increments; only a setting the user holds by direct assignment formats one line, naming
//! where that user's own assignment was written. The user's and guardian's attributes are read from the
//! directory's own indexes (the reference evaluator finds them by scanning, independently).

use super::key::GuardianKey;
use crate::directory::{GuardianId, Relationship, UserId};
use crate::eval::{self, Effective, Provenance, Via};
use crate::facts::{directory_roles, user_attr};
use crate::model::{Fact, GuardianAttr, Model, SettingId, TypeId, Value};
use foldhash::{HashMap, HashMapExt as _};
use std::sync::Arc;

/// A fact's value and source, rendered.
#[derive(Debug, Clone)]
struct Rendered {
    value: Arc<serde_json::Value>,
    shown: Arc<str>,
    source: Arc<str>,
}

impl Rendered {
    fn of(p: Provenance) -> Self {
        Self { value: p.value, shown: p.shown, source: p.source }
    }

    fn provenance(&self, setting: &Arc<str>) -> Provenance {
        Provenance {
            setting: setting.clone(),
            value: self.value.clone(),
            source: self.source.clone(),
            shown: self.shown.clone(),
        }
    }
}

/// A rule as a reason names it: decision, code, location.
type RuleKey = (Arc<str>, Arc<str>, Arc<str>);

/// A consulted fact and its name as provenance shows it.
type Named = (Fact, Arc<str>);

/// Provenance parts shared by every query of a table.
#[derive(Debug, Default)]
pub(crate) struct Explainer {
    /// Per decision, the facts it consults and their names.
    facts: Vec<Box<[Named]>>,
    /// Tenant settings and directory-wide attributes: the same for every query.
    constant: HashMap<Fact, Rendered>,
    policy: HashMap<(TypeId, SettingId, Effective), Rendered>,
    /// For instances held by direct assignment: the value, and the source around the user's
    /// own assignment (see [`eval::policy_source_around`]).
    direct: HashMap<(TypeId, SettingId, crate::model::InstanceId), (Rendered, Arc<str>)>,
    /// Where guardian attributes come from: the same text for every guardian.
    guardian_source: Arc<str>,
    /// The same per guardian fact, where an assumption concerns it.
    guardian_sources: HashMap<Fact, Arc<str>>,
    /// `false` and `true`, and each relationship, as JSON and as shown.
    bools: [(Arc<serde_json::Value>, Arc<str>); 2],
    relationships: Vec<(Arc<serde_json::Value>, Arc<str>)>,
    /// The names of the facts each rule reads, by (decision, code, location): every reason an
    /// answer can give, so an explanation finds a blocker's cause with one probe.
    reads: HashMap<RuleKey, Arc<[Arc<str>]>>,
}

impl Explainer {
    /// Prepares every decision's facts; `held` lists the effective instances users hold.
    pub fn new(model: &Model, held: impl IntoIterator<Item = (TypeId, Effective)>) -> Self {
        let mut facts: Vec<Box<[Named]>> = Vec::with_capacity(model.decisions.len());
        let mut settings: HashMap<TypeId, Vec<SettingId>> = HashMap::new();
        let mut constant = HashMap::new();
        for d in model.decisions.values() {
            for f in &d.consulted {
                match *f {
                    Fact::Policy { ptype, setting } => settings.entry(ptype).or_default().push(setting),
                    // The same for every query: rendered whole (no user is named in them).
                    Fact::Tenant { .. } => {
                        constant.entry(*f).or_insert_with(|| {
                            Rendered::of(eval::provenance_value(model, UserId::default(), None, *f))
                        });
                    }
                    Fact::Directory(a) => {
                        constant.entry(*f).or_insert_with(|| {
                            let (value, shown) = render(model, &directory_roles(model, a));
                            Rendered { value, shown, source: eval::fact_source(model, UserId::default(), *f).into() }
                        });
                    }
                    Fact::User(_) | Fact::Guardian(_) => {}
                }
            }
            facts.push(d.consulted.iter().map(|f| (*f, Arc::from(model.fact_name(*f)))).collect());
        }
        for list in settings.values_mut() {
            list.sort_unstable();
            list.dedup();
        }
        let mut policy = HashMap::new();
        let global =
            settings.keys().map(|&t| (t, Effective { instance: model.policy_types[t].global, via: Via::Global }));
        let mut direct = HashMap::new();
        for (ptype, effective) in held.into_iter().chain(global) {
            for &setting in settings.get(&ptype).map_or(&[][..], Vec::as_slice) {
                if effective.via == Via::Direct {
                    // Each holder's source names its own assignment: only the rest is prepared.
                    direct.entry((ptype, setting, effective.instance)).or_insert_with(|| {
                        let p = policy_provenance(model, ptype, setting, effective, UserId::default());
                        let (head, tail) = eval::policy_source_around(model, ptype, effective.instance, setting);
                        (Rendered { value: p.value, shown: p.shown, source: head.into() }, Arc::from(tail))
                    });
                    continue;
                }
                policy.entry((ptype, setting, effective)).or_insert_with(|| {
                    Rendered::of(policy_provenance(model, ptype, setting, effective, UserId::default()))
                });
            }
        }
        let bools = [false, true].map(|b| render(model, &Value::Bool(b)));
        let relationships = Relationship::ALL.iter().map(|r| render(model, &model.relationship_value(*r))).collect();
        let guardian_source: Arc<str> =
            eval::fact_source(model, UserId::default(), Fact::Guardian(GuardianAttr::HasEmail)).into();
        let guardian_sources = facts
            .iter()
            .flat_map(|d| d.iter())
            .filter(|(f, _)| matches!(f, Fact::Guardian(_)))
            .map(|(f, _)| (*f, Arc::from(eval::fact_source(model, UserId::default(), *f))))
            .filter(|(_, s)| **s != *guardian_source)
            .collect();
        let mut reads = HashMap::new();
        for (i, d) in model.decisions.values().enumerate() {
            let id: crate::model::DecisionId = i;
            let reasons = d.rules.iter().filter_map(|rule| match rule {
                crate::model::Rule::Deny(v) | crate::model::Rule::Warn(v) => {
                    Some(eval::verdict_reason(model, id, v, |_| String::new()))
                }
                crate::model::Rule::Allow { via, span, .. } => {
                    Some(eval::allow_reason(model, id, via.as_deref(), *span))
                }
                crate::model::Rule::Require { .. } => None,
            });
            for r in reasons.chain([eval::no_allow_reason(model, id)]) {
                let names: Arc<[Arc<str>]> =
                    eval::facts_read(model, &r).into_iter().map(|f| Arc::from(model.fact_name(f))).collect();
                reads.insert((r.decision, r.code, r.location), names);
            }
        }
        Self { facts, constant, policy, direct, guardian_source, guardian_sources, bools, relationships, reads }
    }

    /// The names of the facts the rule behind `reason` reads (see [`eval::facts_read`]).
    pub fn facts_read(&self, reason: &eval::Reason) -> Arc<[Arc<str>]> {
        let key = (reason.decision.clone(), reason.code.clone(), reason.location.clone());
        self.reads.get(&key).cloned().unwrap_or_else(|| Arc::from([]))
    }

    /// The provenance of `decision` for a user (and guardian), in the order the decision
    /// consults its facts. `effective` gives the user's effective instance of a policy type.
    pub fn provenance(
        &self,
        model: &Model,
        decision: usize,
        user: UserId,
        guardian: Option<GuardianId>,
        effective: impl Fn(TypeId) -> Effective,
    ) -> Vec<Provenance> {
        let Some(facts) = self.facts.get(decision) else { return Vec::new() };
        let dir = &model.directory;
        // The pair's packed facts, found on the first guardian fact.
        let mut key: Option<Option<u32>> = None;
        let mut user_source: Option<Arc<str>> = None;
        let mut out = Vec::with_capacity(facts.len());
        for (f, name) in facts.iter() {
            let prepared = match *f {
                Fact::Tenant { .. } | Fact::Directory(_) => self.constant.get(f),
                Fact::Policy { ptype, setting } => match effective(ptype) {
                    // A direct assignment is the user's own line: its source names it.
                    e if e.via == Via::Direct => match self.direct.get(&(ptype, setting, e.instance)) {
                        Some((r, tail)) => {
                            let how = eval::how_held(model, ptype, e, user);
                            let source = format!("{}{how}{tail}", r.source).into();
                            out.push(Provenance {
                                setting: name.clone(),
                                value: r.value.clone(),
                                source,
                                shown: r.shown.clone(),
                            });
                            continue;
                        }
                        None => None,
                    },
                    e => self.policy.get(&(ptype, setting, e)),
                },
                Fact::User(_) | Fact::Guardian(_) => None,
            };
            if let Some(r) = prepared {
                out.push(r.provenance(name));
                continue;
            }
            let (value, source) = match *f {
                Fact::User(a) => {
                    // Shared by the user's facts, unless an assumption concerns some of them.
                    let source = if model.directory.assumed().is_empty() {
                        user_source.get_or_insert_with(|| eval::fact_source(model, user, *f).into())
                    } else {
                        &Arc::from(eval::fact_source(model, user, *f))
                    };
                    (user_attr(model, user, a), source.clone())
                }
                Fact::Guardian(a) => {
                    let packed = *key.get_or_insert_with(|| {
                        let gi = guardian?;
                        Some(GuardianKey::of(dir, user, gi, dir.guardian_at(gi)))
                    });
                    match packed {
                        Some(packed) => {
                            let source = self.guardian_sources.get(f).unwrap_or(&self.guardian_source).clone();
                            (GuardianKey::attr(model, packed, a), source)
                        }
                        None => continue,
                    }
                }
                Fact::Policy { ptype, setting } => {
                    out.push(policy_provenance(model, ptype, setting, effective(ptype), user));
                    continue;
                }
                other => {
                    out.push(eval::provenance_value(model, user, guardian, other));
                    continue;
                }
            };
            let (value, shown) = match value {
                Value::Bool(b) => self.bools[usize::from(b)].clone(),
                Value::Enum(e, i) if e == model.relationship_enum => {
                    self.relationships.get(i as usize).cloned().unwrap_or_else(|| render(model, &value))
                }
                ref v => render(model, v),
            };
            out.push(Provenance { setting: name.clone(), value, source, shown });
        }
        out
    }
}

/// A value as JSON and as shown.
fn render(model: &Model, v: &Value) -> (Arc<serde_json::Value>, Arc<str>) {
    (Arc::new(model.to_json(v)), model.show(v).into())
}

/// A policy setting's value and source for `user`, a holder of `effective`.
fn policy_provenance(
    model: &Model,
    ptype: TypeId,
    setting: SettingId,
    effective: Effective,
    user: UserId,
) -> Provenance {
    let v = model.policy_types[ptype].value(effective.instance, setting);
    Provenance {
        setting: model.fact_name(Fact::Policy { ptype, setting }).into(),
        value: Arc::new(model.to_json(v)),
        source: eval::policy_source(model, ptype, effective, setting, user).into(),
        shown: model.show(v).into(),
    }
}
