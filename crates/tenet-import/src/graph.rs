//! Microsoft Graph JSON: group membership, directory roles and students' related contacts.
//!
//! # Files
//!
//! | File names | Request (Graph v1.0) | What is read |
//! |---|---|---|
//! | `groups.json`, `groups-2.json`, … | `GET /groups?$select=id,displayName,visibility&$expand=members($select=id,displayName,userPrincipalName,accountEnabled)` | groups, their user members, the users' names and `accountEnabled` |
//! | `directoryRoles.json`, … | `GET /directoryRoles?$expand=members($select=id,displayName,userPrincipalName,accountEnabled)` | who holds Global Administrator (`global_admin`) and Teams Administrator (`teams_admin`) |
//! | `educationUsers.json` or `relatedContacts.json`, … | `GET /education/users?$select=userPrincipalName,relatedContacts` (application permission `EduRoster.Read.All`: delegated permissions return fewer properties) | students' parents and guardians |
//!
//! Each file holds response bodies as Graph returns them: one page (an object with `value` and,
//! while more pages follow, `@odata.nextLink`), or a JSON array of pages. The pages of one kind in
//! one directory are read in page order: `groups.json` is page 1, then `groups-2.json`,
//! `groups-3.json`, … by number (`-`, `.` or `_` before it). A file is parsed whole: Graph's page
//! size bounds it. If the last page still has `@odata.nextLink`, pages are missing: a file error.
//! One way to save every page, in PowerShell:
//!
//! ```powershell
//! $uri = 'https://graph.microsoft.com/v1.0/groups?$select=...&$expand=...'; $n = 1
//! while ($uri) {
//!     $page = Invoke-MgGraphRequest -Uri $uri -OutputType Json
//!     Set-Content -Path $(if ($n -eq 1) { 'groups.json' } else { "groups-$n.json" }) -Value $page
//!     $uri = ($page | ConvertFrom-Json).'@odata.nextLink'; $n++
//! }
//! ```
//!
//! # Counting
//!
//! Every object in a page's `value` is counted once as used, ignored or rejected, and so is every
//! object in a group's or role's `members`. When a group or role is not read (a duplicate, a role
//! other than the two above), its members are counted with it, under its one problem. In contact
//! files the counted objects are the related contacts; an education user is only their container
//! (teachers' objects, with no contacts, count nothing).
//!
//! # Members
//!
//! `$expand` returns at most 20 members of a directory object, and no `@odata.nextLink` for
//! them (the "query parameters" page of the Graph documentation). A group
//! or role with `members@odata.nextLink` is an error; one with exactly 20 members gets a warning,
//! since the list may be cut. Either way, the fix is to page `GET /groups/{id}/members`.
//!
//! Only users are read as members. Teams gives a group's policies to its direct members only
//! (members of nested groups don't get them, per the `New-CsGroupPolicyAssignment`
//! documentation), so nested groups, devices, contacts and apps are ignored with a warning.
//!
//! # Related contacts
//!
//! A `relatedContact` has no id (product decision 11), so a contact is keyed by its email,
//! lower-cased (the same email under two students is one guardian linked to both); a contact
//! without an email gets the id `<student UPN, lower-cased>/<name slug>`, where the slug is the
//! display name lower-cased, each run of characters other than letters and digits replaced by
//! one `-` (`Rosa Garcia` of `lucia.garcia@lakeside.edu` is `lucia.garcia@lakeside.edu/rosa-garcia`).
//! `relationship` takes Graph's `contactRelationship` values: `parent`, `relative`, `aide`,
//! `doctor`, `guardian`, `child`, `other`, and `unknownFutureValue`, which is read as `other` with
//! a warning: Graph sends it for a value newer than the request asked for, so the real value is
//! unknown, and `other` keeps the contact (its email and phone still matter) while Parent
//! Connection, which chats only with parents and guardians, errs towards denying. Any other value
//! is rejected. `accessConsent` is read past (listed among the properties tenet does not read).

use super::contact::{check_phone, email_ok};
use super::draft::{GuardianDraft, key};
use super::report::{At, FileReport, Problem};
use super::text;
use super::{Draft, Found, ImportReport};
use serde_json::{Map, Value};
use std::cell::OnceCell;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use tenet::unstable::directory::Relationship;
use tenet::unstable::directory::locate::Locations;

const GROUPS: &str = "Graph groups";
const ROLES: &str = "Graph directory roles";
const CONTACTS: &str = "Graph education users";

/// The source of the contacts read here, as overlap lines name it.
const SOURCE: &str = "Graph related contacts";

/// Role template ids of the Microsoft Entra built-in roles (the same in every tenant).
const GLOBAL_ADMIN_TEMPLATE: &str = "62e90394-69f5-4237-9190-012177145e10";
const TEAMS_ADMIN_TEMPLATE: &str = "69091246-20e8-4a56-aa4d-066075b2a7a8";

/// The most members `$expand=members` returns for a directory object.
const EXPAND_LIMIT: usize = 20;

/// Graph's `contactRelationship` values.
const GRAPH_RELATIONSHIPS: [&str; 8] =
    ["parent", "relative", "aide", "doctor", "guardian", "child", "other", "unknownFutureValue"];

const DEPTH_HELP: &str = "save the response body unchanged (`Invoke-MgGraphRequest -OutputType Json`); \
     `ConvertTo-Json` without `-Depth 10` writes nested objects as text";

/// `/groups?$expand=members` pages.
pub(super) fn read_groups(files: &[Found], draft: &mut Draft, report: &mut ImportReport) {
    let mut seen = HashMap::new();
    read_pages(files, GROUPS, report, |cx, group, path| read_group(cx, group, path, draft, &mut seen));
}

/// `/directoryRoles?$expand=members` pages.
pub(super) fn read_directory_roles(files: &[Found], draft: &mut Draft, report: &mut ImportReport) {
    let mut seen = HashMap::new();
    read_pages(files, ROLES, report, |cx, role, path| read_role(cx, role, path, draft, &mut seen));
}

/// educationUser pages with `relatedContacts`.
pub(super) fn read_related_contacts(files: &[Found], draft: &mut Draft, report: &mut ImportReport) {
    let mut warned = HashSet::new();
    read_pages(files, CONTACTS, report, |cx, user, path| read_education_user(cx, user, path, draft, &mut warned));
}

/// The kind of Graph response a page (or the first page of a file) is: by the entity set that
/// `@odata.context` names after `$metadata#`, else by the properties of its first item
/// (`relatedContacts`, `roleTemplateId`, `members`).
pub(super) fn recognise(page: &Map<String, Value>) -> Option<super::Kind> {
    use super::Kind;
    if let Some(context) = page.get("@odata.context").and_then(Value::as_str) {
        let set = context.split_once("$metadata#").map_or("", |(_, set)| set).to_ascii_lowercase();
        for (name, kind) in [
            ("groups", Kind::GraphGroups),
            ("directoryroles", Kind::GraphDirectoryRoles),
            ("education/users", Kind::GraphRelatedContacts),
        ] {
            if set.strip_prefix(name).is_some_and(|rest| rest.is_empty() || rest.starts_with(['(', '/', '?'])) {
                return Some(kind);
            }
        }
        return None;
    }
    let item = page.get("value")?.as_array()?.first()?.as_object()?;
    if item.contains_key("relatedContacts") {
        Some(Kind::GraphRelatedContacts)
    } else if item.contains_key("roleTemplateId") {
        Some(Kind::GraphDirectoryRoles)
    } else if item.contains_key("members") || item.contains_key("groupTypes") || item.contains_key("securityEnabled") {
        Some(Kind::GraphGroups)
    } else {
        None
    }
}

// ------------------------------------------------------------------------------------------
// Pages

/// A page file's text, with the line of a property path found on demand.
struct PageFile {
    text: String,
    locations: OnceCell<Locations>,
    line_starts: OnceCell<Vec<usize>>,
}

impl PageFile {
    fn new(text: String) -> Self {
        Self { text, locations: OnceCell::new(), line_starts: OnceCell::new() }
    }

    /// The line of the value at `path` (`value[3].members[2]`). The index is built on first
    /// use, so a file read without problems never pays for it. JSON is YAML, so the YAML
    /// locator reads it.
    fn line(&self, path: &str) -> Option<usize> {
        let offset = self.locations.get_or_init(|| Locations::index(&self.text)).offset(path);
        let starts = self
            .line_starts
            .get_or_init(|| std::iter::once(0).chain(self.text.match_indices('\n').map(|(i, _)| i + 1)).collect());
        Some(starts.partition_point(|s| *s <= offset))
    }
}

/// The file being read and its report.
struct Ctx<'a> {
    shown: &'a str,
    file: &'a PageFile,
    f: &'a mut FileReport,
}

impl Ctx<'_> {
    fn at(&self, path: &str) -> At {
        if path.is_empty() { At::file() } else { At::property(self.file.line(path), path) }
    }

    /// Where an object was read, for messages that point back to it.
    fn origin(&self, path: &str) -> String {
        format!("{} `{path}`", self.shown)
    }

    /// Notes the properties of `object` that tenet does not read (OData annotations aside).
    /// Notes the properties of `object` (at `path`) that tenet doesn't read, and reports each
    /// read one whose JSON type is not Graph's: a phone number written as a number where an
    /// email address belongs is an error, not an absent value. Values are never quoted here:
    /// they may be a guardian's contact details.
    fn unknown(&mut self, object: &Map<String, Value>, path: &str, known: &[&str], prefix: &str) {
        for (k, v) in object {
            if !known.contains(&k.as_str()) {
                if !is_annotation(k) {
                    self.f.unknown_properties.insert(format!("{prefix}{k}"));
                }
                continue;
            }
            let (expected, fits): (&str, fn(&Value) -> bool) = match k.as_str() {
                "value" | "members" | "relatedContacts" => ("a list", Value::is_array),
                "accountEnabled" => ("true or false", Value::is_boolean),
                _ => ("a string", Value::is_string),
            };
            if !v.is_null() && !fits(v) {
                let at = self.at(&if path.is_empty() { k.clone() } else { format!("{path}.{k}") });
                self.f.note(
                    Problem::error(at, format!("`{k}` is {}, where Graph writes {expected}: it is not read", kind(v)))
                        .help("export again with Graph's own JSON; don't edit the values' types"),
                );
            }
        }
    }
}

/// A JSON value's kind, in words.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "true or false",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn is_annotation(k: &str) -> bool {
    k.starts_with('@') || k.contains("@odata.")
}

/// Reads page files in page order, calling `each` with every object of every page's `value`.
fn read_pages(
    files: &[Found],
    format: &str,
    report: &mut ImportReport,
    mut each: impl FnMut(&mut Ctx<'_>, &Map<String, Value>, &str),
) {
    // The pages of one kind form one set whatever the files are called: exactly one page (the
    // last Graph sent) has no `@odata.nextLink`. None means pages are missing; two, two sets.
    let mut last_pages: Vec<String> = Vec::new();
    let mut open_end = None;
    for found in page_order(files) {
        let f = report.file(&found.shown, format);
        let Some((file, root)) = load(found, f) else { continue };
        let mut cx = Ctx { shown: &found.shown, file: &file, f };
        let Some(pages) = pages_of(&mut cx, &root) else { continue };
        for (prefix, page) in pages {
            let Some(items) = page.get("value").and_then(Value::as_array) else {
                let at = cx.at(prefix.trim_end_matches('.'));
                cx.f.note(Problem::error(at, "not a Graph page: no `value` list").help(
                    "save each response body as Graph returns it: an object with `value` (and `@odata.nextLink` while more pages follow)",
                ));
                continue;
            };
            cx.unknown(page, "", &["value"], "");
            for (j, item) in items.iter().enumerate() {
                let path = format!("{prefix}value[{j}]");
                match item.as_object() {
                    Some(object) => each(&mut cx, object, &path),
                    None => {
                        let at = cx.at(&path);
                        cx.f.reject(Problem::error(at, "an item of `value` that is not an object").help(DEPTH_HELP));
                    }
                }
            }
            match page.get("@odata.nextLink").and_then(Value::as_str).filter(|l| !l.trim().is_empty()) {
                Some(link) => {
                    let path = format!("{prefix}@odata.nextLink");
                    // Located only if no page ends the set (rare): indexing a page costs.
                    open_end = Some((found, path, link.to_string()));
                }
                None => last_pages.push(if prefix.is_empty() {
                    found.shown.clone()
                } else {
                    format!("{} `{}`", found.shown, prefix.trim_end_matches('.'))
                }),
            }
        }
    }
    if let (true, Some((found, path, link))) = (last_pages.is_empty(), open_end) {
        let line = load(found, &mut FileReport::default()).and_then(|(file, _)| file.line(&path));
        let at = At::property(line, path);
        let (dir_and_name, page) = series(found);
        report.file(&found.shown, format).note(
            Problem::error(at, "the export is incomplete: every page saved has `@odata.nextLink`, so Graph had more")
                .value(link)
                .help(format!(
                    "save the remaining pages: request the `@odata.nextLink` URL, then each page's own `@odata.nextLink`, until a page has none, saving them next to this file (as `{}-{}.json`, `{}-{}.json`, … for example)",
                    dir_and_name.1,
                    page.saturating_add(1),
                    dir_and_name.1,
                    page.saturating_add(2)
                )),
        );
    }
    if let [first, second, ..] = last_pages.as_slice() {
        let shown = second.split(" `").next().unwrap_or(second).to_string();
        report.file(&shown, format).note(
            Problem::error(
                At::file(),
                format!(
                    "two sets of {format} pages: {first} and {second} are each the last page of a response (no `@odata.nextLink`)"
                ),
            )
            .help("keep the pages of one export only: pages of one set follow each other's `@odata.nextLink`"),
        );
    }
}

/// Reads, decodes and parses a page file; problems go to `f`.
fn load(found: &Found, f: &mut FileReport) -> Option<(PageFile, Value)> {
    let bytes = match std::fs::read(&found.path) {
        Ok(b) => b,
        Err(e) => {
            f.note(Problem::error(At::file(), format!("can't read the file: {e}")));
            return None;
        }
    };
    let (text, encoding) = match text::decode(&bytes) {
        Ok(t) => t,
        Err(e) => {
            f.note(Problem::error(At::line(e.line), e.message).help(e.help));
            return None;
        }
    };
    f.encoding = encoding.to_string();
    match serde_json::from_str::<Value>(&text) {
        Ok(root) => Some((PageFile::new(text), root)),
        Err(e) => {
            // serde_json's syntax messages name the expected token, never the file's text.
            f.note(Problem::error(At::line(e.line().max(1)), format!("the file is not valid JSON: {e}")).help(
                "fix the JSON at that line and column (often a missing comma or bracket, or a file cut short), \
                     or export it again and save the response body unchanged",
            ));
            None
        }
    }
}

/// The pages of a file and the path prefix of each: `""` for a single page, `"[i]."` in an array.
fn pages_of<'v>(cx: &mut Ctx<'_>, root: &'v Value) -> Option<Vec<(String, &'v Map<String, Value>)>> {
    let help = "a Graph file holds one response body (an object with `value`) or a JSON array of them";
    match root {
        Value::Object(page) => Some(vec![(String::new(), page)]),
        Value::Array(items) => {
            let mut pages = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                match item.as_object().filter(|p| p.contains_key("value")) {
                    Some(page) => pages.push((format!("[{i}]."), page)),
                    None => {
                        let at = cx.at(&format!("[{i}]"));
                        cx.f.note(
                            Problem::error(
                                at,
                                format!("`[{i}]` is not a Graph page (an object with `value`): the file is not read"),
                            )
                            .help(help),
                        );
                        return None;
                    }
                }
            }
            Some(pages)
        }
        _ => {
            cx.f.note(Problem::error(At::file(), "the file is neither a Graph page nor a list of pages").help(help));
            None
        }
    }
}

/// Page files in reading order: by directory and kind, then page number.
fn page_order(files: &[Found]) -> Vec<&Found> {
    let mut ordered: Vec<&Found> = files.iter().collect();
    ordered.sort_by_cached_key(|f| (series(f), f.path.clone()));
    ordered
}

/// The series of a page file (its directory and the name before the page number) and its page
/// number: `groups.json` is page 1 of `groups`, `groups-2.json` page 2. A name that is not a
/// number sorts after the numbered pages.
fn series(f: &Found) -> ((PathBuf, String), u64) {
    let dir = f.path.parent().map(Path::to_path_buf).unwrap_or_default();
    let stem = f.path.file_stem().map(|s| s.to_string_lossy().to_lowercase()).unwrap_or_default();
    let (name, rest) = match stem.find(['-', '.', '_']) {
        Some(i) => (&stem[..i], &stem[i + 1..]),
        None => (stem.as_str(), ""),
    };
    let page = if rest.is_empty() { 1 } else { rest.parse().unwrap_or(u64::MAX) };
    ((dir, name.to_string()), page)
}

/// A non-blank string property, trimmed.
fn text_of<'v>(object: &'v Map<String, Value>, property: &str) -> Option<&'v str> {
    object.get(property).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
}

/// Counts `n` members of a group or role that is not read, with it.
fn count_members_with(f: &mut FileReport, n: usize, rejected: bool) {
    f.read += n;
    if rejected {
        f.rejected += n;
    } else {
        f.ignored += n;
    }
}

fn and_members(n: usize) -> String {
    match n {
        0 => String::new(),
        1 => ", nor its 1 member".into(),
        n => format!(", nor its {n} members"),
    }
}

// ------------------------------------------------------------------------------------------
// Groups and roles

fn read_group(
    cx: &mut Ctx<'_>,
    g: &Map<String, Value>,
    path: &str,
    draft: &mut Draft,
    seen: &mut HashMap<String, String>,
) {
    let count = g.get("members").and_then(Value::as_array).map_or(0, Vec::len);
    let Some(id) = text_of(g, "id") else {
        let at = cx.at(path);
        cx.f.reject(
            Problem::error(at, format!("a group without `id` is not read{}", and_members(count)))
                .help("export groups with `$select=id,displayName,visibility`"),
        );
        count_members_with(cx.f, count, true);
        return;
    };
    if let Some(first) = seen.get(&key(id)) {
        let at = cx.at(&format!("{path}.id"));
        cx.f.reject(
            Problem::error(
                at,
                format!("group `{id}` is listed again (first at {first}): this copy is not read{}", and_members(count)),
            )
            .help("keep each page once: the same page may have been saved twice"),
        );
        count_members_with(cx.f, count, true);
        return;
    }
    seen.insert(key(id), cx.origin(path));
    cx.unknown(g, path, &["id", "displayName", "visibility", "members"], "");
    let group = draft.group_mut(id);
    if let Some(name) = text_of(g, "displayName") {
        group.name = Some(name.to_string());
    }
    group.hidden_membership =
        g.get("visibility").and_then(Value::as_str).is_some_and(|v| v.trim().eq_ignore_ascii_case("HiddenMembership"));
    cx.f.use_one();
    let holder = Holder::Group(id, text_of(g, "displayName"));
    read_members(cx, g, path, &holder, draft, |draft, upn| {
        draft.group_mut(id).members.insert(upn);
    });
}

/// Who a member list belongs to.
enum Holder<'a> {
    /// A group, by its id and display name.
    Group(&'a str, Option<&'a str>),
    /// A role, by its display name.
    Role(&'a str),
}

impl Holder<'_> {
    fn what(&self) -> String {
        match self {
            Holder::Group(id, Some(name)) => format!("group `{name}` (`{id}`)"),
            Holder::Group(id, None) => format!("group `{id}`"),
            Holder::Role(name) => format!("role `{name}`"),
        }
    }

    fn members_request(&self, object: &Map<String, Value>) -> String {
        let id = text_of(object, "id").unwrap_or("{id}");
        match self {
            Holder::Group(..) => format!("GET /groups/{id}/members"),
            Holder::Role(_) => format!("GET /directoryRoles/{id}/members"),
        }
    }
}

/// Reads the `members` of a group or role, calling `add` with each user member's key.
fn read_members(
    cx: &mut Ctx<'_>,
    object: &Map<String, Value>,
    path: &str,
    holder: &Holder<'_>,
    draft: &mut Draft,
    mut add: impl FnMut(&mut Draft, String),
) {
    let request = holder.members_request(object);
    let members = match object.get("members") {
        Some(Value::Array(members)) => members,
        None | Some(Value::Null) => {
            let at = cx.at(path);
            cx.f.note(
                Problem::warning(at, format!("{} has no `members`: read as having none", holder.what()))
                    .help("export with `$expand=members($select=id,displayName,userPrincipalName,accountEnabled)`"),
            );
            return;
        }
        Some(_) => {
            let at = cx.at(&format!("{path}.members"));
            cx.f.note(Problem::error(at, format!("the `members` of {} is not a list", holder.what())).help(DEPTH_HELP));
            return;
        }
    };
    for (j, m) in members.iter().enumerate() {
        if let Some(upn) = read_member(cx, m, &format!("{path}.members[{j}]"), holder, draft) {
            add(draft, upn);
        }
    }
    if let Some(link) = object.get("members@odata.nextLink").and_then(Value::as_str) {
        let at = cx.at(&format!("{path}.members@odata.nextLink"));
        cx.f.note(
            Problem::error(at, format!("the members of {} are cut short: Graph had more (`members@odata.nextLink`)", holder.what()))
                .value(link)
                .help(format!(
                    "`$expand` returns at most {EXPAND_LIMIT} members: request `{request}`, and each `@odata.nextLink` after it, and put all the members in this `members` list"
                )),
        );
    } else if members.len() == EXPAND_LIMIT {
        let at = cx.at(&format!("{path}.members"));
        cx.f.note(
            Problem::warning(at, format!("{} has exactly {EXPAND_LIMIT} members, the most `$expand` returns: the list may be cut short", holder.what()))
                .help(format!("if it has more, request `{request}` (and each `@odata.nextLink` after it) and put all the members in this `members` list")),
        );
    }
}

/// Reads one member: a user is added to the draft and its key returned; anything else is
/// counted as ignored (or rejected) with the reason.
fn read_member(cx: &mut Ctx<'_>, m: &Value, path: &str, holder: &Holder<'_>, draft: &mut Draft) -> Option<String> {
    let Some(object) = m.as_object() else {
        let at = cx.at(path);
        cx.f.reject(Problem::error(at, "a member that is not an object").help(DEPTH_HELP));
        return None;
    };
    let ty = object
        .get("@odata.type")
        .and_then(Value::as_str)
        .map(|t| t.trim().trim_start_matches('#').trim_start_matches("microsoft.graph."));
    let upn = text_of(object, "userPrincipalName");
    let is_user = match ty {
        Some(t) => t.eq_ignore_ascii_case("user"),
        None => upn.is_some(),
    };
    if !is_user {
        let (message, help) = not_a_user(ty.unwrap_or("unknown"), object, holder);
        let at = cx.at(path);
        cx.f.ignore(Problem::warning(at, message).help(help));
        return None;
    }
    let Some(upn) = upn else {
        let at = cx.at(path);
        cx.f.reject(
            Problem::error(at, format!("a user member of {} without `userPrincipalName`", holder.what()))
                .help("add `userPrincipalName` to the members' `$select`"),
        );
        return None;
    };
    cx.unknown(object, path, &["id", "displayName", "userPrincipalName", "accountEnabled"], "members.");
    let user = draft.user_mut(upn);
    if user.name.is_none() {
        user.name = text_of(object, "displayName").map(str::to_string);
    }
    if let Some(enabled) = object.get("accountEnabled").and_then(Value::as_bool) {
        user.enabled = Some(enabled);
    }
    cx.f.use_one();
    Some(key(upn))
}

/// Why a member that is not a user is not read, and what to do.
fn not_a_user(ty: &str, member: &Map<String, Value>, holder: &Holder<'_>) -> (String, String) {
    let name = text_of(member, "displayName").or_else(|| text_of(member, "id")).unwrap_or("?");
    let id = text_of(member, "id").unwrap_or("{id}");
    let kind = ty.to_lowercase();
    match (holder, kind.as_str()) {
        (Holder::Group(..), "group") => (
            format!(
                "nested group `{name}` is not read: Teams gives a group's policies only to its direct members, not to members of nested groups"
            ),
            "add the users to this group directly if they should get its policies".into(),
        ),
        (Holder::Group(..), "device") => {
            (format!("device `{name}` is not read: devices get no Teams policies"), "nothing to do".into())
        }
        (Holder::Group(..), "orgcontact") => (
            format!(
                "organizational contact `{name}` is not read: contacts are not Teams users and get no Teams policies"
            ),
            "nothing to do".into(),
        ),
        (Holder::Group(..), "serviceprincipal") => {
            (format!("app `{name}` is not read: apps get no Teams policies"), "nothing to do".into())
        }
        (Holder::Group(..), _) => {
            (format!("`{ty}` member `{name}` is not read: only users get Teams policies"), "nothing to do".into())
        }
        (Holder::Role(role), "group") => (
            format!(
                "group `{name}` holds the role `{role}`: its members are administrators too, but only users listed here are read"
            ),
            format!(
                "request `GET /groups/{id}/members` and add the users to this role's `members`: approvers must all be enabled for teachers to request contact updates"
            ),
        ),
        (Holder::Role(role), "serviceprincipal") => (
            format!("app `{name}` holds the role `{role}`: apps don't approve contact updates, so it is not read"),
            "nothing to do".into(),
        ),
        (Holder::Role(role), _) => {
            (format!("`{ty}` member `{name}` of role `{role}` is not read: only users are"), "nothing to do".into())
        }
    }
}

fn read_role(
    cx: &mut Ctx<'_>,
    role: &Map<String, Value>,
    path: &str,
    draft: &mut Draft,
    seen: &mut HashMap<String, String>,
) {
    let count = role.get("members").and_then(Value::as_array).map_or(0, Vec::len);
    let name = text_of(role, "displayName");
    let template = text_of(role, "roleTemplateId");
    let shown = name.or(template).unwrap_or("?");
    let ours = match template {
        Some(t) if t.eq_ignore_ascii_case(GLOBAL_ADMIN_TEMPLATE) => Some("global_admin"),
        Some(t) if t.eq_ignore_ascii_case(TEAMS_ADMIN_TEMPLATE) => Some("teams_admin"),
        Some(_) => None,
        // Without a template id, by name (and the roles' former names).
        None => name.and_then(|n| match n.to_lowercase().as_str() {
            "global administrator" | "company administrator" => Some("global_admin"),
            "teams administrator" | "teams service administrator" => Some("teams_admin"),
            _ => None,
        }),
    };
    let Some(ours) = ours else {
        let at = cx.at(path);
        cx.f.ignore(Problem::warning(
            at,
            format!(
                "role `{shown}` is not read{}: only Global Administrators and Teams Administrators matter to Parent Connection (they approve contact updates)",
                and_members(count)
            ),
        ));
        count_members_with(cx.f, count, false);
        return;
    };
    let id = text_of(role, "id").unwrap_or(ours);
    if let Some(first) = seen.get(&key(id)) {
        let at = cx.at(path);
        cx.f.reject(
            Problem::error(
                at,
                format!(
                    "role `{shown}` is listed again (first at {first}): this copy is not read{}",
                    and_members(count)
                ),
            )
            .help("keep each page once: the same page may have been saved twice"),
        );
        count_members_with(cx.f, count, true);
        return;
    }
    seen.insert(key(id), cx.origin(path));
    cx.unknown(role, path, &["id", "displayName", "roleTemplateId", "members"], "");
    cx.f.use_one();
    read_members(cx, role, path, &Holder::Role(shown), draft, |draft, upn| {
        draft.user_mut(&upn).roles.insert(ours.to_string());
    });
}

// ------------------------------------------------------------------------------------------
// Related contacts

fn read_education_user(
    cx: &mut Ctx<'_>,
    user: &Map<String, Value>,
    path: &str,
    draft: &mut Draft,
    warned: &mut HashSet<String>,
) {
    cx.unknown(user, path, &["userPrincipalName", "relatedContacts"], "");
    let contacts = match user.get("relatedContacts") {
        Some(Value::Array(contacts)) => contacts,
        None | Some(Value::Null) => {
            if warned.insert(cx.shown.to_string()) {
                let at = cx.at(path);
                cx.f.note(
                    Problem::warning(at, "education users without `relatedContacts`: they are read as having no contacts")
                        .help("export with `$select=userPrincipalName,relatedContacts` and the application permission EduRoster.Read.All (delegated permissions return fewer properties)"),
                );
            }
            return;
        }
        Some(_) => {
            let at = cx.at(&format!("{path}.relatedContacts"));
            cx.f.note(Problem::error(at, "`relatedContacts` is not a list: not read").help(DEPTH_HELP));
            return;
        }
    };
    let student = text_of(user, "userPrincipalName");
    for (j, contact) in contacts.iter().enumerate() {
        let cpath = format!("{path}.relatedContacts[{j}]");
        match student {
            None => {
                let at = cx.at(&cpath);
                cx.f.reject(
                    Problem::error(at, "a contact of an education user without `userPrincipalName`")
                        .help("export with `$select=userPrincipalName,relatedContacts`"),
                );
            }
            Some(s) if !draft.has_user(s) => {
                let at = cx.at(&cpath);
                cx.f.reject(
                    Problem::error(at, format!("a contact of unknown student `{s}`: no file read before this one lists the student"))
                        .help("export the students too (Graph groups, Get-CsOnlineUser or School Data Sync), or check the UPN"),
                );
            }
            Some(s) => read_contact(cx, contact, &cpath, s, draft),
        }
    }
}

fn read_contact(cx: &mut Ctx<'_>, c: &Value, path: &str, student: &str, draft: &mut Draft) {
    let Some(c) = c.as_object() else {
        let at = cx.at(path);
        cx.f.reject(Problem::error(at, "a related contact that is not an object").help(DEPTH_HELP));
        return;
    };
    cx.unknown(c, path, &["displayName", "emailAddress", "mobilePhone", "relationship"], "relatedContacts.");
    let mut warnings = Vec::new();
    let rel_path = format!("{path}.relationship");
    let relationship = match c.get("relationship").and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()) {
        None => {
            warnings.push(
                Problem::warning(cx.at(&rel_path), "the contact has no `relationship`: read as `other`")
                    .help("set the relationship in the student information system (Parent Connection needs `parent` or `guardian`)"),
            );
            Relationship::Other
        }
        Some(r) if r.eq_ignore_ascii_case("unknownFutureValue") => {
            warnings.push(
                Problem::warning(cx.at(&rel_path), "the relationship is `unknownFutureValue` (a value newer than the request asked for): read as `other`")
                    .help("export again with the request header `Prefer: include-unknown-enum-members` to see the real value"),
            );
            Relationship::Other
        }
        Some(r) => {
            match GRAPH_RELATIONSHIPS.iter().find(|g| g.eq_ignore_ascii_case(r)).and_then(|g| Relationship::parse(g)) {
                Some(rel) => rel,
                None => {
                    let at = cx.at(&rel_path);
                    cx.f.reject(
                    Problem::error(at, "the relationship is not one of Graph's `contactRelationship` values: the contact is not read")
                        .value(r)
                        .help(format!("use one of {}", GRAPH_RELATIONSHIPS.join(", "))),
                );
                    return;
                }
            }
        }
    };
    let email = text_of(c, "emailAddress");
    if let Some(e) = email
        && !email_ok(e)
    {
        let at = cx.at(&format!("{path}.emailAddress"));
        cx.f.reject(
            Problem::error(at, "the contact's email address is not of the form name@domain: the contact is not read")
                .personal_value(e)
                .help("fix the address in the student information system and export again"),
        );
        return;
    }
    let name = match text_of(c, "displayName") {
        Some(n) => n.to_string(),
        None if email.is_some() => {
            warnings.push(
                Problem::warning(cx.at(path), format!("a contact of `{student}` has no `displayName`"))
                    .help("set the contact's name in the student information system"),
            );
            format!("guardian of {student}")
        }
        None => {
            let at = cx.at(path);
            cx.f.reject(
                Problem::error(
                    at,
                    format!("a contact of `{student}` has neither `displayName` nor `emailAddress`: it can't be named"),
                )
                .help("set the contact's name and email in the student information system"),
            );
            return;
        }
    };
    let phone_path = format!("{path}.mobilePhone");
    let phone = match text_of(c, "mobilePhone") {
        Some(p) => {
            let (kept, warning) = check_phone(p, || cx.at(&phone_path));
            warnings.extend(warning);
            kept
        }
        None => None,
    };
    let g = GuardianDraft {
        id: contact_id(student, email, &name),
        name,
        email: email.map(str::to_string),
        phone,
        on_teams: false,
        links: [(key(student), relationship)].into_iter().collect(),
        origin: cx.origin(path),
        sources: vec![SOURCE],
    };
    if let Some(known) = draft.same_guardian(&g).and_then(|id| draft.guardians.get(&id)) {
        if known.disagrees(&g) {
            let differing = match (&known.phone, &g.phone) {
                (Some(a), Some(b)) if a.trim() != b.trim() => Some(b.clone()),
                _ => g.email.clone(),
            };
            let mut w = Problem::warning(
                cx.at(path),
                format!(
                    "`{}` is already known from {}, with different contact details: the earlier ones are kept",
                    g.name, known.origin
                ),
            )
            .help("correct the contact in one place (the student information system) and export again");
            if let Some(v) = differing {
                w = w.personal_value(v);
            }
            warnings.push(w);
        }
        if let Some(rel) = known.links.get(&key(student))
            && *rel != relationship
        {
            warnings.push(
                Problem::warning(
                    cx.at(&rel_path),
                    format!("`{}` is linked to `{student}` again with another relationship: `{rel}` is kept", g.name),
                )
                .value(relationship.as_str()),
            );
        }
    }
    draft.add_guardian(g);
    cx.f.use_one();
    for w in warnings {
        cx.f.note(w);
    }
}

/// A contact's id: its email lower-cased; without one, `<student UPN lower-cased>/<name slug>`.
pub(super) fn contact_id(student: &str, email: Option<&str>, name: &str) -> String {
    GuardianDraft::id_for(email, None).unwrap_or_else(|| format!("{}/{}", key(student), slug(name)))
}

/// A name as an id part (see [`super::draft::slug`]); `contact` for a name with no letters.
pub(super) fn slug(name: &str) -> String {
    let out = super::draft::slug(name);
    if out.is_empty() { "contact".into() } else { out }
}

#[cfg(test)]
mod tests {
    use super::super::Kind;
    use super::super::report::Severity;
    use super::*;
    use std::path::PathBuf;

    fn fixtures(dir: &str) -> PathBuf {
        crate::repo().join("tests/fixtures/exports").join(dir)
    }

    /// The files of `dir` of `kind`, sorted by path as `import()` sorts them.
    fn found(dir: &str, kind: Kind) -> Vec<Found> {
        let root = fixtures(dir);
        let mut out: Vec<Found> = std::fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter_map(|path| {
                let name = path.file_name()?.to_string_lossy().to_lowercase();
                let k = super::super::classify(&name)?;
                (k == kind).then(|| Found { shown: format!("{dir}/{name}"), path, kind })
            })
            .collect();
        out.sort_by(|a, b| a.path.cmp(&b.path));
        assert!(!out.is_empty(), "no {kind:?} files in {dir}");
        out
    }

    /// Writes `files` (name, text) to a fresh temporary directory; returns them as found files.
    fn temp(test: &str, files: &[(&str, &str)]) -> Vec<Found> {
        let dir = std::env::temp_dir().join(format!("tenet-graph-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut out = Vec::new();
        for (name, text) in files {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            let kind = super::super::classify(&name.to_lowercase()).unwrap();
            out.push(Found { path, shown: (*name).to_string(), kind });
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        out
    }

    fn file<'r>(report: &'r ImportReport, name: &str) -> &'r FileReport {
        report.files.iter().find(|f| f.file.ends_with(name)).unwrap_or_else(|| panic!("no report for {name}"))
    }

    fn errors(f: &FileReport) -> Vec<&Problem> {
        f.problems.iter().filter(|p| p.severity == Severity::Error).collect()
    }

    fn counts_add_up(report: &ImportReport) {
        for f in &report.files {
            assert_eq!(f.read, f.used + f.ignored + f.rejected, "{}", f.file);
        }
    }

    /// No guardian email or phone number in the text report; `render(true)` shows what was hidden.
    fn no_contact_details(report: &ImportReport) {
        let text = report.render(false);
        assert!(!text.contains("@example."), "{text}");
        assert!(!text.contains("555"), "{text}");
    }

    fn lakeside() -> serde_yaml::Value {
        let path = crate::repo().join("policies/examples/lakeside/directory.yaml");
        serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn strings(v: &serde_yaml::Value) -> Vec<String> {
        v.as_sequence().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect()
    }

    const PREFIX: &str = "3f0c2a8e-6b1d-4e57-9a2c-71d4e5f60";

    #[test]
    fn lakeside_groups_and_roles_are_the_directory_s() {
        let mut draft = Draft::default();
        let mut report = ImportReport::default();
        read_groups(&found("lakeside/graph", Kind::GraphGroups), &mut draft, &mut report);
        read_directory_roles(&found("lakeside/graph", Kind::GraphDirectoryRoles), &mut draft, &mut report);
        counts_add_up(&report);
        let text = report.render(false);
        assert!(!report.has_errors(), "{text}");

        // Read in page order although `groups-2.json` sorts first by name.
        let ids: Vec<&str> = draft.groups.values().map(|g| g.id.as_str()).collect();
        let expected: Vec<String> = (1..=6).map(|i| format!("{PREFIX}a0{i}")).collect();
        assert_eq!(ids, expected);
        let directory = lakeside();
        let groups = directory["groups"].as_sequence().unwrap();
        assert_eq!(groups.len(), 6);
        for (i, g) in groups.iter().enumerate() {
            let ours = &draft.groups[&format!("{PREFIX}a0{}", i + 1)];
            assert_eq!(ours.name.as_deref(), g["name"].as_str());
            assert_eq!(ours.members.iter().cloned().collect::<Vec<_>>(), strings(&g["members"]), "{}", ours.id);
            assert!(!ours.hidden_membership);
        }

        let groups2 = file(&report, "groups-2.json");
        assert_eq!(groups2.encoding, "UTF-16LE with BOM");
        assert_eq!(file(&report, "groups.json").encoding, "UTF-8");
        // The device in IT administrators is ignored, with why.
        assert_eq!(groups2.ignored, 1, "{text}");
        assert!(groups2.problems.iter().any(|p| p.message.contains("device") && p.severity == Severity::Warning));
        assert!(file(&report, "groups.json").unknown_properties.contains("mailNickname"));

        let roles = file(&report, "directoryroles.json");
        assert_eq!(roles.encoding, "UTF-8 with BOM");
        assert_eq!((roles.used, roles.ignored), (4, 2), "{text}");
        assert!(roles.problems.iter().any(|p| p.message.contains("Helpdesk Administrator")));
        let roles_of = |upn: &str| draft.users[upn].roles.iter().cloned().collect::<Vec<_>>();
        assert_eq!(roles_of("pat.morgan@lakeside.edu"), ["global_admin"]);
        assert_eq!(roles_of("quinn.lee@lakeside.edu"), ["teams_admin"]);
        assert!(roles_of("liam.chen@lakeside.edu").is_empty(), "a Helpdesk Administrator is no approver");

        assert_eq!(draft.users["kate.oconnor@lakeside.edu"].enabled, Some(false));
        assert_eq!(draft.users["ana.rivera@lakeside.edu"].enabled, Some(true));
        assert_eq!(draft.users["kate.oconnor@lakeside.edu"].name.as_deref(), Some("Kate O'Connor"));
    }

    #[test]
    fn lakeside_contacts_are_the_directory_s_guardians() {
        let directory = lakeside();
        let mut draft = Draft::default();
        for upn in ["sam.kim", "lucia.garcia", "ethan.brooks", "ava.martin", "noah.williams", "zoe.patel"] {
            draft.user_mut(&format!("{upn}@lakeside.edu"));
        }
        let mut report = ImportReport::default();
        read_related_contacts(&found("lakeside/graph-contacts", Kind::GraphRelatedContacts), &mut draft, &mut report);
        counts_add_up(&report);
        let text = report.render(false);
        assert!(!report.has_errors(), "{text}");
        no_contact_details(&report);

        let guardians = directory["guardians"].as_sequence().unwrap();
        assert_eq!(draft.guardians.len(), guardians.len());
        for g in guardians {
            let student = g["students"][0]["upn"].as_str().unwrap();
            let name = g["name"].as_str().unwrap();
            let id = contact_id(student, g["email"].as_str(), name);
            let ours = draft.guardians.get(&id).unwrap_or_else(|| panic!("no guardian {name}"));
            assert_eq!(ours.name, name);
            assert_eq!(ours.email.as_deref(), g["email"].as_str(), "{name}");
            assert_eq!(ours.phone.as_deref(), g["phone"].as_str(), "{name}");
            let rel = Relationship::parse(g["students"][0]["relationship"].as_str().unwrap()).unwrap();
            assert_eq!(ours.links.iter().collect::<Vec<_>>(), [(&student.to_string(), &rel)], "{name}");
        }
        assert!(draft.guardians.contains_key("lucia.garcia@lakeside.edu/rosa-garcia"));

        // Three numbers are not E.164: one warning each, numbers hidden.
        let phone_warnings: Vec<&Problem> =
            report.files.iter().flat_map(|f| &f.problems).filter(|p| p.message.contains("E.164")).collect();
        assert_eq!(phone_warnings.len(), 3, "{text}");
        assert!(report.render(true).contains("(206) 555-0102"));
        let first = file(&report, "educationusers.json");
        assert!(first.unknown_properties.contains("relatedContacts.accessConsent"), "{:?}", first.unknown_properties);
        assert_eq!(report.files.iter().map(|f| f.used).sum::<usize>(), 11);
    }

    #[test]
    fn incomplete_pages_are_a_file_error() {
        let mut report = ImportReport::default();
        read_groups(&found("errors/graph-incomplete-pages", Kind::GraphGroups), &mut Draft::default(), &mut report);
        let f = file(&report, "groups.json");
        let errors = errors(f);
        assert_eq!(errors.len(), 1, "{}", report.render(false));
        assert_eq!(errors[0].at.field.as_deref(), Some("@odata.nextLink"));
        assert!(errors[0].at.line.is_some_and(|l| l > 1));
        assert!(errors[0].help.contains("groups-2.json"), "{}", errors[0].help);
        assert_eq!(f.rejected, 0);
        no_contact_details(&report);
    }

    #[test]
    fn truncated_members_are_an_error_naming_the_fix() {
        let mut draft = Draft::default();
        let mut report = ImportReport::default();
        read_groups(&found("errors/graph-members-truncated", Kind::GraphGroups), &mut draft, &mut report);
        let f = file(&report, "groups.json");
        let errors = errors(f);
        assert_eq!(errors.len(), 1, "{}", report.render(false));
        let e = errors[0];
        assert_eq!(e.at.field.as_deref(), Some("value[0].members@odata.nextLink"));
        let text = std::fs::read_to_string(fixtures("errors/graph-members-truncated/groups.json")).unwrap();
        let line = text.lines().position(|l| l.contains("\"members@odata.nextLink\"")).unwrap() + 1;
        assert_eq!(e.at.line, Some(line));
        assert!(e.help.contains("/groups/") && e.help.contains("/members"), "{}", e.help);
        // The group is kept with the members listed, so assignments naming it still resolve.
        assert_eq!(draft.groups.values().next().map(|g| g.members.len()), Some(20));
        counts_add_up(&report);
        no_contact_details(&report);
    }

    #[test]
    fn malformed_json_is_a_file_error_with_line_and_column() {
        let mut report = ImportReport::default();
        read_groups(&found("errors/graph-malformed-json", Kind::GraphGroups), &mut Draft::default(), &mut report);
        let f = file(&report, "groups.json");
        let errors = errors(f);
        assert_eq!(errors.len(), 1);
        let text = std::fs::read_to_string(fixtures("errors/graph-malformed-json/groups.json")).unwrap();
        let line = text.lines().position(|l| l.contains("\"visibility\": null")).unwrap() + 1;
        assert_eq!(errors[0].at, At::line(line), "{}", report.render(false));
        assert!(errors[0].message.contains("column"), "{}", errors[0].message);
        assert!(!errors[0].help.is_empty());
        assert_eq!(f.read, 0);
    }

    fn with_students(dir: &str) -> (Draft, ImportReport) {
        let mut draft = Draft::default();
        let mut report = ImportReport::default();
        read_groups(&found(dir, Kind::GraphGroups), &mut draft, &mut report);
        read_related_contacts(&found(dir, Kind::GraphRelatedContacts), &mut draft, &mut report);
        counts_add_up(&report);
        (draft, report)
    }

    #[test]
    fn a_relationship_outside_graph_s_values_is_rejected() {
        let (draft, report) = with_students("errors/graph-contact-bad-relationship");
        let f = file(&report, "educationusers.json");
        assert_eq!((f.used, f.rejected), (1, 1), "{}", report.render(false));
        let e = errors(f)[0];
        assert_eq!(e.at.field.as_deref(), Some("value[0].relatedContacts[1].relationship"));
        assert!(e.at.line.is_some_and(|l| l > 1));
        assert!(e.help.contains("parent") && e.help.contains("guardian"), "{}", e.help);
        assert_eq!(draft.guardians.len(), 1);
        no_contact_details(&report);
        assert!(report.render(true).contains("555"), "the test must see what it checks is hidden");
    }

    #[test]
    fn contacts_of_an_unknown_student_are_rejected_each() {
        let (draft, report) = with_students("errors/graph-contact-unknown-student");
        let f = file(&report, "educationusers.json");
        assert_eq!((f.used, f.rejected), (1, 2), "{}", report.render(false));
        let errors = errors(f);
        assert!(errors.iter().all(|e| e.message.contains("unknown student `maya.lopez@lakeside.edu`")));
        assert_eq!(errors[0].at.field.as_deref(), Some("value[1].relatedContacts[0]"));
        assert!(errors[0].at.line.is_some());
        assert_eq!(draft.guardians.len(), 1);
        no_contact_details(&report);
    }

    const GROUP: &str = r##"{"id": "G1", "displayName": "Class 7B", "visibility": "HiddenMembership",
        "members": [
          {"@odata.type": "#microsoft.graph.user", "id": "u1", "displayName": "Ann", "userPrincipalName": "Ann@x.edu"},
          {"@odata.type": "#microsoft.graph.group", "id": "g9", "displayName": "Nested"}
        ]}"##;

    #[test]
    fn hidden_membership_nested_groups_and_duplicates() {
        let page1 = format!(
            r##"{{"value": [{GROUP}], "@odata.nextLink": "https://graph.microsoft.com/v1.0/groups?$skiptoken=x"}}"##
        );
        // Page 10 sorts before page 2 by name; both repeat G1.
        let page2 = format!(r##"{{"value": [{GROUP}]}}"##);
        let page10 = format!(r##"[{{"value": []}}, {{"value": [{GROUP}]}}]"##);
        let files = temp("dup", &[("groups.json", &page1), ("groups-2.json", &page2), ("groups-10.json", &page10)]);
        let mut draft = Draft::default();
        let mut report = ImportReport::default();
        read_groups(&files, &mut draft, &mut report);
        counts_add_up(&report);
        let text = report.render(false);
        assert_eq!(
            report.files.iter().map(|f| f.file.as_str()).collect::<Vec<_>>(),
            ["groups.json", "groups-2.json", "groups-10.json"]
        );
        let g = &draft.groups["g1"];
        assert!(g.hidden_membership);
        assert_eq!(g.members.iter().collect::<Vec<_>>(), ["ann@x.edu"]);
        assert_eq!(draft.users["ann@x.edu"].upn, "Ann@x.edu");
        let first = file(&report, "groups.json");
        assert_eq!((first.read, first.used, first.ignored), (3, 2, 1), "{text}");
        assert!(first.problems[0].message.contains("nested group `Nested`"), "{text}");
        let second = file(&report, "groups-2.json");
        assert_eq!((second.read, second.rejected), (3, 3), "{text}");
        assert!(errors(second)[0].message.contains("first at groups.json `value[0]`"), "{text}");
        let tenth = file(&report, "groups-10.json");
        assert_eq!(errors(tenth)[0].at.field.as_deref(), Some("[1].value[0].id"), "{text}");
        // No next link on the last page: complete.
        assert!(!text.contains("incomplete"), "{text}");
    }

    #[test]
    fn twenty_members_may_be_cut() {
        let members: Vec<String> = (0..20)
            .map(|i| format!(r##"{{"@odata.type": "#microsoft.graph.user", "userPrincipalName": "u{i}@x.edu"}}"##))
            .collect();
        let page = format!(r##"{{"value": [{{"id": "G", "members": [{}]}}]}}"##, members.join(",\n"));
        let mut report = ImportReport::default();
        read_groups(&temp("twenty", &[("groups.json", &page)]), &mut Draft::default(), &mut report);
        let f = file(&report, "groups.json");
        assert_eq!(f.used, 21);
        let w = &f.problems[0];
        assert_eq!(
            (w.severity, w.at.field.as_deref(), w.at.line),
            (Severity::Warning, Some("value[0].members"), Some(1))
        );
        assert!(w.help.contains("GET /groups/G/members"), "{}", w.help);
    }

    #[test]
    fn roles_by_name_and_role_groups() {
        let page = r##"{"value": [
          {"id": "r1", "displayName": "Company Administrator", "members": [
            {"@odata.type": "#microsoft.graph.user", "userPrincipalName": "a@x.edu", "accountEnabled": false},
            {"@odata.type": "#microsoft.graph.group", "id": "g1", "displayName": "Break-glass admins"}]},
          {"id": "r2", "roleTemplateId": "69091246-20E8-4A56-AA4D-066075B2A7A8", "displayName": "Teams Administrator",
           "members": [{"@odata.type": "#microsoft.graph.user", "userPrincipalName": "b@x.edu"}]},
          {"id": "r3", "roleTemplateId": "729827e3-9c14-49f7-bb1b-9608f156bbb8", "displayName": "Helpdesk Administrator",
           "members": [{"@odata.type": "#microsoft.graph.user", "userPrincipalName": "c@x.edu"}]}
        ]}"##;
        let mut draft = Draft::default();
        let mut report = ImportReport::default();
        read_directory_roles(&temp("roles", &[("directoryRoles.json", page)]), &mut draft, &mut report);
        counts_add_up(&report);
        let f = &report.files[0];
        assert_eq!((f.read, f.used, f.ignored), (7, 4, 3), "{}", report.render(false));
        assert!(draft.users["a@x.edu"].roles.contains("global_admin"));
        assert_eq!(draft.users["a@x.edu"].enabled, Some(false));
        assert!(draft.users["b@x.edu"].roles.contains("teams_admin"));
        assert!(!draft.users.contains_key("c@x.edu"));
        assert!(f.problems.iter().any(|p| p.help.contains("GET /groups/g1/members")));
    }

    #[test]
    fn contacts_merge_by_email_and_key_by_name_without_one() {
        let users = r##"{"value": [
          {"userPrincipalName": "s1@x.edu", "relatedContacts": [
            {"displayName": "Pat Doe", "emailAddress": "Pat@Example.com", "mobilePhone": "+14255550101", "relationship": "parent"},
            {"displayName": "Lee  O'Neil", "emailAddress": null, "mobilePhone": "call me", "relationship": "unknownFutureValue", "accessConsent": true}]},
          {"userPrincipalName": "s2@x.edu", "relatedContacts": [
            {"displayName": "Pat Doe", "emailAddress": "pat@example.com", "mobilePhone": "+14255550102", "relationship": "Guardian"}]},
          {"userPrincipalName": "t@x.edu", "relatedContacts": []}
        ]}"##;
        let mut draft = Draft::default();
        for s in ["s1@x.edu", "s2@x.edu", "t@x.edu"] {
            draft.user_mut(s);
        }
        let mut report = ImportReport::default();
        read_related_contacts(&temp("merge", &[("educationUsers.json", users)]), &mut draft, &mut report);
        counts_add_up(&report);
        let text = report.render(false);
        no_contact_details(&report);
        assert!(!report.has_errors(), "{text}");
        let pat = &draft.guardians["pat@example.com"];
        assert_eq!(pat.links.len(), 2);
        assert_eq!(pat.links["s2@x.edu"], Relationship::Guardian);
        assert_eq!(pat.phone.as_deref(), Some("+14255550101"), "the first record's details are kept");
        assert!(text.contains("different contact details"), "{text}");
        let lee = &draft.guardians["s1@x.edu/lee-o-neil"];
        assert_eq!(lee.links["s1@x.edu"], Relationship::Other);
        assert_eq!(lee.phone, None, "a number the directory would refuse is left out");
        assert!(text.contains("unknownFutureValue"), "{text}");
        assert!(report.files[0].unknown_properties.contains("relatedContacts.accessConsent"));
        assert_eq!(report.files[0].used, 3);
    }

    #[test]
    fn slugs() {
        assert_eq!(slug("Rosa Garcia"), "rosa-garcia");
        assert_eq!(slug("  Dr. Ravi  Anand "), "dr-ravi-anand");
        assert_eq!(slug("Zoë O'Brien"), "zoë-o-brien");
        assert_eq!(slug("--"), "contact");
    }
}
