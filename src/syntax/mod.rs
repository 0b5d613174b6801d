//! Parsing: the only module that sees pest. It turns text into a spanned [`ast::File`] or
//! located syntax diagnostics written in the language's own words.

mod words;

use crate::ast::{self, CmpOp, Expr, Ident, Item, Rule as AstRule, Value};
use crate::diagnostic::{Code, Diagnostic};
use crate::source::{FileId, Span};
use pest::Parser as _;
use pest::iterators::Pair;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/tenet.pest"]
struct Grammar;

/// Largest policy file accepted, in bytes.
pub const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;
/// Deepest nesting of brackets accepted.
pub const MAX_NESTING: usize = 64;
/// Upper bound on parser steps for one file, so no input can make parsing run away.
const CALL_LIMIT: usize = 50_000_000;

/// Parses one policy file.
pub fn parse(file: FileId, text: &str) -> Result<ast::File, Vec<Diagnostic>> {
    if text.len() > MAX_FILE_BYTES {
        return Err(vec![
            Diagnostic::error(
                Code::InputTooLarge,
                format!(
                    "policy file is {}, over the limit of {}",
                    crate::diagnostic::size(text.len()),
                    crate::diagnostic::size(MAX_FILE_BYTES)
                ),
            )
            .at(Span::new(file, 0, 0), "this file")
            .help("split the policy set into several files"),
        ]);
    }
    if let Some(offset) = too_deep(text) {
        return Err(vec![
            Diagnostic::error(
                Code::NestingTooDeep,
                format!("brackets and `not`s are nested more than {MAX_NESTING} levels deep"),
            )
            .at(Span::new(file, offset, offset + 1), "too deep here")
            .help("simplify the expression, for example by splitting it into several rules"),
        ]);
    }
    pest::set_call_limit(std::num::NonZeroUsize::new(CALL_LIMIT));
    let mut pairs = Grammar::parse(Rule::file, text).map_err(|e| vec![words::syntax_error(file, text, e)])?;
    let mut lower = Lower { file, errors: Vec::new() };
    let mut out = ast::File::default();
    if let Some(file_pair) = pairs.next() {
        for pair in file_pair.into_inner() {
            if pair.as_rule() == Rule::EOI {
                continue;
            }
            if let Some(item) = lower.item(pair) {
                out.items.push(item);
            }
        }
    }
    if lower.errors.is_empty() { Ok(out) } else { Err(lower.errors) }
}

/// Byte offset of the first bracket nested deeper than [`MAX_NESTING`], skipping strings and
/// comments. Checked before parsing so deep input can't exhaust the parser's stack.
fn too_deep(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    // `not` nests like a bracket: a run of them counts until the next other word.
    let (mut depth, mut nots, mut i) = (0usize, 0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                    i += 1;
                }
                i += 1;
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth + nots > MAX_NESTING {
                    return Some(i);
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            c if c.is_ascii_alphanumeric() || c == b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                if &bytes[start..i] == b"not" {
                    nots += 1;
                    if depth + nots > MAX_NESTING {
                        return Some(start);
                    }
                } else {
                    nots = 0;
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

struct Lower {
    file: FileId,
    errors: Vec<Diagnostic>,
}

/// The meaningful children of a pair: keyword tokens are dropped.
fn children(pair: Pair<'_, Rule>) -> impl Iterator<Item = Pair<'_, Rule>> {
    pair.into_inner().filter(|p| !words::is_keyword(p.as_rule()))
}

impl Lower {
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        Span::new(self.file, s.start(), s.end())
    }

    fn ident(&self, pair: &Pair<'_, Rule>) -> Ident {
        Ident { name: pair.as_str().to_string(), span: self.span(pair) }
    }

    fn item(&mut self, pair: Pair<'_, Rule>) -> Option<Item> {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut parts = children(pair).peekable();
        Some(match rule {
            Rule::enum_def => {
                let name = self.ident(&parts.next()?);
                let variants = parts.map(|p| self.ident(&p)).collect();
                Item::Enum(ast::EnumDef { name, variants, span })
            }
            Rule::policy_type | Rule::config_def => {
                let name = self.ident(&parts.next()?);
                let direct_only = match parts.peek() {
                    Some(p) if p.as_rule() == Rule::direct_only => {
                        let s = self.span(p);
                        parts.next();
                        Some(s)
                    }
                    _ => None,
                };
                let settings = parts.filter_map(|p| self.setting_decl(p)).collect();
                let def = ast::SchemaDef { name, direct_only, settings, span };
                if rule == Rule::policy_type { Item::PolicyType(def) } else { Item::Configuration(def) }
            }
            Rule::tenant_values => {
                let config = self.ident(&parts.next()?);
                let values = parts.filter_map(|p| self.setting_value(p)).collect();
                Item::TenantValues(ast::TenantValues { config, values, span })
            }
            Rule::policy_instance => {
                let locked = match parts.peek() {
                    Some(p) if p.as_rule() == Rule::locked => {
                        let s = self.span(p);
                        parts.next();
                        Some(s)
                    }
                    _ => None,
                };
                let policy_type = self.ident(&parts.next()?);
                let identity = self.string(parts.next()?);
                let values = parts.filter_map(|p| self.setting_value(p)).collect();
                Item::Instance(ast::InstanceDef { locked, policy_type, identity, values, span })
            }
            Rule::assignment => {
                let policy_type = self.ident(&parts.next()?);
                let identity = self.string(parts.next()?);
                let target_pair = parts.next()?;
                let target_rule = target_pair.as_rule();
                let mut t = children(target_pair);
                let who = self.string(t.next()?);
                let target = if target_rule == Rule::user_target {
                    ast::Target::User(who)
                } else {
                    let rank = match t.next() {
                        Some(r) => Some((self.integer(&r)?, self.span(&r))),
                        None => None,
                    };
                    ast::Target::Group { group: who, rank }
                };
                Item::Assignment(ast::Assignment { policy_type, identity, target, span })
            }
            Rule::decision => {
                let name = self.ident(&parts.next()?);
                let params = children(parts.next()?).map(|p| self.ident(&p)).collect();
                let rules = parts.filter_map(|p| self.rule(p)).collect();
                Item::Decision(ast::DecisionDef { name, params, rules, span })
            }
            Rule::expectation => {
                let user = self.string(parts.next()?);
                let decision = self.ident(&parts.next()?);
                let mut guardian = None;
                let mut outcome = None;
                for p in parts {
                    match p.as_rule() {
                        Rule::string => guardian = Some(self.string(p)),
                        Rule::expect_allow => {
                            let via = children(p).next().and_then(|v| children(v).next()).map(|i| self.ident(&i));
                            outcome = Some(ast::Expected::Allow { via });
                        }
                        _ => {
                            let code = children(p).next().map(|c| self.ident(&c));
                            outcome = Some(ast::Expected::Deny { code });
                        }
                    }
                }
                Item::Expect(ast::Expectation { user, decision, guardian, outcome: outcome?, span })
            }
            _ => return None,
        })
    }

    fn setting_decl(&mut self, pair: Pair<'_, Rule>) -> Option<ast::SettingDecl> {
        let span = self.span(&pair);
        let mut parts = children(pair);
        let name = self.ident(&parts.next()?);
        let ty_pair = parts.next()?;
        let inner = children(ty_pair).next()?;
        let ty = if inner.as_rule() == Rule::set_type {
            let s = self.span(&inner);
            ast::TypeRef::Set(self.ident(&children(inner).next()?), s)
        } else {
            ast::TypeRef::Named(self.ident(&inner))
        };
        let default = self.value(parts.next()?)?;
        Some(ast::SettingDecl { name, ty, default, span })
    }

    fn setting_value(&mut self, pair: Pair<'_, Rule>) -> Option<ast::SettingValue> {
        let span = self.span(&pair);
        let mut parts = children(pair);
        let name = self.ident(&parts.next()?);
        let value = self.value(parts.next()?)?;
        Some(ast::SettingValue { name, value, span })
    }

    /// `value` wraps either a `literal` or a bare `ident`.
    fn value(&mut self, pair: Pair<'_, Rule>) -> Option<Value> {
        match pair.as_rule() {
            Rule::value | Rule::literal => {
                let inner = children(pair).next()?;
                self.value(inner)
            }
            Rule::ident => Some(Value::Name(self.ident(&pair))),
            Rule::boolean => {
                let s = self.span(&pair);
                Some(Value::Bool(pair.as_str() == "true", s))
            }
            Rule::integer => Some(Value::Int(self.integer(&pair)?, self.span(&pair))),
            Rule::string => {
                let i = self.string(pair);
                Some(Value::Str(i.name, i.span))
            }
            Rule::list => {
                let s = self.span(&pair);
                let items = children(pair).filter_map(|p| self.value(p)).collect();
                Some(Value::List(items, s))
            }
            _ => None,
        }
    }

    fn integer(&mut self, pair: &Pair<'_, Rule>) -> Option<i64> {
        match pair.as_str().parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                self.errors.push(
                    Diagnostic::error(Code::InvalidLiteral, format!("integer `{}` is out of range", pair.as_str()))
                        .at(self.span(pair), "out of range")
                        .help("integers are 64-bit: from -9223372036854775808 to 9223372036854775807"),
                );
                None
            }
        }
    }

    /// Decodes a string literal. The returned ident's span covers the quotes.
    fn string(&mut self, pair: Pair<'_, Rule>) -> Ident {
        self.decode_string(pair, false)
    }

    /// Decodes a string literal; with `keep_braces`, `\{`, `\}` and `\\` stay escaped so a
    /// message template can tell a literal brace from a placeholder.
    fn decode_string(&mut self, pair: Pair<'_, Rule>, keep_braces: bool) -> Ident {
        let span = self.span(&pair);
        let raw = pair.as_str();
        let inner = raw.get(1..raw.len().saturating_sub(1)).unwrap_or("");
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.char_indices();
        while let Some((i, c)) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some((_, 'n')) => out.push('\n'),
                Some((_, 't')) => out.push('\t'),
                Some((_, 'r')) => out.push('\r'),
                Some((_, 'u')) => {
                    let rest = &inner[i + 2..];
                    let hex: String = rest.chars().skip(1).take_while(|c| *c != '}').collect();
                    for _ in 0..hex.len() + 2 {
                        chars.next();
                    }
                    match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                        Some(ch) => out.push(ch),
                        None => {
                            let start = span.start as usize + 1 + i;
                            self.errors.push(
                                Diagnostic::error(
                                    Code::InvalidLiteral,
                                    format!("`\\u{{{hex}}}` is not a Unicode character"),
                                )
                                .at(Span::new(self.file, start, start + hex.len() + 4), "invalid escape")
                                .help("write a Unicode scalar value in hex, such as `\\u{e9}`"),
                            );
                        }
                    }
                }
                // `\"`, `\\`, `\{`, `\}`: the grammar admits no other escape.
                Some((_, e @ ('{' | '}' | '\\'))) if keep_braces => {
                    out.push('\\');
                    out.push(e);
                }
                Some((_, e)) => out.push(e),
                None => {}
            }
        }
        Ident { name: out, span }
    }

    fn rule(&mut self, pair: Pair<'_, Rule>) -> Option<AstRule> {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut parts = children(pair).peekable();
        Some(match rule {
            Rule::require_rule => {
                let decision = self.ident(&parts.next()?);
                let args = children(parts.next()?).map(|p| self.ident(&p)).collect();
                AstRule::Require { decision, args, span }
            }
            Rule::deny_rule | Rule::warn_rule => {
                let code = self.ident(&parts.next()?);
                let message = self.decode_string(parts.next()?, true);
                let condition = match parts.next() {
                    Some(c) => {
                        let inner = children(c).next()?;
                        let is_if = inner.as_rule() == Rule::when_if;
                        let expr = self.expr(children(inner).next()?)?;
                        Some(if is_if { ast::Condition::If(expr) } else { ast::Condition::Unless(expr) })
                    }
                    None => None,
                };
                let verdict = ast::Verdict { code, message, condition, span };
                if rule == Rule::deny_rule { AstRule::Deny(verdict) } else { AstRule::Warn(verdict) }
            }
            Rule::allow_rule => {
                let mut via = None;
                let mut when = None;
                for p in parts {
                    match p.as_rule() {
                        Rule::via => via = children(p).next().map(|i| self.ident(&i)),
                        Rule::when_if => when = self.expr(children(p).next()?),
                        _ => {}
                    }
                }
                AstRule::Allow { via, when, span }
            }
            _ => return None,
        })
    }

    fn expr(&mut self, pair: Pair<'_, Rule>) -> Option<Expr> {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::expr | Rule::and_expr => {
                let is_or = pair.as_rule() == Rule::expr;
                let mut items: Vec<Expr> = Vec::new();
                for p in children(pair) {
                    items.push(self.expr(p)?);
                }
                if items.len() == 1 {
                    items.pop()
                } else if is_or {
                    Some(Expr::Or(items, span))
                } else {
                    Some(Expr::And(items, span))
                }
            }
            Rule::not_expr | Rule::group => self.expr(children(pair).next()?),
            Rule::negation => Some(Expr::Not(Box::new(self.expr(children(pair).next()?)?), span)),
            Rule::comparison => {
                let mut parts = children(pair);
                let lhs = self.expr(parts.next()?)?;
                match parts.next() {
                    None => Some(lhs),
                    Some(op_pair) => {
                        let op_span = self.span(&op_pair);
                        let op = match op_pair.as_str() {
                            "==" => CmpOp::Eq,
                            "!=" => CmpOp::Ne,
                            "<" => CmpOp::Lt,
                            "<=" => CmpOp::Le,
                            ">" => CmpOp::Gt,
                            ">=" => CmpOp::Ge,
                            "in" => CmpOp::In,
                            _ => CmpOp::Intersects,
                        };
                        let rhs = self.expr(parts.next()?)?;
                        Some(Expr::Cmp { op, op_span, lhs: Box::new(lhs), rhs: Box::new(rhs), span })
                    }
                }
            }
            Rule::path => {
                let segments = children(pair).map(|p| self.ident(&p)).collect();
                Some(Expr::Path(segments, span))
            }
            Rule::literal => Some(Expr::Literal(self.value(pair)?)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> ast::File {
        match parse(FileId(0), text) {
            Ok(f) => f,
            Err(e) => panic!("parse failed: {e:?}"),
        }
    }

    #[test]
    fn parses_every_item_kind() {
        let f = parse_ok(
            r#"
            enum Role { Full, Limited }
            policy type P direct only { A: bool = true  R: Role = Full  S: set<string> = ["x"] }
            configuration C { N: int = -3 }
            tenant C { N = 4 }
            locked policy P "Tag:Fixed" { A = false }
            assign P "Fixed" to user "a@b.c"
            assign P "Fixed" to group "g" rank 2
            decision d(user, guardian) {
                require e(user)
                deny X_1 "m {policy}" unless user.P.A and not (tenant.C.N > 3 or "x" in user.roles)
                warn W "w"
                allow via email if guardian.has_email
                allow
            }
            "#,
        );
        assert_eq!(f.items.len(), 8);
    }

    #[test]
    fn decodes_string_escapes() {
        let f = parse_ok(r#"configuration C { S: string = "a\"b\\c\n\u{e9}\{x\}" }"#);
        let Item::Configuration(c) = &f.items[0] else { panic!("not a configuration") };
        assert_eq!(c.settings[0].default, Value::Str("a\"b\\c\né{x}".into(), c.settings[0].default.span()));
    }

    #[test]
    fn rejects_keywords_as_names() {
        assert!(parse(FileId(0), "enum and { A }").is_err());
    }

    #[test]
    fn long_runs_of_not_count_as_nesting() {
        let text = format!("decision d(user) {{ allow if {}true }}", "not ".repeat(2000));
        let errs = parse(FileId(0), &text).err().unwrap_or_default();
        assert_eq!(errs[0].code, Code::NestingTooDeep);
        let fine = format!("decision d(user) {{ allow if {}true }}", "not ".repeat(10));
        assert!(parse(FileId(0), &fine).is_ok());
    }

    #[test]
    fn rejects_deep_nesting_before_parsing() {
        let text = format!("decision d(user) {{ allow if {}true{} }}", "(".repeat(100), ")".repeat(100));
        let errs = parse(FileId(0), &text).err().unwrap_or_default();
        assert_eq!(errs[0].code, Code::NestingTooDeep);
    }
}
