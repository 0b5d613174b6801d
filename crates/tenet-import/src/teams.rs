//! Teams PowerShell exports (`Get-X | ConvertTo-Json -Depth 5 > X.json`), as Windows PowerShell
//! 5.1 and PowerShell 7 write them.
//!
//! Which properties are settings, and of what type, comes from the policy pack: a configuration
//! object or policy type of the pack named like the cmdlet's noun (`Get-CsTeamsMessagingPolicy`
//! → `TeamsMessagingPolicy`). Properties the pack doesn't model are listed in the report as not
//! read; settings the export lacks keep the pack's default and are listed too.

use super::draft::{DirectAssignment, Draft, GroupAssignment, Literal, Values, key};
use super::json::{Element, Elements};
use super::report::{At, FileReport, ImportReport, Problem};
use super::{Found, Options, text};
use serde_json::{Map, Value as Json};
use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap};
use tenet::unstable::model::{Model, Schema, Ty, Value};

/// The exports read, by the cmdlet that wrote them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Cmdlet {
    /// `Get-TeamsApp`: the apps' ids by display name, read first (the other exports name apps by
    /// id).
    TeamsApp,
    TenantFederationConfiguration,
    TeamsEducationConfiguration,
    PrivacyConfiguration,
    TeamsMeetingConfiguration,
    TeamsClientConfiguration,
    ExternalAccessPolicy,
    TeamsMessagingPolicy,
    TeamsMeetingPolicy,
    TeamsCallingPolicy,
    TeamsAppPermissionPolicy,
    AllM365TeamsApps,
    /// After the policies: direct assignments name their instances.
    OnlineUser,
    /// After the users and the Graph groups.
    GroupPolicyAssignment,
}

impl Cmdlet {
    pub const ALL: [Cmdlet; 14] = [
        Cmdlet::TeamsApp,
        Cmdlet::TenantFederationConfiguration,
        Cmdlet::TeamsEducationConfiguration,
        Cmdlet::PrivacyConfiguration,
        Cmdlet::TeamsMeetingConfiguration,
        Cmdlet::TeamsClientConfiguration,
        Cmdlet::ExternalAccessPolicy,
        Cmdlet::TeamsMessagingPolicy,
        Cmdlet::TeamsMeetingPolicy,
        Cmdlet::TeamsCallingPolicy,
        Cmdlet::TeamsAppPermissionPolicy,
        Cmdlet::AllM365TeamsApps,
        Cmdlet::OnlineUser,
        Cmdlet::GroupPolicyAssignment,
    ];

    /// The cmdlet, as `Get-<this>`.
    pub fn noun(self) -> &'static str {
        match self {
            Cmdlet::OnlineUser => "CsOnlineUser",
            Cmdlet::TenantFederationConfiguration => "CsTenantFederationConfiguration",
            Cmdlet::TeamsEducationConfiguration => "CsTeamsEducationConfiguration",
            Cmdlet::PrivacyConfiguration => "CsPrivacyConfiguration",
            Cmdlet::TeamsMeetingConfiguration => "CsTeamsMeetingConfiguration",
            Cmdlet::TeamsClientConfiguration => "CsTeamsClientConfiguration",
            Cmdlet::ExternalAccessPolicy => "CsExternalAccessPolicy",
            Cmdlet::TeamsMessagingPolicy => "CsTeamsMessagingPolicy",
            Cmdlet::TeamsMeetingPolicy => "CsTeamsMeetingPolicy",
            Cmdlet::TeamsCallingPolicy => "CsTeamsCallingPolicy",
            Cmdlet::TeamsAppPermissionPolicy => "CsTeamsAppPermissionPolicy",
            Cmdlet::GroupPolicyAssignment => "CsGroupPolicyAssignment",
            Cmdlet::AllM365TeamsApps => "AllM365TeamsApps",
            Cmdlet::TeamsApp => "TeamsApp",
        }
    }

    /// Properties that objects of this export carry and the other exports' objects don't:
    /// how an export is recognised by what it holds, whatever its file is called.
    pub fn markers(self) -> &'static [&'static str] {
        match self {
            Cmdlet::TeamsApp => &["DistributionMethod", "ExternalId"],
            Cmdlet::TenantFederationConfiguration => &[
                "AllowTeamsConsumer",
                "AllowTeamsConsumerInbound",
                "AllowFederatedUsers",
                "AllowPublicUsers",
                "AllowedDomains",
                "BlockedDomains",
                "SharedSipAddressSpace",
                "TreatDiscoveredPartnersAsUnverified",
                "RestrictTeamsConsumerToExternalUserProfiles",
            ],
            Cmdlet::TeamsEducationConfiguration => {
                &["ParentGuardianPreferredContactMethod", "UpdateParentInformation", "EduGenerativeAIEnhancements"]
            }
            Cmdlet::PrivacyConfiguration => &[
                "EnablePrivacyMode",
                "AutoInitiateContacts",
                "PublishLocationDataDefault",
                "DisplayPublishedPhotoDefault",
            ],
            Cmdlet::TeamsMeetingConfiguration => &[
                "DisableAnonymousJoin",
                "DisableAppInteractionForAnonymousUsers",
                "ClientAudioPort",
                "ClientVideoPort",
                "LogoURL",
                "LegalURL",
                "HelpURL",
                "CustomFooterText",
                "EnableQoS",
            ],
            Cmdlet::TeamsClientConfiguration => &[
                "AllowDropBox",
                "AllowBox",
                "AllowGoogleDrive",
                "AllowShareFile",
                "AllowEgnyte",
                "AllowEmailIntoChannel",
                "AllowGuestUser",
                "AllowOrganizationTab",
                "ContentPin",
                "ResourceAccountContentAccess",
            ],
            Cmdlet::ExternalAccessPolicy => &[
                "EnableTeamsConsumerAccess",
                "EnableTeamsConsumerInbound",
                "EnableFederationAccess",
                "EnablePublicCloudAudioVideoAccess",
                "EnableOutsideAccess",
                "EnableXmppAccess",
                "EnableAcsFederationAccess",
            ],
            Cmdlet::TeamsMessagingPolicy => &[
                "AllowUserChat",
                "AllowGiphy",
                "AllowMemes",
                "AllowStickers",
                "AllowUserEditMessage",
                "AllowUserDeleteMessage",
                "AllowUrlPreviews",
                "ReadReceiptsEnabledType",
                "AllowOwnerDeleteMessage",
                "AllowImmersiveReader",
                "AllowSmartReply",
                "GiphyRatingType",
            ],
            Cmdlet::TeamsMeetingPolicy => &[
                "AllowMeetNow",
                "AllowAnonymousUsersToJoinMeeting",
                "AllowAnonymousUsersToStartMeeting",
                "AllowCloudRecording",
                "AllowTranscription",
                "AutoAdmittedUsers",
                "ScreenSharingMode",
                "AllowPrivateMeetingScheduling",
                "AllowChannelMeetingScheduling",
                "AllowPrivateMeetNow",
            ],
            Cmdlet::TeamsCallingPolicy => &[
                "AllowPrivateCalling",
                "AllowVoicemail",
                "AllowCallForwardingToUser",
                "AllowCallForwardingToPhone",
                "AllowCallGroups",
                "AllowDelegation",
                "AllowWebPSTNCalling",
                "BusyOnBusyEnabledType",
                "MusicOnHoldEnabledType",
                "PreventTollBypass",
            ],
            Cmdlet::TeamsAppPermissionPolicy => &[
                "DefaultCatalogApps",
                "GlobalCatalogApps",
                "PrivateCatalogApps",
                "DefaultCatalogAppsType",
                "GlobalCatalogAppsType",
                "PrivateCatalogAppsType",
            ],
            Cmdlet::AllM365TeamsApps => &["IsBlocked", "AvailableTo", "InstalledFor"],
            // Teams' own properties of a user: `UserPrincipalName` and `AccountEnabled` are in
            // every Entra user export too (`Get-MgUser`), which is not this one.
            Cmdlet::OnlineUser => &[
                "SipAddress",
                "EnterpriseVoiceEnabled",
                "FeatureTypes",
                "AssignedPlan",
                "LineUri",
                "TeamsMessagingPolicy",
                "TeamsMeetingPolicy",
                "TeamsCallingPolicy",
                "ExternalAccessPolicy",
                "TeamsAppPermissionPolicy",
                "InterpretedUserType",
                "HostingProvider",
            ],
            Cmdlet::GroupPolicyAssignment => &["GroupId", "PolicyType", "PolicyName", "Rank", "Priority"],
        }
    }

    /// The export whose objects have `properties`: the one with the most of its markers, or,
    /// when several have as many, the one whose name the file's `name` (lower-case letters and
    /// digits only) holds. `Err` lists the exports that tie.
    pub fn recognise(properties: &[&str], name: &str) -> Result<Cmdlet, Vec<Cmdlet>> {
        let score =
            |c: Cmdlet| c.markers().iter().filter(|m| properties.iter().any(|p| p.eq_ignore_ascii_case(m))).count();
        let best = Cmdlet::ALL.into_iter().map(score).max().unwrap_or(0);
        let tied: Vec<Cmdlet> = Cmdlet::ALL.into_iter().filter(|c| score(*c) == best).collect();
        if let [one] = tied.as_slice() {
            return Ok(*one);
        }
        let named: Vec<Cmdlet> = tied.iter().copied().filter(|c| c.named_in(name)).collect();
        // The longest name held wins: `csteamsmeetingpolicy` over `csteamsmeeting...`.
        match named.iter().map(|c| c.noun().len()).max() {
            Some(longest) => {
                let longest: Vec<Cmdlet> = named.into_iter().filter(|c| c.noun().len() == longest).collect();
                if let [one] = longest.as_slice() { Ok(*one) } else { Err(longest) }
            }
            None => Err(tied),
        }
    }

    /// Whether a file name (lower-case letters and digits only) names this export:
    /// `getcsonlineuser20261201` names `Get-CsOnlineUser`, and so does `onlineuser`.
    fn named_in(self, name: &str) -> bool {
        let noun = self.noun().to_lowercase();
        let short = noun.strip_prefix("cs").unwrap_or(&noun);
        match self {
            Cmdlet::AllM365TeamsApps => name.contains("m365teamsapp"),
            Cmdlet::TeamsApp => name.contains("teamsapp") && !name.contains("m365teamsapp"),
            _ => name.contains(short),
        }
    }

    /// The pack's configuration object or policy type this export fills, if any.
    pub(super) fn target(self) -> Option<&'static str> {
        match self {
            Cmdlet::OnlineUser | Cmdlet::GroupPolicyAssignment | Cmdlet::AllM365TeamsApps => None,
            other => other.noun().strip_prefix("Cs"),
        }
    }
}

/// Where the Parents and Approvals apps' ids came from, for the report's sources.
#[derive(Debug, Clone, Default)]
pub(super) struct AppIds {
    /// For `ParentsApp` and `ApprovalsApp`: where the id came from (a flag, or an export's file
    /// and line); `None` where it is unknown.
    pub(super) found: [(&'static str, Option<String>); 2],
}

/// The apps whose ids the import needs: the configuration object, its display name in the
/// catalog, and the flag that gives the id.
const APPS: [(&str, &str, &str); 2] =
    [("ParentsApp", "Parents", "--parents-app-id"), ("ApprovalsApp", "Approvals", "--approvals-app-id")];

/// Reads every PowerShell export: the apps' ids first, then configurations and policies, users,
/// group assignments. Returns where the apps' ids came from.
pub(super) fn read(
    files: &[Found],
    pack: &Model,
    options: &Options,
    draft: &mut Draft,
    report: &mut ImportReport,
) -> AppIds {
    let mut files: Vec<(Cmdlet, &Found)> = files
        .iter()
        .filter_map(|f| match f.kind {
            super::Kind::Teams(c) => Some((c, f)),
            _ => None,
        })
        .collect();
    files.sort_by_key(|(c, f)| (*c, f.path.clone()));
    let apps: Vec<&Found> = files.iter().filter(|(c, _)| *c == Cmdlet::TeamsApp).map(|(_, f)| *f).collect();
    let (options, ids) = app_ids(&apps, options, report);
    for (((config, _, _), id), (_, from)) in
        APPS.iter().zip([&options.parents_app_id, &options.approvals_app_id]).zip(&ids.found)
    {
        if let Some(id) = id {
            draft.tenant.configs.entry((*config).into()).or_default().insert("Id".into(), Literal::Str(id.clone()));
            draft.tenant.set_origin(config, "Id", from.clone().unwrap_or_default());
        }
    }
    // Several files of one export are pages of one set: an object may be in one of them only.
    let mut seen: HashMap<Cmdlet, HashMap<String, (String, usize)>> = HashMap::new();
    let mut catalog = None;
    for (cmdlet, found) in files.into_iter().filter(|(c, _)| *c != Cmdlet::TeamsApp) {
        let format = format!("Get-{}", cmdlet.noun());
        let file = report.file(&found.shown, &format);
        let Some(objects) = objects(found, file) else { continue };
        let seen = seen.entry(cmdlet).or_default();
        let mut reader = Reader { pack, options: &options, draft, file, shown: &found.shown, index: 0, seen };
        for (index, item) in objects.enumerate() {
            reader.index = index;
            match item {
                Ok((element, object)) => reader.object(cmdlet, &element, object),
                Err(problem) => reader.file.reject(*problem),
            }
        }
        reader.finish(cmdlet);
        if cmdlet == Cmdlet::AllM365TeamsApps {
            catalog.get_or_insert((found.shown.clone(), format));
        }
    }
    // An app the catalog doesn't list has no known status: never the pack's default instead.
    if let Some((shown, format)) = catalog {
        let listed = seen.get(&Cmdlet::AllM365TeamsApps);
        for ((config, name, option), id) in APPS.iter().zip([&options.parents_app_id, &options.approvals_app_id]) {
            if let Some(id) =
                id.as_ref().filter(|id| !listed.is_some_and(|l| l.contains_key(&tenet::unstable::directory::key(id))))
            {
                report.file(&shown, &format).note(
                    Problem::error(At::file(), format!("no app in the catalog export has the {name} app's id, so whether {name} is allowed is unknown"))
                        .value(id.clone())
                        .help(format!("export the whole catalog (`Get-AllM365TeamsApps | ConvertTo-Json -Depth 5`), or check the id ({option}, or the Get-TeamsApp export) against Teams admin center > Teams apps > Manage apps > {name}; {config}.Id is that id")),
                );
            }
        }
    }
    ids
}

/// An app of a `Get-TeamsApp` export: its id, whether it is from the store (Microsoft's own), the
/// file and where its id is.
type CatalogEntry = (String, bool, String, String);

/// The apps' ids: from a `Get-TeamsApp` export (objects with `Id`, `DisplayName`,
/// `DistributionMethod`), unless a flag gives one. Among several apps of one name, the store's
/// (Microsoft's own) is the one.
fn app_ids(files: &[&Found], options: &Options, report: &mut ImportReport) -> (Options, AppIds) {
    let mut options = options.clone();
    let flags = [options.parents_app_id.clone(), options.approvals_app_id.clone()];
    let mut ids = AppIds {
        found: [
            ("ParentsApp", flags[0].as_ref().map(|_| "--parents-app-id".to_string())),
            ("ApprovalsApp", flags[1].as_ref().map(|_| "--approvals-app-id".to_string())),
        ],
    };
    // Per app: each entry with its name.
    let mut named: [Vec<CatalogEntry>; 2] = [Vec::new(), Vec::new()];
    for found in files {
        let file = report.file(&found.shown, "Get-TeamsApp");
        let Some(objects) = objects(found, file) else { continue };
        for (index, item) in objects.enumerate() {
            let (element, object) = match item {
                Ok(o) => o,
                Err(problem) => {
                    file.reject(*problem);
                    continue;
                }
            };
            let name = object.get("DisplayName").and_then(Json::as_str).map(str::trim).unwrap_or_default();
            let id = object.get("Id").and_then(Json::as_str).map(str::trim).filter(|i| !i.is_empty());
            match (APPS.iter().position(|(_, n, _)| n.eq_ignore_ascii_case(name)), id) {
                (Some(i), Some(id)) => {
                    let store = object
                        .get("DistributionMethod")
                        .and_then(Json::as_str)
                        .is_some_and(|d| d.eq_ignore_ascii_case("store"));
                    let at = origin(&found.shown, element.line_of_key("Id"), &format!("[{index}].Id"));
                    named[i].push((id.to_string(), store, found.shown.clone(), at));
                    file.use_one();
                }
                (Some(_), None) => file.reject(
                    Problem::error(At::property(Some(element.line), "Id"), format!("the {name} app has no `Id`"))
                        .help("export with `Get-TeamsApp | ConvertTo-Json`"),
                ),
                // Any other app: counted, not listed one by one.
                (None, _) => {
                    file.read += 1;
                    file.ignored += 1;
                }
            }
        }
    }
    for (i, (config, name, option)) in APPS.iter().enumerate() {
        let store: Vec<&CatalogEntry> = named[i].iter().filter(|e| e.1).collect();
        let candidates: Vec<&CatalogEntry> = if store.is_empty() { named[i].iter().collect() } else { store };
        let mut distinct: Vec<&str> = candidates.iter().map(|e| e.0.as_str()).collect();
        distinct.sort_unstable_by_key(|id| tenet::unstable::directory::key(id));
        distinct.dedup_by_key(|id| tenet::unstable::directory::key(id));
        let Some(first) = candidates.first() else { continue };
        let flag = if i == 0 { &mut options.parents_app_id } else { &mut options.approvals_app_id };
        let shown = first.2.clone();
        match flag {
            Some(given) if !given.eq_ignore_ascii_case(&first.0) => report.file(&shown, "Get-TeamsApp").note(
                Problem::warning(
                    At::file(),
                    format!("{option} differs from the id of the {name} app in this export; {option} is used"),
                )
                .value(first.0.clone())
                .help(format!("drop {option} to use the export's id")),
            ),
            Some(_) => {}
            None if distinct.len() > 1 => report.file(&shown, "Get-TeamsApp").note(
                Problem::error(At::file(), format!("{} apps are named {name}: its id is not clear", distinct.len()))
                    .value(distinct.join(", "))
                    .help(format!(
                        "pass {option} with the id Teams admin center > Teams apps > Manage apps > {name} shows"
                    )),
            ),
            None => {
                *flag = Some(first.0.clone());
                ids.found[i] = (config, Some(first.3.clone()));
            }
        }
    }
    (options, ids)
}

type Object = Map<String, Json>;

/// A JSON object with its keys checked: a property written twice, even in another case
/// (`AllowUserChat` and `allowuserchat`), is named rather than one of them silently winning.
struct CheckedObject {
    object: Object,
    twice: Option<String>,
}

impl<'de> serde::Deserialize<'de> for CheckedObject {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Keys;
        impl<'de> serde::de::Visitor<'de> for Keys {
            type Value = CheckedObject;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<CheckedObject, A::Error> {
                let mut object = Object::new();
                let mut twice = None;
                while let Some((k, v)) = map.next_entry::<String, Json>()? {
                    if twice.is_none() && object.contains_key(&k) {
                        twice = Some(k.clone());
                    }
                    object.insert(k, v);
                }
                if twice.is_none() {
                    let mut keys: Vec<&String> = object.keys().collect();
                    keys.sort_unstable_by(|a, b| {
                        a.bytes().map(|c| c.to_ascii_lowercase()).cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
                    });
                    twice = keys.windows(2).find(|w| w[0].eq_ignore_ascii_case(w[1])).map(|w| w[1].clone());
                }
                Ok(CheckedObject { object, twice })
            }
        }
        d.deserialize_map(Keys)
    }
}

/// The file's objects, or `None` (with a file-level error) if it can't be opened.
fn objects(
    found: &Found,
    file: &mut FileReport,
) -> Option<impl Iterator<Item = Result<(Element, Object), Box<Problem>>> + use<>> {
    let (reader, encoding) = match text::open(&found.path) {
        Ok(r) => r,
        Err(e) => {
            file.note(Problem::error(At::file(), format!("can't read the file: {e}")).help(EXPORT_HELP));
            return None;
        }
    };
    file.encoding = encoding.to_string();
    let elements = Elements::new(reader);
    Some(elements.map(|e| {
        let e = e.map_err(|e| Box::new(Problem::error(At::line(e.line), e.message).help(EXPORT_HELP)))?;
        match serde_json::from_str::<CheckedObject>(&e.text) {
            Ok(CheckedObject { twice: Some(key), .. }) => Err(Box::new(
                Problem::error(
                    At::property(Some(e.line_of_key(&key)), key.clone()),
                    format!("`{key}` is in this object twice (in some spelling): which one holds is unclear, so the object is not read"),
                )
                .help(EXPORT_HELP),
            )),
            Ok(CheckedObject { object, twice: None }) => Ok((e, object)),
            Err(err) => Err(Box::new(
                Problem::error(
                    At::line(e.line + err.line().saturating_sub(1)),
                    format!("not a JSON object: {}", scrub(&err.to_string())),
                )
                .help(EXPORT_HELP),
            )),
        }
    }))
}

const DUPLICATE_HELP: &str = "export again: each object appears once; files of one export are its pages, so if two files are exports of different days, keep only the newest";

const EXPORT_HELP: &str =
    "export again with `Get-X | ConvertTo-Json -Depth 5 > X.json` (see the README's import section)";

/// serde_json's message without the quoted value (it could be anything the file holds).
fn scrub(message: &str) -> String {
    let message = message.split(" at line ").next().unwrap_or(message);
    let mut out = String::new();
    for (i, part) in message.split('`').enumerate() {
        out.push_str(if i % 2 == 1 { "…" } else { part });
    }
    out
}

struct Reader<'a> {
    pack: &'a Model,
    options: &'a Options,
    draft: &'a mut Draft,
    file: &'a mut FileReport,
    /// The file, as the report names it.
    shown: &'a str,
    /// The position of the object being read in the file's array (from 0).
    index: usize,
    /// Keys already read from the files of this export, with the file and line of their first
    /// object.
    seen: &'a mut HashMap<String, (String, usize)>,
}

/// Properties every Teams export carries that are about the object, not a setting.
const METADATA: &[&str] = &["Identity", "Key", "ScopeClass", "Anchor", "XsAnyElements", "Element", "TypeName"];

impl Reader<'_> {
    fn object(&mut self, cmdlet: Cmdlet, element: &Element, object: Object) {
        match cmdlet {
            Cmdlet::OnlineUser => self.user(element, &object),
            Cmdlet::GroupPolicyAssignment => self.group_assignment(element, &object),
            Cmdlet::AllM365TeamsApps => self.app(element, &object),
            _ => self.settings(cmdlet, element, &object),
        }
    }

    fn finish(&mut self, cmdlet: Cmdlet) {
        if cmdlet == Cmdlet::AllM365TeamsApps && self.file.ignored > 0 {
            let n = self.file.ignored;
            self.file.note(Problem::warning(
                At::file(),
                format!(
                    "{n} app{} other than Parents and Approvals {} not read: no decision depends on them",
                    if n == 1 { "" } else { "s" },
                    if n == 1 { "is" } else { "are" }
                ),
            ));
        }
    }

    /// Where property `key` of the current object is: `CsOnlineUser.json:1234 [57].TeamsMeetingPolicy`.
    fn origin(&self, element: &Element, key: &str) -> String {
        origin(self.shown, element.line_of_key(key), &format!("[{}].{key}", self.index))
    }

    /// Records where each of `values` came from: its property in the current object.
    fn set_origins(&mut self, owner: &str, element: &Element, object: &Object, values: &Values) {
        for setting in values.keys() {
            let key = object.keys().find(|k| k.eq_ignore_ascii_case(setting)).map_or(setting.as_str(), String::as_str);
            let at = self.origin(element, key);
            self.draft.tenant.set_origin(owner, setting, at);
        }
    }

    /// Remembers `key`; returns where an earlier object with the same key is: `line 3`, or
    /// `` `other.json` line 3`` when another file of this export has it.
    fn first_seen(&mut self, key: String, line: usize) -> Option<String> {
        match self.seen.entry(key) {
            Entry::Occupied(first) => {
                let (file, line) = first.get();
                Some(if file == self.shown { format!("line {line}") } else { format!("`{file}` line {line}") })
            }
            Entry::Vacant(v) => {
                v.insert((self.shown.to_string(), line));
                None
            }
        }
    }

    // --------------------------------------------------------------------------------------
    // Configuration objects and policy instances

    fn settings(&mut self, cmdlet: Cmdlet, element: &Element, object: &Object) {
        let Some(target) = cmdlet.target() else { return };
        let identity = match object.get("Identity") {
            Some(Json::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
            // Every policy and configuration object the cmdlets write names itself.
            None | Some(Json::Null) => {
                return self.file.reject(
                    Problem::error(
                        At::line(element.line),
                        "the object has no `Identity`, so which policy it is is unknown",
                    )
                    .help("export again with ConvertTo-Json: each object carries `Identity` (`Global` or `Tag:Name`)"),
                );
            }
            Some(_) => {
                return self.file.reject(
                    Problem::error(
                        At::property(Some(element.line_of("Identity")), "Identity"),
                        "`Identity` is not a string",
                    )
                    .help("an identity is `Global` or `Tag:<name>`"),
                );
            }
        };
        let name = identity.strip_prefix("Tag:").or_else(|| identity.strip_prefix("tag:")).unwrap_or(&identity).trim();
        let name = if name.eq_ignore_ascii_case("Global") { "Global".to_string() } else { name.to_string() };
        if let Some(first) = self.first_seen(key(&name), element.line) {
            return self.file.reject(
                Problem::error(
                    At::property(Some(element.line), "Identity"),
                    format!("`{identity}` is in this export twice (first at {first})"),
                )
                .value(identity.clone())
                .help(DUPLICATE_HELP),
            );
        }
        if let Some(config) = self.pack.configs.get(target) {
            if name != "Global" {
                return self.file.ignore(
                    Problem::warning(
                        At::property(Some(element.line), "Identity"),
                        format!("{target} is tenant-wide: only its `Global` identity is read"),
                    )
                    .value(identity),
                );
            }
            let Some(values) = self.values(&config.schema, element, object) else { return self.file.reject_noted() };
            self.set_origins(target, element, object, &values);
            self.draft.tenant.configs.entry(target.to_string()).or_default().extend(values);
            return self.file.use_one();
        }
        let Some(ty) = self.pack.policy_types.get(target) else {
            return self.file.ignore(
                Problem::warning(
                    At::line(element.line),
                    format!("the policy pack has no `{target}`, so this export is not read"),
                )
                .help("use the bundled pack, or add the type to your pack"),
            );
        };
        let Some(values) = self.values(&ty.schema, element, object) else { return self.file.reject_noted() };
        if let Some(locked) = ty.instances.values().find(|i| i.locked && i.name.eq_ignore_ascii_case(&name)) {
            // A subscription default: the pack defines it; the export must agree.
            let mut differs = Vec::new();
            for (i, (setting, s)) in ty.schema.settings.iter().enumerate() {
                let pack_value = locked.values.get(i).and_then(|v| v.as_ref()).map_or(&s.default, |(v, _)| v);
                if let Some(v) = values.get(setting).filter(|v| !same(self.pack, pack_value, v)) {
                    differs.push(format!("{setting} (export {}, pack {})", show(v), self.pack.show(pack_value)));
                }
            }
            if differs.is_empty() {
                self.file.use_one();
            } else {
                self.file.use_with(
                    Problem::warning(
                        At::property(Some(element.line), "Identity"),
                        format!("the subscription default `{identity}` differs from the pack's locked definition in {}; the pack's values are used", differs.join(", ")),
                    )
                    .help("Microsoft doesn't publish these values; if the export is right, report it so the pack can be corrected (policies/teams/subscription-defaults.tenet)"),
                );
            }
            return;
        }
        self.set_origins(&format!("{target}/{name}"), element, object, &values);
        self.draft.tenant.instances.entry(target.to_string()).or_default().insert(name, values);
        self.file.use_one();
    }

    /// The settings of `schema` found in `object`, typed; problems are reported per property,
    /// and any makes the whole object refused (`None`): half a policy would decide wrongly.
    fn values(&mut self, schema: &Schema, element: &Element, object: &Object) -> Option<Values> {
        let mut values = Values::new();
        let mut good = true;
        for (setting, s) in &schema.settings {
            let found = object.iter().find(|(k, _)| k.eq_ignore_ascii_case(setting));
            match found {
                None | Some((_, Json::Null)) => {
                    self.file.defaulted.insert(format!("{}.{setting}", schema.name));
                }
                Some((k, v)) => match literal(self.pack, &s.ty, v) {
                    Ok(l) => {
                        values.insert(setting.clone(), l);
                    }
                    Err(bad) => {
                        let at = At::property(Some(element.line_of(k)), k.clone());
                        self.file.note(bad.problem(at, setting));
                        good = false;
                    }
                },
            }
        }
        for k in object.keys() {
            if !schema.settings.keys().any(|s| s.eq_ignore_ascii_case(k))
                && !METADATA.iter().any(|m| m.eq_ignore_ascii_case(k))
            {
                self.file.unknown_properties.insert(k.clone());
            }
        }
        good.then_some(values)
    }

    // --------------------------------------------------------------------------------------
    // Users

    fn user(&mut self, element: &Element, object: &Object) {
        let upn = match object.get("UserPrincipalName") {
            Some(Json::String(s)) if s.contains('@') && !s.trim().contains(' ') => s.trim().to_string(),
            other => {
                let mut p = Problem::error(
                    At::property(Some(element.line), "UserPrincipalName"),
                    "the user has no `UserPrincipalName` of the form name@domain",
                )
                .help(
                    "export users with `Get-CsOnlineUser | ConvertTo-Json -Depth 5`, which includes UserPrincipalName",
                );
                if let Some(Json::String(s)) = other {
                    p = p.value(s.clone());
                }
                return self.file.reject(p);
            }
        };
        if let Some(first) = self.first_seen(key(&upn), element.line) {
            return self.file.reject(
                Problem::error(
                    At::property(Some(element.line), "UserPrincipalName"),
                    format!("user `{upn}` is in this export twice (first at {first})"),
                )
                .help(DUPLICATE_HELP),
            );
        }
        let mut read: BTreeSet<&str> = ["UserPrincipalName"].into();
        let user = self.draft.user_mut(&upn);
        if let Some(Json::String(name)) = object.get("DisplayName") {
            read.insert("DisplayName");
            user.name.get_or_insert_with(|| name.clone());
        }
        match object.get("AccountEnabled") {
            Some(Json::Bool(b)) => {
                read.insert("AccountEnabled");
                user.enabled = Some(*b);
            }
            None | Some(Json::Null) => {
                self.file.defaulted.insert("AccountEnabled (true)".into());
            }
            Some(_) => {
                read.insert("AccountEnabled");
                self.file.note(
                    Problem::error(
                        At::property(Some(element.line_of("AccountEnabled")), "AccountEnabled"),
                        "`AccountEnabled` is not true or false",
                    )
                    .help(EXPORT_HELP),
                );
            }
        }
        for (lic, _) in licences(object, &mut read) {
            user.licenses.insert(lic.to_string());
        }
        // Direct assignments: a policy column per type of the pack; null means Global applies.
        for (ty_name, ty) in &self.pack.policy_types {
            let Some((column, value)) = object.iter().find(|(k, _)| k.eq_ignore_ascii_case(ty_name)) else { continue };
            read.insert(column.as_str());
            let name = match value {
                Json::Null => continue,
                Json::String(s) => s.clone(),
                Json::Object(o) => match o.get("Name") {
                    Some(Json::String(s)) => s.clone(),
                    _ => {
                        self.file.note(bad_assignment(element, column, "an object without a `Name`"));
                        continue;
                    }
                },
                _ => {
                    self.file.note(bad_assignment(element, column, "neither a name nor null"));
                    continue;
                }
            };
            let name = name.strip_prefix("Tag:").unwrap_or(&name).trim().to_string();
            if name.is_empty() || name.eq_ignore_ascii_case("Global") {
                continue;
            }
            match self.instance(ty_name, ty, &name) {
                Some(instance) => {
                    let origin = self.origin(element, column);
                    self.draft.tenant.direct.push(DirectAssignment {
                        policy_type: ty_name.clone(),
                        instance,
                        upn: upn.clone(),
                        origin,
                    });
                }
                None => self.file.note(unknown_instance(
                    At::property(Some(element.line_of(column)), column.clone()),
                    ty_name,
                    &name,
                )),
            }
        }
        for k in object.keys() {
            if !read.contains(k.as_str()) {
                self.file.unknown_properties.insert(k.clone());
            }
        }
        self.file.use_one();
    }

    /// The instance `name` of a policy type as imported or defined locked by the pack.
    fn instance(&self, ty_name: &str, ty: &tenet::unstable::model::PolicyType, name: &str) -> Option<String> {
        let imported =
            self.draft.tenant.instances.get(ty_name).and_then(|m| m.keys().find(|k| k.eq_ignore_ascii_case(name)));
        let locked = ty.instances.values().find(|i| i.locked && i.name.eq_ignore_ascii_case(name)).map(|i| &i.name);
        imported.or(locked).cloned()
    }

    // --------------------------------------------------------------------------------------
    // Group policy assignments

    fn group_assignment(&mut self, element: &Element, object: &Object) {
        let text = |k: &str| match object.get(k) {
            Some(Json::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
            _ => None,
        };
        let (Some(group), Some(ty_name), Some(name)) = (text("GroupId"), text("PolicyType"), text("PolicyName")) else {
            let missing: Vec<&str> =
                ["GroupId", "PolicyType", "PolicyName"].into_iter().filter(|k| text(k).is_none()).collect();
            return self.file.reject(
                Problem::error(At::line(element.line), format!("the assignment has no {}", missing.join(", ")))
                    .help("export with `Get-CsGroupPolicyAssignment | ConvertTo-Json -Depth 5`"),
            );
        };
        for k in object.keys() {
            if !["GroupId", "PolicyType", "PolicyName", "Rank", "Priority"].contains(&k.as_str()) {
                self.file.unknown_properties.insert(k.clone());
            }
        }
        let rank = match object.get("Rank").or_else(|| object.get("Priority")) {
            Some(Json::Number(n)) if n.as_i64().is_some_and(|r| r >= 1) => n.as_i64(),
            // Teams ranks every group assignment: a missing rank is no "unranked".
            None | Some(Json::Null) => {
                return self.file.reject(
                    Problem::error(
                        At::line(element.line),
                        "the assignment has no `Rank`: Teams gives every group assignment one",
                    )
                    .help("export again with `Get-CsGroupPolicyAssignment | ConvertTo-Json -Depth 5`"),
                );
            }
            Some(other) => {
                return self.file.reject(
                    Problem::error(
                        At::property(Some(element.line_of("Rank")), "Rank"),
                        "`Rank` is not a whole number of 1 or more",
                    )
                    .value(other.to_string())
                    .help("ranks start at 1 (the highest precedence)"),
                );
            }
        };
        let Some((ty_key, ty)) = self.pack.policy_types.iter().find(|(k, _)| k.eq_ignore_ascii_case(&ty_name)) else {
            return self.file.ignore(
                Problem::warning(
                    At::property(Some(element.line_of("PolicyType")), "PolicyType"),
                    "the policy pack doesn't model this policy type, so the assignment is not read",
                )
                .value(ty_name),
            );
        };
        if ty.direct_only {
            // Product decision 14: the documentation wins over the cmdlet's parameter list.
            return self.file.ignore(
                Problem::warning(
                    At::property(Some(element.line_of("PolicyType")), "PolicyType"),
                    format!("{ty_key} can't be assigned to groups (Teams applies it per user only), so this group assignment is ignored"),
                )
                .value(format!("{ty_key} {name} → group {group}"))
                .help(format!("remove it (Remove-CsGroupPolicyAssignment -GroupId {group} -PolicyType {ty_key}) and grant the policy to users with Grant-Cs{ty_key}")),
            );
        }
        let at = |field: &str| At::property(Some(element.line_of(field)), field);
        if !self.draft.groups.contains_key(&key(&group)) {
            return self.file.reject(
                Problem::error(at("GroupId"), "no group with this id was imported")
                    .value(group)
                    .help("export the groups from Microsoft Graph (`/groups?$expand=members`, see the README) into the same --from directory"),
            );
        }
        let Some(instance) = self.instance(ty_key, ty, &name) else {
            return self.file.reject(unknown_instance(at("PolicyName"), ty_key, &name));
        };
        // Found by key, not by scanning what was read: a district has tens of thousands.
        let line = element.line;
        let group_key = format!("group\t{ty_key}\t{}", key(&group));
        if let Some((file, first)) = self.seen.get(&group_key) {
            return self.file.reject(
                Problem::error(
                    at("GroupId"),
                    format!("the group already has a {ty_key} assignment (at {file}:{first})"),
                )
                .value(group)
                .help("a group holds one assignment per policy type: export again"),
            );
        }
        let rank_key = rank.map(|r| format!("rank\t{ty_key}\t{r}"));
        if let Some((r, (file, first))) = rank.zip(rank_key.as_ref().and_then(|k| self.seen.get(k))) {
            return self.file.reject(
                Problem::error(
                    at("Rank"),
                    format!("two {ty_key} group assignments have rank {r} (the other at {file}:{first})"),
                )
                .help("ranks are unique per policy type: export again"),
            );
        }
        self.seen.insert(group_key, (self.shown.to_string(), line));
        if let Some(k) = rank_key {
            self.seen.insert(k, (self.shown.to_string(), line));
        }
        let origin = origin(self.shown, element.line, &format!("[{}]", self.index));
        self.draft.tenant.groups.push(GroupAssignment { policy_type: ty_key.clone(), instance, group, rank, origin });
        self.file.use_one();
    }

    // --------------------------------------------------------------------------------------
    // App catalog

    fn app(&mut self, element: &Element, object: &Object) {
        let Some(Json::String(id)) = object.get("Id") else {
            return self.file.reject(
                Problem::error(At::line(element.line), "the app has no `Id`")
                    .help("export with `Get-AllM365TeamsApps | ConvertTo-Json -Depth 5`"),
            );
        };
        let id = id.trim().to_string();
        self.seen.entry(tenet::unstable::directory::key(&id)).or_insert((self.shown.to_string(), element.line));
        let config = [("ParentsApp", &self.options.parents_app_id), ("ApprovalsApp", &self.options.approvals_app_id)]
            .into_iter()
            .find(|(_, known)| known.as_deref().is_some_and(|k| k.eq_ignore_ascii_case(&id)))
            .map(|(c, _)| c);
        let Some(config) = config else {
            // One of the catalog's many apps: counted, not listed one by one.
            self.file.read += 1;
            self.file.ignored += 1;
            return;
        };
        let mut values = Values::new();
        match object.get("IsBlocked") {
            Some(Json::Bool(b)) => {
                values.insert("Status".into(), Literal::Enum(if *b { "Blocked" } else { "Allowed" }.into()));
            }
            Some(Json::String(s)) if s.eq_ignore_ascii_case("Blocked") || s.eq_ignore_ascii_case("Unblocked") => {
                let blocked = s.eq_ignore_ascii_case("Blocked");
                values.insert("Status".into(), Literal::Enum(if blocked { "Blocked" } else { "Allowed" }.into()));
            }
            None | Some(Json::Null) => {
                self.file.defaulted.insert(format!("{config}.Status"));
            }
            Some(other) => self.file.note(
                Problem::error(
                    At::property(Some(element.line_of("IsBlocked")), "IsBlocked"),
                    "`IsBlocked` is not true/false or Blocked/Unblocked",
                )
                .value(other.to_string()),
            ),
        }
        if let Some(Json::Object(to)) = object.get("AvailableTo") {
            match to.get("AssignmentType").and_then(Json::as_str).map(str::to_lowercase).as_deref() {
                Some("everyone") => {
                    values.insert("Availability".into(), Literal::Enum("Everyone".into()));
                }
                Some("usersandgroups") => {
                    values.insert("Availability".into(), Literal::Enum("SpecificUsersOrGroups".into()));
                }
                Some("noone") => {
                    values.insert("Availability".into(), Literal::Enum("NoOne".into()));
                }
                _ => self.file.note(
                    Problem::error(
                        At::property(Some(element.line_of("AvailableTo.AssignmentType")), "AvailableTo.AssignmentType"),
                        "expected Everyone, UsersAndGroups or Noone",
                    )
                    .value(to.get("AssignmentType").map(Json::to_string).unwrap_or_default()),
                ),
            }
            let groups: Vec<String> = match to.get("Groups") {
                Some(Json::Array(items)) => items.iter().filter_map(item_id).collect(),
                Some(single @ Json::Object(_)) => item_id(single).into_iter().collect(),
                _ => Vec::new(),
            };
            if let Some(Json::Array(users)) = to.get("Users").filter(|u| u.as_array().is_some_and(|a| !a.is_empty())) {
                self.file.note(
                    Problem::warning(At::property(Some(element.line_of("AvailableTo.Users")), "AvailableTo.Users"), format!("{} users are given {config} one by one; tenet models availability through groups only, so they are not read", users.len()))
                        .help("make the app available to a group holding those users"),
                );
            }
            values.insert("AvailableToGroups".into(), Literal::Set(groups));
        } else {
            self.file.defaulted.insert(format!("{config}.Availability"));
        }
        for k in object.keys() {
            if !["Id", "IsBlocked", "AvailableTo"].contains(&k.as_str()) {
                self.file.unknown_properties.insert(k.clone());
            }
        }
        for setting in values.keys() {
            let key = if setting == "Status" { "IsBlocked" } else { "AvailableTo" };
            let at = self.origin(element, key);
            self.draft.tenant.set_origin(config, setting, at);
        }
        self.draft.tenant.configs.entry(config.to_string()).or_default().extend(values);
        self.file.use_one();
    }
}

/// An origin: the file as the report names it, the line, and the property path.
pub(super) fn origin(file: &str, line: usize, path: &str) -> String {
    format!("{file}:{line} {path}")
}

/// An app or group id in a list: a string, or an object with `Id`.
fn item_id(item: &Json) -> Option<String> {
    match item {
        Json::String(s) => Some(s.trim().to_string()),
        Json::Object(o) => o.get("Id").or_else(|| o.get("id")).and_then(Json::as_str).map(|s| s.trim().to_string()),
        _ => None,
    }
}

fn bad_assignment(element: &Element, column: &str, what: &str) -> Problem {
    Problem::error(At::property(Some(element.line_of(column)), column), format!("the `{column}` column is {what}"))
        .help("it holds the directly assigned policy's name, or null when Global applies")
}

fn unknown_instance(at: At, ty: &str, name: &str) -> Problem {
    Problem::error(at, format!("no {ty} named `{name}` was imported"))
        .value(name.to_string())
        .help(format!("export the policies with `Get-Cs{ty} | ConvertTo-Json -Depth 5` into the same --from directory"))
}

/// Licences from the telephony columns of `Get-CsOnlineUser`, in the pack's names, with the
/// column each came from. Marks the columns read.
fn licences<'a>(object: &'a Object, read: &mut BTreeSet<&'a str>) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    let mut calling_plan = false;
    if let Some((k, Json::Array(features))) = object.get_key_value("FeatureTypes") {
        read.insert(k);
        for f in features.iter().filter_map(Json::as_str) {
            match f {
                "PhoneSystem" => out.push(("TeamsPhoneStandard", "FeatureTypes")),
                "CallingPlan" => {
                    calling_plan = true;
                    out.push(("TeamsCallingPlan", "FeatureTypes"));
                }
                _ => {}
            }
        }
    }
    if let Some((k, Json::Array(plans))) = object.get_key_value("AssignedPlan") {
        read.insert(k);
        for plan in plans.iter().filter_map(Json::as_object) {
            let enabled =
                plan.get("CapabilityStatus").and_then(Json::as_str).is_none_or(|s| s.eq_ignore_ascii_case("Enabled"));
            match plan.get("Capability").and_then(Json::as_str) {
                Some("MCOEV") if enabled => out.push(("TeamsPhoneStandard", "AssignedPlan")),
                Some(c) if enabled && c.starts_with("MCOPSTN") => {
                    calling_plan = true;
                    out.push(("TeamsCallingPlan", "AssignedPlan"));
                }
                _ => {}
            }
        }
    }
    if let Some((k, v)) = object.get_key_value("TeamsSharedCallingRoutingPolicy") {
        read.insert(k);
        if !v.is_null() {
            out.push(("SharedCalling", "TeamsSharedCallingRoutingPolicy"));
        }
    }
    if let Some((k, v)) = object.get_key_value("LineUri") {
        read.insert(k);
        // A number not from a Calling Plan is carried by Direct Routing, Operator Connect or
        // Teams Phone Mobile; all give PSTN connectivity, recorded as DirectRouting.
        if v.as_str().is_some_and(|s| !s.trim().is_empty()) && !calling_plan {
            out.push(("DirectRouting", "LineUri"));
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Why a JSON value is not a setting's value.
enum Bad {
    /// A nested value ConvertTo-Json cut at its `-Depth`: it wrote the type's name instead.
    Truncated(String),
    /// An enum written as its number.
    EnumNumber(String),
    Wrong {
        expected: String,
        found: String,
    },
}

impl Bad {
    fn problem(self, at: At, setting: &str) -> Problem {
        match self {
            Bad::Truncated(found) => Problem::error(at, format!("`{setting}` was cut short by ConvertTo-Json: the export holds a type name instead of the value"))
                .value(found)
                .help("export again with a larger depth: `Get-X | ConvertTo-Json -Depth 5 > X.json` (the default depth, 2, truncates lists of objects)"),
            Bad::EnumNumber(found) => Problem::error(at, format!("`{setting}` is written as a number, not as the name of its value"))
                .value(found)
                .help("in PowerShell 7 export with `ConvertTo-Json -Depth 5 -EnumsAsStrings`"),
            Bad::Wrong { expected, found } => {
                Problem::error(at, format!("`{setting}` should be {expected}")).value(found).help("fix the value or export again")
            }
        }
    }
}

/// A JSON value as a setting of type `ty`, or a function that makes the problem for a location
/// and setting name.
pub(super) fn setting_literal(
    pack: &Model,
    ty: &Ty,
    v: &Json,
) -> Result<Literal, impl FnOnce(At, &str) -> Problem + use<>> {
    literal(pack, ty, v).map_err(|bad| move |at: At, setting: &str| bad.problem(at, setting))
}

/// Whether a string is what ConvertTo-Json writes for an object beyond its `-Depth`.
fn truncated(s: &str) -> bool {
    let s = s.trim();
    s.starts_with("@{")
        || (["System.", "Microsoft.", "Deserialized."].iter().any(|p| s.starts_with(p))
            && !s.contains(char::is_whitespace))
}

/// A JSON value as a setting of type `ty`.
fn literal(pack: &Model, ty: &Ty, v: &Json) -> Result<Literal, Bad> {
    let wrong = |expected: &str| Bad::Wrong { expected: expected.into(), found: v.to_string() };
    if let Json::String(s) = v
        && truncated(s)
        && !matches!(ty, Ty::Str)
    {
        return Err(Bad::Truncated(s.clone()));
    }
    match ty {
        Ty::Bool => match v {
            Json::Bool(b) => Ok(Literal::Bool(*b)),
            Json::String(s) if s.eq_ignore_ascii_case("true") => Ok(Literal::Bool(true)),
            Json::String(s) if s.eq_ignore_ascii_case("false") => Ok(Literal::Bool(false)),
            _ => Err(wrong("true or false")),
        },
        Ty::Int => v.as_i64().map(Literal::Int).ok_or_else(|| wrong("a whole number")),
        Ty::Str => match v {
            Json::String(s) => Ok(Literal::Str(s.clone())),
            _ => Err(wrong("a string")),
        },
        Ty::Enum(id) => {
            let Some((name, def)) = pack.enums.get_index(*id) else { return Err(wrong("a known value")) };
            match v {
                Json::String(s) => def
                    .variants
                    .iter()
                    .find(|var| var.eq_ignore_ascii_case(s.trim()))
                    .map(|var| Literal::Enum(var.clone()))
                    .ok_or_else(|| wrong(&format!("one of {} ({name})", def.variants.join(", ")))),
                Json::Number(n) => Err(Bad::EnumNumber(n.to_string())),
                _ => Err(wrong(&format!("one of {}", def.variants.join(", ")))),
            }
        }
        Ty::Set(_) => {
            let items: Vec<&Json> = match v {
                Json::Array(items) => items.iter().collect(),
                // A one-element list, written as its element.
                other => vec![other],
            };
            let mut out = Vec::new();
            for item in items {
                match item {
                    Json::String(s) if truncated(s) => return Err(Bad::Truncated(s.clone())),
                    Json::Null => {}
                    other => {
                        out.push(item_id(other).ok_or_else(|| wrong("a list of strings or of objects with `Id`"))?)
                    }
                }
            }
            Ok(Literal::Set(out))
        }
    }
}

/// Whether an imported literal equals a pack value.
fn same(pack: &Model, value: &Value, literal: &Literal) -> bool {
    pack.show(value) == show(literal)
}

/// A literal as the policy language writes it (and as [`Model::show`] shows values).
fn show(l: &Literal) -> String {
    match l {
        Literal::Bool(b) => b.to_string(),
        Literal::Int(i) => i.to_string(),
        Literal::Str(s) => format!("{s:?}"),
        Literal::Enum(e) => e.clone(),
        Literal::Set(items) => {
            let mut items: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
            items.sort();
            items.dedup();
            format!("[{}]", items.join(", "))
        }
    }
}
