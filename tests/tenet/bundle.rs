//! Compiled bundles: a bundle decides and explains exactly like its sources, and a bundle from
//! another version, cut short or damaged is an error that says which, never a wrong answer.

use crate::support::{assert_agreement, generated};
use sha2::{Digest as _, Sha256};
use tenet::{BundleError, Engine};

const HEADER: usize = 68;

fn bundle(engine: &Engine) -> Vec<u8> {
    let mut bytes = Vec::new();
    let info = engine.write_bundle(&mut bytes).unwrap();
    assert_eq!(info.bytes, bytes.len() as u64);
    assert_eq!(info.checksum.len(), 64);
    bytes
}

fn load(bytes: &[u8]) -> Result<Engine, BundleError> {
    Engine::from_bundle(bytes).map(|(engine, _)| engine)
}

/// Every answer, its provenance and the table's listing, as text: what two engines must share.
fn everything(engine: &Engine) -> String {
    let table = engine.table();
    let mut out = table.dump();
    for answer in table.all() {
        out.push_str(&tenet::output::explain(&answer));
        out.push_str(&serde_json::to_string(&tenet::output::AnswerJson::new(&answer)).unwrap());
    }
    for (u, d, g) in table.every_query() {
        match table.decide_handles(u, d, g) {
            Ok(a) => out.push_str(&format!("{} {:?}\n", a.allowed(), a.outcome.reason.code)),
            Err(e) => out.push_str(&format!("error {e}\n")),
        }
    }
    out
}

fn same(before: &Engine, after: &Engine) {
    let (b, a) = (everything(before), everything(after));
    assert!(b == a, "the bundle answers differently:\n{}", first_difference(&b, &a));
    let before_dir = &before.table().model().directory;
    let after_dir = &after.table().model().directory;
    assert_eq!(format!("{:?}", before.table()), format!("{:?}", after.table()));
    assert_eq!(before_dir.user_count(), after_dir.user_count());
    for ((_, x), (_, y)) in before_dir.guardians().zip(after_dir.guardians()) {
        assert_eq!((x.email(), x.phone(), x.id(), x.name()), (y.email(), y.phone(), y.id(), y.name()));
    }
}

fn first_difference(a: &str, b: &str) -> String {
    let line = a.lines().zip(b.lines()).find(|(x, y)| x != y);
    format!("{line:?}")
}

#[test]
fn the_example_from_a_bundle_decides_and_explains_like_its_sources() {
    let (engine, _) = Engine::bundled().unwrap();
    let loaded = load(&bundle(&engine)).unwrap();
    same(&engine, &loaded);
    // The second witness on the loaded model: the reference evaluator agrees with the loaded table.
    assert!(assert_agreement(&loaded) > 100);
    // Queries by name and suggestions work on the loaded directory.
    let answer = loaded.decide("henry.adams@lakeside.edu", "chat_with_guardians", None).unwrap();
    assert!(!answer.allowed());
    let unknown = loaded.decide("henry.adams@lakeside.ed", "chat_with_guardians", None).unwrap_err();
    assert!(unknown.to_string().contains("did you mean"), "{unknown}");
}

#[test]
fn generated_districts_from_a_bundle_decide_like_their_sources() {
    for seed in 1..3 {
        let engine = generated(seed, 120);
        let loaded = load(&bundle(&engine)).unwrap();
        same(&engine, &loaded);
        assert!(assert_agreement(&loaded) > 0);
    }
}

#[test]
fn a_bundle_keeps_the_date_and_the_changes_it_was_built_with() {
    let sources = tenet::Sources::bundled();
    let day = jiff::civil::date(2025, 10, 1);
    let (dated, _) = Engine::build_as_of(sources, Some(day)).unwrap();
    same(&dated, &load(&bundle(&dated)).unwrap());
    let (engine, _) = Engine::bundled().unwrap();
    let script =
        tenet::Source::new("change.ps1", "Set-CsTeamsMessagingPolicy -Identity Global -AllowUserChat $false\n");
    let changed = engine.with_changes(script).unwrap();
    same(&changed, &load(&bundle(&changed)).unwrap());
}

#[test]
fn a_bundle_leaves_out_the_directory_files_text() {
    let (engine, _) = Engine::bundled().unwrap();
    let bytes = bundle(&engine);
    // A guardian's phone is in the bundle once (its directory entry), not twice (the file's
    // text as well): count a comment only the directory file has.
    let text = String::from_utf8_lossy(&bytes);
    let sources = tenet::Sources::bundled();
    let directory = &sources.directory.file().unwrap().text;
    let comment = directory.lines().find(|l| l.trim_start().starts_with('#')).unwrap();
    assert!(!text.contains(comment.trim()), "the directory file's text is in the bundle");
}

#[test]
fn a_bundle_from_another_version_is_refused() {
    let (engine, _) = Engine::bundled().unwrap();
    let mut bytes = bundle(&engine);
    bytes[12..28].copy_from_slice(b"0.0.9\0\0\0\0\0\0\0\0\0\0\0");
    let e = load(&bytes).unwrap_err();
    assert!(matches!(&e, BundleError::Version { version, .. } if version == "0.0.9"), "{e:?}");
    assert!(e.to_string().contains("built by tenet 0.0.9"), "{e}");
    assert!(e.help().contains("tenet build"));
    let mut bytes = bundle(&engine);
    bytes[8] = bytes[8].wrapping_add(1);
    assert!(matches!(load(&bytes), Err(BundleError::Version { .. })));
}

#[test]
fn a_truncated_bundle_is_refused_at_any_length() {
    let (engine, _) = Engine::bundled().unwrap();
    let bytes = bundle(&engine);
    assert!(matches!(load(&[]), Err(BundleError::NotABundle)));
    for len in [1, 7, 8, 40, HEADER - 1, HEADER, HEADER + 1, bytes.len() / 2, bytes.len() - 1] {
        match load(&bytes[..len]) {
            Err(BundleError::Truncated { expected, found }) => {
                assert_eq!(found, len as u64);
                assert!(expected > found);
            }
            other => panic!("{len} bytes: {other:?}"),
        }
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(matches!(load(&longer), Err(BundleError::Damaged(why)) if why.contains("1 bytes after")));
}

#[test]
fn a_damaged_bundle_is_refused() {
    let (engine, _) = Engine::bundled().unwrap();
    let bytes = bundle(&engine);
    for at in [HEADER, HEADER + 100, bytes.len() / 2, bytes.len() - 1] {
        let mut damaged = bytes.clone();
        damaged[at] ^= 0x20;
        let e = load(&damaged).unwrap_err();
        assert!(matches!(&e, BundleError::Damaged(why) if why.contains("checksum")), "{e:?}");
    }
    let mut damaged = bytes.clone();
    damaged[40] ^= 1;
    assert!(matches!(load(&damaged), Err(BundleError::Damaged(_))));
    let sources = tenet::Sources::bundled();
    let yaml = sources.directory.file().unwrap().text.as_bytes();
    assert!(matches!(load(yaml), Err(BundleError::NotABundle)));
}

/// Rewrites the checksum, as a bundle damaged before it was summed would have it.
fn resummed(mut bytes: Vec<u8>) -> Vec<u8> {
    let digest = Sha256::digest(&bytes[HEADER..]);
    bytes[36..HEADER].copy_from_slice(&digest);
    bytes
}

#[test]
fn a_bundle_damaged_before_its_checksum_never_panics() {
    // Whatever a byte changed to, loading says it is damaged or gives an engine whose every
    // query and explanation answers without panicking.
    let engine = generated(7, 40);
    let bytes = bundle(&engine);
    let payload = bytes.len() - HEADER;
    let mut refused = 0;
    for i in 0..300 {
        let at = HEADER + (i * 7919) % payload;
        let mut damaged = bytes.clone();
        damaged[at] = damaged[at].wrapping_add(1 + (i % 251) as u8);
        match load(&resummed(damaged)) {
            Err(BundleError::Damaged(_)) => refused += 1,
            Err(e) => panic!("byte {at}: {e:?}"),
            Ok(loaded) => {
                everything(&loaded);
            }
        }
    }
    assert!(refused > 0);
}

#[test]
fn a_bundle_file_that_is_missing_or_not_a_file_is_an_io_error() {
    let e = Engine::from_bundle_file(std::path::Path::new("no/such.bundle")).unwrap_err();
    assert!(matches!(e, BundleError::Io(_)), "{e:?}");
    let e = Engine::from_bundle_file(std::path::Path::new(".")).unwrap_err();
    assert!(e.to_string().contains("not a regular file"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// The command line: `tenet build` and `--bundle`

fn tenet(args: &[&str], dir: &std::path::Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_tenet"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn build_writes_a_bundle_every_command_answers_from_like_the_sources() {
    let scratch = crate::support::Scratch::empty("build");
    let dir = scratch.0.as_path();
    let example = crate::support::repo().join("policies/examples/lakeside");
    let example = example.to_str().unwrap();
    let built = tenet(&["build", "--policies", example, "--out", "district.bundle"], dir);
    assert!(built.status.success(), "{}", text(&built.stderr));
    assert!(text(&built.stderr).contains("wrote `district.bundle`: 22 users"), "{}", text(&built.stderr));
    assert!(!dir.join("district.bundle.partial").exists());
    let henry = ["--user", "henry.adams@lakeside.edu", "--decision", "chat_with_guardians"];
    for (command, extra) in [
        ("decide", &henry[..]),
        ("explain", &henry[..]),
        ("table", &["--format", "csv"][..]),
        ("summary", &[][..]),
        ("who", &["--decision", "chat_with_guardians", "--denied"][..]),
        ("snapshot", &[][..]),
        ("test", &[][..]),
    ] {
        let from_sources: Vec<&str> =
            [command, "--policies", example].into_iter().chain(extra.iter().copied()).collect();
        let from_bundle: Vec<&str> =
            [command, "--bundle", "district.bundle"].into_iter().chain(extra.iter().copied()).collect();
        let (a, b) = (tenet(&from_sources, dir), tenet(&from_bundle, dir));
        assert_eq!(a.status.code(), b.status.code(), "{command}: {}", text(&b.stderr));
        assert!(a.stdout == b.stdout, "{command} answers differently from the bundle");
        assert!(!a.stdout.is_empty(), "{command} printed nothing");
    }
    let checked = tenet(&["check", "--bundle", "district.bundle"], dir);
    assert!(checked.status.success());
    assert!(text(&checked.stderr).contains("22 users, 12 decisions, sha256 "), "{}", text(&checked.stderr));
    let dated = tenet(&["build", "--as-of", "2025-10-01", "--out", "dated.bundle"], dir);
    assert!(dated.status.success());
    let checked = tenet(&["check", "--bundle", "dated.bundle"], dir);
    assert!(text(&checked.stderr).contains("built by tenet 0.1.0 as of 2025-10-01"), "{}", text(&checked.stderr));
    let json = tenet(&["check", "--bundle", "district.bundle", "--format", "json"], dir);
    assert!(text(&json.stdout).contains("\"as_of\":null"), "{}", text(&json.stdout));
    let diff = tenet(&["diff", "--before", "district.bundle", "--after", example], dir);
    assert_eq!(diff.status.code(), Some(0), "{}", text(&diff.stderr));
}

#[test]
fn a_bad_bundle_on_the_command_line_is_a_located_error() {
    let scratch = crate::support::Scratch::empty("bad-bundle");
    let dir = scratch.0.as_path();
    let built = tenet(&["build", "--out", "good.bundle"], dir);
    assert!(built.status.success());
    let bytes = std::fs::read(dir.join("good.bundle")).unwrap();
    std::fs::write(dir.join("cut.bundle"), &bytes[..bytes.len() - 10]).unwrap();
    std::fs::write(dir.join("text.bundle"), "users: []\n").unwrap();
    let mut old = bytes.clone();
    old[12..17].copy_from_slice(b"0.0.1");
    std::fs::write(dir.join("old.bundle"), &old).unwrap();
    let mut flipped = bytes;
    let middle = flipped.len() / 2;
    flipped[middle] ^= 1;
    std::fs::write(dir.join("flipped.bundle"), &flipped).unwrap();
    for (file, says) in [
        ("cut.bundle", "is truncated"),
        ("text.bundle", "is not a tenet bundle"),
        ("old.bundle", "built by tenet 0.0.1"),
        ("flipped.bundle", "checksum doesn't match"),
        ("missing.bundle", "No such file"),
    ] {
        let out = tenet(&["decide", "--bundle", file, "--user", "a@b.c", "--decision", "parents_app"], dir);
        assert_eq!(out.status.code(), Some(1), "{file}");
        let err = text(&out.stderr);
        assert!(err.contains("E0701") && err.contains(says) && err.contains("help:"), "{file}: {err}");
        let json = tenet(&["check", "--bundle", file, "--format", "json"], dir);
        assert_eq!(json.status.code(), Some(1));
        assert!(text(&json.stdout).contains("\"E0701\""), "{}", text(&json.stdout));
    }
    // --bundle stands alone.
    let both = tenet(&["decide", "--bundle", "good.bundle", "--policies", ".", "--user", "a", "--decision", "b"], dir);
    assert_eq!(both.status.code(), Some(2));
    // A write that can't happen leaves nothing behind.
    let unwritable = tenet(&["build", "--out", "no/such/folder/x.bundle"], dir);
    assert_eq!(unwritable.status.code(), Some(1));
    assert!(text(&unwritable.stderr).contains("can't write"), "{}", text(&unwritable.stderr));
}

#[test]
fn a_bundle_of_an_import_keeps_its_assumptions() {
    // Without a supplement the import assumes who approves contact updates: the directory's
    // `assumed` list has an entry with an empty role list, which a positional encoding must
    // still read back in place.
    let scratch = crate::support::Scratch::empty("import-bundle");
    let dir = scratch.0.as_path();
    let x = crate::support::repo().join("tests/fixtures/exports/lakeside");
    let imports: Vec<String> = ["teams", "graph", "sds-v2.1"]
        .iter()
        .flat_map(|d| ["--import".to_string(), x.join(d).display().to_string()])
        .collect();
    let imports: Vec<&str> = imports.iter().map(String::as_str).collect();
    let mut build = vec!["build", "--out", "import.bundle"];
    build.extend(&imports);
    let built = tenet(&build, dir);
    assert!(built.status.success(), "{}", text(&built.stderr));
    for args in [&["table", "--format", "ndjson"][..], &["summary"][..]] {
        let mut from_import = args.to_vec();
        from_import.extend(&imports);
        let mut from_bundle = args.to_vec();
        from_bundle.extend(["--bundle", "import.bundle"]);
        let (a, b) = (tenet(&from_import, dir), tenet(&from_bundle, dir));
        assert!(b.status.success(), "{}", text(&b.stderr));
        assert!(a.stdout == b.stdout, "{args:?} answers differently from the bundle");
    }
    let (table, _) = Engine::from_bundle_file(&dir.join("import.bundle")).unwrap();
    let assumed = table.table().model().directory.assumed();
    assert!(assumed.iter().any(|a| a.enabled_roles.is_empty()), "{assumed:?}");
    // The table's JSON cites the assumption.
    let ndjson = tenet(&["table", "--format", "ndjson", "--bundle", "import.bundle"], dir);
    assert!(text(&ndjson.stdout).contains("assumed: "), "no assumption is cited");
}

#[cfg(unix)]
#[test]
fn a_bundle_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt as _;
    let scratch = crate::support::Scratch::empty("bundle-mode");
    let dir = scratch.0.as_path();
    assert!(tenet(&["build", "--out", "x.bundle"], dir).status.success());
    let mode = std::fs::metadata(dir.join("x.bundle")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    // Policy paths and a bundle at once is a usage error, not a silent choice.
    let both = tenet(&["check", ".", "--bundle", "x.bundle"], dir);
    assert_eq!(both.status.code(), Some(2), "{}", text(&both.stderr));
    let flag = tenet(&["table", "--bundle", "x.bundle", "--allow-rejects"], dir);
    assert_eq!(flag.status.code(), Some(2));
}
