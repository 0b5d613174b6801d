//! Answers that are right on the exports admins really have: files are recognised by what they
//! hold under any name, a missing export is an error or a stated assumption (never "none"),
//! and the apps' ids come from the admin's own data.

use crate::support::repo;
use std::path::{Path, PathBuf};
use std::process::Command;
use tenet::output::AnswerJson;
use tenet::{Engine, Sources};
use tenet_import::{Imported, Options, import};

fn lakeside(dir: &str) -> PathBuf {
    repo().join("tests/fixtures/exports/lakeside").join(dir)
}

fn pack() -> tenet::unstable::model::Model {
    tenet::unstable::engine::check_sources(Sources::pack()).0.expect("the bundled pack checks")
}

/// A scratch directory, emptied.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tenet-trust-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

/// Copies the files of the Lakeside export directories `dirs` into `to`, one flat directory,
/// each under the name `rename` gives it (from its index and its original name).
fn copy_as(dirs: &[&str], to: &Path, rename: impl Fn(usize, &str) -> String) {
    let mut n = 0;
    for d in dirs {
        let mut files: Vec<PathBuf> =
            std::fs::read_dir(lakeside(d)).expect("fixture dir").filter_map(|e| e.ok().map(|e| e.path())).collect();
        files.sort();
        for f in files {
            let name = f.file_name().unwrap().to_string_lossy().to_string();
            std::fs::copy(&f, to.join(rename(n, &name))).expect("copies");
            n += 1;
        }
    }
}

/// The names admins save exports under: dates, `(1)` copies, upper-case extensions, names that
/// say nothing.
fn meaningless(n: usize, name: &str) -> String {
    let ext = name.rsplit('.').next().unwrap_or_default();
    let ext = if n.is_multiple_of(2) { ext.to_uppercase() } else { ext.to_string() };
    match n % 4 {
        0 => format!("export ({n}).{ext}"),
        1 => format!("Teams data 2026-11-{:02}.{ext}", 1 + n % 28),
        2 => format!("download-{n} (1).{ext}"),
        _ => format!("{n}.{ext}"),
    }
}

fn built(imported: &Imported) -> Engine {
    assert!(!imported.report.has_errors(), "the import has errors:\n{}", imported.report.render(false));
    let sources = imported.sources(Sources::pack().policies, Path::new("lakeside"));
    Engine::build(sources).unwrap_or_else(|r| panic!("does not check: {:?}", r.diagnostics)).0
}

/// Every decision with everything but the places settings were written: outcomes, reasons,
/// blockers, warnings, provenance values and how each value was reached.
fn decisions(engine: &Engine) -> Vec<serde_json::Value> {
    let mut all: Vec<serde_json::Value> = engine
        .table()
        .all()
        .iter()
        .map(|d| {
            let mut j = serde_json::to_value(AnswerJson::new(d)).unwrap_or_default();
            for p in j["provenance"].as_array_mut().into_iter().flatten() {
                // "set at FILE:LINE:COL": where the import wrote it, which follows reading order.
                if let Some(s) = p["source"].as_str() {
                    p["source"] = s.split(" at ").next().unwrap_or(s).into();
                }
            }
            j["reason"]["location"] = serde_json::Value::Null;
            for key in ["blockers", "warnings"] {
                for r in j[key].as_array_mut().into_iter().flatten() {
                    r["location"] = serde_json::Value::Null;
                }
            }
            j
        })
        .collect();
    all.sort_by_key(|j| j.to_string());
    all
}

const V21: [&str; 4] = ["teams", "graph", "sds-v2.1", "supplement"];

#[test]
fn renaming_files_never_changes_a_decision() {
    let dirs: Vec<PathBuf> = V21.iter().map(|d| lakeside(d)).collect();
    let original = import(&dirs, &pack(), &Options::default());
    let want = decisions(&built(&original));
    assert!(want.len() > 400, "{}", want.len());
    let renamed = scratch("renamed");
    copy_as(&V21, &renamed, meaningless);
    let got = import(std::slice::from_ref(&renamed), &pack(), &Options::default());
    assert_eq!(decisions(&built(&got)), want);
    // SDS v1: rows of teacherroster.csv and studentenrollment.csv have the same columns, so
    // their names keep the one word that tells them apart; everything else says nothing.
    let v1 = scratch("renamed-v1");
    copy_as(&["teams", "graph", "supplement", "sds-v1/roster", "sds-v1/parents"], &v1, |n, name| match name {
        "teacherroster.csv" => "Teacher Roster (1).CSV".into(),
        "studentenrollment.csv" => "student enrollments 2026-11-30.csv".into(),
        _ => meaningless(n, name),
    });
    let v1_dirs: Vec<PathBuf> =
        ["teams", "graph", "supplement", "sds-v1/roster", "sds-v1/parents"].iter().map(|d| lakeside(d)).collect();
    let want_v1 = decisions(&built(&import(&v1_dirs, &pack(), &Options::default())));
    assert_eq!(decisions(&built(&import(std::slice::from_ref(&v1), &pack(), &Options::default()))), want_v1);
    let _ = std::fs::remove_dir_all(&renamed);
    let _ = std::fs::remove_dir_all(&v1);
}

#[test]
fn files_of_one_export_are_pages_of_one_set_or_a_conflict() {
    let dir = scratch("pages");
    copy_as(&V21, &dir, |_, name| name.to_string());
    let (text, _) = tenet_import::text::decode(&std::fs::read(dir.join("Get-CsOnlineUser.json")).unwrap()).unwrap();
    let users: Vec<serde_json::Value> = serde_json::from_str(&text).expect("users are JSON");
    let (a, b) = users.split_at(users.len() / 2);
    std::fs::remove_file(dir.join("Get-CsOnlineUser.json")).unwrap();
    std::fs::write(dir.join("users page 1.json"), serde_json::to_string(a).unwrap()).unwrap();
    std::fs::write(dir.join("users page 2.json"), serde_json::to_string(b).unwrap()).unwrap();
    let dirs: Vec<PathBuf> = V21.iter().map(|d| lakeside(d)).collect();
    let want = decisions(&built(&import(&dirs, &pack(), &Options::default())));
    assert_eq!(decisions(&built(&import(std::slice::from_ref(&dir), &pack(), &Options::default()))), want);
    // The same export saved twice: every object is in two files.
    std::fs::write(dir.join("users again.json"), serde_json::to_string(a).unwrap()).unwrap();
    let twice = import(std::slice::from_ref(&dir), &pack(), &Options::default());
    let text = twice.report.render(false);
    assert!(twice.report.has_errors(), "{text}");
    assert!(text.contains("is in this export twice (first at `users again.json` line 1)"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_missing_required_export_is_an_error_that_says_how_to_export_it() {
    // Every Teams export, each named by the cmdlet to run; then Graph and School Data Sync.
    let mut required: Vec<(String, String)> = std::fs::read_dir(lakeside("teams"))
        .unwrap()
        .map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().to_string();
            let cmdlet = name.trim_end_matches(".json").to_string();
            (name, cmdlet)
        })
        .collect();
    required.sort();
    assert_eq!(required.len(), 14);
    for (file, fix) in [
        ("groups.json", "GET /groups?"),
        ("classes.csv", "the roster is missing classes.csv"),
        ("enrollments.csv", "the roster is missing enrollments.csv"),
        ("relationships.csv", "parent contacts"),
    ] {
        required.push((file.to_string(), fix.to_string()));
    }
    for (file, fix) in &required {
        let dir = scratch("missing");
        copy_as(&V21, &dir, |_, name| name.to_string());
        std::fs::remove_file(dir.join(file)).expect("the file exists");
        if file == "groups.json" {
            std::fs::remove_file(dir.join("groups-2.json")).unwrap();
        }
        let imported = import(std::slice::from_ref(&dir), &pack(), &Options::default());
        let text = imported.report.render(false);
        assert!(imported.report.missing() >= 1, "{file}:\n{text}");
        assert!(text.starts_with("sources:\n"), "the report opens with the sources:\n{text}");
        let line = text.lines().find(|l| l.trim_start().starts_with("MISSING")).unwrap_or_default();
        assert!(line.contains(fix.as_str()), "{file}: {line}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn without_directory_roles_an_enabled_global_admin_is_assumed_and_said() {
    let dir = scratch("roles");
    copy_as(&V21, &dir, |_, name| name.to_string());
    std::fs::remove_file(dir.join("directoryRoles.json")).unwrap();
    let imported = import(std::slice::from_ref(&dir), &pack(), &Options::default());
    assert_eq!(imported.report.missing(), 0, "{}", imported.report.render(false));
    let text = imported.report.render(false);
    assert!(
        text.contains("assumed  Graph directory roles") && text.contains("at least one enabled Global Administrator")
    );
    let engine = built(&imported);
    // The reference evaluator assumes the same: both witnesses agree, provenance included.
    assert!(crate::support::assert_agreement(&engine) > 400);
    let d = engine.decide("ana.rivera@lakeside.edu", "request_contact_update", None).unwrap();
    assert!(d.allowed(), "{:?}", AnswerJson::new(&d).reason.code);
    let explained = tenet::output::explain(&d);
    assert!(
        explained.contains(
            "assumed: at least one enabled Global Administrator, and no disabled admin — no directory roles export"
        ),
        "{explained}"
    );
    // The written directory carries the assumption, so the written files explain it too.
    assert!(imported.directory_file().unwrap().contains("at least one enabled Global Administrator"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_apps_ids_come_from_the_teams_app_export_or_a_flag() {
    let dir = scratch("app-ids");
    copy_as(&V21, &dir, |_, name| name.to_string());
    // The store's Parents, not the district's own app of the same name.
    let imported = import(std::slice::from_ref(&dir), &pack(), &Options::default());
    let sources = imported.report.sources.iter().find(|s| s.source.starts_with("the Parents app's id")).unwrap();
    assert_eq!(sources.files, ["Get-TeamsApp.json:3 [0].Id"], "{sources:?}");
    let engine = built(&imported);
    let d = engine.decide("ana.rivera@lakeside.edu", "parents_app", None).unwrap();
    let json = serde_json::to_value(AnswerJson::new(&d)).unwrap();
    let id = json["provenance"].as_array().unwrap().iter().find(|p| p["setting"] == "tenant.ParentsApp.Id").cloned();
    assert_eq!(id.map(|p| p["value"].clone()), Some("6f1e7c2a-8d3b-4f5e-9a1c-2b3d4e5f6a71".into()));
    // A flag that disagrees wins, with a warning.
    let flagged = Options { parents_app_id: Some("b3c9d2e1-4f5a-4b6c-8d7e-9f0a1b2c3d4e".into()), ..Options::default() };
    let text = import(std::slice::from_ref(&dir), &pack(), &flagged).report.render(false);
    assert!(text.contains("--parents-app-id differs from the id of the Parents app in this export"), "{text}");
    // Neither: an error, never "blocked by publisher".
    std::fs::remove_file(dir.join("Get-TeamsApp.json")).unwrap();
    let imported = import(std::slice::from_ref(&dir), &pack(), &Options::default());
    let text = imported.report.render(false);
    assert_eq!(imported.report.missing(), 2, "{text}");
    assert!(text.contains("MISSING  the Parents app's id") && text.contains("--parents-app-id GUID"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn files_that_are_not_exports_are_listed_first() {
    let dir = scratch("not-exports");
    copy_as(&V21, &dir, |_, name| name.to_string());
    std::fs::write(dir.join("notes.txt"), "exported on Monday\n").unwrap();
    std::fs::write(dir.join("README.md"), "# exports\n").unwrap();
    std::fs::write(dir.join("report.json"), "{\"generated\": \"2026-11-30\"}").unwrap();
    std::fs::write(dir.join("sheet (1).csv"), "Section SIS ID,SIS ID\nS1,T1\n").unwrap();
    let imported = import(std::slice::from_ref(&dir), &pack(), &Options::default());
    let text = imported.report.render(false);
    let before_files = text.split("Get-CsTenantFederationConfiguration.json (").next().unwrap_or_default();
    for (file, what) in [
        ("not an export: notes.txt", "not JSON, CSV with a header, or YAML"),
        ("not an export: README.md", "a Markdown note"),
        ("error: report.json", "none of the properties"),
        ("error: sheet (1).csv", "teacherroster.csv and studentenrollment.csv"),
    ] {
        assert!(before_files.contains(&format!("{file}: ")) && before_files.contains(what), "{file}:\n{text}");
    }
    // Data that is no export (report.json), or one that can't be told apart, is an error.
    assert!(imported.report.has_errors());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_empty_export_directory_is_an_error_and_writes_nothing() {
    let from = scratch("empty");
    let out = scratch("empty-out");
    std::fs::remove_dir_all(&out).unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_tenet"))
        .args(["import", "--from", &from.display().to_string(), "--out", &out.display().to_string()])
        .output()
        .expect("tenet runs");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("required sources are missing"), "{stderr}");
    assert!(String::from_utf8_lossy(&run.stdout).contains("MISSING  Get-CsOnlineUser"));
    assert!(!out.exists(), "nothing is written");
    let _ = std::fs::remove_dir_all(&from);
}

#[test]
fn provenance_cites_the_admins_export_never_a_generated_file() {
    let dirs: Vec<PathBuf> = V21.iter().map(|d| lakeside(d)).collect();
    let imported = import(&dirs, &pack(), &Options::default());
    let engine = built(&imported);
    let mut cited = 0;
    for d in engine.table().all() {
        let j = serde_json::to_value(AnswerJson::new(&d)).unwrap();
        for p in j["provenance"].as_array().unwrap() {
            let source = p["source"].as_str().unwrap();
            assert!(!source.contains("(imported "), "{}: {source}", p["setting"]);
            cited += usize::from(source.contains(".json:") || source.contains(".yaml:"));
        }
    }
    assert!(cited > 1000, "{cited}");
    let frank = engine.decide("frank.mueller@lakeside.edu", "parents_app", None).unwrap();
    let text = tenet::output::explain(&frank);
    assert!(
        text.contains("assigned directly at Get-CsOnlineUser.json:240 [5].TeamsAppPermissionPolicy; set at Get-CsTeamsAppPermissionPolicy.json:22 [1].DefaultCatalogAppsType"),
        "{text}"
    );
    // The files `--out` writes carry the origins: explanations from them cite the exports too.
    let out = scratch("origins-out");
    for (name, text) in imported.tenant_files() {
        std::fs::write(out.join(name), text).unwrap();
    }
    std::fs::write(out.join("directory.yaml"), imported.directory_file().unwrap()).unwrap();
    let (mut written, io) = Sources::read(std::slice::from_ref(&out), None);
    assert!(io.is_empty(), "{io:?}");
    written.policies.splice(0..0, Sources::pack().policies);
    let from_files = Engine::build(written).unwrap_or_else(|_| panic!("written files build")).0;
    let again = tenet::output::explain(&from_files.decide("frank.mueller@lakeside.edu", "parents_app", None).unwrap());
    assert_eq!(again, text);
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn overlapping_sources_give_one_guardian_and_say_which_wins() {
    let mut dirs: Vec<PathBuf> = V21.iter().map(|d| lakeside(d)).collect();
    let want = decisions(&built(&import(&dirs, &pack(), &Options::default())));
    dirs.push(lakeside("graph-contacts"));
    let both = import(&dirs, &pack(), &Options::default());
    let text = both.report.render(false);
    assert!(
        text.contains("overlap: 11 guardians are in both SDS v2.1 and Graph related contacts (such as Maria Kim, Dae Kim, Rosa Garcia): each is one guardian"),
        "{text}"
    );
    // Contacts without an email have different ids in each source: still one guardian each.
    let (hand, _) = Engine::bundled().unwrap();
    assert_eq!(both.directory().guardians.len(), hand.table().model().directory.guardian_count());
    let engine = built(&both);
    assert!(crate::support::assert_agreement(&engine) > 400);
    assert_eq!(decisions(&engine), want);
    // Two rosters can't both be current: an error.
    let rosters: Vec<PathBuf> =
        ["teams", "graph", "supplement", "sds-v2.1", "sds-v1/roster"].iter().map(|d| lakeside(d)).collect();
    let imported = import(&rosters, &pack(), &Options::default());
    let text = imported.report.render(false);
    assert!(imported.report.missing() > 0, "{text}");
    assert!(
        text.contains("CONFLICT School Data Sync roster") && text.contains("both an SDS v1 and an SDS v2.1 roster")
    );
}

#[test]
fn an_approved_update_after_the_sync_says_it_wins() {
    let imported = import(&[repo().join("tests/fixtures/exports/approvals")], &pack(), &Options::default());
    let text = imported.report.render(false);
    assert!(
        text.contains("overlap: request `REQ-1002` (approvals.csv row 2) updates Maria Kim's synced contact: approved at 2025-03-04"),
        "{text}"
    );
    assert!(text.contains("so the approved details win (the latest change wins)"), "{text}");
}

#[test]
fn a_mistyped_export_folder_is_named_before_anything_else() {
    for command in [&["import", "--from"][..], &["table", "--import"][..]] {
        let mut args = command.to_vec();
        args.push("no/such/exports");
        let run = Command::new(env!("CARGO_BIN_EXE_tenet")).args(&args).output().expect("tenet runs");
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("`no/such/exports` does not exist: --from and --import take the folder"), "{stderr}");
        assert!(!String::from_utf8_lossy(&run.stdout).contains("MISSING"));
    }
}

#[test]
fn unclear_or_unlisted_app_ids_are_errors() {
    let dir = scratch("app-id-errors");
    copy_as(&V21, &dir, |_, name| name.to_string());
    // Two district apps called Parents and no store one: which is meant is not clear.
    std::fs::write(
        dir.join("Get-TeamsApp.json"),
        r#"[{"Id": "a1", "DisplayName": "Parents", "DistributionMethod": "organization"},
            {"Id": "a2", "DisplayName": "Parents", "DistributionMethod": "sideloaded"},
            {"Id": "7c316234-ded0-4f95-8a83-8453d0876592", "DisplayName": "Approvals", "DistributionMethod": "store"}]"#,
    )
    .unwrap();
    let text = import(std::slice::from_ref(&dir), &pack(), &Options::default()).report.render(false);
    assert!(text.contains("2 apps are named Parents: its id is not clear"), "{text}");
    assert!(text.contains("MISSING  the Parents app's id"), "{text}");
    // An id the catalog doesn't list: whether the app is allowed is unknown.
    let flagged = Options { parents_app_id: Some("00000000-0000-0000-0000-000000000000".into()), ..Options::default() };
    let imported = import(std::slice::from_ref(&dir), &pack(), &flagged);
    let text = imported.report.render(false);
    assert!(imported.report.has_errors());
    assert!(text.contains("no app in the catalog export has the Parents app's id"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn two_sets_of_graph_pages_are_a_conflict() {
    let dir = scratch("two-sets");
    copy_as(&V21, &dir, |_, name| name.to_string());
    // The last page saved twice, under another name: two pages end a response.
    std::fs::copy(dir.join("groups-2.json"), dir.join("groups (1).json")).unwrap();
    let imported = import(std::slice::from_ref(&dir), &pack(), &Options::default());
    let text = imported.report.render(false);
    assert!(imported.report.has_errors());
    assert!(text.contains("two sets of Graph groups pages"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn half_a_school_data_sync_set_is_missing_not_empty() {
    let base = ["teams", "graph", "supplement"];
    // A v1 roster without its sections.
    let dir = scratch("half-roster");
    copy_as(&base, &dir, |_, name| name.to_string());
    copy_as(&["sds-v1/roster", "sds-v1/parents"], &dir, |_, name| name.to_string());
    std::fs::remove_file(dir.join("section.csv")).unwrap();
    let text = import(std::slice::from_ref(&dir), &pack(), &Options::default()).report.render(false);
    assert!(text.contains("the roster is missing section.csv"), "{text}");
    // v1 contacts without the file that links them to students.
    std::fs::copy(lakeside("sds-v1/roster/section.csv"), dir.join("section.csv")).unwrap();
    std::fs::remove_file(dir.join("guardianrelationship.csv")).unwrap();
    let imported = import(std::slice::from_ref(&dir), &pack(), &Options::default());
    let text = imported.report.render(false);
    assert_eq!(imported.report.missing(), 1, "{text}");
    assert!(
        text.contains("user.csv is there but guardianrelationship.csv, which links each contact to students, is not")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn without_a_supplement_what_is_assumed_is_stated_where_it_decides() {
    let dirs: Vec<PathBuf> = ["teams", "graph", "sds-v2.1"].iter().map(|d| lakeside(d)).collect();
    let imported = import(&dirs, &pack(), &Options::default());
    let engine = built(&imported);
    assert!(crate::support::assert_agreement(&engine) > 400);
    let guardian = engine.table().model().directory.guardians().next().unwrap().1.id().to_string();
    let d = engine.decide("ana.rivera@lakeside.edu", "guardian_can_start_chat", Some(&guardian)).unwrap();
    // Lines as words: a fact reads the same under a blocker's "because" and under "also consulted".
    let words = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
    let text = words(&tenet::output::explain(&d));
    // The deny is not silent: its cause is the guardian's Teams account, assumed absent.
    assert!(
        text.contains(
            "because: guardian.on_teams = false from directory: the guardian's record; assumed: no supplement.yaml"
        ),
        "{text}"
    );
    let invite = words(&tenet::output::explain(
        &engine.decide("ana.rivera@lakeside.edu", "invite_guardian", Some(&guardian)).unwrap(),
    ));
    assert!(
        invite.contains(
            "user.invites_sent = 0 from directory: user ana.rivera@lakeside.edu; assumed: no supplement.yaml"
        ),
        "{invite}"
    );
    // Facts the exports do supply carry no assumption.
    assert!(invite.contains("user.enabled = true from directory: user ana.rivera@lakeside.edu "), "{invite}");
}

#[test]
fn a_property_twice_a_missing_identity_or_rank_is_an_error() {
    let dir = scratch("nothing-silent");
    copy_as(&V21, &dir, |_, name| name.to_string());
    let edit = |file: &str, from: &str, to: &str| {
        let (text, _) = tenet_import::text::decode(&std::fs::read(dir.join(file)).unwrap()).unwrap();
        assert!(text.contains(from), "{file}");
        std::fs::write(dir.join(file), text.replacen(from, to, 1)).unwrap();
    };
    edit("Get-CsTeamsMessagingPolicy.json", "\"AllowUserChat\"", "\"allowuserchat\": false, \"AllowUserChat\"");
    edit("Get-CsExternalAccessPolicy.json", "\"Identity\"", "\"Name\"");
    let (text, _) =
        tenet_import::text::decode(&std::fs::read(dir.join("Get-CsGroupPolicyAssignment.json")).unwrap()).unwrap();
    let rank = text.split("\"Rank\"").nth(1).and_then(|r| r.split([',', '\n', '}']).next()).unwrap().to_string();
    edit("Get-CsGroupPolicyAssignment.json", &format!("\"Rank\"{rank}"), "\"Rank\": null");
    let imported = import(std::slice::from_ref(&dir), &pack(), &Options::default());
    let text = imported.report.render(false);
    assert!(imported.report.has_errors());
    for expected in [
        "`allowuserchat` is in this object twice (in some spelling)",
        "the object has no `Identity`",
        "the assignment has no `Rank`",
    ] {
        assert!(text.contains(expected), "{expected}:\n{text}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn old_mac_line_ends_read_as_lines_and_give_the_same_answers() {
    let dir = scratch("cr-only");
    copy_as(&V21, &dir, |_, name| name.to_string());
    let before = decisions(&built(&import(std::slice::from_ref(&dir), &pack(), &Options::default())));
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let (text, _) = tenet_import::text::decode(&std::fs::read(&path).unwrap()).unwrap();
        std::fs::write(&path, text.replace("\r\n", "\n").replace('\n', "\r")).unwrap();
    }
    let imported = import(std::slice::from_ref(&dir), &pack(), &Options::default());
    assert_eq!(decisions(&built(&imported)), before);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_unpaired_surrogate_in_a_utf16_export_is_an_error_at_its_line() {
    let dir = scratch("surrogate");
    copy_as(&V21, &dir, |_, name| name.to_string());
    let file = dir.join("Get-CsTeamsMessagingPolicy.json");
    let text = std::fs::read_to_string(&file).unwrap();
    let line = 1 + text[..text.find("\"Identity\"").unwrap()].matches('\n').count();
    let mut bytes = vec![0xFF, 0xFE];
    for unit in text.replacen("\"Identity\"", "\"Ident\u{1}ity\"", 1).encode_utf16() {
        // The marker stands for a high surrogate with no low one after it.
        bytes.extend(if unit == 1 { 0xD800 } else { unit }.to_le_bytes());
    }
    std::fs::write(&file, bytes).unwrap();
    let imported = import(std::slice::from_ref(&dir), &pack(), &Options::default());
    let report = imported.report.render(false);
    assert!(imported.report.has_errors());
    assert!(report.contains(&format!("line {line}: the file holds an unpaired UTF-16 surrogate")), "{report}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_value_of_the_wrong_json_type_is_an_error_that_does_not_quote_it() {
    let dir = scratch("json-types");
    copy_as(&V21, &dir, |_, name| name.to_string());
    let contacts = lakeside("graph-contacts");
    let text = std::fs::read_to_string(contacts.join("educationUsers.json")).unwrap();
    let text = text.replacen("\"emailAddress\": \"maria.kim@example.com\"", "\"emailAddress\": 12065550199", 1);
    std::fs::write(dir.join("educationUsers.json"), text).unwrap();
    std::fs::copy(contacts.join("educationUsers-2.json"), dir.join("educationUsers-2.json")).unwrap();
    let imported = import(std::slice::from_ref(&dir), &pack(), &Options::default());
    let report = imported.report.render(false);
    assert!(imported.report.has_errors());
    assert!(report.contains("`emailAddress` is a number, where Graph writes a string"), "{report}");
    assert!(!report.contains("12065550199") && !report.contains("2065550199"), "{report}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_group_assigned_twice_or_a_rank_used_twice_is_rejected_where_it_repeats() {
    let dir = scratch("ranks");
    copy_as(&V21, &dir, |_, name| name.to_string());
    let path = dir.join("Get-CsGroupPolicyAssignment.json");
    let mut list: Vec<serde_json::Value> = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    // Group a01 again for external access (another rank), and group a02, free for external
    // access, with rank 1, which a01 holds.
    let mut again = list[0].clone();
    again["Rank"] = serde_json::json!(99);
    let mut rank = list[0].clone();
    rank["GroupId"] = list[4]["GroupId"].clone();
    list.push(again);
    list.push(rank);
    std::fs::write(&path, serde_json::to_string_pretty(&list).unwrap()).unwrap();
    let imported = import(std::slice::from_ref(&dir), &pack(), &Options::default());
    let text = imported.report.render(false);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(text.contains("the group already has a ExternalAccessPolicy assignment (at "), "{text}");
    assert!(text.contains("two ExternalAccessPolicy group assignments have rank 1 (the other at "), "{text}");
}
