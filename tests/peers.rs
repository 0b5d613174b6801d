//! Agreement of tenet, Cedar and Rego (regorus) on `chat_with_guardians(user)` and
//! `call_guardian(teacher, guardian)`: every user for the first, every teacher with every guardian
//! of the directory for the second, on small generated tenants and variants of them that turn on
//! the rules the generator leaves alone. Only with the `peers` feature:
//! `cargo test --features peers --test peers`.
//!
//! The exports and the two ports live in `benches/peers.rs`, which the bench times.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, missing_docs)]

#[path = "../benches/peers.rs"]
mod bench;

use bench::{CALL, CHAT, Query, Sides, generated_sources, sources_from, teachers};
use tenet::unstable::directory::RawGroup;
use tenet::unstable::generate::{Spec, district};

/// Every user with `chat_with_guardians`, every teacher with every guardian for `call_guardian`.
fn every_query(sides: &Sides) -> Vec<Query> {
    let m = sides.table().model();
    let mut out: Vec<Query> =
        m.directory.user_keys().map(|u| Query { user: u.to_string(), decision: CHAT, guardian: None }).collect();
    for t in teachers(m) {
        for (_, g) in m.directory.guardians() {
            let g = &g.id();
            out.push(Query { user: t.clone(), decision: CALL, guardian: Some(g.to_string()) });
        }
    }
    out
}

/// Asserts the three sides agree on every query, and that both answers occur for both decisions
/// (a check that allows or denies everything proves little).
fn agree(name: &str, mut sides: Sides) {
    let queries = every_query(&sides);
    let bad = sides.disagreements(&queries);
    assert!(
        bad.is_empty(),
        "{name}: {} of {} queries disagree (tenet, Cedar, Rego), first ones: {:?}",
        bad.len(),
        queries.len(),
        &bad[..bad.len().min(10)]
    );
    for decision in [CHAT, CALL] {
        let (allowed, total) = queries
            .iter()
            .filter(|q| q.decision == decision)
            .fold((0, 0), |(a, n), q| (a + usize::from(sides.tenet(q)), n + 1));
        eprintln!("{name}: {decision}: {allowed} of {total} allowed, all three agree");
        assert!(allowed > 0 && allowed < total, "{name}: {decision} allows {allowed} of {total}");
    }
}

#[test]
fn generated_tenants_agree() {
    for (users, seed) in [(200, 1), (300, 2)] {
        agree(&format!("generated {users} users, seed {seed}"), Sides::build(generated_sources(users, seed)));
    }
}

/// App centric management with the Parents app available to two groups only.
#[test]
fn app_centric_availability_agrees() {
    let d = district(Spec { users: 300, seed: 3 });
    let tenant = d.tenant.replace(
        "tenant ParentsApp { Status = Allowed }",
        "tenant ParentsApp { Status = Allowed  Availability = SpecificUsersOrGroups  AvailableToGroups = [\"g1\", \"g4\"] }\n\
         tenant TeamsAppSettings { GovernanceMode = AppCentric }",
    );
    assert_ne!(tenant, d.tenant, "the generator's ParentsApp line moved");
    agree("app centric, two groups", Sides::build(sources_from(tenant, d.directory)));
}

/// App permission policies (direct only), a disabled teacher, and precedence: the generated
/// group assignments of `TeamsMessagingPolicy` and `TeamsCallingPolicy` are replaced by ranked
/// (messaging) and unranked (calling) assignments on two overlapping groups of teachers, so the
/// answer of the teachers in both groups depends on the lower rank, and on file order, winning.
#[test]
fn permission_policies_and_precedence_agree() {
    let d = district(Spec { users: 300, seed: 4 });
    let mut tenant: String = d
        .tenant
        .lines()
        .filter(|l| {
            !(l.starts_with("assign TeamsMessagingPolicy") || l.starts_with("assign TeamsCallingPolicy"))
                || !l.contains(" to group ")
        })
        .flat_map(|l| [l, "\n"])
        .collect();
    tenant = tenant.replace(
        "policy ExternalAccessPolicy \"Global\" { EnableTeamsConsumerAccess = false }",
        "policy ExternalAccessPolicy \"Global\" { EnableTeamsConsumerAccess = true }",
    );
    tenant.push_str(
        "policy TeamsAppPermissionPolicy \"NoParents\" { DefaultCatalogApps = [\"Parents\"] }\n\
         policy TeamsAppPermissionPolicy \"OnlyParents\" { DefaultCatalogAppsType = AllowedAppList  DefaultCatalogApps = [\"Parents\"] }\n\
         policy TeamsAppPermissionPolicy \"OnlyApprovals\" { DefaultCatalogAppsType = AllowedAppList  DefaultCatalogApps = [\"Approvals\"] }\n\
         assign TeamsAppPermissionPolicy \"NoParents\" to user \"teacher0@district.edu\"\n\
         assign TeamsAppPermissionPolicy \"OnlyParents\" to user \"teacher1@district.edu\"\n\
         assign TeamsAppPermissionPolicy \"OnlyApprovals\" to user \"teacher2@district.edu\"\n\
         policy TeamsMessagingPolicy \"NoChat\" { AllowUserChat = false }\n\
         policy TeamsMessagingPolicy \"ChatOn\" { AllowUserChat = true }\n\
         assign TeamsMessagingPolicy \"NoChat\" to group \"extra-a\" rank 2\n\
         assign TeamsMessagingPolicy \"ChatOn\" to group \"extra-b\" rank 1\n\
         policy TeamsCallingPolicy \"NoCalls\" { AllowPrivateCalling = false }\n\
         policy TeamsCallingPolicy \"CallsOn\" { AllowPrivateCalling = true }\n\
         assign TeamsCallingPolicy \"CallsOn\" to group \"extra-b\"\n\
         assign TeamsCallingPolicy \"NoCalls\" to group \"extra-a\"\n",
    );
    let members_a: Vec<String> = (0..12).map(|t| format!("teacher{t}@district.edu")).collect();
    let members_b: Vec<String> = (6..18).map(|t| format!("teacher{t}@district.edu")).collect();
    let mut directory = d.directory;
    for (id, members) in [("extra-a", members_a), ("extra-b", members_b)] {
        directory.groups.push(RawGroup { id: id.into(), name: None, members, hidden_membership: false });
    }
    let teacher3 = directory.users.iter_mut().find(|u| u.upn == "teacher3@district.edu").expect("teacher3");
    teacher3.enabled = false;
    agree("permission policies, precedence", Sides::build(sources_from(tenant, directory)));
}

/// A larger district: every user's `chat_with_guardians`, every teacher's `call_guardian` with
/// the guardians they deal with.
#[test]
fn larger_generated_tenant_agrees() {
    let mut sides = Sides::build(generated_sources(2_000, 5));
    let table = sides.engine.table().clone();
    let m = table.model();
    let mut queries: Vec<Query> =
        m.directory.user_keys().map(|u| Query { user: u.to_string(), decision: CHAT, guardian: None }).collect();
    queries.extend(bench::queries_for(&table, &teachers(m)).into_iter().filter(|q| q.decision == CALL));
    let bad = sides.disagreements(&queries);
    assert!(bad.is_empty(), "{} of {} queries disagree: {:?}", bad.len(), queries.len(), &bad[..bad.len().min(10)]);
    let allowed = queries.iter().filter(|q| sides.tenet(q)).count();
    eprintln!("generated 2,000 users, seed 5: {allowed} of {} queries allowed, all three agree", queries.len());
}

/// The bundled example district: hand-written, with more varied guardians than the generator's.
#[test]
fn bundled_example_agrees() {
    agree("bundled example", Sides::build(tenet::Sources::bundled()));
}
