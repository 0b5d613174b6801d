//! `tenet table`: filters, the rows' name and role columns, every format written as it goes,
//! and a reader that goes away early ending every command quietly.

use crate::support::repo;
use std::io::Read;
use std::process::{Command, Output, Stdio};

fn tenet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tenet")).args(args).current_dir(repo()).output().expect("tenet runs")
}

fn lines(o: &Output) -> Vec<String> {
    String::from_utf8_lossy(&o.stdout).lines().map(str::to_string).collect()
}

#[test]
fn filters_narrow_the_table_and_rows_carry_name_and_role() {
    let out = tenet(&["table", "--role", "teacher", "--denied", "--decision", "chat_with_guardians"]);
    assert_eq!(out.status.code(), Some(0));
    let rows = lines(&out);
    assert!(rows[0].starts_with("USER") && rows[0].contains("NAME") && rows[0].contains("ROLE"), "{rows:?}");
    assert_eq!(rows.len() - 1, 7, "the seven denied teachers: {rows:?}");
    assert!(
        rows.iter().skip(1).all(|r| r.contains(" teacher ") && r.contains("chat_with_guardians") && r.contains("deny"))
    );
    assert!(rows.iter().any(|r| r.starts_with("henry.adams@lakeside.edu") && r.contains("Henry Adams")));
    // Allowed is the complement.
    let allowed = tenet(&["table", "--role", "teacher", "--allowed", "--decision", "chat_with_guardians"]);
    assert_eq!(lines(&allowed).len() - 1, 7);
    // One user, one decision.
    let one = tenet(&["table", "--user", "liam.chen@lakeside.edu", "--decision", "parents_app"]);
    assert_eq!(lines(&one).len(), 2);
    assert!(lines(&one)[1].contains("deny NOT_CLASS_TEAM_OWNER"));
    // A reason code: every row has it as its deciding rule, a blocker or a warning.
    let csv = tenet(&["table", "--reason", "chat_off", "--format", "csv"]);
    let rows = lines(&csv);
    assert!(rows[0].starts_with("user,name,roles,decision,guardian,allowed"));
    assert!(rows.len() > 2 && rows.iter().skip(1).all(|r| r.contains("CHAT_OFF")), "{rows:?}");
    // Members of a group.
    let group = tenet(&["table", "--group", "sg-teachers", "--decision", "parents_app", "--format", "ndjson"]);
    let members = lines(&group);
    assert!(!members.is_empty());
    for m in &members {
        let j: serde_json::Value = serde_json::from_str(m).expect("one JSON answer per line");
        assert_eq!(j["decision"], "parents_app");
        assert!(j["roles"].as_array().is_some() && j["name"].is_string());
    }
}

#[test]
fn every_format_lists_the_same_rows() {
    let text = lines(&tenet(&["table"])).len() - 1;
    let csv = lines(&tenet(&["table", "--format", "csv"])).len() - 1;
    let ndjson = lines(&tenet(&["table", "--format", "ndjson"])).len();
    let json: serde_json::Value = serde_json::from_slice(&tenet(&["table", "--format", "json"]).stdout).expect("JSON");
    let json = json.as_array().map(Vec::len).unwrap_or_default();
    assert!(text > 100);
    assert_eq!((csv, ndjson, json), (text, text, text));
    // No row at all is still valid JSON.
    let none = tenet(&[
        "table",
        "--format",
        "json",
        "--user",
        "liam.chen@lakeside.edu",
        "--decision",
        "parents_app",
        "--allowed",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&none.stdout).expect("JSON");
    assert_eq!(v.as_array().map(Vec::len), Some(0));
}

#[test]
fn filter_names_that_match_nothing_are_errors_with_a_suggestion() {
    for (args, says) in [
        (vec!["table", "--group", "sg-teachrs"], "did you mean `sg-teachers`"),
        (vec!["table", "--user", "liam.chen@lakeside.ed"], "did you mean"),
        (vec!["table", "--decision", "parent_app"], "unknown decision"),
        (vec!["table", "--role", "principal"], "no user in the directory has the role `principal`"),
        (vec!["table", "--reason", "CHAT_OF"], "no rule has the reason code `CHAT_OF`"),
    ] {
        let out = tenet(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(says),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = tenet(&["table", "--allowed", "--denied"]);
    assert_eq!(out.status.code(), Some(2));
}

/// Runs tenet, reads `keep` bytes of its output, then closes the pipe.
fn read_then_close(args: &[&str], keep: usize) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tenet"))
        .args(args)
        .current_dir(repo())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tenet runs");
    let mut stdout = child.stdout.take().expect("piped");
    let mut buf = vec![0; keep];
    let _ = stdout.read_exact(&mut buf);
    drop(stdout);
    child.wait_with_output().expect("tenet ends")
}

#[test]
fn a_reader_that_goes_away_ends_every_command_quietly() {
    let commands: &[&[&str]] = &[
        &["table"],
        &["table", "--format", "json"],
        &["table", "--format", "csv"],
        &["table", "--format", "ndjson"],
        &["table", "--format", "profiles"],
        &["test", "--format", "json"],
        &["test"],
        &["check", "--format", "json"],
        &["snapshot"],
        &[
            "explain",
            "--user",
            "ana.rivera@lakeside.edu",
            "--decision",
            "invite_guardian",
            "--guardian",
            "maria.kim@example.com",
        ],
        &["fix", "--user", "jamal.wright@lakeside.edu", "--decision", "chat_with_guardians"],
        &["fix", "--decision", "chat_with_guardians", "--role", "teacher", "--format", "json"],
        &["what-if", "--change", "tests/fixtures/changes/every-cmdlet.ps1", "--format", "json"],
    ];
    for args in commands {
        let out = read_then_close(args, 10);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked") && !err.contains("Broken pipe"), "{args:?}: {err}");
        assert_ne!(out.status.code(), Some(101), "{args:?}");
        assert!(out.status.code().is_some(), "{args:?} ended by a signal");
    }
}
