//! Syntax errors in the language's own words: pest's expected-rule sets become phrases such as
//! "a name" or "`}`", never grammar rule names.

use super::Rule;
use crate::diagnostic::{Code, Diagnostic};
use crate::source::{FileId, Span};
use pest::error::{Error, ErrorVariant, InputLocation};

/// Keyword and punctuation tokens, which lowering skips.
pub(super) fn is_keyword(rule: Rule) -> bool {
    keyword_text(rule).is_some() || punctuation(rule).is_some()
}

fn punctuation(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::t_lbrace => "{",
        Rule::t_rbrace => "}",
        Rule::t_lparen => "(",
        Rule::t_rparen => ")",
        Rule::t_lbracket => "[",
        Rule::t_rbracket => "]",
        Rule::t_comma => ",",
        Rule::t_colon => ":",
        Rule::t_equals => "=",
        Rule::t_lt => "<",
        Rule::t_gt => ">",
        _ => return None,
    })
}

/// Keywords that start an item: listed once, as "an item", in expected-token lists.
fn starts_item(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::kw_enum
            | Rule::kw_policy
            | Rule::kw_configuration
            | Rule::kw_tenant
            | Rule::kw_locked
            | Rule::kw_assign
            | Rule::kw_decision
            | Rule::kw_expect
    )
}

const AN_ITEM: &str =
    "an item (`enum`, `policy type`, `configuration`, `tenant`, `policy`, `assign`, `decision` or `expect`)";

fn keyword_text(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::kw_and => "and",
        Rule::kw_or => "or",
        Rule::kw_not => "not",
        Rule::kw_in => "in",
        Rule::kw_intersects => "intersects",
        Rule::kw_if => "if",
        Rule::kw_unless => "unless",
        Rule::kw_true => "true",
        Rule::kw_false => "false",
        Rule::kw_enum => "enum",
        Rule::kw_policy => "policy",
        Rule::kw_type => "type",
        Rule::kw_direct => "direct",
        Rule::kw_only => "only",
        Rule::kw_configuration => "configuration",
        Rule::kw_set => "set",
        Rule::kw_tenant => "tenant",
        Rule::kw_locked => "locked",
        Rule::kw_assign => "assign",
        Rule::kw_to => "to",
        Rule::kw_user => "user",
        Rule::kw_group => "group",
        Rule::kw_rank => "rank",
        Rule::kw_decision => "decision",
        Rule::kw_require => "require",
        Rule::kw_deny => "deny",
        Rule::kw_warn => "warn",
        Rule::kw_allow => "allow",
        Rule::kw_via => "via",
        Rule::kw_expect => "expect",
        _ => return None,
    })
}

/// What a user should read for an expected rule.
fn describe(rule: Rule) -> String {
    if let Some(k) = keyword_text(rule).or(punctuation(rule)) {
        return format!("`{k}`");
    }
    match rule {
        Rule::EOI => "the end of the file",
        Rule::ident | Rule::path => "a name",
        Rule::string | Rule::string_inner | Rule::string_char => "a quoted string",
        Rule::integer => "a whole number",
        Rule::boolean => "`true` or `false`",
        Rule::reason_code => "a reason code in capitals (such as `CHAT_OFF`)",
        Rule::value | Rule::literal | Rule::list => "a value",
        Rule::cmp_op => "a comparison (`==`, `!=`, `<`, `<=`, `>`, `>=`, `in`, `intersects`)",
        Rule::expr | Rule::and_expr | Rule::not_expr | Rule::negation | Rule::comparison | Rule::group => "a condition",
        Rule::condition | Rule::when_if | Rule::when_unless => "`if` or `unless`",
        Rule::via => "`via`",
        Rule::type_ref | Rule::set_type => "a type (`bool`, `int`, `string`, `set<string>` or an enum name)",
        Rule::setting_decl => "a setting declaration (`Name: type = default`)",
        Rule::setting_value => "a setting value (`Name = value`)",
        Rule::direct_only => "`direct only`",
        Rule::locked => "`locked`",
        Rule::user_target => "`user`",
        Rule::group_target => "`group`",
        Rule::params => "a parameter name",
        Rule::require_rule | Rule::deny_rule | Rule::warn_rule | Rule::allow_rule => {
            "a rule (`require`, `deny`, `warn` or `allow`)"
        }
        Rule::enum_def
        | Rule::policy_type
        | Rule::config_def
        | Rule::tenant_values
        | Rule::policy_instance
        | Rule::assignment
        | Rule::decision
        | Rule::expectation => AN_ITEM,
        Rule::expect_allow | Rule::expect_deny => "`allow` or `deny`",
        _ => "something else",
    }
    .to_string()
}

/// Converts a pest error into a located diagnostic.
pub(super) fn syntax_error(file: FileId, text: &str, error: Error<Rule>) -> Diagnostic {
    let pos = match error.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    if let ErrorVariant::CustomError { message } = &error.variant
        && message.contains("limit")
    {
        return Diagnostic::error(Code::NestingTooDeep, "this file is too deeply nested or too complex to parse")
            .at(Span::new(file, pos, pos + 1), "parsing stopped here")
            .help("split long conditions into several rules or decisions");
    }
    if text[pos..].starts_with('"')
        && let Some(d) = bad_string(file, text, pos)
    {
        return d;
    }
    let found = found_at(text, pos);
    let end = pos + found.as_ref().map_or(0, |f| f.len());
    let mut expected: Vec<String> = match &error.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            let item = positives.iter().any(|r| starts_item(*r));
            let mut words: Vec<String> =
                positives.iter().filter(|r| !(item && starts_item(**r))).map(|r| describe(*r)).collect();
            if item {
                words.push(AN_ITEM.to_string());
            }
            words
        }
        ErrorVariant::CustomError { message } => vec![message.clone()],
    };
    expected.sort();
    expected.dedup();
    // A closing brace is always possible where a rule, setting or item could start; say so.
    let message = match &found {
        Some(tok) => format!("expected {}, found `{tok}`", join_or(&expected)),
        None => format!("expected {}, found the end of the file", join_or(&expected)),
    };
    let mut d = Diagnostic::error(Code::Syntax, message).at(Span::new(file, pos, end), "unexpected here");
    if let Some(help) = hint(&found, &expected) {
        d = d.help(help);
    }
    d
}

/// A string literal that doesn't close on its line, or holds an unknown escape.
fn bad_string(file: FileId, text: &str, quote: usize) -> Option<Diagnostic> {
    let mut chars = text[quote + 1..].char_indices();
    while let Some((i, c)) = chars.next() {
        let at = quote + 1 + i;
        match c {
            '"' => return None,
            '\n' => break,
            '\\' => match chars.next() {
                Some((_, '"' | '\\' | 'n' | 't' | 'r' | '{' | '}' | 'u')) => {}
                Some((j, e)) => {
                    return Some(
                        Diagnostic::error(Code::Syntax, format!("unknown escape `\\{e}` in a string"))
                            .at(Span::new(file, at, quote + 1 + j + e.len_utf8()), "unknown escape")
                            .help("strings know `\\\"`, `\\\\`, `\\n`, `\\t`, `\\r`, `\\{`, `\\}` and `\\u{...}`; write `\\\\` for a backslash"),
                    );
                }
                None => break,
            },
            _ => {}
        }
    }
    let end = text[quote..].find('\n').map_or(text.len(), |i| quote + i);
    Some(
        Diagnostic::error(Code::Syntax, "this string is not closed on its line")
            .at(Span::new(file, quote, end), "string starts here")
            .help("close it with `\"`; a string can't span lines (write `\\n` for a line break)"),
    )
}

fn hint(found: &Option<String>, expected: &[String]) -> Option<String> {
    let tok = found.as_deref().unwrap_or("");
    if tok == "=" && expected.iter().any(|e| e.contains("comparison")) {
        return Some("compare with `==`".into());
    }
    if tok == "&&" || tok == "&" {
        return Some("write `and`".into());
    }
    if tok == "||" || tok == "|" {
        return Some("write `or`".into());
    }
    if tok == "!" {
        return Some("write `not`".into());
    }
    if tok.starts_with('\'') {
        return Some("strings use double quotes".into());
    }
    if expected.iter().any(|e| e.contains("reason code")) {
        return Some("a reason code is written in capitals, digits and underscores, such as `CHAT_OFF`".into());
    }
    None
}

/// The token at `pos`, for "found `...`".
fn found_at(text: &str, pos: usize) -> Option<String> {
    let rest = text.get(pos..)?;
    let first = rest.chars().next()?;
    let tok: String = if first.is_alphanumeric() || first == '_' {
        rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect()
    } else if "=!<>&|".contains(first) {
        rest.chars().take_while(|c| "=!<>&|".contains(*c)).take(2).collect()
    } else {
        first.to_string()
    };
    Some(if tok == "\n" { "a line break".to_string() } else { tok })
}

fn join_or(items: &[String]) -> String {
    match items {
        [] => "something else".into(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}
