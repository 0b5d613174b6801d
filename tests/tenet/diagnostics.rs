//! Rendered diagnostics for every broken input in `tests/fixtures/check/`, one snapshot each.
//!
//! A `X.tenet` fixture is checked together with `base/` (policies and directory); a `X.yaml`
//! fixture replaces the base directory. Every diagnostic code must be produced by some fixture.

use crate::support::repo;
use std::collections::BTreeSet;
use std::path::Path;
use tenet::Source;
use tenet::unstable::diagnostic::{Code, render_human};
use tenet::unstable::engine::{Sources, check_sources};

fn source(path: &Path) -> Source {
    let name = path.strip_prefix(repo()).unwrap_or(path).display().to_string().replace('\\', "/");
    Source::new(name, std::fs::read_to_string(path).unwrap())
}

fn base_policies() -> Vec<Source> {
    let mut files: Vec<_> = std::fs::read_dir(repo().join("tests/fixtures/check/base"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "tenet"))
        .collect();
    files.sort();
    files.iter().map(|p| source(p)).collect()
}

/// Checks one fixture; returns the rendered report and the codes it produced.
fn check_fixture(path: &Path) -> (String, Vec<Code>) {
    let base_dir = repo().join("tests/fixtures/check/base/directory.yaml");
    let mut policies = base_policies();
    let directory = if path.extension().is_some_and(|e| e == "yaml") {
        source(path)
    } else {
        policies.push(source(path));
        source(&base_dir)
    };
    let (_, report) = check_sources(Sources { policies, directory: tenet::DirectorySource::File(directory) });
    let rendered = render_human(&report.diagnostics, &report.sources, false);
    (rendered, report.diagnostics.iter().map(|d| d.code).collect())
}

#[test]
fn base_fixture_is_clean() {
    let (_, report) = check_sources(Sources {
        policies: base_policies(),
        directory: tenet::DirectorySource::File(source(&repo().join("tests/fixtures/check/base/directory.yaml"))),
    });
    assert!(report.diagnostics.is_empty(), "{:?}", report.diagnostics);
}

#[test]
fn every_broken_input_renders_its_diagnostics() {
    insta::glob!("../fixtures/check", "*.{tenet,yaml}", |path| {
        let (rendered, codes) = check_fixture(path);
        assert!(!codes.is_empty(), "{} produced no diagnostic", path.display());
        // The file name starts with the code it is about.
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        assert!(codes.iter().any(|c| name.starts_with(c.id())), "{name} did not produce its code: {codes:?}");
        // Guardians' contact details (the fixtures' guardians use example.com and example.org)
        // never show in rendered diagnostics.
        assert!(!rendered.contains("@example."), "{name} shows a guardian's email:\n{rendered}");
        insta::assert_snapshot!(rendered);
    });
}

#[test]
fn every_code_has_a_fixture_or_a_test() {
    let mut seen = BTreeSet::new();
    for entry in std::fs::read_dir(repo().join("tests/fixtures/check")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            seen.extend(check_fixture(&path).1);
        }
    }
    // Io and InputTooLarge need a missing or huge file: tested below. SnapshotSyntax, ChangeScript
    // and ChangeRefused are about snapshots and change scripts, not policies: tested in
    // `snapshot.rs` and `what_if.rs`. Bundle is about bundle files: tested in `bundle.rs`.
    let missing: Vec<_> = Code::ALL
        .iter()
        .filter(|c| {
            !seen.contains(c)
                && !matches!(
                    c,
                    Code::Io
                        | Code::InputTooLarge
                        | Code::SnapshotSyntax
                        | Code::ChangeScript
                        | Code::ChangeRefused
                        | Code::Bundle
                )
        })
        .collect();
    assert!(missing.is_empty(), "codes without a fixture: {missing:?}");
}

#[test]
fn oversized_policy_files_are_rejected_before_parsing() {
    let text = "// padding\n".repeat(tenet::unstable::syntax::MAX_FILE_BYTES / 11 + 1);
    let errs = tenet::unstable::syntax::parse(tenet::unstable::source::FileId(0), &text).unwrap_err();
    assert_eq!(errs[0].code, Code::InputTooLarge);
    // The sizes read as sizes (a bare nine-digit number would be hidden as a phone number).
    let shown = tenet::render_human(&errs, &Default::default(), false);
    assert!(shown.contains("over the limit of 4.0 MiB") && !shown.contains("hidden"), "{shown}");
}

#[test]
fn unreadable_paths_are_reported() {
    let (_, errors) = Sources::read(&[repo().join("tests/fixtures/no-such-dir")], None);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].code, Code::Io);
    let bad = std::env::temp_dir().join(format!("tenet-not-utf8-{}.tenet", std::process::id()));
    std::fs::write(&bad, [0x66, 0x6f, 0xff, 0xfe]).unwrap();
    let (_, errors) = Sources::read(std::slice::from_ref(&bad), None);
    let _ = std::fs::remove_file(&bad);
    assert_eq!(errors[0].code, Code::Io);
    assert!(errors[0].message.contains("not valid UTF-8"), "{}", errors[0].message);
}
