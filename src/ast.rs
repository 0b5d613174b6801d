//! The abstract syntax tree: plain data with a span on every node and no parser types.

use crate::source::Span;

/// A name as written, with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// One parsed policy file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct File {
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Enum(EnumDef),
    PolicyType(SchemaDef),
    Configuration(SchemaDef),
    TenantValues(TenantValues),
    Instance(InstanceDef),
    Assignment(Assignment),
    Decision(DecisionDef),
    Expect(Expectation),
}

/// `expect "upn" decision ["guardian"] allow [via channel]` / `deny [CODE]`
#[derive(Debug, Clone, PartialEq)]
pub struct Expectation {
    pub user: Ident,
    pub decision: Ident,
    pub guardian: Option<Ident>,
    pub outcome: Expected,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expected {
    Allow { via: Option<Ident> },
    Deny { code: Option<Ident> },
}

#[derive(Debug, Clone, PartialEq)]
pub struct EnumDef {
    pub name: Ident,
    pub variants: Vec<Ident>,
    pub span: Span,
}

/// A policy type or a configuration object: named, typed settings with defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaDef {
    pub name: Ident,
    /// `direct only`: never assignable to groups (policy types only).
    pub direct_only: Option<Span>,
    pub settings: Vec<SettingDecl>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SettingDecl {
    pub name: Ident,
    pub ty: TypeRef,
    pub default: Value,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TypeRef {
    /// `bool`, `int`, `string` or an enum name.
    Named(Ident),
    /// `set<elem>`
    Set(Ident, Span),
}

impl TypeRef {
    pub fn span(&self) -> Span {
        match self {
            TypeRef::Named(i) => i.span,
            TypeRef::Set(_, s) => *s,
        }
    }
}

/// A literal value, or a bare name (an enum variant resolved by the checker).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Bool(bool, Span),
    Int(i64, Span),
    Str(String, Span),
    Name(Ident),
    List(Vec<Value>, Span),
}

impl Value {
    pub fn span(&self) -> Span {
        match self {
            Value::Bool(_, s) | Value::Int(_, s) | Value::Str(_, s) | Value::List(_, s) => *s,
            Value::Name(i) => i.span,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SettingValue {
    pub name: Ident,
    pub value: Value,
    pub span: Span,
}

/// `tenant Config { Setting = value }`
#[derive(Debug, Clone, PartialEq)]
pub struct TenantValues {
    pub config: Ident,
    pub values: Vec<SettingValue>,
    pub span: Span,
}

/// `[locked] policy Type "Identity" { ... }`
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceDef {
    pub locked: Option<Span>,
    pub policy_type: Ident,
    /// The identity as written (`Global`, `Teachers` or `Tag:Teachers`).
    pub identity: Ident,
    pub values: Vec<SettingValue>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    User(Ident),
    Group { group: Ident, rank: Option<(i64, Span)> },
}

/// `assign Type "Identity" to user "upn"` or `... to group "id" rank N`
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    pub policy_type: Ident,
    pub identity: Ident,
    pub target: Target,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DecisionDef {
    pub name: Ident,
    pub params: Vec<Ident>,
    pub rules: Vec<Rule>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    Require { decision: Ident, args: Vec<Ident>, span: Span },
    Deny(Verdict),
    Warn(Verdict),
    Allow { via: Option<Ident>, when: Option<Expr>, span: Span },
}

impl Rule {
    pub fn span(&self) -> Span {
        match self {
            Rule::Require { span, .. } | Rule::Allow { span, .. } => *span,
            Rule::Deny(v) | Rule::Warn(v) => v.span,
        }
    }
}

/// The body of a `deny` or `warn` rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub code: Ident,
    pub message: Ident,
    pub condition: Option<Condition>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    If(Expr),
    Unless(Expr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    Intersects,
}

impl CmpOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::In => "in",
            CmpOp::Intersects => "intersects",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Or(Vec<Expr>, Span),
    And(Vec<Expr>, Span),
    Not(Box<Expr>, Span),
    Cmp {
        op: CmpOp,
        op_span: Span,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
        span: Span,
    },
    Literal(Value),
    /// A dotted path such as `user.TeamsMessagingPolicy.AllowUserChat`, or a bare name.
    Path(Vec<Ident>, Span),
}

impl Expr {
    pub fn span(&self) -> Span {
        match self {
            Expr::Or(_, s) | Expr::And(_, s) | Expr::Not(_, s) | Expr::Path(_, s) => *s,
            Expr::Cmp { span, .. } => *span,
            Expr::Literal(v) => v.span(),
        }
    }
}
