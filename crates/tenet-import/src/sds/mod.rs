//! School Data Sync CSV files, v1 (Classic) and v2.1.
//!
//! **SDS v1** ("SDS format" CSV): `school.csv`, `teacher.csv`, `student.csv`, `section.csv`,
//! `teacherroster.csv`, `studentenrollment.csv`, and the parent contact files `user.csv` and
//! `guardianrelationship.csv`. Required columns are those of Microsoft's minimum-attribute samples
//! (OfficeDev/O365-EDU-Tools, `CSV Samples/SDS Format/Min Required Attributes`: `SIS ID`,
//! `School SIS ID`, `Username`, `Section Name`, `Section SIS ID`) and of the "Parent and Guardian
//! Sync File Format" article: user.csv `Email, First Name, Last Name, Phone, SIS ID` (Phone and
//! SIS ID may be blank but their headers must exist), guardianrelationship.csv `SIS ID, Email,
//! Role` (`SIS ID` is the *student's*; Role may be blank and then means Other). Microsoft says
//! nothing of the case of v1 headers, so they are matched without regard to case. SDS joins the
//! two parent files by Email and needs one; a contact without email is read anyway, with a
//! warning, and guardianrelationship.csv then names it by its user.csv SIS ID in `Email`.
//!
//! **SDS v2.1** ("SDS V2.1 CSV File Format"): `orgs.csv`, `users.csv`, `roles.csv`,
//! `classes.csv`, `enrollments.csv`, `relationships.csv`; `academicSessions.csv`, `courses.csv`,
//! `demographics.csv` and `userFlags.csv` are counted only. Column headers are case-sensitive;
//! enum values match without regard to case. Parent contacts are rows of users.csv that
//! relationships.csv names as `relationshipUserSourcedId` (Microsoft's v2.1 sample set:
//! `sourcedId,username,givenName,familyName,password,activeDirectoryMatchId,email,phone,sms` and
//! `userSourcedId,relationshipUserSourcedId,relationshipRole`); they are not Teams users.
//! The Parent Connection article tells v2.1 users to provide `User.csv` and
//! `Guardianrelationship.csv`: those names are read as users.csv and relationships.csv when their
//! header is v2.1-shaped.
//!
//! Files from several `--from` directories are read as one set: ids must be unique across them.

use super::contact::{check_phone, email_ok};
use super::draft::{GuardianDraft, key};
use super::report::{At, FileReport, Problem};
use super::text;
use super::{Draft, Found, ImportReport};
use csv::ByteRecord;
use indexmap::IndexMap;
use std::collections::BTreeSet;
// Keys are the admin's own export rows, not attacker-chosen: a fast hash is safe (SipHash was
// 5% of an import).
use foldhash::{HashMap, HashMapExt as _, HashSet};
use std::io::BufRead;
use tenet::unstable::directory::Relationship;

mod format;
mod rows;
mod v1;
mod v2;

use format::*;
pub(super) use format::{Recognised, recognise};
use rows::*;
use v1::*;
use v2::*;

/// Lower-cased file stems read as School Data Sync files.
pub(super) const FILES: &[&str] = &[
    // v1
    "school",
    "section",
    "student",
    "teacher",
    "studentenrollment",
    "teacherroster",
    "user",
    "guardianrelationship",
    // v2.1
    "orgs",
    "users",
    "roles",
    "classes",
    "enrollments",
    "relationships",
    "academicsessions",
    "courses",
    "demographics",
    "userflags",
];

/// The kind a file is by its name alone (its letters and digits, lower-cased): the longest file
/// stem of the formats that the name holds (`relationships1` is `relationships.csv`).
pub(super) fn named(words: &str) -> Option<&'static str> {
    let stem = FILES.iter().filter(|f| words.contains(*f)).max_by_key(|f| f.len())?;
    format::spec_named_by_stem(stem).map(|s| s.name)
}

/// Reads the School Data Sync files found, in dependency order: schools, users, classes,
/// rosters, then parent contacts.
pub(super) fn read(files: &[Found], draft: &mut Draft, report: &mut ImportReport) {
    let mut st = State { shown: files.iter().map(|f| f.shown.clone()).collect(), ..State::default() };
    st.formats = vec![String::new(); files.len()];
    let mut plan = Vec::new();
    for (i, found) in files.iter().enumerate() {
        match spec_for(found) {
            Some(spec) => {
                st.formats[i] = format_of(spec, found);
                plan.push((i, spec));
            }
            None => report.notes.push(format!(
                "skipped `{}`: not a School Data Sync file name (see the README's import section)",
                found.shown
            )),
        }
    }
    plan.sort_by_key(|(i, spec)| (spec.part, *i));
    // Who is a parent contact and who has a role decides how each users.csv row is read.
    for (i, spec) in &plan {
        match spec.part {
            Part::Relationships => st.v2_contact_ids.extend(scan(&files[*i], spec, "relationshipUserSourcedId")),
            Part::Roles => st.v2_role_ids.extend(scan(&files[*i], spec, "userSourcedId")),
            _ => {}
        }
    }
    for (i, spec) in &plan {
        read_table(&mut st, draft, report, *i, &files[*i], spec);
    }
    settle(&st, &st.v1_contacts, report, "guardianrelationship.csv");
    settle(&st, &st.v2_contacts, report, "relationships.csv");
}

// ------------------------------------------------------------------------------------------
// State

/// Where a row was read: file index and data row.
#[derive(Debug, Clone, Copy)]
struct Origin {
    file: usize,
    row: usize,
}

/// A teacher or student: the lower-case UPN and where it was defined.
#[derive(Debug, Clone)]
struct Person {
    upn: String,
    origin: Origin,
}

/// A parent contact read from user.csv or users.csv. Email and phone are personal: never in a
/// message.
#[derive(Clone)]
struct Contact {
    file: usize,
    line: usize,
    row: usize,
    id: String,
    name: String,
    email: Option<String>,
    phone: Option<String>,
    /// Relationship rows that linked it to a student.
    links: usize,
}

/// A users.csv row.
#[derive(Debug, Clone)]
enum V2User {
    User(Person),
    /// Index into `v2_contacts`.
    Contact(usize, Origin),
    /// Neither a Teams user nor a contact.
    Ignored(Origin),
}

impl V2User {
    fn origin(&self) -> Origin {
        match self {
            V2User::User(p) => p.origin,
            V2User::Contact(_, o) | V2User::Ignored(o) => *o,
        }
    }
}

#[derive(Default)]
struct State {
    /// `Found.shown` and the report format of each file, by index.
    shown: Vec<String>,
    formats: Vec<String>,
    /// School / org ids; `None` until a school.csv / orgs.csv with a good header is read.
    schools: Option<HashMap<String, Origin>>,
    /// School and org names by id, for the class teams' schools.
    school_names: HashMap<String, String>,
    orgs: Option<HashMap<String, Origin>>,
    // v1
    teachers: HashMap<String, Person>,
    students: HashMap<String, Person>,
    sections: HashMap<String, Origin>,
    rosters: HashMap<Fingerprint, Origin>,
    enrolled: HashMap<Fingerprint, Origin>,
    v1_contacts: Vec<Contact>,
    /// Lower-case email → contact.
    v1_emails: HashMap<String, usize>,
    /// SIS ID of a contact without email → contact (guardianrelationship.csv names it so).
    v1_sis_only: HashMap<String, usize>,
    v1_sis_seen: HashMap<String, Origin>,
    /// Emails (lower-case) and SIS IDs of rejected user.csv rows.
    v1_rejected: HashSet<String>,
    v1_links: HashMap<Fingerprint, Origin>,
    // v2.1
    v2_contact_ids: HashSet<String>,
    v2_role_ids: HashSet<String>,
    v2_users: HashMap<String, V2User>,
    v2_rejected: HashSet<String>,
    v2_contacts: Vec<Contact>,
    v2_roles: HashMap<Fingerprint, Origin>,
    classes: HashMap<String, Origin>,
    v2_enrolled: HashMap<Fingerprint, Origin>,
    v2_links: HashMap<Fingerprint, Origin>,
    /// Problems found while reading one file that belong to another (file index).
    pending: Vec<(usize, Problem)>,
}

/// A 128-bit fingerprint of a row's key, for finding duplicate rows: a million enrollments
/// keep 16 bytes each instead of their ids' strings. Two SipHash passes with different salts;
/// a false duplicate among millions of rows has a chance of about 1 in 10^26.
type Fingerprint = u128;

fn fingerprint(parts: &[&str]) -> Fingerprint {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let half = |salt: u8| {
        let mut h = DefaultHasher::new();
        salt.hash(&mut h);
        parts.hash(&mut h);
        h.finish()
    };
    (u128::from(half(1)) << 64) | u128::from(half(2))
}

/// `row 3`, or `row 3 of sds/users.csv` when the first row is in another file.
fn place(shown: &[String], first: Origin, here: usize) -> String {
    if first.file == here {
        format!("row {}", first.row)
    } else {
        format!("row {} of `{}`", first.row, shown.get(first.file).map_or("", String::as_str))
    }
}

// ------------------------------------------------------------------------------------------
// Schools and orgs

fn school(st: &mut State, _draft: &mut Draft, r: &Row<'_>, f: &mut FileReport) {
    let id = r.get("SIS ID");
    let schools = st.schools.get_or_insert_with(HashMap::new);
    if let Some(first) = schools.get(id).copied() {
        let message = format!("duplicate school: SIS ID `{id}` is already on {}", place(&st.shown, first, r.file));
        return duplicate(f, r.at("SIS ID"), message, "each school needs one row: remove the repeated row");
    }
    schools.insert(id.to_string(), r.origin());
    st.school_names.insert(id.to_string(), r.get("Name").to_string());
    f.use_one();
}

fn org(st: &mut State, _draft: &mut Draft, r: &Row<'_>, f: &mut FileReport) {
    let id = r.get("sourcedId");
    let orgs = st.orgs.get_or_insert_with(HashMap::new);
    if let Some(first) = orgs.get(id).copied() {
        let message = format!("duplicate org: sourcedId `{id}` is already on {}", place(&st.shown, first, r.file));
        return duplicate(f, r.at("sourcedId"), message, "each org needs one row: remove the repeated row");
    }
    orgs.insert(id.to_string(), r.origin());
    st.school_names.insert(id.to_string(), r.get("name").to_string());
    f.use_one();
}

/// The columns of a class row: v1 section.csv or v2.1 classes.csv.
struct ClassColumns {
    /// v1 (sections) or v2.1 (classes).
    v1: bool,
    id: &'static str,
    name: &'static str,
    school: &'static str,
    what: &'static str,
}

impl ClassColumns {
    const V1: ClassColumns =
        ClassColumns { v1: true, id: "SIS ID", name: "Section Name", school: "School SIS ID", what: "section" };
    const V21: ClassColumns =
        ClassColumns { v1: false, id: "sourcedId", name: "title", school: "orgSourcedId", what: "class" };
}

/// A section (v1) or class (v2.1) row: one class team, named by its first row; a repeated id is
/// a rejected row naming the first.
fn class_row(
    st: &mut State,
    draft: &mut Draft,
    r: &Row<'_>,
    f: &mut FileReport,
    cols: ClassColumns,
    warnings: Vec<Problem>,
) {
    let (shown, school_names) = (&st.shown, &st.school_names);
    let seen = if cols.v1 { &mut st.sections } else { &mut st.classes };
    let (id, what) = (r.get(cols.id), cols.what);
    if let Some(first) = seen.get(id).copied() {
        let message = format!("duplicate {what}: {} `{id}` is already on {}", cols.id, place(shown, first, r.file));
        let help = format!("each {what} needs one row: remove the repeated row");
        return duplicate(f, r.at(cols.id), message, &help);
    }
    let class = draft.class_mut(id);
    if class.name.is_none() {
        class.name = Some(r.get(cols.name).to_string());
    }
    let school = r.get(cols.school).trim();
    if class.school.is_none() && !school.is_empty() {
        let named = school_names.get(school).map(|n| n.trim()).filter(|n| !n.is_empty());
        class.school = Some(named.unwrap_or(school).to_string());
    }
    seen.insert(id.to_string(), r.origin());
    finish(f, warnings);
}

/// A warning when a row names a school that school.csv (if read) doesn't define.
fn unknown_school(st: &State, r: &Row<'_>, col: &str) -> Option<Problem> {
    let id = r.get(col);
    let known = st.schools.as_ref()?;
    (!known.contains_key(id)).then(|| {
        Problem::warning(r.at(col), "no school in school.csv has this SIS ID")
            .value(id)
            .help("add the school to school.csv, or correct the School SIS ID")
    })
}

fn unknown_org(st: &State, r: &Row<'_>, col: &str) -> Option<Problem> {
    let id = r.get(col);
    let known = st.orgs.as_ref()?;
    (!known.contains_key(id)).then(|| {
        Problem::warning(r.at(col), "no org in orgs.csv has this sourcedId")
            .value(id)
            .help("add the org to orgs.csv, or correct orgSourcedId")
    })
}

/// A warning when a username is not a UPN.
fn bare_username(r: &Row<'_>, col: &str) -> Option<Problem> {
    let name = r.get(col);
    (!name.contains('@')).then(|| {
        Problem::warning(
            r.at(col),
            "the username has no domain: SDS adds the domain chosen in the sync profile, so tenet uses it as written and it won't match the user's UPN in other exports",
        )
        .value(name)
        .help("write the full UPN (name@domain)")
    })
}

// ------------------------------------------------------------------------------------------
// Guardians

/// Links a contact to a student: the guardian is added to the draft, or merged into the one
/// with the same id.
fn link(st: &mut State, draft: &mut Draft, v1: bool, contact: usize, student: String, relationship: Relationship) {
    let State { v1_contacts, v2_contacts, shown, pending, .. } = st;
    let contacts = if v1 { v1_contacts } else { v2_contacts };
    let Some(c) = contacts.get_mut(contact) else { return };
    let file = shown.get(c.file).map_or("", String::as_str);
    let guardian = GuardianDraft {
        id: c.id.clone(),
        name: c.name.clone(),
        email: c.email.clone(),
        phone: c.phone.clone(),
        on_teams: false,
        links: IndexMap::from([(student, relationship)]),
        origin: format!("{file} row {}", c.row),
        sources: vec![if v1 { V1.label() } else { V21.label() }],
    };
    if c.links == 0
        && let Some(known) = draft.same_guardian(&guardian).and_then(|id| draft.guardians.get(&id))
        && known.disagrees(&guardian)
    {
        pending.push((
            c.file,
            Problem::warning(
                At { line: Some(c.line), row: Some(c.row), field: None },
                format!(
                    "this contact is the same guardian as the one read from {}, with a different email or phone: the details read first are kept",
                    known.origin
                ),
            )
            .help("correct the record that is out of date so both agree"),
        ));
    }
    c.links += 1;
    draft.add_guardian(guardian);
}

/// Counts each contact row once its links are known: used if linked to a student, else ignored.
fn settle(st: &State, contacts: &[Contact], report: &mut ImportReport, links_file: &str) {
    for c in contacts {
        let shown = st.shown.get(c.file).map_or("", String::as_str);
        let format = st.formats.get(c.file).map_or("", String::as_str);
        let f = report.file(shown, format);
        if c.links > 0 {
            f.use_one();
        } else {
            f.ignore(
                Problem::warning(
                    At { line: Some(c.line), row: Some(c.row), field: None },
                    format!("the contact is linked to no student: no row of {links_file} links it, or every row that did was rejected"),
                )
                .help(format!("link the contact to its student in {links_file}, or remove it")),
            );
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::report::{REDACTED, Severity};
    use crate::{Draft, Kind};
    use std::path::PathBuf;
    use tenet::unstable::directory::{Directory, User, UserId};

    fn root() -> PathBuf {
        crate::repo()
    }

    /// Reads the SDS files of a directory (relative to `tests/fixtures/exports` unless absolute).
    fn import(dir: &str) -> (Draft, ImportReport) {
        let dir_path = root().join("tests/fixtures/exports").join(dir);
        // The directory and its subdirectories (a roster profile and a parents profile).
        let mut dirs = vec![dir_path.clone()];
        dirs.extend(
            std::fs::read_dir(&dir_path).unwrap().filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_dir()),
        );
        let mut paths: Vec<PathBuf> = dirs
            .iter()
            .flat_map(|d| std::fs::read_dir(d).unwrap())
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                let name = p.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
                name.strip_suffix(".csv").is_some_and(|stem| FILES.contains(&stem))
            })
            .collect();
        paths.sort();
        assert!(!paths.is_empty(), "no SDS files in {}", dir_path.display());
        let files: Vec<Found> = paths
            .into_iter()
            .map(|path| {
                let name = path.file_name().unwrap().to_string_lossy().to_string();
                Found { shown: format!("{}/{name}", dir.rsplit('/').next().unwrap()), path, kind: Kind::Sds("") }
            })
            .collect();
        let mut draft = Draft::default();
        let mut report = ImportReport::default();
        read(&files, &mut draft, &mut report);
        (draft, report)
    }

    fn file<'a>(report: &'a ImportReport, name: &str) -> &'a FileReport {
        let Some(f) = report.files.iter().find(|f| f.file.ends_with(&format!("/{name}"))) else {
            panic!("no report for {name}:\n{}", report.render(false));
        };
        f
    }

    fn errors(f: &FileReport) -> Vec<&Problem> {
        f.problems.iter().filter(|p| p.severity == Severity::Error).collect()
    }

    fn warnings(f: &FileReport) -> Vec<&Problem> {
        f.problems.iter().filter(|p| p.severity == Severity::Warning).collect()
    }

    /// Contact details appear neither in the text report nor in the JSON one.
    fn assert_private(report: &ImportReport, secrets: &[&str]) {
        let text = report.render(false);
        let json = serde_json::to_string(report).unwrap();
        for s in secrets {
            assert!(!text.contains(s), "{s:?} is in the report:\n{text}");
            assert!(!json.contains(s), "{s:?} is in the JSON report:\n{json}");
        }
        for p in report.files.iter().flat_map(|f| &f.problems) {
            for s in secrets {
                assert!(!p.message.contains(s) && !p.help.contains(s), "{s:?} in {p:?}");
            }
        }
    }

    fn counts(f: &FileReport) -> (usize, usize, usize, usize) {
        (f.read, f.used, f.ignored, f.rejected)
    }

    fn lakeside_directory() -> Directory {
        let text = std::fs::read_to_string(root().join("policies/examples/lakeside/directory.yaml")).unwrap();
        match tenet::unstable::directory::load(tenet::unstable::source::FileId(0), text) {
            Ok(d) => d,
            Err(e) => panic!("{e:?}"),
        }
    }

    fn upn_keys(dir: &Directory, users: &[UserId]) -> BTreeSet<String> {
        users.iter().map(|i| dir.user_key(*i).to_string()).collect()
    }

    /// The draft holds exactly the teachers, students, class teams and guardians of the Lakeside
    /// directory (admins and roles that come from elsewhere aside).
    fn assert_is_lakeside(draft: &Draft, report: &ImportReport) {
        let text = report.render(false);
        assert_eq!(report.rejected(), 0, "{text}");
        assert_eq!(report.errors(), 0, "{text}");
        for f in &report.files {
            assert_eq!(f.read, f.used + f.ignored + f.rejected, "{text}");
            assert_eq!(f.ignored, 0, "{text}");
        }
        let want = lakeside_directory();
        let from_sds = |r: &std::sync::Arc<str>| &**r == "teacher" || &**r == "student";
        let people: Vec<&User> = want.users().map(|(_, u)| u).filter(|u| u.roles.iter().any(from_sds)).collect();
        assert_eq!(people.len(), 20);
        assert_eq!(draft.users.len(), people.len(), "{:?}", draft.users.keys().collect::<Vec<_>>());
        for u in people {
            let Some(got) = draft.users.get(&key(u.upn())) else { panic!("{} missing", u.upn()) };
            assert_eq!(got.upn, u.upn());
            assert_eq!(got.name.as_deref(), Some(u.display_name()), "{}", u.upn());
            let roles: BTreeSet<String> = u.roles.iter().filter(|r| from_sds(r)).map(|r| r.to_string()).collect();
            assert_eq!(got.roles, roles, "{}", u.upn());
        }
        assert_eq!(draft.classes.len(), want.class_team_count());
        for (_, c) in want.class_teams() {
            let Some(got) = draft.classes.get(&key(&c.id)) else { panic!("class {} missing", c.id) };
            assert_eq!(got.id, c.id);
            assert_eq!(got.name.as_deref(), Some(c.name.as_str()));
            assert_eq!(got.owners.iter().cloned().collect::<BTreeSet<_>>(), upn_keys(&want, &c.owners), "{}", c.id);
            assert_eq!(got.students.iter().cloned().collect::<BTreeSet<_>>(), upn_keys(&want, &c.students), "{}", c.id);
        }
        assert_eq!(draft.guardians.len(), want.guardian_count());
        for (_, g) in want.guardians() {
            let Some(got) = draft.guardians.get(g.id()) else { panic!("guardian {} missing", g.name()) };
            assert_eq!(*got.name, *g.name());
            assert!(
                got.email.as_deref() == g.email() && got.phone.as_deref() == g.phone(),
                "contact details of {} differ",
                g.name()
            );
            let links: Vec<(String, Relationship)> =
                g.links().iter().map(|l| (want.user_key(l.student).to_string(), l.relationship)).collect();
            let got_links: Vec<(String, Relationship)> = got.links.iter().map(|(k, r)| (k.clone(), *r)).collect();
            assert_eq!(got_links, links, "{}", g.name());
        }
        // A few by hand, in case the directory file changes under the fixtures.
        for id in ["rosa-garcia", "james-brooks", "martin-household"] {
            assert!(draft.guardians.get(id).is_some_and(|g| g.email.is_none()), "{id}");
        }
        assert!(
            draft.guardians.get("martin-household").is_some_and(|g| g.phone.is_none() && g.name == "Sophie Martin")
        );
        assert_eq!(
            draft.guardians.get("dr.anand@example.org").and_then(|g| g.links.get("zoe.patel@lakeside.edu")),
            Some(&Relationship::Doctor)
        );
        assert_eq!(
            draft.guardians.get("rosa-garcia").and_then(|g| g.links.get("lucia.garcia@lakeside.edu")),
            Some(&Relationship::Guardian)
        );
        assert_eq!(draft.guardians.get("dae.kim@example.org").and_then(|g| g.phone.as_deref()), Some("(206) 555-0102"));
        let math = draft.classes.get("class-7b-math");
        assert_eq!(
            math.map(|c| c.owners.iter().cloned().collect::<Vec<_>>()),
            Some(vec!["ana.rivera@lakeside.edu".to_string(), "mia.johnson@lakeside.edu".to_string()])
        );
        assert!(draft.users.get("mia.johnson@lakeside.edu").is_some_and(|u| u.roles.contains("teacher")));
        // Three numbers are not E.164: a warning each, the number kept only as a personal value.
        let phones: Vec<&Problem> =
            report.files.iter().flat_map(|f| &f.problems).filter(|p| p.message.contains("E.164")).collect();
        assert_eq!(phones.len(), 3, "{text}");
        assert!(phones.iter().all(|p| p.severity == Severity::Warning && p.value.as_ref().is_some_and(|v| v.personal)));
        let mut secrets = Vec::new();
        for (_, g) in want.guardians() {
            secrets.extend(g.email());
            secrets.extend(g.phone());
        }
        assert_eq!(secrets.len(), 17);
        assert_private(report, &secrets);
        assert!(text.contains(REDACTED));
    }

    #[test]
    fn lakeside_v1_is_the_lakeside_directory() {
        let (draft, report) = import("lakeside/sds-v1");
        assert_is_lakeside(&draft, &report);
        assert_eq!(report.files.len(), 8);
        let users = file(&report, "user.csv");
        assert_eq!(users.format, "SDS v1 user.csv");
        assert_eq!(users.encoding, "UTF-16LE with BOM");
        assert_eq!(counts(users), (11, 11, 0, 0));
        assert_eq!(file(&report, "teacher.csv").encoding, "UTF-8 with BOM");
        assert!(file(&report, "teacher.csv").unknown_properties.contains("Teacher Number"));
        assert_eq!(counts(file(&report, "guardianrelationship.csv")), (11, 11, 0, 0));
        assert_eq!(counts(file(&report, "studentenrollment.csv")), (20, 20, 0, 0));
        // The three contacts without email are named by their SIS ID, with a warning each.
        let no_email: Vec<&Problem> = warnings(users).into_iter().filter(|p| p.message.contains("no email")).collect();
        assert_eq!(no_email.len(), 3);
        assert!(no_email.iter().all(|p| p.at.field.as_deref() == Some("Email")));
        assert_eq!(no_email.first().map(|p| p.at.row), Some(Some(3)));
    }

    #[test]
    fn lakeside_v2_1_is_the_lakeside_directory() {
        let (draft, report) = import("lakeside/sds-v2.1");
        assert_is_lakeside(&draft, &report);
        assert_eq!(report.files.len(), 6);
        let users = file(&report, "users.csv");
        assert_eq!(users.format, "SDS v2.1 users.csv");
        assert_eq!(users.encoding, "UTF-8 with BOM");
        assert_eq!(counts(users), (31, 31, 0, 0));
        assert!(users.unknown_properties.contains("password"));
        let roles = file(&report, "roles.csv");
        assert!(["grade", "isPrimary", "sessionSourcedId"].iter().all(|c| roles.unknown_properties.contains(*c)));
        // Contacts are not Teams users.
        assert!(!draft.users.contains_key("maria.kim@example.com") && !draft.users.contains_key("rosa-garcia"));
        assert!(draft.guardians.get("maria.kim@example.com").is_some_and(|g| g.origin == "sds-v2.1/users.csv row 21"));
        assert_eq!(
            draft.guardians.get("jen.williams@example.com").and_then(|g| g.phone.as_deref()),
            Some("+14255550110")
        );
        // `sms` is the mobile number: it wins over `phone` (the doctor's office line here).
        let phone = |id: &str| draft.guardians.get(id).and_then(|g| g.phone.clone());
        assert_eq!(phone("dr.anand@example.org").as_deref(), Some("+14255550112"));
        // `phone` serves when `sms` is empty.
        assert_eq!(phone("rosa-garcia").as_deref(), Some("+13105550123"));
    }

    #[test]
    fn seed_article_file_names_read_as_v2_1() {
        let dir = std::env::temp_dir().join(format!("tenet-sds-seed-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let v21 = root().join("tests/fixtures/exports/lakeside/sds-v2.1");
        for (from, to) in [
            ("users.csv", "User.csv"),
            ("relationships.csv", "Guardianrelationship.csv"),
            ("roles.csv", "roles.csv"),
            ("orgs.csv", "orgs.csv"),
        ] {
            std::fs::copy(v21.join(from), dir.join(to)).unwrap();
        }
        let (draft, report) = import(dir.to_str().unwrap());
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(file(&report, "User.csv").format, "SDS v2.1 users.csv (named User.csv)");
        assert_eq!(
            file(&report, "Guardianrelationship.csv").format,
            "SDS v2.1 relationships.csv (named Guardianrelationship.csv)"
        );
        assert_eq!(report.rejected(), 0, "{}", report.render(false));
        assert_eq!(draft.guardians.len(), 11);
        assert_eq!(draft.users.len(), 20);
    }

    #[test]
    fn bad_role_v1_is_a_rejected_row() {
        let (draft, report) = import("errors/sds-bad-role-v1");
        let links = file(&report, "guardianrelationship.csv");
        assert_eq!(counts(links), (2, 1, 0, 1));
        let errs = errors(links);
        assert_eq!(errs.len(), 1);
        let p = errs[0];
        assert_eq!((p.at.line, p.at.row, p.at.field.as_deref()), (Some(3), Some(2), Some("Role")));
        assert_eq!(p.value.as_ref().map(|v| (v.text.as_str(), v.personal)), Some(("Grandma", false)));
        for role in ["Parent", "Relative", "Aide", "Doctor", "Guardian", "Child", "Administrator", "Other"] {
            assert!(p.help.contains(role), "{}", p.help);
        }
        // The contact of the refused row is linked to no student.
        let users = file(&report, "user.csv");
        assert_eq!(counts(users), (2, 1, 1, 0));
        assert_eq!(warnings(users).first().map(|p| p.at.row), Some(Some(2)));
        assert_eq!(draft.guardians.len(), 1);
        assert_private(&report, &["maria.kim@", "dae.kim@", "2065550101", "2065550102"]);
    }

    #[test]
    fn bad_role_v2_1_is_a_rejected_row() {
        let (draft, report) = import("errors/sds-bad-role-v2.1");
        let links = file(&report, "relationships.csv");
        assert_eq!(counts(links), (2, 1, 0, 1));
        let errs = errors(links);
        assert_eq!(errs.len(), 1);
        let p = errs[0];
        assert_eq!((p.at.row, p.at.field.as_deref()), (Some(2), Some("relationshipRole")));
        assert_eq!(p.value.as_ref().map(|v| v.text.as_str()), Some("grandmother"));
        assert!(p.help.contains("parent, guardian, relative, aide, doctor, child, administrator, other"), "{}", p.help);
        assert_eq!(counts(file(&report, "users.csv")), (3, 2, 1, 0));
        assert_eq!(draft.users.keys().collect::<Vec<_>>(), ["sam.kim@lakeside.edu"]);
        assert_eq!(draft.guardians.keys().collect::<Vec<_>>(), ["maria.kim@example.com"]);
        assert_private(&report, &["maria.kim@", "dae.kim@", "2065550101", "2065550102"]);
    }

    #[test]
    fn blank_role_v1_is_other_with_a_warning() {
        let (draft, report) = import("errors/sds-blank-role-v1");
        assert_eq!(report.errors(), 0, "{}", report.render(false));
        let links = file(&report, "guardianrelationship.csv");
        assert_eq!(counts(links), (1, 1, 0, 0));
        let warns = warnings(links);
        assert_eq!(warns.len(), 1);
        let p = warns[0];
        assert_eq!((p.at.row, p.at.field.as_deref()), (Some(1), Some("Role")));
        assert!(p.message.contains("Other") && p.message.contains("Parent or Guardian"), "{}", p.message);
        assert_eq!(
            draft.guardians.get("maria.kim@example.com").and_then(|g| g.links.get("sam.kim@lakeside.edu")),
            Some(&Relationship::Other)
        );
        assert_private(&report, &["maria.kim@", "2065550101"]);
    }

    #[test]
    fn phones_not_in_e164_are_used_with_a_warning() {
        let (draft, report) = import("errors/sds-bad-e164");
        assert_eq!(report.errors(), 0, "{}", report.render(false));
        let users = file(&report, "user.csv");
        assert_eq!(counts(users), (2, 2, 0, 0));
        let warns = warnings(users);
        assert_eq!(warns.len(), 2);
        for (p, row, number) in [(warns[0], 1, "+1 206 555 0101"), (warns[1], 2, "555-0102")] {
            assert_eq!((p.at.row, p.at.field.as_deref()), (Some(row), Some("Phone")));
            assert_eq!(p.value.as_ref().map(|v| (v.text.as_str(), v.personal)), Some((number, true)));
            assert!(p.help.contains("E.164") && !p.help.contains("555") && !p.help.contains("206"), "{}", p.help);
        }
        assert!(warns[0].message.contains("valid but not written in E.164"));
        assert!(warns[1].message.contains("no SMS invite") && warns[1].message.contains("calls"));
        // Kept as written.
        assert_eq!(draft.guardians.get("dae.kim@example.org").and_then(|g| g.phone.as_deref()), Some("555-0102"));
        assert!(report.render(true).contains("+1 206 555 0101"));
        assert_private(&report, &["maria.kim@", "dae.kim@", "206 555 0101", "555-0102"]);
    }

    #[test]
    fn unknown_student_id_is_a_rejected_row() {
        let (draft, report) = import("errors/sds-unknown-student-id");
        let links = file(&report, "guardianrelationship.csv");
        assert_eq!(counts(links), (1, 0, 0, 1));
        let errs = errors(links);
        assert_eq!(errs.len(), 1);
        let p = errs[0];
        assert_eq!((p.at.line, p.at.row, p.at.field.as_deref()), (Some(2), Some(1), Some("SIS ID")));
        assert_eq!(p.value.as_ref().map(|v| v.text.as_str()), Some("3999"));
        assert!(p.message.contains("student.csv"));
        assert!(draft.guardians.is_empty());
        assert_eq!(counts(file(&report, "user.csv")), (1, 0, 1, 0));
        assert_private(&report, &["maria.kim@", "2065550101"]);
    }

    #[test]
    fn missing_column_rejects_every_row() {
        let (draft, report) = import("errors/sds-missing-column");
        let teachers = file(&report, "teacher.csv");
        assert_eq!(counts(teachers), (2, 0, 0, 2));
        let errs = errors(teachers);
        assert_eq!(errs.len(), 1);
        let p = errs[0];
        assert_eq!((p.at.line, p.at.row, p.at.field.as_deref()), (Some(1), None, Some("Username")));
        assert!(
            p.message.contains("`Username`") && p.message.contains("`SIS ID,School SIS ID,First Name,Last Name`"),
            "{}",
            p.message
        );
        assert!(p.message.contains("all 2 rows are rejected"));
        assert!(draft.users.is_empty());
        assert_private(&report, &["@example."]);
    }

    #[test]
    fn duplicate_row_names_the_first() {
        let (draft, report) = import("errors/sds-duplicate-row");
        let links = file(&report, "relationships.csv");
        assert_eq!(counts(links), (2, 1, 0, 1));
        let errs = errors(links);
        assert_eq!(errs.len(), 1);
        let p = errs[0];
        assert_eq!((p.at.line, p.at.row, p.at.field.as_deref()), (Some(3), Some(2), None));
        assert!(p.message.contains("duplicate") && p.message.ends_with("on row 1"), "{}", p.message);
        assert_eq!(draft.guardians.get("maria.kim@example.com").map(|g| g.links.len()), Some(1));
        assert_private(&report, &["maria.kim@", "2065550101"]);
    }

    #[test]
    fn v2_1_header_case_is_an_error() {
        let (draft, report) = import("errors/sds-header-case-v2.1");
        let users = file(&report, "users.csv");
        assert_eq!(counts(users), (2, 0, 0, 2));
        let errs = errors(users);
        assert_eq!(errs.len(), 1);
        let p = errs[0];
        assert_eq!((p.at.row, p.at.field.as_deref()), (None, Some("Username")));
        assert!(p.message.contains("`Username` must be written `username`") && p.message.contains("case-sensitive"));
        assert!(draft.users.is_empty());
        assert_private(&report, &["@example."]);
    }

    #[test]
    fn utf16_without_bom_is_unreadable() {
        let (draft, report) = import("errors/sds-utf16-no-bom");
        let users = file(&report, "user.csv");
        assert_eq!(counts(users), (0, 0, 0, 0));
        let errs = errors(users);
        assert_eq!(errs.len(), 1);
        let p = errs[0];
        assert_eq!(p.at, At::file());
        assert!(p.message.contains("UTF-16 without a byte order mark"), "{}", p.message);
        assert!(p.help.contains("UTF-8"));
        assert!(draft.guardians.is_empty());
        assert_private(&report, &["maria.kim@", "2065550101"]);
    }

    #[test]
    fn rows_that_cannot_be_read_are_located_rejections() {
        let dir = std::env::temp_dir().join(format!("tenet-sds-rows-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut teacher = b"sis id,school sis id,username\n2001,1001,ana.rivera@lakeside.edu\n2002,1001\n".to_vec();
        teacher.extend_from_slice(
            b"2003,1001,Ren\xe9@lakeside.edu\n2001,1001,ana.other@lakeside.edu\n,,\n2004,,x@lakeside.edu\n",
        );
        std::fs::write(dir.join("teacher.csv"), teacher).unwrap();
        let (draft, report) = import(dir.to_str().unwrap());
        let _ = std::fs::remove_dir_all(&dir);
        let f = file(&report, "teacher.csv");
        assert_eq!(counts(f), (6, 1, 1, 4), "{}", report.render(false));
        let at: Vec<(Option<usize>, Option<usize>, Option<&str>)> =
            f.problems.iter().map(|p| (p.at.line, p.at.row, p.at.field.as_deref())).collect();
        assert_eq!(
            at,
            [
                (Some(3), Some(2), None),
                (Some(4), Some(3), Some("username")),
                (Some(5), Some(4), Some("sis id")),
                (Some(6), Some(5), None),
                (Some(7), Some(6), Some("school sis id")),
            ]
        );
        assert!(f.problems[1].help.contains("CSV UTF-8"));
        assert!(f.problems[2].message.contains("row 1"));
        assert_eq!(draft.users.keys().collect::<Vec<_>>(), ["ana.rivera@lakeside.edu"]);
    }

    #[test]
    fn headers_are_checked_as_each_format_defines() {
        let header = |cols: &[&str]| cols.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        // v1: any case.
        assert!(check_header(&TEACHER, &header(&["sis id", "SCHOOL SIS ID", "Username", "Extra"])).ok());
        // v2.1: exact, and a near miss says so.
        let check = check_header(&USERS, &header(&["sourcedId", "userName", "email", "Email"]));
        assert_eq!(check.miscased, [("userName".to_string(), "username")]);
        assert!(check.missing.is_empty() && check.unknown.contains("Email"));
        let check = check_header(&RELATIONSHIPS, &header(&["userSourcedId", "relationshipRole"]));
        assert_eq!(check.missing, ["relationshipUserSourcedId"]);
        // A header that is really a row of contact data is never quoted in the message.
        let data = header(&["maria.kim@example.com", "Maria", "Kim", "+12065550101", ""]);
        let check = check_header(&GUARDIAN_USER, &data);
        let p = header_error(&GUARDIAN_USER, &data, &check, 1, 3);
        assert!(!p.message.contains("maria") && !p.message.contains("2065550101"), "{}", p.message);
        assert!(p.value.is_some_and(|v| v.personal));
    }

    #[test]
    fn email_shape() {
        assert!(email_ok("maria.kim@example.com"));
        for bad in ["maria.kim", "maria kim@example.com", "a@b@example.com", "@example.com", "a@example", "a@.com"] {
            assert!(!email_ok(bad), "{bad}");
        }
    }

    #[test]
    fn a_repeated_section_or_class_is_rejected_naming_the_first_row() {
        let dir = std::env::temp_dir().join(format!("tenet-sds-dup-class-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("section.csv"), "SIS ID,School SIS ID,Section Name\ns1,sc1,Math\ns1,sc1,Math again\n")
            .unwrap();
        std::fs::write(dir.join("classes.csv"), "sourcedId,orgSourcedId,title\nc1,o1,Art\nc1,o1,Art again\n").unwrap();
        let (draft, report) = import(&dir.display().to_string());
        let _ = std::fs::remove_dir_all(&dir);
        for (name, column, what) in [("section.csv", "SIS ID", "section"), ("classes.csv", "sourcedId", "class")] {
            let f = file(&report, name);
            assert_eq!((f.read, f.rejected), (2, 1), "{name}");
            let e = f.problems.iter().find(|p| p.severity == Severity::Error).unwrap();
            assert_eq!((e.at.row, e.at.field.as_deref()), (Some(2), Some(column)));
            assert!(
                e.message.starts_with(&format!("duplicate {what}:")) && e.message.contains("row 1"),
                "{}",
                e.message
            );
        }
        // The first row names the class team.
        assert_eq!(draft.classes.get("s1").and_then(|c| c.name.as_deref()), Some("Math"));
        assert_eq!(draft.classes.get("c1").and_then(|c| c.name.as_deref()), Some("Art"));
    }
}
