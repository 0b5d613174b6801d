//! The Teams pack under tenant settings Lakeside doesn't have: every reason that only a
//! tenant-wide switch produces, each shown with a one-line change to the example tenant
//! (the table in `policies/examples/lakeside/README.md#tenant-switch-reasons`).

use crate::support::{assert_agreement, engine, read};
use tenet::Engine;

const TENANT: &str = "policies/examples/lakeside/tenant.tenet";
const DIRECTORY: &str = "policies/examples/lakeside/directory.yaml";

/// The pack and Lakeside with `edit` applied to the tenant file and `dir_edit` to the directory.
fn lakeside(edit: impl Fn(String) -> String, dir_edit: impl Fn(String) -> String) -> Engine {
    let mut files: Vec<(String, String)> = Vec::new();
    let mut pack: Vec<_> = std::fs::read_dir(crate::support::repo().join("policies/teams"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "tenet"))
        .collect();
    pack.sort();
    for p in pack {
        files.push((p.display().to_string(), std::fs::read_to_string(&p).unwrap()));
    }
    files.push((TENANT.to_string(), edit(read(TENANT))));
    let refs: Vec<(&str, &str)> = files.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    engine(&refs, &dir_edit(read(DIRECTORY)))
}

fn replace(from: &'static str, to: &'static str) -> impl Fn(String) -> String {
    move |text: String| {
        assert!(text.contains(from), "the example no longer contains {from:?}");
        text.replacen(from, to, 1)
    }
}

fn append(extra: &'static str) -> impl Fn(String) -> String {
    move |text: String| format!("{text}\n{extra}\n")
}

fn same(text: String) -> String {
    text
}

/// Codes of every blocker and warning in the whole table.
fn codes(engine: &Engine) -> Vec<String> {
    engine
        .table()
        .all()
        .iter()
        .flat_map(|d| {
            d.outcome.blockers.iter().chain(&d.outcome.warnings).map(|r| r.code.to_string()).collect::<Vec<_>>()
        })
        .collect()
}

/// The reasons only a tenant-wide change shows; the example test counts them as exercised.
pub fn tenant_switch_reasons() -> Vec<&'static str> {
    cases().into_iter().map(|(code, _)| code).collect()
}

type Case = (&'static str, Box<dyn Fn() -> Engine>);

fn cases() -> Vec<Case> {
    vec![
        (
            "FEATURE_RETIRED",
            Box::new(|| lakeside(append("tenant ParentConnectionLifecycle { ParentsAppRetired = true }"), same)),
        ),
        ("APP_BLOCKED_TENANT", Box::new(|| lakeside(replace("Status = Allowed }", "Status = Blocked }"), same))),
        (
            "APP_BLOCKED_BY_PUBLISHER_DEFAULT",
            Box::new(|| lakeside(replace("tenant ParentsApp { Status = Allowed }", ""), same)),
        ),
        (
            "APP_BLOCKED_ORG_WIDE_SETTING",
            Box::new(|| {
                lakeside(
                    replace(
                        "GovernanceMode = PermissionPolicies  AllowMicrosoftApps = true",
                        "GovernanceMode = AppCentric  AllowMicrosoftApps = false",
                    ),
                    same,
                )
            }),
        ),
        (
            "APP_NOT_AVAILABLE_TO_USER_ACM",
            Box::new(|| {
                lakeside(
                    |t| {
                        replace("GovernanceMode = PermissionPolicies", "GovernanceMode = AppCentric")(t).replacen(
                            "tenant ParentsApp { Status = Allowed }",
                            "tenant ParentsApp { Status = Allowed  Availability = SpecificUsersOrGroups  AvailableToGroups = [\"sg-teachers\"] }",
                            1,
                        )
                    },
                    same,
                )
            }),
        ),
        (
            "CONSUMER_OFF_TENANT",
            Box::new(|| lakeside(replace("    AllowTeamsConsumer = true\n", "    AllowTeamsConsumer = false\n"), same)),
        ),
        (
            "INBOUND_CONSUMER_OFF_TENANT",
            Box::new(|| {
                lakeside(replace("AllowTeamsConsumerInbound = true", "AllowTeamsConsumerInbound = false"), same)
            }),
        ),
        (
            "ANONYMOUS_JOIN_OFF_TENANT",
            Box::new(|| lakeside(replace("DisableAnonymousJoin = false", "DisableAnonymousJoin = true"), same)),
        ),
        (
            "MANUAL_UPDATE_DISABLED",
            Box::new(|| {
                lakeside(replace("UpdateParentInformation = Enabled", "UpdateParentInformation = Disabled"), same)
            }),
        ),
        ("APPROVALS_APP_BLOCKED", Box::new(|| lakeside(append("tenant ApprovalsApp { Status = Blocked }"), same))),
        (
            "APPROVALS_APP_NOT_AVAILABLE_TO_USER_ACM",
            Box::new(|| {
                lakeside(
                    |t| {
                        append("tenant ApprovalsApp { Availability = NoOne }")(replace(
                            "GovernanceMode = PermissionPolicies",
                            "GovernanceMode = AppCentric",
                        )(t))
                    },
                    same,
                )
            }),
        ),
        (
            "NO_ENABLED_APPROVER",
            Box::new(|| {
                lakeside(same, |d| {
                    replace("    roles: [teams_admin]\n", "    roles: [teams_admin]\n    enabled: false\n")(replace(
                        "    roles: [global_admin]\n",
                        "    roles: [global_admin]\n    enabled: false\n",
                    )(
                        d
                    ))
                })
            }),
        ),
        (
            "APPROVAL_BLOCKED_DISABLED_ADMIN",
            Box::new(|| {
                lakeside(same, replace("    roles: [teams_admin]\n", "    roles: [teams_admin]\n    enabled: false\n"))
            }),
        ),
        (
            "PRIVACY_MODE_ON",
            Box::new(|| lakeside(replace("EnablePrivacyMode = false", "EnablePrivacyMode = true"), same)),
        ),
        (
            "GUARDIAN_RESTRICTED_DEFAULT",
            Box::new(|| lakeside(replace("GuardianPermissions = Relaxed", "GuardianPermissions = Restricted"), same)),
        ),
        (
            "SMS_INVITES_RETIRED",
            Box::new(|| lakeside(append("tenant ParentConnectionLifecycle { SmsInvitesRetired = true }"), same)),
        ),
    ]
}

#[test]
fn every_tenant_switch_reason_shows_with_its_change_and_the_witnesses_agree() {
    let baseline = codes(&Engine::bundled().unwrap_or_else(|r| panic!("{:?}", r.diagnostics)).0);
    for (code, build) in cases() {
        assert!(!baseline.iter().any(|c| c == code) || code == "NO_INVITE_CHANNEL", "{code} already shows in Lakeside");
        let engine = build();
        assert!(codes(&engine).iter().any(|c| c == code), "{code} does not show with its tenant change");
        assert_agreement(&engine);
    }
}

#[test]
fn the_tenant_app_block_beats_a_user_level_allow_in_the_pack() {
    // Olivia Brown's app permission policy allows Parents by name; the tenant block still wins
    // and is her only blocker.
    let engine = lakeside(replace("Status = Allowed }", "Status = Blocked }"), same);
    let d = engine.decide("olivia.brown@lakeside.edu", "parents_app", None).unwrap();
    let codes: Vec<&str> = d.outcome.blockers.iter().map(|b| b.code.as_ref()).collect();
    assert_eq!(codes, ["APP_BLOCKED_TENANT"]);
    let allowed = Engine::bundled().unwrap_or_else(|r| panic!("{:?}", r.diagnostics)).0;
    assert!(allowed.decide("olivia.brown@lakeside.edu", "parents_app", None).unwrap().allowed());
}
