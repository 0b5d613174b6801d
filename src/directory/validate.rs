//! Loading a directory: parse the YAML (bounded in size and aliases), then check everything
//! before anything is used. Unknown references, duplicates and bad values are located errors
//! (file, line, column, field); nothing is silently dropped.

use super::lines::GaveUp;
use super::*;
use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::source::FileId;
use indexmap::set::MutableValues as _;
use std::collections::BTreeSet;

/// Parses and validates a directory file. `file` is its id in the caller's source map.
pub fn load(file: FileId, text: impl Into<Arc<str>>) -> Result<Directory, Vec<Diagnostic>> {
    let text: Arc<str> = text.into();
    let text = &text;
    if text.len() > MAX_DIRECTORY_BYTES {
        return Err(vec![
            Diagnostic::error(
                Code::InputTooLarge,
                format!(
                    "directory file is {}, over the limit of {}",
                    crate::diagnostic::size(text.len()),
                    crate::diagnostic::size(MAX_DIRECTORY_BYTES)
                ),
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
                    .at(span, limit.what)
                    .help(limit.help),
            ]
        })?;
        // Entry by entry when it can (see `stream`): checked as read, with no `RawDirectory`
        // of the whole district. Read whole when its sections are in another order;
        // serde_yaml for the rest, errors included.
        let whole = match streamed(file, text) {
            Ok(Some(checked)) => return checked,
            Ok(None) => super::stream::from_str(text).ok(),
            Err(_) => None,
        };
        match whole {
            Some(raw) => raw,
            None => serde_yaml::from_str(text).map_err(|e| vec![yaml_error(file, text, &e)])?,
        }
    };
    validate(file, text.clone(), raw)
}

/// Validates a directory already in memory (an import), as [`load`] validates a file's. `file`
/// names it in diagnostics; with no text to point into, they point at its start.
pub fn from_raw(file: FileId, raw: RawDirectory) -> Result<Directory, Vec<Diagnostic>> {
    validate(file, Arc::from(""), raw)
}

fn validate(file: FileId, text: Arc<str>, raw: RawDirectory) -> Result<Directory, Vec<Diagnostic>> {
    let mut b = Builder::new(file, text);
    let RawDirectory { users, groups, class_teams, guardians, assumed } = raw;
    b.dir.users.reserve(users.len());
    // Checking a phone number against the numbering plans is the slowest check there is
    // (about a microsecond; a district has millions of guardians): it runs on another core
    // while users, groups and class teams are read.
    let e164 = std::thread::scope(|scope| {
        let e164 = (guardians.len() >= PARALLEL_PHONES).then(|| scope.spawn(|| e164_flags(&guardians)));
        users.into_iter().for_each(|u| b.user(u));
        groups.into_iter().for_each(|g| b.group(g));
        class_teams.into_iter().for_each(|c| b.class_team(c));
        e164.and_then(|e| e.join().ok()).unwrap_or_else(|| e164_flags(&guardians))
    });
    b.dir.guardians.reserve(guardians.len());
    for (g, e164) in guardians.into_iter().zip(e164) {
        b.guardian(g, e164);
    }
    b.dir.assumed = assumed;
    b.finish()
}

/// Validates a directory file read entry by entry (see [`super::stream::entries`]), so the
/// whole district is never held as a `RawDirectory` beside the directory being built. `None`:
/// the file's sections are not in the order users, groups, class teams, guardians, and it must
/// be read whole.
fn streamed(file: FileId, text: &Arc<str>) -> Result<Option<Result<Directory, Vec<Diagnostic>>>, GaveUp> {
    let sink = super::stream::entries(text, || Streamed::new(Builder::new(file, text.clone())))?;
    Ok(sink.map(Streamed::finish))
}

/// A directory being built and checked, entry by entry, in the order users, groups, class
/// teams, guardians: what validating a `RawDirectory` and streaming a file share.
struct Builder {
    v: Validator,
    dir: Directory,
    /// Users' blocked guardians, resolved once guardians are known.
    blocks: Vec<Blocks>,
    /// How many users, groups, class teams and guardians have been read: the next one's
    /// position in its list.
    read: [usize; 4],
}

impl Builder {
    fn new(file: FileId, text: Arc<str>) -> Self {
        let locator = Locator::new(file, text);
        Self {
            dir: Directory { locator: locator.clone(), ..Directory::default() },
            v: Validator {
                locator,
                errors: Vec::new(),
                names: Default::default(),
                sets: Default::default(),
                links: Links::default(),
            },
            blocks: Vec::new(),
            read: [0; 4],
        }
    }

    /// The position of the next entry of section `k`, counted.
    fn next(&mut self, k: usize) -> usize {
        let i = self.read[k];
        self.read[k] += 1;
        i
    }

    fn user(&mut self, u: RawUser) {
        let i = self.next(0);
        self.v.user(&mut self.dir, i, u, &mut self.blocks);
    }

    fn group(&mut self, g: RawGroup) {
        let i = self.next(1);
        self.v.group(&mut self.dir, i, g);
    }

    fn class_team(&mut self, c: RawClassTeam) {
        let i = self.next(2);
        self.v.class_team(&mut self.dir, i, c);
    }

    fn guardian(&mut self, g: RawGuardian, e164: bool) {
        let i = self.next(3);
        self.v.guardian(&mut self.dir, i, g, e164);
    }

    /// Resolves blocked guardians and packs every user's links: the directory, or every error.
    fn finish(mut self) -> Result<Directory, Vec<Diagnostic>> {
        let (v, dir) = (&mut self.v, &mut self.dir);
        v.blocks(dir, std::mem::take(&mut self.blocks));
        let links = std::mem::take(&mut v.links).pack(dir.users.len());
        for (i, links) in links.into_iter().enumerate() {
            if let Some(u) = dir.users.get_index_mut2(i) {
                u.links = links;
            }
        }
        // The maps reserve entries to match their hash tables (up to twice the entries); a
        // district keeps millions.
        dir.users.shrink_to_fit();
        dir.groups.shrink_to_fit();
        dir.class_teams.shrink_to_fit();
        dir.guardians.shrink_to_fit();
        dir.count_roles();
        if self.v.errors.is_empty() { Ok(self.dir) } else { Err(self.v.errors) }
    }
}

/// How many guardians go to the phone-number thread at a time, when a file is streamed.
const PHONE_BATCH: usize = 4096;

/// The receiving end of a streamed file: entries are checked as they are read, except that
/// guardians wait in batches while another thread checks their phone numbers (see
/// [`e164_flags`]), so that work overlaps the reading of the next batch.
struct Streamed {
    b: Builder,
    /// Guardians read and not yet sent to the phone-number thread.
    pending: Vec<RawGuardian>,
    phones: PhoneThread,
    /// Batches sent and not yet added.
    in_flight: usize,
}

/// The phone-number thread of a streamed file.
enum PhoneThread {
    /// Not needed yet: started when the first batch is full.
    NotStarted,
    Running(Phones),
    /// The system would not start a thread: batches are checked here instead.
    Here,
    /// The thread ended with batches unanswered (only a bug in checking a number could do
    /// that): they are lost, so the directory is refused rather than built without them.
    Lost,
}

/// A thread that checks batches of guardians' phone numbers, in the order it is sent them.
/// Dropped before the end (the file could not be read this way), it finishes the batch in
/// hand and stops: its queue is closed, and so is the channel it answers on.
struct Phones {
    work: std::sync::mpsc::SyncSender<Vec<RawGuardian>>,
    done: std::sync::mpsc::Receiver<(Vec<RawGuardian>, Vec<bool>)>,
}

impl Phones {
    fn start() -> std::io::Result<Self> {
        // Two batches queued at most: reading runs ahead of checking by little.
        let (work, batches) = std::sync::mpsc::sync_channel::<Vec<RawGuardian>>(2);
        let (checked, done) = std::sync::mpsc::channel();
        std::thread::Builder::new().name("tenet-phones".into()).spawn(move || {
            for batch in batches {
                let flags = e164_flags(&batch);
                if checked.send((batch, flags)).is_err() {
                    break;
                }
            }
        })?;
        Ok(Self { work, done })
    }
}

impl Streamed {
    fn new(b: Builder) -> Self {
        Self { b, pending: Vec::with_capacity(PHONE_BATCH), phones: PhoneThread::NotStarted, in_flight: 0 }
    }

    /// Sends the pending guardians to be checked, and adds the batches checked already, in
    /// the order they were read.
    fn send_pending(&mut self) {
        let batch = std::mem::replace(&mut self.pending, Vec::with_capacity(PHONE_BATCH));
        if let PhoneThread::NotStarted = self.phones {
            self.phones = Phones::start().map_or(PhoneThread::Here, PhoneThread::Running);
        }
        match &self.phones {
            PhoneThread::Running(phones) => match phones.work.send(batch) {
                Ok(()) => self.in_flight += 1,
                Err(_) => self.phones = PhoneThread::Lost,
            },
            PhoneThread::NotStarted | PhoneThread::Here => self.add(batch, None),
            PhoneThread::Lost => {}
        }
        while let PhoneThread::Running(phones) = &self.phones
            && let Ok((batch, flags)) = phones.done.try_recv()
        {
            self.in_flight -= 1;
            self.add(batch, Some(flags));
        }
    }

    /// Adds a batch of guardians, in order, with their phone numbers' flags (checked here when
    /// there are none).
    fn add(&mut self, batch: Vec<RawGuardian>, flags: Option<Vec<bool>>) {
        let flags = flags.unwrap_or_else(|| e164_flags(&batch));
        for (g, e164) in batch.into_iter().zip(flags) {
            self.b.guardian(g, e164);
        }
    }

    fn finish(mut self) -> Result<Directory, Vec<Diagnostic>> {
        if !self.pending.is_empty() {
            // Fewer guardians than a batch in all: not worth a thread.
            if let PhoneThread::NotStarted = self.phones {
                self.phones = PhoneThread::Here;
            }
            self.send_pending();
        }
        if let PhoneThread::Running(phones) = std::mem::replace(&mut self.phones, PhoneThread::Here) {
            drop(phones.work);
            while self.in_flight > 0 {
                self.in_flight -= 1;
                match phones.done.recv() {
                    Ok((batch, flags)) => self.add(batch, Some(flags)),
                    Err(_) => {
                        self.phones = PhoneThread::Lost;
                        break;
                    }
                }
            }
        }
        if let PhoneThread::Lost = self.phones {
            self.b.v.errors.push(Diagnostic::error(
                Code::Io,
                "checking guardians' phone numbers stopped unexpectedly; nothing was built".to_string(),
            ));
        }
        self.b.finish()
    }
}

impl super::stream::Sink for Streamed {
    fn user(&mut self, user: RawUser) {
        self.b.user(user);
    }

    fn group(&mut self, group: RawGroup) {
        self.b.group(group);
    }

    fn class_team(&mut self, team: RawClassTeam) {
        self.b.class_team(team);
    }

    fn guardian(&mut self, guardian: RawGuardian) {
        self.pending.push(guardian);
        if self.pending.len() == PHONE_BATCH {
            self.send_pending();
        }
    }

    fn assumed(&mut self, assumed: Vec<Assumption>) {
        self.b.dir.assumed = assumed;
    }
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
    user: UserId,
    guardians: Vec<String>,
}

struct Validator {
    locator: Locator,
    errors: Vec<Diagnostic>,
    /// Role and licence names, each stored once.
    names: foldhash::HashMap<String, Arc<str>>,
    /// Sets of them, each stored once.
    sets: foldhash::HashSet<NameSet>,
    /// Users' links to groups, class teams and guardians, as they are found.
    links: Links,
}

/// Users' links, gathered as validation finds them and packed once every entry is known (see
/// [`UserLinks`]): a list of (user, id) pairs per kind of link, rather than five growing lists
/// per user.
#[derive(Default)]
struct Links([Vec<(u32, u32)>; 5]);

impl Links {
    fn add(&mut self, link: Link, user: UserId, id: u32) {
        self.0[link as usize].push((user.raw(), id));
    }

    /// Each user's links, packed. The pairs are bucketed by user with a counting sort, which
    /// keeps them in the order they were found: ascending, as entries are read in order.
    fn pack(self, users: usize) -> Vec<UserLinks> {
        let buckets: Vec<(Vec<u32>, Vec<u32>)> = self
            .0
            .into_iter()
            .map(|pairs| {
                // Every user id here was handed out by this directory: one past the last
                // user can't occur, and would be skipped.
                let mut starts = vec![0u32; users + 1];
                for (u, _) in &pairs {
                    if let Some(count) = starts.get_mut(*u as usize + 1) {
                        *count += 1;
                    }
                }
                for i in 0..users {
                    starts[i + 1] += starts[i];
                }
                let mut next = starts.clone();
                let mut ids = vec![0u32; starts[users] as usize];
                for (u, id) in pairs {
                    if let Some(slot) = next.get_mut(u as usize).filter(|_| (u as usize) < users) {
                        ids[*slot as usize] = id;
                        *slot += 1;
                    }
                }
                (starts, ids)
            })
            .collect();
        (0..users)
            .map(|u| {
                let list = |k: usize| {
                    let (starts, ids) = &buckets[k];
                    &ids[starts[u] as usize..starts[u + 1] as usize]
                };
                UserLinks::new([list(0), list(1), list(2), list(3), list(4)])
            })
            .collect()
    }
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

    /// Adds the `i`th user; its blocked-guardian list goes to `blocks`, resolved once guardians
    /// are known.
    fn user(&mut self, dir: &mut Directory, i: usize, u: RawUser, blocks: &mut Vec<Blocks>) {
        let path = || format!("users[{i}].upn");
        let user = User::new(&u.upn, u.name.as_deref());
        if !looks_like_address(user.key()) {
            self.error(
                Code::DirectoryValue,
                &path(),
                format!("`{}` is not a user principal name", u.upn),
                "expected name@domain",
                Some("a UPN looks like `ana.rivera@lakeside.edu`".into()),
            );
            return;
        }
        let user = User {
            roles: self.name_set(&u.roles),
            licenses: self.name_set(&u.licenses),
            enabled: u.enabled,
            invites_sent: i64::from(u.invites_sent),
            raw: i,
            ..user
        };
        // One look-up: the user goes in, or the one who came first is found.
        let (index, added) = dir.users.insert_full(user);
        if !added {
            let first_span = self.span(&format!("users[{}].upn", dir.users[index].raw));
            let d = Diagnostic::error(Code::DirectoryDuplicate, format!("user `{}` is listed twice", u.upn))
                .at(self.span(&path()), format!("second definition (`{}`)", path()))
                .also(first_span, "first definition")
                .help("UPNs are compared without regard to case; merge the two entries");
            self.errors.push(d);
            return;
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
        if !u.blocked_guardians.is_empty() {
            blocks.push(Blocks { raw: i, user: UserId::new(index), guardians: u.blocked_guardians });
        }
    }

    /// Trimmed names, sorted and without duplicates or blanks; the names and the set shared.
    fn name_set(&mut self, names: &[String]) -> NameSet {
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
        match self.sets.get(set.as_slice()) {
            Some(shared) => shared.clone(),
            None => {
                let shared = NameSet::from(set);
                self.sets.insert(shared.clone());
                shared
            }
        }
    }

    /// Resolves a user reference, reporting unknown ones.
    /// `path` is only built for the error: references are most of a directory.
    fn user_ref(&mut self, dir: &Directory, upn: &str, path: impl FnOnce() -> String) -> Option<UserId> {
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

    fn group(&mut self, dir: &mut Directory, i: usize, g: RawGroup) {
        let path = format!("groups[{i}]");
        let key = key(&g.id);
        if let Some(first) = dir.groups.get(&key) {
            let d = Diagnostic::error(Code::DirectoryDuplicate, format!("group `{}` is listed twice", g.id))
                .at(self.span(&format!("{path}.id")), format!("second definition (`{path}.id`)"))
                .also(self.span(&format!("groups[{}].id", first.raw)), "first definition")
                .help("merge the two groups' members into one entry");
            self.errors.push(d);
            return;
        }
        let mut members = Vec::with_capacity(g.members.len());
        for (j, m) in g.members.iter().enumerate() {
            if let Some(u) = self.user_ref(dir, m, || format!("{path}.members[{j}]")) {
                members.push(u);
            }
        }
        members.sort_unstable();
        members.dedup();
        let gi = GroupId::new(dir.groups.len());
        for &u in &members {
            self.links.add(Link::Groups, u, gi.raw());
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

    fn class_team(&mut self, dir: &mut Directory, i: usize, c: RawClassTeam) {
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
            return;
        }
        let ci = ClassTeamId::new(dir.class_teams.len());
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
            self.links.add(Link::Owns, u, ci.raw());
        }
        for &u in &students {
            self.links.add(Link::StudentOf, u, ci.raw());
        }
        dir.class_teams.insert(
            key,
            ClassTeam {
                name: c.name.unwrap_or_else(|| c.id.clone()),
                school: c.school.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()),
                id: c.id.trim().to_string(),
                owners,
                students,
                raw: i,
            },
        );
    }

    /// Adds the `i`th guardian; `e164` says whether its phone number is in E.164 form.
    fn guardian(&mut self, dir: &mut Directory, i: usize, g: RawGuardian, e164: bool) {
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
            return;
        };
        let phone = g.phone.map(trimmed).filter(|p| !p.is_empty());
        if let Some(p) = &phone
            && !looks_like_phone(p)
        {
            self.personal_error(
                Code::DirectoryValue,
                &format!("{}.phone", path()),
                format!(
                    "guardian {i} has a phone number with characters other than digits, spaces, `+`, `-`, `.`, `(` and `)`"
                ),
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
        let unnamed;
        let name = match g.name.as_deref() {
            Some(name) => name,
            None => {
                unnamed = format!("guardian {i}");
                &unnamed
            }
        };
        let guardian = Guardian {
            phone_e164: e164,
            on_teams: g.on_teams,
            raw: i,
            ..Guardian::new(&id, name, email.as_deref(), phone.as_deref())
        };
        // One look-up: a set keeps the guardian it has, and says so.
        let (at, inserted) = dir.guardians.insert_full(guardian);
        if !inserted {
            let first = dir.guardians.get_index(at).map_or(0, |g| g.raw);
            let d = Diagnostic::error(
                Code::DirectoryDuplicate,
                format!("guardian {i} repeats the id of an earlier guardian"),
            )
            .at(self.span(&path()), format!("second definition (`{}`)", path()))
            .also(self.span(&format!("guardians[{first}]")), "first definition")
            .help("list each guardian once, with all their students under `students`");
            self.errors.push(d);
            return;
        }
        let gi = GuardianId::new(at);
        for link in &links {
            self.links.add(Link::Guardians, link.student, gi.raw());
        }
        if let Some(g) = dir.guardians.get_index_mut2(at) {
            g.set_links(links);
        }
    }

    fn blocks(&mut self, dir: &mut Directory, blocks: Vec<Blocks>) {
        for Blocks { raw: i, user: ui, guardians } in blocks {
            let mut blocked = Vec::new();
            for (j, g) in guardians.iter().enumerate() {
                match dir.guardian(g) {
                    Some((gi, _)) => blocked.push(gi),
                    None => {
                        let upn = dir.users.get_index(ui.index()).map_or("?", User::upn);
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
            for gi in blocked {
                self.links.add(Link::Blocked, ui, gi.raw());
            }
        }
    }
}

/// From how many guardians their phone numbers are checked on another thread (below, the
/// thread costs more than it saves).
const PARALLEL_PHONES: usize = 4096;

/// Whether each guardian's phone number is in E.164 form.
fn e164_flags(guardians: &[RawGuardian]) -> Vec<bool> {
    guardians.iter().map(|g| g.phone.as_deref().is_some_and(is_e164)).collect()
}

/// Length of the YAML scalar at the start of `rest`: a quoted string, or a plain scalar up to
/// the end of the line, a flow separator or a comment.
pub(super) fn token_len(rest: &str) -> usize {
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

impl Directory {
    /// Recomputes the roles held by enabled and by disabled users.
    pub(super) fn count_roles(&mut self) {
        // Sets of borrowed names: a district has millions of role entries and a handful of roles.
        let (mut enabled, mut disabled) = (BTreeSet::new(), BTreeSet::new());
        for u in &self.users {
            let into = if u.enabled { &mut enabled } else { &mut disabled };
            into.extend(u.roles.iter().map(|r| &**r));
        }
        enabled.extend(self.assumed.iter().flat_map(|a| a.enabled_roles.iter().map(String::as_str)));
        let owned = |set: BTreeSet<&str>| set.into_iter().map(str::to_string).collect();
        (self.enabled_roles, self.disabled_roles) = (owned(enabled), owned(disabled));
    }
}

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
        let (t, teacher) = dir.user("t@x.edu").unwrap_or_else(|| panic!("teacher missing"));
        assert_eq!(t, UserId::new(0));
        assert_eq!(teacher.groups().to_vec(), vec![GroupId::new(0)]);
        let (_, g) = dir.guardian("p@example.com").unwrap_or_else(|| panic!("guardian missing"));
        let (teacher, student) = (dir.relation(UserId::new(0), g), dir.relation(UserId::new(1), g));
        assert!(teacher.linked && !teacher.of_user);
        assert!(student.of_user && !student.linked);
        assert_eq!(student.relationship, Relationship::Parent);
    }

    #[test]
    fn phone_forms_are_the_same_whether_checked_on_another_thread_or_not() {
        // Streamed: one batch, several batches and a part batch. Whole: on this thread, and on
        // another.
        for count in [3, 2 * PHONE_BATCH + 5, PARALLEL_PHONES + 5] {
            let phones = ["+12065550101", "(206) 555-0101", "+1206555010", " +14255550110 ", "+15555550100"];
            let mut text = String::from("users:\n  - upn: s@x.edu\nguardians:\n");
            for i in 0..count {
                let phone = phones[i % phones.len()];
                text += &format!(
                    "  - {{id: g{i}, phone: \"{phone}\", students: [{{upn: s@x.edu, relationship: parent}}]}}\n"
                );
            }
            let raw: RawDirectory = serde_yaml::from_str(&text).unwrap_or_default();
            for dir in [load_str(&text).unwrap_or_default(), from_raw(FileId(0), raw).unwrap_or_default()] {
                assert_eq!(dir.guardian_count(), count);
                for (_, g) in dir.guardians() {
                    assert_eq!(g.phone_e164, is_e164(g.phone().unwrap_or_default()), "{count} guardians");
                }
                let e164 = dir.guardians().filter(|(_, g)| g.phone_e164).count();
                assert_eq!(e164, count.div_ceil(5) + (count + 1) / 5);
            }
        }
    }

    /// The directory (or the diagnostics) of `text` checked as it is streamed, and read whole.
    fn both_ways(text: &str) -> (Option<String>, String) {
        let text: Arc<str> = Arc::from(text);
        let shown = |r: Result<Directory, Vec<Diagnostic>>| match r {
            Ok(dir) => format!("{:?}", serde_json::to_value(&dir).ok()),
            Err(errors) => format!("{errors:?}"),
        };
        let streamed = streamed(FileId(0), &text).ok().flatten().map(shown);
        let whole = super::super::stream::from_str::<RawDirectory>(&text)
            .map_or_else(|e| e.to_string(), |raw| shown(validate(FileId(0), text.clone(), raw)));
        (streamed, whole)
    }

    #[test]
    fn a_streamed_file_checks_exactly_as_one_read_whole() {
        let example = include_str!("../../policies/examples/lakeside/directory.yaml");
        let generated = crate::unstable::generate::district(crate::unstable::generate::Spec { users: 2000, seed: 3 })
            .directory_yaml()
            .unwrap_or_default();
        let broken = [
            // Unknown references, a duplicate user, a bad UPN, an empty role.
            "users:\n  - upn: a@x.edu\n    roles: ['']\n  - upn: A@x.edu\n  - upn: nope\ngroups:\n  - id: g\n    members: [a@x.edu, b@x.edu]\nclass_teams:\n  - id: g\n    owners: [zz@x.edu]\n",
            // Guardians: no id, a bad email, a bad phone, an unknown student and relationship,
            // a repeated id, a block of an unknown guardian.
            "users:\n  - upn: s@x.edu\n    blocked_guardians: [ghost]\nguardians:\n  - name: Nora\n    students: [{upn: s@x.edu, relationship: parent}]\n  - id: p\n    email: not-an-address\n    phone: call me\n    students: [{upn: t@x.edu, relationship: uncle}]\n  - id: P\n    students: [{upn: s@x.edu, relationship: parent}]\n",
            // Assumed facts before the users, an empty section.
            "assumed:\n  - facts: [guardian.on_teams]\n    because: no export\nusers:\n  - upn: s@x.edu\n    roles: [student]\ngroups: []\n",
        ];
        // Errors past batch boundaries of the phone-number thread: a repeated id in the second
        // batch, bad values and an unknown student in the last.
        let mut batches = String::from("users:\n  - upn: s@x.edu\nguardians:\n");
        for i in 0..2 * PHONE_BATCH + 10 {
            let (id, phone, student) = match i {
                i if i == PHONE_BATCH + 3 => ("g7".to_string(), "+12065550101", "s@x.edu"),
                i if i == 2 * PHONE_BATCH + 8 => (format!("g{i}"), "call me", "t@x.edu"),
                i => (format!("g{i}"), if i % 3 == 0 { "+12065550101" } else { "(206) 555-0101" }, "s@x.edu"),
            };
            batches +=
                &format!("  - {{id: {id}, phone: '{phone}', students: [{{upn: {student}, relationship: parent}}]}}\n");
        }
        for text in [example, generated.as_str(), batches.as_str()].into_iter().chain(broken) {
            let (streamed, whole) = both_ways(text);
            assert!(whole.starts_with("Some(") || whole.starts_with('['), "read whole, not given up: {whole}");
            assert_eq!(streamed.as_deref(), Some(whole.as_str()), "{text}");
            if text == batches {
                assert!(whole.contains("repeats the id") && whole.contains("unknown user `t@x.edu`"), "{whole}");
            }
        }
    }

    #[test]
    fn sections_out_of_order_are_read_whole_with_the_same_result() {
        let users = "users:\n  - upn: s@x.edu\n";
        let guardians = "guardians:\n  - id: p\n    students: [{upn: s@x.edu, relationship: parent}]\n";
        let (streamed, _) = both_ways(&format!("{guardians}{users}"));
        assert_eq!(streamed, None, "guardians before users can't be checked as they are read");
        let reordered = load_str(&format!("{guardians}{users}")).unwrap_or_default();
        let ordered = load_str(&format!("{users}{guardians}")).unwrap_or_default();
        assert_eq!(reordered.guardian_count(), 1);
        assert_eq!(serde_json::to_value(&reordered).ok(), serde_json::to_value(&ordered).ok());
        // A section given twice is left to serde_yaml, which names the error.
        let errors = load_str(&format!("{users}{users}")).err().unwrap_or_default();
        assert!(errors.iter().any(|e| e.message.contains("duplicate field `users`")), "{errors:?}");
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
        let shown = format!("{dir:?} {:?}", dir.guardians.iter().collect::<Vec<_>>());
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
