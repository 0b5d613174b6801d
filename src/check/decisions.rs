//! Decisions: parameters, rules, conditions (name resolution and types), message placeholders,
//! `require` cycles and decisions that can never allow.

use super::Cx;
use super::schema::{enum_variant, resolve_value, type_name};
use crate::ast::{self, CmpOp, Item};
use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::model::{
    Decision, DirectoryAttr, Expr, Fact, GuardianAttr, MessagePart, Rule, Ty, UserAttr, Value, Verdict,
};
use crate::source::Span;

fn decision_defs(files: &[ast::File]) -> impl Iterator<Item = &ast::DecisionDef> {
    files.iter().flat_map(|f| &f.items).filter_map(|i| match i {
        Item::Decision(d) => Some(d),
        _ => None,
    })
}

pub(super) fn declare(cx: &mut Cx, files: &[ast::File]) {
    for def in decision_defs(files) {
        if let Some(first) = cx.model.decisions.get(&def.name.name) {
            let first = first.span;
            cx.duplicate("decision", &def.name.name, def.name.span, Some(first));
            continue;
        }
        let has_guardian = params(cx, def);
        cx.model.decisions.insert(
            def.name.name.clone(),
            Decision {
                name: def.name.name.clone(),
                has_guardian,
                rules: Vec::new(),
                span: def.name.span,
                consulted: Vec::new(),
            },
        );
    }
}

/// Checks `(user)` / `(user, guardian)`; returns whether there is a guardian.
fn params(cx: &mut Cx, def: &ast::DecisionDef) -> bool {
    let names: Vec<&str> = def.params.iter().map(|p| p.name.as_str()).collect();
    match names.as_slice() {
        ["user"] => false,
        ["user", "guardian"] => true,
        _ => {
            let span =
                def.params.first().map_or(def.name.span, |f| def.params.iter().fold(f.span, |s, p| s.to(p.span)));
            cx.push(
                Diagnostic::error(
                    Code::BadParameters,
                    format!("decision `{}` must take `(user)` or `(user, guardian)`", def.name.name),
                )
                .at(span, "unsupported parameters")
                .help("a decision is about a user, and optionally one of the guardians they deal with"),
            );
            names.contains(&"guardian")
        }
    }
}

pub(super) fn rules(cx: &mut Cx, files: &[ast::File]) {
    for def in decision_defs(files) {
        let Some(idx) = cx.model.decisions.get_index_of(&def.name.name) else { continue };
        if cx.model.decisions[idx].span != def.name.span {
            continue; // a duplicate, already reported
        }
        let has_guardian = cx.model.decisions[idx].has_guardian;
        let mut rules = Vec::new();
        for rule in &def.rules {
            if let Some(r) = resolve_rule(cx, rule, has_guardian) {
                rules.push(r);
            }
        }
        cx.model.decisions[idx].rules = rules;
    }
}

fn resolve_rule(cx: &mut Cx, rule: &ast::Rule, has_guardian: bool) -> Option<Rule> {
    match rule {
        ast::Rule::Require { decision, args, span } => {
            let Some((target, _, d)) = cx.model.decisions.get_full(&decision.name) else {
                let names: Vec<String> = cx.model.decisions.keys().cloned().collect();
                cx.unknown(
                    Code::UnknownDecision,
                    "decision",
                    &decision.name,
                    decision.span,
                    names.iter().map(String::as_str),
                    "define it with `decision name(user) { ... }`",
                );
                return None;
            };
            let wanted: &[&str] = if d.has_guardian { &["user", "guardian"] } else { &["user"] };
            let given: Vec<&str> = args.iter().map(|a| a.name.as_str()).collect();
            if given != wanted {
                let sig = wanted.join(", ");
                cx.push(
                    Diagnostic::error(Code::BadParameters, format!("`{}` takes `({sig})`", decision.name))
                        .at(*span, "wrong arguments")
                        .help(format!("write `require {}({sig})`", decision.name)),
                );
                return None;
            }
            if d.has_guardian && !has_guardian {
                cx.push(
                    Diagnostic::error(
                        Code::BadParameters,
                        format!("`{}` needs a guardian, and this decision has none", decision.name),
                    )
                    .at(*span, "no guardian here")
                    .help("declare this decision with `(user, guardian)` or require a decision about the user only"),
                );
                return None;
            }
            Some(Rule::Require { decision: target, span: *span })
        }
        ast::Rule::Deny(v) => Some(Rule::Deny(verdict(cx, v, has_guardian)?)),
        ast::Rule::Warn(v) => Some(Rule::Warn(verdict(cx, v, has_guardian)?)),
        ast::Rule::Allow { via, when, span } => {
            let when = match when {
                Some(e) => Some(condition(cx, e, has_guardian)?),
                None => None,
            };
            Some(Rule::Allow { via: via.as_ref().map(|v| v.name.as_str().into()), when, span: *span })
        }
    }
}

fn verdict(cx: &mut Cx, v: &ast::Verdict, has_guardian: bool) -> Option<Verdict> {
    let fires = match &v.condition {
        None => None,
        Some(ast::Condition::If(e)) => Some(condition(cx, e, has_guardian)?),
        Some(ast::Condition::Unless(e)) => Some(Expr::Not(Box::new(condition(cx, e, has_guardian)?))),
    };
    let message = message(cx, &v.message, fires.as_ref())?;
    Some(Verdict { code: v.code.name.as_str().into(), message, fires, span: v.span })
}

/// A rule's condition: any expression of type bool.
fn condition(cx: &mut Cx, e: &ast::Expr, has_guardian: bool) -> Option<Expr> {
    let mut r = Resolver { cx, has_guardian };
    let (expr, ty) = r.expr(e, Some(&Ty::Bool))?;
    r.expect(&ty, &Ty::Bool, e.span())?;
    Some(expr)
}

struct Resolver<'a> {
    cx: &'a mut Cx,
    has_guardian: bool,
}

fn is_bare(e: &ast::Expr) -> bool {
    matches!(e, ast::Expr::Path(segs, _) if segs.len() == 1) || matches!(e, ast::Expr::Literal(ast::Value::List(..)))
}

impl Resolver<'_> {
    fn expect(&mut self, found: &Ty, expected: &Ty, span: Span) -> Option<()> {
        if found == expected {
            return Some(());
        }
        let (f, x) = (type_name(self.cx, found), type_name(self.cx, expected));
        self.cx.push(
            Diagnostic::error(Code::TypeMismatch, format!("expected {x}, found {f}"))
                .at(span, format!("this is {f}"))
                .help(match expected {
                    Ty::Bool => {
                        "a condition must be true or false: compare the value, for example with `==`".to_string()
                    }
                    _ => format!("use a value of type {x} here"),
                }),
        );
        None
    }

    fn expr(&mut self, e: &ast::Expr, expect: Option<&Ty>) -> Option<(Expr, Ty)> {
        match e {
            ast::Expr::Or(items, _) | ast::Expr::And(items, _) => {
                let mut out = Vec::new();
                let mut ok = true;
                for item in items {
                    match self.expr(item, Some(&Ty::Bool)) {
                        Some((x, t)) if self.expect(&t, &Ty::Bool, item.span()).is_some() => out.push(x),
                        _ => ok = false,
                    }
                }
                ok.then_some((if matches!(e, ast::Expr::Or(..)) { Expr::Or(out) } else { Expr::And(out) }, Ty::Bool))
            }
            ast::Expr::Not(inner, _) => {
                let (x, t) = self.expr(inner, Some(&Ty::Bool))?;
                self.expect(&t, &Ty::Bool, inner.span())?;
                Some((Expr::Not(Box::new(x)), Ty::Bool))
            }
            ast::Expr::Cmp { op, lhs, rhs, .. } => self.comparison(*op, lhs, rhs),
            ast::Expr::Literal(v) => self.literal(v, expect),
            ast::Expr::Path(segs, span) => self.path(segs, *span, expect),
        }
    }

    fn literal(&mut self, v: &ast::Value, expect: Option<&Ty>) -> Option<(Expr, Ty)> {
        let ty = match (v, expect) {
            (ast::Value::Bool(..), _) => Ty::Bool,
            (ast::Value::Int(..), _) => Ty::Int,
            (ast::Value::Str(..), _) => Ty::Str,
            (ast::Value::List(..), Some(t @ Ty::Set(_))) => t.clone(),
            (ast::Value::List(items, _), _) if items.iter().all(|i| matches!(i, ast::Value::Str(..))) => {
                Ty::Set(Box::new(Ty::Str))
            }
            (other, _) => {
                self.cx.push(
                    Diagnostic::error(Code::TypeMismatch, "can't tell what type this list has")
                        .at(other.span(), "compare it with a set or a value of known type")
                        .help("write the setting or attribute first, for example `guardian.relationship in [parent, guardian]`"),
                );
                return None;
            }
        };
        let value = resolve_value(self.cx, v, &ty)?;
        Some((Expr::Const(value), ty))
    }

    fn comparison(&mut self, op: CmpOp, lhs: &ast::Expr, rhs: &ast::Expr) -> Option<(Expr, Ty)> {
        // A bare enum value or list takes its type from the other side.
        let rhs_first = is_bare(lhs) && !is_bare(rhs);
        let (l, lt, r, rt) = match op {
            CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge => {
                let (l, lt) = self.expr(lhs, Some(&Ty::Int))?;
                let (r, rt) = self.expr(rhs, Some(&Ty::Int))?;
                self.expect(&lt, &Ty::Int, lhs.span())?;
                self.expect(&rt, &Ty::Int, rhs.span())?;
                (l, lt, r, rt)
            }
            CmpOp::In if rhs_first => {
                let (r, rt) = self.expr(rhs, None)?;
                let Ty::Set(inner) = &rt else { return self.not_a_set(rhs, &rt) };
                let (l, lt) = self.expr(lhs, Some(inner))?;
                (l, lt, r, rt)
            }
            CmpOp::In => {
                let (l, lt) = self.expr(lhs, None)?;
                let set = Ty::Set(Box::new(lt.clone()));
                let (r, rt) = self.expr(rhs, Some(&set))?;
                (l, lt, r, rt)
            }
            _ if rhs_first => {
                let (r, rt) = self.expr(rhs, None)?;
                let (l, lt) = self.expr(lhs, Some(&rt))?;
                (l, lt, r, rt)
            }
            _ => {
                let (l, lt) = self.expr(lhs, None)?;
                let (r, rt) = self.expr(rhs, Some(&lt))?;
                (l, lt, r, rt)
            }
        };
        match op {
            CmpOp::In => {
                let Ty::Set(inner) = &rt else { return self.not_a_set(rhs, &rt) };
                self.expect(&lt, inner, lhs.span())?;
            }
            CmpOp::Intersects => {
                if !matches!(lt, Ty::Set(_)) {
                    return self.not_a_set(lhs, &lt);
                }
                self.expect(&rt, &lt, rhs.span())?;
            }
            CmpOp::Eq | CmpOp::Ne if lt != rt => {
                let (a, b) = (type_name(self.cx, &lt), type_name(self.cx, &rt));
                self.cx.push(
                    Diagnostic::error(Code::TypeMismatch, format!("can't compare {a} with {b}"))
                        .at(rhs.span(), format!("this is {b}"))
                        .also(lhs.span(), format!("this is {a}"))
                        .help("both sides of `==` and `!=` must have the same type"),
                );
                return None;
            }
            _ => {}
        }
        if matches!(op, CmpOp::In | CmpOp::Intersects | CmpOp::Eq | CmpOp::Ne) {
            self.group_literals(&l, rhs, &r);
            self.group_literals(&r, lhs, &l);
        }
        Some((Expr::Cmp(op, Box::new(l), Box::new(r)), Ty::Bool))
    }

    /// Warns when a literal compared with `user.groups` names no group of the directory: the
    /// comparison would silently never match.
    fn group_literals(&mut self, fact: &Expr, literal_ast: &ast::Expr, literal: &Expr) {
        if *fact != Expr::Fact(Fact::User(UserAttr::Groups)) {
            return;
        }
        // A literal, or a tenant setting (`tenant.ParentsApp.AvailableToGroups`).
        let value = match literal {
            Expr::Const(v) => v.clone(),
            Expr::Fact(Fact::Tenant { config, setting }) => self.cx.model.configs[*config].values[*setting].0.clone(),
            _ => return,
        };
        let names: Vec<&str> = match &value {
            Value::Str(s) => vec![s],
            Value::Set(items) => {
                items.iter().filter_map(|v| if let Value::Str(s) = v { Some(s.as_ref()) } else { None }).collect()
            }
            _ => return,
        };
        let dir = &self.cx.model.directory;
        // Conditions compare ids exactly as the directory writes them.
        let written = |n: &str| dir.group(n).is_some_and(|(_, g)| g.id == n);
        let unknown: Vec<(String, String)> = (names.iter().filter(|n| !written(n)))
            .map(|n| {
                let help = (dir.suggest_group(n).map(|s| format!("did you mean `{s}`?")))
                    .unwrap_or_else(|| "group ids are compared exactly as the directory writes them".into());
                (n.to_string(), help)
            })
            .collect();
        for (name, help) in unknown {
            self.cx.push(
                Diagnostic::warning(
                    Code::UnknownGroupInCondition,
                    format!("no group `{name}` in the directory: this never matches"),
                )
                .at(literal_ast.span(), "compared with `user.groups`")
                .help(help),
            );
        }
    }

    fn not_a_set<T>(&mut self, e: &ast::Expr, ty: &Ty) -> Option<T> {
        let t = type_name(self.cx, ty);
        self.cx.push(
            Diagnostic::error(Code::TypeMismatch, format!("expected a set, found {t}"))
                .at(e.span(), format!("this is {t}"))
                .help("`in` and `intersects` need a set such as `user.licenses` or `[\"A5\", \"A3\"]`"),
        );
        None
    }

    fn path(&mut self, segs: &[ast::Ident], span: Span, expect: Option<&Ty>) -> Option<(Expr, Ty)> {
        let root = segs.first()?;
        match (root.name.as_str(), segs.len()) {
            ("tenant", 3) => self.tenant(&segs[1], &segs[2]),
            ("user", 2) => self.user_attr(&segs[1]),
            ("user", 3) => self.policy_setting(&segs[1], &segs[2]),
            ("guardian", 2) => self.guardian_attr(&segs[1]),
            ("directory", 2) => self.directory_attr(&segs[1]),
            (_, 1) => self.bare_name(root, expect),
            ("tenant" | "user" | "guardian" | "directory", _) => {
                let shape = match root.name.as_str() {
                    "tenant" => "`tenant.Configuration.Setting`",
                    "user" => "`user.attribute` or `user.PolicyType.Setting`",
                    "guardian" => "`guardian.attribute`",
                    _ => "`directory.attribute`",
                };
                self.cx.push(
                    Diagnostic::error(Code::UnknownField, format!("`{}` paths are written {shape}", root.name))
                        .at(span, "unexpected path shape")
                        .help(format!("write {shape}")),
                );
                None
            }
            _ => {
                self.cx.unknown(
                    Code::UnknownName,
                    "name",
                    &root.name,
                    root.span,
                    ["tenant", "user", "guardian", "directory"],
                    "paths start with `tenant.`, `user.`, `guardian.` or `directory.`",
                );
                None
            }
        }
    }

    fn tenant(&mut self, config: &ast::Ident, setting: &ast::Ident) -> Option<(Expr, Ty)> {
        let Some((ci, _, c)) = self.cx.model.configs.get_full(&config.name) else {
            let names: Vec<String> = self.cx.model.configs.keys().cloned().collect();
            let hint = if self.cx.model.policy_types.contains_key(&config.name) {
                format!(
                    "`{}` is a policy type: read the user's effective value with `user.{}.…`",
                    config.name, config.name
                )
            } else {
                "declare it with `configuration Name { ... }`".to_string()
            };
            self.cx.unknown(
                Code::UnknownType,
                "configuration",
                &config.name,
                config.span,
                names.iter().map(String::as_str),
                &hint,
            );
            return None;
        };
        let (si, s) = match super::find_setting(&c.schema, setting) {
            Ok(found) => found,
            Err(d) => {
                self.cx.push(d);
                return None;
            }
        };
        Some((Expr::Fact(Fact::Tenant { config: ci, setting: si }), s.ty.clone()))
    }

    fn policy_setting(&mut self, ptype: &ast::Ident, setting: &ast::Ident) -> Option<(Expr, Ty)> {
        let Some((ti, _, t)) = self.cx.model.policy_types.get_full(&ptype.name) else {
            let names: Vec<String> = self.cx.model.policy_types.keys().cloned().collect();
            let hint = if self.cx.model.configs.contains_key(&ptype.name) {
                format!("`{}` is a tenant configuration: read it with `tenant.{}.…`", ptype.name, ptype.name)
            } else {
                "declare it with `policy type Name { ... }`".to_string()
            };
            self.cx.unknown(
                Code::UnknownType,
                "policy type",
                &ptype.name,
                ptype.span,
                names.iter().map(String::as_str),
                &hint,
            );
            return None;
        };
        let (si, s) = match super::find_setting(&t.schema, setting) {
            Ok(found) => found,
            Err(d) => {
                self.cx.push(d);
                return None;
            }
        };
        Some((Expr::Fact(Fact::Policy { ptype: ti, setting: si }), s.ty.clone()))
    }

    fn user_attr(&mut self, attr: &ast::Ident) -> Option<(Expr, Ty)> {
        if let Some(a) = UserAttr::parse(&attr.name) {
            return Some((Expr::Fact(Fact::User(a)), a.ty(self.cx.model.relationship_enum)));
        }
        if self.cx.model.policy_types.contains_key(&attr.name) {
            self.cx.push(
                Diagnostic::error(Code::UnknownField, format!("`user.{}` needs a setting", attr.name))
                    .at(attr.span, "a policy type, not a value")
                    .help(format!("write `user.{}.SettingName`", attr.name)),
            );
            return None;
        }
        let names: Vec<&str> = UserAttr::ALL.iter().map(|a| a.name()).collect();
        self.cx.unknown(
            Code::UnknownField,
            "user attribute",
            &attr.name,
            attr.span,
            names.iter().copied(),
            &format!("user attributes: {}; or `user.PolicyType.Setting`", names.join(", ")),
        );
        None
    }

    fn guardian_attr(&mut self, attr: &ast::Ident) -> Option<(Expr, Ty)> {
        if !self.has_guardian {
            self.cx.push(
                Diagnostic::error(Code::BadParameters, "this decision has no guardian")
                    .at(attr.span, "`guardian` is not a parameter here")
                    .help("declare the decision with `(user, guardian)`"),
            );
            return None;
        }
        let Some(a) = GuardianAttr::parse(&attr.name) else {
            let names: Vec<&str> = GuardianAttr::ALL.iter().map(|a| a.name()).collect();
            self.cx.unknown(
                Code::UnknownField,
                "guardian attribute",
                &attr.name,
                attr.span,
                names.iter().copied(),
                &format!("guardian attributes: {}", names.join(", ")),
            );
            return None;
        };
        Some((Expr::Fact(Fact::Guardian(a)), a.ty(self.cx.model.relationship_enum)))
    }

    fn directory_attr(&mut self, attr: &ast::Ident) -> Option<(Expr, Ty)> {
        let Some(a) = DirectoryAttr::parse(&attr.name) else {
            let names: Vec<&str> = DirectoryAttr::ALL.iter().map(|a| a.name()).collect();
            self.cx.unknown(
                Code::UnknownField,
                "directory attribute",
                &attr.name,
                attr.span,
                names.iter().copied(),
                &format!("directory attributes: {}", names.join(", ")),
            );
            return None;
        };
        Some((Expr::Fact(Fact::Directory(a)), a.ty(self.cx.model.relationship_enum)))
    }

    /// A bare name is an enum value, typed by what the other side of a comparison expects.
    fn bare_name(&mut self, name: &ast::Ident, expect: Option<&Ty>) -> Option<(Expr, Ty)> {
        if let Some(Ty::Enum(e)) = expect {
            let v = enum_variant(self.cx, *e, name)?;
            return Some((Expr::Const(v), Ty::Enum(*e)));
        }
        let help = match name.name.as_str() {
            "user" | "guardian" | "tenant" | "directory" => format!("`{}` alone is not a value: name an attribute, such as `user.enabled`", name.name),
            _ => did_you_mean(&name.name, ["tenant", "user", "guardian", "directory"])
                .unwrap_or_else(|| "an enum value can only be compared with a setting of that enum; paths start with `tenant.`, `user.`, `guardian.` or `directory.`".into()),
        };
        self.cx.push(
            Diagnostic::error(Code::UnknownName, format!("`{}` is not a value here", name.name))
                .at(name.span, "unknown name")
                .help(help),
        );
        None
    }
}

/// Parses `{policy}` and `{PolicyType}` placeholders in a message.
fn message(cx: &mut Cx, msg: &ast::Ident, fires: Option<&Expr>) -> Option<Vec<MessagePart>> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut chars = msg.name.chars();
    let mut ok = true;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(e) = chars.next() {
                    text.push(e);
                }
            }
            '{' => {
                let mut name = String::new();
                let mut closed = false;
                for c in chars.by_ref() {
                    if c == '}' {
                        closed = true;
                        break;
                    }
                    name.push(c);
                }
                if !closed {
                    cx.push(
                        Diagnostic::error(Code::UnknownPlaceholder, "a `{` in this message is never closed")
                            .at(msg.span, "in this message")
                            .help("close the placeholder with `}`, or write `\\{` for a literal brace"),
                    );
                    ok = false;
                    continue;
                }
                match placeholder(cx, &name, msg.span, fires) {
                    Some(t) => {
                        if !text.is_empty() {
                            parts.push(MessagePart::Text(std::mem::take(&mut text)));
                        }
                        parts.push(MessagePart::Policy(t));
                    }
                    None => ok = false,
                }
            }
            _ => text.push(c),
        }
    }
    if !text.is_empty() {
        parts.push(MessagePart::Text(text));
    }
    ok.then_some(parts)
}

fn placeholder(cx: &mut Cx, name: &str, span: Span, fires: Option<&Expr>) -> Option<usize> {
    if name == "policy" {
        let mut types: Vec<usize> = Vec::new();
        if let Some(e) = fires {
            e.for_each_fact(&mut |f| {
                if let Fact::Policy { ptype, .. } = f
                    && !types.contains(&ptype)
                {
                    types.push(ptype);
                }
            });
        }
        if let [one] = types.as_slice() {
            return Some(*one);
        }
        let why = if types.is_empty() { "consults no policy type" } else { "consults several policy types" };
        cx.push(
            Diagnostic::error(
                Code::UnknownPlaceholder,
                format!("`{{policy}}` is ambiguous: the rule's condition {why}"),
            )
            .at(span, "in this message")
            .help("name the policy type instead, such as `{TeamsMessagingPolicy}`"),
        );
        return None;
    }
    if let Some(i) = cx.model.policy_types.get_index_of(name) {
        return Some(i);
    }
    let mut names: Vec<String> = vec!["policy".into()];
    names.extend(cx.model.policy_types.keys().cloned());
    let help = did_you_mean(name, names.iter().map(String::as_str))
        .unwrap_or_else(|| "placeholders are `{policy}` or a policy type name such as `{TeamsMessagingPolicy}`; write `\\{` for a literal brace".into());
    cx.push(
        Diagnostic::error(Code::UnknownPlaceholder, format!("unknown placeholder `{{{name}}}`"))
            .at(span, "in this message")
            .help(help),
    );
    None
}

/// Longest chain of `require`s accepted.
pub const MAX_REQUIRE_DEPTH: usize = 64;

/// Reports decisions whose `require` chains are longer than [`MAX_REQUIRE_DEPTH`]; returns
/// whether all are within it. Recursion here is cut off at the limit, and a cycle counts as
/// short (the cycle check reports it).
pub(super) fn require_depth(cx: &mut Cx) -> bool {
    fn depth(cx: &Cx, d: usize, level: usize, memo: &mut [Option<usize>], on_stack: &mut [bool]) -> usize {
        if level > MAX_REQUIRE_DEPTH || on_stack[d] {
            return 0;
        }
        if let Some(m) = memo[d] {
            return m;
        }
        on_stack[d] = true;
        let mut deepest = 0;
        for r in &cx.model.decisions[d].rules {
            if let Rule::Require { decision, .. } = r {
                deepest = deepest.max(1 + depth(cx, *decision, level + 1, memo, on_stack));
                if deepest > MAX_REQUIRE_DEPTH {
                    break;
                }
            }
        }
        on_stack[d] = false;
        memo[d] = Some(deepest);
        deepest
    }
    let n = cx.model.decisions.len();
    let mut memo = vec![None; n];
    let mut on_stack = vec![false; n];
    let mut ok = true;
    for d in 0..n {
        if depth(cx, d, 0, &mut memo, &mut on_stack) > MAX_REQUIRE_DEPTH {
            ok = false;
            let span = cx.model.decisions[d].span;
            cx.push(
                Diagnostic::error(
                    Code::NestingTooDeep,
                    format!(
                        "`{}` requires a chain of more than {MAX_REQUIRE_DEPTH} decisions",
                        cx.model.decisions[d].name
                    ),
                )
                .at(span, "chain starts here")
                .help("require fewer levels of decisions; combine rules into one decision"),
            );
            break;
        }
    }
    ok
}

/// Reports each `require` cycle once, at the rule that closes it.
pub(super) fn cycles(cx: &mut Cx) {
    let n = cx.model.decisions.len();
    let mut state = vec![0u8; n]; // 0 new, 1 on stack, 2 done
    let mut stack: Vec<usize> = Vec::new();
    let mut found: Vec<(Span, String)> = Vec::new();
    for start in 0..n {
        visit(cx, start, &mut state, &mut stack, &mut found);
    }
    for (span, path) in found {
        cx.push(
            Diagnostic::error(Code::RequireCycle, format!("decisions require each other in a cycle: {path}"))
                .at(span, "this requirement closes the cycle")
                .help("a decision can't depend on itself; remove one of the `require` rules"),
        );
    }
}

fn visit(cx: &Cx, d: usize, state: &mut [u8], stack: &mut Vec<usize>, found: &mut Vec<(Span, String)>) {
    if state[d] != 0 {
        return;
    }
    state[d] = 1;
    stack.push(d);
    for rule in &cx.model.decisions[d].rules {
        let Rule::Require { decision: t, span } = rule else { continue };
        match state[*t] {
            0 => visit(cx, *t, state, stack, found),
            1 => {
                let from = stack.iter().position(|x| x == t).unwrap_or(0);
                let mut names: Vec<&str> = stack[from..].iter().map(|i| cx.model.decisions[*i].name.as_str()).collect();
                names.push(&cx.model.decisions[*t].name);
                found.push((*span, names.join(" → ")));
            }
            _ => {}
        }
    }
    stack.pop();
    state[d] = 2;
}

/// Collects each decision's consulted facts, its required decisions' included.
pub(super) fn consulted(cx: &mut Cx) {
    let n = cx.model.decisions.len();
    for d in 0..n {
        let mut facts: Vec<Fact> = Vec::new();
        let mut seen = vec![false; n];
        collect(cx, d, &mut seen, &mut facts);
        cx.model.decisions[d].consulted = facts;
    }
}

fn collect(cx: &Cx, d: usize, seen: &mut [bool], facts: &mut Vec<Fact>) {
    if std::mem::replace(&mut seen[d], true) {
        return;
    }
    // Rule order, with a required decision's facts where it is required.
    for rule in &cx.model.decisions[d].rules {
        let mut add = |f: Fact| {
            if !facts.contains(&f) {
                facts.push(f);
            }
        };
        match rule {
            Rule::Require { decision, .. } => collect(cx, *decision, seen, facts),
            Rule::Deny(v) | Rule::Warn(v) => {
                if let Some(e) = &v.fires {
                    e.for_each_fact(&mut add);
                }
            }
            Rule::Allow { when: Some(e), .. } => e.for_each_fact(&mut add),
            Rule::Allow { when: None, .. } => {}
        }
    }
}

/// Warns about decisions that deny whatever the tenant and directory say.
pub(super) fn never_allows(cx: &mut Cx) {
    // A rule dropped for an error would make this guess wrong; errors come first.
    if cx.diagnostics.iter().any(Diagnostic::is_error) {
        return;
    }
    let n = cx.model.decisions.len();
    let mut memo: Vec<Option<Option<String>>> = vec![None; n];
    for d in 0..n {
        if let Some(why) = blocked_always(cx, d, &mut memo, 0) {
            let dec = &cx.model.decisions[d];
            cx.diagnostics.push(
                Diagnostic::warning(Code::NeverAllows, format!("decision `{}` can never allow", dec.name))
                    .at(dec.span, why)
                    .help("add an `allow` rule that can match, or remove the rule that always denies"),
            );
        }
    }
}

fn is_const(e: Option<&Expr>, want: bool) -> bool {
    match e {
        None => want,
        Some(Expr::Const(Value::Bool(b))) => *b == want,
        Some(Expr::Not(inner)) => is_const(Some(inner), !want),
        Some(_) => false,
    }
}

fn blocked_always(cx: &Cx, d: usize, memo: &mut Vec<Option<Option<String>>>, depth: usize) -> Option<String> {
    if let Some(m) = &memo[d] {
        return m.clone();
    }
    if depth > cx.model.decisions.len() {
        return None; // a cycle, reported elsewhere
    }
    let dec = &cx.model.decisions[d];
    let mut why = None;
    let mut any_allow = false;
    for rule in &dec.rules {
        match rule {
            Rule::Deny(v) if is_const(v.fires.as_ref(), true) => {
                why.get_or_insert(format!("`deny {}` always fires", v.code));
            }
            Rule::Allow { when, .. } if !is_const(when.as_ref(), false) => any_allow = true,
            Rule::Require { decision, .. } if blocked_always(cx, *decision, memo, depth + 1).is_some() => {
                why.get_or_insert(format!(
                    "it requires `{}`, which can never allow",
                    cx.model.decisions[*decision].name
                ));
            }
            _ => {}
        }
    }
    if why.is_none() && !any_allow {
        why = Some("no `allow` rule can match".to_string());
    }
    memo[d] = Some(why.clone());
    why
}
