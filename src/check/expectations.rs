//! Expectations (policy tests): every name they use must exist, and the reason code or channel
//! they expect must be one the decision can produce.

use super::Cx;
use crate::ast::{self, Item};
use crate::diagnostic::{Code, Diagnostic};
use crate::eval::NO_ALLOW_RULE;
use crate::model::{Expectation, Expected, Rule};

pub(super) fn expectations(cx: &mut Cx, files: &[ast::File]) {
    for e in files.iter().flat_map(|f| &f.items).filter_map(|i| match i {
        Item::Expect(e) => Some(e),
        _ => None,
    }) {
        if let Some(x) = expectation(cx, e) {
            cx.model.expectations.push(x);
        }
    }
}

fn expectation(cx: &mut Cx, e: &ast::Expectation) -> Option<Expectation> {
    let user = match cx.model.directory.user(&e.user.name) {
        Some((i, _)) => Some(i),
        None => {
            let users: Vec<String> = cx.model.directory.user_keys().map(str::to_string).collect();
            cx.unknown(
                Code::UnknownUser,
                "user",
                &e.user.name,
                e.user.span,
                users.iter().map(String::as_str),
                "add the user to the directory file",
            );
            None
        }
    };
    let Some((decision, _, d)) = cx.model.decisions.get_full(&e.decision.name) else {
        let names: Vec<String> = cx.model.decisions.keys().cloned().collect();
        cx.unknown(
            Code::UnknownDecision,
            "decision",
            &e.decision.name,
            e.decision.span,
            names.iter().map(String::as_str),
            "name a decision of the policy set",
        );
        return None;
    };
    let has_guardian = d.has_guardian;
    let guardian = match (&e.guardian, has_guardian) {
        (Some(g), true) => match cx.model.directory.guardian(&g.name) {
            Some((i, _)) => Some(i),
            None => {
                // The id may be an email address: it is not repeated in the message.
                cx.push(
                    Diagnostic::error(Code::UnknownGuardian, "no guardian in the directory has this id or email")
                        .at(g.span, "unknown guardian")
                        .help("name a guardian by its `id`, or by its email when it has no id")
                        .personal(),
                );
                return None;
            }
        },
        (None, false) => None,
        (Some(g), false) => {
            cx.push(
                Diagnostic::error(Code::BadParameters, format!("`{}` is about the user only", e.decision.name))
                    .at(g.span, "no guardian here")
                    .help("remove the guardian from this expectation"),
            );
            return None;
        }
        (None, true) => {
            cx.push(
                Diagnostic::error(Code::BadParameters, format!("`{}` is about a guardian", e.decision.name))
                    .at(e.decision.span, "needs a guardian")
                    .help(format!("write `expect \"{}\" {} \"guardian-id\" ...`", e.user.name, e.decision.name)),
            );
            return None;
        }
    };
    let expected = match &e.outcome {
        ast::Expected::Allow { via } => {
            if let Some(v) = via {
                let channels = channels(cx, decision);
                if !channels.contains(&v.name) {
                    let fallback = if channels.is_empty() {
                        format!("`{}` allows through no channel: write `allow` alone", e.decision.name)
                    } else {
                        format!("`{}` allows via {}", e.decision.name, channels.join(", "))
                    };
                    let what = format!("channel of `{}`", e.decision.name);
                    cx.unknown(
                        Code::UnknownReason,
                        &what,
                        &v.name,
                        v.span,
                        channels.iter().map(String::as_str),
                        &fallback,
                    );
                    return None;
                }
            }
            Expected::Allow { via: via.as_ref().map(|v| v.name.as_str().into()) }
        }
        ast::Expected::Deny { code } => {
            if let Some(c) = code {
                let codes = reasons(cx, decision);
                if !codes.contains(&c.name) {
                    let what = format!("reason of `{}`", e.decision.name);
                    let fallback = format!("`{}` denies with {}", e.decision.name, codes.join(", "));
                    cx.unknown(
                        Code::UnknownReason,
                        &what,
                        &c.name,
                        c.span,
                        codes.iter().map(String::as_str),
                        &fallback,
                    );
                    return None;
                }
            }
            Expected::Deny { code: code.as_ref().map(|c| c.name.as_str().into()) }
        }
    };
    Some(Expectation { user: user?, decision, guardian, expected, span: e.span })
}

/// Deny codes a decision can produce, its required decisions' included, and `NO_ALLOW_RULE`.
fn reasons(cx: &Cx, decision: usize) -> Vec<String> {
    let mut out = vec![NO_ALLOW_RULE.to_string()];
    let mut stack = vec![decision];
    let mut seen = vec![false; cx.model.decisions.len()];
    while let Some(d) = stack.pop() {
        if std::mem::replace(&mut seen[d], true) {
            continue;
        }
        for r in &cx.model.decisions[d].rules {
            match r {
                Rule::Deny(v) if !out.iter().any(|c| **c == *v.code) => out.push(v.code.to_string()),
                Rule::Require { decision, .. } => stack.push(*decision),
                _ => {}
            }
        }
    }
    out
}

fn channels(cx: &Cx, decision: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in &cx.model.decisions[decision].rules {
        if let Rule::Allow { via: Some(v), .. } = r
            && !out.iter().any(|c| **c == **v)
        {
            out.push(v.to_string());
        }
    }
    out
}
