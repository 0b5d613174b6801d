//! SDS v1 (Classic): teachers, students, sections, rosters and the parent contact files.

use super::*;

// ------------------------------------------------------------------------------------------
// SDS v1 users, sections, rosters

pub(super) fn v1_teacher(st: &mut State, draft: &mut Draft, r: &Row<'_>, f: &mut FileReport) {
    v1_person(st, draft, r, f, "teacher");
}

pub(super) fn v1_student(st: &mut State, draft: &mut Draft, r: &Row<'_>, f: &mut FileReport) {
    v1_person(st, draft, r, f, "student");
}

pub(super) fn v1_person(st: &mut State, draft: &mut Draft, r: &Row<'_>, f: &mut FileReport, role: &str) {
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

pub(super) fn v1_section(st: &mut State, draft: &mut Draft, r: &Row<'_>, f: &mut FileReport) {
    let warnings: Vec<Problem> = unknown_school(st, r, "School SIS ID").into_iter().collect();
    class_row(st, draft, r, f, ClassColumns::V1, warnings);
}

pub(super) fn v1_owner(st: &mut State, draft: &mut Draft, r: &Row<'_>, f: &mut FileReport) {
    v1_roster(st, draft, r, f, true);
}

pub(super) fn v1_enrolled(st: &mut State, draft: &mut Draft, r: &Row<'_>, f: &mut FileReport) {
    v1_roster(st, draft, r, f, false);
}

pub(super) fn v1_roster(st: &mut State, draft: &mut Draft, r: &Row<'_>, f: &mut FileReport, owners: bool) {
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

pub(super) fn v1_contact(st: &mut State, _draft: &mut Draft, r: &Row<'_>, f: &mut FileReport) {
    let email = r.get("Email");
    let sis = r.get("SIS ID");
    if !email.is_empty() && !email_ok(email) {
        st.v1_rejected.insert(tenet::unstable::directory::key(email));
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
    let lower = tenet::unstable::directory::key(email);
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

pub(super) fn v1_link(st: &mut State, draft: &mut Draft, r: &Row<'_>, f: &mut FileReport) {
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
    let found = if who.contains('@') {
        st.v1_emails.get(&tenet::unstable::directory::key(who))
    } else {
        st.v1_sis_only.get(who)
    };
    let Some(contact) = found.copied() else {
        let message = if st.v1_rejected.contains(&tenet::unstable::directory::key(who)) || st.v1_rejected.contains(who)
        {
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
