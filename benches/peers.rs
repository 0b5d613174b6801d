//! tenet against two peer engines on the same questions over the same generated tenant:
//! Cedar (crate `cedar-policy`) and Rego (crate `regorus`), measured in the same run.
//!
//! Run with `cargo bench --features peers --bench peers` (the peers are optional dependencies,
//! so the default build never compiles them). `tests/peers.rs` reuses the exports below for the
//! agreement test; this bench also checks agreement on every query it times before timing it.
//!
//! The questions: `chat_with_guardians(teacher)` and `call_guardian(teacher, guardian)`, with
//! everything they `require` (`parents_app`), ported rule for rule from
//! `policies/teams/decisions.tenet`. Only allow/deny is compared and timed; reasons, warnings
//! and provenance are not produced by the peers.
//!
//! What each side gets ahead of time (outside the timed call):
//!
//! - **tenet**: the whole build — parse, check, compile into the decision table (effective
//!   policies, profiles, one evaluation per profile and guardian key). A decision is a lookup.
//!   Timed: `DecisionTable::decide(upn, decision, guardian)` (hash probes for the user, decision
//!   and guardian names, then a table read), and `decide_handles` with pre-resolved handles.
//! - **Cedar**: one entity per user, guardian, class team and the tenant, parsed once into
//!   `Entities` (which computes the transitive closure of the hierarchy once). Precomputed by the
//!   export: each user's **effective instance of every policy type, as a record of all its
//!   settings** (direct assignment, else the best-ranked group assignment, else `Global`, with
//!   type defaults filled in) — Cedar has no aggregation, so it can't pick the best-ranked
//!   assignment itself. Not precomputed: the hierarchy guardian → linked students → their class
//!   teams, which the policies test with `in` against the class teams the teacher owns; the
//!   tenant configuration, read through `principal.tenant`; licences, groups and owned class teams
//!   as sets. The `Request` (entity uids, empty context) is built outside the timed call. Timed:
//!   `Authorizer::is_authorized(&request, &policies, &entities)`.
//! - **Rego**: a data document loaded once into a `regorus::Engine`: the tenant configuration;
//!   each policy type's defaults, instances (explicit settings only), direct assignments by user
//!   and group assignments by group with their ranks; users (groups, owned class teams, class
//!   teams they're a student of, licences); guardians with their student links and
//!   relationships. **Nothing per-user is precomputed**: effective-policy resolution (direct,
//!   else lowest rank among the user's groups, else unranked in file order, else `Global`; then
//!   instance value else type default), guardian linkage through class teams and the pair's
//!   relationship are all done in Rego on each query. The input value (`{user, guardian}`) is
//!   built outside the timed call. Timed two ways: the interpreter, `Engine::set_input` +
//!   `Engine::eval_rule`; and the same policy compiled once to regorus's bytecode VM (feature
//!   `rvm`), `RegoVM::set_input` + `execute_entry_point_by_name`. (regorus 0.14.1's VM gave undefined
//!   where the interpreter gave a value in two places of a first version of this policy:
//!   functions continued with `else`, and `count(f(t)) == 0` on a function returning an empty
//!   comprehension; the policy is written without them, and the agreement checks cover the VM.)
//!
//! Known difference, documented rather than hidden: tenet takes the relationship of a guardian
//! to a teacher from the guardian's link to the teacher (as a student) if any, else from the
//! *first* link to a student the teacher teaches. Cedar has no "first" over a set, so the Cedar
//! port allows when *some* taught student is linked with a supported relationship (`parent` or
//! `guardian`). The two differ only for a guardian with several links whose relationships
//! differ, or a teacher who is also the guardian's student; the generator links each guardian
//! to one student, so on generated tenants they agree (the agreement test checks it). Rego
//! follows tenet exactly.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    missing_docs,
    missing_debug_implementations,
    dead_code
)]

use cedar_policy::{Authorizer, Context, Entities, EntityId, EntityTypeName, EntityUid, PolicySet, Request};
use criterion::{BenchmarkId, Criterion, Throughput, black_box, criterion_group, criterion_main};
use serde_json::{Map, Value as Json, json};
use std::str::FromStr;
use tenet::DecisionTable;
use tenet::Source;
use tenet::unstable::directory::{RawDirectory, UserId};
use tenet::unstable::generate::{Spec, district};
use tenet::unstable::model::Model;
use tenet::{Engine, Sources};

/// The two decisions every side answers.
pub const CHAT: &str = "chat_with_guardians";
pub const CALL: &str = "call_guardian";

/// The Teams pack with a generated district, as `benches/scale.rs` builds it.
pub fn generated_sources(users: usize, seed: u64) -> Sources {
    let d = district(Spec { users, seed });
    sources_from(d.tenant, d.directory)
}

/// The Teams pack with the given tenant file and directory.
pub fn sources_from(tenant: String, directory: RawDirectory) -> Sources {
    let mut policies: Vec<Source> =
        Sources::bundled().policies.into_iter().filter(|s| s.name.starts_with("policies/teams/")).collect();
    policies.push(Source::new("generated/tenant.tenet", tenant));
    Sources { policies, directory: tenet::DirectorySource::Data { data: Box::new(directory), named: None } }
}

/// One question: a user (directory key), a decision and, for `call_guardian`, a guardian id.
#[derive(Debug, Clone)]
pub struct Query {
    pub user: String,
    pub decision: &'static str,
    pub guardian: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Effective policies, for the Cedar export only (Rego resolves them itself)

/// The settings of `user`'s effective instance of policy type `t`, defaults filled in:
/// a direct assignment, else the group assignment of best precedence among the user's groups
/// (`PolicyType::groups` is kept best first), else `Global`.
fn effective_settings(m: &Model, user: UserId, t: usize) -> Json {
    let pt = &m.policy_types[t];
    let groups = m.directory.user_at(user).groups();
    let instance = match pt.direct.get(&user) {
        Some((i, _)) => *i,
        None => pt.groups.iter().find(|a| groups.contains(a.group)).map_or(pt.global, |a| a.instance),
    };
    let inst = &pt.instances[instance];
    let mut out = Map::new();
    for (s, (name, setting)) in pt.schema.settings.iter().enumerate() {
        let v = inst.values[s].as_ref().map_or(&setting.default, |(v, _)| v);
        out.insert(name.clone(), m.to_json(v));
    }
    Json::Object(out)
}

/// Every tenant configuration object as a record of its settings (enums as their names).
fn tenant_json(m: &Model) -> Map<String, Json> {
    m.configs
        .iter()
        .map(|(name, c)| {
            let settings: Map<String, Json> =
                c.schema.settings.keys().zip(&c.values).map(|(s, (v, _))| (s.clone(), m.to_json(v))).collect();
            (name.clone(), Json::Object(settings))
        })
        .collect()
}

/// The key (lower-cased UPN, class team id, guardian id) of the `i`-th entry of a directory map.
fn is_supported(r: tenet::unstable::directory::Relationship) -> bool {
    matches!(r.as_str(), "parent" | "guardian")
}

// ---------------------------------------------------------------------------------------------
// Cedar

/// The decisions as Cedar policies: a `permit` per decision, a `forbid` per `deny` rule (the
/// `@id` is the tenet reason code). `parents_app`'s rules forbid both actions, as both require it.
pub const CEDAR_POLICIES: &str = r#"
@id("ALLOW_chat_with_guardians")
permit (principal is User, action == Action::"chat_with_guardians", resource);

@id("ALLOW_call_guardian")
permit (principal is User, action == Action::"call_guardian", resource is Guardian);

// parents_app(user), required by both decisions.
@id("ACCOUNT_DISABLED")
forbid (principal, action in [Action::"chat_with_guardians", Action::"call_guardian"], resource)
unless { principal.enabled };

@id("FEATURE_RETIRED")
forbid (principal, action in [Action::"chat_with_guardians", Action::"call_guardian"], resource)
when { principal.tenant.ParentConnectionLifecycle.ParentsAppRetired };

@id("APP_BLOCKED_TENANT")
forbid (principal, action in [Action::"chat_with_guardians", Action::"call_guardian"], resource)
when { principal.tenant.ParentsApp.Status == "Blocked" };

@id("APP_BLOCKED_BY_PUBLISHER_DEFAULT")
forbid (principal, action in [Action::"chat_with_guardians", Action::"call_guardian"], resource)
when {
  principal.tenant.ParentsApp.Status == "BlockedByPublisher" &&
  !principal.tenant.ParentsApp.EnabledByK12Wizard
};

@id("APP_BLOCKED_ORG_WIDE_SETTING")
forbid (principal, action in [Action::"chat_with_guardians", Action::"call_guardian"], resource)
when {
  principal.tenant.TeamsAppSettings.GovernanceMode == "AppCentric" &&
  !principal.tenant.TeamsAppSettings.AllowMicrosoftApps
};

@id("APP_BLOCKED_BY_PERMISSION_POLICY")
forbid (principal, action in [Action::"chat_with_guardians", Action::"call_guardian"], resource)
when {
  principal.tenant.TeamsAppSettings.GovernanceMode == "PermissionPolicies" &&
  principal.TeamsAppPermissionPolicy.DefaultCatalogAppsType == "BlockedAppList" &&
  (principal.TeamsAppPermissionPolicy.DefaultCatalogApps.contains(principal.tenant.ParentsApp.Name) ||
   principal.TeamsAppPermissionPolicy.DefaultCatalogApps.contains(principal.tenant.ParentsApp.Id))
};

@id("APP_NOT_ALLOWED_BY_PERMISSION_POLICY")
forbid (principal, action in [Action::"chat_with_guardians", Action::"call_guardian"], resource)
when {
  principal.tenant.TeamsAppSettings.GovernanceMode == "PermissionPolicies" &&
  principal.TeamsAppPermissionPolicy.DefaultCatalogAppsType == "AllowedAppList" &&
  !(principal.TeamsAppPermissionPolicy.DefaultCatalogApps.contains(principal.tenant.ParentsApp.Name) ||
    principal.TeamsAppPermissionPolicy.DefaultCatalogApps.contains(principal.tenant.ParentsApp.Id))
};

@id("APP_NOT_AVAILABLE_TO_USER_ACM")
forbid (principal, action in [Action::"chat_with_guardians", Action::"call_guardian"], resource)
when {
  principal.tenant.TeamsAppSettings.GovernanceMode == "AppCentric" &&
  (principal.tenant.ParentsApp.Availability == "NoOne" ||
   (principal.tenant.ParentsApp.Availability == "SpecificUsersOrGroups" &&
    !principal.groups.containsAny(principal.tenant.ParentsApp.AvailableToGroups)))
};

@id("NOT_CLASS_TEAM_OWNER")
forbid (principal, action in [Action::"chat_with_guardians", Action::"call_guardian"], resource)
when { principal.owns.isEmpty() };

// chat_with_guardians(user)
@id("CHAT_OFF")
forbid (principal, action == Action::"chat_with_guardians", resource)
unless { principal.TeamsMessagingPolicy.AllowUserChat };

@id("CONSUMER_OFF_TENANT")
forbid (principal, action == Action::"chat_with_guardians", resource)
unless { principal.tenant.TenantFederationConfiguration.AllowTeamsConsumer };

@id("CONSUMER_OFF_USER")
forbid (principal, action == Action::"chat_with_guardians", resource)
unless { principal.ExternalAccessPolicy.EnableTeamsConsumerAccess };

// call_guardian(user, guardian). Guardians are children of their linked students, students of
// their class teams: `resource in principal.owns` is "linked to a student the user teaches".
@id("GUARDIAN_NOT_LINKED")
forbid (principal, action == Action::"call_guardian", resource)
unless { resource in principal.owns };

@id("UNSUPPORTED_RELATIONSHIP")
forbid (principal, action == Action::"call_guardian", resource)
unless { resource has supported && resource.supported in principal.owns };

@id("NO_PBX_LICENSE")
forbid (principal, action == Action::"call_guardian", resource)
unless { principal.licenses.contains("A5") || principal.licenses.contains("TeamsPhoneStandard") };

@id("NO_PSTN_CONNECTIVITY")
forbid (principal, action == Action::"call_guardian", resource)
unless {
  principal.licenses.containsAny(["TeamsCallingPlan", "OperatorConnect", "DirectRouting", "TeamsPhoneMobile", "SharedCalling"])
};

@id("CALLING_DISABLED_BY_POLICY")
forbid (principal, action == Action::"call_guardian", resource)
unless { principal.TeamsCallingPolicy.AllowPrivateCalling };

@id("GUARDIAN_HAS_NO_PHONE")
forbid (principal, action == Action::"call_guardian", resource)
unless { resource has has_phone && resource.has_phone };
"#;

fn uid(ty: &str, id: &str) -> Json {
    json!({ "type": ty, "id": id })
}

fn entity_ref(ty: &str, id: &str) -> Json {
    json!({ "__entity": { "type": ty, "id": id } })
}

/// The tenant as Cedar entities (JSON entity format).
pub fn cedar_entities_json(m: &Model) -> Json {
    let d = &m.directory;
    let mut out = Vec::with_capacity(d.user_count() * 2 + d.guardian_count() * 2 + d.class_team_count() + 1);
    // Group ids stay strings: `principal.groups.containsAny(...AvailableToGroups)`.
    let tenant = tenant_json(m);
    out.push(json!({ "uid": uid("Tenant", "district"), "attrs": tenant, "parents": [] }));
    for (c, _) in d.class_teams() {
        let key = d.class_team_key(c);
        out.push(json!({ "uid": uid("ClassTeam", key), "attrs": {}, "parents": [] }));
    }
    for (u, user) in d.users() {
        let key = d.user_key(u);
        let mut attrs = Map::new();
        attrs.insert("tenant".into(), entity_ref("Tenant", "district"));
        attrs.insert("enabled".into(), user.enabled.into());
        attrs.insert("licenses".into(), user.licenses.iter().map(|l| l.to_string()).collect::<Vec<_>>().into());
        attrs.insert("roles".into(), user.roles.iter().map(|r| r.to_string()).collect::<Vec<_>>().into());
        let groups: Vec<&str> = user.groups().iter().map(|g| d.group_at(g).id.as_str()).collect();
        attrs.insert("groups".into(), groups.into());
        let owns: Vec<Json> = user.owns().iter().map(|c| entity_ref("ClassTeam", d.class_team_key(c))).collect();
        attrs.insert("owns".into(), owns.into());
        attrs.insert("invites_sent".into(), user.invites_sent.into());
        // Precomputed: the effective instance of every policy type, as a record of its settings.
        for (t, (tname, _)) in m.policy_types.iter().enumerate() {
            attrs.insert(tname.clone(), effective_settings(m, u, t));
        }
        let parents: Vec<Json> = user.student_of().iter().map(|c| uid("ClassTeam", d.class_team_key(c))).collect();
        out.push(json!({ "uid": uid("User", key), "attrs": attrs, "parents": parents }));
    }
    for (_, g) in d.guardians() {
        let key = g.id();
        let linked: Vec<Json> = g.links().iter().map(|l| uid("User", d.user_key(l.student))).collect();
        let supported: Vec<Json> = g
            .links()
            .iter()
            .filter(|l| is_supported(l.relationship))
            .map(|l| uid("User", d.user_key(l.student)))
            .collect();
        out.push(json!({ "uid": uid("GuardianSupport", key), "attrs": {}, "parents": supported }));
        out.push(json!({
            "uid": uid("Guardian", key),
            "attrs": {
                "has_email": g.email().is_some(),
                "has_phone": g.phone().is_some(),
                "phone_e164": g.phone_e164,
                "on_teams": g.on_teams,
                "supported": entity_ref("GuardianSupport", key),
            },
            "parents": linked,
        }));
    }
    Json::Array(out)
}

/// Cedar's side: policies, entities and an authorizer.
pub struct CedarSide {
    authorizer: Authorizer,
    policies: PolicySet,
    entities: Entities,
    user_type: EntityTypeName,
    guardian_type: EntityTypeName,
    tenant: EntityUid,
    chat: EntityUid,
    call: EntityUid,
}

impl CedarSide {
    pub fn new(m: &Model) -> Self {
        let policies = PolicySet::from_str(CEDAR_POLICIES).expect("the Cedar policies parse");
        let entities = Entities::from_json_value(cedar_entities_json(m), None).expect("the Cedar entities load");
        Self {
            authorizer: Authorizer::new(),
            policies,
            entities,
            user_type: EntityTypeName::from_str("User").unwrap(),
            guardian_type: EntityTypeName::from_str("Guardian").unwrap(),
            tenant: EntityUid::from_str(r#"Tenant::"district""#).unwrap(),
            chat: EntityUid::from_str(r#"Action::"chat_with_guardians""#).unwrap(),
            call: EntityUid::from_str(r#"Action::"call_guardian""#).unwrap(),
        }
    }

    /// The request for a query (built outside the timed call).
    pub fn request(&self, q: &Query) -> Request {
        let principal = EntityUid::from_type_name_and_id(self.user_type.clone(), EntityId::new(&q.user));
        let (action, resource) = match (&q.guardian, q.decision) {
            (Some(g), CALL) => {
                (self.call.clone(), EntityUid::from_type_name_and_id(self.guardian_type.clone(), EntityId::new(g)))
            }
            (None, CHAT) => (self.chat.clone(), self.tenant.clone()),
            _ => panic!("no Cedar port of {q:?}"),
        };
        Request::new(principal, action, resource, Context::empty(), None).expect("a schema-less request")
    }

    /// The timed call.
    pub fn allowed(&self, request: &Request) -> bool {
        self.authorizer.is_authorized(request, &self.policies, &self.entities).decision()
            == cedar_policy::Decision::Allow
    }
}

// ---------------------------------------------------------------------------------------------
// Rego

/// The decisions in Rego, effective-policy resolution included. Each deny rule adds its tenet
/// reason code to the decision's `*_denies` set; a decision allows when the set is empty.
pub const REGO_POLICY: &str = r#"
package tenet

import rego.v1

user := data.users[input.user]

guardian := data.guardians[input.guardian]

# ---- Effective policies: direct assignment, else the user's group assignment of lowest rank,
# else the unranked one written first, else Global; a setting is the instance's value, else the
# type's default.

group_assignments(t) := [a | some g in user.groups; a := data.types[t].groups[g]]

instance_name(t) := data.types[t].direct[input.user]

instance_name(t) := name if {
	not data.types[t].direct[input.user]
	ranked := [a | some a in group_assignments(t); a.rank != null]
	count(ranked) > 0
	best := min([a.rank | some a in ranked])
	name := [a.instance | some a in ranked; a.rank == best][0]
}

instance_name(t) := name if {
	not data.types[t].direct[input.user]
	unranked := group_assignments(t)
	count(unranked) > 0
	not any_ranked(t)
	first := min([a.seq | some a in unranked])
	name := [a.instance | some a in unranked; a.seq == first][0]
}

instance_name(t) := "Global" if {
	not data.types[t].direct[input.user]
	not any_group_assignment(t)
}

any_group_assignment(t) if {
	some g in user.groups
	data.types[t].groups[g]
}

any_ranked(t) if {
	some a in group_assignments(t)
	a.rank != null
}

setting(t, s) := object.get(data.types[t].instances[instance_name(t)], s, data.types[t].defaults[s])

# ---- parents_app(user)

parents_listed if data.tenant.ParentsApp.Name in setting("TeamsAppPermissionPolicy", "DefaultCatalogApps")

parents_listed if data.tenant.ParentsApp.Id in setting("TeamsAppPermissionPolicy", "DefaultCatalogApps")

in_available_group if {
	some g in user.groups
	g in data.tenant.ParentsApp.AvailableToGroups
}

parents_app_denies contains "ACCOUNT_DISABLED" if not user.enabled

parents_app_denies contains "FEATURE_RETIRED" if data.tenant.ParentConnectionLifecycle.ParentsAppRetired

parents_app_denies contains "APP_BLOCKED_TENANT" if data.tenant.ParentsApp.Status == "Blocked"

parents_app_denies contains "APP_BLOCKED_BY_PUBLISHER_DEFAULT" if {
	data.tenant.ParentsApp.Status == "BlockedByPublisher"
	not data.tenant.ParentsApp.EnabledByK12Wizard
}

parents_app_denies contains "APP_BLOCKED_ORG_WIDE_SETTING" if {
	data.tenant.TeamsAppSettings.GovernanceMode == "AppCentric"
	not data.tenant.TeamsAppSettings.AllowMicrosoftApps
}

parents_app_denies contains "APP_BLOCKED_BY_PERMISSION_POLICY" if {
	data.tenant.TeamsAppSettings.GovernanceMode == "PermissionPolicies"
	setting("TeamsAppPermissionPolicy", "DefaultCatalogAppsType") == "BlockedAppList"
	parents_listed
}

parents_app_denies contains "APP_NOT_ALLOWED_BY_PERMISSION_POLICY" if {
	data.tenant.TeamsAppSettings.GovernanceMode == "PermissionPolicies"
	setting("TeamsAppPermissionPolicy", "DefaultCatalogAppsType") == "AllowedAppList"
	not parents_listed
}

parents_app_denies contains "APP_NOT_AVAILABLE_TO_USER_ACM" if {
	data.tenant.TeamsAppSettings.GovernanceMode == "AppCentric"
	data.tenant.ParentsApp.Availability == "NoOne"
}

parents_app_denies contains "APP_NOT_AVAILABLE_TO_USER_ACM" if {
	data.tenant.TeamsAppSettings.GovernanceMode == "AppCentric"
	data.tenant.ParentsApp.Availability == "SpecificUsersOrGroups"
	not in_available_group
}

parents_app_denies contains "NOT_CLASS_TEAM_OWNER" if count(user.owns) == 0

# ---- chat_with_guardians(user)

chat_with_guardians_denies contains code if some code in parents_app_denies

chat_with_guardians_denies contains "CHAT_OFF" if not setting("TeamsMessagingPolicy", "AllowUserChat")

chat_with_guardians_denies contains "CONSUMER_OFF_TENANT" if not data.tenant.TenantFederationConfiguration.AllowTeamsConsumer

chat_with_guardians_denies contains "CONSUMER_OFF_USER" if not setting("ExternalAccessPolicy", "EnableTeamsConsumerAccess")

default chat_with_guardians := false

chat_with_guardians if count(chat_with_guardians_denies) == 0

# ---- call_guardian(user, guardian)

teaches(student) if {
	some c in data.users[student].student_of
	c in user.owns
}

linked if {
	some l in guardian.links
	teaches(l.student)
}

# The link to the user, else the first link to a student the user teaches, else the first link.
own_relationships := [l.relationship | some l in guardian.links; l.student == input.user]

taught_relationships := [l.relationship | some l in guardian.links; teaches(l.student)]

relationship := own_relationships[0]

relationship := taught_relationships[0] if count(own_relationships) == 0

relationship := guardian.links[0].relationship if {
	count(own_relationships) == 0
	count(taught_relationships) == 0
}

pstn if {
	some l in user.licenses
	l in {"TeamsCallingPlan", "OperatorConnect", "DirectRouting", "TeamsPhoneMobile", "SharedCalling"}
}

call_guardian_denies contains code if some code in parents_app_denies

call_guardian_denies contains "GUARDIAN_NOT_LINKED" if not linked

call_guardian_denies contains "UNSUPPORTED_RELATIONSHIP" if not relationship in {"parent", "guardian"}

call_guardian_denies contains "NO_PBX_LICENSE" if {
	not "A5" in user.licenses
	not "TeamsPhoneStandard" in user.licenses
}

call_guardian_denies contains "NO_PSTN_CONNECTIVITY" if not pstn

call_guardian_denies contains "CALLING_DISABLED_BY_POLICY" if not setting("TeamsCallingPolicy", "AllowPrivateCalling")

call_guardian_denies contains "GUARDIAN_HAS_NO_PHONE" if not guardian.has_phone

default call_guardian := false

call_guardian if count(call_guardian_denies) == 0
"#;

/// The tenant as Rego data: raw facts, no per-user precomputation.
pub fn rego_data_json(m: &Model) -> Json {
    let d = &m.directory;
    let mut types = Map::new();
    for (tname, pt) in &m.policy_types {
        let defaults: Map<String, Json> =
            pt.schema.settings.iter().map(|(s, setting)| (s.clone(), m.to_json(&setting.default))).collect();
        let instances: Map<String, Json> = pt
            .instances
            .values()
            .map(|inst| {
                let explicit: Map<String, Json> = pt
                    .schema
                    .settings
                    .keys()
                    .zip(&inst.values)
                    .filter_map(|(s, v)| v.as_ref().map(|(v, _)| (s.clone(), m.to_json(v))))
                    .collect();
                (inst.name.clone(), Json::Object(explicit))
            })
            .collect();
        let direct: Map<String, Json> = pt
            .direct
            .iter()
            .map(|(u, (i, _))| (d.user_key(*u).to_string(), pt.instances[*i].name.clone().into()))
            .collect();
        // One assignment per group and type (the checker refuses a second); `seq` is its place
        // in the tenant file among the unranked, which rank after every ranked one.
        let groups: Map<String, Json> = pt
            .groups
            .iter()
            .enumerate()
            .map(|(seq, a)| {
                (
                    d.group_at(a.group).id.clone(),
                    json!({ "rank": a.rank, "seq": seq, "instance": pt.instances[a.instance].name }),
                )
            })
            .collect();
        types.insert(
            tname.clone(),
            json!({ "defaults": defaults, "instances": instances, "direct": direct, "groups": groups }),
        );
    }
    let users: Map<String, Json> = d
        .users()
        .map(|(id, u)| {
            let groups: Vec<&str> = u.groups().iter().map(|g| d.group_at(g).id.as_str()).collect();
            let owns: Vec<&str> = u.owns().iter().map(|c| d.class_team_key(c)).collect();
            let student_of: Vec<&str> = u.student_of().iter().map(|c| d.class_team_key(c)).collect();
            (
                d.user_key(id).to_string(),
                json!({
                    "enabled": u.enabled,
                    "roles": u.roles,
                    "licenses": u.licenses,
                    "groups": groups,
                    "owns": owns,
                    "student_of": student_of,
                    "invites_sent": u.invites_sent,
                }),
            )
        })
        .collect();
    let guardians: Map<String, Json> = d
        .guardians()
        .map(|(_, g)| {
            let links: Vec<Json> = g
                .links()
                .iter()
                .map(|l| json!({ "student": d.user_key(l.student), "relationship": l.relationship.as_str() }))
                .collect();
            (
                g.id().to_string(),
                json!({
                    "has_email": g.email().is_some(),
                    "has_phone": g.phone().is_some(),
                    "phone_e164": g.phone_e164,
                    "on_teams": g.on_teams,
                    "links": links,
                }),
            )
        })
        .collect();
    json!({ "tenant": tenant_json(m), "types": types, "users": users, "guardians": guardians })
}

/// Rego's side: a regorus engine with the policy and the data loaded.
pub struct RegoSide {
    engine: regorus::Engine,
    chat: String,
    call: String,
}

impl RegoSide {
    pub fn new(m: &Model) -> Self {
        let mut engine = regorus::Engine::new();
        engine.add_policy("tenet.rego".into(), REGO_POLICY.into()).expect("the Rego policy parses");
        let data = regorus::Value::from_json_str(&rego_data_json(m).to_string()).expect("the Rego data parses");
        engine.add_data(data).expect("the Rego data loads");
        let mut side = Self { engine, chat: format!("data.tenet.{CHAT}"), call: format!("data.tenet.{CALL}") };
        // The first evaluation prepares the engine; keep it out of any measurement.
        let _ = side.engine.eval_rule(side.chat.clone());
        side
    }

    /// The input document for a query (built outside the timed call).
    pub fn input(q: &Query) -> regorus::Value {
        let mut input = json!({ "user": q.user });
        if let Some(g) = &q.guardian {
            input["guardian"] = g.as_str().into();
        }
        regorus::Value::from_json_str(&input.to_string()).expect("a JSON input")
    }

    /// The timed call.
    pub fn allowed(&mut self, decision: &str, input: &regorus::Value) -> bool {
        self.engine.set_input(input.clone());
        let rule = if decision == CALL { self.call.clone() } else { self.chat.clone() };
        match self.engine.eval_rule(rule) {
            Ok(v) => v == regorus::Value::from(true),
            Err(e) => panic!("Rego failed on {decision}: {e}"),
        }
    }
}

/// The same Rego compiled to regorus's virtual machine (RVM): policy and data document as for
/// [`RegoSide`], compiled once to bytecode with both decisions as entry points; per query only
/// the input is set and an entry point run. Effective-policy resolution still runs in Rego.
pub struct RegoVmSide {
    vm: regorus::rvm::RegoVM,
}

impl RegoVmSide {
    pub fn new(m: &Model) -> Self {
        let mut engine = regorus::Engine::new();
        engine.add_policy("tenet.rego".into(), REGO_POLICY.into()).expect("the Rego policy parses");
        let compiled =
            engine.compile_with_entrypoint(&format!("data.tenet.{CHAT}").into()).expect("the policy compiles");
        let entry_points = [format!("data.tenet.{CHAT}"), format!("data.tenet.{CALL}")];
        let entry_points: Vec<&str> = entry_points.iter().map(String::as_str).collect();
        let program = regorus::languages::rego::compiler::Compiler::compile_from_policy(&compiled, &entry_points)
            .expect("the RVM compiles the policy");
        let mut vm = regorus::rvm::RegoVM::new_with_policy(compiled);
        vm.load_program(program);
        let data = regorus::Value::from_json_str(&rego_data_json(m).to_string()).expect("the Rego data parses");
        vm.set_data(data).expect("the Rego data loads");
        Self { vm }
    }

    /// The timed call.
    pub fn allowed(&mut self, decision: &str, input: &regorus::Value) -> bool {
        self.vm.set_input(input.clone());
        let entry = if decision == CALL { "data.tenet.call_guardian" } else { "data.tenet.chat_with_guardians" };
        match self.vm.execute_entry_point_by_name(entry) {
            Ok(v) => v == regorus::Value::from(true),
            Err(e) => panic!("the Rego VM failed on {decision}: {e}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The three sides together

/// tenet, Cedar and Rego over one tenant.
pub struct Sides {
    pub engine: Engine,
    pub cedar: CedarSide,
    pub rego: RegoSide,
    pub rego_vm: RegoVmSide,
}

/// Each side's allow/deny for one query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answers {
    pub tenet: bool,
    pub cedar: bool,
    pub rego: bool,
    pub rego_vm: bool,
}

impl Answers {
    pub fn agree(&self) -> bool {
        self.tenet == self.cedar && self.tenet == self.rego && self.tenet == self.rego_vm
    }
}

impl Sides {
    pub fn build(sources: Sources) -> Self {
        let (engine, _) = Engine::build(sources).expect("the tenant checks");
        let m = engine.table().model();
        let cedar = CedarSide::new(m);
        let rego = RegoSide::new(m);
        let rego_vm = RegoVmSide::new(m);
        Self { engine, cedar, rego, rego_vm }
    }

    pub fn table(&self) -> &DecisionTable {
        self.engine.table()
    }

    pub fn tenet(&self, q: &Query) -> bool {
        self.table().decide(&q.user, q.decision, q.guardian.as_deref()).expect("a known query").allowed()
    }

    /// Each side's answer.
    pub fn answers(&mut self, q: &Query) -> Answers {
        let input = RegoSide::input(q);
        Answers {
            tenet: self.tenet(q),
            cedar: self.cedar.allowed(&self.cedar.request(q)),
            rego: self.rego.allowed(q.decision, &input),
            rego_vm: self.rego_vm.allowed(q.decision, &input),
        }
    }

    /// Queries on which the sides disagree, with each side's answer.
    pub fn disagreements(&mut self, queries: &[Query]) -> Vec<(Query, Answers)> {
        queries
            .iter()
            .filter_map(|q| {
                let a = self.answers(q);
                (!a.agree()).then(|| (q.clone(), a))
            })
            .collect()
    }
}

/// Users who own a class team (the teachers), in directory order.
pub fn teachers(m: &Model) -> Vec<String> {
    m.directory
        .users()
        .zip(m.directory.user_keys())
        .filter(|((_, u), _)| !u.owns().is_empty())
        .map(|(_, k)| k.to_string())
        .collect()
}

/// `chat_with_guardians` for each of `users`, and `call_guardian` for each of them with each
/// guardian they deal with.
pub fn queries_for(table: &DecisionTable, users: &[String]) -> Vec<Query> {
    let mut out = Vec::new();
    for u in users {
        out.push(Query { user: u.clone(), decision: CHAT, guardian: None });
        let h = table.user(u).expect("a known user");
        for g in table.guardians_of(h) {
            let id = table.guardian_at(g).id().to_string();
            out.push(Query { user: u.clone(), decision: CALL, guardian: Some(id) });
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The bench

/// Number of queries each timed loop cycles through (a power of two).
const CYCLE: usize = 256;

fn bench_size(c: &mut Criterion, users: usize) {
    let mut sides = Sides::build(generated_sources(users, 1));
    let table = sides.engine.table().clone();
    let m = table.model();
    eprintln!(
        "{users} users: tenet {} profiles, {} cells; Cedar {} entities ({} bytes of entity JSON); Rego data {} bytes of JSON",
        table.profile_count(),
        table.cell_count(),
        cedar_entities_json(m).as_array().map_or(0, Vec::len),
        cedar_entities_json(m).to_string().len(),
        rego_data_json(m).to_string().len()
    );
    // Benchmarked queries, cycled so no side answers one question over and over:
    // `chat_with_guardians` for the teachers in turn (repeated when there are fewer than
    // CYCLE), `call_guardian` round-robin over the teachers, each with the next guardian it
    // deals with.
    let per_teacher: Vec<Vec<Query>> = teachers(table.model())
        .into_iter()
        .map(|t| queries_for(&table, &[t]).into_iter().filter(|q| q.decision == CALL).collect())
        .collect();
    let chat: Vec<Query> = teachers(table.model())
        .into_iter()
        .map(|user| Query { user, decision: CHAT, guardian: None })
        .cycle()
        .take(CYCLE)
        .collect();
    let deepest = per_teacher.iter().map(Vec::len).max().unwrap_or(0);
    let call: Vec<Query> =
        (0..deepest).flat_map(|k| per_teacher.iter().filter_map(move |qs| qs.get(k).cloned())).take(CYCLE).collect();
    assert_eq!((chat.len(), call.len()), (CYCLE, CYCLE), "enough teachers and guardians at {users} users");
    for set in [&chat, &call] {
        let bad = sides.disagreements(set);
        assert!(bad.is_empty(), "tenet, Cedar and Rego disagree at {users} users: {bad:?}");
        let allowed = set.iter().filter(|q| sides.tenet(q)).count();
        eprintln!("{users} users, {}: {allowed} of {} benchmarked queries allowed", set[0].decision, set.len());
    }

    for (name, set) in [(CHAT, &chat), (CALL, &call)] {
        let mut g = c.benchmark_group(format!("peers_{name}"));
        g.throughput(Throughput::Elements(1));

        let mut i = 0;
        g.bench_function(BenchmarkId::new("tenet_by_upn", users), |b| {
            b.iter(|| {
                i = (i + 1) & (CYCLE - 1);
                let q = &set[i];
                table
                    .decide(black_box(&q.user), black_box(q.decision), black_box(q.guardian.as_deref()))
                    .map(|d| d.allowed())
            })
        });

        let handles: Vec<_> = set
            .iter()
            .map(|q| {
                (
                    table.user(&q.user).unwrap(),
                    table.decision(q.decision).unwrap(),
                    q.guardian.as_deref().map(|g| table.guardian(g).unwrap()),
                )
            })
            .collect();
        g.bench_function(BenchmarkId::new("tenet_by_handle", users), |b| {
            b.iter(|| {
                i = (i + 1) & (CYCLE - 1);
                let (u, d, gd) = handles[i];
                table.decide_handles(black_box(u), black_box(d), black_box(gd)).map(|d| d.allowed())
            })
        });

        let requests: Vec<Request> = set.iter().map(|q| sides.cedar.request(q)).collect();
        g.bench_function(BenchmarkId::new("cedar", users), |b| {
            b.iter(|| {
                i = (i + 1) & (CYCLE - 1);
                sides.cedar.allowed(black_box(&requests[i]))
            })
        });

        let inputs: Vec<regorus::Value> = set.iter().map(RegoSide::input).collect();
        g.bench_function(BenchmarkId::new("rego", users), |b| {
            b.iter(|| {
                i = (i + 1) & (CYCLE - 1);
                sides.rego.allowed(name, black_box(&inputs[i]))
            })
        });

        g.bench_function(BenchmarkId::new("rego_vm", users), |b| {
            b.iter(|| {
                i = (i + 1) & (CYCLE - 1);
                sides.rego_vm.allowed(name, black_box(&inputs[i]))
            })
        });
        g.finish();
    }
}

fn peers(c: &mut Criterion) {
    for users in [1_000, 10_000] {
        bench_size(c, users);
    }
}

criterion_group!(peers_group, peers);
criterion_main!(peers_group);
