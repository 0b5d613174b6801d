//! `tenet fix`: every suggestion it prints allows the decision once made (cmdlet lines through
//! what-if, plain actions through the library), its collateral is what a diff of the two tables
//! counts, Teams' refusals are respected, and nothing is suggested when nothing can allow it.

use crate::support::{Scratch, generated, repo};
use std::process::{Command, Output};
use tenet::fix::{self, Fix};
use tenet::snapshot::{Guardians, changes_between};
use tenet::unstable::model::Model;
use tenet::{Engine, Source};

fn tenet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tenet")).args(args).current_dir(repo()).output().expect("tenet runs")
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Every denied question of a district: (user, decision, guardian).
fn denied(engine: &Engine) -> Vec<(String, String, Option<String>)> {
    let table = engine.table();
    table
        .every_query()
        .filter_map(|(u, d, g)| {
            let a = table.decide_handles(u, d, g).ok()?;
            (!a.allowed()).then(|| {
                (a.user().upn().to_string(), a.decision_name().to_string(), a.guardian().map(|g| g.id().to_string()))
            })
        })
        .collect()
}

/// The checks every suggestion of `found` must pass: made on the engine (cmdlet lines exactly
/// as what-if reads them, or plain actions too), the decision is allowed; the counts of other
/// decisions it changes are a diff's.
fn assert_verified(engine: &Engine, q: &(String, String, Option<String>), found: &Fix) {
    let (user, decision, guardian) = q;
    let model: &Model = engine.table().model();
    for s in &found.suggestions {
        assert!(!s.steps.is_empty(), "{q:?}: an empty suggestion");
        let after = if s.steps.iter().all(fix::Step::is_cmdlet) {
            engine
                .with_changes(Source::new("fix.ps1", s.script()))
                .unwrap_or_else(|r| panic!("{q:?}: what-if refuses {:?}: {:?}", s.script(), r.diagnostics))
        } else {
            engine
                .with_steps(&s.steps)
                .unwrap_or_else(|r| panic!("{q:?}: can't make {:?}: {:?}", s.steps, r.diagnostics))
        };
        let answer = after.decide(user, decision, guardian.as_deref()).expect("asks again");
        assert!(answer.allowed(), "{q:?}: {:?} doesn't allow it: {:?}", s.steps, answer.outcome);
        let changes = changes_between(engine.table(), after.table(), Guardians::Contacts);
        let others = changes.iter().filter(|c| &c.key.0 != user).count();
        assert_eq!(s.also_changes, others, "{q:?}: collateral of {:?}", s.steps);
        let own_others = changes
            .iter()
            .filter(|c| &c.key.0 == user && !(&c.key.1 == decision && c.key.2 == guardian.as_deref().unwrap_or("-")))
            .count();
        assert_eq!(s.also_changes_for_user, own_others, "{q:?}: the user's other decisions changed by {:?}", s.steps);
        // Teams' rules: a locked default is never edited; per-user types never go to a group.
        for step in s.steps.iter().filter(|x| x.is_cmdlet()) {
            for (name, t) in &model.policy_types {
                for i in t.instances.values().filter(|i| i.locked) {
                    let edit = format!("Set-Cs{name} -Identity {} ", i.identity());
                    assert!(!step.text.starts_with(&edit), "{q:?}: edits a locked default: {}", step.text);
                }
                if t.direct_only {
                    assert!(
                        !(step.text.starts_with(&format!("Grant-Cs{name} ")) && step.text.contains(" -Group ")),
                        "{q:?}: group-assigns a per-user type: {}",
                        step.text
                    );
                }
            }
        }
    }
    // Least collateral first.
    let order: Vec<usize> = found.suggestions.iter().map(|s| s.also_changes).collect();
    assert!(order.windows(2).all(|w| w[0] <= w[1]), "{q:?}: not ranked: {order:?}");
}

#[test]
fn every_suggestion_for_the_bundled_district_allows_its_decision() {
    let (engine, _) = Engine::bundled().expect("builds");
    let questions = denied(&engine);
    assert!(questions.len() > 50, "the example has denials to fix");
    let (mut fixed, mut unfixable) = (0, 0);
    for q in &questions {
        let found = fix::fix(engine.table(), &q.0, &q.1, q.2.as_deref(), 3).expect("a known question");
        assert!(!found.before.allowed);
        assert_verified(&engine, q, &found);
        if found.suggestions.is_empty() {
            assert!(!found.unfixable.is_empty(), "{q:?}: neither a suggestion nor a reason");
            unfixable += 1;
        } else {
            fixed += 1;
        }
    }
    // Guardians already on Teams get no invite whatever the admin does; most of the rest is fixable.
    assert!(fixed > unfixable, "fixed {fixed}, unfixable {unfixable}");
}

#[test]
fn suggestions_on_generated_districts_allow_their_decisions() {
    for seed in [3, 11] {
        let engine = generated(seed, 200);
        let questions = denied(&engine);
        let mut rng = tenet::unstable::generate::Rng::new(seed);
        for _ in 0..25 {
            let q = &questions[rng.below(questions.len())];
            let found = fix::fix(engine.table(), &q.0, &q.1, q.2.as_deref(), 2).expect("a known question");
            assert_verified(&engine, q, &found);
        }
    }
}

#[test]
fn a_per_user_fix_beats_editing_global_and_feeds_what_if() {
    // Jamal holds a policy that turns unmanaged accounts off; the Teachers policy allows them.
    let out = tenet(&["fix", "--user", "jamal.wright@lakeside.edu", "--decision", "chat_with_guardians"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let shown = text(&out);
    assert!(shown.contains("denied (CONSUMER_OFF_USER)"), "{shown}");
    let first = shown.lines().find(|l| l.trim_start().starts_with("1.")).unwrap_or_default();
    assert!(first.contains("also changes no other user's decision"), "{shown}");
    assert!(
        shown.contains("Grant-CsExternalAccessPolicy -Identity jamal.wright@lakeside.edu -PolicyName Tag:Teachers"),
        "{shown}"
    );
    assert!(shown.contains("where: Teams admin center > Users > Manage users"), "{shown}");
    // The best one as a script, run through what-if: the decision flips.
    let scratch = Scratch::copy("policies/examples/lakeside", "fix-ps1");
    let script = text(&tenet(&[
        "fix",
        "--user",
        "jamal.wright@lakeside.edu",
        "--decision",
        "chat_with_guardians",
        "--format",
        "ps1",
    ]));
    let path = scratch.0.join("fix.ps1");
    std::fs::write(&path, &script).expect("writes");
    let what_if = tenet(&["what-if", "--change", path.to_str().unwrap_or_default()]);
    assert_eq!(what_if.status.code(), Some(3));
    assert!(
        text(&what_if).contains("jamal.wright@lakeside.edu chat_with_guardians: deny (CONSUMER_OFF_USER) -> allow"),
        "{}",
        text(&what_if)
    );
}

#[test]
fn fix_json_lists_cmdlet_lines_and_plain_actions_apart() {
    let out = tenet(&["fix", "--user", "liam.chen@lakeside.edu", "--decision", "parents_app", "--format", "json"]);
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(j["allowed"], false);
    assert_eq!(j["blockers"][0], "NOT_CLASS_TEAM_OWNER");
    let s = &j["suggestions"][0];
    assert_eq!(s["changes"].as_array().map(Vec::len), Some(0), "{j}");
    let action = s["plain_actions"][0]["action"].as_str().unwrap_or_default();
    assert!(action.starts_with("Make liam.chen@lakeside.edu an owner of the class team"), "{j}");
    assert_eq!(s["also_changes"], 0);
    assert_eq!(s["verified"], true);
    // A cmdlet suggestion's lines are in `changes`.
    let out =
        tenet(&["fix", "--user", "henry.adams@lakeside.edu", "--decision", "chat_with_guardians", "--format", "json"]);
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let line = j["suggestions"][0]["changes"][0].as_str().unwrap_or_default();
    assert!(line.starts_with("Grant-CsTeamsMessagingPolicy -Identity henry.adams@lakeside.edu"), "{j}");
}

#[test]
fn nothing_can_allow_a_retired_app_and_fix_says_why() {
    let out = tenet(&[
        "fix",
        "--user",
        "ana.rivera@lakeside.edu",
        "--decision",
        "chat_with_guardians",
        "--as-of",
        "2025-10-01",
    ]);
    assert_eq!(out.status.code(), Some(3));
    let shown = text(&out);
    assert!(shown.contains("nothing can allow it"), "{shown}");
    assert!(shown.contains("tenant.ParentConnectionLifecycle.ParentsAppRetired"), "{shown}");
    let out = tenet(&[
        "fix",
        "--user",
        "ana.rivera@lakeside.edu",
        "--decision",
        "chat_with_guardians",
        "--as-of",
        "2025-10-01",
        "--format",
        "json",
    ]);
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(j["suggestions"].as_array().map(Vec::len), Some(0));
    assert_eq!(j["unfixable"][0]["fact"], "tenant.ParentConnectionLifecycle.ParentsAppRetired");
}

const SCHEMA: &str = r#"
enum AppStatus { BlockedByPublisher, Allowed, Blocked }
configuration ParentsApp { Name: string = "Parents" Status: AppStatus = BlockedByPublisher }
configuration TenantFederationConfiguration { AllowTeamsConsumer: bool = true }
policy type ExternalAccessPolicy { EnableTeamsConsumerAccess: bool = true }
locked policy ExternalAccessPolicy "LockedOff" { EnableTeamsConsumerAccess = false }
decision parents_app(user) {
    deny APP_BLOCKED_TENANT "blocked for the whole tenant" if tenant.ParentsApp.Status == Blocked
    allow
}
decision consumer(user) {
    require parents_app(user)
    deny CONSUMER_OFF_TENANT "tenant switch off" unless tenant.TenantFederationConfiguration.AllowTeamsConsumer
    deny CONSUMER_OFF_USER "off in {policy}" unless user.ExternalAccessPolicy.EnableTeamsConsumerAccess
    allow
}
"#;

#[test]
fn both_levels_of_an_and_gate_and_a_tenant_block_are_fixed_and_a_locked_default_is_replaced() {
    let tenant = r#"
        tenant ParentsApp { Status = Blocked }
        tenant TenantFederationConfiguration { AllowTeamsConsumer = false }
        policy ExternalAccessPolicy "Global" { EnableTeamsConsumerAccess = false }
        assign ExternalAccessPolicy "LockedOff" to user "ann@x.edu"
    "#;
    let engine = crate::support::engine(
        &[("schema.tenet", SCHEMA), ("tenant.tenet", tenant)],
        "users:\n  - upn: ann@x.edu\n  - upn: bob@x.edu\n",
    );
    let found = fix::fix(engine.table(), "ann@x.edu", "consumer", None, 5).expect("asks");
    let q = ("ann@x.edu".to_string(), "consumer".to_string(), None);
    assert_verified(&engine, &q, &found);
    let best: Vec<&str> = found.suggestions[0].steps.iter().map(|s| s.text.as_str()).collect();
    // The tenant block and the tenant switch, which override any user-level allow, and the
    // user's own level: a new policy, since the locked default can't be edited.
    assert!(best.contains(&"Update-M365TeamsApp -Id Parents -IsBlocked $false"), "{best:?}");
    assert!(best.contains(&"Set-CsTenantFederationConfiguration -AllowTeamsConsumer $true"), "{best:?}");
    assert!(best.iter().any(|l| l.starts_with("New-CsExternalAccessPolicy -Identity Tag:LockedOff-")), "{best:?}");
    assert!(
        best.iter().any(|l| l.starts_with("Grant-CsExternalAccessPolicy -Identity ann@x.edu -PolicyName")),
        "{best:?}"
    );
    for s in &found.suggestions {
        assert!(s.steps.iter().all(|x| !x.text.contains("-Identity Tag:LockedOff ")), "{:?}", s.steps);
    }
    // The tenant-wide lines reach Bob too: the collateral says so.
    assert!(found.suggestions[0].also_changes > 0);
}

#[test]
fn a_population_gets_one_verified_change_set() {
    let (engine, _) = Engine::bundled().expect("builds");
    let table = engine.table();
    let teachers: Vec<_> = table
        .model()
        .directory
        .users()
        .filter(|(_, u)| u.roles.iter().any(|r| &**r == "teacher"))
        .map(|(id, _)| id)
        .collect();
    let p = fix::fix_population(table, &teachers, "chat_with_guardians").expect("a user decision");
    assert!(!p.denied.is_empty());
    assert!(!p.change_sets.is_empty());
    let asked: Vec<&str> = teachers.iter().map(|u| table.model().directory.user_at(*u).upn()).collect();
    for set in &p.change_sets {
        assert!(set.still_denied.is_empty(), "{set:?}");
        assert_eq!(set.allowed_after.len(), p.denied.len());
        // Made together, the steps allow every denied teacher.
        let after = engine.with_steps(&set.steps).expect("applies");
        for upn in &p.denied {
            assert!(after.decide(upn, "chat_with_guardians", None).expect("asks").allowed(), "{upn}");
        }
        // Its collateral is a diff's: decisions of users not asked about.
        let outside = changes_between(table, after.table(), Guardians::Contacts)
            .iter()
            .filter(|c| !asked.contains(&c.key.0.as_str()))
            .count();
        assert_eq!(set.also_changes, outside);
    }
    // Least collateral first; the fewest-changes set is shorter when it is offered.
    let first = &p.change_sets[0];
    assert!(p.change_sets.iter().all(|c| c.also_changes >= first.also_changes));
    if let Some(second) = p.change_sets.get(1) {
        assert!(second.steps.len() <= first.steps.len(), "{p:?}");
    }
    // The CLI, and a guardian decision refused for a population.
    let out = tenet(&["fix", "--decision", "chat_with_guardians", "--role", "teacher"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out).contains("allow 7 of them (verified)"), "{}", text(&out));
    let out = tenet(&["fix", "--decision", "call_guardian", "--role", "teacher"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is about a guardian"));
    let out = tenet(&["fix", "--decision", "chat_with_guardians", "--role", "principal"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no user in the directory has the role `principal`"));
}

#[test]
fn fix_errors_name_the_problem() {
    let out = tenet(&["fix", "--user", "jamal.wrigth@lakeside.edu", "--decision", "chat_with_guardians"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean `jamal.wright@lakeside.edu`"));
    let out = tenet(&["fix", "--user", "jamal.wright@lakeside.edu", "--decision", "chat_with_guardian"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown decision"));
    // Allowed already: nothing to fix, exit 0.
    let out = tenet(&["fix", "--user", "carla.nguyen@lakeside.edu", "--decision", "chat_with_guardians"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out).contains("nothing to fix"));
    let out = tenet(&["fix", "--user", "a@b", "--user", "c@d", "--decision", "parents_app", "--guardian", "x"]);
    assert_eq!(out.status.code(), Some(2));
}
