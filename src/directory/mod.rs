//! The directory: users, groups, class teams and guardians, read from YAML and validated.
//!
//! Everything is checked before anything is used: unknown references, duplicates and bad values
//! are located errors (file, line, column, field), and nothing is silently dropped.

mod edit;
pub mod locate;
mod raw;
mod stream;
mod validate;

pub use raw::{Assumption, RawClassTeam, RawDirectory, RawGroup, RawGuardian, RawLink, RawUser, privacy_of_text};
use validate::token_len;
pub use validate::{from_raw, is_e164, key, load, looks_like_phone};

use crate::source::{FileId, Span};
use crate::suggest::NameIndex;
use indexmap::IndexMap;
use locate::Locations;
use std::fmt;
use std::sync::{Arc, OnceLock};

/// Largest directory file accepted, in bytes: a district of 1,000,000 users with their
/// guardians writes about 550 MB, and reading is streamed (see `stream`), so the bound is there
/// against a wrong file, not for memory.
pub const MAX_DIRECTORY_BYTES: usize = 2 * 1024 * 1024 * 1024 - 1;

/// A guardian's relationship to a student, as School Data Sync defines the roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum Relationship {
    Parent,
    Guardian,
    Relative,
    Aide,
    Doctor,
    Child,
    Administrator,
    Other,
}

impl Relationship {
    pub const ALL: [Relationship; 8] = [
        Relationship::Parent,
        Relationship::Guardian,
        Relationship::Relative,
        Relationship::Aide,
        Relationship::Doctor,
        Relationship::Child,
        Relationship::Administrator,
        Relationship::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Relationship::Parent => "parent",
            Relationship::Guardian => "guardian",
            Relationship::Relative => "relative",
            Relationship::Aide => "aide",
            Relationship::Doctor => "doctor",
            Relationship::Child => "child",
            Relationship::Administrator => "administrator",
            Relationship::Other => "other",
        }
    }

    /// Parses a role case-insensitively (`Parent` and `parent` are the same).
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str().eq_ignore_ascii_case(text.trim()))
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Relationship {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Ids of the directory's entries: positions in directory order, valid in the directory that
/// made them. A type each, so a group's position can't be used as a user's.
macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, serde::Serialize, serde::Deserialize)]
        pub struct $name(u32);

        impl $name {
            /// The id of the entry at `index` (directories hold far fewer than 2^32 entries).
            pub fn new(index: usize) -> Self {
                Self(u32::try_from(index).unwrap_or(u32::MAX))
            }

            /// The position in directory order.
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }
    )*};
}

ids! {
    /// A user of a [`Directory`].
    UserId;
    /// A group of a [`Directory`].
    GroupId;
    /// A class team of a [`Directory`].
    ClassTeamId;
    /// A guardian of a [`Directory`].
    GuardianId;
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct User {
    /// As written in the directory.
    pub upn: String,
    /// The display name, when the directory gives one (see [`User::display_name`]).
    pub name: Option<String>,
    /// Sorted, without duplicates. Shared: a district has millions of entries and few names.
    pub roles: Vec<Arc<str>>,
    /// Sorted, without duplicates. Shared like `roles`.
    pub licenses: Vec<Arc<str>>,
    pub enabled: bool,
    pub invites_sent: i64,
    /// Guardians this user has blocked, sorted.
    pub blocked: Vec<GuardianId>,
    /// Groups the user is a direct member of, sorted.
    pub groups: Vec<GroupId>,
    /// Class teams the user owns.
    pub owns: Vec<ClassTeamId>,
    /// Class teams the user is a student of.
    pub student_of: Vec<ClassTeamId>,
    /// Guardians linked to this user as a student, sorted.
    pub guardians: Vec<GuardianId>,
    /// Position in the file's `users` list (see [`Directory::user_span`]).
    pub raw: usize,
}

impl User {
    /// The display name, or the UPN when the directory gives none.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.upn)
    }
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Group {
    pub id: String,
    pub name: String,
    /// Sorted, without duplicates.
    pub members: Vec<UserId>,
    pub hidden_membership: bool,
    /// Position in the file's `groups` list.
    pub raw: usize,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ClassTeam {
    pub id: String,
    pub name: String,
    /// The school, when the directory names one: a user's schools are those of the class teams
    /// they own or learn in.
    pub school: Option<String>,
    pub owners: Vec<UserId>,
    pub students: Vec<UserId>,
    /// Position in the file's `class_teams` list.
    pub raw: usize,
}

/// One guardian–student link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GuardianLink {
    pub student: UserId,
    pub relationship: Relationship,
}

/// A parent or guardian: an external contact. Email and phone are personal data of a minor's
/// family: they are never put into logs or diagnostics messages.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct Guardian {
    /// Id, name, email and phone, one after the other in one allocation (a district has
    /// millions of guardians): read them with [`Guardian::id`] and the like.
    text: Box<str>,
    /// Where the id, the name and the email end in `text`.
    ends: [u32; 3],
    has_email: bool,
    has_phone: bool,
    pub phone_e164: bool,
    pub on_teams: bool,
    /// Usually one link: a boxed slice rather than a growable list (a district has millions).
    pub links: Box<[GuardianLink]>,
    /// Position in the file's `guardians` list.
    pub raw: usize,
}

impl Guardian {
    /// A guardian record. `id` is the id used in queries: the explicit `id`, else the email,
    /// lower-cased.
    pub fn new(id: &str, name: &str, email: Option<&str>, phone: Option<&str>) -> Self {
        let mut g = Self {
            text: Box::default(),
            ends: [0; 3],
            has_email: false,
            has_phone: false,
            phone_e164: false,
            on_teams: false,
            links: Box::default(),
            raw: 0,
        };
        g.set_text(id, name, email, phone);
        g
    }

    fn set_text(&mut self, id: &str, name: &str, email: Option<&str>, phone: Option<&str>) {
        let (e, p) = (email.unwrap_or(""), phone.unwrap_or(""));
        let mut text = String::with_capacity(id.len() + name.len() + e.len() + p.len());
        let mut end = |part: &str| {
            text.push_str(part);
            u32::try_from(text.len()).unwrap_or(u32::MAX)
        };
        self.ends = [end(id), end(name), end(e)];
        text.push_str(p);
        self.text = text.into_boxed_str();
        (self.has_email, self.has_phone) = (email.is_some(), phone.is_some());
    }

    fn part(&self, from: usize, to: usize) -> &str {
        // A damaged bundle can't make this panic: a part out of place reads empty.
        self.text.get(from..to).unwrap_or("")
    }

    /// The id used in queries: the explicit `id`, else the email, lower-cased.
    pub fn id(&self) -> &str {
        self.part(0, self.ends[0] as usize)
    }

    /// The display name.
    pub fn name(&self) -> &str {
        self.part(self.ends[0] as usize, self.ends[1] as usize)
    }

    /// The email, if the record has one. Personal data: never logged.
    pub fn email(&self) -> Option<&str> {
        self.has_email.then(|| self.part(self.ends[1] as usize, self.ends[2] as usize))
    }

    /// The phone number as written, if the record has one. Personal data: never logged.
    pub fn phone(&self) -> Option<&str> {
        self.has_phone.then(|| self.part(self.ends[2] as usize, self.text.len()))
    }

    /// Replaces the email (a fix's stand-in).
    pub(crate) fn set_email(&mut self, email: &str) {
        let (id, name, phone) = (self.id().to_string(), self.name().to_string(), self.phone().map(str::to_string));
        self.set_text(&id, &name, Some(email), phone.as_deref());
    }

    /// Replaces the phone number (a fix's stand-in).
    pub(crate) fn set_phone(&mut self, phone: &str) {
        let (id, name, email) = (self.id().to_string(), self.name().to_string(), self.email().map(str::to_string));
        self.set_text(&id, &name, email.as_deref(), Some(phone));
    }
}

impl fmt::Debug for Guardian {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Contact details are redacted so a stray `{:?}` can't leak them.
        f.debug_struct("Guardian")
            .field("name", &self.name())
            .field("has_email", &self.has_email)
            .field("has_phone", &self.has_phone)
            .field("phone_e164", &self.phone_e164)
            .field("on_teams", &self.on_teams)
            .field("links", &self.links)
            .finish_non_exhaustive()
    }
}

/// Guardians in directory order, found by id: a guardian hashes and compares as its id, so the
/// set needs no key beside it (a district has millions of guardians).
pub type GuardianSet = indexmap::IndexSet<Guardian, foldhash::fast::RandomState>;

impl std::hash::Hash for Guardian {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.id().hash(state);
    }
}

/// Two records are the same guardian when their ids are: the directory's key. (Only the id:
/// compare `email()`, `phone()` and the rest to compare the records.)
impl PartialEq for Guardian {
    fn eq(&self, other: &Self) -> bool {
        self.id() == other.id()
    }
}

impl Eq for Guardian {}

impl std::borrow::Borrow<str> for Guardian {
    fn borrow(&self) -> &str {
        self.id()
    }
}

/// Entries by name, in directory order. Hashed with foldhash: names are probed on every query,
/// and SipHash's resistance to chosen collisions buys nothing for a directory the admin wrote.
pub type NameMap<T> = IndexMap<String, T, foldhash::fast::RandomState>;

/// A validated directory. Keys are lower-cased UPNs, group ids, class ids and guardian ids.
#[derive(Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Directory {
    users: NameMap<User>,
    groups: NameMap<Group>,
    class_teams: NameMap<ClassTeam>,
    /// Keyed by their own id (see [`Guardian`]'s `Hash`): no second copy of it as a key.
    guardians: GuardianSet,
    /// Roles held by at least one enabled / disabled user (sorted).
    enabled_roles: Vec<String>,
    disabled_roles: Vec<String>,
    /// What is assumed for lack of an export (already part of the role sets above). Stored in a
    /// bundle field by field: the YAML shape skips empty lists, and a bundle's encoding reads
    /// fields by position.
    #[serde(with = "stored_assumptions")]
    assumed: Vec<Assumption>,
    /// Finds spans in the file, on demand.
    locator: Locator,
    /// Indexes for "did you mean", built on first use (an unknown name) and kept.
    #[serde(skip)]
    suggestions: Arc<Suggestions>,
}

/// [`Assumption`]s as a bundle stores them: every field, in order.
mod stored_assumptions {
    use super::Assumption;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    type Stored = (Vec<String>, Vec<String>, String);

    pub fn serialize<S: Serializer>(assumed: &[Assumption], s: S) -> Result<S::Ok, S::Error> {
        let stored: Vec<(&Vec<String>, &Vec<String>, &String)> =
            assumed.iter().map(|a| (&a.enabled_roles, &a.facts, &a.because)).collect();
        stored.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Assumption>, D::Error> {
        let stored: Vec<Stored> = Vec::deserialize(d)?;
        Ok(stored
            .into_iter()
            .map(|(enabled_roles, facts, because)| Assumption { enabled_roles, facts, because })
            .collect())
    }
}

/// The directory's names, indexed for suggestions (see [`crate::suggest`]).
#[derive(Debug, Default)]
struct Suggestions {
    users: OnceLock<NameIndex>,
    groups: OnceLock<NameIndex>,
}

/// Finds where a field path (`users[3].upn`) is in the directory file. The index of every value
/// is built on first use only — that is, when a diagnostic needs a location — so a large
/// directory that checks clean never pays for it.
/// Stored (in a bundle) without the file's text: a bundle's directory is checked already, and
/// its diagnostics were reported when it was built.
#[derive(Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Locator {
    file: FileId,
    #[serde(skip)]
    text: Arc<str>,
    #[serde(skip)]
    locations: Arc<OnceLock<Locations>>,
}

impl fmt::Debug for Directory {
    /// Counts only: guardian ids default to email addresses, which are never printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Directory")
            .field("users", &self.users.len())
            .field("groups", &self.groups.len())
            .field("class_teams", &self.class_teams.len())
            .field("guardians", &self.guardians.len())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Locator {
    /// The file's text is left out: it holds guardians' contact details.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Locator").field("file", &self.file).finish_non_exhaustive()
    }
}

impl Locator {
    fn new(file: FileId, text: Arc<str>) -> Self {
        Self { file, text, locations: Arc::default() }
    }

    /// The span of the scalar at `path` (or the start of its nearest located parent).
    pub fn span(&self, path: &str) -> Span {
        let o = self.locations.get_or_init(|| Locations::index(&self.text)).offset(path);
        let o = o.min(self.text.len());
        Span::new(self.file, o, o + token_len(&self.text[o..]).max(1))
    }
}

impl Directory {
    /// Every user, in directory order.
    pub fn users(&self) -> impl ExactSizeIterator<Item = (UserId, &User)> + '_ {
        self.users.values().enumerate().map(|(i, u)| (UserId::new(i), u))
    }

    /// Every group, in directory order.
    pub fn groups(&self) -> impl ExactSizeIterator<Item = (GroupId, &Group)> + '_ {
        self.groups.values().enumerate().map(|(i, g)| (GroupId::new(i), g))
    }

    /// Every class team, in directory order.
    pub fn class_teams(&self) -> impl ExactSizeIterator<Item = (ClassTeamId, &ClassTeam)> + '_ {
        self.class_teams.values().enumerate().map(|(i, c)| (ClassTeamId::new(i), c))
    }

    /// Every guardian, in directory order.
    pub fn guardians(&self) -> impl ExactSizeIterator<Item = (GuardianId, &Guardian)> + '_ {
        self.guardians.iter().enumerate().map(|(i, g)| (GuardianId::new(i), g))
    }

    /// Every user's key (the UPN trimmed, ASCII letters lower-cased), in directory order.
    pub fn user_keys(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.users.keys().map(String::as_str)
    }

    /// A user's key (see [`key`]): what queries match.
    pub fn user_key(&self, id: UserId) -> &str {
        self.users.get_index(id.index()).map_or("", |(k, _)| k.as_str())
    }

    /// A class team's key.
    pub fn class_team_key(&self, id: ClassTeamId) -> &str {
        self.class_teams.get_index(id.index()).map_or("", |(k, _)| k.as_str())
    }

    /// How many users there are.
    pub fn user_count(&self) -> usize {
        self.users.len()
    }

    /// How many groups there are.
    pub fn group_count(&self) -> usize {
        self.groups.len()
    }

    /// How many class teams there are.
    pub fn class_team_count(&self) -> usize {
        self.class_teams.len()
    }

    /// How many guardians there are.
    pub fn guardian_count(&self) -> usize {
        self.guardians.len()
    }

    /// The user of an id this directory made.
    pub fn user_at(&self, id: UserId) -> &User {
        &self.users[id.index()]
    }

    /// The group of an id this directory made.
    pub fn group_at(&self, id: GroupId) -> &Group {
        &self.groups[id.index()]
    }

    /// The class team of an id this directory made.
    pub fn class_team_at(&self, id: ClassTeamId) -> &ClassTeam {
        &self.class_teams[id.index()]
    }

    /// The guardian of an id, if this directory has one there (an id from another directory,
    /// say a table's before a reload, may not).
    pub fn get_guardian(&self, id: GuardianId) -> Option<&Guardian> {
        self.guardians.get_index(id.index())
    }

    /// The guardian of an id this directory made.
    pub fn guardian_at(&self, id: GuardianId) -> &Guardian {
        &self.guardians[id.index()]
    }

    /// Roles held by at least one enabled user, sorted.
    pub fn enabled_roles(&self) -> &[String] {
        &self.enabled_roles
    }

    /// Roles held by at least one disabled user, sorted.
    pub fn disabled_roles(&self) -> &[String] {
        &self.disabled_roles
    }

    /// What is assumed for lack of an export.
    pub fn assumed(&self) -> &[Assumption] {
        &self.assumed
    }

    /// Where entries are in the directory file.
    pub fn locator(&self) -> &Locator {
        &self.locator
    }

    /// What messages may show of this directory's people: emails at its users' domains, never
    /// a guardian's email or phone (see [`crate::privacy`]).
    pub fn privacy(&self) -> crate::privacy::Privacy {
        let mut privacy = crate::privacy::Privacy::default();
        for user in self.users.values() {
            privacy.user(&user.upn);
        }
        for guardian in &self.guardians {
            privacy.guardian_email(guardian.id());
            if let Some(email) = guardian.email() {
                privacy.guardian_email(email);
            }
        }
        privacy
    }

    /// The known user closest to an unknown UPN, if one is close: bounded work, whatever the
    /// district's size. The index is built on the first call.
    pub fn suggest_user(&self, upn: &str) -> Option<&str> {
        let index = self.suggestions.users.get_or_init(|| NameIndex::new(self.users.keys().map(String::as_str)));
        index.closest(upn.trim()).and_then(|i| self.users.get_index(i)).map(|(k, _)| k.as_str())
    }

    /// The id of the known group closest to an unknown one, as the directory writes it.
    pub fn suggest_group(&self, id: &str) -> Option<&str> {
        let index = self.suggestions.groups.get_or_init(|| NameIndex::new(self.groups.keys().map(String::as_str)));
        index.closest(id.trim()).and_then(|i| self.groups.get_index(i)).map(|(_, g)| g.id.as_str())
    }

    /// The schools of the class teams `user` owns or learns in, sorted, without duplicates.
    pub fn schools_of(&self, user: &User) -> Vec<&str> {
        let mut out: Vec<&str> =
            user.owns.iter().chain(&user.student_of).filter_map(|t| self.class_team_at(*t).school.as_deref()).collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Every school a class team names, sorted, without duplicates.
    pub fn schools(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self.class_teams().filter_map(|(_, t)| t.school.as_deref()).collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Builds the suggestion indexes now, so the first unknown name does not pay for them: for
    /// a server, whose request path must stay short.
    pub fn index_suggestions(&self) {
        let _ = (self.suggest_user(""), self.suggest_group(""));
    }

    /// The directory file, when the directory was read from one: its text is in the locator.
    pub(crate) fn file(&self) -> Option<FileId> {
        (!self.locator.text.is_empty()).then_some(self.locator.file)
    }

    /// Makes a directory read from a bundle whole again: every role and licence name shared
    /// (one allocation per name, not per user), and every id an entry holds checked to name an
    /// entry, so a query can't be sent out of bounds. Says what doesn't fit.
    pub(crate) fn loaded(mut self) -> Result<Self, String> {
        let mut names: std::collections::HashSet<Arc<str>> = Default::default();
        let mut share = |list: &mut Vec<Arc<str>>| {
            for name in list.iter_mut() {
                match names.get(name) {
                    Some(shared) => *name = shared.clone(),
                    None => {
                        names.insert(name.clone());
                    }
                }
            }
        };
        for user in self.users.values_mut() {
            share(&mut user.roles);
            share(&mut user.licenses);
        }
        let (users, groups, teams, guardians) =
            (self.users.len(), self.groups.len(), self.class_teams.len(), self.guardians.len());
        fn fits(mut ids: impl Iterator<Item = usize>, count: usize) -> bool {
            ids.all(|i| i < count)
        }
        let users_fit = self.users.values().all(|u| {
            fits(u.blocked.iter().chain(&u.guardians).map(|g| g.index()), guardians)
                && fits(u.groups.iter().map(|g| g.index()), groups)
                && fits(u.owns.iter().chain(&u.student_of).map(|c| c.index()), teams)
        });
        let groups_fit = self.groups.values().all(|g| fits(g.members.iter().map(|u| u.index()), users));
        let teams_fit =
            self.class_teams.values().all(|t| fits(t.owners.iter().chain(&t.students).map(|u| u.index()), users));
        let guardians_fit = self.guardians.iter().all(|g| fits(g.links.iter().map(|l| l.student.index()), users));
        if users_fit && groups_fit && teams_fit && guardians_fit {
            Ok(self)
        } else {
            Err("an entry of the directory names an entry that is not there".into())
        }
    }

    /// Where a user is in the directory file.
    pub fn user_span(&self, u: &User) -> Span {
        self.locator.span(&format!("users[{}].upn", u.raw))
    }

    pub fn group_span(&self, g: &Group) -> Span {
        self.locator.span(&format!("groups[{}].id", g.raw))
    }

    pub fn class_team_span(&self, c: &ClassTeam) -> Span {
        self.locator.span(&format!("class_teams[{}].id", c.raw))
    }

    pub fn guardian_span(&self, g: &Guardian) -> Span {
        self.locator.span(&format!("guardians[{}]", g.raw))
    }

    /// The user of a UPN (ASCII letters in any case, see [`key`]).
    pub fn user(&self, upn: &str) -> Option<(UserId, &User)> {
        lookup(&self.users, upn).map(|(i, u)| (UserId::new(i), u))
    }

    /// The group of an id (ASCII letters in any case).
    pub fn group(&self, id: &str) -> Option<(GroupId, &Group)> {
        lookup(&self.groups, id).map(|(i, g)| (GroupId::new(i), g))
    }

    /// The class team of an id (ASCII letters in any case).
    pub fn class_team(&self, id: &str) -> Option<(ClassTeamId, &ClassTeam)> {
        lookup(&self.class_teams, id).map(|(i, c)| (ClassTeamId::new(i), c))
    }

    /// The guardian of an id (ASCII letters in any case).
    pub fn guardian(&self, id: &str) -> Option<(GuardianId, &Guardian)> {
        let found = self.guardians.get_full(id).or_else(|| self.guardians.get_full(self::key(id).as_str()));
        found.map(|(i, g)| (GuardianId::new(i), g))
    }

    /// Guardians a user deals with, in directory order: those of the students of the class teams
    /// the user owns, and the user's own.
    pub fn guardians_of(&self, user: UserId) -> Vec<GuardianId> {
        let Some((_, u)) = self.users.get_index(user.index()) else { return Vec::new() };
        let mut out = u.guardians.clone();
        for c in &u.owns {
            if let Some((_, team)) = self.class_teams.get_index(c.index()) {
                for s in &team.students {
                    if let Some((_, student)) = self.users.get_index(s.index()) {
                        out.extend_from_slice(&student.guardians);
                    }
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// How `guardian` relates to `user`: the guardian's own student, the guardian of a student
    /// in a class team the user owns, both or neither. The relationship is that of the link to
    /// the user, else of the first link to a student the user teaches, else of the first link.
    pub fn relation(&self, user: UserId, guardian: &Guardian) -> Relation {
        let owns: &[ClassTeamId] = self.users.get_index(user.index()).map_or(&[], |(_, u)| &u.owns);
        // A student is in few class teams and a teacher owns few: compare those lists rather
        // than scan the students of every class team the teacher owns.
        let teaches = |student: UserId| {
            !owns.is_empty()
                && self
                    .users
                    .get_index(student.index())
                    .is_some_and(|(_, s)| s.student_of.iter().any(|c| owns.contains(c)))
        };
        let own = guardian.links.iter().find(|l| l.student == user);
        let taught = guardian.links.iter().find(|l| teaches(l.student));
        let relationship = own.or(taught).or(guardian.links.first()).map_or(Relationship::Other, |l| l.relationship);
        Relation { of_user: own.is_some(), linked: taught.is_some(), relationship }
    }
}

/// How a guardian relates to a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Relation {
    /// Guardian of the user (the user is the student).
    pub of_user: bool,
    /// Guardian of a student in a class team the user owns.
    pub linked: bool,
    /// The relationship used for the pair.
    pub relationship: Relationship,
}

fn lookup<'a, T>(map: &'a NameMap<T>, key: &str) -> Option<(usize, &'a T)> {
    match map.get_full(key) {
        Some((i, _, v)) => Some((i, v)),
        None => map.get_full(&self::key(key)).map(|(i, _, v)| (i, v)),
    }
}
