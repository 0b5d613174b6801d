//! Privacy by value: a guardian's email and phone number, written where no contact belongs,
//! never leave tenet in a message unless `--show-contacts` asks for them.

use crate::support::{Scratch, repo};

use std::process::{Command, Output};

/// How a case breaks a file.
type Edit = Box<dyn Fn(&str) -> String>;

const EMAIL: &str = "canary.parent@family-mail.example";
const PHONE: &str = "2065550199";

/// Every form in which the canaries could leak.
const LEAKS: [&str; 5] = ["canary", "family-mail", PHONE, "555 0199", "555-0199"];

fn tenet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tenet"))
        .args(args)
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("the binary runs")
}

fn all_output(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn assert_no_canary(what: &str, text: &str) {
    for leak in LEAKS {
        assert!(!text.contains(leak), "{what}: `{leak}` leaked in:\n{text}");
    }
}

/// A scratch copy of `from`, removed when dropped.
/// Runs each command on `dir`: none may show a canary, and the first must fail and, when its
/// message quotes the value, show it with `--show-contacts` (so the test sees what it says is
/// hidden).
fn assert_hidden(case: &str, commands: &[Vec<&str>]) {
    assert_hidden_as(case, commands, true);
}

fn assert_hidden_as(case: &str, commands: &[Vec<&str>], quoted: bool) {
    for (i, args) in commands.iter().enumerate() {
        let o = tenet(args);
        let text = all_output(&o);
        assert_no_canary(&format!("{case}: tenet {}", args.join(" ")), &text);
        assert!(!text.contains("panicked"), "{case}: {text}");
        if i == 0 && quoted {
            assert_eq!(o.status.code(), Some(1), "{case}: the broken input fails: {text}");
            let mut shown = args.clone();
            shown.push("--show-contacts");
            let revealed = all_output(&tenet(&shown));
            assert!(LEAKS.iter().any(|l| revealed.contains(l)), "{case}: --show-contacts shows it:\n{revealed}");
        }
    }
}

#[test]
fn contacts_in_the_wrong_place_of_a_directory_or_policy_are_hidden() {
    let email_line = "    email: maria.kim@example.com\n";
    let cases: Vec<(&str, Edit)> = vec![
        (
            "an email as a mapping key",
            Box::new(|t| t.replacen("    name: Ana Rivera\n", &format!("    {EMAIL}: x\n"), 1)),
        ),
        (
            "an email as a relationship",
            Box::new(|t| t.replacen("relationship: parent}", &format!("relationship: {EMAIL}}}"), 1)),
        ),
        (
            "an email as a student",
            Box::new(|t| t.replacen("students: [{upn: sam.kim@lakeside.edu", &format!("students: [{{upn: {EMAIL}"), 1)),
        ),
        (
            "an email as a group member",
            Box::new(|t| t.replacen("      - ana.rivera@lakeside.edu\n", &format!("      - {EMAIL}\n"), 1)),
        ),
        (
            "a phone as an integer in a bool",
            Box::new(|t| t.replacen("on_teams: true", &format!("on_teams: {PHONE}"), 1)),
        ),
        (
            "an email where a string belongs",
            Box::new(move |t| t.replacen(email_line, &format!("    email: [{EMAIL}]\n"), 1)),
        ),
        (
            "the whole directory indented",
            Box::new(move |t| {
                let t = t.replacen(email_line, &format!("    email: [{EMAIL}]\n"), 1);
                t.lines().map(|l| format!("  {l}\n")).collect()
            }),
        ),
        (
            "old-Mac line ends",
            Box::new(|t| {
                t.replacen("relationship: parent}", &format!("relationship: {EMAIL}}}"), 1).replace('\n', "\r")
            }),
        ),
        (
            "flow style",
            Box::new(|_| {
                format!("{{users: [{{upn: a@lakeside.edu, roles: [teacher], phone: {PHONE}, x: {EMAIL}}}]}}\n")
            }),
        ),
    ];
    for (case, edit) in cases {
        let dir = Scratch::copy("policies/examples/lakeside", &case.replace(' ', "-"));
        dir.edit("directory.yaml", edit);
        let p = dir.path();
        assert_hidden(
            case,
            &[
                vec!["check", p],
                vec!["check", p, "--format", "json"],
                vec!["test", "--policies", p],
                vec!["table", "--policies", p, "--format", "csv"],
            ],
        );
    }
}

#[test]
fn a_guardian_named_in_a_policy_is_hidden() {
    let cases = [
        (
            "an expect line split over two lines",
            format!("expect \"ana.rivera@lakeside.edu\" invite_guardian\n    \"{EMAIL}\" allow via email\n"),
        ),
        ("a guardian as a user", format!("expect \"{EMAIL}\" parents_app allow\n")),
        ("a phone as a group", format!("assign CsTeamsMessagingPolicy \"Teachers\" to group \"{PHONE}\" rank 9\n")),
    ];
    for (case, line) in cases {
        let dir = Scratch::copy("policies/examples/lakeside", &case.replace(' ', "-"));
        dir.edit("expected.tenet", |t| format!("{t}\n{line}"));
        let p = dir.path();
        assert_hidden(case, &[vec!["check", p], vec!["check", p, "--format", "json"], vec!["test", "--policies", p]]);
    }
}

#[test]
fn contacts_in_the_wrong_place_of_an_export_are_hidden() {
    let cases: Vec<(&str, &str, Edit)> = vec![
        (
            "sds-v2.1/relationships.csv",
            "an email as a relationship",
            Box::new(|t| t.replacen("3001,4001,parent", &format!("3001,4001,{EMAIL}"), 1)),
        ),
        (
            "sds-v2.1/relationships.csv",
            "an email as a sourcedId",
            Box::new(|t| t.replacen("3001,4002,parent", &format!("{EMAIL},4002,parent"), 1)),
        ),
        (
            "graph-contacts/educationUsers.json",
            // Never quoted: the error names the type it found.
            "a phone as a JSON number",
            Box::new(|t| {
                t.replacen("\"emailAddress\": \"maria.kim@example.com\"", &format!("\"emailAddress\": {PHONE}"), 1)
            }),
        ),
        (
            "graph-contacts/educationUsers.json",
            "an email as a relationship",
            Box::new(|t| t.replacen("\"relationship\": \"parent\"", &format!("\"relationship\": \"{EMAIL}\""), 1)),
        ),
        (
            "teams/Get-CsGroupPolicyAssignment.json",
            "an email as a group id",
            Box::new(|t| t.replacen("3f0c2a8e-6b1d-4e57-9a2c-71d4e5f60a01", EMAIL, 1)),
        ),
        ("supplement/supplement.yaml", "an email as a key", Box::new(|t| format!("{t}\n{EMAIL}: {PHONE}\n"))),
    ];
    for (file, case, edit) in cases {
        let dir = Scratch::copy("tests/fixtures/exports/lakeside", &case.replace(' ', "-"));
        dir.edit(file, edit);
        let p = dir.path();
        assert_hidden_as(
            &format!("{file}: {case}"),
            &[
                vec!["import", "--from", p],
                vec!["import", "--from", p, "--format", "json"],
                vec!["check", "--import", p],
            ],
            !case.contains("JSON number"),
        );
    }
}

#[test]
fn contacts_in_an_approvals_file_are_hidden() {
    let dir = Scratch::copy("tests/fixtures/exports/approvals", "approvals");
    dir.edit("approvals.csv", |t| t.replacen("REQ-1001", EMAIL, 1).replacen(",Approved,", &format!(",{PHONE},"), 1));
    let p = dir.path();
    assert_hidden("approvals", &[vec!["import", "--from", p], vec!["import", "--from", p, "--format", "json"]]);
}

#[test]
fn rust_backtrace_changes_nothing_a_user_sees() {
    let dir = Scratch::copy("policies/examples/lakeside", "backtrace");
    dir.edit("directory.yaml", |t| t.replacen("on_teams: true", "on_teams: maybe", 1));
    let run = |backtrace: &str| {
        let o = Command::new(env!("CARGO_BIN_EXE_tenet"))
            .args(["check", dir.path()])
            .env("NO_COLOR", "1")
            .env("RUST_BACKTRACE", backtrace)
            .output()
            .unwrap();
        (o.status.code(), o.stdout, o.stderr)
    };
    let (quiet, full) = (run("0"), run("full"));
    assert_eq!(quiet.0, Some(1));
    assert_eq!(quiet, full, "the same output with and without backtraces");
    assert_eq!(run("1"), quiet);
}
