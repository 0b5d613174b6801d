//! Reading a change script: Teams PowerShell cmdlet lines, as an admin would run them.
//!
//! One command per line; a line ending in a backtick goes on on the next. `#` starts a comment
//! outside quotes. Parameters are `-Name value`, `-Name:value` or a bare switch `-Name`. Values
//! are `$true`, `$false`, `$null`, integers, quoted strings (`'…'` or `"…"`, a doubled quote
//! inside stands for one), bare words, and lists (`@("a", "b")` or `a, b`). Anything else is a
//! located error: nothing in a script is skipped.

use crate::diagnostic::{Code, Diagnostic};
use crate::source::{FileId, Span};

/// One cmdlet line.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    /// `Set-CsExternalAccessPolicy`, as written.
    pub name: String,
    /// The cmdlet's name.
    pub name_span: Span,
    /// The whole command, for messages and causes.
    pub span: Span,
    /// The command's text on one line.
    pub text: String,
    /// In order.
    pub params: Vec<Param>,
}

/// `-Name value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// Without the dash, as written.
    pub name: String,
    /// The value; `None` for a bare switch (`-Force`).
    pub value: Option<Arg>,
    /// The parameter and its value.
    pub span: Span,
}

/// A parameter's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// `$true` or `$false`.
    Bool(bool),
    /// `$null`.
    Null,
    /// An integer.
    Int(i64),
    /// A quoted string or a bare word.
    Text(String),
    /// `@(…)` or `a, b`.
    List(Vec<String>),
}

impl Command {
    /// The parameter of that name (compared without case), if given.
    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name.eq_ignore_ascii_case(name))
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Param(String, bool),
    Word(String),
    Quoted(String),
    Comma,
    ListStart,
    ListEnd,
}

/// Reads a change script; `file` is its id in the model's source map.
pub fn parse(file: FileId, text: &str) -> Result<Vec<Command>, Vec<Diagnostic>> {
    let mut commands = Vec::new();
    let mut errors = Vec::new();
    for (start, line) in logical_lines(text) {
        match command(file, start, &line) {
            Ok(Some(c)) => commands.push(c),
            Ok(None) => {}
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() { Ok(commands) } else { Err(errors) }
}

/// Lines joined at trailing backticks, each with the byte offset where it starts. The joined
/// text keeps every byte's offset (the backtick and line end become spaces).
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    let mut offset = 0;
    for raw in text.split_inclusive('\n') {
        let body = raw.trim_end_matches(['\n', '\r']);
        let continued = body.trim_end().ends_with('`');
        let padded = if continued {
            let cut = body.trim_end().len() - 1;
            format!("{}{}", &body[..cut], " ".repeat(raw.len() - cut))
        } else {
            format!("{body}{}", " ".repeat(raw.len() - body.len()))
        };
        match current.as_mut() {
            Some((_, acc)) => acc.push_str(&padded),
            None => current = Some((offset, padded)),
        }
        if !continued && let Some(done) = current.take() {
            out.push(done);
        }
        offset += raw.len();
    }
    out.extend(current);
    out
}

fn error(file: FileId, at: usize, len: usize, message: String, label: &str, help: &str) -> Diagnostic {
    Diagnostic::error(Code::ChangeScript, message).at(Span::new(file, at, at + len.max(1)), label).help(help)
}

/// Splits a line into tokens with their byte offsets; stops at a comment.
fn tokens(file: FileId, start: usize, line: &str) -> Result<Vec<(usize, usize, Token)>, Diagnostic> {
    let bytes = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let at = i;
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'#' => break,
            b',' => {
                out.push((at, 1, Token::Comma));
                i += 1;
            }
            b'@' if bytes.get(i + 1) == Some(&b'(') => {
                out.push((at, 2, Token::ListStart));
                i += 2;
            }
            b')' => {
                out.push((at, 1, Token::ListEnd));
                i += 1;
            }
            b'\'' | b'"' => {
                let mut text = String::new();
                i += 1;
                loop {
                    match bytes.get(i) {
                        None => {
                            return Err(error(
                                file,
                                start + at,
                                line.len() - at,
                                "a string is not closed".into(),
                                "opened here",
                                "close it with the same quote on this line",
                            ));
                        }
                        Some(&q) if q == c && bytes.get(i + 1) == Some(&c) => {
                            text.push(c as char);
                            i += 2;
                        }
                        Some(&q) if q == c => {
                            i += 1;
                            break;
                        }
                        Some(_) => {
                            let ch = line[i..].chars().next().unwrap_or(' ');
                            text.push(ch);
                            i += ch.len_utf8();
                        }
                    }
                }
                out.push((at, i - at, Token::Quoted(text)));
            }
            _ => {
                let end = line[i..].find([' ', '\t', ',', ')', '#', '\r', '\n']).map_or(line.len(), |n| i + n);
                let word = &line[i..end];
                i = end;
                let param = word.strip_prefix('-').filter(|w| w.starts_with(|c: char| c.is_ascii_alphabetic()));
                match param {
                    Some(p) => match p.split_once(':') {
                        Some((name, value)) => {
                            out.push((at, name.len() + 1, Token::Param(name.to_string(), true)));
                            let vat = at + name.len() + 2;
                            if value.is_empty() {
                                return Err(error(
                                    file,
                                    start + at,
                                    word.len(),
                                    format!("`-{name}:` has no value"),
                                    "value missing",
                                    "write `-Name:$true` or `-Name value`",
                                ));
                            }
                            out.push((vat, value.len(), Token::Word(value.to_string())));
                        }
                        None => out.push((at, word.len(), Token::Param(p.to_string(), false))),
                    },
                    None => out.push((at, word.len(), Token::Word(word.to_string()))),
                }
            }
        }
    }
    Ok(out)
}

fn command(file: FileId, start: usize, line: &str) -> Result<Option<Command>, Diagnostic> {
    let toks = tokens(file, start, line)?;
    let Some((name_at, name_len, first)) = toks.first().cloned() else { return Ok(None) };
    let Token::Word(name) = first else {
        return Err(error(
            file,
            start + name_at,
            name_len,
            "a line must start with a cmdlet, such as `Set-CsExternalAccessPolicy`".into(),
            "not a cmdlet",
            "one cmdlet per line; see the README's what-if section for the supported ones",
        ));
    };
    let mut params: Vec<Param> = Vec::new();
    let mut i = 1;
    let mut end = name_at + name_len;
    while i < toks.len() {
        let (at, len, tok) = toks[i].clone();
        let Token::Param(pname, _) = tok else {
            return Err(error(
                file,
                start + at,
                len,
                "a value without a parameter".into(),
                "expected `-Name` before it",
                "give every value a parameter name, such as `-Identity Global`",
            ));
        };
        i += 1;
        let mut value = None;
        let mut vend = at + len;
        if i < toks.len() && !matches!(toks[i].2, Token::Param(..)) {
            let (arg, next, last) = arg(file, start, &toks, i)?;
            value = Some(arg);
            i = next;
            vend = last;
        }
        end = vend;
        params.push(Param { name: pname, value, span: Span::new(file, start + at, start + vend) });
    }
    let text = line[name_at..end].split_whitespace().collect::<Vec<_>>().join(" ");
    Ok(Some(Command {
        name,
        name_span: Span::new(file, start + name_at, start + name_at + name_len),
        span: Span::new(file, start + name_at, start + end),
        text,
        params,
    }))
}

/// A value starting at token `i`: returns it, the next token's index and where it ends.
fn arg(
    file: FileId,
    start: usize,
    toks: &[(usize, usize, Token)],
    i: usize,
) -> Result<(Arg, usize, usize), Diagnostic> {
    let scalar = |t: &Token| match t {
        Token::Word(w) | Token::Quoted(w) => Some(w.clone()),
        _ => None,
    };
    let (at, len, tok) = &toks[i];
    if *tok == Token::ListStart {
        let mut items = Vec::new();
        let mut j = i + 1;
        loop {
            match toks.get(j) {
                Some((e, _, Token::ListEnd)) => return Ok((Arg::List(items), j + 1, e + 1)),
                Some((_, _, Token::Comma)) => j += 1,
                Some((_, _, t)) if scalar(t).is_some() => {
                    items.extend(scalar(t));
                    j += 1;
                }
                _ => {
                    return Err(error(
                        file,
                        start + at,
                        *len,
                        "a list is not closed".into(),
                        "opened here",
                        "write lists as `@(\"a\", \"b\")`",
                    ));
                }
            }
        }
    }
    let Some(first) = scalar(tok) else {
        return Err(error(
            file,
            start + at,
            *len,
            "expected a value".into(),
            "here",
            "write a value after the parameter",
        ));
    };
    // `a, b, c`: a list without `@( )`.
    if matches!(toks.get(i + 1), Some((_, _, Token::Comma))) {
        let mut items = vec![first];
        let mut j = i + 1;
        let mut last = at + len;
        while let Some((_, _, Token::Comma)) = toks.get(j) {
            match toks.get(j + 1) {
                Some((e, l, t)) if scalar(t).is_some() => {
                    items.extend(scalar(t));
                    last = e + l;
                    j += 2;
                }
                _ => {
                    let (e, l, _) = &toks[j];
                    return Err(error(file, start + e, *l, "a list ends with a comma".into(), "here", "remove it"));
                }
            }
        }
        return Ok((Arg::List(items), j, last));
    }
    let value = match (tok, first.to_ascii_lowercase().as_str()) {
        (Token::Word(_), "$true") => Arg::Bool(true),
        (Token::Word(_), "$false") => Arg::Bool(false),
        (Token::Word(_), "$null") => Arg::Null,
        (Token::Word(w), _) if w.starts_with('$') => {
            return Err(error(
                file,
                start + at,
                *len,
                format!("`{w}` is a variable, which a change script can't resolve"),
                "a variable",
                "write the value itself",
            ));
        }
        (Token::Word(w), _) => w.parse::<i64>().map_or_else(|_| Arg::Text(first.clone()), Arg::Int),
        _ => Arg::Text(first),
    };
    Ok((value, i + 1, at + len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Command {
        let mut commands = parse(FileId(0), text).unwrap();
        assert_eq!(commands.len(), 1, "{commands:?}");
        commands.remove(0)
    }

    #[test]
    fn parameters_values_continuations_and_comments() {
        let c = one(
            "# a comment\nSet-CsExternalAccessPolicy -Identity 'Tag:Teachers' `\n   -EnableTeamsConsumerAccess:$false -Count 3 -Name \"it\"\"s\" -List @('a', \"b\") -More x, y -Force # done\n",
        );
        assert_eq!(c.name, "Set-CsExternalAccessPolicy");
        let v = |n: &str| c.param(n).unwrap().value.clone();
        assert_eq!(v("identity"), Some(Arg::Text("Tag:Teachers".into())));
        assert_eq!(v("EnableTeamsConsumerAccess"), Some(Arg::Bool(false)));
        assert_eq!(v("Count"), Some(Arg::Int(3)));
        assert_eq!(v("Name"), Some(Arg::Text("it\"s".into())));
        assert_eq!(v("List"), Some(Arg::List(vec!["a".into(), "b".into()])));
        assert_eq!(v("More"), Some(Arg::List(vec!["x".into(), "y".into()])));
        assert_eq!(v("Force"), None);
        assert!(
            c.text.starts_with("Set-CsExternalAccessPolicy -Identity 'Tag:Teachers' -EnableTeamsConsumerAccess:$false")
        );
        assert!(!c.text.contains('#'));
    }

    #[test]
    fn what_a_script_cannot_say_is_a_located_error() {
        for (text, message) in [
            ("Set-CsX -Identity 'open\n", "not closed"),
            ("Set-CsX Global\n", "a value without a parameter"),
            ("-Identity Global\n", "must start with a cmdlet"),
            ("Set-CsX -Identity $policy\n", "variable"),
            ("Set-CsX -List @('a', 'b'\n", "list is not closed"),
            ("Set-CsX -List a,\n", "ends with a comma"),
            ("Set-CsX -Flag:\n", "has no value"),
        ] {
            let errors = parse(FileId(0), &format!("# first\n{text}")).unwrap_err();
            assert_eq!(errors.len(), 1, "{text}");
            assert!(errors[0].message.contains(message), "{text}: {}", errors[0].message);
            let span = errors[0].primary_span().unwrap();
            assert!(span.start >= 8, "{text}: located on its own line");
            assert_eq!(errors[0].code, Code::ChangeScript);
        }
    }
}
