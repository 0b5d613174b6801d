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
    // Owners and students of a school's class teams, by name in any case.
    let school = lines(&tenet(&["who", "--decision", "parents_app", "--school", "lakeside high school"]));
    assert_eq!(school.len() - 1, 7, "five teachers and two students: {school:?}");
    assert!(school.iter().any(|r| r.starts_with("elena.petrov@lakeside.edu")));
    assert!(!school.iter().any(|r| r.starts_with("henry.adams@lakeside.edu")), "Henry teaches at the middle school");
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
        (vec!["summary", "--role", "teachers"], "did you mean `teacher`"),
        (vec!["table", "--reason", "CHAT_OF"], "no rule has the reason code `CHAT_OF`"),
        (vec!["table", "--school", "Lakeside Highschool"], "did you mean `Lakeside High School`"),
        (vec!["summary", "--school", "North"], "the schools are: Lakeside High School, Lakeside Middle School"),
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
        &["summary"],
        &["summary", "--format", "json"],
        &["who", "--decision", "start_chat_with_guardian"],
        &["who", "--decision", "start_chat_with_guardian", "--format", "csv"],
        &["who", "--decision", "start_chat_with_guardian", "--format", "json"],
        &["decide", "--user", "ana.rivera@lakeside.edu", "--decision", "parents_app", "--format", "json"],
        &[
            "table",
            "--import",
            "tests/fixtures/exports/lakeside/teams",
            "--import",
            "tests/fixtures/exports/lakeside/graph",
            "--import",
            "tests/fixtures/exports/lakeside/sds-v2.1",
            "--format",
            "ndjson",
        ],
        &[
            "import",
            "--from",
            "tests/fixtures/exports/lakeside/teams",
            "--from",
            "tests/fixtures/exports/lakeside/sds-v2.1",
        ],
        &[
            "import",
            "--from",
            "tests/fixtures/exports/lakeside/teams",
            "--from",
            "tests/fixtures/exports/lakeside/sds-v2.1",
            "--format",
            "json",
        ],
        &["diff", "--before", "policies/examples/lakeside", "--after", "policies/examples/lakeside"],
    ];
    for args in commands {
        let out = read_then_close(args, 10);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked") && !err.contains("Broken pipe"), "{args:?}: {err}");
        assert_ne!(out.status.code(), Some(101), "{args:?}");
        assert!(out.status.code().is_some(), "{args:?} ended by a signal");
    }
}

/// Allowed and denied answers per decision, counted from `table --format csv`.
pub(crate) fn counted_from_the_table(args: &[&str]) -> std::collections::BTreeMap<String, (usize, usize)> {
    let mut all = vec!["table", "--format", "csv"];
    all.extend_from_slice(args);
    let out = tenet(&all);
    let mut reader = csv::Reader::from_reader(&out.stdout[..]);
    let mut counts = std::collections::BTreeMap::<String, (usize, usize)>::new();
    for row in reader.records() {
        let row = row.expect("a CSV row");
        let c = counts.entry(row[3].to_string()).or_default();
        if &row[5] == "true" {
            c.0 += 1;
        } else {
            c.1 += 1;
        }
    }
    counts
}

#[test]
fn summary_counts_what_the_table_lists_and_ranks_blockers_by_users() {
    for filter in [&[][..], &["--role", "teacher"][..], &["--group", "sg-teachers", "--denied"][..]] {
        let mut args = vec!["summary", "--format", "json"];
        args.extend_from_slice(filter);
        let out = tenet(&args);
        assert_eq!(out.status.code(), Some(0), "{filter:?}");
        let s: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let from_summary: std::collections::BTreeMap<String, (usize, usize)> = s["decisions"]
            .as_array()
            .expect("decisions")
            .iter()
            .filter(|d| d["allowed"].as_u64().unwrap_or(0) + d["denied"].as_u64().unwrap_or(0) > 0)
            .map(|d| {
                let n = |k: &str| usize::try_from(d[k].as_u64().expect("a count")).expect("fits");
                (d["decision"].as_str().expect("name").to_string(), (n("allowed"), n("denied")))
            })
            .collect();
        assert_eq!(from_summary, counted_from_the_table(filter), "{filter:?}");
        let users: Vec<u64> = s["reasons"]
            .as_array()
            .expect("reasons")
            .iter()
            .filter(|r| r["kind"] == "blocker")
            .map(|r| r["users"].as_u64().expect("users"))
            .collect();
        assert!(users.windows(2).all(|w| w[0] >= w[1]), "ranked by users: {users:?}");
    }
    let text = String::from_utf8_lossy(&tenet(&["summary", "--role", "teacher"]).stdout).into_owned();
    assert!(text.starts_with("14 users, "), "{text}");
    assert!(text.contains("chat_with_guardians") && text.contains("BLOCKERS") && text.contains("WARNINGS"), "{text}");
}

#[test]
fn who_lists_the_users_of_a_decision_with_verdict_and_reason() {
    let denied = tenet(&["who", "--decision", "chat_with_guardians", "--role", "teacher", "--denied"]);
    assert_eq!(denied.status.code(), Some(0));
    let rows = lines(&denied);
    assert!(rows[0].starts_with("USER") && rows[0].contains("VERDICT") && rows[0].contains("REASON"));
    assert_eq!(rows.len() - 1, 7, "{rows:?}");
    assert!(rows.iter().any(|r| r.starts_with("henry.adams@lakeside.edu")
        && r.contains("Henry Adams")
        && r.contains("deny")
        && r.contains("CHAT_OFF:")));
    let allowed = tenet(&["who", "--decision", "chat_with_guardians", "--role", "teacher", "--allowed"]);
    assert_eq!(lines(&allowed).len() - 1, 7);
    // A guardian decision: a user denied for one guardian of four is listed once, with the count.
    let csv = tenet(&["who", "--decision", "start_chat_with_guardian", "--format", "csv"]);
    let mut reader = csv::Reader::from_reader(&csv.stdout[..]);
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("a row")).collect();
    let ana = rows.iter().find(|r| &r[0] == "ana.rivera@lakeside.edu").expect("Ana is listed");
    assert_eq!((&ana[3], &ana[4], &ana[5], &ana[6]), ("allow 2/4", "2", "2", "BLOCKED_BY_YOU"));
    let users: std::collections::BTreeSet<&str> = rows.iter().map(|r| r.get(0).unwrap_or_default()).collect();
    assert_eq!(users.len(), rows.len(), "one row per user");
    // --denied keeps users denied at least once, whole.
    let json = tenet(&["who", "--decision", "start_chat_with_guardian", "--denied", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    let listed = v.as_array().expect("an array");
    assert!(listed.iter().all(|u| u["denied"].as_u64() > Some(0)));
    assert!(listed.iter().any(|u| u["user"] == "ana.rivera@lakeside.edu" && u["allowed"] == 2));
    assert!(String::from_utf8_lossy(&json.stdout).starts_with("[\n{\"user\":"), "the user comes first");
    // One decision, exactly.
    assert_eq!(tenet(&["who"]).status.code(), Some(2));
    assert_eq!(
        tenet(&["who", "--decision", "parents_app", "--decision", "chat_with_guardians"]).status.code(),
        Some(2)
    );
    let typo = tenet(&["who", "--decision", "chat_with_guardian"]);
    assert_eq!(typo.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&typo.stderr).contains("did you mean"));
}
