//! What an export file is, from what it holds: a Teams export by the properties of its objects,
//! a Graph response by `@odata.context` (or the properties of its items), a CSV file by its
//! header, the supplement by its keys. The file's name only breaks a tie between look-alikes, or
//! names a file whose content says nothing or can't be read (so its reader reports why, at its
//! line). Data that is no export tenet reads (JSON, CSV, YAML, a workbook) is an error, never
//! skipped quietly; notes (Markdown, text, hidden files) are listed.

use super::{Kind, approvals, graph, sds, teams, text};
use std::io::BufRead;
use std::path::Path;

/// What a file found under `--from` is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Export(Kind),
    /// Not read: why. `damaged` when it looks like an export tenet can't read, which is an error:
    /// a file the admin meant as data is never skipped quietly.
    NotAnExport {
        reason: String,
        damaged: bool,
    },
}

fn not(reason: impl Into<String>) -> Verdict {
    Verdict::NotAnExport { reason: reason.into(), damaged: false }
}

fn damaged(reason: impl Into<String>) -> Verdict {
    Verdict::NotAnExport { reason: reason.into(), damaged: true }
}

/// The file name's letters and digits, lower-cased, without its extension:
/// `Get-CsOnlineUser (2) 2026-12-01.JSON` is `getcsonlineuser220261201`.
pub fn words(path: &Path) -> String {
    let stem = path.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
    stem.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect()
}

/// Recognises the file at `path` (a regular file).
pub fn recognise(path: &Path) -> Verdict {
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    if name.starts_with('.') {
        return not("a hidden file");
    }
    if name.ends_with(".md") {
        return not("a Markdown note");
    }
    let words = words(path);
    let mut reader = match text::open(path) {
        Ok((reader, _)) => reader,
        Err(e) => return by_name(path, &words).map_or_else(|| damaged(format!("can't be read: {e}")), Verdict::Export),
    };
    let first = match reader.fill_buf() {
        Ok(buf) => buf.iter().copied().find(|b| !b.is_ascii_whitespace()),
        Err(e) => return damaged(format!("can't be read: {e}")),
    };
    match first {
        None => by_name(path, &words).map_or_else(|| not("an empty file"), Verdict::Export),
        Some(b'[' | b'{') => json(reader, path, &words),
        Some(b'P') if reader.fill_buf().is_ok_and(|b| b.starts_with(b"PK\x03\x04")) => {
            damaged("a zip file (an Excel workbook?): save each sheet as \"CSV UTF-8 (Comma delimited)\"")
        }
        Some(_) if name.ends_with(".yaml") || name.ends_with(".yml") => yaml(reader, path, &words),
        Some(_) => csv(reader, path, &name, &words),
    }
}

/// A JSON file: its first object says what it is.
fn json(reader: Box<dyn BufRead>, path: &Path, words: &str) -> Verdict {
    let first = match super::json::Elements::new(reader).next() {
        None => {
            return by_name(path, words)
                .map_or_else(|| not("an empty JSON array: nothing says what it is"), Verdict::Export);
        }
        Some(Err(e)) => {
            return by_name(path, words)
                .map_or_else(|| damaged(format!("not valid JSON (line {}: {})", e.line, e.message)), Verdict::Export);
        }
        Some(Ok(element)) => element,
    };
    let Ok(object) = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&first.text) else {
        return by_name(path, words).map_or_else(
            || damaged(format!("not a JSON object or array of objects (line {})", first.line)),
            Verdict::Export,
        );
    };
    if object.contains_key("@odata.context") || object.get("value").is_some_and(serde_json::Value::is_array) {
        return match graph::recognise(&object) {
            Some(kind) => Verdict::Export(kind),
            None => not(format!(
                "a Microsoft Graph response tenet doesn't read ({})",
                object.get("@odata.context").and_then(|c| c.as_str()).unwrap_or("no `@odata.context`")
            )),
        };
    }
    let properties: Vec<&str> = object.keys().map(String::as_str).collect();
    match teams::Cmdlet::recognise(&properties, words) {
        Ok(cmdlet) => Verdict::Export(Kind::Teams(cmdlet)),
        Err(tied) if tied.len() == teams::Cmdlet::ALL.len() => by_name(path, words).map_or_else(
            || damaged("JSON whose objects have none of the properties of an export tenet reads (see the README's import section)"),
            Verdict::Export,
        ),
        Err(tied) => {
            let names: Vec<String> = tied.iter().map(|c| format!("Get-{}", c.noun())).collect();
            damaged(format!(
                "its objects fit several exports ({}): put the cmdlet's name in the file's name",
                names.join(", ")
            ))
        }
    }
}

/// Keys of `supplement.yaml`.
const SUPPLEMENT_KEYS: [&str; 4] = ["sds_synced_at", "tenant", "users", "guardians"];

/// A YAML file: the supplement, if its keys are the supplement's.
fn yaml(mut reader: Box<dyn BufRead>, path: &Path, words: &str) -> Verdict {
    let mut text = String::new();
    if reader.read_to_string(&mut text).is_err() {
        return by_name(path, words).map_or_else(|| damaged("YAML that is not UTF-8 text"), Verdict::Export);
    }
    if tenet::unstable::yaml::check_aliases(&text).is_err() {
        // Whatever it is, it is read no further; a supplement is named by its file name.
        return by_name(path, words)
            .map_or_else(|| damaged("YAML whose aliases expand too far, or nested too deep"), Verdict::Export);
    }
    match serde_yaml::from_str::<serde_yaml::Mapping>(&text) {
        Ok(map) if !map.is_empty() && map.keys().all(|k| k.as_str().is_some_and(|k| SUPPLEMENT_KEYS.contains(&k))) => {
            Verdict::Export(Kind::Supplement)
        }
        Ok(_) => by_name(path, words).map_or_else(
            || damaged(format!("YAML, but not a supplement (whose keys are {})", SUPPLEMENT_KEYS.join(", "))),
            Verdict::Export,
        ),
        Err(_) => by_name(path, words).map_or_else(|| damaged("YAML that doesn't parse"), Verdict::Export),
    }
}

/// A CSV file (or text that may be the supplement): its header says what it is.
fn csv(mut reader: Box<dyn BufRead>, path: &Path, name: &str, words: &str) -> Verdict {
    // The supplement saved under another extension: YAML whose first line is one of its keys.
    let head = reader.fill_buf().map(|b| String::from_utf8_lossy(b).to_string()).unwrap_or_default();
    let first_line = head.lines().find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#')).unwrap_or("");
    if SUPPLEMENT_KEYS.iter().any(|k| first_line.starts_with(&format!("{k}:"))) {
        return yaml(reader, path, words);
    }
    let mut rdr = ::csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(reader);
    let mut record = ::csv::ByteRecord::new();
    let header: Vec<String> = match rdr.read_byte_record(&mut record) {
        Ok(true) => record.iter().map(|h| String::from_utf8_lossy(h).trim().to_string()).collect(),
        _ => Vec::new(),
    };
    if header.len() < 2 {
        return by_name(path, words)
            .map_or_else(|| not("not JSON, CSV with a header, or YAML: a note"), Verdict::Export);
    }
    let has = |c: &str| header.iter().any(|h| h.eq_ignore_ascii_case(c));
    let approvals = approvals::REQUIRED_COLUMNS.iter().filter(|c| has(c)).count();
    if approvals * 2 > approvals::REQUIRED_COLUMNS.len() {
        return Verdict::Export(Kind::Approvals);
    }
    match sds::recognise(&header, words) {
        sds::Recognised::Kind(name) => Verdict::Export(Kind::Sds(name)),
        sds::Recognised::Ambiguous(names) => damaged(format!(
            "its header fits School Data Sync's {}: name the file after the one it is",
            names.join(" and ")
        )),
        // Text with commas is data only when it says it is CSV.
        sds::Recognised::None => by_name(path, words).map_or_else(
            || {
                let why = "a CSV file whose header is not one of School Data Sync's or approvals.csv's";
                if name.ends_with(".csv") { damaged(why) } else { not(format!("{why}: a note")) }
            },
            Verdict::Export,
        ),
    }
}

/// What a file is by its name alone: for a file whose content says nothing (an empty array) or
/// can't be read (its reader then says why, at its line).
pub fn by_name(path: &Path, words: &str) -> Option<Kind> {
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    if name.ends_with(".csv") {
        if words.contains("approvals") {
            return Some(Kind::Approvals);
        }
        return sds::named(words).map(Kind::Sds);
    }
    if name.ends_with(".yaml") || name.ends_with(".yml") {
        return words.contains("supplement").then_some(Kind::Supplement);
    }
    if !name.ends_with(".json") {
        return None;
    }
    if words.contains("directoryroles") {
        return Some(Kind::GraphDirectoryRoles);
    }
    if words.contains("educationusers") || words.contains("relatedcontacts") {
        return Some(Kind::GraphRelatedContacts);
    }
    if let Ok(cmdlet) = teams::Cmdlet::recognise(&[], words) {
        return Some(Kind::Teams(cmdlet));
    }
    words.contains("groups").then_some(Kind::GraphGroups)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn root() -> PathBuf {
        crate::repo().join("tests/fixtures/exports")
    }

    #[test]
    fn names_are_reduced_to_their_words() {
        assert_eq!(words(Path::new("x/Get-CsOnlineUser (2) 2026-12-01.JSON")), "getcsonlineuser220261201");
        assert_eq!(words(Path::new("Relationships (1).csv")), "relationships1");
    }

    #[test]
    fn every_lakeside_export_is_recognised_by_content_under_a_meaningless_name() {
        let dir = std::env::temp_dir().join(format!("tenet-recognise-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut n = 0;
        for sub in ["teams", "graph", "graph-contacts", "sds-v2.1", "sds-v1/roster", "sds-v1/parents", "supplement"] {
            for entry in std::fs::read_dir(root().join("lakeside").join(sub)).unwrap() {
                let path = entry.unwrap().path();
                let expected = recognise(&path);
                // Rows of teacherroster.csv and studentenrollment.csv have the same columns:
                // only their names tell them apart.
                let w = words(&path);
                let ext = path.extension().unwrap().to_string_lossy().to_uppercase();
                let renamed = if w == "teacherroster" || w == "studentenrollment" {
                    dir.join(format!("{w} export ({n}).{ext}"))
                } else {
                    dir.join(format!("export ({n}) 2026-11-30.{ext}"))
                };
                std::fs::copy(&path, &renamed).unwrap();
                assert!(matches!(expected, Verdict::Export(_)), "{}: {expected:?}", path.display());
                assert_eq!(recognise(&renamed), expected, "{} renamed", path.display());
                n += 1;
            }
        }
        assert!(n >= 30, "{n}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn look_alike_headers_are_told_apart_by_name_or_refused() {
        let dir = std::env::temp_dir().join(format!("tenet-recognise-tie-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let write = |name: &str, text: &str| {
            let p = dir.join(name);
            std::fs::write(&p, text).unwrap();
            p
        };
        let roster = "Section SIS ID,SIS ID\nS1,T1\n";
        assert_eq!(recognise(&write("Teacher Roster.csv", roster)), Verdict::Export(Kind::Sds("teacherroster.csv")));
        assert_eq!(
            recognise(&write("student enrollments (1).csv", roster)),
            Verdict::Export(Kind::Sds("studentenrollment.csv"))
        );
        assert!(matches!(recognise(&write("export.csv", roster)), Verdict::NotAnExport { damaged: true, .. }));
        assert!(matches!(recognise(&write("Class roster.csv", roster)), Verdict::NotAnExport { damaged: true, .. }));
        // teacher.csv and student.csv without the columns only one of them has.
        let people = "SIS ID,School SIS ID,Username\n1,s1,a@x.edu\n";
        assert_eq!(recognise(&write("Staff teacher list.csv", people)), Verdict::Export(Kind::Sds("teacher.csv")));
        assert!(matches!(recognise(&write("people.csv", people)), Verdict::NotAnExport { damaged: true, .. }));
        // Entra's users (Get-MgUser) are not Get-CsOnlineUser.
        assert!(matches!(
            recognise(&write(
                "users.json",
                "[{\"UserPrincipalName\": \"a@x.edu\", \"AccountEnabled\": true, \"UsageLocation\": \"US\"}]"
            )),
            Verdict::NotAnExport { damaged: true, .. }
        ));
        // Objects that fit two exports equally, and a name that doesn't say which.
        assert!(matches!(
            recognise(&write("e.json", "[{\"AllowUserChat\": true, \"AllowPrivateCalling\": true}]")),
            Verdict::NotAnExport { damaged: true, reason } if reason.contains("fit several exports")
        ));
        // A workbook is data in the wrong format.
        assert!(matches!(
            recognise(&write("roster.xlsx", "PK\u{3}\u{4}rest")),
            Verdict::NotAnExport { damaged: true, reason } if reason.contains("CSV UTF-8")
        ));
        // The supplement under another extension, and YAML that is no supplement.
        assert_eq!(
            recognise(&write("notes-for-tenet.txt", "sds_synced_at: 2025-08-15T06:00:00Z\nusers: []\n")),
            Verdict::Export(Kind::Supplement)
        );
        assert!(matches!(recognise(&write("x.yaml", "sds_synced: 1\n")), Verdict::NotAnExport { damaged: true, .. }));
        // A v2.1 header in the wrong case is still users.csv: its reader says what is wrong.
        assert_eq!(recognise(&write("a.csv", "sourcedId,Username\n1,x\n")), Verdict::Export(Kind::Sds("users.csv")));
        assert_eq!(
            recognise(&write(
                "b.json",
                "[{\"GroupId\": \"g\", \"PolicyType\": \"X\", \"PolicyName\": \"Y\", \"Rank\": 1}]"
            )),
            Verdict::Export(Kind::Teams(teams::Cmdlet::GroupPolicyAssignment))
        );
        // No content to go by: the name decides, and with no name it is not an export.
        assert_eq!(
            recognise(&write("CsTeamsCallingPolicy (1).json", "[]")),
            Verdict::Export(Kind::Teams(teams::Cmdlet::TeamsCallingPolicy))
        );
        assert!(matches!(recognise(&write("c.json", "[]")), Verdict::NotAnExport { damaged: false, .. }));
        assert!(matches!(recognise(&write("notes.txt", "just notes\n")), Verdict::NotAnExport { damaged: false, .. }));
        assert!(matches!(recognise(&write("d.json", "{ \"a\": ")), Verdict::NotAnExport { damaged: true, .. }));
        assert_eq!(
            recognise(&write("extra.yml", "sds_synced_at: 2025-08-15T06:00:00Z\n")),
            Verdict::Export(Kind::Supplement)
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
