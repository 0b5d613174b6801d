//! End-to-end tests through the real binary: arguments, output formats and exit codes.

use crate::support::repo;
use std::process::{Command, Output};

fn tenet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tenet"))
        .args(args)
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const MINI: &str = "tests/fixtures/cli/mini";

#[test]
fn decide_exits_0_on_allow_and_3_on_deny() {
    let allow = tenet(&["decide", "--policies", MINI, "--user", "ann@x.edu", "--decision", "chat"]);
    assert_eq!(allow.status.code(), Some(0), "{}", stderr(&allow));
    assert_eq!(stdout(&allow).trim(), "allow");

    let deny = tenet(&["decide", "--policies", MINI, "--user", "bob@x.edu", "--decision", "chat"]);
    assert_eq!(deny.status.code(), Some(3));
    assert_eq!(stdout(&deny).trim(), "deny CHAT_OFF: chat off in Tag:NoChat");
}

#[test]
fn decide_json_has_the_documented_shape() {
    let o = tenet(&[
        "decide",
        "--policies",
        MINI,
        "--user",
        "ann@x.edu",
        "--decision",
        "invite",
        "--guardian",
        "mom@example.com",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["user"], "ann@x.edu");
    assert_eq!(v["decision"], "invite");
    assert_eq!(v["guardian"], "mom@example.com");
    assert_eq!(v["allowed"], true);
    assert_eq!(v["channel"], "email");
    assert_eq!(v["reason"]["code"], "ALLOW");
    assert!(v["reason"]["location"].as_str().unwrap().starts_with("tests/fixtures/cli/mini/policy.tenet:"));
    assert_eq!(v["blockers"], serde_json::json!([]));
    assert_eq!(v["warnings"][0]["code"], "NOT_E164");
    let prov = v["provenance"].as_array().unwrap();
    let chat = prov.iter().find(|p| p["setting"] == "user.ExternalAccessPolicy.EnableTeamsConsumerAccess").unwrap();
    assert_eq!(chat["value"], true);
    assert!(
        chat["source"]
            .as_str()
            .unwrap()
            .contains("via group sg-teachers (rank 1, assigned at tests/fixtures/cli/mini/policy.tenet:")
    );
}

#[test]
fn deny_json_lists_every_blocker_with_its_origin() {
    let o = tenet(&[
        "decide",
        "--policies",
        MINI,
        "--user",
        "bob@x.edu",
        "--decision",
        "invite",
        "--guardian",
        "mom@example.com",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(3));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["allowed"], false);
    assert_eq!(v["channel"], serde_json::Value::Null);
    assert_eq!(v["reason"]["code"], "CHAT_OFF");
    let blockers: Vec<(&str, &str)> = v["blockers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["code"].as_str().unwrap(), b["decision"].as_str().unwrap()))
        .collect();
    assert_eq!(blockers, [("CHAT_OFF", "chat"), ("NOT_LINKED", "invite")]);
}

#[test]
fn explain_names_rule_blockers_and_sources() {
    let o = tenet(&["explain", "--policies", MINI, "--user", "bob@x.edu", "--decision", "chat"]);
    assert_eq!(o.status.code(), Some(3));
    let text = stdout(&o);
    assert!(text.starts_with("chat for bob@x.edu: DENY"), "{text}");
    assert!(text.contains("CHAT_OFF — chat off in Tag:NoChat"), "{text}");
    assert!(text.contains("user.TeamsMessagingPolicy.AllowUserChat = false"), "{text}");
    assert!(text.contains("from TeamsMessagingPolicy Tag:NoChat, assigned directly"), "{text}");
}

#[test]
fn explanations_lead_with_the_cause() {
    // Henry's chat is off: one of the many facts chat_with_guardians reads (the issue's example).
    let args = ["explain", "--user", "henry.adams@lakeside.edu", "--decision", "chat_with_guardians"];
    let text = stdout(&tenet(&args));
    let at = |needle: &str| text.find(needle).unwrap_or_else(|| panic!("{needle} in {text}"));
    let (because, also) = (at("     because:"), at("\nalso consulted:"));
    assert!(because < also);
    // The blocker's facts come under it; the noise comes after, under "also consulted".
    let cause = at("user.TeamsMessagingPolicy.AllowUserChat = false");
    assert!(because < cause && cause < also, "{text}");
    assert!(at("tenant.ParentsApp.Name = ") > also, "{text}");
    // Each fact is listed once.
    assert_eq!(text.matches("user.TeamsMessagingPolicy.AllowUserChat = ").count(), 1, "{text}");

    // The JSON links each rule to the facts it read, and lists those facts first.
    let mut json_args = args.to_vec();
    json_args.extend(["--format", "json"]);
    let j: serde_json::Value = serde_json::from_str(&stdout(&tenet(&json_args))).expect("JSON");
    let facts: Vec<usize> = j["blockers"][0]["facts"]
        .as_array()
        .expect("facts")
        .iter()
        .map(|i| usize::try_from(i.as_u64().expect("an index")).expect("fits"))
        .collect();
    assert!(!facts.is_empty());
    let settings: Vec<&str> =
        facts.iter().map(|&i| j["provenance"][i]["setting"].as_str().expect("a setting")).collect();
    assert_eq!(settings, ["user.TeamsMessagingPolicy.AllowUserChat"]);
    assert_eq!(j["reason"]["facts"], j["blockers"][0]["facts"], "the deciding rule is the first blocker");
    let mut leading = facts.clone();
    leading.sort_unstable();
    assert_eq!(leading, (0..facts.len()).collect::<Vec<_>>(), "the cause comes first in provenance");
    // An allowed answer leads with the deciding allow rule's facts.
    let ok = stdout(&tenet(&["explain", "--user", "ana.rivera@lakeside.edu", "--decision", "parents_app"]));
    assert!(ok.contains("deciding rule:\n  ALLOW"), "{ok}");
}

#[test]
fn query_errors_exit_1_and_suggest() {
    let o = tenet(&["decide", "--policies", MINI, "--user", "ann@x.edu", "--decision", "chta"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("unknown decision `chta` (did you mean `chat`?)"), "{}", stderr(&o));

    let o = tenet(&["decide", "--policies", MINI, "--user", "anne@x.edu", "--decision", "chat", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["error"]["code"], "UNKNOWN_USER");

    let o = tenet(&["decide", "--policies", MINI, "--user", "ann@x.edu", "--decision", "invite"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("give one with --guardian"), "{}", stderr(&o));

    let o = tenet(&[
        "decide",
        "--policies",
        MINI,
        "--user",
        "ann@x.edu",
        "--decision",
        "invite",
        "--guardian",
        "nobody@example.com",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!stderr(&o).contains("nobody@example.com"), "guardian identifiers are not echoed");
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(tenet(&["decide", "--user", "x"]).status.code(), Some(2));
    assert_eq!(tenet(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(tenet(&["table", "--format", "xml"]).status.code(), Some(2));
}

#[test]
fn check_reports_errors_with_location_and_exit_1() {
    let o =
        tenet(&["check", "tests/fixtures/cli/broken.tenet", "--directory", "tests/fixtures/cli/mini/directory.yaml"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("E0102"), "{err}");
    assert!(err.contains("tests/fixtures/cli/broken.tenet:"), "{err}");
    assert!(err.contains("did you mean `AllowUserChat`?"), "{err}");
    assert!(err.contains("1 error"), "{err}");

    let o = tenet(&["check", "tests/fixtures/cli/broken.tenet", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let d = &v["diagnostics"][0];
    assert_eq!(d["code"], "E0102");
    assert_eq!(d["line"], 4);
    assert_eq!(d["file"], "tests/fixtures/cli/broken.tenet");

    let o = tenet(&["check", "tests/fixtures/cli/missing"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("E0001"), "{}", stderr(&o));
}

#[test]
fn check_of_a_clean_set_exits_0() {
    let o = tenet(&["check", MINI]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("0 errors, 0 warnings"), "{}", stderr(&o));
}

#[test]
fn table_formats() {
    let text = tenet(&["table", "--policies", MINI]);
    assert_eq!(text.status.code(), Some(0));
    let t = stdout(&text);
    assert!(t.lines().next().unwrap().starts_with("USER"), "{t}");
    assert!(
        t.contains("ann@x.edu  ann@x.edu  teacher  invite    mom@example.com  allow via email (warn NOT_E164)"),
        "{t}"
    );

    let csv = stdout(&tenet(&["table", "--policies", MINI, "--format", "csv"]));
    assert!(csv.starts_with(
        "user,name,roles,decision,guardian,allowed,channel,reason_code,reason_message,blockers,warnings\n"
    ));
    assert!(
        csv.contains("bob@x.edu,bob@x.edu,teacher,chat,,false,,CHAT_OFF,chat off in Tag:NoChat,CHAT_OFF,\n"),
        "{csv}"
    );

    let json: serde_json::Value =
        serde_json::from_str(&stdout(&tenet(&["table", "--policies", MINI, "--format", "json"]))).unwrap();
    // 4 users × chat, plus invite for the two users who deal with a guardian (teacher and student).
    assert_eq!(json.as_array().unwrap().len(), 6);

    let profiles = stdout(&tenet(&["table", "--policies", MINI, "--format", "profiles"]));
    assert!(profiles.starts_with("table: 4 users, "), "{profiles}");
}

#[test]
fn without_arguments_the_bundled_example_answers() {
    let o = tenet(&["table"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).lines().count() > 50);
    let o = tenet(&["check"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn test_runs_expectations_and_fails_on_a_wrong_one() {
    let o = tenet(&["test", "--policies", MINI, "--policies", "tests/fixtures/cli/expectations.tenet"]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.contains("pass  ann@x.edu chat: allow"), "{out}");
    assert!(out.contains("FAIL  bob@x.edu chat: expected deny CONSUMER_OFF_USER, got deny CHAT_OFF"), "{out}");
    assert!(out.contains("at tests/fixtures/cli/expectations.tenet:5:1"), "{out}");
    assert!(out.trim_end().ends_with("expectations: 3 passed, 1 failed"), "{out}");

    let o =
        tenet(&["test", "--policies", MINI, "--policies", "tests/fixtures/cli/expectations.tenet", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["passed"], 3);
    assert_eq!(v["failed"], 1);
    assert_eq!(v["results"][3]["actual"], "deny CHAT_OFF");

    let o = tenet(&["test"]);
    assert_eq!(o.status.code(), Some(0), "the bundled example meets its expectations: {}", stdout(&o));
}

#[test]
fn a_guardian_for_a_user_only_decision_is_an_error() {
    let o = tenet(&[
        "decide",
        "--policies",
        MINI,
        "--user",
        "ann@x.edu",
        "--decision",
        "chat",
        "--guardian",
        "mom@example.com",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["error"]["code"], "GUARDIAN_NOT_EXPECTED");
}

#[test]
fn gen_writes_a_district_that_checks_and_answers() {
    let out = std::env::temp_dir().join(format!("tenet-gen-{}", std::process::id()));
    let o = tenet(&["gen", "--users", "300", "--seed", "3", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let dir = out.to_str().unwrap();
    let check = tenet(&["check", "policies/teams", dir]);
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
    let o = tenet(&[
        "decide",
        "--policies",
        "policies/teams",
        "--policies",
        dir,
        "--user",
        "teacher0@district.edu",
        "--decision",
        "parents_app",
    ]);
    assert!(matches!(o.status.code(), Some(0 | 3)), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&out);

    let o = tenet(&["gen", "--users", "10", "--out", "Cargo.toml/not-a-dir"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("can't write"), "{}", stderr(&o));
}

#[test]
fn a_missing_directory_file_is_warned_about() {
    let o = tenet(&["table", "--policies", "tests/fixtures/cli/broken-free"]);
    assert!(stderr(&o).contains("no directory file") || o.status.code() == Some(1), "{}", stderr(&o));
}

#[test]
fn a_directory_saved_under_another_name_is_pointed_at() {
    let dir = std::env::temp_dir().join(format!("tenet-misnamed-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let example = repo().join("policies/examples/lakeside");
    std::fs::copy(example.join("tenant.tenet"), dir.join("tenant.tenet")).expect("copy");
    std::fs::copy(example.join("directory.yaml"), dir.join("Directory.YML")).expect("copy");
    let path = dir.display().to_string();
    for args in [vec!["check", path.as_str()], vec!["table", "--policies", path.as_str()]] {
        let o = tenet(&args);
        let shown = dir.join("Directory.YML").display().to_string();
        assert!(stderr(&o).contains(&format!("pass `--directory {shown}`")), "{args:?}: {}", stderr(&o));
    }
    let found = dir.join("Directory.YML").display().to_string();
    let o = tenet(&["check", path.as_str(), "--directory", found.as_str()]);
    assert_eq!(o.status.code(), Some(0), "the named file is read: {}", stderr(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `tenet` run from a folder outside the repository, as an admin runs it.
fn tenet_elsewhere(args: &[&str]) -> Output {
    let dir = std::env::temp_dir();
    Command::new(env!("CARGO_BIN_EXE_tenet")).args(args).current_dir(dir).env("NO_COLOR", "1").output().expect("runs")
}

#[test]
fn the_bundled_pack_is_used_when_the_files_declare_no_policy_types() {
    let lakeside = repo().join("policies/examples/lakeside").display().to_string();
    let o = tenet_elsewhere(&["check", &lakeside]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("declare no policy types: using the bundled Teams pack"), "{}", stderr(&o));
    let explicit = tenet_elsewhere(&["check", "--pack", "builtin", &lakeside]);
    assert_eq!(explicit.status.code(), Some(0), "{}", stderr(&explicit));
    assert!(!stderr(&explicit).contains("declare no policy types"), "{}", stderr(&explicit));
    let decide = tenet_elsewhere(&[
        "decide",
        "--policies",
        &lakeside,
        "--user",
        "ana.rivera@lakeside.edu",
        "--decision",
        "chat_with_guardians",
    ]);
    assert_eq!(decide.status.code(), Some(0), "{}", stderr(&decide));
    // A file that declares its own types is not mixed with the pack.
    let mini = tenet(&["check", MINI]);
    assert!(!stderr(&mini).contains("bundled Teams pack"), "{}", stderr(&mini));
}

#[test]
fn a_parent_folder_finds_the_directory_file_below_it_or_names_the_choice() {
    let o = tenet(&["check", "policies"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("0 errors"), "{}", stderr(&o));
    // Two tenants below one folder: the error comes first and names both.
    let root = std::env::temp_dir().join(format!("tenet-two-tenants-{}", std::process::id()));
    for t in ["north", "south"] {
        std::fs::create_dir_all(root.join(t)).unwrap();
        std::fs::copy(repo().join("policies/examples/lakeside/directory.yaml"), root.join(t).join("directory.yaml"))
            .unwrap();
    }
    let o = tenet(&["check", root.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let first = stderr(&o).lines().find(|l| l.contains('×')).unwrap_or_default().to_string();
    assert!(first.contains("several directory files below"), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn check_takes_an_import() {
    let x = "tests/fixtures/exports/lakeside";
    let args: Vec<String> = ["teams", "graph", "sds-v2.1", "supplement"]
        .iter()
        .flat_map(|d| ["--import".to_string(), format!("{x}/{d}")])
        .collect();
    let mut all = vec!["check"];
    all.extend(args.iter().map(String::as_str));
    let o = tenet(&all);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("0 errors"), "{}", stderr(&o));
    let o = tenet(&["check", "--import", "tests/fixtures/exports/approvals"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("MISSING  Get-CsOnlineUser"), "{}", stderr(&o));
}

#[test]
fn as_of_a_date_after_the_retirements_the_parents_app_is_retired() {
    let ask = |date: Option<&str>| {
        let mut args = vec!["explain", "--user", "ana.rivera@lakeside.edu", "--decision", "parents_app"];
        if let Some(d) = date {
            args.extend(["--as-of", d]);
        }
        tenet(&args)
    };
    let before = ask(Some("2025-09-30"));
    assert_eq!(before.status.code(), Some(0), "{}", stdout(&before));
    assert!(stdout(&before).contains("--as-of 2025-09-30 (Microsoft retired the Parents app after 2025-09-30)"));
    let after = ask(Some("2025-10-01"));
    assert_eq!(after.status.code(), Some(3), "{}", stdout(&after));
    assert!(stdout(&after).contains("FEATURE_RETIRED"), "{}", stdout(&after));
    assert!(stdout(&after).contains("tenant.ParentConnectionLifecycle.ParentsAppRetired = true"), "{}", stdout(&after));
    // Without a date: the behaviour the seed article describes.
    let default = ask(None);
    assert_eq!(default.status.code(), Some(0), "{}", stdout(&default));
    let bad = ask(Some("01/10/2025"));
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("YYYY-MM-DD"), "{}", stderr(&bad));
}

#[test]
fn as_of_needs_the_retirement_switches() {
    let o = tenet(&["check", MINI, "--as-of", "2025-10-01"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("--as-of needs the configuration `ParentConnectionLifecycle`"), "{}", stderr(&o));
    let o =
        tenet(&["decide", "--policies", MINI, "--user", "ann@x.edu", "--decision", "chat", "--as-of", "2025-10-01"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}

/// `tenet` started in the repository with its output piped, for tests that watch it run.
fn spawn(args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_tenet"))
        .args(args)
        .current_dir(repo())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs")
}

#[test]
fn a_reader_that_goes_away_is_no_panic() {
    for args in [&["table", "--format", "json"][..], &["test", "--format", "json"], &["table"], &["test"]] {
        let mut child = spawn(args);
        // `| head -c 0`: the reader is gone before tenet has built its table and writes.
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("ends");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_ne!(out.status.code(), Some(101), "{args:?}");
    }
}

#[test]
fn csv_cells_a_spreadsheet_would_run_are_escaped() {
    let dir = std::env::temp_dir().join(format!("tenet-csv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(repo().join(MINI).join("policy.tenet"), dir.join("policy.tenet")).unwrap();
    let directory = std::fs::read_to_string(repo().join(MINI).join("directory.yaml"))
        .unwrap()
        .replace("  - email: mom@example.com", "  - id: \"=HYPERLINK(\\\"http://x\\\")\"\n    email: mom@example.com");
    std::fs::write(dir.join("directory.yaml"), directory).unwrap();
    let o = tenet(&["table", "--policies", dir.to_str().unwrap(), "--format", "csv"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("'=hyperlink"), "{text}");
    let mut rdr = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    for row in rdr.records() {
        let row = row.unwrap();
        assert!(row.iter().all(|c| !c.starts_with(['=', '+', '-', '@', '\t', '\r'])), "{row:?}");
    }
    assert_eq!(tenet::output::spreadsheet_safe("+1 206"), "'+1 206");
    assert_eq!(tenet::output::spreadsheet_safe("ann@x.edu"), "ann@x.edu");
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(unix)]
#[test]
fn link_loops_pipes_and_devices_end_with_an_error() {
    let dir = std::env::temp_dir().join(format!("tenet-walk-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(repo().join(MINI).join("policy.tenet"), dir.join("policy.tenet")).unwrap();
    std::os::unix::fs::symlink(&dir, dir.join("loop")).unwrap();
    let run = |args: &[&str]| {
        let mut child = spawn(args);
        // Bounded: a walk that never ends fails the test instead of hanging it.
        for _ in 0..200 {
            if child.try_wait().unwrap().is_some() {
                return child.wait_with_output().unwrap();
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = child.kill();
        panic!("{args:?} did not end within 10 s");
    };
    let o = run(&["check", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("leads back to a folder already read"), "{}", stderr(&o));
    // A named pipe called x.tenet, and a device given as a file: refused, not read forever.
    std::fs::remove_file(dir.join("loop")).unwrap();
    let fifo = dir.join("x.tenet");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let o = run(&["check", dir.to_str().unwrap()]);
    assert!(stderr(&o).contains("not a regular file"), "{}", stderr(&o));
    let o = run(&["check", "/dev/zero"]);
    assert!(stderr(&o).contains("not a regular file"), "{}", stderr(&o));
    let o = run(&["check", MINI, "--directory", "/dev/zero"]);
    assert!(stderr(&o).contains("not a regular file"), "{}", stderr(&o));
    // The same for exports.
    std::fs::remove_file(&fifo).unwrap();
    std::os::unix::fs::symlink(&dir, dir.join("loop")).unwrap();
    let o = run(&["import", "--from", dir.to_str().unwrap()]);
    assert!(stdout(&o).contains("a symbolic link loop"), "{}", stdout(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn old_mac_line_ends_are_lines_not_one_long_comment() {
    let dir = std::env::temp_dir().join(format!("tenet-cr-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for file in ["policy.tenet", "directory.yaml"] {
        let text = std::fs::read_to_string(repo().join(MINI).join(file)).unwrap();
        std::fs::write(dir.join(file), text.replace('\n', "\r")).unwrap();
    }
    let path = dir.to_str().unwrap();
    let o = tenet(&["decide", "--policies", path, "--user", "bob@x.edu", "--decision", "chat"]);
    assert_eq!(stdout(&o).trim(), "deny CHAT_OFF: chat off in Tag:NoChat", "{}", stderr(&o));
    // A mistake is found at its own line, as an editor that shows such a file numbers it.
    let text = std::fs::read_to_string(dir.join("policy.tenet")).unwrap();
    std::fs::write(dir.join("policy.tenet"), text.replacen("AllowUserChat = false", "AllowUserChat = nope", 1))
        .unwrap();
    let o = tenet(&["check", path]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("policy.tenet:14:"), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&dir);
}
