//! The directory: users, groups, class teams and guardians, read from YAML and validated.
//!
//! Everything is checked before anything is used: unknown references, duplicates and bad values
//! are located errors (file, line, column, field), and nothing is silently dropped.

mod edit;
mod emit;
mod lines;
pub mod locate;
mod raw;
mod stream;
mod validate;

pub use raw::{Assumption, RawClassTeam, RawDirectory, RawGroup, RawGuardian, RawLink, RawUser};
pub use stream::privacy_of_text;
use validate::token_len;
pub use validate::{from_raw, is_e164, key, load, looks_like_phone};

use crate::source::{FileId, Span};
use crate::suggest::NameIndex;
use indexmap::IndexMap;
use indexmap::set::MutableValues as _;
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

        impl Id for $name {
            fn from_raw(raw: u32) -> Self {
                Self(raw)
            }

            fn raw(self) -> u32 {
                self.0
            }
        }
    )*};
}

/// An id type of the directory: what [`Ids`] reads out of an entry's packed links.
pub trait Id: Copy {
    /// The id of a stored number.
    fn from_raw(raw: u32) -> Self;
    /// The number stored for the id.
    fn raw(self) -> u32;
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

/// Role or licence names, sorted, without duplicates. Shared: a district has millions of users
/// and few distinct sets, so users with the same set hold the same allocation.
pub type NameSet = Arc<[Arc<str>]>;

/// A record that hashes, compares and is looked up as one of its fields (`$key()`), so a set
/// of them needs no key beside each (a district has millions).
macro_rules! keyed_by {
    ($record:ty, $key:ident, $what:literal, $others:literal) => {
        impl std::hash::Hash for $record {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                self.$key().hash(state);
            }
        }

        #[doc = concat!("Two records are the same when their ", $what, "s are: the directory's key. (Only the ", $what, ": compare ", $others, " and the rest to compare the records.)")]
        impl PartialEq for $record {
            fn eq(&self, other: &Self) -> bool {
                self.$key() == other.$key()
            }
        }

        impl Eq for $record {}

        impl std::borrow::Borrow<str> for $record {
            fn borrow(&self) -> &str {
                self.$key()
            }
        }
    };
}

/// A user of the directory. The key, the UPN and the display name are held one after the
/// other in one allocation (a district has millions of users), the UPN left out when it is the
/// key, as it usually is: read them with [`User::key`], [`User::upn`] and [`User::name`].
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct User {
    text: Box<str>,
    /// Where the key and the UPN end in `text`; the name is the rest.
    ends: [u32; 2],
    /// Whether the UPN is written exactly as its key (and so is not stored twice).
    upn_is_key: bool,
    has_name: bool,
    pub roles: NameSet,
    pub licenses: NameSet,
    pub enabled: bool,
    pub invites_sent: i64,
    /// Groups, class teams and guardians, read with [`User::groups`] and the like.
    links: UserLinks,
    /// Position in the file's `users` list (see [`Directory::user_span`]).
    pub raw: usize,
}

impl User {
    /// A user with no roles, licences or links. `upn` is trimmed; its key is [`key`]'s.
    pub(crate) fn new(upn: &str, name: Option<&str>) -> Self {
        let upn = upn.trim();
        // The key is the UPN with ASCII letters lower-cased (see [`key`]), written in place.
        let upn_is_key = !upn.bytes().any(|b| b.is_ascii_uppercase());
        let stored_upn = if upn_is_key { "" } else { upn };
        let name_text = name.unwrap_or("");
        let mut text = String::with_capacity(2 * upn.len() + name_text.len());
        text.push_str(upn);
        text.make_ascii_lowercase();
        let mut end = |part: &str| {
            text.push_str(part);
            u32::try_from(text.len()).unwrap_or(u32::MAX)
        };
        let ends = [end(""), end(stored_upn)];
        text.push_str(name_text);
        Self {
            text: text.into_boxed_str(),
            ends,
            upn_is_key,
            has_name: name.is_some(),
            roles: NameSet::from([]),
            licenses: NameSet::from([]),
            enabled: true,
            invites_sent: 0,
            links: UserLinks::default(),
            raw: 0,
        }
    }

    fn part(&self, from: u32, to: usize) -> &str {
        // A damaged bundle can't make this panic: a part out of place reads empty.
        self.text.get(from as usize..to).unwrap_or("")
    }

    /// The key queries match: the UPN trimmed, ASCII letters lower-cased (see [`key`]).
    pub fn key(&self) -> &str {
        self.part(0, self.ends[0] as usize)
    }

    /// The UPN as written in the directory (trimmed).
    pub fn upn(&self) -> &str {
        if self.upn_is_key { self.key() } else { self.part(self.ends[0], self.ends[1] as usize) }
    }

    /// The display name, when the directory gives one (see [`User::display_name`]).
    pub fn name(&self) -> Option<&str> {
        self.has_name.then(|| self.part(self.ends[1], self.text.len()))
    }

    /// The display name, or the UPN when the directory gives none.
    pub fn display_name(&self) -> &str {
        self.name().unwrap_or(self.upn())
    }

    /// Groups the user is a direct member of, sorted.
    pub fn groups(&self) -> Ids<'_, GroupId> {
        self.links.get(Link::Groups)
    }

    /// Class teams the user owns, sorted.
    pub fn owns(&self) -> Ids<'_, ClassTeamId> {
        self.links.get(Link::Owns)
    }

    /// Class teams the user is a student of, sorted.
    pub fn student_of(&self) -> Ids<'_, ClassTeamId> {
        self.links.get(Link::StudentOf)
    }

    /// Guardians linked to this user as a student, sorted.
    pub fn guardians(&self) -> Ids<'_, GuardianId> {
        self.links.get(Link::Guardians)
    }

    /// Guardians this user has blocked, sorted.
    pub fn blocked(&self) -> Ids<'_, GuardianId> {
        self.links.get(Link::Blocked)
    }
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("upn", &self.upn())
            .field("name", &self.name())
            .field("roles", &self.roles)
            .field("licenses", &self.licenses)
            .field("enabled", &self.enabled)
            .field("invites_sent", &self.invites_sent)
            .field("links", &self.links)
            .field("raw", &self.raw)
            .finish()
    }
}

/// Users in directory order, found by key: a user hashes and compares as its key, so the set
/// needs no key beside it (as [`GuardianSet`]).
pub type UserSet = indexmap::IndexSet<User, foldhash::fast::RandomState>;

keyed_by!(User, key, "key", "`upn()`, `roles`");

/// The kinds of a user's links, in the order [`UserLinks`] packs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Link {
    // First: a query about a guardian reads the student's class teams, and finds them at the
    // start of the allocation (measured: `call_guardian` by handle about 5% faster than with
    // them behind the groups).
    StudentOf,
    Owns,
    Groups,
    Guardians,
    Blocked,
}

impl Link {
    pub(crate) const ALL: [Link; 5] = [Link::StudentOf, Link::Owns, Link::Groups, Link::Guardians, Link::Blocked];
}

/// A user's links to groups, class teams and guardians: five sorted lists of ids packed into
/// one allocation, one after the other (a district has millions of users, and five lists each
/// cost five allocations and 120 bytes of headers).
#[derive(Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct UserLinks {
    ids: Box<[u32]>,
    /// Where each list but the last ends in `ids`.
    ends: [u32; 4],
}

impl UserLinks {
    /// Packs five lists (in [`Link::ALL`]'s order), each sorted and without duplicates.
    pub(crate) fn new(lists: [&[u32]; 5]) -> Self {
        let mut ids = Vec::with_capacity(lists.iter().map(|l| l.len()).sum());
        let mut ends = [0; 4];
        for (k, list) in lists.iter().enumerate() {
            let start = ids.len();
            ids.extend_from_slice(list);
            if !ids[start..].windows(2).all(|w| w[0] < w[1]) {
                let mut sorted = ids.split_off(start);
                sorted.sort_unstable();
                sorted.dedup();
                ids.extend(sorted);
            }
            if let Some(end) = ends.get_mut(k) {
                *end = u32::try_from(ids.len()).unwrap_or(u32::MAX);
            }
        }
        Self { ids: ids.into_boxed_slice(), ends }
    }

    fn range(&self, link: Link) -> std::ops::Range<usize> {
        let k = link as usize;
        let start = if k == 0 { 0 } else { self.ends[k - 1] as usize };
        let end = self.ends.get(k).map_or(self.ids.len(), |e| *e as usize);
        start..end
    }

    fn raw(&self, link: Link) -> &[u32] {
        // A damaged bundle can't make this panic: a list out of place reads empty.
        self.ids.get(self.range(link)).unwrap_or(&[])
    }

    fn get<T: Id>(&self, link: Link) -> Ids<'_, T> {
        Ids { raw: self.raw(link), kind: std::marker::PhantomData }
    }

    /// Whether the lists are in place (a bundle's are checked when it is loaded).
    fn in_place(&self) -> bool {
        self.ends.windows(2).all(|w| w[0] <= w[1]) && self.ends[3] as usize <= self.ids.len()
    }

    /// The same links with `id` added to or removed from one list (an edit: rare, so the lists
    /// are packed again).
    fn with(&self, link: Link, id: u32, add: bool) -> Self {
        let mut lists: [Vec<u32>; 5] = Link::ALL.map(|k| self.raw(k).to_vec());
        let list = &mut lists[link as usize];
        list.retain(|x| *x != id);
        if add {
            list.push(id);
        }
        Self::new([&lists[0], &lists[1], &lists[2], &lists[3], &lists[4]])
    }
}

impl fmt::Debug for UserLinks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("UserLinks");
        for link in Link::ALL {
            d.field(&format!("{link:?}"), &self.raw(link));
        }
        d.finish()
    }
}

/// The iterator of [`Ids`].
#[derive(Debug, Clone)]
pub struct IdIter<'a, T> {
    raw: std::slice::Iter<'a, u32>,
    kind: std::marker::PhantomData<T>,
}

impl<T: Id> Iterator for IdIter<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.raw.next().map(|r| T::from_raw(*r))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.raw.size_hint()
    }
}

impl<T: Id> DoubleEndedIterator for IdIter<'_, T> {
    fn next_back(&mut self) -> Option<T> {
        self.raw.next_back().map(|r| T::from_raw(*r))
    }
}

impl<T: Id> ExactSizeIterator for IdIter<'_, T> {}

/// Ids of one kind from an entry's packed links (see [`User::groups`]): sorted, without
/// duplicates.
#[derive(Clone, Copy)]
pub struct Ids<'a, T> {
    raw: &'a [u32],
    kind: std::marker::PhantomData<T>,
}

impl<'a, T: Id> Ids<'a, T> {
    /// The ids, in order.
    pub fn iter(self) -> IdIter<'a, T> {
        IdIter { raw: self.raw.iter(), kind: std::marker::PhantomData }
    }

    /// How many there are.
    pub fn len(self) -> usize {
        self.raw.len()
    }

    /// Whether there are none.
    pub fn is_empty(self) -> bool {
        self.raw.is_empty()
    }

    /// Whether `id` is one of them.
    pub fn contains(self, id: T) -> bool {
        // Most lists are a few ids long, where a scan beats a binary search.
        if self.raw.len() <= 16 { self.raw.contains(&id.raw()) } else { self.raw.binary_search(&id.raw()).is_ok() }
    }

    /// The first, if any.
    pub fn first(self) -> Option<T> {
        self.raw.first().map(|r| T::from_raw(*r))
    }

    /// The ids, collected.
    pub fn to_vec(self) -> Vec<T> {
        self.iter().collect()
    }
}

impl<T> Default for Ids<'_, T> {
    fn default() -> Self {
        Self { raw: &[], kind: std::marker::PhantomData }
    }
}

impl<'a, T: Id> IntoIterator for Ids<'a, T> {
    type Item = T;
    type IntoIter = IdIter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<T: Id + fmt::Debug> fmt::Debug for Ids<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
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
    /// The first link, in place: a guardian usually has one, and a query reads it without
    /// another cache miss (see [`Guardian::links`]).
    first_link: Option<GuardianLink>,
    /// The links after the first: a boxed slice, empty (no allocation) for most guardians.
    more_links: Box<[GuardianLink]>,
    /// Position in the file's `guardians` list.
    pub raw: usize,
}

/// The iterator of [`GuardianLinks`]: the first link, then the rest.
pub type LinkIter<'a> = std::iter::Chain<std::option::IntoIter<&'a GuardianLink>, std::slice::Iter<'a, GuardianLink>>;

/// A guardian's links to students, in directory order (see [`Guardian::links`]).
#[derive(Debug, Clone, Copy)]
pub struct GuardianLinks<'a> {
    first: Option<&'a GuardianLink>,
    more: &'a [GuardianLink],
}

impl<'a> GuardianLinks<'a> {
    /// The links, in order.
    pub fn iter(self) -> LinkIter<'a> {
        self.first.into_iter().chain(self.more)
    }

    /// The first link, if any.
    pub fn first(self) -> Option<&'a GuardianLink> {
        self.first
    }

    /// How many there are.
    pub fn len(self) -> usize {
        usize::from(self.first.is_some()) + self.more.len()
    }

    /// Whether there are none.
    pub fn is_empty(self) -> bool {
        self.first.is_none()
    }
}

impl<'a> IntoIterator for GuardianLinks<'a> {
    type Item = &'a GuardianLink;
    type IntoIter = LinkIter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
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
            first_link: None,
            more_links: Box::default(),
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

    /// The students this guardian is linked to, in directory order.
    pub fn links(&self) -> GuardianLinks<'_> {
        // Read as if there were no first link when it is missing (only a damaged bundle could
        // have more links without a first).
        let more = if self.first_link.is_some() { &self.more_links[..] } else { &[] };
        GuardianLinks { first: self.first_link.as_ref(), more }
    }

    /// Sets the links: the first in place, the rest boxed.
    pub(crate) fn set_links(&mut self, links: Vec<GuardianLink>) {
        let mut links = links.into_iter();
        self.first_link = links.next();
        self.more_links = links.collect();
    }

    /// The `i`th link, to change.
    pub(crate) fn link_mut(&mut self, i: usize) -> Option<&mut GuardianLink> {
        match i {
            0 => self.first_link.as_mut(),
            _ => self.more_links.get_mut(i - 1),
        }
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
            .field("links", &self.links())
            .finish_non_exhaustive()
    }
}

/// Guardians in directory order, found by id: a guardian hashes and compares as its id, so the
/// set needs no key beside it (a district has millions of guardians).
pub type GuardianSet = indexmap::IndexSet<Guardian, foldhash::fast::RandomState>;

keyed_by!(Guardian, id, "id", "`email()`, `phone()`");

/// Entries by name, in directory order. Hashed with foldhash: names are probed on every query,
/// and SipHash's resistance to chosen collisions buys nothing for a directory the admin wrote.
pub type NameMap<T> = IndexMap<String, T, foldhash::fast::RandomState>;

/// A validated directory. Keys are lower-cased UPNs, group ids, class ids and guardian ids.
#[derive(Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Directory {
    /// Keyed by their own key (see [`User`]'s `Hash`): no second copy of it as a key.
    users: UserSet,
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
        self.users.iter().enumerate().map(|(i, u)| (UserId::new(i), u))
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
        self.users.iter().map(User::key)
    }

    /// A user's key (see [`key`]): what queries match.
    pub fn user_key(&self, id: UserId) -> &str {
        self.users.get_index(id.index()).map_or("", User::key)
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
        for user in &self.users {
            privacy.user(user.upn());
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
        let index = self.suggestions.users.get_or_init(|| NameIndex::new(self.users.iter().map(User::key)));
        index.closest(upn.trim()).and_then(|i| self.users.get_index(i)).map(User::key)
    }

    /// The id of the known group closest to an unknown one, as the directory writes it.
    pub fn suggest_group(&self, id: &str) -> Option<&str> {
        let index = self.suggestions.groups.get_or_init(|| NameIndex::new(self.groups.keys().map(String::as_str)));
        index.closest(id.trim()).and_then(|i| self.groups.get_index(i)).map(|(_, g)| g.id.as_str())
    }

    /// The schools of the class teams `user` owns or learns in, sorted, without duplicates.
    pub fn schools_of(&self, user: &User) -> Vec<&str> {
        let mut out: Vec<&str> = user
            .owns()
            .iter()
            .chain(user.student_of())
            .filter_map(|t| self.class_team_at(t).school.as_deref())
            .collect();
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
        let mut sets: std::collections::HashSet<NameSet> = Default::default();
        let mut share = |set: &mut NameSet| {
            if let Some(shared) = sets.get(set) {
                *set = shared.clone();
                return;
            }
            if let Some(list) = Arc::get_mut(set) {
                for name in list.iter_mut() {
                    match names.get(name) {
                        Some(shared) => *name = shared.clone(),
                        None => {
                            names.insert(name.clone());
                        }
                    }
                }
            }
            sets.insert(set.clone());
        };
        for i in 0..self.users.len() {
            let Some(user) = self.users.get_index_mut2(i) else { continue };
            share(&mut user.roles);
            share(&mut user.licenses);
        }
        let (users, groups, teams, guardians) =
            (self.users.len(), self.groups.len(), self.class_teams.len(), self.guardians.len());
        fn fits(mut ids: impl Iterator<Item = usize>, count: usize) -> bool {
            ids.all(|i| i < count)
        }
        let users_fit = self.users.iter().all(|u| {
            u.links.in_place()
                && fits(u.blocked().iter().chain(u.guardians()).map(|g| g.index()), guardians)
                && fits(u.groups().iter().map(|g| g.index()), groups)
                && fits(u.owns().iter().chain(u.student_of()).map(|c| c.index()), teams)
        });
        let groups_fit = self.groups.values().all(|g| fits(g.members.iter().map(|u| u.index()), users));
        let teams_fit =
            self.class_teams.values().all(|t| fits(t.owners.iter().chain(&t.students).map(|u| u.index()), users));
        let guardians_fit = self.guardians.iter().all(|g| fits(g.links().iter().map(|l| l.student.index()), users));
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
        let found = self.users.get_full(upn).or_else(|| self.users.get_full(self::key(upn).as_str()));
        found.map(|(i, u)| (UserId::new(i), u))
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
        let Some(u) = self.users.get_index(user.index()) else { return Vec::new() };
        let mut out = u.guardians().to_vec();
        for c in u.owns() {
            if let Some((_, team)) = self.class_teams.get_index(c.index()) {
                for s in &team.students {
                    if let Some(student) = self.users.get_index(s.index()) {
                        out.extend(student.guardians());
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
        let owns = self.users.get_index(user.index()).map_or(Ids::default(), User::owns);
        // A student is in few class teams and a teacher owns few: compare those lists rather
        // than scan the students of every class team the teacher owns.
        let teaches = |student: UserId| {
            !owns.is_empty()
                && self
                    .users
                    .get_index(student.index())
                    .is_some_and(|s| s.student_of().iter().any(|c| owns.contains(c)))
        };
        let links = guardian.links();
        let own = links.iter().find(|l| l.student == user);
        let taught = links.iter().find(|l| teaches(l.student));
        let relationship = own.or(taught).or(links.first()).map_or(Relationship::Other, |l| l.relationship);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn lists(links: &UserLinks) -> Vec<Vec<u32>> {
        Link::ALL.iter().map(|k| links.raw(*k).to_vec()).collect()
    }

    #[test]
    fn links_pack_five_sorted_lists_into_one() {
        let links = UserLinks::new([&[2], &[], &[3, 1, 3], &[5, 5], &[0, 7]]);
        assert_eq!(lists(&links), [vec![2], vec![], vec![1, 3], vec![5], vec![0, 7]]);
        assert_eq!(links.ids.len(), 6, "one allocation, every id once");
        let user = User { links, ..User::new("a@x.edu", None) };
        assert_eq!(user.groups().to_vec(), [GroupId::new(1), GroupId::new(3)]);
        assert!(user.groups().contains(GroupId::new(3)) && !user.groups().contains(GroupId::new(2)));
        assert!(user.owns().is_empty() && user.owns().first().is_none());
        assert_eq!(user.student_of().first(), Some(ClassTeamId::new(2)));
        assert_eq!(user.blocked().len(), 2);
    }

    #[test]
    fn a_users_key_upn_and_name_share_one_allocation_and_the_key_is_stored_once() {
        let same = User::new(" ana@x.edu ", Some("Ana Rivera"));
        assert_eq!((same.key(), same.upn(), same.name()), ("ana@x.edu", "ana@x.edu", Some("Ana Rivera")));
        assert_eq!(&*same.text, "ana@x.eduAna Rivera", "a UPN that is its own key is not stored twice");
        let cased = User::new("Ana@X.edu", None);
        assert_eq!((cased.key(), cased.upn(), cased.name()), ("ana@x.edu", "Ana@X.edu", None));
        assert_eq!(cased.display_name(), "Ana@X.edu");
        let empty_name = User::new("b@x.edu", Some(""));
        assert_eq!(empty_name.name(), Some(""), "an empty name is kept as given");
        let mut users = UserSet::default();
        assert!(users.insert(cased));
        assert!(!users.insert(same), "the same key is the same user");
        assert_eq!(users.get_full("ana@x.edu").map(|(i, u)| (i, u.upn())), Some((0, "Ana@X.edu")));
    }

    #[test]
    fn an_edit_adds_or_removes_one_id_and_keeps_the_rest() {
        let links = UserLinks::new([&[], &[4], &[1], &[2], &[]]);
        let added = links.with(Link::Owns, 0, true);
        assert_eq!(lists(&added), [vec![], vec![0, 4], vec![1], vec![2], vec![]]);
        let removed = added.with(Link::Guardians, 2, false);
        assert_eq!(lists(&removed), [vec![], vec![0, 4], vec![1], vec![], vec![]]);
        assert_eq!(removed.with(Link::Groups, 1, true), removed, "adding what is there changes nothing");
    }

    #[test]
    fn a_guardians_first_link_is_in_place_and_the_rest_follow_in_order() {
        let link = |s: usize, relationship| GuardianLink { student: UserId::new(s), relationship };
        let mut g = Guardian::new("g", "G", None, None);
        assert!(g.links().is_empty() && g.links().first().is_none() && g.link_mut(0).is_none());
        g.set_links(vec![link(4, Relationship::Parent)]);
        assert_eq!(g.links().len(), 1);
        assert!(g.more_links.is_empty(), "one link: nothing boxed");
        g.set_links(vec![link(4, Relationship::Parent), link(2, Relationship::Aide), link(9, Relationship::Other)]);
        let students: Vec<usize> = g.links().iter().map(|l| l.student.index()).collect();
        assert_eq!((students, g.links().len()), (vec![4, 2, 9], 3));
        if let Some(l) = g.link_mut(2) {
            l.relationship = Relationship::Guardian;
        }
        assert_eq!(g.links().iter().last().map(|l| l.relationship), Some(Relationship::Guardian));
        assert!(g.link_mut(3).is_none());
    }

    #[test]
    fn links_out_of_place_read_empty_and_are_found_when_loaded() {
        let damaged = UserLinks { ids: Box::new([1, 2]), ends: [5, 1, 1, 1] };
        assert!(!damaged.in_place());
        assert!(damaged.raw(Link::StudentOf).is_empty() && damaged.raw(Link::Owns).is_empty());
        assert!(UserLinks::new([&[1], &[], &[], &[], &[2]]).in_place());
    }
}
