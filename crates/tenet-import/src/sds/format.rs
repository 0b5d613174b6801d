//! School Data Sync file kinds: which files each version has, their columns, and the role lists.

use super::*;

// ------------------------------------------------------------------------------------------
// File kinds

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Version {
    V1,
    V21,
}

impl Version {
    pub(super) fn label(self) -> &'static str {
        match self {
            Version::V1 => "SDS v1",
            Version::V21 => "SDS v2.1",
        }
    }
}

/// What a file holds, in reading order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Part {
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
pub(super) struct Spec {
    pub(super) part: Part,
    pub(super) version: Version,
    /// The file's name in the format.
    pub(super) name: &'static str,
    /// Columns the header must have.
    pub(super) required: &'static [&'static str],
    /// Other columns tenet reads.
    pub(super) optional: &'static [&'static str],
    /// Columns every row must fill.
    pub(super) filled: &'static [&'static str],
    /// What one row is, for messages.
    pub(super) row: &'static str,
}

pub(super) const fn spec(
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

pub(super) use Version::{V1, V21};

pub(super) const SCHOOL: Spec = spec(Part::School, V1, "school.csv", &["SIS ID", "Name"], &[], &["SIS ID"], "school");
pub(super) const TEACHER: Spec = spec(
    Part::Teacher,
    V1,
    "teacher.csv",
    &["SIS ID", "School SIS ID", "Username"],
    &["First Name", "Last Name"],
    &["SIS ID", "School SIS ID", "Username"],
    "teacher",
);
pub(super) const STUDENT: Spec = spec(
    Part::Student,
    V1,
    "student.csv",
    &["SIS ID", "School SIS ID", "Username"],
    &["First Name", "Last Name"],
    &["SIS ID", "School SIS ID", "Username"],
    "student",
);
pub(super) const SECTION: Spec = spec(
    Part::Section,
    V1,
    "section.csv",
    &["SIS ID", "School SIS ID", "Section Name"],
    &[],
    &["SIS ID", "School SIS ID", "Section Name"],
    "section",
);
pub(super) const TEACHER_ROSTER: Spec = spec(
    Part::TeacherRoster,
    V1,
    "teacherroster.csv",
    &["Section SIS ID", "SIS ID"],
    &[],
    &["Section SIS ID", "SIS ID"],
    "teacher roster entry",
);
pub(super) const STUDENT_ENROLLMENT: Spec = spec(
    Part::StudentEnrollment,
    V1,
    "studentenrollment.csv",
    &["Section SIS ID", "SIS ID"],
    &[],
    &["Section SIS ID", "SIS ID"],
    "student enrollment",
);
pub(super) const GUARDIAN_USER: Spec = spec(
    Part::GuardianUser,
    V1,
    "user.csv",
    &["Email", "First Name", "Last Name", "Phone", "SIS ID"],
    &[],
    &[],
    "parent contact",
);
pub(super) const GUARDIAN_RELATIONSHIP: Spec = spec(
    Part::GuardianRelationship,
    V1,
    "guardianrelationship.csv",
    &["SIS ID", "Email", "Role"],
    &[],
    &["SIS ID", "Email"],
    "guardian relationship",
);
pub(super) const ORGS: Spec =
    spec(Part::Orgs, V21, "orgs.csv", &["sourcedId", "name", "type"], &[], &["sourcedId"], "org");
pub(super) const USERS: Spec = spec(
    Part::Users,
    V21,
    "users.csv",
    &["sourcedId", "username"],
    &["givenName", "familyName", "email", "phone", "sms"],
    &["sourcedId", "username"],
    "user",
);
pub(super) const ROLES: Spec = spec(
    Part::Roles,
    V21,
    "roles.csv",
    &["userSourcedId", "orgSourcedId", "role"],
    &[],
    &["userSourcedId", "orgSourcedId", "role"],
    "role",
);
pub(super) const CLASSES: Spec = spec(
    Part::Classes,
    V21,
    "classes.csv",
    &["sourcedId", "orgSourcedId", "title"],
    &[],
    &["sourcedId", "orgSourcedId", "title"],
    "class",
);
pub(super) const ENROLLMENTS: Spec = spec(
    Part::Enrollments,
    V21,
    "enrollments.csv",
    &["classSourcedId", "userSourcedId", "role"],
    &[],
    &["classSourcedId", "userSourcedId", "role"],
    "enrollment",
);
pub(super) const RELATIONSHIPS: Spec = spec(
    Part::Relationships,
    V21,
    "relationships.csv",
    &["userSourcedId", "relationshipUserSourcedId", "relationshipRole"],
    &[],
    &["userSourcedId", "relationshipUserSourcedId", "relationshipRole"],
    "relationship",
);
pub(super) const ACADEMIC_SESSIONS: Spec =
    spec(Part::Unused, V21, "academicSessions.csv", &[], &[], &[], "academic session");
pub(super) const COURSES: Spec = spec(Part::Unused, V21, "courses.csv", &[], &[], &[], "course");
pub(super) const DEMOGRAPHICS: Spec = spec(Part::Unused, V21, "demographics.csv", &[], &[], &[], "demographics entry");
pub(super) const USER_FLAGS: Spec = spec(Part::Unused, V21, "userFlags.csv", &[], &[], &[], "user flag");

/// The kind of a file: as recognised by its content (see [`recognise`]), else by its name and,
/// for the two names both formats use, its header.
pub(super) fn spec_for(found: &Found) -> Option<&'static Spec> {
    if let super::super::Kind::Sds(name) = found.kind
        && let Some(spec) = spec_named(name)
    {
        return Some(spec);
    }
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
pub(super) fn header_has(found: &Found, names: &[&str]) -> bool {
    let Ok((mut rdr, _)) = open_csv(found) else { return false };
    let mut record = ByteRecord::new();
    matches!(rdr.read_byte_record(&mut record), Ok(true))
        && record.iter().any(|h| names.contains(&String::from_utf8_lossy(h).trim().to_lowercase().as_str()))
}

/// `SDS v1 teacher.csv`; `SDS v2.1 users.csv (named User.csv)` when the name differs.
pub(super) fn format_of(spec: &Spec, found: &Found) -> String {
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
pub(super) enum Group {
    Staff,
    Student,
    None,
}

/// `role` values of roles.csv (and enrollments.csv) with their default role group: Microsoft's
/// "Default List of Values", Organization user roles. Matched without regard to case.
pub(super) const V21_ROLES: &[(&str, Group)] = &[
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

pub(super) fn v21_role(text: &str) -> Option<(&'static str, Group)> {
    V21_ROLES.iter().copied().find(|(name, _)| name.eq_ignore_ascii_case(text.trim()))
}

pub(super) fn v21_roles_help() -> String {
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

pub(super) fn v1_roles_help() -> String {
    let names: Vec<String> = Relationship::ALL
        .iter()
        .map(|r| {
            let s = r.as_str();
            s.get(..1).map(str::to_uppercase).unwrap_or_default() + s.get(1..).unwrap_or_default()
        })
        .collect();
    format!("use one of the SDS v1 roles: {} (the Parents app accepts only Parent and Guardian)", names.join(", "))
}

pub(super) fn v21_relationship_help() -> String {
    let names: Vec<&str> = Relationship::ALL.iter().map(|r| r.as_str()).collect();
    format!("use one of: {} (the Parents app accepts only parent and guardian)", names.join(", "))
}

// ------------------------------------------------------------------------------------------
// Recognising a file by its header

/// Every School Data Sync file kind.
const ALL: [&Spec; 18] = [
    &SCHOOL,
    &TEACHER,
    &STUDENT,
    &SECTION,
    &TEACHER_ROSTER,
    &STUDENT_ENROLLMENT,
    &GUARDIAN_USER,
    &GUARDIAN_RELATIONSHIP,
    &ORGS,
    &USERS,
    &ROLES,
    &CLASSES,
    &ENROLLMENTS,
    &RELATIONSHIPS,
    &ACADEMIC_SESSIONS,
    &COURSES,
    &DEMOGRAPHICS,
    &USER_FLAGS,
];

/// What identifies a kind by its header: the columns it must have (its required columns, or for
/// the files only counted, the columns Microsoft's format always has), columns that only it has
/// among look-alikes, and the words of its name that break a tie.
fn signature(spec: &Spec) -> (&'static [&'static str], &'static [&'static str], &'static [&'static str]) {
    let required = match spec.name {
        "academicSessions.csv" => &["sourcedId", "title", "type", "schoolYear"][..],
        "courses.csv" => &["sourcedId", "orgSourcedId", "title"][..],
        "demographics.csv" => &["userSourcedId", "birthDate"][..],
        "userFlags.csv" => &["userSourcedId", "flag"][..],
        _ => spec.required,
    };
    let (marks, words): (&[&str], &[&str]) = match spec.name {
        "teacher.csv" => (&["Teacher Number", "Title", "Qualification"], &["teacher"]),
        "student.csv" => (&["Student Number", "Grade", "Date of Birth", "Graduation Year"], &["student"]),
        // `roster` alone says nothing: a "class roster" may list the students.
        "teacherroster.csv" => (&[], &["teacher"]),
        "studentenrollment.csv" => (&[], &["student", "enrol"]),
        "classes.csv" => (&["courseSourcedId", "sessionSourcedIds", "periods"], &["class"]),
        "courses.csv" => (&["schoolYearSourcedId", "subject", "subjects"], &["course"]),
        _ => (&[], &[]),
    };
    (required, marks, words)
}

/// How a CSV header was recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Recognised {
    /// The kind, by its file name in the format (`users.csv`, `user.csv`…).
    Kind(&'static str),
    /// No School Data Sync kind has this header.
    None,
    /// Several kinds fit and the file's name doesn't say which: their names.
    Ambiguous(Vec<&'static str>),
}

/// The School Data Sync kind a CSV header belongs to. Columns match without regard to case
/// (the reader reports a v2.1 header whose case is wrong); a header missing some required
/// columns still counts if it has at least half of them, so the reader can name the missing
/// ones. Among kinds that fit equally, columns only one of them has decide, then the words of
/// the file's `name` (lower-case letters and digits only).
pub(crate) fn recognise(header: &[String], name: &str) -> Recognised {
    let has = |column: &str| header.iter().any(|h| h.trim().eq_ignore_ascii_case(column));
    // Fewest required columns missing, then the most specific kind, then the most of its own
    // columns present.
    let mut best = None;
    let mut fits: Vec<&'static Spec> = Vec::new();
    for spec in ALL {
        let (required, marks, _) = signature(spec);
        let present = required.iter().filter(|c| has(c)).count();
        let missing = required.len() - present;
        if present == 0 || (missing > 0 && (present < 2 || present * 2 < required.len())) {
            continue;
        }
        let extra = marks.iter().chain(spec.optional).filter(|c| has(c)).count();
        let key = (missing, std::cmp::Reverse(required.len()), std::cmp::Reverse(extra));
        if best.is_none_or(|b| key < b) {
            best = Some(key);
            fits.clear();
        }
        if best == Some(key) {
            fits.push(spec);
        }
    }
    match fits.as_slice() {
        [] => Recognised::None,
        [one] => Recognised::Kind(one.name),
        several => {
            let named: Vec<&Spec> =
                several.iter().copied().filter(|s| signature(s).2.iter().any(|w| name.contains(w))).collect();
            let names: Vec<&'static str> = several.iter().map(|s| s.name).collect();
            match named.as_slice() {
                [one] => Recognised::Kind(one.name),
                // courses.csv is only counted, and Microsoft's minimal classes.csv has just the
                // columns both share: a file that doesn't say is the one that matters.
                _ if names == ["classes.csv", "courses.csv"] => Recognised::Kind("classes.csv"),
                _ => Recognised::Ambiguous(names),
            }
        }
    }
}

/// The kind named `name` (as [`Recognised::Kind`] gives it).
pub(super) fn spec_named(name: &str) -> Option<&'static Spec> {
    ALL.into_iter().find(|s| s.name == name)
}

/// The kind whose file name's stem, lower-cased, is `stem`.
pub(super) fn spec_named_by_stem(stem: &str) -> Option<&'static Spec> {
    ALL.into_iter().find(|s| s.name.strip_suffix(".csv").is_some_and(|n| n.eq_ignore_ascii_case(stem)))
}
