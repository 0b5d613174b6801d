//! Imports: the Lakeside exports decide like the hand-written Lakeside district, an import
//! round-trips through its written files, and every error fixture's report is pinned.

use crate::support::repo;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use tenet::output::AnswerJson;
use tenet::{Engine, Sources};
use tenet_import::{Imported, Options, import};

/// The app ids the Lakeside exports use (Microsoft doesn't publish them; see the README).
pub const PARENTS_APP_ID: &str = "6f1e7c2a-8d3b-4f5e-9a1c-2b3d4e5f6a71";
pub const APPROVALS_APP_ID: &str = "7c316234-ded0-4f95-8a83-8453d0876592";

fn options() -> Options {
    Options {
        parents_app_id: Some(PARENTS_APP_ID.into()),
        approvals_app_id: Some(APPROVALS_APP_ID.into()),
        progress: None,
    }
}

fn exports(dir: &str) -> PathBuf {
    repo().join("tests/fixtures/exports").join(dir)
}

fn pack() -> tenet::unstable::model::Model {
    let (model, report) = tenet::unstable::engine::check_sources(Sources::pack());
    model.unwrap_or_else(|| panic!("the bundled pack does not check: {:?}", report.diagnostics))
}

/// Imports the Lakeside exports with rosters and guardians from `sources` (School Data Sync,
/// or an SDS roster profile with Graph's related contacts).
fn lakeside(sources: &[&str]) -> Imported {
    let dirs: Vec<PathBuf> =
        ["teams", "graph", "supplement"].iter().chain(sources).map(|d| exports("lakeside").join(d)).collect();
    import(&dirs, &pack(), &options())
}

fn engine(imported: &Imported) -> Engine {
    let sources = imported.sources(Sources::pack().policies, Path::new("lakeside"));
    match Engine::build(sources) {
        Ok((e, _)) => e,
        Err(report) => {
            panic!("the import does not check:\n{}", tenet::render_human(&report.diagnostics, &report.sources, false))
        }
    }
}

/// Every decision of the table, by (user, decision, guardian): allowed, channel and the codes and
/// messages of the deciding rule, blockers and warnings. Provenance is left out: it names where
/// settings were written, which differs between hand-written and imported files.
fn outcomes(engine: &Engine) -> BTreeMap<(String, String, Option<String>), serde_json::Value> {
    let table = engine.table();
    table
        .all()
        .iter()
        .map(|d| {
            let j = AnswerJson::new(d);
            let reason = |r: &tenet::output::ReasonJson<'_>| serde_json::json!([r.code, r.message, r.decision]);
            // Guardians by name: sources key a contact without email differently (an SDS id, or
            // the student and name for Graph), and Lakeside's guardian names are unique.
            let key = (j.user.to_lowercase(), j.decision.to_string(), d.guardian().map(|g| g.name().to_string()));
            let value = serde_json::json!({
                "allowed": j.allowed,
                "channel": j.channel,
                "reason": reason(&j.reason),
                "blockers": j.blockers.iter().map(reason).collect::<Vec<_>>(),
                "warnings": j.warnings.iter().map(reason).collect::<Vec<_>>(),
            });
            (key, value)
        })
        .collect()
}

fn assert_same_decisions(imported: &Imported) {
    assert!(!imported.report.has_errors(), "the import rejected rows:\n{}", imported.report.render(false));
    let (hand, _) = Engine::bundled().expect("the bundled district checks");
    let (want, got) = (outcomes(&hand), outcomes(&engine(imported)));
    assert_eq!(want.len(), got.len(), "different numbers of decisions");
    for (key, w) in &want {
        assert_eq!(got.get(key), Some(w), "decision differs for {key:?}");
    }
    // Each user's schools, from the class teams' schools (section.csv or classes.csv, named by
    // school.csv or orgs.csv).
    let schools = |e: &Engine| -> BTreeMap<String, Vec<String>> {
        let dir = &e.table().model().directory;
        dir.users()
            .map(|(_, u)| (u.upn().to_lowercase(), dir.schools_of(u).iter().map(|s| s.to_string()).collect()))
            .collect()
    };
    let (want, got) = (schools(&hand), schools(&engine(imported)));
    assert!(want.values().any(|s| s == &["Lakeside High School"]));
    assert_eq!(want, got);
}

#[test]
fn lakeside_from_sds_v2_1_decides_like_the_hand_written_district() {
    assert_same_decisions(&lakeside(&["sds-v2.1"]));
}

#[test]
fn lakeside_from_sds_v1_decides_like_the_hand_written_district() {
    assert_same_decisions(&lakeside(&["sds-v1"]));
}

#[test]
fn lakeside_from_graph_related_contacts_decides_like_the_hand_written_district() {
    // The SDS v1 roster profile alone (no parent files), contacts from Graph.
    assert_same_decisions(&lakeside(&["sds-v1/roster", "graph-contacts"]));
}

/// The files `tenet import --out` writes decide exactly like `--import` (provenance included).
#[test]
fn an_import_round_trips_through_its_written_files() {
    let out = std::env::temp_dir().join(format!("tenet-import-roundtrip-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    // A continuation file left by an earlier, larger import must not be read with this one.
    std::fs::create_dir_all(&out).expect("a scratch directory");
    std::fs::write(out.join("tenant-2.tenet"), "assign Nothing \"Stale\" to user \"gone@x.edu\"\n").expect("writes");
    let lakeside = exports("lakeside");
    let mut args: Vec<String> = vec!["import".into()];
    for d in ["teams", "graph", "sds-v2.1", "supplement"] {
        args.extend(["--from".into(), lakeside.join(d).display().to_string()]);
    }
    args.extend([
        "--parents-app-id".into(),
        PARENTS_APP_ID.into(),
        "--approvals-app-id".into(),
        APPROVALS_APP_ID.into(),
    ]);
    args.extend(["--out".into(), out.display().to_string()]);
    let run = Command::new(env!("CARGO_BIN_EXE_tenet")).args(&args).output().expect("tenet runs");
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let check = Command::new(env!("CARGO_BIN_EXE_tenet"))
        .args(["check", &repo().join("policies/teams").display().to_string(), &out.display().to_string()])
        .output()
        .expect("tenet runs");
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
    assert!(!out.join("tenant-2.tenet").exists(), "the stale continuation file is removed");
    let (written, io) = Sources::read(&[repo().join("policies/teams"), out.clone()], None);
    assert!(io.is_empty(), "{io:?}");
    let (from_files, _) = Engine::build(written).unwrap_or_else(|_| panic!("written files don't build"));
    let direct = engine(&lakeside_with_v21());
    let strip = |e: &Engine| {
        e.table()
            .all()
            .iter()
            .map(|d| {
                let mut j = serde_json::to_value(AnswerJson::new(d)).unwrap_or_default();
                for p in j["provenance"].as_array_mut().into_iter().flatten() {
                    p["source"] = serde_json::Value::Null;
                }
                j["reason"]["location"] = serde_json::Value::Null;
                for key in ["blockers", "warnings"] {
                    for r in j[key].as_array_mut().into_iter().flatten() {
                        r["location"] = serde_json::Value::Null;
                    }
                }
                j
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&from_files), strip(&direct));
    let _ = std::fs::remove_dir_all(&out);
}

/// A tenant whose direct assignments don't fit in one file continues them in further files,
/// each under the limit, every assignment written once, deciding exactly like one file.
#[test]
fn direct_assignments_continue_in_further_files_past_the_size_limit() {
    let imported = lakeside_with_v21();
    let whole = imported.tenant_files();
    assert_eq!(whole.len(), 1, "the Lakeside tenant fits in one file");
    let one = &whole[0].1;
    let direct: Vec<&str> = one.lines().filter(|l| l.starts_with("assign ") && l.contains(" to user ")).collect();
    assert!(direct.len() >= 10, "Lakeside has direct assignments");
    // Room for everything but the direct assignments and two of them: the rest continue.
    let limit = one.find("// Direct assignments").unwrap_or(one.len()) + 30 + 2 * direct[0].len();
    let split = imported.tenant_files_within(limit);
    let names: Vec<&str> = split.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["tenant.tenet", "tenant-2.tenet"]);
    for (name, text) in &split {
        assert!(text.len() <= limit, "{name} is {} bytes, over {limit}", text.len());
        assert!(text.starts_with("// Written by `tenet import`"), "{name} starts with the header");
    }
    let written: Vec<&str> = split
        .iter()
        .flat_map(|(_, t)| t.lines())
        .filter(|l| l.starts_with("assign ") && l.contains(" to user "))
        .collect();
    assert_eq!(written, direct, "every direct assignment once, in order");
    let build = |files: Vec<(String, String)>| {
        let sources =
            tenet_import::tenant_sources(Sources::pack().policies, Path::new("lakeside"), files, imported.directory());
        Engine::build(sources).unwrap_or_else(|r| panic!("{:?}", r.diagnostics)).0
    };
    assert_eq!(outcomes(&build(split)), outcomes(&build(whole)));
}

/// A continuation file left by an earlier import that can't be removed stops the import with
/// the reason, rather than leaving it to be read with the new tenant.
#[test]
fn a_stale_continuation_file_that_cannot_be_removed_stops_the_import() {
    let out = std::env::temp_dir().join(format!("tenet-import-stale-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    // A directory in its place: removing it as a file fails, and not because it is missing.
    std::fs::create_dir_all(out.join("tenant-2.tenet").join("inside")).expect("a scratch directory");
    let lakeside = exports("lakeside");
    let mut args: Vec<String> = vec!["import".into()];
    for d in ["teams", "graph", "sds-v2.1", "supplement"] {
        args.extend(["--from".into(), lakeside.join(d).display().to_string()]);
    }
    args.extend(["--parents-app-id".into(), PARENTS_APP_ID.into(), "--out".into(), out.display().to_string()]);
    let run = Command::new(env!("CARGO_BIN_EXE_tenet")).args(&args).output().expect("tenet runs");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("can't remove") && stderr.contains("tenant-2.tenet"), "{stderr}");
    let _ = std::fs::remove_dir_all(&out);
}

fn lakeside_with_v21() -> Imported {
    lakeside(&["sds-v2.1"])
}

/// Strings in `text` that are guardians' contact details in the fixtures: emails at the
/// example domains and numbers in the fictional 555 range.
fn contact_details(text: &str) -> Vec<String> {
    text.split(['"', ',', '\n', '\r', '[', ']', '{', '}', '\'', '\0', ' '])
        .map(|t| t.trim_matches(|c: char| c == ':' || c.is_whitespace()))
        .filter(|t| {
            t.contains("@example.") || (t.contains("555") && t.chars().filter(char::is_ascii_digit).count() >= 7)
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn every_error_fixture_reports_what_it_shows() {
    let root = exports("errors");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("errors fixtures")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 9, "expected a fixture per error kind, found {}", dirs.len());
    let pack = pack();
    for dir in dirs {
        let name = dir.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        let imported = import(std::slice::from_ref(&dir), &pack, &options());
        let text = imported.report.render(false);
        assert!(!imported.report.files.is_empty(), "{name}: nothing was read");
        // No guardian contact detail reaches the report unless asked for.
        for f in std::fs::read_dir(&dir).expect("fixture dir").filter_map(|e| e.ok()) {
            let raw = std::fs::read(f.path()).unwrap_or_default();
            let content = tenet_import::text::decode(&raw).map(|(t, _)| t).unwrap_or_default();
            for detail in contact_details(&content) {
                assert!(!text.contains(&detail), "{name}: the report shows a contact detail:\n{text}");
            }
        }
        insta::assert_snapshot!(name.clone(), text);
    }
}

fn tenet(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tenet")).args(args).output().expect("tenet runs")
}

#[test]
fn rejected_rows_fail_the_import_unless_allowed() {
    // The whole Lakeside set, with one relationship row whose role SDS doesn't have.
    let dir = std::env::temp_dir().join(format!("tenet-import-rejects-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for d in ["teams", "graph", "sds-v2.1", "supplement"] {
        let to = dir.join(d);
        std::fs::create_dir_all(&to).unwrap();
        for f in std::fs::read_dir(exports("lakeside").join(d)).unwrap().filter_map(|e| e.ok()) {
            std::fs::copy(f.path(), to.join(f.file_name())).unwrap();
        }
    }
    let relationships = dir.join("sds-v2.1/relationships.csv");
    let mut text = std::fs::read_to_string(&relationships).unwrap();
    text.push_str("3002,4001,stepparent\n");
    std::fs::write(&relationships, text).unwrap();
    let from = dir.display().to_string();
    let failed = tenet(&["import", "--from", &from]);
    assert_eq!(failed.status.code(), Some(1), "{}", String::from_utf8_lossy(&failed.stderr));
    assert!(String::from_utf8_lossy(&failed.stdout).contains("relationshipRole"));
    assert!(String::from_utf8_lossy(&failed.stderr).contains("--allow-rejects"));
    let allowed = tenet(&["import", "--from", &from, "--allow-rejects"]);
    assert_eq!(allowed.status.code(), Some(0), "{}", String::from_utf8_lossy(&allowed.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn decide_reads_exports_directly() {
    let lakeside = exports("lakeside");
    let dirs: Vec<String> = ["teams", "graph", "sds-v2.1", "supplement"]
        .iter()
        .flat_map(|d| ["--import".to_string(), lakeside.join(d).display().to_string()])
        .collect();
    let mut args = vec!["decide", "--user", "frank.mueller@lakeside.edu", "--decision", "parents_app"];
    args.extend(dirs.iter().map(String::as_str));
    args.extend(["--parents-app-id", PARENTS_APP_ID, "--approvals-app-id", APPROVALS_APP_ID]);
    let out = tenet(&args);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("APP_BLOCKED_BY_PERMISSION_POLICY"));
    let explain = tenet(&[&["explain"], &args[1..]].concat());
    let text = String::from_utf8_lossy(&explain.stdout);
    assert!(text.contains("ParentsApp.Id"), "the explanation names the app id it depends on:\n{text}");
}

#[test]
fn approved_contacts_of_deleted_students_are_kept_and_listed() {
    // The approvals scenario is a partial set (no Teams exports, no roster): the library reads
    // it; the command refuses to write a tenant that lacks required sources.
    let imported = import(&[exports("approvals")], &pack(), &options());
    let report = imported.report.render(false);
    assert!(report.contains("kept and listed as an orphaned contact"), "{report}");
    // The report hides the contact's details; the file the admin asks for holds them.
    assert!(!report.contains("+12065550107"), "{report}");
    let orphans = imported.orphaned_contacts_file().expect("serialises").expect("orphans listed");
    assert!(orphans.contains("Casey Lee") && orphans.contains("+12065550107"), "{orphans}");
    let out = std::env::temp_dir().join(format!("tenet-import-approvals-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let from = exports("approvals").display().to_string();
    let run = tenet(&["import", "--from", &from, "--out", &out.display().to_string()]);
    assert_eq!(run.status.code(), Some(1), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(!out.exists(), "an incomplete tenant is not written");
}

/// Every export file of the Lakeside fixtures (the SDS v2.1 variant), with its directory.
fn lakeside_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for d in ["teams", "graph", "sds-v2.1", "supplement", "graph-contacts"] {
        let dir = exports("lakeside").join(d);
        let mut files: Vec<PathBuf> =
            std::fs::read_dir(&dir).expect("fixture dir").filter_map(|e| e.ok().map(|e| e.path())).collect();
        files.sort();
        out.extend(files);
    }
    out
}

/// Replaces `len` bytes at `at` (taken modulo the file) with `junk`: damaged bytes, cut lines,
/// broken encodings alike.
fn damage(bytes: &[u8], at: usize, len: usize, junk: &[u8]) -> Vec<u8> {
    let start = at % (bytes.len() + 1);
    let end = (start + len % 96).min(bytes.len());
    [&bytes[..start], junk, &bytes[end..]].concat()
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 48, ..proptest::prelude::ProptestConfig::default() })]

    /// A damaged export never panics the import, every row read is accounted for exactly once,
    /// and no guardian contact detail reaches the report.
    #[test]
    fn damaged_exports_never_panic_and_every_row_is_accounted_for(
        which in 0usize..64,
        at in 0usize..100_000,
        len in 0usize..200,
        junk in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..24),
    ) {
        let files = lakeside_files();
        let target = &files[which % files.len()];
        let scratch = std::env::temp_dir().join(format!("tenet-import-damage-{}-{which}-{at}", std::process::id()));
        let _ = std::fs::remove_dir_all(&scratch);
        let mut dirs = Vec::new();
        for f in &files {
            let sub = scratch.join(f.parent().and_then(|p| p.file_name()).unwrap_or_default());
            std::fs::create_dir_all(&sub).unwrap();
            let bytes = std::fs::read(f).unwrap();
            let bytes = if f == target { damage(&bytes, at, len, &junk) } else { bytes };
            std::fs::write(sub.join(f.file_name().unwrap_or_default()), bytes).unwrap();
            if !dirs.contains(&sub) {
                dirs.push(sub);
            }
        }
        let imported = import(&dirs, &pack(), &options());
        for f in &imported.report.files {
            proptest::prop_assert_eq!(f.read, f.used + f.ignored + f.rejected, "{}: counts don't add up", f.file);
        }
        let text = imported.report.render(false);
        for detail in contact_details(&String::from_utf8_lossy(&std::fs::read(target).unwrap_or_default())) {
            proptest::prop_assert!(!text.contains(&detail), "the report shows a contact detail");
        }
        // Whatever was kept still builds when nothing was rejected.
        if !imported.report.has_errors() {
            let _ = Engine::build(imported.sources(Sources::pack().policies, Path::new("damaged")));
        }
        let _ = std::fs::remove_dir_all(&scratch);
    }
}
