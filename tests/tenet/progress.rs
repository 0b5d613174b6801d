//! The progress line: drawn with its phases on a terminal (a pseudo-terminal made by `script`,
//! from util-linux), never with --quiet, never when stderr is not a terminal, and cleared
//! before the command ends.

use crate::support::{Scratch, repo};
use std::process::Command;

/// A generated district big enough for each phase to last more than one redraw (0.1 s).
fn district() -> Scratch {
    let dir = Scratch::empty("progress");
    let out = Command::new(env!("CARGO_BIN_EXE_tenet"))
        .args(["gen", "--users", "20000", "--seed", "5", "--out", dir.path()])
        .output()
        .expect("tenet runs");
    assert_eq!(out.status.code(), Some(0));
    dir
}

/// What `tenet ARGS` drew on a terminal (stdout to /dev/null), read back from `script`'s log.
fn on_a_terminal(args: &str, log: &std::path::Path) -> String {
    on_a_terminal_to(&format!("{args} > /dev/null"), log)
}

/// What `tenet ARGS` drew on a terminal, its output included.
fn on_a_terminal_to(args: &str, log: &std::path::Path) -> String {
    let tenet = env!("CARGO_BIN_EXE_tenet");
    let status = Command::new("script")
        .args(["-qec", &format!("{tenet} {args}"), log.to_str().expect("UTF-8")])
        .current_dir(repo())
        .env("TERM", "xterm")
        .env_remove("NO_COLOR")
        .stdout(std::process::Stdio::null())
        .status()
        .expect("`script` (util-linux) runs");
    assert!(status.success(), "{args}");
    String::from_utf8_lossy(&std::fs::read(log).expect("the terminal's log")).into_owned()
}

#[test]
fn long_work_shows_its_phases_on_a_terminal_only() {
    let dir = district();
    let log = dir.0.join("terminal.log");
    let policies = format!("--policies {}", dir.path());

    let table = on_a_terminal(&format!("table {policies} --format csv"), &log);
    for phase in ["reading", "compiling", "writing"] {
        assert!(table.contains(phase), "`table` shows {phase}: {table:?}");
    }
    assert!(table.contains(" lines, "), "writing counts its lines: {table:?}");
    let check = on_a_terminal(&format!("check {policies}"), &log);
    assert!(check.contains("checking"), "{check:?}");
    assert!(check.contains("checked 5 files: 0 errors"), "the command's own line stays: {check:?}");
    // The line is cleared: the last thing drawn is not a phase.
    let tail = check.rsplit("\u{1b}[2K").next().unwrap_or_default();
    assert!(!tail.contains("checking"), "{tail:?}");

    // Rows on the same terminal: the line is cleared before the first row, never drawn between.
    let rows = on_a_terminal_to(&format!("table {policies} --role teacher --decision parents_app"), &log);
    assert!(rows.contains("compiling") && !rows.contains("writing"), "{rows:?}");
    let header = rows.find("USER").expect("the table's header");
    assert!(rows[header..].lines().all(|l| !l.contains("compiling")), "no progress after the first row");
    let quiet = on_a_terminal(&format!("table {policies} --format csv --quiet"), &log);
    for phase in ["reading", "checking", "compiling", "writing"] {
        assert!(!quiet.contains(phase), "--quiet draws nothing: {quiet:?}");
    }
    // Not on a terminal: nothing but the command's own messages.
    let piped = Command::new(env!("CARGO_BIN_EXE_tenet"))
        .args(["check", "--policies", dir.path()])
        .output()
        .expect("tenet runs");
    let err = String::from_utf8_lossy(&piped.stderr);
    assert!(!err.contains('\r') && !err.contains('\u{1b}') && !err.contains("checking"), "{err:?}");
}
