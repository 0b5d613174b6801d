//! Manual contact updates requested by teachers and decided in the Approvals app.
//!
//! Teams keeps these requests in the Approvals app's Dataverse table and offers no export, so
//! the file format is tenet's own: `approvals.csv`, UTF-8 (with or without a byte order mark)
//! or UTF-16 with one, comma-separated, values with commas or quotes in double quotes. The
//! header row names these ten columns, in any order (names compared without regard to case);
//! other columns are listed in the report as not read.
//!
//! | Column | Value |
//! |---|---|
//! | `RequestId` | The request's id (any text, such as the Approvals app's), unique in the file. Required. |
//! | `Teacher` | UPN of the teacher who asked; may be someone no longer in the directory. Required. |
//! | `Student` | UPN of the student whose contact it is. Required. |
//! | `ContactName` | The contact's name. Required. |
//! | `ContactEmail` | The contact's email address; blank if none. |
//! | `ContactPhone` | The contact's mobile number, best in E.164 form (`+`, country code, number); blank if none. |
//! | `Relationship` | `parent`, `guardian`, `relative`, `aide`, `doctor`, `child`, `administrator` or `other`, in any case. Required. |
//! | `Status` | `Pending`, `Approved` or `Rejected`, in any case. Required. |
//! | `SubmittedAt` | When the teacher sent the request: RFC 3339 with an offset, such as `2025-03-14T09:30:00Z` or `2025-03-14T10:30:00+01:00`. Required. |
//! | `DecidedAt` | When an admin approved or rejected it, in the same form, not before `SubmittedAt`. Required for `Approved` and `Rejected`; blank while `Pending`. |
//!
//! A row has as many cells as the header; only cells of `ContactEmail`, `ContactPhone` and
//! `DecidedAt` may be left off the end of a row. What a row does:
//!
//! - `Pending` and `Rejected` rows change nothing (ignored, with the reason). A pending request
//!   of a teacher who has left stays pending: an admin can still approve or reject it.
//! - An `Approved` row adds or replaces a contact of its student. The contact is named as the
//!   Graph reader names related contacts: the student and the email lower-cased, or, without an
//!   email, `<student UPN>/<name slug>`. Replacing sets the contact's name, email, phone and its
//!   relationship to this student (links to other students stay).
//! - Of several approved updates of one contact, the one with the latest `DecidedAt` counts (the
//!   later row on a tie); the others are ignored.
//! - Against a contact School Data Sync or Graph already gave this student, the later change
//!   wins (product decision 12): the update applies if `DecidedAt` is after the last sync
//!   (`sds_synced_at` in `supplement.yaml`); otherwise the synced contact stays. At the same
//!   instant, the sync wins. With no sync time known, the update applies with a warning.
//! - An approved contact of a student who is not in the directory is kept and listed as an
//!   orphaned contact: Teams does not delete contacts with their student.
//!
//! Each row is counted once as used, ignored or rejected. Contact emails and phone numbers are
//! quoted only as personal values, shown with `--show-contacts`.

use super::contact::{check_phone, email_ok};
use super::draft::{GuardianDraft, key};
use super::graph::contact_id;
use super::report::{At, Problem};
use super::text;
use super::{Draft, Found, ImportReport};
use indexmap::IndexMap;
use jiff::Timestamp;
use std::collections::HashMap;
use tenet::unstable::directory::Relationship;

const FORMAT: &str = "Approvals CSV";

const REQUEST_ID: usize = 0;
const TEACHER: usize = 1;
const STUDENT: usize = 2;
const CONTACT_NAME: usize = 3;
const CONTACT_EMAIL: usize = 4;
const CONTACT_PHONE: usize = 5;
const RELATIONSHIP: usize = 6;
const STATUS: usize = 7;
const SUBMITTED_AT: usize = 8;
const DECIDED_AT: usize = 9;

const COLUMNS: [&str; 10] = [
    "RequestId",
    "Teacher",
    "Student",
    "ContactName",
    "ContactEmail",
    "ContactPhone",
    "Relationship",
    "Status",
    "SubmittedAt",
    "DecidedAt",
];

/// Columns every approvals file has: how one is recognised, whatever its name.
pub(super) const REQUIRED_COLUMNS: [&str; 7] =
    ["RequestId", "Teacher", "Student", "ContactName", "Relationship", "Status", "SubmittedAt"];

/// Columns whose cells may be left off the end of a row.
const MAY_BE_LEFT_OFF: [usize; 3] = [CONTACT_EMAIL, CONTACT_PHONE, DECIDED_AT];

const TIME_HELP: &str =
    "write it as RFC 3339 with an offset, such as `2025-03-14T09:30:00Z` or `2025-03-14T10:30:00+01:00`";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Pending,
    Approved,
    Rejected,
}

/// An approved update, held until every row is read. Not `Debug`: it holds contact details.
struct Approved {
    file: String,
    line: usize,
    row: usize,
    request: String,
    student: String,
    name: String,
    email: Option<String>,
    phone: Option<String>,
    relationship: Relationship,
    decided: Timestamp,
    /// Phone warnings, given if the update is applied.
    warnings: Vec<Problem>,
}

pub(super) fn read(files: &[Found], draft: &mut Draft, report: &mut ImportReport) {
    let mut requests = HashMap::new();
    let mut approved = Vec::new();
    for found in files {
        read_file(found, draft, report, &mut requests, &mut approved);
    }
    resolve(approved, draft, report);
    // Approved rows are settled after every row is read: put each file's problems back in
    // line order.
    for found in files {
        report.file(&found.shown, FORMAT).problems.sort_by_key(|p| p.at.line);
    }
}

fn read_file(
    found: &Found,
    draft: &Draft,
    report: &mut ImportReport,
    requests: &mut HashMap<String, String>,
    approved: &mut Vec<Approved>,
) {
    let f = report.file(&found.shown, FORMAT);
    let (input, encoding) = match text::open(&found.path) {
        Ok(opened) => opened,
        Err(e) => {
            f.note(Problem::error(At::file(), format!("can't read the file: {e}")));
            return;
        }
    };
    f.encoding = encoding.to_string();
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(input);
    let mut records = reader.records();
    let header = match records.next() {
        Some(Ok(header)) => header,
        Some(Err(e)) => {
            f.note(Problem::error(At::line(1), format!("can't read the header: {e}")).help(header_help()));
            return;
        }
        None => {
            f.note(Problem::error(At::file(), "the file is empty: it has no header").help(header_help()));
            return;
        }
    };
    // Column → its position in the file.
    let mut at: [Option<usize>; 10] = [None; 10];
    let mut problem = false;
    for (i, name) in header.iter().enumerate() {
        let name = name.trim();
        match COLUMNS.iter().position(|c| c.eq_ignore_ascii_case(name)) {
            Some(c) if at[c].is_some() => {
                f.note(
                    Problem::error(At::cell(1, 0, name), format!("the column `{}` is named twice", COLUMNS[c]))
                        .help("keep one column of each name"),
                );
                problem = true;
            }
            Some(c) => at[c] = Some(i),
            None => {
                f.unknown_properties.insert(name.to_string());
            }
        }
    }
    let missing: Vec<String> =
        COLUMNS.iter().zip(at).filter(|(_, i)| i.is_none()).map(|(c, _)| format!("`{c}`")).collect();
    if !missing.is_empty() {
        f.note(
            Problem::error(
                At::line(1),
                format!("the header lacks the column(s) {}: the file is not read", missing.join(", ")),
            )
            .help(header_help()),
        );
        return;
    }
    if problem {
        return;
    }
    let at = at.map(|i| i.unwrap_or(usize::MAX));
    let mut row = 0;
    for result in records {
        let record = match result {
            Ok(record) => record,
            Err(e) => match e.kind() {
                csv::ErrorKind::Utf8 { pos, .. } => {
                    row += 1;
                    let line = pos.as_ref().map_or(0, |p| p.line() as usize);
                    f.reject(
                        Problem::error(
                            At { line: Some(line), row: Some(row), field: None },
                            "the row is not UTF-8: not read",
                        )
                        .help("save the file as UTF-8: in Excel, \"CSV UTF-8 (Comma delimited)\""),
                    );
                    continue;
                }
                _ => {
                    f.note(Problem::error(At::file(), format!("can't read the rest of the file: {e}")));
                    return;
                }
            },
        };
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        row += 1;
        let line = record.position().map_or(0, |p| p.line() as usize);
        let whole_row = At { line: Some(line), row: Some(row), field: None };
        let short_ok = (record.len()..header.len())
            .all(|i| at.iter().position(|p| *p == i).is_none_or(|c| MAY_BE_LEFT_OFF.contains(&c)));
        if record.len() > header.len() || !short_ok {
            f.reject(
                Problem::error(
                    whole_row,
                    format!("the row has {} cells but the header has {}: not read", record.len(), header.len()),
                )
                .help("put values that contain commas in double quotes, and give every column a cell (blank if empty)"),
            );
            continue;
        }
        let cell = |c: usize| record.get(at[c]).map(str::trim).unwrap_or("");
        let there = |c: usize| At::cell(line, row, COLUMNS[c]);
        let mut errors = Vec::new();
        let mut warnings = Vec::new();

        let request = cell(REQUEST_ID);
        if request.is_empty() {
            errors.push(
                Problem::error(there(REQUEST_ID), "the request has no `RequestId`").help("give every request an id"),
            );
        } else if let Some(first) = requests.get(request) {
            errors.push(
                Problem::error(there(REQUEST_ID), format!("request `{request}` is listed again (first at {first})"))
                    .help("list each request once, with its latest status"),
            );
        } else {
            requests.insert(request.to_string(), format!("{} row {row}", found.shown));
        }
        for c in [TEACHER, STUDENT] {
            let upn = cell(c);
            if upn.is_empty() {
                errors.push(
                    Problem::error(there(c), format!("the request has no `{}`", COLUMNS[c]))
                        .help("give the user's UPN"),
                );
            } else if !upn.contains('@') {
                errors.push(
                    shown(Problem::error(there(c), format!("`{}` is not a UPN", COLUMNS[c])), upn)
                        .help("give the user's UPN, such as `name@school.edu`"),
                );
            }
        }
        let name = cell(CONTACT_NAME);
        if name.is_empty() {
            errors.push(
                Problem::error(there(CONTACT_NAME), "the request has no `ContactName`").help("give the contact's name"),
            );
        }
        let email = Some(cell(CONTACT_EMAIL)).filter(|e| !e.is_empty());
        if let Some(e) = email
            && !email_ok(e)
        {
            errors.push(
                Problem::error(there(CONTACT_EMAIL), "the contact's email address is not of the form name@domain")
                    .personal_value(e)
                    .help("correct the address, or leave the cell blank if the contact has none"),
            );
        }
        let relationship = Relationship::parse(cell(RELATIONSHIP));
        if relationship.is_none() {
            let names: Vec<&str> = Relationship::ALL.iter().map(|r| r.as_str()).collect();
            errors.push(
                shown(Problem::error(there(RELATIONSHIP), "not a relationship tenet knows"), cell(RELATIONSHIP))
                    .help(format!("use one of {}", names.join(", "))),
            );
        }
        let status = match cell(STATUS).to_lowercase().as_str() {
            "pending" => Some(Status::Pending),
            "approved" => Some(Status::Approved),
            "rejected" => Some(Status::Rejected),
            _ => {
                errors.push(
                    shown(Problem::error(there(STATUS), "not a request status"), cell(STATUS))
                        .help("use Pending, Approved or Rejected"),
                );
                None
            }
        };
        let time = |c: usize, errors: &mut Vec<Problem>| -> Option<Timestamp> {
            let text = cell(c);
            if text.is_empty() {
                return None;
            }
            match text.parse::<Timestamp>() {
                Ok(t) => Some(t),
                Err(_) => {
                    errors.push(
                        shown(
                            Problem::error(
                                there(c),
                                format!("`{}` is not an RFC 3339 timestamp with an offset", COLUMNS[c]),
                            ),
                            text,
                        )
                        .help(TIME_HELP),
                    );
                    None
                }
            }
        };
        let submitted = time(SUBMITTED_AT, &mut errors);
        if cell(SUBMITTED_AT).is_empty() {
            errors.push(Problem::error(there(SUBMITTED_AT), "the request has no `SubmittedAt`").help(TIME_HELP));
        }
        let decided = time(DECIDED_AT, &mut errors);
        match status {
            Some(Status::Approved | Status::Rejected) if cell(DECIDED_AT).is_empty() => errors.push(
                Problem::error(there(DECIDED_AT), "a decided request needs `DecidedAt`: when an admin decided it")
                    .help(TIME_HELP),
            ),
            Some(Status::Pending) if decided.is_some() => warnings.push(
                Problem::warning(there(DECIDED_AT), "a pending request has a `DecidedAt`: it is not read")
                    .help("leave `DecidedAt` blank until an admin decides"),
            ),
            _ => {}
        }
        if let (Some(s), Some(d)) = (submitted, decided)
            && d < s
        {
            errors.push(
                Problem::error(
                    there(DECIDED_AT),
                    format!("the request was decided ({d}) before it was submitted ({s})"),
                )
                .help("check both times and their offsets"),
            );
        }

        let mut errors = errors.into_iter();
        if let Some(first) = errors.next() {
            f.reject(first);
            errors.for_each(|e| f.note(e));
            continue;
        }
        let (Some(status), Some(relationship), Some(submitted)) = (status, relationship, submitted) else {
            continue; // Each is an error above.
        };
        match status {
            Status::Pending => {
                let teacher = cell(TEACHER);
                let left = if draft.has_user(teacher) {
                    String::new()
                } else {
                    format!(
                        "; its teacher `{teacher}` is no longer in the directory, but the request stays pending: an admin can still approve or reject it"
                    )
                };
                f.ignore(
                    Problem::warning(
                        there(STATUS),
                        format!("request `{request}` (submitted {submitted}) is pending: nothing changes until an admin approves it{left}"),
                    )
                    .help("a Global or Teams administrator approves or rejects it in the Approvals app"),
                );
                warnings.into_iter().for_each(|w| f.note(w));
            }
            Status::Rejected => {
                let when = decided.map(|d| format!(" at {d}")).unwrap_or_default();
                f.ignore(Problem::warning(
                    there(STATUS),
                    format!("request `{request}` was rejected{when}: it changes nothing"),
                ));
            }
            Status::Approved => {
                let Some(decided) = decided else { continue };
                let phone = Some(cell(CONTACT_PHONE)).filter(|p| !p.is_empty());
                let phone = match phone {
                    Some(p) => {
                        let (kept, warning) = check_phone(p, || there(CONTACT_PHONE));
                        warnings.extend(warning);
                        kept
                    }
                    None => None,
                };
                approved.push(Approved {
                    file: found.shown.clone(),
                    line,
                    row,
                    request: request.to_string(),
                    student: cell(STUDENT).to_string(),
                    name: name.to_string(),
                    email: email.map(str::to_string),
                    phone,
                    relationship,
                    decided,
                    warnings,
                });
            }
        }
    }
}

fn header_help() -> String {
    format!("the first row names the columns {}, in any order", COLUMNS.join(", "))
}

/// Quotes a value read from a cell; one that may be a contact detail in the wrong column is
/// quoted as personal.
fn shown(problem: Problem, value: &str) -> Problem {
    let phone_like =
        value.chars().any(|c| c.is_ascii_digit()) && value.chars().all(|c| c.is_ascii_digit() || " +-.()".contains(c));
    if value.contains('@') || phone_like { problem.personal_value(value) } else { problem.value(value) }
}

/// Settles the approved updates: the latest of each contact, against what was synced.
fn resolve(approved: Vec<Approved>, draft: &mut Draft, report: &mut ImportReport) {
    let mut by_contact: IndexMap<(String, String), Vec<Approved>> = IndexMap::new();
    for a in approved {
        let id = contact_id(&a.student, a.email.as_deref(), &a.name);
        by_contact.entry((key(&a.student), id)).or_default().push(a);
    }
    for ((student, id), mut updates) in by_contact {
        // Stable: on a tie the later row stays last.
        updates.sort_by_key(|a| a.decided);
        let Some(latest) = updates.pop() else { continue };
        for a in updates {
            report.file(&a.file, FORMAT).ignore(Problem::warning(
                At::cell(a.line, a.row, COLUMNS[DECIDED_AT]),
                format!(
                    "request `{}` is superseded by request `{}`, approved later ({}) for the same contact",
                    a.request, latest.request, latest.decided
                ),
            ));
        }
        apply(latest, &student, &id, draft, report);
    }
}

fn apply(a: Approved, student: &str, id: &str, draft: &mut Draft, report: &mut ImportReport) {
    let f = report.file(&a.file, FORMAT);
    let there = |c: usize| At::cell(a.line, a.row, COLUMNS[c]);
    let contact = GuardianDraft {
        id: id.to_string(),
        name: a.name.clone(),
        email: a.email,
        phone: a.phone,
        on_teams: false,
        links: [(student.to_string(), a.relationship)].into_iter().collect(),
        origin: format!("{} row {} (request `{}`)", a.file, a.row, a.request),
        sources: vec!["approvals.csv"],
    };
    // The synced record of this contact, whatever id its source gave it.
    let id = &draft.same_guardian(&contact).unwrap_or_else(|| id.to_string());
    if !draft.has_user(student) {
        draft.orphaned_contacts.push(contact);
        f.use_with(
            Problem::warning(
                there(STUDENT),
                format!(
                    "request `{}` approved a contact of `{}`, who is not in the directory: kept and listed as an orphaned contact (Teams does not delete contacts with their student)",
                    a.request, a.student
                ),
            )
            .help("if the family should no longer be reachable, delete the contact in Dataverse: make.powerapps.com > Tables > Approval, filter Partner Id Hash by the student's object id"),
        );
        a.warnings.into_iter().for_each(|w| f.note(w));
        return;
    }
    let synced = draft.guardians.get(id).is_some_and(|g| g.links.contains_key(student));
    let mut caveat = None;
    let mut overlap = None;
    if synced {
        match draft.sds_synced_at {
            Some(sync) if a.decided <= sync => {
                f.ignore(
                    Problem::warning(
                        there(DECIDED_AT),
                        format!(
                            "request `{}` was approved at {}, before School Data Sync last synced at {sync}: the synced contact stays (the latest change wins)",
                            a.request, a.decided
                        ),
                    )
                    .help("if the approved details are right, correct them in the student information system so the next sync carries them"),
                );
                return;
            }
            Some(sync) => {
                overlap = Some(format!(
                    "request `{}` ({} row {}) updates {}'s synced contact: approved at {}, after School Data Sync last synced at {sync}, so the approved details win (the latest change wins)",
                    a.request, a.file, a.row, a.name, a.decided
                ));
            }
            None => {
                caveat = Some(
                    Problem::warning(
                        there(DECIDED_AT),
                        format!(
                            "request `{}` replaces a synced contact, but when School Data Sync last synced is unknown, so which change is later can't be told: the approval is applied",
                            a.request
                        ),
                    )
                    .help("set `sds_synced_at` in supplement.yaml to the time of the last sync (RFC 3339), so the latest change wins"),
                );
            }
        }
    }
    match draft.guardians.get_mut(id) {
        Some(known) => {
            known.name = contact.name;
            known.email = contact.email;
            known.phone = contact.phone;
            known.links.insert(student.to_string(), a.relationship);
        }
        None => {
            draft.guardians.insert(id.to_string(), contact);
        }
    }
    match caveat {
        Some(w) => f.use_with(w),
        None => f.use_one(),
    }
    a.warnings.into_iter().for_each(|w| f.note(w));
    report.overlaps.extend(overlap);
}

#[cfg(test)]
mod tests {
    use super::super::report::{FileReport, Severity};
    use super::super::{Kind, graph};
    use super::*;
    use std::path::PathBuf;

    fn fixtures(dir: &str) -> PathBuf {
        crate::repo().join("tests/fixtures/exports").join(dir)
    }

    fn found(path: PathBuf, kind: Kind) -> Vec<Found> {
        let shown = path.file_name().unwrap().to_string_lossy().into_owned();
        vec![Found { path, shown, kind }]
    }

    fn csv_file(test: &str, text: &str) -> Vec<Found> {
        let dir = std::env::temp_dir().join(format!("tenet-approvals-{test}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("approvals.csv");
        std::fs::write(&path, text).unwrap();
        found(path, Kind::Approvals)
    }

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    /// The approvals scenario's directory: its groups and synced contacts, synced at `sync`.
    fn scenario(sync: Option<&str>) -> (Draft, ImportReport) {
        let mut draft = Draft::default();
        let mut report = ImportReport::default();
        let dir = fixtures("approvals");
        graph::read_groups(&found(dir.join("graph/groups.json"), Kind::GraphGroups), &mut draft, &mut report);
        graph::read_related_contacts(
            &found(dir.join("graph-contacts/educationUsers.json"), Kind::GraphRelatedContacts),
            &mut draft,
            &mut report,
        );
        assert!(!report.has_errors(), "{}", report.render(false));
        draft.sds_synced_at = sync.map(t);
        (draft, report)
    }

    fn approvals(report: &ImportReport) -> &FileReport {
        report.files.iter().find(|f| f.format == FORMAT).unwrap()
    }

    fn problem<'r>(f: &'r FileReport, text: &str) -> &'r Problem {
        f.problems.iter().find(|p| p.message.contains(text)).unwrap_or_else(|| panic!("no problem with {text:?}"))
    }

    fn no_contact_details(report: &ImportReport) {
        let text = report.render(false);
        assert!(!text.contains("@example."), "{text}");
        assert!(!text.contains("555"), "{text}");
    }

    #[test]
    fn the_scenario_follows_every_rule() {
        let (mut draft, mut report) = scenario(Some("2025-03-01T06:00:00Z"));
        read(&found(fixtures("approvals/approvals.csv"), Kind::Approvals), &mut draft, &mut report);
        let f = approvals(&report);
        let text = report.render(false);
        assert_eq!((f.read, f.used, f.ignored, f.rejected), (6, 2, 4, 0), "{text}");
        assert_eq!(f.encoding, "UTF-8");
        no_contact_details(&report);

        // REQ-1002, approved after the sync, replaces Maria Kim's phone; REQ-1001 is superseded.
        let maria = &draft.guardians["maria.kim@example.com"];
        assert_eq!(maria.phone.as_deref(), Some("+12065550105"));
        let superseded = problem(f, "`REQ-1001` is superseded by request `REQ-1002`");
        assert_eq!(superseded.at, At::cell(2, 1, "DecidedAt"));

        // REQ-1003, approved before the sync: the synced contact stays.
        assert_eq!(draft.guardians["linda.brooks@example.com"].phone, None);
        let older = problem(f, "`REQ-1003` was approved at 2025-02-25T08:00:00Z, before School Data Sync");
        assert_eq!(older.severity, Severity::Warning);

        // REQ-1004: pending, its teacher gone; it stays pending and adds nobody.
        let pending = problem(f, "`REQ-1004`");
        assert!(pending.message.contains("`former.teacher@lakeside.edu` is no longer in the directory"), "{text}");
        assert!(pending.message.contains("stays pending"));
        assert!(!draft.guardians.contains_key("minjun.kim@example.org"));

        // REQ-1005: rejected.
        assert!(problem(f, "`REQ-1005` was rejected").at == At::cell(6, 5, "Status"));
        assert!(!draft.guardians.contains_key("rob.brooks@example.org"));

        // REQ-1006: a deleted student's approved contact is kept, listed.
        assert_eq!(draft.orphaned_contacts.len(), 1);
        let orphan = &draft.orphaned_contacts[0];
        assert_eq!(orphan.links.keys().collect::<Vec<_>>(), ["jordan.lee@lakeside.edu"]);
        assert_eq!(orphan.email.as_deref(), Some("casey.lee@example.com"));
        assert!(problem(f, "`REQ-1006`").message.contains("orphaned"));
        assert_eq!(draft.guardians.len(), 2);

        // Problems are in line order.
        let lines: Vec<usize> = f.problems.iter().filter_map(|p| p.at.line).collect();
        assert!(lines.windows(2).all(|w| w[0] <= w[1]), "{lines:?}");
    }

    #[test]
    fn without_a_sync_time_approvals_apply_with_a_warning() {
        let (mut draft, mut report) = scenario(None);
        read(&found(fixtures("approvals/approvals.csv"), Kind::Approvals), &mut draft, &mut report);
        let f = approvals(&report);
        assert_eq!((f.used, f.ignored), (3, 3), "{}", report.render(false));
        assert_eq!(draft.guardians["linda.brooks@example.com"].phone.as_deref(), Some("+14255550148"));
        let w = problem(f, "`REQ-1003` replaces a synced contact");
        assert!(w.help.contains("sds_synced_at") && w.help.contains("supplement.yaml"));
        // REQ-1002 replaced Maria Kim's record too, with the same caveat.
        assert!(problem(f, "`REQ-1002` replaces a synced contact").severity == Severity::Warning);
    }

    const HEADER: &str =
        "RequestId,Teacher,Student,ContactName,ContactEmail,ContactPhone,Relationship,Status,SubmittedAt,DecidedAt\n";

    #[test]
    fn the_latest_approval_of_a_contact_wins() {
        let rows = "\
R3,t@x.edu,s@x.edu,Pat Doe,pat@example.com,+14255550103,guardian,approved,2025-01-02T00:00:00Z,2025-01-05T00:00:00Z
R1,t@x.edu,s@x.edu,Pat Doe,PAT@example.com,+14255550101,parent,APPROVED,2025-01-02T00:00:00Z,2025-01-09T00:00:00+01:00
R2,t@x.edu,s@x.edu,Pat Doe,pat@example.com,+14255550102,parent,Approved,2025-01-02T00:00:00Z,2025-01-03T00:00:00Z
";
        let mut draft = Draft::default();
        draft.user_mut("s@x.edu");
        let mut report = ImportReport::default();
        read(&csv_file("latest", &format!("{HEADER}{rows}")), &mut draft, &mut report);
        let f = approvals(&report);
        assert_eq!((f.used, f.ignored), (1, 2), "{}", report.render(false));
        let pat = &draft.guardians["pat@example.com"];
        assert_eq!((pat.phone.as_deref(), pat.links["s@x.edu"]), (Some("+14255550101"), Relationship::Parent));
        assert!(problem(f, "`R3` is superseded by request `R1`").at.row == Some(1));
        no_contact_details(&report);
    }

    #[test]
    fn a_bad_status_is_rejected_with_the_valid_ones() {
        let mut report = ImportReport::default();
        read(
            &found(fixtures("errors/approvals-bad-status/approvals.csv"), Kind::Approvals),
            &mut Draft::default(),
            &mut report,
        );
        let f = approvals(&report);
        assert_eq!((f.read, f.rejected), (2, 1), "{}", report.render(false));
        let e = f.problems.iter().find(|p| p.severity == Severity::Error).unwrap();
        assert_eq!(e.at, At::cell(3, 2, "Status"));
        assert!(e.help.contains("Pending, Approved or Rejected"));
        assert_eq!(e.value.as_ref().map(|v| (v.text.as_str(), v.personal)), Some(("Accepted", false)));
        no_contact_details(&report);
        let fixture = std::fs::read_to_string(fixtures("errors/approvals-bad-status/approvals.csv")).unwrap();
        assert!(fixture.contains("555") && fixture.contains("@example."), "the file has details to hide");
    }

    #[test]
    fn bad_timestamps_are_rejected_with_the_form() {
        let mut report = ImportReport::default();
        read(
            &found(fixtures("errors/approvals-bad-timestamp/approvals.csv"), Kind::Approvals),
            &mut Draft::default(),
            &mut report,
        );
        let f = approvals(&report);
        assert_eq!((f.read, f.rejected), (2, 2), "{}", report.render(false));
        let errors: Vec<&Problem> = f.problems.iter().filter(|p| p.severity == Severity::Error).collect();
        assert_eq!(errors[0].at, At::cell(2, 1, "SubmittedAt"));
        assert_eq!(errors[1].at, At::cell(3, 2, "DecidedAt"));
        assert!(errors.iter().all(|e| e.help.contains("RFC 3339")));
        no_contact_details(&report);
    }

    #[test]
    fn broken_rows_and_headers() {
        let rows = "\
R1,t@x.edu,s@x.edu,Pat Doe,pat@example.com,,parent,Approved,2025-01-05T00:00:00Z,2025-01-04T00:00:00Z
R1,t@x.edu,s@x.edu,Pat Doe,pat@example.com,,parent,Rejected,2025-01-05T00:00:00Z,2025-01-06T00:00:00Z
R2,t@x.edu,s@x.edu,Kim, Lee,kim@example.com,,parent,Pending,2025-01-05T00:00:00Z,
R3,t@x.edu,s@x.edu,Lee Kim,lee@example,,parent,Approved,2025-01-05T00:00:00Z

R4,t@x.edu,s@x.edu,Lee Kim,,+14255550199,parent,Pending,2025-01-05T00:00:00Z
R5,t@x.edu,s@x.edu,Lee Kim,,,parent,Pending,2025-01-05T00:00:00Z,2025-01-06T00:00:00Z
";
        let mut draft = Draft::default();
        draft.user_mut("t@x.edu");
        let mut report = ImportReport::default();
        read(&csv_file("broken", &format!("{HEADER}{rows}")), &mut draft, &mut report);
        let f = approvals(&report);
        let text = report.render(false);
        assert_eq!((f.read, f.used, f.ignored, f.rejected), (6, 0, 2, 4), "{text}");
        assert!(problem(f, "decided (2025-01-04T00:00:00Z) before it was submitted").at.row == Some(1));
        assert!(problem(f, "`R1` is listed again (first at approvals.csv row 1)").at == At::cell(3, 2, "RequestId"));
        assert!(problem(f, "11 cells but the header has 10").help.contains("double quotes"));
        // A row may stop before DecidedAt, but not before Status.
        assert_eq!(problem(f, "email address").at, At::cell(5, 4, "ContactEmail"));
        assert!(text.contains("`R4`") && !text.contains("no longer in the directory"), "{text}");
        assert!(problem(f, "a pending request has a `DecidedAt`").severity == Severity::Warning);
        no_contact_details(&report);

        let mut report = ImportReport::default();
        read(
            &csv_file("header", "RequestId,Teacher,Student,Status,Notes\nR1,t@x.edu,s@x.edu,Approved,x\n"),
            &mut draft,
            &mut report,
        );
        let f = approvals(&report);
        assert_eq!(f.read, 0);
        let e = &f.problems[0];
        assert_eq!((e.severity, e.at.line), (Severity::Error, Some(1)));
        assert!(e.message.contains("`ContactName`") && e.message.contains("`DecidedAt`"), "{}", e.message);
        assert!(f.unknown_properties.contains("Notes"));
    }
}
