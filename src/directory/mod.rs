//! The directory: users, groups, class teams and guardians, read from YAML and validated.
//!
//! Everything is checked before anything is used: unknown references, duplicates and bad values
//! are located errors (file, line, column, field), and nothing is silently dropped.

pub mod locate;

use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::source::{FileId, Span};
use crate::suggest::NameIndex;
use indexmap::IndexMap;
use locate::Locations;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Arc, OnceLock};

/// Largest directory file accepted, in bytes.
pub const MAX_DIRECTORY_BYTES: usize = 512 * 1024 * 1024;

/// A guardian's relationship to a student, as School Data Sync defines the roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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

/// Index of a user in [`Directory::users`].
pub type UserIdx = usize;
/// Index of a guardian in [`Directory::guardians`].
pub type GuardianIdx = usize;

#[derive(Debug, Clone)]
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
    pub blocked: Vec<GuardianIdx>,
    /// Groups the user is a direct member of (indices into [`Directory::groups`]), sorted.
    pub groups: Vec<usize>,
    /// Class teams the user owns.
    pub owns: Vec<usize>,
    /// Class teams the user is a student of.
    pub student_of: Vec<usize>,
    /// Guardians linked to this user as a student, sorted.
    pub guardians: Vec<GuardianIdx>,
    /// Position in the file's `users` list (see [`Directory::user_span`]).
    pub raw: usize,
}

impl User {
    /// The display name, or the UPN when the directory gives none.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.upn)
    }
}

#[derive(Debug, Clone)]
pub struct Group {
    pub id: String,
    pub name: String,
    pub members: Vec<UserIdx>,
    pub hidden_membership: bool,
    /// Position in the file's `groups` list.
    pub raw: usize,
}

#[derive(Debug, Clone)]
pub struct ClassTeam {
    pub id: String,
    pub name: String,
    pub owners: Vec<UserIdx>,
    pub students: Vec<UserIdx>,
    /// Position in the file's `class_teams` list.
    pub raw: usize,
}

/// One guardian–student link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuardianLink {
    pub student: UserIdx,
    pub relationship: Relationship,
}

/// A parent or guardian: an external contact. Email and phone are personal data of a minor's
/// family: they are never put into logs or diagnostics messages.
#[derive(Clone)]
pub struct Guardian {
    /// The id used in queries: the explicit `id`, else the email, lower-cased.
    pub id: Box<str>,
    pub name: Box<str>,
    pub email: Option<Box<str>>,
    pub phone: Option<Box<str>>,
    pub phone_e164: bool,
    pub on_teams: bool,
    /// Usually one link: a boxed slice rather than a growable list (a district has millions).
    pub links: Box<[GuardianLink]>,
    /// Position in the file's `guardians` list.
    pub raw: usize,
}

impl fmt::Debug for Guardian {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Contact details are redacted so a stray `{:?}` can't leak them.
        f.debug_struct("Guardian")
            .field("name", &self.name)
            .field("has_email", &self.email.is_some())
            .field("has_phone", &self.phone.is_some())
            .field("phone_e164", &self.phone_e164)
            .field("on_teams", &self.on_teams)
            .field("links", &self.links)
            .finish_non_exhaustive()
    }
}

/// Entries by name, in directory order. Hashed with foldhash: names are probed on every query,
/// and SipHash's resistance to chosen collisions buys nothing for a directory the admin wrote.
pub type NameMap<T> = IndexMap<String, T, foldhash::fast::RandomState>;

/// A validated directory. Keys are lower-cased UPNs, group ids, class ids and guardian ids.
#[derive(Clone, Default)]
pub struct Directory {
    pub users: NameMap<User>,
    pub groups: NameMap<Group>,
    pub class_teams: NameMap<ClassTeam>,
    pub guardians: NameMap<Guardian>,
    /// Roles held by at least one enabled / disabled user (sorted).
    pub enabled_roles: Vec<String>,
    pub disabled_roles: Vec<String>,
    /// What is assumed for lack of an export (already part of the role sets above).
    pub assumed: Vec<Assumption>,
    /// Finds spans in the file, on demand.
    pub locator: Locator,
    /// Indexes for "did you mean", built on first use (an unknown name) and kept.
    suggestions: Arc<Suggestions>,
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
#[derive(Clone, Default)]
pub struct Locator {
    file: FileId,
    text: Arc<str>,
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
    /// What messages may show of this directory's people: emails at its users' domains, never
    /// a guardian's email or phone (see [`crate::privacy`]).
    pub fn privacy(&self) -> crate::privacy::Privacy {
        let mut privacy = crate::privacy::Privacy::default();
        for user in self.users.values() {
            privacy.user(&user.upn);
        }
        for (id, guardian) in &self.guardians {
            privacy.guardian_email(id);
            if let Some(email) = &guardian.email {
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

    /// Builds the suggestion indexes now, so the first unknown name does not pay for them: for
    /// a server, whose request path must stay short.
    pub fn index_suggestions(&self) {
        let _ = (self.suggest_user(""), self.suggest_group(""));
    }

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

    pub fn user(&self, upn: &str) -> Option<(UserIdx, &User)> {
        lookup(&self.users, upn)
    }

    pub fn guardian(&self, id: &str) -> Option<(GuardianIdx, &Guardian)> {
        lookup(&self.guardians, id)
    }

    /// Guardians a user deals with, in directory order: those of the students of the class teams
    /// the user owns, and the user's own.
    pub fn guardians_of(&self, user: UserIdx) -> Vec<GuardianIdx> {
        let Some((_, u)) = self.users.get_index(user) else { return Vec::new() };
        let mut out = u.guardians.clone();
        for c in &u.owns {
            if let Some((_, team)) = self.class_teams.get_index(*c) {
                for s in &team.students {
                    if let Some((_, student)) = self.users.get_index(*s) {
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
    pub fn relation(&self, user: UserIdx, guardian: &Guardian) -> Relation {
        let owns: &[usize] = self.users.get_index(user).map_or(&[], |(_, u)| &u.owns);
        // A student is in few class teams and a teacher owns few: compare those lists rather
        // than scan the students of every class team the teacher owns.
        let teaches = |student: UserIdx| {
            !owns.is_empty()
                && self.users.get_index(student).is_some_and(|(_, s)| s.student_of.iter().any(|c| owns.contains(c)))
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

// ------------------------------------------------------------------------------------------
// The YAML shape

/// A directory file as written, before validation. Also what an import builds in memory (see
/// [`from_raw`]) and writes out.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawDirectory {
    #[serde(default)]
    pub users: Vec<RawUser>,
    #[serde(default)]
    pub groups: Vec<RawGroup>,
    #[serde(default)]
    pub class_teams: Vec<RawClassTeam>,
    #[serde(default)]
    pub guardians: Vec<RawGuardian>,
    /// Facts no export supplied and that are assumed instead (written by `tenet import`): every
    /// explanation that reads them says so.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assumed: Vec<Assumption>,
}

/// What is assumed because a source is missing, and why: every explanation that reads one of
/// `facts` states it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Assumption {
    /// Roles taken as held by at least one enabled user.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enabled_roles: Vec<String>,
    /// The facts it concerns, by name or prefix: `directory`, `guardian.on_teams`,
    /// `tenant.ParentConnectionConfiguration`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub facts: Vec<String>,
    pub because: String,
}

impl Assumption {
    /// Whether the fact named `name` (`user.invites_sent`) is one this assumption concerns.
    pub fn concerns(&self, name: &str) -> bool {
        self.facts.iter().any(|f| name == f || name.strip_prefix(f.as_str()).is_some_and(|rest| rest.starts_with('.')))
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawUser {
    pub upn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<String>,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub invites_sent: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocked_guardians: Vec<String>,
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawGroup {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub members: Vec<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hidden_membership: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawClassTeam {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub owners: Vec<String>,
    #[serde(default)]
    pub students: Vec<String>,
}

/// A guardian as written. Holds contact details: its `Debug` leaves them out.
#[derive(Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawGuardian {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub on_teams: bool,
    #[serde(default)]
    pub students: Vec<RawLink>,
}

impl fmt::Debug for RawGuardian {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawGuardian")
            .field("name", &self.name)
            .field("students", &self.students)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawLink {
    pub upn: String,
    pub relationship: String,
}

// ------------------------------------------------------------------------------------------
// Loading

/// Parses and validates a directory file. `file` is its id in the caller's source map.
impl RawDirectory {
    /// What messages about this directory may show, should it not validate (see
    /// [`Directory::privacy`]).
    pub fn privacy(&self) -> crate::privacy::Privacy {
        let mut privacy = crate::privacy::Privacy::default();
        for user in &self.users {
            privacy.user(&user.upn);
        }
        for guardian in &self.guardians {
            for value in [&guardian.id, &guardian.email].into_iter().flatten() {
                privacy.guardian_email(value);
            }
        }
        privacy
    }
}

/// What messages about a directory file that does not load may show: emails at the domains
/// of the `upn`s it lists, never those of its guardians. Read leniently, as YAML values, so a
/// broken file still tells a teacher's UPN from a parent's email; nothing is shown from a file
/// too large or too aliased to read.
pub fn privacy_of_text(text: &str) -> crate::privacy::Privacy {
    use serde_yaml::Value;
    let mut privacy = crate::privacy::Privacy::default();
    if text.len() > MAX_DIRECTORY_BYTES || crate::yaml::check_aliases(text).is_err() {
        return privacy;
    }
    let Ok(Value::Mapping(top)) = serde_yaml::from_str::<Value>(text) else {
        return privacy;
    };
    let entries = |key: &str| match top.get(key) {
        Some(Value::Sequence(items)) => items.iter().filter_map(Value::as_mapping).collect(),
        _ => Vec::new(),
    };
    for user in entries("users") {
        if let Some(upn) = user.get("upn").and_then(Value::as_str) {
            privacy.user(upn);
        }
    }
    for guardian in entries("guardians") {
        for key in ["id", "email"] {
            if let Some(value) = guardian.get(key).and_then(Value::as_str) {
                privacy.guardian_email(value);
            }
        }
    }
    privacy
}

pub fn load(file: FileId, text: impl Into<Arc<str>>) -> Result<Directory, Vec<Diagnostic>> {
    let text: Arc<str> = text.into();
    let text = &text;
    if text.len() > MAX_DIRECTORY_BYTES {
        return Err(vec![
            Diagnostic::error(
                Code::InputTooLarge,
                format!("directory file is {} bytes, over the limit of {MAX_DIRECTORY_BYTES}", text.len()),
            )
            .at(Span::new(file, 0, 0), "this file"),
        ]);
    }
    let raw: RawDirectory = if text.trim().is_empty() {
        RawDirectory::default()
    } else {
        crate::yaml::check_aliases(text).map_err(|limit| {
            let span = Span::new(file, limit.offset, limit.offset + 1);
            vec![
                Diagnostic::error(Code::InputTooLarge, format!("invalid directory: {}", limit.message))
                    .at(span, "this alias")
                    .help("write the values out: an alias repeats all of what its anchor names"),
            ]
        })?;
        serde_yaml::from_str(text).map_err(|e| vec![yaml_error(file, text, &e)])?
    };
    validate(file, text.clone(), raw)
}

/// Validates a directory already in memory (an import), as [`load`] validates a file's. `file`
/// names it in diagnostics; with no text to point into, they point at its start.
pub fn from_raw(file: FileId, raw: RawDirectory) -> Result<Directory, Vec<Diagnostic>> {
    validate(file, Arc::from(""), raw)
}

fn validate(file: FileId, text: Arc<str>, raw: RawDirectory) -> Result<Directory, Vec<Diagnostic>> {
    let mut v = Validator { locator: Locator::new(file, text), errors: Vec::new(), names: Default::default() };
    let dir = v.build(raw);
    if v.errors.is_empty() { Ok(dir) } else { Err(v.errors) }
}

fn yaml_error(file: FileId, text: &str, e: &serde_yaml::Error) -> Diagnostic {
    let offset = e.location().map_or(0, |l| l.index().min(text.len()));
    let message = e.to_string();
    // serde_yaml appends " at line N column M"; the label carries the location instead.
    let mut message = match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message,
    };
    // serde names Rust types; say what the file should hold instead.
    for (rust, words) in [
        ("struct RawDirectory", "a mapping with `users`, `groups`, `class_teams` and `guardians`"),
        ("struct RawUser", "a user (a mapping with `upn`, ...)"),
        ("struct RawGroup", "a group (a mapping with `id`, ...)"),
        ("struct RawClassTeam", "a class team (a mapping with `id`, ...)"),
        ("struct RawGuardian", "a guardian (a mapping with `name`, `email`, ...)"),
        ("struct Assumption", "an assumption (a mapping with `facts`, `enabled_roles` and `because`)"),
        ("struct RawLink", "a student link (a mapping with `upn` and `relationship`)"),
        ("u32", "a whole number of 0 or more"),
    ] {
        message = message.replace(rust, words);
    }
    // serde quotes offending values, which may be a guardian's email or phone: leave them out.
    let mut parts = message.split('"');
    let mut scrubbed = parts.next().unwrap_or_default().to_string();
    for (i, part) in parts.enumerate() {
        scrubbed.push_str(if i % 2 == 0 { "…" } else { part });
    }
    let message = scrubbed.replace("string …", "a string");
    let help = if message.contains("unknown field") {
        "the directory has `users`, `groups`, `class_teams` and `guardians`; see the README for their fields"
    } else if message.contains("missing field") {
        "add the field; see the README for the directory format"
    } else {
        "see the README for the directory format"
    };
    Diagnostic::error(Code::DirectorySyntax, format!("invalid directory: {message}"))
        .at(Span::new(file, offset, offset + 1), "here")
        .help(help)
}

/// A user's `blocked_guardians`, kept until the guardians are known.
struct Blocks {
    /// Position in the file's `users` list.
    raw: usize,
    /// Index in [`Directory::users`].
    user: UserIdx,
    guardians: Vec<String>,
}

struct Validator {
    locator: Locator,
    errors: Vec<Diagnostic>,
    /// Role and licence names, each stored once.
    names: foldhash::HashMap<String, Arc<str>>,
}

impl Validator {
    fn span(&self, path: &str) -> Span {
        self.locator.span(path)
    }

    fn error(&mut self, code: Code, path: &str, message: String, label: &str, help: Option<String>) {
        let mut d = Diagnostic::error(code, message).at(self.span(path), format!("{label} (`{path}`)"));
        if let Some(h) = help {
            d = d.help(h);
        }
        self.errors.push(d);
    }

    /// Like [`Self::error`], for a value that is a guardian's contact detail.
    fn personal_error(&mut self, code: Code, path: &str, message: String, label: &str, help: Option<String>) {
        self.error(code, path, message, label, help);
        if let Some(d) = self.errors.pop() {
            self.errors.push(d.personal());
        }
    }

    fn build(&mut self, raw: RawDirectory) -> Directory {
        let mut dir = Directory { locator: self.locator.clone(), ..Directory::default() };
        let assumed = raw.assumed;
        let blocks = self.users(&mut dir, raw.users);
        self.groups(&mut dir, raw.groups);
        self.class_teams(&mut dir, raw.class_teams);
        self.guardians(&mut dir, raw.guardians);
        self.blocks(&mut dir, blocks);
        // The lists were grown one entry at a time, and the maps reserve entries to match their
        // hash tables (up to twice the entries); a district keeps millions of both.
        for u in dir.users.values_mut() {
            for list in [&mut u.groups, &mut u.owns, &mut u.student_of, &mut u.guardians] {
                list.shrink_to_fit();
            }
        }
        dir.users.shrink_to_fit();
        dir.groups.shrink_to_fit();
        dir.class_teams.shrink_to_fit();
        dir.guardians.shrink_to_fit();
        // Sets of borrowed names: a district has millions of role entries and a handful of roles.
        let (mut enabled, mut disabled) = (BTreeSet::new(), BTreeSet::new());
        for u in dir.users.values() {
            let into = if u.enabled { &mut enabled } else { &mut disabled };
            into.extend(u.roles.iter().map(|r| &**r));
        }
        enabled.extend(assumed.iter().flat_map(|a| a.enabled_roles.iter().map(String::as_str)));
        let owned = |set: BTreeSet<&str>| set.into_iter().map(str::to_string).collect();
        (dir.enabled_roles, dir.disabled_roles) = (owned(enabled), owned(disabled));
        dir.assumed = assumed;
        dir
    }

    /// Adds the users, taking their strings rather than copying them (a district has millions);
    /// returns the users' blocked-guardian lists, resolved once guardians are known.
    fn users(&mut self, dir: &mut Directory, raw: Vec<RawUser>) -> Vec<Blocks> {
        dir.users.reserve(raw.len());
        let mut blocks = Vec::new();
        for (i, u) in raw.into_iter().enumerate() {
            let path = || format!("users[{i}].upn");
            let key = key(&u.upn);
            if !looks_like_address(&key) {
                self.error(
                    Code::DirectoryValue,
                    &path(),
                    format!("`{}` is not a user principal name", u.upn),
                    "expected name@domain",
                    Some("a UPN looks like `ana.rivera@lakeside.edu`".into()),
                );
                continue;
            }
            if let Some(first) = dir.users.get(&key) {
                let first_span = self.span(&format!("users[{}].upn", first.raw));
                let d = Diagnostic::error(Code::DirectoryDuplicate, format!("user `{}` is listed twice", u.upn))
                    .at(self.span(&path()), format!("second definition (`{}`)", path()))
                    .also(first_span, "first definition")
                    .help("UPNs are compared without regard to case; merge the two entries");
                self.errors.push(d);
                continue;
            }
            for (field, values) in [("roles", &u.roles), ("licenses", &u.licenses)] {
                for (j, v) in values.iter().enumerate() {
                    if v.trim().is_empty() {
                        self.error(
                            Code::DirectoryValue,
                            &format!("users[{i}].{field}[{j}]"),
                            format!("user `{}` has an empty entry in `{field}`", u.upn),
                            "empty",
                            Some(format!("remove the empty entry or name the {}", &field[..field.len() - 1])),
                        );
                    }
                }
            }
            let upn = if u.upn.trim().len() == u.upn.len() { u.upn } else { u.upn.trim().to_string() };
            if !u.blocked_guardians.is_empty() {
                blocks.push(Blocks { raw: i, user: dir.users.len(), guardians: u.blocked_guardians });
            }
            let user = User {
                upn,
                name: u.name,
                roles: self.name_set(&u.roles),
                licenses: self.name_set(&u.licenses),
                enabled: u.enabled,
                invites_sent: i64::from(u.invites_sent),
                blocked: Vec::new(),
                groups: Vec::new(),
                owns: Vec::new(),
                student_of: Vec::new(),
                guardians: Vec::new(),
                raw: i,
            };
            dir.users.insert(key, user);
        }
        blocks
    }

    /// Trimmed names, shared, sorted and without duplicates or blanks.
    fn name_set(&mut self, names: &[String]) -> Vec<Arc<str>> {
        let mut set: Vec<Arc<str>> = Vec::with_capacity(names.len());
        for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
            let shared = match self.names.get(name) {
                Some(shared) => shared.clone(),
                None => self.names.entry(name.to_string()).or_insert_with(|| Arc::from(name)).clone(),
            };
            set.push(shared);
        }
        set.sort();
        set.dedup();
        set
    }

    /// Resolves a user reference, reporting unknown ones.
    /// `path` is only built for the error: references are most of a directory.
    fn user_ref(&mut self, dir: &Directory, upn: &str, path: impl FnOnce() -> String) -> Option<UserIdx> {
        if let Some((i, _)) = dir.user(upn) {
            return Some(i);
        }
        let path = &path();
        let help = dir
            .suggest_user(upn)
            .map(|s| format!("did you mean `{s}`?"))
            .or_else(|| Some("add the user under `users`".into()));
        self.error(Code::DirectoryReference, path, format!("unknown user `{upn}`"), "not in `users`", help);
        None
    }

    fn groups(&mut self, dir: &mut Directory, raw: Vec<RawGroup>) {
        for (i, g) in raw.into_iter().enumerate() {
            let path = format!("groups[{i}]");
            let key = key(&g.id);
            if let Some(first) = dir.groups.get(&key) {
                let d = Diagnostic::error(Code::DirectoryDuplicate, format!("group `{}` is listed twice", g.id))
                    .at(self.span(&format!("{path}.id")), format!("second definition (`{path}.id`)"))
                    .also(self.span(&format!("groups[{}].id", first.raw)), "first definition")
                    .help("merge the two groups' members into one entry");
                self.errors.push(d);
                continue;
            }
            let mut members = Vec::with_capacity(g.members.len());
            for (j, m) in g.members.iter().enumerate() {
                if let Some(u) = self.user_ref(dir, m, || format!("{path}.members[{j}]")) {
                    members.push(u);
                }
            }
            members.sort_unstable();
            members.dedup();
            let gi = dir.groups.len();
            for &u in &members {
                if let Some((_, user)) = dir.users.get_index_mut(u) {
                    user.groups.push(gi);
                }
            }
            dir.groups.insert(
                key,
                Group {
                    name: g.name.unwrap_or_else(|| g.id.clone()),
                    id: g.id.trim().to_string(),
                    members,
                    hidden_membership: g.hidden_membership,
                    raw: i,
                },
            );
        }
    }

    fn class_teams(&mut self, dir: &mut Directory, raw: Vec<RawClassTeam>) {
        for (i, c) in raw.into_iter().enumerate() {
            let path = format!("class_teams[{i}]");
            let key = key(&c.id);
            let first = match (dir.class_teams.get(&key), dir.groups.get(&key)) {
                (Some(f), _) => {
                    Some((format!("class_teams[{}].id", f.raw), "class team ids must be unique; merge or rename one"))
                }
                (None, Some(g)) => {
                    Some((format!("groups[{}].id", g.raw), "group and class team ids share one name space; rename one"))
                }
                (None, None) => None,
            };
            if let Some((first_path, help)) = first {
                let d = Diagnostic::error(Code::DirectoryDuplicate, format!("id `{}` is used twice", c.id))
                    .at(self.span(&format!("{path}.id")), format!("second use (`{path}.id`)"))
                    .also(self.span(&first_path), "first use")
                    .help(help);
                self.errors.push(d);
                continue;
            }
            let ci = dir.class_teams.len();
            let mut owners = Vec::with_capacity(c.owners.len());
            for (j, o) in c.owners.iter().enumerate() {
                if let Some(u) = self.user_ref(dir, o, || format!("{path}.owners[{j}]")) {
                    owners.push(u);
                }
            }
            let mut students = Vec::with_capacity(c.students.len());
            for (j, s) in c.students.iter().enumerate() {
                if let Some(u) = self.user_ref(dir, s, || format!("{path}.students[{j}]")) {
                    students.push(u);
                }
            }
            owners.sort_unstable();
            owners.dedup();
            students.sort_unstable();
            students.dedup();
            for &u in &owners {
                if let Some((_, user)) = dir.users.get_index_mut(u) {
                    user.owns.push(ci);
                }
            }
            for &u in &students {
                if let Some((_, user)) = dir.users.get_index_mut(u) {
                    user.student_of.push(ci);
                }
            }
            dir.class_teams.insert(
                key,
                ClassTeam {
                    name: c.name.unwrap_or_else(|| c.id.clone()),
                    id: c.id.trim().to_string(),
                    owners,
                    students,
                    raw: i,
                },
            );
        }
    }

    fn guardians(&mut self, dir: &mut Directory, raw: Vec<RawGuardian>) {
        dir.guardians.reserve(raw.len());
        for (i, g) in raw.into_iter().enumerate() {
            let path = || format!("guardians[{i}]");
            let email = g.email.map(lowercase_trimmed).filter(|e| !e.is_empty());
            if let Some(e) = &email
                && !looks_like_address(e)
            {
                // The value itself is personal data: the label points at it instead of quoting it.
                self.personal_error(
                    Code::DirectoryValue,
                    &format!("{}.email", path()),
                    format!("guardian {i} has an email address that is not of the form name@domain"),
                    "invalid email",
                    Some("fix the address, or remove `email` if the guardian has none".into()),
                );
            }
            let Some(id) = g.id.map(lowercase_trimmed).filter(|s| !s.is_empty()).or_else(|| email.clone()) else {
                self.error(
                    Code::DirectoryValue,
                    &path(),
                    format!("guardian {i} has neither `id` nor `email`"),
                    "needs an id",
                    Some("give the guardian an `id` so queries can name it".into()),
                );
                continue;
            };
            let phone = g.phone.map(trimmed).filter(|p| !p.is_empty());
            if let Some(p) = &phone
                && !looks_like_phone(p)
            {
                self.personal_error(
                    Code::DirectoryValue,
                    &format!("{}.phone", path()),
                    format!("guardian {i} has a phone number with characters other than digits, spaces, `+`, `-`, `.`, `(` and `)`"),
                    "invalid phone number",
                    Some("write the number in E.164 form: `+`, the country code, then the number's digits".into()),
                );
            }
            if g.students.is_empty() {
                self.error(
                    Code::DirectoryValue,
                    &path(),
                    format!("guardian {i} is linked to no student"),
                    "no `students`",
                    Some("add `students: [{upn: ..., relationship: parent}]`".into()),
                );
            }
            let mut links = Vec::with_capacity(g.students.len());
            for (j, l) in g.students.iter().enumerate() {
                let lpath = || format!("guardians[{i}].students[{j}]");
                let student = self.user_ref(dir, &l.upn, || format!("{}.upn", lpath()));
                let relationship = Relationship::parse(&l.relationship);
                if relationship.is_none() {
                    let names: Vec<&str> = Relationship::ALL.iter().map(|r| r.as_str()).collect();
                    self.error(
                        Code::DirectoryValue,
                        &format!("{}.relationship", lpath()),
                        format!("unknown relationship `{}`", l.relationship),
                        "not a School Data Sync role",
                        Some(
                            did_you_mean(&l.relationship, names.iter().copied())
                                .unwrap_or_else(|| format!("use one of {}", names.join(", "))),
                        ),
                    );
                }
                if let (Some(student), Some(relationship)) = (student, relationship) {
                    if links.iter().any(|l: &GuardianLink| l.student == student) {
                        self.error(
                            Code::DirectoryDuplicate,
                            &format!("{}.upn", lpath()),
                            format!("guardian {i} is linked to the same student twice"),
                            "second link",
                            Some("keep one link per student, with the right relationship".into()),
                        );
                    } else {
                        links.push(GuardianLink { student, relationship });
                    }
                }
            }
            if let Some(first) = dir.guardians.get(&id) {
                let d = Diagnostic::error(
                    Code::DirectoryDuplicate,
                    format!("guardian {i} repeats the id of an earlier guardian"),
                )
                .at(self.span(&path()), format!("second definition (`{}`)", path()))
                .also(self.span(&format!("guardians[{}]", first.raw)), "first definition")
                .help("list each guardian once, with all their students under `students`");
                self.errors.push(d);
                continue;
            }
            let phone_e164 = phone.as_deref().is_some_and(is_e164);
            let gi = dir.guardians.len();
            for link in &links {
                if let Some((_, student)) = dir.users.get_index_mut(link.student)
                    && student.guardians.last() != Some(&gi)
                {
                    student.guardians.push(gi);
                }
            }
            dir.guardians.insert(
                id.clone(),
                Guardian {
                    name: g.name.unwrap_or_else(|| format!("guardian {i}")).into(),
                    id: id.into(),
                    email: email.map(String::into_boxed_str),
                    phone: phone.map(String::into_boxed_str),
                    phone_e164,
                    on_teams: g.on_teams,
                    links: links.into(),
                    raw: i,
                },
            );
        }
    }

    fn blocks(&mut self, dir: &mut Directory, blocks: Vec<Blocks>) {
        for Blocks { raw: i, user: ui, guardians } in blocks {
            let mut blocked = Vec::new();
            for (j, g) in guardians.iter().enumerate() {
                match dir.guardian(g) {
                    Some((gi, _)) => blocked.push(gi),
                    None => {
                        let upn = dir.users.get_index(ui).map_or("?", |(_, u)| u.upn.as_str());
                        let message = format!("user `{upn}` blocks an unknown guardian");
                        self.personal_error(
                            Code::DirectoryReference,
                            &format!("users[{i}].blocked_guardians[{j}]"),
                            message,
                            "not in `guardians`",
                            Some("name a guardian by its `id` (or email when it has no id)".into()),
                        )
                    }
                }
            }
            blocked.sort_unstable();
            blocked.dedup();
            if let Some((_, user)) = dir.users.get_index_mut(ui) {
                user.blocked = blocked;
            }
        }
    }
}

/// Length of the YAML scalar at the start of `rest`: a quoted string, or a plain scalar up to
/// the end of the line, a flow separator or a comment.
fn token_len(rest: &str) -> usize {
    match rest.chars().next() {
        Some(q @ ('"' | '\'')) => rest[1..].find(q).map_or(1, |i| i + 2),
        Some('-' | '{' | '[') | None => 1,
        Some(_) => {
            let end = rest.find(['\n', ',', ']', '}']).unwrap_or(rest.len());
            let end = rest[..end].find(" #").unwrap_or(end);
            rest[..end].trim_end().len()
        }
    }
}

/// `text` without surrounding white space, reusing it when there is none.
fn trimmed(text: String) -> String {
    if text.trim().len() == text.len() { text } else { text.trim().to_string() }
}

/// `text` as a key (see [`key`]), reusing it.
fn lowercase_trimmed(text: String) -> String {
    let mut text = trimmed(text);
    text.make_ascii_lowercase();
    text
}

/// The key of an identity (a UPN, a group, class or guardian id, a policy instance's name):
/// trimmed, with the ASCII letters lower-cased. That is the whole rule: `A`–`Z` match `a`–`z`,
/// and every other character matches only itself. Entra ID allows only ASCII in a UPN, so a
/// look-alike (`K`, U+212A KELVIN SIGN, for `K`) or another normal form never matches a user
/// by accident: it is reported as unknown, with the real user suggested.
pub fn key(text: &str) -> String {
    text.trim().to_ascii_lowercase()
}

/// Whether text is shaped like an email address or UPN: `name@domain.tld`, no spaces.
pub(crate) fn looks_like_address(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && domain.contains('.') && !s.chars().any(char::is_whitespace) && !domain.contains('@')
        }
        None => false,
    }
}

/// Whether text is a phone number the directory accepts: digits, spaces and `+ - . ( )`.
pub fn looks_like_phone(s: &str) -> bool {
    s.chars().any(|c| c.is_ascii_digit()) && s.chars().all(|c| c.is_ascii_digit() || " +-.()".contains(c))
}

/// E.164, as [`crate::phone::is_e164`] decides it.
pub use crate::phone::is_e164;

#[cfg(test)]
mod tests {
    use super::*;

    fn load_str(text: &str) -> Result<Directory, Vec<Diagnostic>> {
        load(FileId(0), text)
    }

    #[test]
    fn links_users_groups_classes_and_guardians() {
        let dir = load_str(
            "users:\n  - upn: T@x.edu\n    roles: [teacher]\n  - upn: s@x.edu\ngroups:\n  - id: g\n    members: [t@x.edu]\nclass_teams:\n  - id: c\n    owners: [t@x.edu]\n    students: [s@x.edu]\nguardians:\n  - email: P@Example.com\n    students: [{upn: s@x.edu, relationship: Parent}]\n",
        )
        .unwrap_or_default();
        let (t, teacher) = dir.user("t@x.edu").unwrap_or((99, &dir.users[0]));
        assert_eq!(t, 0);
        assert_eq!(teacher.groups, vec![0]);
        let (_, g) = dir.guardian("p@example.com").map_or((0, None), |(i, g)| (i, Some(g)));
        let g = g.cloned().unwrap_or_else(|| panic!("guardian missing"));
        let (teacher, student) = (dir.relation(0, &g), dir.relation(1, &g));
        assert!(teacher.linked && !teacher.of_user);
        assert!(student.of_user && !student.linked);
        assert_eq!(student.relationship, Relationship::Parent);
    }

    #[test]
    fn keys_fold_ascii_letters_only() {
        for (text, expected) in [
            (" P@Example.COM\t", "p@example.com"),
            ("ÉVA@X.EDU ", "Éva@x.edu"),
            ("\u{212A}im@x.edu", "\u{212A}im@x.edu"),
            ("ǅ@x.edu", "ǅ@x.edu"),
            ("", ""),
        ] {
            assert_eq!(key(text), expected, "{text:?}");
            assert_eq!(lowercase_trimmed(text.to_string()), expected, "{text:?}");
            assert_eq!(trimmed(text.to_string()), text.trim(), "{text:?}");
        }
    }

    #[test]
    fn aliases_that_expand_too_far_are_a_located_error_before_any_expansion() {
        let big = (0..5000).map(|i| format!("r{i}")).collect::<Vec<_>>().join(", ");
        let text = format!("users:\n  - &u {{upn: a@x.edu, roles: [{big}]}}\n{}", "  - *u\n".repeat(100));
        let errors = load_str(&text).err().unwrap_or_default();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].code, Code::InputTooLarge);
        assert!(errors[0].message.contains("aliases"), "{}", errors[0].message);
        let span = errors[0].primary_span().unwrap_or_default();
        assert_eq!(&text[span.range()], "*");
    }

    #[test]
    fn a_look_alike_letter_is_another_user_and_the_real_one_is_suggested() {
        let dir = load_str("users:\n  - upn: kim@x.edu\n").unwrap_or_default();
        assert!(dir.user("KIM@x.edu").is_some());
        assert!(dir.user("\u{212A}im@x.edu").is_none(), "KELVIN SIGN is not K");
        assert!(dir.user("kim@x.edu\u{301}").is_none(), "no normalisation");
        assert_eq!(dir.suggest_user("\u{212A}im@x.edu"), Some("kim@x.edu"));
    }

    #[test]
    fn reports_every_bad_reference_with_its_line() {
        let errs = load_str("users:\n  - upn: a@x.edu\ngroups:\n  - id: g\n    members: [a@x.edu, b@x.edu]\nclass_teams:\n  - id: c\n    owners: [zz@x.edu]\n")
            .err()
            .unwrap_or_default();
        assert_eq!(errs.len(), 2);
        assert!(errs.iter().all(|e| e.code == Code::DirectoryReference));
    }

    #[test]
    fn debug_output_never_shows_contact_details() {
        let dir = load_str("users:\n  - upn: s@x.edu\nguardians:\n  - email: p@example.com\n    phone: \"+12065550101\"\n    students: [{upn: s@x.edu, relationship: parent}]\n")
            .unwrap_or_default();
        let shown = format!("{dir:?} {:?}", dir.guardians.values().collect::<Vec<_>>());
        assert!(!shown.contains("p@example.com") && !shown.contains("5550101"), "{shown}");
        assert!(shown.contains("guardians: 1"), "{shown}");
    }

    #[test]
    fn unknown_fields_are_errors() {
        let errs = load_str("users:\n  - upn: a@x.edu\n    licences: [A3]\n").err().unwrap_or_default();
        assert_eq!(errs[0].code, Code::DirectorySyntax);
        assert!(errs[0].message.contains("licences"), "{}", errs[0].message);
    }
}
