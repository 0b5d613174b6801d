//! Decision snapshots through the binary: `tenet snapshot` and `tenet test --snapshot`, on a
//! scratch copy of the Lakeside tenant (its `expect` lines left out, so only the snapshot
//! decides the exit code).

use crate::support::{Scratch, repo};
use std::process::{Command, Output};

fn tenet(dir: &Scratch, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tenet"))
        .args(args)
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs")
}

fn text(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

/// The pack and the Lakeside tenant without its expectations, and the args that name them.
fn district(name: &str) -> Scratch {
    let dir = Scratch::copy("policies/examples/lakeside", name);
    std::fs::remove_file(dir.0.join("expected.tenet")).unwrap();
    crate::support::copy_dir(&repo().join("policies/teams"), &dir.0.join("pack"));
    dir
}

const POLICIES: [&str; 4] = ["--policies", "pack", "--policies", "tenant.tenet"];

/// `more` with the district's paths after the subcommand (and any global flag before it).
fn args<'a>(more: &[&'a str]) -> Vec<&'a str> {
    let command = more.iter().position(|a| !a.starts_with("--")).unwrap_or(0);
    let mut a: Vec<&str> = more[..=command].to_vec();
    a.extend(POLICIES);
    a.extend(["--directory", "directory.yaml"]);
    a.extend(&more[command + 1..]);
    a
}

/// What the tests change: the teachers' external access policy turns unmanaged accounts off.
fn turn_consumer_access_off(dir: &Scratch) {
    dir.edit("tenant.tenet", |t| {
        t.replacen(
            "policy ExternalAccessPolicy \"Tag:Teachers\" {\n    EnableTeamsConsumerAccess = true",
            "policy ExternalAccessPolicy \"Tag:Teachers\" {\n    EnableTeamsConsumerAccess = false",
            1,
        )
    });
}

#[test]
fn a_snapshot_round_trips_and_names_no_family() {
    let dir = district("snapshot-round-trip");
    let o = tenet(&dir, &args(&["snapshot", "--out", "decisions.snap"]));
    assert!(o.status.success(), "{:?}", text(&o));
    let snap = std::fs::read_to_string(dir.0.join("decisions.snap")).unwrap();
    assert!(snap.starts_with("# tenet decision snapshot 1; guardians: pseudonyms\n"), "{snap}");
    assert!(snap.lines().count() > 400, "every decision: {}", snap.lines().count());
    assert!(!snap.contains("@example."), "a guardian's email in the snapshot");
    assert!(snap.contains("ana.rivera@lakeside.edu chat_with_guardians - allow ALLOW\n"), "{snap}");
    let mut sorted: Vec<&str> = snap.lines().skip(2).collect();
    sorted.sort_unstable();
    assert_eq!(sorted, snap.lines().skip(2).collect::<Vec<_>>(), "lines are sorted");
    // The same district: nothing changed, exit 0.
    let o = tenet(&dir, &args(&["test", "--snapshot", "decisions.snap"]));
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(out.contains("snapshot decisions.snap: no decision changed"), "{out}");
    // Written again, byte for byte the same.
    let o = tenet(&dir, &args(&["snapshot"]));
    assert_eq!(text(&o).0, snap);
    // With --show-contacts the real ids are written, and said so.
    let o = tenet(&dir, &args(&["--show-contacts", "snapshot"]));
    let shown = text(&o).0;
    assert!(shown.starts_with("# tenet decision snapshot 1; guardians: contacts\n") && shown.contains("@example."));
}

#[test]
fn a_change_lists_every_changed_decision_with_its_cause_until_accepted() {
    let dir = district("snapshot-change");
    assert!(tenet(&dir, &args(&["snapshot", "--out", "decisions.snap"])).status.success());
    turn_consumer_access_off(&dir);
    let o = tenet(&dir, &args(&["test", "--snapshot", "decisions.snap"]));
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(out.contains("decisions changed\n"), "{out}");
    assert!(
        out.contains(
            "  ana.rivera@lakeside.edu chat_with_guardians: allow (ALLOW) -> deny (CONSUMER_OFF_USER)\n      because CONSUMER_OFF_USER: External access policy Tag:Teachers turns off unmanaged Teams accounts"
        ),
        "{out}"
    );
    assert!(out.contains("because now also blocked by CONSUMER_OFF_USER"), "{out}");
    assert!(out.contains("by cause: CONSUMER_OFF_USER "), "{out}");
    assert!(out.contains("accept them with `tenet test --snapshot decisions.snap --update`"), "{out}");
    assert!(!out.contains("@example."), "{out}");

    // JSON: every change with both sides and the cause.
    let o = tenet(&dir, &args(&["test", "--snapshot", "decisions.snap", "--format", "json"]));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let changed = v["snapshot"]["changed"].as_array().unwrap();
    let ana = changed
        .iter()
        .find(|c| c["user"] == "ana.rivera@lakeside.edu" && c["decision"] == "chat_with_guardians")
        .unwrap();
    assert_eq!(ana["guardian"], serde_json::Value::Null);
    assert_eq!(ana["before"], serde_json::json!({ "outcome": "allow", "reasons": ["ALLOW"] }));
    assert_eq!(ana["after"]["outcome"], "deny");
    assert!(ana["cause"].as_str().unwrap().starts_with("CONSUMER_OFF_USER: "));
    assert_eq!(v["snapshot"]["updated"], false);

    // --update accepts them: the file is rewritten, and the next run is clean.
    let o = tenet(&dir, &args(&["test", "--snapshot", "decisions.snap", "--update"]));
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(out.contains("updated decisions.snap"), "{out}");
    let o = tenet(&dir, &args(&["test", "--snapshot", "decisions.snap"]));
    assert!(o.status.success() && text(&o).0.contains("no decision changed"));
}

#[test]
fn a_missing_damaged_or_differently_named_snapshot_is_an_error_with_the_fix() {
    let dir = district("snapshot-errors");
    // Missing: say how to write one; --update writes it.
    let o = tenet(&dir, &args(&["test", "--snapshot", "none.snap"]));
    let err = text(&o).1;
    assert_eq!(o.status.code(), Some(1));
    assert!(err.contains("no snapshot at `none.snap`: write one with `tenet snapshot --out none.snap`"), "{err}");
    let o = tenet(&dir, &args(&["test", "--snapshot", "none.snap", "--update"]));
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(std::fs::read_to_string(dir.0.join("none.snap")).unwrap().starts_with("# tenet decision snapshot 1"));

    // Damaged: located at the line, with the code.
    std::fs::write(
        dir.0.join("bad.snap"),
        "# tenet decision snapshot 1; guardians: pseudonyms\nana.rivera@lakeside.edu chat_with_guardians - allow\n",
    )
    .unwrap();
    let o = tenet(&dir, &args(&["test", "--snapshot", "bad.snap"]));
    let err = text(&o).1;
    assert_eq!(o.status.code(), Some(1));
    assert!(err.contains("E0601") && err.contains("bad.snap:2:1") && err.contains("5 fields"), "{err}");
    let o = tenet(&dir, &args(&["test", "--snapshot", "bad.snap", "--format", "json"]));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["diagnostics"][0]["code"], "E0601");

    // Not a snapshot at all.
    let o = tenet(&dir, &args(&["test", "--snapshot", "directory.yaml"]));
    assert!(text(&o).1.contains("not a tenet decision snapshot"), "{:?}", text(&o));

    // Written with contacts, compared without: refused, not reported as every guardian changed.
    assert!(tenet(&dir, &args(&["--show-contacts", "snapshot", "--out", "contacts.snap"])).status.success());
    let o = tenet(&dir, &args(&["test", "--snapshot", "contacts.snap"]));
    let err = text(&o).1;
    assert_eq!(o.status.code(), Some(1));
    let err = err.split_whitespace().filter(|w| *w != "│").collect::<Vec<_>>().join(" ");
    assert!(err.contains("names guardians by real guardian ids (--show-contacts), this run by pseudonyms"), "{err}");

    // A snapshot that can't be written: said, exit 1.
    let o = tenet(&dir, &args(&["snapshot", "--out", "no-such-folder/x.snap"]));
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).1.contains("can't write the snapshot `no-such-folder/x.snap`"), "{:?}", text(&o));
    let o = tenet(&dir, &args(&["test", "--snapshot", "no-such-folder/x.snap", "--update"]));
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).1.contains("can't write the snapshot `no-such-folder/x.snap`"), "{:?}", text(&o));

    // --update needs --snapshot.
    let o = tenet(&dir, &args(&["test", "--update"]));
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn diff_compares_policy_sets_imports_and_snapshots_and_exits_3_on_change() {
    let dir = district("snapshot-diff");
    assert!(tenet(&dir, &args(&["snapshot", "--out", "before.snap"])).status.success());
    let before = Scratch::copy("policies/examples/lakeside", "snapshot-diff-before");
    std::fs::remove_file(before.0.join("expected.tenet")).unwrap();
    turn_consumer_access_off(&dir);
    let run = |a: &[&str]| {
        let o = tenet(&dir, a);
        let (out, err) = text(&o);
        (o.status.code(), out, err)
    };
    let after = ["--after", "pack", "--after", "tenant.tenet", "--after", "directory.yaml"];

    // A snapshot against the changed policies.
    let (code, out, err) = run(&[&["diff", "--before", "before.snap"][..], &after].concat());
    assert_eq!(code, Some(3), "{out}{err}");
    assert!(out.starts_with("before.snap -> pack + tenant.tenet + directory.yaml: 97 decisions changed\n"), "{out}");
    assert!(out.contains("by cause: CONSUMER_OFF_USER 97\n"), "{out}");

    // Two policy sets, as JSON: the same changes.
    let old = before.path();
    let (code, out, _) =
        run(&[&["diff", "--before", "pack", "--before", old, "--format", "json"][..], &after].concat());
    assert_eq!(code, Some(3));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["changed"].as_array().unwrap().len(), 97);
    assert!(!out.contains("@example."), "{out}");

    // No change: exit 0.
    let (code, out, _) = run(&["diff", "--before", "before.snap", "--after", "before.snap"]);
    assert_eq!((code, out.as_str()), (Some(0), "before.snap -> before.snap: no decision changed\n"));

    // Exports on both sides: the same tenant, no change.
    let exports = repo().join("tests/fixtures/exports/lakeside");
    let (teams, graph, sds, supplement) =
        (exports.join("teams"), exports.join("graph"), exports.join("sds-v2.1"), exports.join("supplement"));
    let sides: Vec<&str> = [&teams, &graph, &sds, &supplement].iter().map(|p| p.to_str().unwrap()).collect();
    let mut a = vec!["diff"];
    for s in &sides {
        a.extend(["--before-import", s]);
    }
    for s in &sides {
        a.extend(["--after-import", s]);
    }
    let (code, out, err) = run(&a);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.ends_with(": no decision changed\n"), "{out}");

    // Two directory files on one side: which one?
    let (code, _, err) =
        run(&["diff", "--before", "before.snap", "--after", "directory.yaml", "--after", "other.yaml"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("names two directory files"), "{err}");

    // A damaged snapshot on either side: located, exit 1.
    std::fs::write(dir.0.join("bad.snap"), "# tenet decision snapshot 1; guardians: pseudonyms\nx y z\n").unwrap();
    let (code, _, err) = run(&["diff", "--before", "bad.snap", "--after", "before.snap"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("E0601") && err.contains("bad.snap:2:1"), "{err}");
    // A snapshot with real ids against a run with pseudonyms: refused.
    assert!(tenet(&dir, &args(&["--show-contacts", "snapshot", "--out", "contacts.snap"])).status.success());
    let (code, _, err) = run(&["diff", "--before", "contacts.snap", "--after", "before.snap"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("names guardians differently"), "{err}");
}
