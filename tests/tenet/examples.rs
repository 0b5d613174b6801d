//! The bundled example district: snapshots of every user's decisions and explanations, and the
//! expectations its README states.

use tenet::Engine;
use tenet::output;

fn bundled() -> Engine {
    Engine::bundled().unwrap_or_else(|r| panic!("bundled example does not check: {:?}", r.diagnostics)).0
}

#[test]
fn the_bundled_example_checks_without_warnings() {
    let (_, report) = Engine::bundled().unwrap_or_else(|r| panic!("{:?}", r.diagnostics));
    assert!(report.diagnostics.is_empty(), "{:?}", report.diagnostics);
}

#[test]
fn every_decision_of_every_user() {
    let engine = bundled();
    insta::assert_snapshot!(output::table_text(&engine.table().all()));
}

#[test]
fn compiled_profiles() {
    insta::assert_snapshot!(bundled().table().dump());
}

#[test]
fn explanations_per_user() {
    let engine = bundled();
    let table = engine.table();
    for (_, user) in table.model().directory.users() {
        let mut text = String::new();
        for d in table.all().iter().filter(|d| d.user().upn() == user.upn()) {
            text.push_str(&output::explain(d));
            text.push_str("\n----\n");
        }
        let name = user.upn().split('@').next().unwrap_or("user").replace('.', "_");
        insta::assert_snapshot!(format!("explain_{name}"), text);
    }
}

/// Every reason code the pack can produce shows up in the example or in a tenant-switch test.
#[test]
fn the_example_exercises_every_deny_reason_of_the_pack() {
    let engine = bundled();
    let model = engine.table().model();
    let mut declared: Vec<String> = Vec::new();
    for d in model.decisions.values() {
        for r in &d.rules {
            if let tenet::unstable::model::Rule::Deny(v) = r {
                declared.push(v.code.to_string());
            }
        }
    }
    declared.sort();
    declared.dedup();
    let mut shown: Vec<String> = engine
        .table()
        .all()
        .iter()
        .flat_map(|d| d.outcome.blockers.iter().map(|b| b.code.to_string()).collect::<Vec<_>>())
        .collect();
    shown.extend(crate::pack::tenant_switch_reasons().into_iter().map(str::to_string));
    let missing: Vec<&String> = declared.iter().filter(|c| !shown.contains(c)).collect();
    assert!(missing.is_empty(), "deny reasons the example never shows: {missing:?}");
}

#[test]
fn the_example_meets_its_expected_decisions() {
    let engine = bundled();
    let results = tenet::unstable::expect::run(engine.table());
    assert!(results.len() > 200, "only {} expectations", results.len());
    let failed: Vec<_> = results.iter().filter(|r| !r.passed).collect();
    assert!(failed.is_empty(), "failed expectations: {failed:#?}");
    // Every decision has expectations.
    for name in engine.table().model().decisions.keys() {
        assert!(results.iter().any(|r| &r.decision == name), "no expectation for {name}");
    }
}
