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
use crate::directory::Relationship;
use csv::ByteRecord;
use indexmap::IndexMap;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::BufRead;

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
// File kinds

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    V1,
    V21,
}

impl Version {
    fn label(self) -> &'static str {
        match self {
            Version::V1 => "SDS v1",
            Version::V21 => "SDS v2.1",
        }
    }
}

/// What a file holds, in reading order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    School,
    Orgs,
    Teacher,
    Student,
    Users,
    Roles,
    Section,
    Classes,
    TeacherRoster,
    StudentEnrollment,
    Enrollments,
    GuardianUser,
    GuardianRelationship,
    Relationships,
    /// Read for counting only.
    Unused,
}

#[derive(Debug)]
struct Spec {
    part: Part,
    version: Version,
    /// The file's name in the format.
    name: &'static str,
    /// Columns the header must have.
    required: &'static [&'static str],
    /// Other columns tenet reads.
    optional: &'static [&'static str],
    /// Columns every row must fill.
    filled: &'static [&'static str],
    /// What one row is, for messages.
    row: &'static str,
}

const fn spec(
    part: Part,
    version: Version,
    name: &'static str,
    required: &'static [&'static str],
    optional: &'static [&'static str],
    filled: &'static [&'static str],
    row: &'static str,
) -> Spec {
    Spec { part, version, name, required, optional, filled, row }
}

use Version::{V1, V21};

const SCHOOL: Spec = spec(Part::School, V1, "school.csv", &["SIS ID", "Name"], &[], &["SIS ID"], "school");
const TEACHER: Spec = spec(
    Part::Teacher,
    V1,
    "teacher.csv",
    &["SIS ID", "School SIS ID", "Username"],
    &["First Name", "Last Name"],
    &["SIS ID", "School SIS ID", "Username"],
    "teacher",
);
const STUDENT: Spec = spec(
    Part::Student,
    V1,
    "student.csv",
    &["SIS ID", "School SIS ID", "Username"],
    &["First Name", "Last Name"],
    &["SIS ID", "School SIS ID", "Username"],
    "student",
);
const SECTION: Spec = spec(
    Part::Section,
    V1,
    "section.csv",
    &["SIS ID", "School SIS ID", "Section Name"],
    &[],
    &["SIS ID", "School SIS ID", "Section Name"],
    "section",
);
const TEACHER_ROSTER: Spec = spec(
    Part::TeacherRoster,
    V1,
    "teacherroster.csv",
    &["Section SIS ID", "SIS ID"],
    &[],
    &["Section SIS ID", "SIS ID"],
    "teacher roster entry",
);
const STUDENT_ENROLLMENT: Spec = spec(
    Part::StudentEnrollment,
    V1,
    "studentenrollment.csv",
    &["Section SIS ID", "SIS ID"],
    &[],
    &["Section SIS ID", "SIS ID"],
    "student enrollment",
);
const GUARDIAN_USER: Spec = spec(
    Part::GuardianUser,
    V1,
    "user.csv",
    &["Email", "First Name", "Last Name", "Phone", "SIS ID"],
    &[],
    &[],
    "parent contact",
);
const GUARDIAN_RELATIONSHIP: Spec = spec(
    Part::GuardianRelationship,
    V1,
    "guardianrelationship.csv",
    &["SIS ID", "Email", "Role"],
    &[],
    &["SIS ID", "Email"],
    "guardian relationship",
);
const ORGS: Spec = spec(Part::Orgs, V21, "orgs.csv", &["sourcedId", "name", "type"], &[], &["sourcedId"], "org");
const USERS: Spec = spec(
    Part::Users,
    V21,
    "users.csv",
    &["sourcedId", "username"],
    &["givenName", "familyName", "email", "phone", "sms"],
    &["sourcedId", "username"],
    "user",
);
const ROLES: Spec = spec(
    Part::Roles,
    V21,
    "roles.csv",
    &["userSourcedId", "orgSourcedId", "role"],
    &[],
    &["userSourcedId", "orgSourcedId", "role"],
    "role",
);
const CLASSES: Spec = spec(
    Part::Classes,
    V21,
    "classes.csv",
    &["sourcedId", "orgSourcedId", "title"],
    &[],
    &["sourcedId", "orgSourcedId", "title"],
    "class",
);
const ENROLLMENTS: Spec = spec(
    Part::Enrollments,
    V21,
    "enrollments.csv",
    &["classSourcedId", "userSourcedId", "role"],
    &[],
    &["classSourcedId", "userSourcedId", "role"],
    "enrollment",
);
const RELATIONSHIPS: Spec = spec(
    Part::Relationships,
    V21,
    "relationships.csv",
    &["userSourcedId", "relationshipUserSourcedId", "relationshipRole"],
    &[],
    &["userSourcedId", "relationshipUserSourcedId", "relationshipRole"],
    "relationship",
);
const ACADEMIC_SESSIONS: Spec = spec(Part::Unused, V21, "academicSessions.csv", &[], &[], &[], "academic session");
const COURSES: Spec = spec(Part::Unused, V21, "courses.csv", &[], &[], &[], "course");
const DEMOGRAPHICS: Spec = spec(Part::Unused, V21, "demographics.csv", &[], &[], &[], "demographics entry");
const USER_FLAGS: Spec = spec(Part::Unused, V21, "userFlags.csv", &[], &[], &[], "user flag");

/// The kind of a file, by its name and, for the two names both formats use, its header.
fn spec_for(found: &Found) -> Option<&'static Spec> {
    let stem = found.path.file_stem().map(|s| s.to_string_lossy().to_lowercase()).unwrap_or_default();
    Some(match stem.as_str() {
        "school" => &SCHOOL,
        "teacher" => &TEACHER,
        "student" => &STUDENT,
        "section" => &SECTION,
        "teacherroster" => &TEACHER_ROSTER,
        "studentenrollment" => &STUDENT_ENROLLMENT,
        "user" if header_has(found, &["sourcedid", "username"]) => &USERS,
        "user" => &GUARDIAN_USER,
        "guardianrelationship"
            if header_has(found, &["usersourcedid", "relationshipusersourcedid", "relationshiprole"]) =>
        {
            &RELATIONSHIPS
        }
        "guardianrelationship" => &GUARDIAN_RELATIONSHIP,
        "orgs" => &ORGS,
        "users" => &USERS,
        "roles" => &ROLES,
        "classes" => &CLASSES,
        "enrollments" => &ENROLLMENTS,
        "relationships" => &RELATIONSHIPS,
        "academicsessions" => &ACADEMIC_SESSIONS,
        "courses" => &COURSES,
        "demographics" => &DEMOGRAPHICS,
        "userflags" => &USER_FLAGS,
        _ => return None,
    })
}

/// Whether the file's header has one of these columns (lower-cased names).
fn header_has(found: &Found, names: &[&str]) -> bool {
    let Ok((mut rdr, _)) = open_csv(found) else { return false };
    let mut record = ByteRecord::new();
    matches!(rdr.read_byte_record(&mut record), Ok(true))
        && record.iter().any(|h| names.contains(&String::from_utf8_lossy(h).trim().to_lowercase().as_str()))
}

/// `SDS v1 teacher.csv`; `SDS v2.1 users.csv (named User.csv)` when the name differs.
fn format_of(spec: &Spec, found: &Found) -> String {
    let name = found.path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    if name.eq_ignore_ascii_case(spec.name) {
        format!("{} {}", spec.version.label(), spec.name)
    } else {
        format!("{} {} (named {name})", spec.version.label(), spec.name)
    }
}

// ------------------------------------------------------------------------------------------
// Role lists

/// SDS v2.1 default role groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    Staff,
    Student,
    None,
}

/// `role` values of roles.csv (and enrollments.csv) with their default role group: Microsoft's
/// "Default List of Values", Organization user roles. Matched without regard to case.
const V21_ROLES: &[(&str, Group)] = &[
    ("principal", Group::Staff),
    ("chair", Group::Staff),
    ("professor", Group::Staff),
    ("researcher", Group::Staff),
    ("adjunct", Group::Staff),
    ("affiliate", Group::Staff),
    ("occupationalTherapist", Group::Staff),
    ("physicalTherapist", Group::Staff),
    ("speechTherapist", Group::Staff),
    ("visionTherapist", Group::Staff),
    ("paraprofessional", Group::Staff),
    ("specialServices", Group::Staff),
    ("advisor", Group::Staff),
    ("proctor", Group::Staff),
    ("nurse", Group::Staff),
    ("officeStaff", Group::Staff),
    ("lecturer", Group::Staff),
    ("itAdmin", Group::Staff),
    ("administrator", Group::Staff),
    ("teacher", Group::Staff),
    ("faculty", Group::Staff),
    ("staff", Group::Staff),
    ("teacherAssistant", Group::Staff),
    ("assistant", Group::Staff),
    ("instructor", Group::Staff),
    ("substitute", Group::Staff),
    ("coach", Group::Staff),
    ("alumni", Group::Staff),
    ("student", Group::Student),
    ("other", Group::None),
];

fn v21_role(text: &str) -> Option<(&'static str, Group)> {
    V21_ROLES.iter().copied().find(|(name, _)| name.eq_ignore_ascii_case(text.trim()))
}

fn v21_roles_help() -> String {
    let names: Vec<&str> = V21_ROLES.iter().map(|(n, _)| *n).collect();
    format!("use one of SDS's default roles: {}", names.join(", "))
}

// Guardian roles. v1 `Role`: Parent, Relative, Aide, Doctor, Guardian, Child, Administrator,
// Other, blank meaning Other (Microsoft's "Parent and Guardian Sync File Format" and "CSV files
// for School Data Sync"). v2.1 `relationshipRole`: Microsoft's table of contact relationship
// roles could not be retrieved; the v2.1 sample uses `guardian` and `relative`, a published
// generator (PowerShell Gallery SchoolDataSyncV2CSV) lists parent, guardian, relative, other,
// doctor, aide, and Graph's `contactRelationship` (where SDS puts them) has the same eight values
// as v1 — so v2.1 accepts the eight v1 roles, matched without regard to case like every SDS v2.1
// enum. Both lists are [`Relationship::ALL`].

fn v1_roles_help() -> String {
    let names: Vec<String> = Relationship::ALL
        .iter()
        .map(|r| {
            let s = r.as_str();
            s.get(..1).map(str::to_uppercase).unwrap_or_default() + s.get(1..).unwrap_or_default()
        })
        .collect();
    format!("use one of the SDS v1 roles: {} (the Parents app accepts only Parent and Guardian)", names.join(", "))
}

fn v21_relationship_help() -> String {
    let names: Vec<&str> = Relationship::ALL.iter().map(|r| r.as_str()).collect();
    format!("use one of: {} (the Parents app accepts only parent and guardian)", names.join(", "))
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
// Reading CSV

fn open_csv(found: &Found) -> std::io::Result<(csv::Reader<Box<dyn BufRead>>, text::Encoding)> {
    let (input, encoding) = text::open(&found.path)?;
    let rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(input);
    Ok((rdr, encoding))
}

fn line_of(record: &ByteRecord) -> usize {
    record.position().map_or(0, |p| usize::try_from(p.line()).unwrap_or(usize::MAX))
}

/// Counts the rows left in the file.
fn count_rest(rdr: &mut csv::Reader<Box<dyn BufRead>>, record: &mut ByteRecord) -> usize {
    let mut n = 0;
    while let Ok(true) = rdr.read_byte_record(record) {
        n += 1;
    }
    n
}

/// The non-empty values of one column of a file whose header is good (nothing reported: the file
/// is read again, with its report, in its turn).
fn scan(found: &Found, spec: &Spec, column: &str) -> Vec<String> {
    let Ok((mut rdr, _)) = open_csv(found) else { return Vec::new() };
    let mut record = ByteRecord::new();
    if !matches!(rdr.read_byte_record(&mut record), Ok(true)) {
        return Vec::new();
    }
    let header: Vec<String> = record.iter().map(|b| String::from_utf8_lossy(b).into_owned()).collect();
    let check = check_header(spec, &header);
    let Some(index) = check.cols.map.get(column).map(|(i, _)| *i).filter(|_| check.ok()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    while let Ok(true) = rdr.read_byte_record(&mut record) {
        if let Some(value) = record.get(index).and_then(|b| std::str::from_utf8(b).ok()).map(str::trim)
            && !value.is_empty()
        {
            out.push(value.to_string());
        }
    }
    out
}

/// The columns a header has: canonical name → index and the header as written.
struct Columns {
    map: HashMap<&'static str, (usize, String)>,
}

struct HeaderCheck {
    cols: Columns,
    missing: Vec<&'static str>,
    /// Headers that differ from a v2.1 column only in case: (as written, as defined).
    miscased: Vec<(String, &'static str)>,
    unknown: BTreeSet<String>,
    repeated: Vec<String>,
}

impl HeaderCheck {
    fn ok(&self) -> bool {
        self.missing.is_empty() && self.miscased.is_empty()
    }
}

fn check_header(spec: &Spec, header: &[String]) -> HeaderCheck {
    let known = || spec.required.iter().chain(spec.optional).copied();
    let mut map = HashMap::new();
    let mut unknown = BTreeSet::new();
    let mut repeated = Vec::new();
    let mut near = Vec::new();
    for (i, written) in header.iter().enumerate() {
        let h = written.trim();
        if h.is_empty() {
            continue;
        }
        let exact = known().find(|c| *c == h || (spec.version == V1 && c.eq_ignore_ascii_case(h)));
        if let Some(c) = exact {
            if map.contains_key(c) {
                repeated.push(h.to_string());
            } else {
                map.insert(c, (i, h.to_string()));
            }
        } else if let Some(c) = known().find(|c| c.eq_ignore_ascii_case(h)) {
            near.push((h.to_string(), c));
        } else {
            unknown.insert(h.to_string());
        }
    }
    let mut miscased = Vec::new();
    for (written, c) in near {
        if map.contains_key(c) {
            unknown.insert(written);
        } else {
            miscased.push((written, c));
        }
    }
    let missing = spec
        .required
        .iter()
        .copied()
        .filter(|c| !map.contains_key(c) && !miscased.iter().any(|(_, m)| m == c))
        .collect();
    HeaderCheck { cols: Columns { map }, missing, miscased, unknown, repeated }
}

/// Whether header text looks like a contact detail (a file without its header row).
fn looks_personal(text: &str) -> bool {
    text.contains('@') || text.chars().filter(char::is_ascii_digit).count() >= 7
}

fn header_error(spec: &Spec, header: &[String], check: &HeaderCheck, line: usize, rows: usize) -> Problem {
    let mut parts = Vec::new();
    for (written, defined) in &check.miscased {
        parts.push(format!(
            "column `{written}` must be written `{defined}`: SDS v2.1 column headers are case-sensitive"
        ));
    }
    if !check.missing.is_empty() {
        let names: Vec<String> = check.missing.iter().map(|c| format!("`{c}`")).collect();
        parts.push(format!(
            "{} {} has no {} column{}, which the format requires",
            spec.version.label(),
            spec.name,
            names.join(", "),
            if names.len() == 1 { "" } else { "s" }
        ));
    }
    let shown = header.join(",");
    let data = header.iter().any(|h| looks_personal(h));
    let mut message = parts.join("; ");
    if data {
        message.push_str("; the first line looks like data, not a header row");
    } else {
        message.push_str(&format!("; the header is `{shown}`"));
    }
    message.push_str(&match rows {
        0 => " (the file has no rows)".to_string(),
        1 => " (its 1 row is rejected)".to_string(),
        n => format!(" (all {n} rows are rejected)"),
    });
    let field = check.miscased.first().map(|(w, _)| w.clone()).or_else(|| check.missing.first().map(|c| c.to_string()));
    let help = if check.miscased.is_empty() {
        format!(
            "{}the header row of {} needs the columns {}",
            if data {
                "add the header row; "
            } else if check.missing.len() == 1 {
                "add the missing column; "
            } else {
                "add the missing columns; "
            },
            spec.name,
            spec.required.join(", ")
        )
    } else {
        let names: Vec<String> = check.miscased.iter().map(|(_, d)| format!("`{d}`")).collect();
        format!("rename the header to {} exactly", names.join(", "))
    };
    let p = Problem::error(At { line: Some(line), row: None, field }, message).help(help);
    if data { p.personal_value(shown) } else { p }
}

/// One data row.
struct Row<'a> {
    file: usize,
    line: usize,
    row: usize,
    fields: Vec<&'a str>,
    cols: &'a Columns,
}

impl Row<'_> {
    /// The trimmed value of a column ("" when absent).
    fn get(&self, col: &str) -> &str {
        self.cols.map.get(col).and_then(|(i, _)| self.fields.get(*i)).map_or("", |s| s.trim())
    }

    /// The column's header as the file writes it.
    fn col<'c>(&'c self, col: &'c str) -> &'c str {
        self.cols.map.get(col).map_or(col, |(_, w)| w.as_str())
    }

    fn at(&self, col: &str) -> At {
        At::cell(self.line, self.row, self.col(col))
    }

    fn whole(&self) -> At {
        At { line: Some(self.line), row: Some(self.row), field: None }
    }

    fn origin(&self) -> Origin {
        Origin { file: self.file, row: self.row }
    }
}

type Handler = fn(&mut State, &mut Draft, &Row<'_>, &mut FileReport);

fn handler(part: Part) -> Option<Handler> {
    Some(match part {
        Part::School => school,
        Part::Orgs => org,
        Part::Teacher => v1_teacher,
        Part::Student => v1_student,
        Part::Users => v2_user,
        Part::Roles => v2_role,
        Part::Section => v1_section,
        Part::Classes => v2_class,
        Part::TeacherRoster => v1_owner,
        Part::StudentEnrollment => v1_enrolled,
        Part::Enrollments => v2_enrollment,
        Part::GuardianUser => v1_contact,
        Part::GuardianRelationship => v1_link,
        Part::Relationships => v2_link,
        Part::Unused => return None,
    })
}

const SAVE_UTF8: &str =
    "save the file as UTF-8: in Excel, \"CSV UTF-8 (Comma delimited)\"; in PowerShell 7, `-Encoding utf8`";

/// Reads one file: its header, then every row through the part's handler.
fn read_table(st: &mut State, draft: &mut Draft, report: &mut ImportReport, file: usize, found: &Found, spec: &Spec) {
    let format = st.formats.get(file).cloned().unwrap_or_default();
    let (mut rdr, encoding) = match open_csv(found) {
        Ok(x) => x,
        Err(e) => {
            report.file(&found.shown, &format).note(
                Problem::error(At::file(), format!("can't read the file: {e}"))
                    .help("save it as UTF-8 (Excel: \"CSV UTF-8 (Comma delimited)\") or as UTF-16 with a byte order mark, and import again"),
            );
            return;
        }
    };
    let f = report.file(&found.shown, &format);
    f.encoding = encoding.to_string();
    let mut record = ByteRecord::new();
    match rdr.read_byte_record(&mut record) {
        Ok(true) => {}
        Ok(false) => {
            let cols = if spec.required.is_empty() { String::new() } else { format!(": {}", spec.required.join(", ")) };
            f.note(
                Problem::error(At::file(), format!("the file is empty: {} needs at least its header row", spec.name))
                    .help(format!("export the file again with its header row{cols}")),
            );
            return;
        }
        Err(e) => {
            f.note(read_error(&e));
            return;
        }
    }
    let header_line = line_of(&record).max(1);
    let header: Result<Vec<String>, _> = record.iter().map(|b| std::str::from_utf8(b).map(str::to_string)).collect();
    let Ok(header) = header else {
        let n = count_rest(&mut rdr, &mut record);
        reject_all(
            f,
            n,
            Problem::error(At::line(header_line), "the header row is not UTF-8 text, so no column can be read")
                .help(SAVE_UTF8),
        );
        return;
    };
    let Some(handle) = handler(spec.part) else {
        let n = count_rest(&mut rdr, &mut record);
        ignore_all(
            f,
            n,
            Problem::warning(
                At::file(),
                format!(
                    "{} is counted only: tenet doesn't need it for Parents decisions, so its {n} row{} {} not used",
                    spec.name,
                    if n == 1 { "" } else { "s" },
                    if n == 1 { "is" } else { "are" }
                ),
            )
            .help("nothing to fix: the file is listed so every file given is accounted for"),
        );
        return;
    };
    let check = check_header(spec, &header);
    f.unknown_properties.extend(check.unknown.iter().cloned());
    for r in &check.repeated {
        f.note(
            Problem::warning(
                At { line: Some(header_line), row: None, field: Some(r.clone()) },
                format!("column `{r}` appears twice in the header: the first is read"),
            )
            .help("remove the repeated column"),
        );
    }
    if !check.ok() {
        let n = count_rest(&mut rdr, &mut record);
        reject_all(f, n, header_error(spec, &header, &check, header_line, n));
        return;
    }
    match spec.part {
        Part::School => {
            st.schools.get_or_insert_with(HashMap::new);
        }
        Part::Orgs => {
            st.orgs.get_or_insert_with(HashMap::new);
        }
        _ => {}
    }
    let cols = check.cols;
    let mut row = 0;
    loop {
        match rdr.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                f.note(read_error(&e));
                break;
            }
        }
        row += 1;
        let line = line_of(&record);
        let whole = At { line: Some(line), row: Some(row), field: None };
        let mut fields = Vec::with_capacity(record.len());
        let mut bad = None;
        for (i, raw) in record.iter().enumerate() {
            match std::str::from_utf8(raw) {
                Ok(s) => fields.push(s),
                Err(_) => {
                    bad = Some(i);
                    break;
                }
            }
        }
        if let Some(i) = bad {
            let column = header.get(i).map_or_else(|| format!("column {}", i + 1), |h| h.trim().to_string());
            f.reject(
                Problem::error(
                    At::cell(line, row, &column),
                    "the row is not UTF-8 text (the file was saved in another encoding, such as Windows-1252)",
                )
                .help(SAVE_UTF8),
            );
            continue;
        }
        if fields.iter().all(|s| s.trim().is_empty()) {
            f.ignore(Problem::warning(whole, "the row is empty").help("remove empty rows"));
            continue;
        }
        if fields.len() != header.len() {
            f.reject(
                Problem::error(
                    whole,
                    format!("the row has {} fields but the header has {} columns", fields.len(), header.len()),
                )
                .help("check for a missing or extra comma: a value that holds a comma must be in double quotes"),
            );
            continue;
        }
        let r = Row { file, line, row, fields, cols: &cols };
        if let Some(c) = spec.filled.iter().find(|c| r.get(c).is_empty()) {
            f.reject(
                Problem::error(r.at(c), format!("`{}` is empty: every {} needs it", r.col(c), spec.row))
                    .help(format!("fill in `{}`, or remove the row", r.col(c))),
            );
            continue;
        }
        handle(st, draft, &r, f);
    }
    for (i, p) in std::mem::take(&mut st.pending) {
        let (shown, format) =
            (st.shown.get(i).cloned().unwrap_or_default(), st.formats.get(i).cloned().unwrap_or_default());
        report.file(&shown, &format).note(p);
    }
}

fn read_error(e: &csv::Error) -> Problem {
    let line = e.position().map(|p| usize::try_from(p.line()).unwrap_or(usize::MAX));
    Problem::error(At { line, ..At::default() }, format!("can't read the file past this point: {e}"))
        .help("the rest of the file is not read: export it again")
}

/// Counts rows refused as a whole (the header is unusable); `error` says why.
fn reject_all(f: &mut FileReport, rows: usize, error: Problem) {
    f.read += rows;
    f.rejected += rows;
    f.note(error);
}

/// Counts rows deliberately not used; `warning` says why.
fn ignore_all(f: &mut FileReport, rows: usize, warning: Problem) {
    f.read += rows;
    f.ignored += rows;
    f.note(warning);
}

/// The row went into the tenant, with these caveats.
fn finish(f: &mut FileReport, warnings: Vec<Problem>) {
    f.use_one();
    for w in warnings {
        f.note(w);
    }
}

fn full_name(first: &str, last: &str) -> Option<String> {
    let name = [first.trim(), last.trim()].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ");
    (!name.is_empty()).then_some(name)
}

fn duplicate(f: &mut FileReport, at: At, message: String, help: &str) {
    f.reject(Problem::error(at, message).help(help));
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
    f.use_one();
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
// SDS v1 users, sections, rosters

fn v1_teacher(st: &mut State, draft: &mut Draft, r: &Row<'_>, f: &mut FileReport) {
    v1_person(st, draft, r, f, "teacher");
}

fn v1_student(st: &mut State, draft: &mut Draft, r: &Row<'_>, f: &mut FileReport) {
    v1_person(st, draft, r, f, "student");
}

fn v1_person(st: &mut State, draft: &mut Draft, r: &Row<'_>, f: &mut FileReport, role: &str) {
    let sis = r.get("SIS ID");
    let upn = r.get("Username");
    let people = if role == "student" { &st.students } else { &st.teachers };
    if let Some(first) = people.get(sis).map(|p| p.origin) {
        let message = format!("duplicate {role}: SIS ID `{sis}` is already on {}", place(&st.shown, first, r.file));
        return duplicate(
            f,
            r.at("SIS ID"),
            message,
            "each user needs one row: remove the repeated row or give it its own SIS ID",
        );
    }
    let warnings: Vec<Problem> =
        [bare_username(r, "Username"), unknown_school(st, r, "School SIS ID")].into_iter().flatten().collect();
    let user = draft.user_mut(upn);
    user.roles.insert(role.to_string());
    if user.name.is_none() {
        user.name = full_name(r.get("First Name"), r.get("Last Name"));
    }
    let person = Person { upn: key(upn), origin: r.origin() };
    if role == "student" {
        st.students.insert(sis.to_string(), person);
    } else {
        st.teachers.insert(sis.to_string(), person);
    }
    finish(f, warnings);
}

fn v1_section(st: &mut State, draft: &mut Draft, r: &Row<'_>, f: &mut FileReport) {
    let sis = r.get("SIS ID");
    if let Some(first) = st.sections.get(sis).copied() {
        let message = format!("duplicate section: SIS ID `{sis}` is already on {}", place(&st.shown, first, r.file));
        return duplicate(f, r.at("SIS ID"), message, "each section needs one row: remove the repeated row");
    }
    let warnings: Vec<Problem> = unknown_school(st, r, "School SIS ID").into_iter().collect();
    let class = draft.class_mut(sis);
    if class.name.is_none() {
        class.name = Some(r.get("Section Name").to_string());
    }
    st.sections.insert(sis.to_string(), r.origin());
    finish(f, warnings);
}

fn v1_owner(st: &mut State, draft: &mut Draft, r: &Row<'_>, f: &mut FileReport) {
    v1_roster(st, draft, r, f, true);
}

fn v1_enrolled(st: &mut State, draft: &mut Draft, r: &Row<'_>, f: &mut FileReport) {
    v1_roster(st, draft, r, f, false);
}

fn v1_roster(st: &mut State, draft: &mut Draft, r: &Row<'_>, f: &mut FileReport, owners: bool) {
    let section = r.get("Section SIS ID");
    let sis = r.get("SIS ID");
    if !st.sections.contains_key(section) {
        return f.reject(
            Problem::error(r.at("Section SIS ID"), "no section in section.csv has this SIS ID")
                .value(section)
                .help("add the section to section.csv, or correct Section SIS ID"),
        );
    }
    let (people, what, file) =
        if owners { (&st.teachers, "teacher", "teacher.csv") } else { (&st.students, "student", "student.csv") };
    let Some(upn) = people.get(sis).map(|p| p.upn.clone()) else {
        return f.reject(
            Problem::error(r.at("SIS ID"), format!("no {what} in {file} has this SIS ID"))
                .value(sis)
                .help(format!("add the {what} to {file}, or correct the SIS ID")),
        );
    };
    let pair = fingerprint(&[section, sis]);
    let pairs = if owners { &st.rosters } else { &st.enrolled };
    if let Some(first) = pairs.get(&pair).copied() {
        let message = format!(
            "duplicate row: {what} `{sis}` is already in section `{section}` on {}",
            place(&st.shown, first, r.file)
        );
        return duplicate(f, r.whole(), message, "remove the repeated row");
    }
    if owners {
        st.rosters.insert(pair, r.origin());
    } else {
        st.enrolled.insert(pair, r.origin());
    }
    let class = draft.class_mut(section);
    if owners {
        class.owners.insert(upn);
    } else {
        class.students.insert(upn);
    }
    f.use_one();
}

// ------------------------------------------------------------------------------------------
// SDS v1 parent contacts

fn v1_contact(st: &mut State, _draft: &mut Draft, r: &Row<'_>, f: &mut FileReport) {
    let email = r.get("Email");
    let sis = r.get("SIS ID");
    if !email.is_empty() && !email_ok(email) {
        st.v1_rejected.insert(email.to_lowercase());
        if !sis.is_empty() {
            st.v1_rejected.insert(sis.to_string());
        }
        return f.reject(
            Problem::error(r.at("Email"), "`Email` is not an email address")
                .personal_value(email)
                .help("write the contact's email as name@domain, with no spaces or other text"),
        );
    }
    if email.is_empty() && sis.is_empty() {
        return f.reject(
            Problem::error(r.at("Email"), "the contact has neither an Email nor a SIS ID, so nothing can name it")
                .help("fill in the contact's email address (or at least a SIS ID)"),
        );
    }
    let lower = email.to_lowercase();
    if let Some(first) = (!email.is_empty()).then(|| st.v1_emails.get(&lower)).flatten() {
        let first =
            st.v1_contacts.get(*first).map_or(Origin { file: r.file, row: 0 }, |c| Origin { file: c.file, row: c.row });
        return f.reject(
            Problem::error(
                r.at("Email"),
                format!("duplicate contact: this Email is already on {}", place(&st.shown, first, r.file)),
            )
            .personal_value(email)
            .help("give each contact one row in user.csv, and link it to each of its students in guardianrelationship.csv"),
        );
    }
    if let Some(first) = (!sis.is_empty()).then(|| st.v1_sis_seen.get(sis).copied()).flatten() {
        let message = format!("duplicate contact: SIS ID `{sis}` is already on {}", place(&st.shown, first, r.file));
        return duplicate(f, r.at("SIS ID"), message, "give each contact one row and its own SIS ID");
    }
    let mut warnings = Vec::new();
    let name = full_name(r.get("First Name"), r.get("Last Name"));
    if name.is_none() {
        warnings.push(
            Problem::warning(r.at("First Name"), "the contact has no name: `First Name` and `Last Name` are empty")
                .help("fill in the contact's first and last name: teachers see it"),
        );
    }
    if email.is_empty() {
        warnings.push(
            Problem::warning(
                r.at("Email"),
                format!("the contact has no email: SDS needs one for each parent contact, and the contact gets no email invite; tenet names it by its SIS ID `{sis}`"),
            )
            .help("fill in the contact's email address; until then guardianrelationship.csv names this contact by its SIS ID in `Email`"),
        );
    }
    let phone = r.get("Phone");
    let phone = if phone.is_empty() {
        None
    } else {
        let (kept, warning) = check_phone(phone, || r.at("Phone"));
        warnings.extend(warning);
        kept
    };
    let Some(id) = GuardianDraft::id_for(Some(email), Some(sis)) else {
        return f.reject(Problem::error(r.whole(), "the contact can't be named"));
    };
    let index = st.v1_contacts.len();
    st.v1_contacts.push(Contact {
        file: r.file,
        line: r.line,
        row: r.row,
        id,
        name: name.unwrap_or_default(),
        email: (!email.is_empty()).then(|| email.to_string()),
        phone,
        links: 0,
    });
    if email.is_empty() {
        st.v1_sis_only.insert(sis.to_string(), index);
    } else {
        st.v1_emails.insert(lower, index);
    }
    if !sis.is_empty() {
        st.v1_sis_seen.insert(sis.to_string(), r.origin());
    }
    // The row is counted once its links are known (see `settle`).
    for w in warnings {
        f.note(w);
    }
}

fn v1_link(st: &mut State, draft: &mut Draft, r: &Row<'_>, f: &mut FileReport) {
    let student_sis = r.get("SIS ID");
    let who = r.get("Email");
    let role = r.get("Role");
    let Some(student) = st.students.get(student_sis).map(|p| p.upn.clone()) else {
        return f.reject(
            Problem::error(
                r.at("SIS ID"),
                "no student in student.csv has this SIS ID (in guardianrelationship.csv, SIS ID is the student's)",
            )
            .value(student_sis)
            .help("write the student's SIS ID from student.csv, or add the student there"),
        );
    };
    let found = if who.contains('@') { st.v1_emails.get(&who.to_lowercase()) } else { st.v1_sis_only.get(who) };
    let Some(contact) = found.copied() else {
        let message = if st.v1_rejected.contains(&who.to_lowercase()) || st.v1_rejected.contains(who) {
            "this contact's row in user.csv was rejected (see the errors of user.csv)"
        } else {
            "no contact in user.csv has this Email"
        };
        return f.reject(
            Problem::error(r.at("Email"), message)
                .personal_value(who)
                .help("write the Email of a contact in user.csv (for a contact without email, its SIS ID)"),
        );
    };
    let mut warnings = Vec::new();
    let relationship = if role.is_empty() {
        warnings.push(
            Problem::warning(
                r.at("Role"),
                "`Role` is empty: SDS reads it as Other, and the Parents app accepts only Parent or Guardian",
            )
            .help(format!("fill in the contact's role; {}", v1_roles_help())),
        );
        Relationship::Other
    } else if let Some(rel) = Relationship::parse(role) {
        rel
    } else {
        return f.reject(
            Problem::error(r.at("Role"), "`Role` is not an SDS v1 guardian role").value(role).help(v1_roles_help()),
        );
    };
    let pair = fingerprint(&[student_sis, &contact.to_string()]);
    if let Some(first) = st.v1_links.get(&pair).copied() {
        let message = format!(
            "duplicate row: student `{student_sis}` and this contact are already linked on {}",
            place(&st.shown, first, r.file)
        );
        return duplicate(f, r.whole(), message, "remove the repeated row: each student–contact pair needs one row");
    }
    st.v1_links.insert(pair, r.origin());
    link(st, draft, true, contact, student, relationship);
    finish(f, warnings);
}

// ------------------------------------------------------------------------------------------
// SDS v2.1 users, roles, classes, enrollments

fn v2_user(st: &mut State, draft: &mut Draft, r: &Row<'_>, f: &mut FileReport) {
    let id = r.get("sourcedId");
    if let Some(first) = st.v2_users.get(id).map(V2User::origin) {
        let message = format!("duplicate user: sourcedId `{id}` is already on {}", place(&st.shown, first, r.file));
        return duplicate(f, r.at("sourcedId"), message, "each user needs one row and a sourcedId of its own");
    }
    if st.v2_contact_ids.contains(id) {
        return v2_contact(st, r, f);
    }
    if !st.v2_role_ids.contains(id) {
        st.v2_users.insert(id.to_string(), V2User::Ignored(r.origin()));
        return f.ignore(
            Problem::warning(
                r.at("sourcedId"),
                "the user has no role in roles.csv and no relationship in relationships.csv: it is neither a Teams user nor a parent contact",
            )
            .value(id)
            .help("give the user its role (teacher, student ...) in roles.csv, or link the contact to its student in relationships.csv"),
        );
    }
    let upn = r.get("username");
    let warnings: Vec<Problem> = bare_username(r, "username").into_iter().collect();
    let user = draft.user_mut(upn);
    if user.name.is_none() {
        user.name = full_name(r.get("givenName"), r.get("familyName"));
    }
    st.v2_users.insert(id.to_string(), V2User::User(Person { upn: key(upn), origin: r.origin() }));
    finish(f, warnings);
}

/// A users.csv row that relationships.csv names as a contact: never a Teams user.
fn v2_contact(st: &mut State, r: &Row<'_>, f: &mut FileReport) {
    let id = r.get("sourcedId");
    let email = r.get("email");
    if !email.is_empty() && !email_ok(email) {
        st.v2_rejected.insert(id.to_string());
        return f.reject(
            Problem::error(r.at("email"), "`email` is not an email address")
                .personal_value(email)
                .help("write the contact's email as name@domain, with no spaces or other text"),
        );
    }
    let mut warnings = Vec::new();
    let name = full_name(r.get("givenName"), r.get("familyName"));
    if name.is_none() {
        warnings.push(
            Problem::warning(r.at("givenName"), "the contact has no name: `givenName` and `familyName` are empty")
                .help("fill in the contact's given and family name: teachers see it"),
        );
    }
    // `sms` is the mobile number; `phone` may be a landline.
    let (phone, column) = if r.get("sms").is_empty() { (r.get("phone"), "phone") } else { (r.get("sms"), "sms") };
    let phone = if phone.is_empty() {
        None
    } else {
        let (kept, warning) = check_phone(phone, || r.at(column));
        warnings.extend(warning);
        kept
    };
    if st.v2_role_ids.contains(id) {
        warnings.push(
            Problem::warning(
                r.at("sourcedId"),
                "this contact also has a role in roles.csv: relationships.csv links it to a student, so tenet reads it as a parent contact, not as a Teams user",
            )
            .value(id)
            .help("give a staff member who is also a parent two records: a user, and a contact with its own sourcedId"),
        );
    }
    let Some(guardian) = GuardianDraft::id_for(Some(email), Some(id)) else {
        return f.reject(Problem::error(r.whole(), "the contact can't be named"));
    };
    let index = st.v2_contacts.len();
    st.v2_contacts.push(Contact {
        file: r.file,
        line: r.line,
        row: r.row,
        id: guardian,
        name: name.unwrap_or_default(),
        email: (!email.is_empty()).then(|| email.to_string()),
        phone,
        links: 0,
    });
    st.v2_users.insert(id.to_string(), V2User::Contact(index, r.origin()));
    // The row is counted once its links are known (see `settle`).
    for w in warnings {
        f.note(w);
    }
}

/// Why a users.csv sourcedId can't be used, as an error message.
fn missing_user(st: &State, id: &str, what: &str) -> String {
    if st.v2_rejected.contains(id) {
        format!("this {what}'s row in users.csv was rejected (see the errors of users.csv)")
    } else if matches!(st.v2_users.get(id), Some(V2User::Ignored(_))) {
        format!("this {what}'s row in users.csv was not used (see the warnings of users.csv)")
    } else {
        format!("no {what} in users.csv has this sourcedId")
    }
}

fn v2_role(st: &mut State, draft: &mut Draft, r: &Row<'_>, f: &mut FileReport) {
    let id = r.get("userSourcedId");
    let org = r.get("orgSourcedId");
    let role = r.get("role");
    let Some((name, _)) = v21_role(role) else {
        return f
            .reject(Problem::error(r.at("role"), "`role` is not an SDS v2.1 role").value(role).help(v21_roles_help()));
    };
    let upn = match st.v2_users.get(id) {
        Some(V2User::User(p)) => p.upn.clone(),
        Some(V2User::Contact(..)) => {
            return f.ignore(
                Problem::warning(r.at("userSourcedId"), "this user is a parent contact (relationships.csv links it to a student): its role is not read")
                    .value(id)
                    .help("give a staff member who is also a parent two records: a user, and a contact with its own sourcedId"),
            );
        }
        _ => {
            return f.reject(
                Problem::error(r.at("userSourcedId"), missing_user(st, id, "user"))
                    .value(id)
                    .help("write the sourcedId of a user in users.csv, or add the user there"),
            );
        }
    };
    let triple = fingerprint(&[id, org, name]);
    if let Some(first) = st.v2_roles.get(&triple).copied() {
        let message = format!(
            "duplicate row: user `{id}` already has role `{name}` in org `{org}` on {}",
            place(&st.shown, first, r.file)
        );
        return duplicate(f, r.whole(), message, "remove the repeated row");
    }
    st.v2_roles.insert(triple, r.origin());
    let warnings: Vec<Problem> = unknown_org(st, r, "orgSourcedId").into_iter().collect();
    draft.user_mut(&upn).roles.insert(name.to_lowercase());
    finish(f, warnings);
}

fn v2_class(st: &mut State, draft: &mut Draft, r: &Row<'_>, f: &mut FileReport) {
    let id = r.get("sourcedId");
    if let Some(first) = st.classes.get(id).copied() {
        let message = format!("duplicate class: sourcedId `{id}` is already on {}", place(&st.shown, first, r.file));
        return duplicate(f, r.at("sourcedId"), message, "each class needs one row: remove the repeated row");
    }
    let warnings: Vec<Problem> = unknown_org(st, r, "orgSourcedId").into_iter().collect();
    let class = draft.class_mut(id);
    if class.name.is_none() {
        class.name = Some(r.get("title").to_string());
    }
    st.classes.insert(id.to_string(), r.origin());
    finish(f, warnings);
}

fn v2_enrollment(st: &mut State, draft: &mut Draft, r: &Row<'_>, f: &mut FileReport) {
    let class = r.get("classSourcedId");
    let id = r.get("userSourcedId");
    let role = r.get("role");
    if !st.classes.contains_key(class) {
        return f.reject(
            Problem::error(r.at("classSourcedId"), "no class in classes.csv has this sourcedId")
                .value(class)
                .help("add the class to classes.csv, or correct classSourcedId"),
        );
    }
    let Some((name, group)) = v21_role(role) else {
        return f
            .reject(Problem::error(r.at("role"), "`role` is not an SDS v2.1 role").value(role).help(v21_roles_help()));
    };
    let upn = match st.v2_users.get(id) {
        Some(V2User::User(p)) => p.upn.clone(),
        Some(V2User::Contact(..)) => {
            return f.reject(
                Problem::error(
                    r.at("userSourcedId"),
                    "this user is a parent contact (relationships.csv links it to a student), not a class member",
                )
                .value(id)
                .help("enroll the student or teacher, not the contact"),
            );
        }
        _ => {
            return f.reject(
                Problem::error(r.at("userSourcedId"), missing_user(st, id, "user"))
                    .value(id)
                    .help("write the sourcedId of a user in users.csv, or add the user there"),
            );
        }
    };
    let triple = fingerprint(&[class, id, name]);
    if let Some(first) = st.v2_enrolled.get(&triple).copied() {
        let message = format!(
            "duplicate row: user `{id}` is already enrolled as {name} in class `{class}` on {}",
            place(&st.shown, first, r.file)
        );
        return duplicate(f, r.whole(), message, "remove the repeated row");
    }
    st.v2_enrolled.insert(triple, r.origin());
    let team = draft.class_mut(class);
    match group {
        Group::Student => {
            team.students.insert(upn);
        }
        // SDS's default role group Staff: the class team's teachers.
        Group::Staff => {
            team.owners.insert(upn);
        }
        Group::None => {
            return f.ignore(
                Problem::warning(
                    r.at("role"),
                    format!(
                        "role `{name}` is neither a student nor a staff role: the user is not added to the class team"
                    ),
                )
                .value(role)
                .help("enroll teachers as teacher and students as student"),
            );
        }
    }
    f.use_one();
}

// ------------------------------------------------------------------------------------------
// SDS v2.1 parent contacts

fn v2_link(st: &mut State, draft: &mut Draft, r: &Row<'_>, f: &mut FileReport) {
    let student_id = r.get("userSourcedId");
    let contact_id = r.get("relationshipUserSourcedId");
    let role = r.get("relationshipRole");
    let student = match st.v2_users.get(student_id) {
        Some(V2User::User(p)) if draft.users.get(&p.upn).is_some_and(|u| u.roles.contains("student")) => p.upn.clone(),
        Some(V2User::User(_)) => {
            return f.reject(
                Problem::error(
                    r.at("userSourcedId"),
                    "this user has no student role in roles.csv: relationships.csv links contacts to students",
                )
                .value(student_id)
                .help(
                    "write the student's sourcedId in userSourcedId (and the contact's in relationshipUserSourcedId)",
                ),
            );
        }
        Some(V2User::Contact(..)) => {
            return f.reject(
                Problem::error(
                    r.at("userSourcedId"),
                    "this is a parent contact, not a student (in relationships.csv, userSourcedId is the student's)",
                )
                .value(student_id)
                .help("write the student's sourcedId in userSourcedId and the contact's in relationshipUserSourcedId"),
            );
        }
        _ => {
            return f.reject(
                Problem::error(
                    r.at("userSourcedId"),
                    format!(
                        "{} (in relationships.csv, userSourcedId is the student's)",
                        missing_user(st, student_id, "student")
                    ),
                )
                .value(student_id)
                .help("write the student's sourcedId from users.csv, or add the student there"),
            );
        }
    };
    let Some(V2User::Contact(contact, _)) = st.v2_users.get(contact_id).cloned() else {
        return f.reject(
            Problem::error(r.at("relationshipUserSourcedId"), missing_user(st, contact_id, "contact"))
                .value(contact_id)
                .help("write the sourcedId of the contact's row in users.csv, or add the contact there"),
        );
    };
    let Some(relationship) = Relationship::parse(role) else {
        return f.reject(
            Problem::error(r.at("relationshipRole"), "`relationshipRole` is not a contact relationship role")
                .value(role)
                .help(v21_relationship_help()),
        );
    };
    let pair = fingerprint(&[student_id, &contact.to_string()]);
    if let Some(first) = st.v2_links.get(&pair).copied() {
        let message = format!(
            "duplicate row: student `{student_id}` and contact `{contact_id}` are already linked on {}",
            place(&st.shown, first, r.file)
        );
        return duplicate(f, r.whole(), message, "remove the repeated row: each student–contact pair needs one row");
    }
    st.v2_links.insert(pair, r.origin());
    link(st, draft, false, contact, student, relationship);
    f.use_one();
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
    };
    if c.links == 0
        && let Some(known) = draft.guardians.get(&guardian.id)
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
    use crate::directory::{Directory, User};
    use crate::import::report::{REDACTED, Severity};
    use crate::import::{Draft, Kind};
    use std::path::{Path, PathBuf};

    fn root() -> &'static Path {
        Path::new(env!("CARGO_MANIFEST_DIR"))
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
                Found { shown: format!("{}/{name}", dir.rsplit('/').next().unwrap()), path, kind: Kind::Sds }
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
        match crate::directory::load(crate::source::FileId(0), text) {
            Ok(d) => d,
            Err(e) => panic!("{e:?}"),
        }
    }

    fn upn_keys(dir: &Directory, users: &[usize]) -> BTreeSet<String> {
        users.iter().filter_map(|i| dir.users.get_index(*i)).map(|(k, _)| k.clone()).collect()
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
        let from_sds = |r: &String| r == "teacher" || r == "student";
        let people: Vec<&User> = want.users.values().filter(|u| u.roles.iter().any(from_sds)).collect();
        assert_eq!(people.len(), 20);
        assert_eq!(draft.users.len(), people.len(), "{:?}", draft.users.keys().collect::<Vec<_>>());
        for u in people {
            let Some(got) = draft.users.get(&key(&u.upn)) else { panic!("{} missing", u.upn) };
            assert_eq!(got.upn, u.upn);
            assert_eq!(got.name.as_deref(), Some(u.name.as_str()), "{}", u.upn);
            let roles: BTreeSet<String> = u.roles.iter().filter(|r| from_sds(r)).cloned().collect();
            assert_eq!(got.roles, roles, "{}", u.upn);
        }
        assert_eq!(draft.classes.len(), want.class_teams.len());
        for c in want.class_teams.values() {
            let Some(got) = draft.classes.get(&key(&c.id)) else { panic!("class {} missing", c.id) };
            assert_eq!(got.id, c.id);
            assert_eq!(got.name.as_deref(), Some(c.name.as_str()));
            assert_eq!(got.owners.iter().cloned().collect::<BTreeSet<_>>(), upn_keys(&want, &c.owners), "{}", c.id);
            assert_eq!(got.students.iter().cloned().collect::<BTreeSet<_>>(), upn_keys(&want, &c.students), "{}", c.id);
        }
        assert_eq!(draft.guardians.len(), want.guardians.len());
        for g in want.guardians.values() {
            let Some(got) = draft.guardians.get(&g.id) else { panic!("guardian {} missing", g.name) };
            assert_eq!(got.name, g.name);
            assert!(got.email == g.email && got.phone == g.phone, "contact details of {} differ", g.name);
            let links: Vec<(String, Relationship)> = g
                .links
                .iter()
                .filter_map(|l| want.users.get_index(l.student).map(|(k, _)| (k.clone(), l.relationship)))
                .collect();
            let got_links: Vec<(String, Relationship)> = got.links.iter().map(|(k, r)| (k.clone(), *r)).collect();
            assert_eq!(got_links, links, "{}", g.name);
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
        for g in want.guardians.values() {
            secrets.extend(g.email.as_deref());
            secrets.extend(g.phone.as_deref());
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
}
