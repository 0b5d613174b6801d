//! Writing an imported tenant as a policy file and a directory file that `tenet check` accepts.

use super::draft::{Draft, GuardianDraft, Literal, TenantDraft, Values};
use serde::Serialize;
use std::fmt::Write as _;
use tenet::unstable::directory::{RawClassTeam, RawDirectory, RawGroup, RawGuardian, RawLink, RawUser};
use tenet::unstable::source::ORIGIN_COMMENT;

/// The policy files: tenant configuration, instances and assignments, in one file unless the
/// direct assignments of a large district would take it over the parser's limit on a file's
/// size ([`tenet::unstable::syntax::MAX_FILE_BYTES`]); they then continue in further files of at most
/// `limit` bytes.
pub fn tenant_files(draft: &Draft, header: &str, limit: usize) -> Vec<String> {
    let t = &draft.tenant;
    let mut head = String::new();
    for line in header.lines() {
        let _ = writeln!(head, "// {line}");
    }
    let mut out = head.clone();
    if !t.configs.is_empty() {
        out.push_str("\n// Tenant configuration\n");
        for (config, values) in &t.configs {
            let _ = writeln!(out, "tenant {config} {{{}}}", block(t, config, values));
        }
    }
    for (ty, instances) in &t.instances {
        let _ = writeln!(out, "\n// {ty}");
        for (name, values) in instances {
            let block = block(t, &format!("{ty}/{name}"), values);
            let _ = writeln!(out, "policy {ty} {} {{{block}}}", string(&identity(name)));
        }
    }
    if !t.groups.is_empty() {
        out.push_str("\n// Group assignments\n");
        for a in &t.groups {
            let rank = a.rank.map(|r| format!(" rank {r}")).unwrap_or_default();
            let _ = writeln!(
                out,
                "assign {} {} to group {}{rank}{}",
                a.policy_type,
                string(&a.instance),
                string(&a.group),
                comment(&a.origin)
            );
        }
    }
    let mut files = Vec::new();
    let mut heading = "\n// Direct assignments\n";
    for a in &t.direct {
        let line = format!(
            "assign {} {} to user {}{}\n",
            a.policy_type,
            string(&a.instance),
            string(&a.upn),
            comment(&a.origin)
        );
        // A file that can't take the line (and the section's heading, if not written yet) ends.
        if out.len() + heading.len() + line.len() > limit && out.len() > head.len() {
            files.push(std::mem::replace(&mut out, head.clone()));
            heading = "\n// Direct assignments, continued\n";
        }
        out.push_str(heading);
        heading = "";
        out.push_str(&line);
    }
    files.push(out);
    files
}

fn identity(name: &str) -> String {
    if name.eq_ignore_ascii_case("Global") { "Global".into() } else { format!("Tag:{name}") }
}

/// The values of `owner`, one a line, each with the comment naming where it came from.
fn block(tenant: &TenantDraft, owner: &str, values: &Values) -> String {
    if values.is_empty() {
        return String::new();
    }
    let mut out = String::from("\n");
    for (setting, value) in values {
        let origin = tenant.origin(owner, setting).unwrap_or_default();
        let _ = writeln!(out, "    {setting} = {}{}", literal(value), comment(origin));
    }
    out
}

/// `  // from ORIGIN`, the origin kept on one line; nothing for an unknown origin.
fn comment(origin: &str) -> String {
    if origin.is_empty() {
        return String::new();
    }
    let one_line: String = origin.chars().map(|c| if c.is_control() { '?' } else { c }).collect();
    format!("{ORIGIN_COMMENT}{one_line}")
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

/// The directory as the directory file would hold it, taking the draft's strings rather than
/// copying them (a district's directory is most of an import's memory). Members, owners and
/// students are named by their users' UPNs as first written.
pub fn into_raw_directory(draft: Draft) -> RawDirectory {
    let Draft { users, groups, classes, guardians, assumed, .. } = draft;
    let upn = |key: String| users.get(&key).map_or(key, |u| u.upn.clone());
    let groups = groups
        .into_values()
        .map(|g| RawGroup {
            id: g.id,
            name: g.name,
            members: g.members.into_iter().map(upn).collect(),
            hidden_membership: g.hidden_membership,
        })
        .collect();
    let class_teams = classes
        .into_values()
        .map(|c| RawClassTeam {
            id: c.id,
            name: c.name,
            school: c.school,
            owners: c.owners.into_iter().map(upn).collect(),
            students: c.students.into_iter().map(upn).collect(),
        })
        .collect();
    let guardians = guardians
        .into_values()
        .map(|g| {
            // The id is written only when it is not the email (the directory derives it so).
            let derived = g.email.as_deref().map(tenet::unstable::directory::key);
            RawGuardian {
                id: (derived.as_deref() != Some(g.id.as_str())).then_some(g.id),
                name: Some(g.name),
                email: g.email,
                phone: g.phone,
                on_teams: g.on_teams,
                students: g
                    .links
                    .into_iter()
                    .map(|(s, r)| RawLink { upn: upn(s), relationship: r.as_str().to_string() })
                    .collect(),
            }
        })
        .collect();
    let users = users
        .into_values()
        .map(|u| RawUser {
            upn: u.upn,
            name: u.name,
            roles: u.roles.into_iter().collect(),
            licenses: u.licenses.into_iter().collect(),
            enabled: u.enabled.unwrap_or(true),
            invites_sent: u.invites_sent.unwrap_or(0),
            blocked_guardians: u.blocked_guardians.into_iter().collect(),
        })
        .collect();
    RawDirectory { users, groups, class_teams, guardians, assumed }
}

/// Links of an orphaned contact, named by UPN.
fn links(draft: &Draft, g: &GuardianDraft) -> Vec<RawLink> {
    g.links
        .iter()
        .map(|(s, r)| RawLink {
            upn: draft.users.get(s).map_or_else(|| s.clone(), |u| u.upn.clone()),
            relationship: r.as_str().to_string(),
        })
        .collect()
}

/// Writes the directory file.
pub fn directory_file(raw: &RawDirectory, header: &str, out: &mut impl std::io::Write) -> std::io::Result<()> {
    for line in header.lines() {
        writeln!(out, "# {line}")?;
    }
    raw.write_yaml(out)
}

#[derive(Serialize)]
struct Orphan<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone: Option<&'a str>,
    /// The students (no longer in the directory) the contact was approved for.
    students: Vec<RawLink>,
    /// Where the contact was read.
    origin: &'a str,
}

/// Approved contacts whose student is no longer in the directory.
pub fn orphans_file(draft: &Draft, header: &str) -> Result<String, serde_yaml::Error> {
    let orphans: Vec<Orphan<'_>> = draft
        .orphaned_contacts
        .iter()
        .map(|g| Orphan {
            name: &g.name,
            email: g.email.as_deref(),
            phone: g.phone.as_deref(),
            students: links(draft, g),
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
