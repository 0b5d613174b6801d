//! The tenant as the readers assemble it, before it is written as policy files and a directory.
//!
//! Readers run in dependency order (groups and users before the assignments and links that name
//! them), so a reader can refuse a row that names something no file defined, at that row.

use indexmap::{IndexMap, IndexSet};
use std::collections::BTreeSet;
use tenet::unstable::directory::Relationship;

/// Entries by key, in the order read. Hashed with foldhash: keys are the admin's own export
/// rows, and SipHash was 5% of an import.
pub type Map<K, V> = IndexMap<K, V, foldhash::fast::RandomState>;

/// A setting value in the policy language's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Literal {
    Bool(bool),
    Int(i64),
    Str(String),
    /// An enum variant, by name.
    Enum(String),
    Set(Vec<String>),
}

/// The values of one configuration object or policy instance, by setting name.
pub type Values = IndexMap<String, Literal>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectAssignment {
    pub policy_type: String,
    /// The instance name without `Tag:`.
    pub instance: String,
    pub upn: String,
    /// Where the export says so (see [`TenantDraft::origins`]).
    pub origin: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupAssignment {
    pub policy_type: String,
    pub instance: String,
    pub group: String,
    pub rank: Option<i64>,
    /// Where the export says so (see [`TenantDraft::origins`]).
    pub origin: String,
}

/// Tenant-wide configuration, policy instances and assignments.
#[derive(Debug, Default, Clone)]
pub struct TenantDraft {
    /// Configuration object → its values.
    pub configs: IndexMap<String, Values>,
    /// Policy type → instance name (`Global` or the name without `Tag:`) → its values.
    pub instances: IndexMap<String, IndexMap<String, Values>>,
    pub direct: Vec<DirectAssignment>,
    pub groups: Vec<GroupAssignment>,
    /// Where each value came from, by (owner, setting): the owner is a configuration object's
    /// name or `Type/Instance`; the origin is the admin's file, line and property path
    /// (`CsTeamsMessagingPolicy.json:12 [1].AllowUserChat`), or the flag that gave it.
    pub origins: std::collections::HashMap<(String, String), String>,
}

impl TenantDraft {
    /// Records where a value of `owner` came from.
    pub fn set_origin(&mut self, owner: &str, setting: &str, origin: String) {
        self.origins.insert((owner.to_string(), setting.to_string()), origin);
    }

    pub fn origin(&self, owner: &str, setting: &str) -> Option<&str> {
        self.origins.get(&(owner.to_string(), setting.to_string())).map(String::as_str)
    }
}

#[derive(Debug, Default, Clone)]
pub struct UserDraft {
    /// As the first file wrote it.
    pub upn: String,
    pub name: Option<String>,
    pub roles: BTreeSet<String>,
    pub licenses: BTreeSet<String>,
    pub enabled: Option<bool>,
    pub invites_sent: Option<u32>,
    /// Guardian ids.
    pub blocked_guardians: BTreeSet<String>,
}

#[derive(Debug, Default, Clone)]
pub struct GroupDraft {
    pub id: String,
    pub name: Option<String>,
    /// Lower-case UPNs.
    pub members: IndexSet<String>,
    pub hidden_membership: bool,
}

#[derive(Debug, Default, Clone)]
pub struct ClassDraft {
    pub id: String,
    pub name: Option<String>,
    /// The school's name (its id when the school file doesn't name it).
    pub school: Option<String>,
    /// Lower-case UPNs of the class team's owners (the class's teachers).
    pub owners: IndexSet<String>,
    /// Lower-case UPNs of its students.
    pub students: IndexSet<String>,
}

/// A parent or guardian. Email and phone are personal data: never logged.
#[derive(Clone, Default)]
pub struct GuardianDraft {
    /// The query id: the email lower-cased, else the id the source file gave the contact.
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub on_teams: bool,
    /// Student (lower-case UPN) → relationship.
    pub links: IndexMap<String, Relationship>,
    /// Where the contact was first read, as `file row N` (no contact details).
    pub origin: String,
    /// The sources it was read from (`School Data Sync v2.1`, `Graph related contacts`…): one
    /// for a record as read, more once records of one person from several sources are merged.
    pub sources: Vec<&'static str>,
}

impl std::fmt::Debug for GuardianDraft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuardianDraft")
            .field("name", &self.name)
            .field("links", &self.links)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// Everything read so far.
#[derive(Debug, Default, Clone)]
pub struct Draft {
    /// Lower-case UPN → user.
    pub users: Map<String, UserDraft>,
    /// Lower-case group id → group.
    pub groups: Map<String, GroupDraft>,
    /// Lower-case class id → class team.
    pub classes: Map<String, ClassDraft>,
    /// Guardian id → guardian.
    pub guardians: Map<String, GuardianDraft>,
    pub tenant: TenantDraft,
    /// Approved contacts whose student is no longer in the directory: Teams keeps them (deleting
    /// a student does not delete contacts), so the import keeps and lists them too.
    pub orphaned_contacts: Vec<GuardianDraft>,
    /// When School Data Sync last synced the contacts; approved manual updates made later win.
    pub sds_synced_at: Option<jiff::Timestamp>,
    /// Directory facts assumed because their export is missing.
    pub assumed: Vec<tenet::unstable::directory::Assumption>,
    /// Guardians read from two sources (School Data Sync and Graph, say), by (the source whose
    /// record was kept, the other): how many people, and the names of the first few.
    pub overlaps: IndexMap<(&'static str, &'static str), (usize, Vec<String>)>,
    /// Guardians without an email, by (student, name slug), with the sources that have a record
    /// of them for that student: sources give them different ids (an SDS id, a Graph key), so
    /// the same person is found by name and student.
    unnamed: std::collections::HashMap<(String, String), (String, Vec<&'static str>)>,
}

impl Draft {
    /// The user with this UPN, added if new.
    pub fn user_mut(&mut self, upn: &str) -> &mut UserDraft {
        let key = key(upn);
        self.users.entry(key).or_insert_with(|| UserDraft { upn: upn.trim().to_string(), ..UserDraft::default() })
    }

    pub fn has_user(&self, upn: &str) -> bool {
        self.users.contains_key(&key(upn))
    }

    /// The group with this id, added if new.
    pub fn group_mut(&mut self, id: &str) -> &mut GroupDraft {
        self.groups.entry(key(id)).or_insert_with(|| GroupDraft { id: id.trim().to_string(), ..GroupDraft::default() })
    }

    /// The class team with this id, added if new.
    pub fn class_mut(&mut self, id: &str) -> &mut ClassDraft {
        self.classes.entry(key(id)).or_insert_with(|| ClassDraft { id: id.trim().to_string(), ..ClassDraft::default() })
    }

    /// Adds a guardian, or merges it into the same guardian read before (see
    /// [`Self::same_guardian`]). Links are joined; contact details already known are kept (the
    /// caller reports a disagreement, see [`GuardianDraft::disagrees`]); a person read from two
    /// sources is counted once in [`Draft::overlaps`]. Returns the guardian's id.
    pub fn add_guardian(&mut self, g: GuardianDraft) -> String {
        let id = self.same_guardian(&g).unwrap_or_else(|| g.id.clone());
        // Only a contact without email is indexed by name (most have one: no work for them).
        let unnamed = match g.email {
            None => Some((slug(&g.name), g.links.keys().cloned().collect::<Vec<_>>(), g.sources.clone()))
                .filter(|(name, _, _)| !name.is_empty()),
            Some(_) => None,
        };
        match self.guardians.get_mut(&id) {
            Some(known) => {
                for source in &g.sources {
                    if !known.sources.contains(source) {
                        let (n, names) = self.overlaps.entry((known.sources[0], source)).or_default();
                        *n += 1;
                        if names.len() < 3 {
                            names.push(known.name.clone());
                        }
                        known.sources.push(source);
                    }
                }
                for (student, rel) in g.links {
                    known.links.entry(student).or_insert(rel);
                }
                known.on_teams |= g.on_teams;
                if known.phone.is_none() {
                    known.phone = g.phone;
                }
                if known.email.is_none() {
                    known.email = g.email;
                }
            }
            None => {
                self.guardians.insert(id.clone(), g);
            }
        }
        // Every student of a contact without email, so another source's record of the same
        // person, for any of the students, is found.
        if let Some((name_slug, links, sources)) = unnamed {
            for student in links {
                let (_, seen) =
                    self.unnamed.entry((student, name_slug.clone())).or_insert_with(|| (id.clone(), Vec::new()));
                for s in &sources {
                    if !seen.contains(s) {
                        seen.push(s);
                    }
                }
            }
        }
        id
    }

    /// The id of the guardian already read that `g` is a record of: the one with its id, or, for
    /// a contact without email, the one of the same name linked to one of its students and read
    /// from another source (within one source, two such contacts are two people).
    pub fn same_guardian(&self, g: &GuardianDraft) -> Option<String> {
        if self.guardians.contains_key(&g.id) {
            return Some(g.id.clone());
        }
        if g.email.is_some() {
            return None;
        }
        let name = slug(&g.name);
        if name.is_empty() {
            return None;
        }
        g.links.keys().find_map(|student| {
            let (id, seen) = self.unnamed.get(&(student.clone(), name.clone()))?;
            let known = self.guardians.get(id)?;
            (known.email.is_none() && !g.sources.iter().any(|s| seen.contains(s))).then(|| id.clone())
        })
    }
}

impl GuardianDraft {
    /// The id a contact gets: its email lower-cased, else `source_id` (an SDS id, or a key the
    /// reader built). `None` when there is neither.
    pub fn id_for(email: Option<&str>, source_id: Option<&str>) -> Option<String> {
        email
            .map(tenet::unstable::directory::key)
            .filter(|e| !e.is_empty())
            .or_else(|| source_id.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()))
    }

    /// Whether another record of the same guardian has different contact details (names are
    /// not compared: sources spell them differently).
    pub fn disagrees(&self, other: &GuardianDraft) -> bool {
        let differs =
            |a: &Option<String>, b: &Option<String>| matches!((a, b), (Some(x), Some(y)) if x.trim() != y.trim());
        differs(&self.phone, &other.phone) || differs(&self.email, &other.email)
    }
}

/// A name as an id part: lower-cased, each run of characters other than letters and digits
/// replaced by one `-`.
pub fn slug(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.trim().chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// The key of a UPN, group id or class id (see [`tenet::unstable::directory::key`]).
pub use tenet::unstable::directory::key;

#[cfg(test)]
mod tests {
    use super::*;

    fn contact(id: &str, name: &str, students: &[&str], source: &'static str) -> GuardianDraft {
        GuardianDraft {
            id: id.into(),
            name: name.into(),
            links: students.iter().map(|s| (s.to_string(), Relationship::Parent)).collect(),
            origin: format!("{source} {id}"),
            sources: vec![source],
            ..GuardianDraft::default()
        }
    }

    #[test]
    fn a_contact_without_email_from_two_sources_is_one_guardian_counted_once() {
        let mut d = Draft::default();
        // SDS names the contact by its SIS id and links both siblings (one row each).
        d.add_guardian(contact("rosa-garcia", "Rosa Garcia", &["lucia@x.edu"], "SDS v1"));
        d.add_guardian(contact("rosa-garcia", "Rosa Garcia", &["mateo@x.edu"], "SDS v1"));
        // Graph keys the same person by student and name, under each sibling.
        d.add_guardian(contact("lucia@x.edu/rosa-garcia", "Rosa  Garcia", &["lucia@x.edu"], "Graph"));
        d.add_guardian(contact("mateo@x.edu/rosa-garcia", "Rosa Garcia", &["mateo@x.edu"], "Graph"));
        assert_eq!(d.guardians.len(), 1, "{:?}", d.guardians.keys().collect::<Vec<_>>());
        assert_eq!(d.guardians["rosa-garcia"].links.len(), 2);
        assert_eq!(d.overlaps.get(&("SDS v1", "Graph")).map(|o| o.0), Some(1), "one person, counted once");
    }

    #[test]
    fn two_contacts_of_one_name_in_one_source_stay_two() {
        let mut d = Draft::default();
        d.add_guardian(contact("p1", "Alex Kim", &["sam@x.edu"], "SDS v1"));
        d.add_guardian(contact("p2", "Alex Kim", &["sam@x.edu"], "SDS v1"));
        // Nameless contacts are never matched by name.
        d.add_guardian(contact("p3", "", &["sam@x.edu"], "SDS v1"));
        d.add_guardian(contact("sam@x.edu/contact", "", &["sam@x.edu"], "Graph"));
        assert_eq!(d.guardians.len(), 4);
        assert!(d.overlaps.is_empty());
    }
}
