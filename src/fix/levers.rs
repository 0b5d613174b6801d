//! How an admin changes each fact the decisions read: which facts are levers at all, and the
//! cmdlet lines or plain actions that give a fact a new value. This is the Teams pack's
//! knowledge (cmdlet names, admin center paths), kept here in one place.

use super::{Plain, Reach, Step};
use crate::directory::{ClassTeamId, GuardianId, Relationship, UserId};
use crate::eval::{Via, effective};
use crate::model::{DirectoryAttr, Fact, GuardianAttr, Model, TypeId, UserAttr, Value};

/// Why a fact is no lever: what no admin setting changes.
pub(super) fn fixed(model: &Model, fact: Fact) -> Option<&'static str> {
    match fact {
        Fact::Tenant { config, setting } => {
            let c = &model.configs[config].schema;
            let s = c.settings.get_index(setting).map_or("", |(k, _)| k.as_str());
            match (c.name.as_str(), s) {
                ("ParentConnectionLifecycle", _) => Some(
                    "Microsoft's retirement dates, which no setting changes (the tenant is evaluated as of a date after them)",
                ),
                ("ParentConnectionConfiguration", "InviteLimit") => {
                    Some("Microsoft's invite limit, which admins can't raise")
                }
                ("TeamsAppSettings", "GovernanceMode") => Some(
                    "the tenant's app governance mode: moving between permission policies and app centric management is a migration, not a fix",
                ),
                (_, "Name" | "Id") if is_app(model, config) => Some("the app's identity"),
                _ => None,
            }
        }
        Fact::Policy { .. } => None,
        Fact::User(a) => match a {
            UserAttr::Enabled | UserAttr::Licenses | UserAttr::OwnsClassTeam => None,
            UserAttr::Roles => Some("the user's roles, which say who the user is"),
            UserAttr::Groups => Some("the user's group memberships, which tenet doesn't suggest changing"),
            UserAttr::InClassTeam => Some("the user's classes as a student"),
            UserAttr::InvitesSent => Some("the invites the user has already sent"),
        },
        Fact::Directory(a) => match a {
            DirectoryAttr::DisabledRoles | DirectoryAttr::EnabledRoles => None,
        },
        Fact::Guardian(a) => match a {
            GuardianAttr::OnTeams => Some("whether the guardian has a Teams account, which is theirs to choose"),
            GuardianAttr::OfUser => Some("whose guardian the contact is"),
            _ => None,
        },
    }
}

/// An app's catalog entry (a configuration with a `Status`).
fn is_app(model: &Model, config: usize) -> bool {
    model.configs[config].schema.settings.contains_key("Status")
}

/// Where each policy type is edited in the Teams admin center.
fn policy_page(type_name: &str) -> &'static str {
    match type_name {
        "ExternalAccessPolicy" => "Teams admin center > Users > External access > Policies",
        "TeamsMessagingPolicy" => "Teams admin center > Messaging > Messaging policies",
        "TeamsMeetingPolicy" => "Teams admin center > Meetings > Meeting policies",
        "TeamsCallingPolicy" => "Teams admin center > Voice > Calling policies",
        "TeamsAppPermissionPolicy" => "Teams admin center > Teams apps > Permission policies",
        _ => "Teams admin center > the policy's page",
    }
}

/// Where each tenant configuration is edited.
fn config_page(config: &str) -> &'static str {
    match config {
        "TenantFederationConfiguration" => "Teams admin center > Users > External access",
        "TeamsEducationConfiguration" => "Teams admin center > Education > Parent and guardian settings",
        "PrivacyConfiguration" => "no admin center page: Teams PowerShell only",
        "TeamsMeetingConfiguration" => "Teams admin center > Meetings > Meeting settings",
        "TeamsClientConfiguration" => "Teams admin center > Teams > Teams settings",
        _ => "Teams admin center",
    }
}

/// A value as a cmdlet parameter takes it.
pub(super) fn ps_value(model: &Model, value: &Value) -> String {
    match value {
        Value::Bool(b) => if *b { "$true" } else { "$false" }.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Str(s) => quote(s),
        Value::Enum(..) => model.show(value),
        Value::Set(items) => {
            let parts: Vec<String> = items.iter().map(|v| quote(&plain_text(model, v))).collect();
            format!("@({})", parts.join(", "))
        }
    }
}

fn plain_text(model: &Model, v: &Value) -> String {
    match v {
        Value::Str(s) => s.to_string(),
        other => model.show(other),
    }
}

/// A PowerShell string: bare when it is a plain word, else single-quoted.
pub(super) fn quote(s: &str) -> String {
    let bare =
        !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | ':' | '-'));
    if bare && !s.starts_with('-') && !s.starts_with('$') {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "''"))
    }
}

fn cmdlet(line: String, admin_center: String, reach: Reach) -> Step {
    Step { text: line, admin_center, plain: None, reach, peers: 0 }
}

fn plain(text: String, admin_center: String, action: Plain, reach: Reach) -> Step {
    Step { text, admin_center, plain: Some(action), reach, peers: 0 }
}

/// How many of the user's peers (users sharing a role with them) are assigned `instance`,
/// directly or through a group: a hint for ranking, not a decision.
fn holders(model: &Model, user: UserId, ptype: TypeId, instance: usize) -> usize {
    let dir = &model.directory;
    let roles = &dir.user_at(user).roles;
    let peer = |u: &UserId| dir.user_at(*u).roles.iter().any(|r| roles.contains(r));
    let pt = &model.policy_types[ptype];
    let direct = pt.direct.iter().filter(|(u, (i, _))| *i == instance && peer(u)).count();
    let groups: usize = pt
        .groups
        .iter()
        .filter(|a| a.instance == instance)
        .map(|a| dir.group_at(a.group).members.iter().filter(|u| peer(u)).count())
        .sum();
    direct + groups
}

/// What the suggestion is about: who and which guardian.
pub(super) struct Target {
    pub user: UserId,
    pub guardian: Option<GuardianId>,
    /// Whether to count each granted policy's holders among the user's peers, to rank by (one
    /// user's fix does; a population's thousands of users don't need it).
    pub rank: bool,
}

/// The ways to give every fact of one solution its value: each way is a list of steps. The
/// ways multiply out across the solution's parts (policy types, configurations, facts).
pub(super) fn realize(model: &Model, t: &Target, solution: &[(Fact, Value)]) -> Vec<Vec<Step>> {
    let mut parts: Vec<Vec<Vec<Step>>> = Vec::new();
    // Policy settings, by type: one instance has to carry all of them.
    let policy = |f: &Fact| if let Fact::Policy { ptype, setting } = f { Some((*ptype, *setting)) } else { None };
    for (ptype, wanted) in by_owner(solution, policy) {
        parts.push(policy_ways(model, t, ptype, &wanted));
    }
    // Tenant settings, by configuration: one line each.
    let tenant = |f: &Fact| if let Fact::Tenant { config, setting } = f { Some((*config, *setting)) } else { None };
    for (config, wanted) in by_owner(solution, tenant) {
        parts.push(config_ways(model, config, &wanted));
    }
    for (fact, value) in solution {
        let ways = match fact {
            Fact::User(a) => user_ways(model, t, *a, value),
            Fact::Guardian(a) => guardian_ways(model, t, *a, value),
            Fact::Directory(a) => directory_ways(model, *a, value),
            _ => continue,
        };
        parts.push(ways);
    }
    // Every combination of one way per part.
    let mut out: Vec<Vec<Step>> = vec![Vec::new()];
    for ways in parts {
        if ways.is_empty() {
            return Vec::new();
        }
        out = out.iter().flat_map(|done| ways.iter().map(move |w| [done.clone(), w.clone()].concat())).collect();
    }
    out
}

/// The settings of a solution grouped by what holds them (a policy type, a configuration), as
/// `owner` reads each fact: `(holder, setting)`, or `None` for facts of another kind.
fn by_owner(
    solution: &[(Fact, Value)],
    owner: impl Fn(&Fact) -> Option<(usize, usize)>,
) -> Vec<(usize, Vec<(usize, &Value)>)> {
    let mut out: Vec<(usize, Vec<(usize, &Value)>)> = Vec::new();
    for (fact, value) in solution {
        let Some((holder, setting)) = owner(fact) else { continue };
        match out.iter_mut().find(|(h, _)| *h == holder) {
            Some((_, settings)) => settings.push((setting, value)),
            None => out.push((holder, vec![(setting, value)])),
        }
    }
    out
}

fn policy_ways(model: &Model, t: &Target, ptype: TypeId, wanted: &[(usize, &Value)]) -> Vec<Vec<Step>> {
    let pt = &model.policy_types[ptype];
    let name = &pt.schema.name;
    let page = policy_page(name);
    let upn = model.directory.user_at(t.user).upn();
    let current = effective(model, t.user, ptype);
    let fits = |i: usize| wanted.iter().all(|(s, v)| pt.value(i, *s) == *v);
    let mut ways = Vec::new();
    let fitting: Vec<usize> = (0..pt.instances.len()).filter(|i| *i != current.instance && fits(*i)).collect();
    let user_page = format!("Teams admin center > Users > Manage users > {upn} > Policies");
    for &i in &fitting {
        let inst = &pt.instances[i];
        if i == pt.global {
            // Back to Global: only by removing the user's own assignment.
            if current.via == Via::Direct {
                ways.push(vec![cmdlet(
                    format!("Grant-Cs{name} -Identity {} -PolicyName $null", quote(upn)),
                    user_page.clone(),
                    Reach::User(t.user),
                )]);
            }
            continue;
        }
        let mut grant = cmdlet(
            format!("Grant-Cs{name} -Identity {} -PolicyName {}", quote(upn), quote(&inst.identity())),
            user_page.clone(),
            Reach::User(t.user),
        );
        if t.rank {
            grant.peers = holders(model, t.user, ptype, i);
        }
        ways.push(vec![grant]);
    }
    // The same through one of the user's groups, first in rank, when the user holds no direct
    // assignment that would win over it.
    if !pt.direct_only && current.via != Via::Direct {
        let user = model.directory.user_at(t.user);
        for &i in fitting.iter().filter(|i| **i != pt.global) {
            for g in user.groups().iter().take(3) {
                let group = model.directory.group_at(g);
                ways.push(vec![cmdlet(
                    format!(
                        "Grant-Cs{name} -Group {} -PolicyName {} -Rank 1",
                        quote(&group.id),
                        quote(&pt.instances[i].identity())
                    ),
                    format!("{page} > Group policy assignment"),
                    Reach::Group(g),
                )]);
            }
        }
    }
    let changed: Vec<String> = wanted
        .iter()
        .map(|(s, v)| {
            format!("-{} {}", pt.schema.settings.get_index(*s).map_or("", |(k, _)| k.as_str()), ps_value(model, v))
        })
        .collect();
    let held = &pt.instances[current.instance];
    if !held.locked {
        ways.push(vec![cmdlet(
            format!("Set-Cs{name} -Identity {} {}", quote(&held.identity()), changed.join(" ")),
            format!("{page} > {}", held.name),
            Reach::Instance(ptype, current.instance),
        )]);
    } else if fitting.is_empty() {
        // A locked default can only be replaced: a new policy like it, with the change.
        let settings: Vec<&str> =
            wanted.iter().filter_map(|(s, _)| pt.schema.settings.get_index(*s).map(|(k, _)| k.as_str())).collect();
        let mut new_name = format!("{}-{}", held.name, settings.join("-"));
        while pt.instances.contains_key(&crate::directory::key(&new_name)) {
            new_name.push('2');
        }
        let mut params = Vec::new();
        for (s, setting) in pt.schema.settings.values().enumerate() {
            let value = wanted.iter().find(|(w, _)| *w == s).map_or_else(|| pt.value(current.instance, s), |(_, v)| *v);
            if *value != setting.default || wanted.iter().any(|(w, _)| *w == s) {
                params.push(format!("-{} {}", setting.name, ps_value(model, value)));
            }
        }
        let identity = quote(&format!("Tag:{new_name}"));
        ways.push(vec![
            cmdlet(
                format!("New-Cs{name} -Identity {identity} {}", params.join(" ")),
                format!("{page} > Add"),
                Reach::User(t.user),
            ),
            cmdlet(
                format!("Grant-Cs{name} -Identity {} -PolicyName {identity}", quote(upn)),
                user_page,
                Reach::User(t.user),
            ),
        ]);
    }
    ways
}

fn config_ways(model: &Model, config: usize, wanted: &[(usize, &Value)]) -> Vec<Vec<Step>> {
    let c = &model.configs[config];
    let name = &c.schema.name;
    let setting = |s: usize| c.schema.settings.get_index(s).map_or("", |(k, _)| k.as_str());
    if is_app(model, config) {
        let shown = |s: &str| {
            c.schema.settings.get_index_of(s).map(|i| plain_text(model, &c.values[i].0)).filter(|v| !v.is_empty())
        };
        let app = shown("Name").unwrap_or_else(|| name.clone());
        let page = format!("Teams admin center > Teams apps > Manage apps > {app}");
        let mut steps = Vec::new();
        for (s, v) in wanted {
            let (key, value) = (setting(*s), model.show(v));
            let step = match key {
                "Status" if value == "Allowed" => {
                    let id = shown("Id").unwrap_or_else(|| app.clone());
                    cmdlet(
                        format!("Update-M365TeamsApp -Id {} -IsBlocked $false", quote(&id)),
                        format!("{page} > Allow"),
                        Reach::Tenant,
                    )
                }
                "Status" => return Vec::new(),
                "EnabledByK12Wizard" => plain(
                    format!(
                        "Run the Teams for Education policy wizard and save K-12 as the institution type, which enables {app}"
                    ),
                    "Teams admin center > Education > Teams for Education policy wizard".into(),
                    Plain::Tenant { config, setting: *s, value: (*v).clone() },
                    Reach::Tenant,
                ),
                "Availability" => plain(
                    format!("Make {app} available to {value} under app centric management"),
                    format!("{page} > Users and groups"),
                    Plain::Tenant { config, setting: *s, value: (*v).clone() },
                    Reach::Tenant,
                ),
                _ => plain(
                    format!("Set {name}.{key} to {value}"),
                    format!("{page} > Users and groups"),
                    Plain::Tenant { config, setting: *s, value: (*v).clone() },
                    Reach::Tenant,
                ),
            };
            steps.push(step);
        }
        return vec![steps];
    }
    match name.as_str() {
        "TeamsAppSettings" | "ParentConnectionConfiguration" => {
            let steps = wanted
                .iter()
                .map(|(s, v)| {
                    let (text, page) = match (name.as_str(), setting(*s)) {
                        ("TeamsAppSettings", "AllowMicrosoftApps") => (
                            "Turn Microsoft apps on in the org-wide app settings".to_string(),
                            "Teams admin center > Teams apps > Manage apps > Org-wide app settings".to_string(),
                        ),
                        (_, key) => (
                            format!("Set {name}.{key} = {} in the tenant file", model.show(v)),
                            "the tenant file (no admin center page names this setting)".to_string(),
                        ),
                    };
                    plain(text, page, Plain::Tenant { config, setting: *s, value: (*v).clone() }, Reach::Tenant)
                })
                .collect();
            vec![steps]
        }
        _ => {
            let params: Vec<String> =
                wanted.iter().map(|(s, v)| format!("-{} {}", setting(*s), ps_value(model, v))).collect();
            vec![vec![cmdlet(
                format!("Set-Cs{name} {}", params.join(" ")),
                config_page(name).to_string(),
                Reach::Tenant,
            )]]
        }
    }
}

fn user_ways(model: &Model, t: &Target, a: UserAttr, value: &Value) -> Vec<Vec<Step>> {
    let dir = &model.directory;
    let upn = dir.user_at(t.user).upn();
    let users_page = format!("Microsoft 365 admin center > Users > Active users > {upn}");
    match (a, value) {
        (UserAttr::Enabled, Value::Bool(true)) => vec![vec![plain(
            format!("Enable sign-in for {upn}"),
            format!("{users_page} > Block sign-in off"),
            Plain::Enable(t.user),
            Reach::User(t.user),
        )]],
        (UserAttr::Licenses, Value::Set(items)) => {
            let held = &dir.user_at(t.user).licenses;
            items
                .iter()
                .filter_map(|v| if let Value::Str(s) = v { Some(s) } else { None })
                .filter(|s| !held.iter().any(|h| h == *s))
                .map(|s| {
                    vec![plain(
                        format!("Assign the {s} licence to {upn}"),
                        format!("{users_page} > Licenses and apps"),
                        Plain::License(t.user, s.to_string()),
                        Reach::User(t.user),
                    )]
                })
                .collect()
        }
        (UserAttr::OwnsClassTeam, Value::Bool(true)) => {
            let team = t
                .guardian
                .and_then(|g| class_team_of_guardian(model, g))
                .or_else(|| dir.class_teams().next().map(|(id, _)| id));
            team.map(|c| vec![owner_step(model, t.user, c)]).into_iter().collect()
        }
        _ => Vec::new(),
    }
}

/// A class team one of the guardian's students is in.
fn class_team_of_guardian(model: &Model, g: GuardianId) -> Option<ClassTeamId> {
    let dir = &model.directory;
    dir.guardian_at(g).links().iter().find_map(|l| dir.user_at(l.student).student_of().first())
}

fn owner_step(model: &Model, user: UserId, team: ClassTeamId) -> Step {
    let dir = &model.directory;
    let (upn, c) = (dir.user_at(user).upn(), dir.class_team_at(team));
    plain(
        format!("Make {upn} an owner of the class team {} ({})", c.id, c.name),
        format!("School Data Sync (the class's teachers), or Teams > {} > Manage team > Members", c.name),
        Plain::Owner(team, user),
        Reach::User(user),
    )
}

fn guardian_ways(model: &Model, t: &Target, a: GuardianAttr, value: &Value) -> Vec<Vec<Step>> {
    let Some(g) = t.guardian else { return Vec::new() };
    let dir = &model.directory;
    let id = dir.guardian_at(g).id();
    let upn = dir.user_at(t.user).upn();
    let sds = "School Data Sync parent files (contacts)".to_string();
    let step = match (a, value) {
        (GuardianAttr::Linked, Value::Bool(true)) => {
            return class_team_of_guardian(model, g).map(|c| vec![owner_step(model, t.user, c)]).into_iter().collect();
        }
        (GuardianAttr::Blocked, Value::Bool(false)) => plain(
            format!("{upn} unblocks guardian {id} in Teams"),
            "Teams > Settings > Privacy > Blocked contacts (the user does it)".into(),
            Plain::Unblock(t.user, g),
            Reach::User(t.user),
        ),
        (GuardianAttr::HasEmail, Value::Bool(true)) => {
            plain(format!("Add guardian {id}'s email address"), sds, Plain::Email(g), Reach::Guardian(g))
        }
        (GuardianAttr::HasPhone | GuardianAttr::PhoneE164, Value::Bool(true)) => plain(
            format!("Add guardian {id}'s mobile number in E.164 form (+ country code and number), or correct it"),
            sds,
            Plain::Phone(g),
            Reach::Guardian(g),
        ),
        (GuardianAttr::Relationship, Value::Enum(_, v)) => {
            let r = Relationship::ALL.get(*v as usize).copied().unwrap_or(Relationship::Other);
            if !matches!(r, Relationship::Parent | Relationship::Guardian) {
                return Vec::new();
            }
            plain(
                format!(
                    "If guardian {id} is in fact the student's {}, correct the relationship (Role or relationshipRole)",
                    r.as_str()
                ),
                sds,
                Plain::Relationship(t.user, g, r),
                Reach::Guardian(g),
            )
        }
        _ => return Vec::new(),
    };
    vec![vec![step]]
}

fn directory_ways(model: &Model, a: DirectoryAttr, value: &Value) -> Vec<Vec<Step>> {
    let dir = &model.directory;
    let Value::Set(wanted) = value else { return Vec::new() };
    let roles = |v: &[String]| -> Vec<String> { v.to_vec() };
    let (now, enabled_side) = match a {
        DirectoryAttr::EnabledRoles => (roles(dir.enabled_roles()), true),
        DirectoryAttr::DisabledRoles => (roles(dir.disabled_roles()), false),
    };
    let wanted: Vec<String> =
        wanted.iter().filter_map(|v| if let Value::Str(s) = v { Some(s.to_string()) } else { None }).collect();
    // The role that moves: gained by enabled users, or lost by disabled ones.
    let moved: Vec<&String> = if enabled_side {
        wanted.iter().filter(|r| !now.contains(r)).collect()
    } else {
        now.iter().filter(|r| !wanted.contains(r)).collect()
    };
    let mut steps = Vec::new();
    for role in moved {
        let holders: Vec<(UserId, &str)> = dir
            .users()
            .filter(|(_, u)| !u.enabled && u.roles.iter().any(|r| &**r == role.as_str()))
            .map(|(id, u)| (id, u.upn()))
            .collect();
        // Gaining an enabled holder needs one account; losing every disabled one needs all.
        let chosen: Vec<(UserId, &str)> = if enabled_side { holders.into_iter().take(1).collect() } else { holders };
        if chosen.is_empty() {
            return Vec::new();
        }
        for (id, upn) in chosen {
            steps.push(plain(
                format!("Enable sign-in for the {role} account {upn}"),
                format!("Microsoft 365 admin center > Users > Active users > {upn} > Block sign-in off"),
                Plain::Enable(id),
                Reach::User(id),
            ));
        }
    }
    vec![steps]
}
