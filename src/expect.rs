//! Running expectations (policy tests) against the compiled table.

use crate::model::Expected;
use crate::table::{DecisionHandle, DecisionTable, GuardianHandle, UserHandle};
use serde::Serialize;

/// The result of one expectation.
#[derive(Debug, Clone, Serialize)]
pub struct TestResult {
    pub user: String,
    pub decision: String,
    pub guardian: Option<String>,
    /// What the expectation says: `allow`, `allow via sms`, `deny`, `deny CODE`.
    pub expected: String,
    /// What the table says, in the same words (the deciding reason's code for a deny).
    pub actual: String,
    pub passed: bool,
    /// `file:line:col` of the expectation.
    pub location: String,
}

/// Runs every expectation of the table's model, in file order.
pub fn run(table: &DecisionTable) -> Vec<TestResult> {
    let m = table.model();
    m.expectations
        .iter()
        .map(|x| {
            let guardian = x.guardian.map(GuardianHandle);
            let d = table.decide_handles(UserHandle(x.user), DecisionHandle(x.decision), guardian);
            let (actual, passed) = match d {
                Ok(d) => {
                    let o = d.outcome;
                    let actual = match (o.allowed, &o.channel) {
                        (true, Some(c)) => format!("allow via {c}"),
                        (true, None) => "allow".to_string(),
                        (false, _) => format!("deny {}", o.reason.code),
                    };
                    let passed = match &x.expected {
                        Expected::Allow { via } => o.allowed && (via.is_none() || via == &o.channel),
                        Expected::Deny { code } => !o.allowed && code.as_ref().is_none_or(|c| *c == o.reason.code),
                    };
                    (actual, passed)
                }
                Err(e) => (format!("error: {e}"), false),
            };
            let expected = match &x.expected {
                Expected::Allow { via: Some(v) } => format!("allow via {v}"),
                Expected::Allow { via: None } => "allow".to_string(),
                Expected::Deny { code: Some(c) } => format!("deny {c}"),
                Expected::Deny { code: None } => "deny".to_string(),
            };
            TestResult {
                user: m.directory.user_at(x.user).upn().to_string(),
                decision: m.decisions[x.decision].name.clone(),
                guardian: x.guardian.map(|g| m.directory.guardian_at(g).id().to_string()),
                expected,
                actual,
                passed,
                location: m.location(x.span),
            }
        })
        .collect()
}
