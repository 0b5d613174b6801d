//! SDS v2.1: users, roles, classes, enrollments and parent contacts (relationships.csv).

use super::*;

// ------------------------------------------------------------------------------------------
// SDS v2.1 users, roles, classes, enrollments

pub(super) fn v2_user(st: &mut State, draft: &mut Draft, r: &Row<'_>, f: &mut FileReport) {
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
pub(super) fn v2_contact(st: &mut State, r: &Row<'_>, f: &mut FileReport) {
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
pub(super) fn missing_user(st: &State, id: &str, what: &str) -> String {
    if st.v2_rejected.contains(id) {
        format!("this {what}'s row in users.csv was rejected (see the errors of users.csv)")
    } else if matches!(st.v2_users.get(id), Some(V2User::Ignored(_))) {
        format!("this {what}'s row in users.csv was not used (see the warnings of users.csv)")
    } else {
        format!("no {what} in users.csv has this sourcedId")
    }
}

pub(super) fn v2_role(st: &mut State, draft: &mut Draft, r: &Row<'_>, f: &mut FileReport) {
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

pub(super) fn v2_class(st: &mut State, draft: &mut Draft, r: &Row<'_>, f: &mut FileReport) {
    let warnings: Vec<Problem> = unknown_org(st, r, "orgSourcedId").into_iter().collect();
    class_row(st, draft, r, f, ClassColumns::V21, warnings);
}

pub(super) fn v2_enrollment(st: &mut State, draft: &mut Draft, r: &Row<'_>, f: &mut FileReport) {
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

pub(super) fn v2_link(st: &mut State, draft: &mut Draft, r: &Row<'_>, f: &mut FileReport) {
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
