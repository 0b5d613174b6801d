//! Writing an imported tenant as a policy file and a directory file that `tenet check` accepts.

use super::draft::{Draft, Literal, Values};
use crate::directory::Relationship;
use serde::Serialize;
use std::fmt::Write as _;

/// The policy file: tenant configuration, instances and assignments.
pub fn tenant_file(draft: &Draft, header: &str) -> String {
    let t = &draft.tenant;
    let mut out = String::new();
    for line in header.lines() {
        let _ = writeln!(out, "// {line}");
    }
    if !t.configs.is_empty() {
        out.push_str("\n// Tenant configuration\n");
        for (config, values) in &t.configs {
            let _ = writeln!(out, "tenant {config} {{{}}}", block(values));
        }
    }
    for (ty, instances) in &t.instances {
        let _ = writeln!(out, "\n// {ty}");
        for (name, values) in instances {
            let _ = writeln!(out, "policy {ty} {} {{{}}}", string(&identity(name)), block(values));
        }
    }
    if !t.groups.is_empty() {
        out.push_str("\n// Group assignments\n");
        for a in &t.groups {
            let rank = a.rank.map(|r| format!(" rank {r}")).unwrap_or_default();
            let _ =
                writeln!(out, "assign {} {} to group {}{rank}", a.policy_type, string(&a.instance), string(&a.group));
        }
    }
    if !t.direct.is_empty() {
        out.push_str("\n// Direct assignments\n");
        for a in &t.direct {
            let _ = writeln!(out, "assign {} {} to user {}", a.policy_type, string(&a.instance), string(&a.upn));
        }
    }
    out
}

fn identity(name: &str) -> String {
    if name.eq_ignore_ascii_case("Global") { "Global".into() } else { format!("Tag:{name}") }
}

fn block(values: &Values) -> String {
    if values.is_empty() {
        return String::new();
    }
    let mut out = String::from("\n");
    for (setting, value) in values {
        let _ = writeln!(out, "    {setting} = {}", literal(value));
    }
    out
}

fn literal(value: &Literal) -> String {
    match value {
        Literal::Bool(b) => b.to_string(),
        Literal::Int(i) => i.to_string(),
        Literal::Str(s) => string(s),
        Literal::Enum(e) => e.clone(),
        Literal::Set(items) => format!("[{}]", items.iter().map(|s| string(s)).collect::<Vec<_>>().join(", ")),
    }
}

/// A string literal of the policy language.
pub fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '{' => out.push_str("\\{"),
            '}' => out.push_str("\\}"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

// ------------------------------------------------------------------------------------------
// The directory, in the shape `directory::load` reads.

#[derive(Serialize)]
struct YamlDirectory<'a> {
    users: Vec<YamlUser<'a>>,
    groups: Vec<YamlGroup<'a>>,
    class_teams: Vec<YamlClass<'a>>,
    guardians: Vec<YamlGuardian<'a>>,
}

#[derive(Serialize)]
struct YamlUser<'a> {
    upn: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    roles: Vec<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    licenses: Vec<&'a str>,
    #[serde(skip_serializing_if = "is_true")]
    enabled: bool,
    #[serde(skip_serializing_if = "is_zero")]
    invites_sent: u32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    blocked_guardians: Vec<&'a str>,
}

#[derive(Serialize)]
struct YamlGroup<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    members: Vec<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    hidden_membership: bool,
}

#[derive(Serialize)]
struct YamlClass<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    owners: Vec<&'a str>,
    students: Vec<&'a str>,
}

#[derive(Serialize)]
struct YamlGuardian<'a> {
    /// Written only when the id is not the email (the directory derives it from the email).
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    on_teams: bool,
    students: Vec<YamlLink<'a>>,
}

#[derive(Serialize)]
struct YamlLink<'a> {
    upn: &'a str,
    relationship: &'static str,
}

fn is_true(b: &bool) -> bool {
    *b
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// The directory file. Members, owners and students are written as their users' UPNs.
pub fn directory_file(draft: &Draft, header: &str) -> Result<String, serde_yaml::Error> {
    fn upn<'a>(draft: &'a Draft, key: &'a str) -> &'a str {
        draft.users.get(key).map_or(key, |u| u.upn.as_str())
    }
    let doc = YamlDirectory {
        users: draft
            .users
            .values()
            .map(|u| YamlUser {
                upn: &u.upn,
                name: u.name.as_deref(),
                roles: u.roles.iter().map(String::as_str).collect(),
                licenses: u.licenses.iter().map(String::as_str).collect(),
                enabled: u.enabled.unwrap_or(true),
                invites_sent: u.invites_sent.unwrap_or(0),
                blocked_guardians: u.blocked_guardians.iter().map(String::as_str).collect(),
            })
            .collect(),
        groups: draft
            .groups
            .values()
            .map(|g| YamlGroup {
                id: &g.id,
                name: g.name.as_deref(),
                members: g.members.iter().map(|m| upn(draft, m)).collect(),
                hidden_membership: g.hidden_membership,
            })
            .collect(),
        class_teams: draft
            .classes
            .values()
            .map(|c| YamlClass {
                id: &c.id,
                name: c.name.as_deref(),
                owners: c.owners.iter().map(|m| upn(draft, m)).collect(),
                students: c.students.iter().map(|m| upn(draft, m)).collect(),
            })
            .collect(),
        guardians: draft
            .guardians
            .values()
            .map(|g| {
                let derived = g.email.as_deref().map(|e| e.trim().to_lowercase());
                YamlGuardian {
                    id: (derived.as_deref() != Some(g.id.as_str())).then_some(g.id.as_str()),
                    name: &g.name,
                    email: g.email.as_deref(),
                    phone: g.phone.as_deref(),
                    on_teams: g.on_teams,
                    students: g
                        .links
                        .iter()
                        .map(|(s, r)| YamlLink { upn: upn(draft, s), relationship: rel(*r) })
                        .collect(),
                }
            })
            .collect(),
    };
    let mut out = String::new();
    for line in header.lines() {
        let _ = writeln!(out, "# {line}");
    }
    out.push_str(&serde_yaml::to_string(&doc)?);
    Ok(out)
}

fn rel(r: Relationship) -> &'static str {
    r.as_str()
}

#[derive(Serialize)]
struct YamlOrphan<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone: Option<&'a str>,
    /// The students (no longer in the directory) the contact was approved for.
    students: Vec<YamlLink<'a>>,
    /// Where the contact was read.
    origin: &'a str,
}

/// Approved contacts whose student is no longer in the directory.
pub fn orphans_file(draft: &Draft, header: &str) -> Result<String, serde_yaml::Error> {
    let orphans: Vec<YamlOrphan<'_>> = draft
        .orphaned_contacts
        .iter()
        .map(|g| YamlOrphan {
            name: &g.name,
            email: g.email.as_deref(),
            phone: g.phone.as_deref(),
            students: g.links.iter().map(|(s, r)| YamlLink { upn: s, relationship: rel(*r) }).collect(),
            origin: &g.origin,
        })
        .collect();
    let mut out = String::new();
    for line in header.lines() {
        let _ = writeln!(out, "# {line}");
    }
    out.push_str("# Approved contacts whose student is no longer in the directory. Teams keeps them until an\n");
    out.push_str("# admin deletes them in Dataverse (Approval table, filtered by the student's object id).\n");
    out.push_str(&serde_yaml::to_string(&orphans)?);
    Ok(out)
}
