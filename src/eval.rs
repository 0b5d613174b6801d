//! Outcomes of decisions, provenance of the settings they consulted, and the **reference
//! evaluator**: a direct, unoptimised walk over the checked model that the compiled table must
//! agree with on every query.
//!
//! What the two witnesses do differently: the reference resolves effective policies by scanning
//! every assignment in precedence order against the user's groups, reads directory facts by
//! scanning (group members, class teams, guardian links),
//! and evaluates required decisions recursively; the compiler uses per-group and per-user
//! indexes, profiles with projected attributes, per-decision rows and stored outcomes. What they
//! share, on purpose, is the meaning of a result: the value operators ([`compare`]), how rule
//! results combine into an outcome ([`conclude`], [`extend_unique`]) and how reasons and
//! provenance are worded. A bug there would not be caught by their agreement; the snapshot and
//! expectation tests cover it instead.

use crate::ast::CmpOp;
use crate::directory::{GroupId, GuardianId, UserId};
use crate::model::{
    ConfigSource, DecisionId, DirectoryAttr, Fact, GuardianAttr, InstanceId, MessagePart, Model, TypeId, UserAttr,
    Value, Verdict,
};
use crate::model::{Expr, Rule};
use crate::source::Span;
use serde::Serialize;
use std::sync::Arc;

/// Reason code of a decision that nothing blocked but no `allow` rule matched.
pub const NO_ALLOW_RULE: &str = "NO_ALLOW_RULE";
/// Reason code of an allow.
pub const ALLOW: &str = "ALLOW";

/// A rule that decided, blocked or warned.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
pub struct Reason {
    /// The rule's reason code (`CONSUMER_OFF_TENANT`), or `ALLOW` / `NO_ALLOW_RULE`.
    pub code: Arc<str>,
    /// The admin-facing message, placeholders filled in.
    pub message: Arc<str>,
    /// The decision the rule belongs to (a required decision's blockers keep their origin).
    pub decision: Arc<str>,
    /// `file:line:col` of the rule.
    pub location: Arc<str>,
}

/// What a decision came to for one (user, guardian).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
pub struct Outcome {
    /// Whether the decision allows.
    pub allowed: bool,
    /// The channel named by the deciding `allow via ...`, if any.
    pub channel: Option<Arc<str>>,
    /// The deciding rule: the matching allow, or the first blocker.
    pub reason: Reason,
    /// Every blocker, in rule order (required decisions' blockers where they were required).
    pub blockers: Vec<Reason>,
    /// Every warning that fired.
    pub warnings: Vec<Reason>,
}

/// How a user came to hold an instance of a policy type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
pub enum Via {
    /// Assigned to the user directly.
    Direct,
    /// Group index and the rank as written (`None`: unranked).
    Group(GroupId, Option<i64>),
    /// No assignment: the org-wide default.
    Global,
}

/// The effective instance of one policy type for one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
pub struct Effective {
    /// The instance the user holds.
    pub instance: InstanceId,
    /// How the user came to hold it.
    pub via: Via,
}

/// One consulted setting or attribute: its value and where the value came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Provenance {
    /// The setting or attribute, as policy files name it (`user.ExternalAccessPolicy.EnableTeamsConsumerAccess`).
    pub setting: Arc<str>,
    /// Its value, as JSON.
    pub value: Arc<serde_json::Value>,
    /// Where the value came from: the instance and how the user holds it, the tenant line, the
    /// directory entry or the export row.
    pub source: Arc<str>,
    /// The value as policy files write it (`Allowed`, `"Parents"`, `[]`), for text output.
    #[serde(skip)]
    pub shown: Arc<str>,
}

// ------------------------------------------------------------------------------------------
// Value operators, shared by both evaluators

/// Applies a comparison. The checker guarantees operand types match.
pub fn compare(op: CmpOp, a: &Value, b: &Value) -> bool {
    match op {
        CmpOp::Eq => a == b,
        CmpOp::Ne => a != b,
        CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge => {
            let (Value::Int(x), Value::Int(y)) = (a, b) else { return false };
            match op {
                CmpOp::Lt => x < y,
                CmpOp::Le => x <= y,
                CmpOp::Gt => x > y,
                _ => x >= y,
            }
        }
        CmpOp::In => matches!(b, Value::Set(items) if items.binary_search(a).is_ok()),
        CmpOp::Intersects => match (a, b) {
            (Value::Set(x), Value::Set(y)) => x.iter().any(|v| y.binary_search(v).is_ok()),
            _ => false,
        },
    }
}

/// Renders a message, naming effective instances through `identity`.
pub fn render_message(parts: &[MessagePart], mut identity: impl FnMut(TypeId) -> String) -> String {
    let mut out = String::new();
    for part in parts {
        match part {
            MessagePart::Text(t) => out.push_str(t),
            MessagePart::Policy(t) => out.push_str(&identity(*t)),
        }
    }
    out
}

/// The reason for a fired `deny` or `warn`.
pub fn verdict_reason(
    model: &Model,
    decision: DecisionId,
    v: &Verdict,
    identity: impl FnMut(TypeId) -> String,
) -> Reason {
    Reason {
        code: v.code.clone(),
        message: render_message(&v.message, identity).into(),
        decision: model.decisions[decision].name.as_str().into(),
        location: model.location(v.span).into(),
    }
}

/// The reason of a decision that allows (by its `allow` rule at `span`).
pub fn allow_reason(model: &Model, decision: DecisionId, via: Option<&str>, span: Span) -> Reason {
    let name = &model.decisions[decision].name;
    let message = match via {
        Some(c) => format!("`{name}` allows via {c}"),
        None => format!("`{name}` allows"),
    };
    Reason {
        code: ALLOW.into(),
        message: message.into(),
        decision: name.as_str().into(),
        location: model.location(span).into(),
    }
}

/// The facts the rule behind `reason` reads: a blocker's or warning's condition, the deciding
/// `allow` rule's, or for "no allow rule" every `allow` rule's. This is a blocker's cause,
/// which explanations list first. Rules are told apart by code and location.
pub fn facts_read(model: &Model, reason: &Reason) -> std::collections::BTreeSet<Fact> {
    let mut facts = std::collections::BTreeSet::new();
    let Some(d) = model.decisions.get(&*reason.decision) else { return facts };
    let mut add = |e: &Option<Expr>| {
        if let Some(e) = e {
            e.for_each_fact(&mut |f| {
                facts.insert(f);
            });
        }
    };
    for rule in &d.rules {
        match rule {
            Rule::Deny(v) | Rule::Warn(v) if v.code == reason.code && *model.location(v.span) == *reason.location => {
                add(&v.fires)
            }
            Rule::Allow { when, span, .. }
                if (&*reason.code == ALLOW && *model.location(*span) == *reason.location)
                    || &*reason.code == NO_ALLOW_RULE =>
            {
                add(when)
            }
            _ => {}
        }
    }
    facts
}

/// The reason of a decision none of whose rules allowed.
pub fn no_allow_reason(model: &Model, decision: DecisionId) -> Reason {
    let d = &model.decisions[decision];
    Reason {
        code: NO_ALLOW_RULE.into(),
        message: format!("no `allow` rule of `{}` matched", d.name).into(),
        decision: d.name.as_str().into(),
        location: model.location(d.span).into(),
    }
}

/// Combines what a decision's rules produced into its outcome.
pub fn conclude(
    model: &Model,
    decision: DecisionId,
    mut blockers: Vec<Reason>,
    warnings: Vec<Reason>,
    allow: Option<(Option<Arc<str>>, Span)>,
) -> Outcome {
    if let Some(first) = blockers.first() {
        return Outcome { allowed: false, channel: None, reason: first.clone(), blockers, warnings };
    }
    match allow {
        Some((channel, span)) => Outcome {
            allowed: true,
            reason: allow_reason(model, decision, channel.as_deref(), span),
            channel,
            blockers,
            warnings,
        },
        None => {
            let reason = no_allow_reason(model, decision);
            blockers.push(reason.clone());
            Outcome { allowed: false, channel: None, reason, blockers, warnings }
        }
    }
}

/// Appends reasons not already present (a decision required along two paths counts once).
pub fn extend_unique(into: &mut Vec<Reason>, from: &[Reason]) {
    for r in from {
        if !into.contains(r) {
            into.push(r.clone());
        }
    }
}

// ------------------------------------------------------------------------------------------
// Provenance text, shared by both evaluators so their explanations can be compared

/// Describes where a policy setting's value came from for `user`: the instance, how the user
/// holds it (with where the assignment was written), and where the value was set.
pub fn policy_source(model: &Model, ptype: TypeId, eff: Effective, setting: usize, user: UserId) -> String {
    let (head, tail) = policy_source_around(model, ptype, eff.instance, setting);
    format!("{head}{}{tail}", how_held(model, ptype, eff, user))
}

/// The parts of [`policy_source`] that don't depend on how the instance is held: `Type
/// Identity[, locked], ` and `; set at …`.
pub(crate) fn policy_source_around(
    model: &Model,
    ptype: TypeId,
    instance: InstanceId,
    setting: usize,
) -> (String, String) {
    let t = &model.policy_types[ptype];
    let inst = &t.instances[instance];
    let lock = if inst.locked { ", locked" } else { "" };
    let value = match inst.values.get(setting).and_then(Option::as_ref) {
        Some((_, span)) => format!("set at {}", model.location(*span)),
        None => format!("type default ({} does not set it)", inst.identity()),
    };
    (format!("{} {}{lock}, ", t.schema.name, inst.identity()), format!("; {value}"))
}

/// How `user` holds the instance `eff` names, with where the assignment was written.
pub(crate) fn how_held(model: &Model, ptype: TypeId, eff: Effective, user: UserId) -> String {
    let t = &model.policy_types[ptype];
    match eff.via {
        Via::Direct => match t.direct.get(&user) {
            Some((_, span)) => format!("assigned directly at {}", model.location(*span)),
            None => "assigned directly".to_string(),
        },
        Via::Group(g, rank) => {
            let gid = model.directory.group_at(g).id.as_str();
            let rank = rank.map_or_else(|| "unranked".to_string(), |r| format!("rank {r}"));
            match t.groups.iter().find(|a| a.group == g && a.instance == eff.instance) {
                Some(a) => format!("via group {gid} ({rank}, assigned at {})", model.location(a.span)),
                None => format!("via group {gid} ({rank})"),
            }
        }
        Via::Global => "the org-wide default (no direct or group assignment)".to_string(),
    }
}

/// Where a tenant setting's value came from: the tenant file, the date, or the default.
pub fn tenant_source(model: &Model, config: usize, setting: usize) -> String {
    let c = &model.configs[config];
    match c.values[setting].1 {
        ConfigSource::Tenant(span) => format!("tenant {} at {}", c.schema.name, model.location(span)),
        ConfigSource::Default => format!(
            "default of configuration {} (the tenant does not set it){}",
            c.schema.name,
            assumed(model, Fact::Tenant { config, setting })
        ),
        ConfigSource::AsOf(day) => {
            let name = c.schema.settings.get_index(setting).map_or("", |(n, _)| n.as_str());
            crate::as_of::source(name, day)
        }
    }
}

// ------------------------------------------------------------------------------------------
// The reference evaluator: the test oracle (feature `reference`). Its fact and source readers
// also serve the table's provenance for tenant and directory facts, so they are always built.

/// Evaluates `decision` for a user (and guardian) by walking the model directly.
#[cfg(feature = "reference")]
pub fn evaluate(model: &Model, user: UserId, decision: DecisionId, guardian: Option<GuardianId>) -> Outcome {
    Reference { model, user, guardian, overrides: &[] }.decision(decision)
}

/// Evaluates `decision` as [`evaluate`] does, with some facts read as `overrides` say instead:
/// how `tenet fix` asks "what if these facts were otherwise?" before it looks for the changes
/// that make them so.
pub(crate) fn evaluate_assuming(
    model: &Model,
    user: UserId,
    decision: DecisionId,
    guardian: Option<GuardianId>,
    overrides: &[(Fact, Value)],
) -> Outcome {
    Reference { model, user, guardian, overrides }.decision(decision)
}

/// The effective instance by the precedence rules, found by scanning assignments.
pub fn effective(model: &Model, user: UserId, ptype: TypeId) -> Effective {
    let t = &model.policy_types[ptype];
    if let Some((instance, _)) = t.direct.get(&user) {
        return Effective { instance: *instance, via: Via::Direct };
    }
    // `groups` is kept in precedence order, so the first group the user is in wins. The user's
    // own few groups are compared with each assignment in turn (a scan of one short list, where
    // a look-up in every group's member list would miss the cache on each).
    let mine = model.directory.user_at(user).groups();
    for a in &t.groups {
        if mine.contains(a.group) {
            return Effective { instance: a.instance, via: Via::Group(a.group, a.rank) };
        }
    }
    Effective { instance: t.global, via: Via::Global }
}

/// Provenance of every fact `decision` consults, by the reference path.
#[cfg(feature = "reference")]
pub fn provenance(model: &Model, user: UserId, decision: DecisionId, guardian: Option<GuardianId>) -> Vec<Provenance> {
    model.decisions[decision]
        .consulted
        .iter()
        .filter(|f| guardian.is_some() || !matches!(f, Fact::Guardian(_)))
        .map(|f| provenance_value(model, user, guardian, *f))
        .collect()
}

/// The value of one fact for a user (and guardian), and where it came from.
pub fn provenance_value(model: &Model, user: UserId, guardian: Option<GuardianId>, fact: Fact) -> Provenance {
    let r = Reference { model, user, guardian, overrides: &[] };
    let value = r.fact(fact);
    Provenance {
        setting: model.fact_name(fact).into(),
        value: Arc::new(model.to_json(&value)),
        source: r.source(fact).into(),
        shown: model.show(&value).into(),
    }
}

/// The value of one fact for a user (and guardian), read the reference evaluator's way.
pub(crate) fn fact_value(model: &Model, user: UserId, guardian: Option<GuardianId>, fact: Fact) -> Value {
    Reference { model, user, guardian, overrides: &[] }.fact(fact)
}

/// Where a fact's value comes from, as provenance names it.
pub fn fact_source(model: &Model, user: UserId, fact: Fact) -> String {
    Reference { model, user, guardian: None, overrides: &[] }.source(fact)
}

struct Reference<'a> {
    model: &'a Model,
    user: UserId,
    guardian: Option<GuardianId>,
    /// Facts read as given here rather than from the model.
    overrides: &'a [(Fact, Value)],
}

impl Reference<'_> {
    fn decision(&self, d: DecisionId) -> Outcome {
        let mut blockers = Vec::new();
        let mut warnings = Vec::new();
        let mut allow = None;
        for rule in &self.model.decisions[d].rules {
            match rule {
                Rule::Require { decision, .. } => {
                    let sub = self.decision(*decision);
                    if !sub.allowed {
                        extend_unique(&mut blockers, &sub.blockers);
                    }
                    extend_unique(&mut warnings, &sub.warnings);
                }
                Rule::Deny(v) if self.fires(v.fires.as_ref()) => {
                    extend_unique(&mut blockers, &[self.reason(d, v)]);
                }
                Rule::Warn(v) if self.fires(v.fires.as_ref()) => {
                    extend_unique(&mut warnings, &[self.reason(d, v)]);
                }
                Rule::Allow { via, when, span } if allow.is_none() && self.fires(when.as_ref()) => {
                    allow = Some((via.clone(), *span));
                }
                _ => {}
            }
        }
        conclude(self.model, d, blockers, warnings, allow)
    }

    fn reason(&self, d: DecisionId, v: &Verdict) -> Reason {
        verdict_reason(self.model, d, v, |t| {
            let e = effective(self.model, self.user, t);
            self.model.policy_types[t].instances[e.instance].identity()
        })
    }

    fn fires(&self, e: Option<&Expr>) -> bool {
        e.is_none_or(|e| self.eval(e).as_bool())
    }

    fn eval(&self, e: &Expr) -> Value {
        match e {
            Expr::Const(v) => v.clone(),
            Expr::Fact(f) => self.fact(*f),
            Expr::Not(x) => Value::Bool(!self.eval(x).as_bool()),
            Expr::And(xs) => Value::Bool(xs.iter().all(|x| self.eval(x).as_bool())),
            Expr::Or(xs) => Value::Bool(xs.iter().any(|x| self.eval(x).as_bool())),
            Expr::Cmp(op, a, b) => Value::Bool(compare(*op, &self.eval(a), &self.eval(b))),
        }
    }

    fn fact(&self, f: Fact) -> Value {
        if let Some((_, v)) = self.overrides.iter().find(|(o, _)| *o == f) {
            return v.clone();
        }
        let m = self.model;
        let dir = &m.directory;
        let strings = |v: &[Arc<str>]| Value::set(v.iter().map(|s| Value::Str(s.clone())).collect());
        match f {
            Fact::Tenant { config, setting } => m.configs[config].values[setting].0.clone(),
            Fact::Policy { ptype, setting } => {
                let e = effective(m, self.user, ptype);
                m.policy_types[ptype].value(e.instance, setting).clone()
            }
            Fact::User(a) => {
                let u = dir.user_at(self.user);
                match a {
                    UserAttr::Enabled => Value::Bool(u.enabled),
                    UserAttr::Roles => strings(&u.roles),
                    UserAttr::Licenses => strings(&u.licenses),
                    UserAttr::Groups => {
                        let ids: Vec<Arc<str>> = dir
                            .groups()
                            .filter(|(_, g)| g.members.binary_search(&self.user).is_ok())
                            .map(|(_, g)| g.id.as_str().into())
                            .collect();
                        strings(&ids)
                    }
                    UserAttr::OwnsClassTeam => {
                        Value::Bool(dir.class_teams().any(|(_, c)| c.owners.contains(&self.user)))
                    }
                    UserAttr::InClassTeam => {
                        Value::Bool(dir.class_teams().any(|(_, c)| c.students.contains(&self.user)))
                    }
                    UserAttr::InvitesSent => Value::Int(u.invites_sent),
                }
            }
            Fact::Directory(a) => {
                let enabled = a == DirectoryAttr::EnabledRoles;
                let mut roles: Vec<Arc<str>> = dir
                    .users()
                    .filter(|(_, u)| u.enabled == enabled)
                    .flat_map(|(_, u)| u.roles.iter().cloned())
                    .collect();
                // Roles assumed for lack of a roles export count as held by an enabled user.
                if enabled {
                    roles.extend(
                        dir.assumed().iter().flat_map(|a| a.enabled_roles.iter().map(|r| Arc::from(r.as_str()))),
                    );
                }
                strings(&roles)
            }
            Fact::Guardian(a) => self.guardian_fact(a),
        }
    }

    fn guardian_fact(&self, a: GuardianAttr) -> Value {
        let m = self.model;
        let Some(g) = self.guardian.map(|g| m.directory.guardian_at(g)) else {
            return Value::Bool(false);
        };
        // Found by scanning class teams, independently of the directory's own indexes.
        let dir = &m.directory;
        let own = g.links().iter().find(|l| l.student == self.user);
        let taught = g
            .links()
            .iter()
            .find(|l| dir.class_teams().any(|(_, c)| c.owners.contains(&self.user) && c.students.contains(&l.student)));
        match a {
            GuardianAttr::HasEmail => Value::Bool(g.email().is_some()),
            GuardianAttr::HasPhone => Value::Bool(g.phone().is_some()),
            GuardianAttr::PhoneE164 => Value::Bool(g.phone_e164),
            GuardianAttr::OnTeams => Value::Bool(g.on_teams),
            GuardianAttr::Blocked => {
                Value::Bool(self.guardian.is_some_and(|gi| m.directory.user_at(self.user).blocked().contains(gi)))
            }
            GuardianAttr::Linked => Value::Bool(taught.is_some()),
            GuardianAttr::OfUser => Value::Bool(own.is_some()),
            GuardianAttr::Relationship => {
                let r = own.or(taught).or(g.links().first()).map(|l| l.relationship);
                m.relationship_value(r.unwrap_or(crate::directory::Relationship::Other))
            }
        }
    }

    fn source(&self, f: Fact) -> String {
        let m = self.model;
        match f {
            Fact::Tenant { config, setting } => tenant_source(m, config, setting),
            Fact::Policy { ptype, setting } => {
                policy_source(m, ptype, effective(m, self.user, ptype), setting, self.user)
            }
            Fact::User(_) => format!("directory: user {}{}", m.directory.user_at(self.user).upn(), assumed(m, f)),
            Fact::Directory(_) => format!("directory: all users{}", assumed(m, f)),
            Fact::Guardian(_) => format!("directory: the guardian's record{}", assumed(m, f)),
        }
    }
}

/// What is assumed about `fact` for lack of an export: `; assumed: …` for each assumption that
/// concerns it (see [`crate::directory::Assumption`]), or nothing.
pub(crate) fn assumed(m: &Model, fact: Fact) -> String {
    if m.directory.assumed().is_empty() {
        return String::new();
    }
    let name = m.fact_name(fact);
    m.directory.assumed().iter().filter(|a| a.concerns(&name)).map(|a| format!("; assumed: {}", a.because)).collect()
}
