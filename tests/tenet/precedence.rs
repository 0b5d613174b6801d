//! The four precedence patterns of the design, each on a small tenant written for the test and
//! again on the real Teams pack with a tenant of the test's own.

use crate::support::engine;

const SCHEMA: &str = r#"
enum AppStatus { BlockedByPublisher, Allowed, Blocked }
enum CatalogAppsType { AllowedAppList, BlockedAppList }
configuration ParentsApp { Status: AppStatus = BlockedByPublisher }
configuration TenantFederationConfiguration { AllowTeamsConsumer: bool = true }
policy type TeamsAppPermissionPolicy direct only {
    DefaultCatalogAppsType: CatalogAppsType = BlockedAppList
    DefaultCatalogApps: set<string> = []
}
policy type ExternalAccessPolicy {
    EnableTeamsConsumerAccess: bool = true
}
locked policy ExternalAccessPolicy "FederationOnly" { EnableTeamsConsumerAccess = true }
decision parents_app(user) {
    deny APP_BLOCKED_TENANT "blocked for the whole tenant" if tenant.ParentsApp.Status == Blocked
    deny APP_NOT_ALLOWED "not allowed yet" if tenant.ParentsApp.Status == BlockedByPublisher
    deny APP_BLOCKED_BY_POLICY "blocked by {policy}"
        unless (user.TeamsAppPermissionPolicy.DefaultCatalogAppsType == AllowedAppList
                and "Parents" in user.TeamsAppPermissionPolicy.DefaultCatalogApps)
            or (user.TeamsAppPermissionPolicy.DefaultCatalogAppsType == BlockedAppList
                and not ("Parents" in user.TeamsAppPermissionPolicy.DefaultCatalogApps))
    allow
}
decision consumer(user) {
    deny CONSUMER_OFF_TENANT "tenant switch off" unless tenant.TenantFederationConfiguration.AllowTeamsConsumer
    deny CONSUMER_OFF_USER "off in {policy}" unless user.ExternalAccessPolicy.EnableTeamsConsumerAccess
    allow
}
"#;

const DIRECTORY: &str = "users:\n  - upn: ann@x.edu\n  - upn: bob@x.edu\n  - upn: cat@x.edu\ngroups:\n  - id: sg-a\n    members: [ann@x.edu, bob@x.edu]\n  - id: sg-b\n    members: [ann@x.edu]\n";

fn codes(tenant: &str, user: &str, decision: &str) -> (bool, Vec<String>, Vec<(String, String)>) {
    let e = engine(&[("schema.tenet", SCHEMA), ("tenant.tenet", tenant)], DIRECTORY);
    let d = e.decide(user, decision, None).unwrap();
    let prov = d.provenance().into_iter().map(|p| (p.setting.to_string(), p.source.to_string())).collect();
    (d.allowed(), d.outcome.blockers.iter().map(|b| b.code.to_string()).collect(), prov)
}

#[test]
fn a_tenant_level_app_block_overrides_any_user_level_allow() {
    let allow_for_ann = r#"
        policy TeamsAppPermissionPolicy "AllowParents" { DefaultCatalogAppsType = AllowedAppList DefaultCatalogApps = ["Parents"] }
        assign TeamsAppPermissionPolicy "AllowParents" to user "ann@x.edu"
    "#;
    let allowed = format!("tenant ParentsApp {{ Status = Allowed }}\n{allow_for_ann}");
    assert!(codes(&allowed, "ann@x.edu", "parents_app").0);
    let blocked = format!("tenant ParentsApp {{ Status = Blocked }}\n{allow_for_ann}");
    let (ok, blockers, _) = codes(&blocked, "ann@x.edu", "parents_app");
    assert!(!ok);
    assert_eq!(blockers, ["APP_BLOCKED_TENANT"], "the user-level allow must not hide or beat the tenant block");
}

#[test]
fn users_without_an_assignment_fall_back_to_global() {
    let tenant = r#"
        policy ExternalAccessPolicy "Global" { EnableTeamsConsumerAccess = false }
        policy ExternalAccessPolicy "Teachers" { EnableTeamsConsumerAccess = true }
        assign ExternalAccessPolicy "Teachers" to group "sg-a" rank 1
    "#;
    let (ok, blockers, prov) = codes(tenant, "cat@x.edu", "consumer");
    assert!(!ok);
    assert_eq!(blockers, ["CONSUMER_OFF_USER"]);
    assert!(
        prov.iter().any(|(s, src)| s == "user.ExternalAccessPolicy.EnableTeamsConsumerAccess"
            && src.contains("ExternalAccessPolicy Global, the org-wide default")),
        "{prov:?}"
    );
    // A group member gets the group's instance instead.
    assert!(codes(tenant, "bob@x.edu", "consumer").0);
}

#[test]
fn direct_beats_group_and_the_best_rank_wins() {
    let tenant = r#"
        policy ExternalAccessPolicy "On" { EnableTeamsConsumerAccess = true }
        policy ExternalAccessPolicy "Off" { EnableTeamsConsumerAccess = false }
        assign ExternalAccessPolicy "Off" to group "sg-a" rank 2
        assign ExternalAccessPolicy "On" to group "sg-b" rank 1
        assign ExternalAccessPolicy "On" to user "bob@x.edu"
    "#;
    // ann is in sg-a (rank 2, Off) and sg-b (rank 1, On): rank 1 wins.
    let (ok, _, prov) = codes(tenant, "ann@x.edu", "consumer");
    assert!(ok, "{prov:?}");
    assert!(prov.iter().any(|(_, src)| src.contains("via group sg-b (rank 1, assigned at ")), "{prov:?}");
    // bob is in sg-a (Off) but has a direct assignment (On): direct wins.
    let (ok, _, prov) = codes(tenant, "bob@x.edu", "consumer");
    assert!(ok);
    assert!(prov.iter().any(|(_, src)| src.contains("assigned directly at ")), "{prov:?}");
}

#[test]
fn locked_subscription_defaults_can_be_assigned_but_not_modified() {
    let tenant = r#"
        policy ExternalAccessPolicy "Global" { EnableTeamsConsumerAccess = false }
        assign ExternalAccessPolicy "FederationOnly" to user "ann@x.edu"
    "#;
    let (ok, _, prov) = codes(tenant, "ann@x.edu", "consumer");
    assert!(ok, "FederationOnly keeps consumer access on");
    assert!(prov.iter().any(|(_, src)| src.contains("Tag:FederationOnly, locked")), "{prov:?}");

    let modified = "policy ExternalAccessPolicy \"FederationOnly\" { EnableTeamsConsumerAccess = false }";
    let sources = tenet::Sources {
        policies: vec![tenet::Source::new("schema.tenet", SCHEMA), tenet::Source::new("tenant.tenet", modified)],
        directory: tenet::DirectorySource::File(tenet::Source::new("directory.yaml", DIRECTORY)),
    };
    let report = tenet::Engine::build(sources).expect_err("modifying a locked instance is an error");
    let d = &report.diagnostics[0];
    assert_eq!(d.code, tenet::unstable::diagnostic::Code::LockedInstance);
    let files: Vec<_> = d.labels.iter().map(|l| report.sources.get(l.span.file).map(|s| s.name.to_string())).collect();
    assert!(
        files.contains(&Some("tenant.tenet".into())) && files.contains(&Some("schema.tenet".into())),
        "points at both places: {files:?}"
    );
}

#[test]
fn consumer_access_needs_the_tenant_switch_and_the_user_policy() {
    let cases = [
        (true, true, true, vec![]),
        (false, true, false, vec!["CONSUMER_OFF_TENANT"]),
        (true, false, false, vec!["CONSUMER_OFF_USER"]),
        (false, false, false, vec!["CONSUMER_OFF_TENANT", "CONSUMER_OFF_USER"]),
    ];
    for (tenant_on, user_on, expect, blockers) in cases {
        let tenant = format!(
            "tenant TenantFederationConfiguration {{ AllowTeamsConsumer = {tenant_on} }}\npolicy ExternalAccessPolicy \"Global\" {{ EnableTeamsConsumerAccess = {user_on} }}"
        );
        let (ok, got, _) = codes(&tenant, "cat@x.edu", "consumer");
        assert_eq!(ok, expect, "tenant {tenant_on} user {user_on}");
        assert_eq!(got, blockers, "every blocker is reported");
    }
}
