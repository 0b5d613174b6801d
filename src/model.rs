//! The checked model: every name resolved to an index, every value typed. Built only by
//! [`crate::check`]; read by the compiler and by the reference evaluator.

use crate::ast::CmpOp;
use crate::directory::{Directory, GroupId, GuardianId, Relationship, UserId};
use crate::source::{SourceMap, Span};
use indexmap::IndexMap;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

pub type EnumId = usize;
pub type TypeId = usize;
pub type ConfigId = usize;
pub type SettingId = usize;
pub type InstanceId = usize;
pub type DecisionId = usize;

/// Name of the built-in enum of guardian relationships.
pub const RELATIONSHIP_ENUM: &str = "Relationship";

#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Ty {
    Bool,
    Int,
    Str,
    Enum(EnumId),
    Set(Box<Ty>),
}

/// A typed value. Sets are sorted and free of duplicates so equal sets compare equal.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum Value {
    Bool(bool),
    Int(i64),
    Str(Arc<str>),
    Enum(EnumId, u32),
    Set(Arc<[Value]>),
}

impl Value {
    pub fn set(mut items: Vec<Value>) -> Value {
        items.sort();
        items.dedup();
        Value::Set(items.into())
    }

    pub fn as_bool(&self) -> bool {
        matches!(self, Value::Bool(true))
    }
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct EnumDef {
    pub name: String,
    pub variants: Vec<String>,
    /// `None` for built-in enums.
    pub span: Option<Span>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Setting {
    pub name: String,
    pub ty: Ty,
    pub default: Value,
    pub span: Span,
}

/// Settings of a policy type or configuration object.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Schema {
    pub name: String,
    pub settings: IndexMap<String, Setting>,
    pub span: Span,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Instance {
    /// `Global` or the custom name without its `Tag:` prefix.
    pub name: String,
    pub locked: bool,
    /// Explicit values by setting; `None` means the type's default.
    pub values: Vec<Option<(Value, Span)>>,
    /// `None` for an implicit `Global` that no file wrote.
    pub span: Option<Span>,
}

impl Instance {
    /// `Global` or `Tag:Name`, as Teams shows identities.
    pub fn identity(&self) -> String {
        if self.name == "Global" { self.name.clone() } else { format!("Tag:{}", self.name) }
    }
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct GroupAssignment {
    /// Index into [`Directory::groups`].
    pub group: GroupId,
    /// The rank as written; `None` ranks after every ranked assignment.
    pub rank: Option<i64>,
    pub instance: InstanceId,
    pub span: Span,
}

impl GroupAssignment {
    /// Sort key: lower is higher precedence; unranked assignments come last, in file order.
    pub fn precedence(&self) -> (bool, i64) {
        (self.rank.is_none(), self.rank.unwrap_or(i64::MAX))
    }
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PolicyType {
    pub schema: Schema,
    pub direct_only: bool,
    pub instances: IndexMap<String, Instance>,
    pub global: InstanceId,
    /// Direct assignments by user index.
    pub direct: HashMap<UserId, (InstanceId, Span), foldhash::fast::RandomState>,
    /// Group assignments, best precedence first.
    pub groups: Vec<GroupAssignment>,
}

impl PolicyType {
    /// A setting's value in an instance: the instance's own, else the type's default.
    pub fn value(&self, instance: InstanceId, setting: SettingId) -> &Value {
        match &self.instances[instance].values[setting] {
            Some((v, _)) => v,
            None => &self.schema.settings[setting].default,
        }
    }
}

/// Where a tenant configuration value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ConfigSource {
    Default,
    Tenant(Span),
    /// Set from the date the tenant is evaluated as of (`--as-of`, see [`crate::as_of`]).
    AsOf(jiff::civil::Date),
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Config {
    pub schema: Schema,
    pub values: Vec<(Value, ConfigSource)>,
}

/// Directory attributes of the user a decision is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum UserAttr {
    Enabled,
    Roles,
    Licenses,
    Groups,
    OwnsClassTeam,
    InClassTeam,
    InvitesSent,
}

/// Tenant-wide facts derived from the directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum DirectoryAttr {
    EnabledRoles,
    DisabledRoles,
}

/// Attributes of the guardian a decision is about, some relative to the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum GuardianAttr {
    HasEmail,
    HasPhone,
    PhoneE164,
    Relationship,
    OnTeams,
    Blocked,
    Linked,
    OfUser,
}

macro_rules! named {
    ($t:ty, $rel:ident { $($v:ident => $n:literal : $ty:expr,)* }) => {
        impl $t {
            pub const ALL: &'static [$t] = &[$(<$t>::$v,)*];
            pub fn name(self) -> &'static str { match self { $(<$t>::$v => $n,)* } }
            pub fn parse(s: &str) -> Option<Self> { Self::ALL.iter().copied().find(|a| a.name() == s) }
            /// The attribute's type; `relationship` is the id of the built-in enum.
            pub fn ty(self, $rel: EnumId) -> Ty {
                let _ = $rel;
                match self { $(<$t>::$v => $ty,)* }
            }
        }
    };
}

named!(UserAttr, relationship {
    Enabled => "enabled": Ty::Bool,
    Roles => "roles": Ty::Set(Box::new(Ty::Str)),
    Licenses => "licenses": Ty::Set(Box::new(Ty::Str)),
    Groups => "groups": Ty::Set(Box::new(Ty::Str)),
    OwnsClassTeam => "owns_class_team": Ty::Bool,
    InClassTeam => "in_class_team": Ty::Bool,
    InvitesSent => "invites_sent": Ty::Int,
});

named!(DirectoryAttr, relationship {
    EnabledRoles => "enabled_roles": Ty::Set(Box::new(Ty::Str)),
    DisabledRoles => "disabled_roles": Ty::Set(Box::new(Ty::Str)),
});

named!(GuardianAttr, relationship {
    HasEmail => "has_email": Ty::Bool,
    HasPhone => "has_phone": Ty::Bool,
    PhoneE164 => "phone_e164": Ty::Bool,
    Relationship => "relationship": Ty::Enum(relationship),
    OnTeams => "on_teams": Ty::Bool,
    Blocked => "blocked": Ty::Bool,
    Linked => "linked": Ty::Bool,
    OfUser => "of_user": Ty::Bool,
});

/// Something a condition reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum Fact {
    Tenant { config: ConfigId, setting: SettingId },
    Policy { ptype: TypeId, setting: SettingId },
    User(UserAttr),
    Directory(DirectoryAttr),
    Guardian(GuardianAttr),
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Expr {
    Const(Value),
    Fact(Fact),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
}

impl Expr {
    /// Calls `f` on every fact the expression reads, in order.
    pub fn for_each_fact(&self, f: &mut impl FnMut(Fact)) {
        match self {
            Expr::Const(_) => {}
            Expr::Fact(fact) => f(*fact),
            Expr::Not(e) => e.for_each_fact(f),
            Expr::And(es) | Expr::Or(es) => es.iter().for_each(|e| e.for_each_fact(f)),
            Expr::Cmp(_, a, b) => {
                a.for_each_fact(f);
                b.for_each_fact(f);
            }
        }
    }
}

/// A piece of an admin-facing message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum MessagePart {
    Text(String),
    /// The identity of the user's effective instance of this policy type.
    Policy(TypeId),
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Verdict {
    pub code: Arc<str>,
    pub message: Vec<MessagePart>,
    /// When the rule fires (`unless` conditions are stored negated); `None` fires always.
    pub fires: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum Rule {
    Require { decision: DecisionId, span: Span },
    Deny(Verdict),
    Warn(Verdict),
    Allow { via: Option<Arc<str>>, when: Option<Expr>, span: Span },
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Decision {
    pub name: String,
    pub has_guardian: bool,
    pub rules: Vec<Rule>,
    pub span: Span,
    /// Every fact this decision reads, its required decisions' included, without duplicates.
    pub consulted: Vec<Fact>,
}

/// What an expectation asserts.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Expected {
    /// Allowed, through the given channel if one is named.
    Allow { via: Option<Arc<str>> },
    /// Denied, with this deciding reason if one is named.
    Deny { code: Option<Arc<str>> },
}

/// A policy test: `expect "upn" decision ["guardian"] allow|deny ...`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Expectation {
    pub user: UserId,
    pub decision: DecisionId,
    pub guardian: Option<GuardianId>,
    pub expected: Expected,
    pub span: Span,
}

/// A checked policy set bound to its directory. Immutable once built.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Model {
    /// Stored beside the model in a bundle, the directory file's text left out (see
    /// [`crate::bundle`]).
    #[serde(skip)]
    pub sources: SourceMap,
    /// Shared: a what-if or a fix clones the model, and most changes leave the directory alone.
    pub directory: Arc<Directory>,
    pub enums: IndexMap<String, EnumDef>,
    pub policy_types: IndexMap<String, PolicyType>,
    pub configs: IndexMap<String, Config>,
    pub decisions: crate::directory::NameMap<Decision>,
    pub expectations: Vec<Expectation>,
    pub relationship_enum: EnumId,
}

impl Model {
    /// Shows a value as policy files write it.
    pub fn show(&self, value: &Value) -> String {
        ShowValue(self, value).to_string()
    }

    /// The value in JSON, with enum values as their names.
    pub fn to_json(&self, value: &Value) -> serde_json::Value {
        match value {
            Value::Bool(b) => (*b).into(),
            Value::Int(i) => (*i).into(),
            Value::Str(s) => s.as_ref().into(),
            Value::Enum(..) => self.show(value).into(),
            Value::Set(items) => items.iter().map(|v| self.to_json(v)).collect::<Vec<_>>().into(),
        }
    }

    pub fn relationship_value(&self, r: Relationship) -> Value {
        Value::Enum(self.relationship_enum, r.index() as u32)
    }

    /// `user.TeamsMessagingPolicy.AllowUserChat` and the like.
    /// The type of a fact's value.
    pub fn fact_type(&self, fact: Fact) -> Ty {
        match fact {
            Fact::Tenant { config, setting } => self.configs[config].schema.settings[setting].ty.clone(),
            Fact::Policy { ptype, setting } => self.policy_types[ptype].schema.settings[setting].ty.clone(),
            Fact::User(a) => a.ty(self.relationship_enum),
            Fact::Directory(a) => a.ty(self.relationship_enum),
            Fact::Guardian(a) => a.ty(self.relationship_enum),
        }
    }

    pub fn fact_name(&self, fact: Fact) -> String {
        match fact {
            Fact::Tenant { config, setting } => {
                let c = &self.configs[config].schema;
                format!("tenant.{}.{}", c.name, setting_name(c, setting))
            }
            Fact::Policy { ptype, setting } => {
                let t = &self.policy_types[ptype].schema;
                format!("user.{}.{}", t.name, setting_name(t, setting))
            }
            Fact::User(a) => format!("user.{}", a.name()),
            Fact::Directory(a) => format!("directory.{}", a.name()),
            Fact::Guardian(a) => format!("guardian.{}", a.name()),
        }
    }

    /// `file:line:col` of a span.
    pub fn location(&self, span: Span) -> String {
        self.sources.location(span)
    }
}

fn setting_name(schema: &Schema, setting: SettingId) -> &str {
    schema.settings.get_index(setting).map_or("?", |(n, _)| n.as_str())
}

struct ShowValue<'a>(&'a Model, &'a Value);

impl fmt::Display for ShowValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1 {
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Enum(e, v) => {
                let name = self.0.enums.get_index(*e).and_then(|(_, d)| d.variants.get(*v as usize));
                f.write_str(name.map_or("?", String::as_str))
            }
            Value::Set(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}", ShowValue(self.0, item))?;
                }
                f.write_str("]")
            }
        }
    }
}

/// Whether a model read from a bundle holds together: every index it holds names something,
/// every instance and configuration has a value slot per setting, and `require` chains end. The
/// checker builds models that do; a bundle damaged before it was summed might not, and the
/// evaluators index without asking (see [`crate::bundle`]).
impl Model {
    pub(crate) fn fits(&self) -> Result<(), String> {
        let users = self.directory.user_count();
        let groups = self.directory.group_count();
        let guardians = self.directory.guardian_count();
        let relationship = self.enums.get_index(self.relationship_enum).map_or(0, |(_, e)| e.variants.len());
        if relationship < Relationship::ALL.len() {
            return Err("the relationship enum is not the built-in one".into());
        }
        for (_, e) in &self.enums {
            if e.variants.is_empty() {
                return Err(format!("enum `{}` has no values", e.name));
            }
        }
        for (_, t) in &self.policy_types {
            self.schema_fits(&t.schema)?;
            let instances = t.instances.len();
            let instance_fits = t.instances.values().all(|i| {
                i.values.len() == t.schema.settings.len() && i.values.iter().flatten().all(|(v, _)| self.value_fits(v))
            });
            let direct_fits = t.direct.iter().all(|(u, (i, _))| u.index() < users && *i < instances);
            let groups_fit = t.groups.iter().all(|g| g.group.index() < groups && g.instance < instances);
            if !instance_fits || !direct_fits || !groups_fit || t.global >= instances {
                return Err(format!("policy type `{}` does not hold together", t.schema.name));
            }
        }
        for (_, c) in &self.configs {
            self.schema_fits(&c.schema)?;
            if c.values.len() != c.schema.settings.len() || !c.values.iter().all(|(v, _)| self.value_fits(v)) {
                return Err(format!("configuration `{}` does not hold together", c.schema.name));
            }
        }
        for (_, d) in &self.decisions {
            let rules_fit = d.rules.iter().all(|rule| match rule {
                Rule::Require { decision, .. } => *decision < self.decisions.len(),
                Rule::Deny(v) | Rule::Warn(v) => {
                    v.message.iter().all(|p| !matches!(p, MessagePart::Policy(t) if *t >= self.policy_types.len()))
                        && v.fires.as_ref().is_none_or(|e| self.expr_fits(e, 0))
                }
                Rule::Allow { when, .. } => when.as_ref().is_none_or(|e| self.expr_fits(e, 0)),
            });
            if !rules_fit || !d.consulted.iter().all(|f| self.fact_fits(*f)) {
                return Err(format!("decision `{}` does not hold together", d.name));
            }
        }
        let expectations_fit = self.expectations.iter().all(|e| {
            e.user.index() < users
                && e.decision < self.decisions.len()
                && e.guardian.is_none_or(|g| g.index() < guardians)
        });
        if !expectations_fit {
            return Err("an expectation names what is not there".into());
        }
        self.requires_end()
    }

    fn schema_fits(&self, schema: &Schema) -> Result<(), String> {
        if schema.settings.values().all(|s| self.ty_fits(&s.ty) && self.value_fits(&s.default)) {
            Ok(())
        } else {
            Err(format!("the settings of `{}` do not hold together", schema.name))
        }
    }

    fn ty_fits(&self, ty: &Ty) -> bool {
        match ty {
            Ty::Enum(e) => *e < self.enums.len(),
            Ty::Set(inner) => self.ty_fits(inner),
            Ty::Bool | Ty::Int | Ty::Str => true,
        }
    }

    fn value_fits(&self, value: &Value) -> bool {
        match value {
            Value::Enum(e, v) => self.enums.get_index(*e).is_some_and(|(_, d)| (*v as usize) < d.variants.len()),
            Value::Set(items) => items.iter().all(|v| self.value_fits(v)),
            Value::Bool(_) | Value::Int(_) | Value::Str(_) => true,
        }
    }

    fn fact_fits(&self, fact: Fact) -> bool {
        match fact {
            Fact::Tenant { config, setting } => {
                self.configs.get_index(config).is_some_and(|(_, c)| setting < c.schema.settings.len())
            }
            Fact::Policy { ptype, setting } => {
                self.policy_types.get_index(ptype).is_some_and(|(_, t)| setting < t.schema.settings.len())
            }
            Fact::User(_) | Fact::Directory(_) | Fact::Guardian(_) => true,
        }
    }

    /// Conditions nest no deeper than the parser lets them (see [`crate::syntax`]).
    fn expr_fits(&self, expr: &Expr, depth: usize) -> bool {
        depth < 256
            && match expr {
                Expr::Const(v) => self.value_fits(v),
                Expr::Fact(f) => self.fact_fits(*f),
                Expr::Not(e) => self.expr_fits(e, depth + 1),
                Expr::And(es) | Expr::Or(es) => es.iter().all(|e| self.expr_fits(e, depth + 1)),
                Expr::Cmp(_, a, b) => self.expr_fits(a, depth + 1) && self.expr_fits(b, depth + 1),
            }
    }

    /// `require` chains end: no decision requires itself through others.
    fn requires_end(&self) -> Result<(), String> {
        // 0: not seen, 1: on the current path, 2: done.
        let mut state = vec![0u8; self.decisions.len()];
        let requires = |d: usize| -> Vec<usize> {
            self.decisions[d]
                .rules
                .iter()
                .filter_map(|r| match r {
                    Rule::Require { decision, .. } => Some(*decision),
                    _ => None,
                })
                .collect()
        };
        for start in 0..self.decisions.len() {
            let mut stack = vec![(start, 0usize)];
            while let Some((d, next)) = stack.pop() {
                if next == 0 {
                    if state[d] == 2 {
                        continue;
                    }
                    state[d] = 1;
                }
                match requires(d).get(next) {
                    Some(&r) if state[r] == 1 => return Err("a decision requires itself".into()),
                    Some(&r) => {
                        stack.push((d, next + 1));
                        if state[r] == 0 {
                            stack.push((r, 0));
                        }
                    }
                    None => state[d] = 2,
                }
            }
        }
        Ok(())
    }
}
