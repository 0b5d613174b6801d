//! What-if: cmdlet lines applied to a tenant. The changed set must be exactly what the reference
//! evaluator answers differently before and after, on generated tenants and random scripts; the
//! CLI prints it with causes and refuses what Teams refuses, at the script's line.

use crate::support::{Scratch, assert_agreement};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::process::{Command, Output};
use tenet::snapshot::Guardians;
use tenet::{Engine, Snapshot, Source};

/// A random script over the model's own names: bool settings of unlocked instances flipped,
/// direct grants and removals, group assignments at random ranks (direct-only types left out,
/// which Teams refuses), removed group assignments, tenant switches.
fn random_script(engine: &Engine, seed: u64) -> String {
    let m = engine.table().model();
    let mut rng = tenet::unstable::generate::Rng::new(seed);
    let mut out = String::new();
    let types: Vec<(&String, &tenet::unstable::model::PolicyType)> = m.policy_types.iter().collect();
    let users: Vec<&str> = m.directory.user_keys().collect();
    let groups: Vec<String> =
        m.directory.groups().filter(|(_, g)| !g.hidden_membership).map(|(_, g)| g.id.clone()).collect();
    for _ in 0..1 + rng.below(6) {
        let (tname, t) = types[rng.below(types.len())];
        let unlocked: Vec<&tenet::unstable::model::Instance> = t.instances.values().filter(|i| !i.locked).collect();
        let any: Vec<&tenet::unstable::model::Instance> = t.instances.values().collect();
        match rng.below(6) {
            0 | 1 => {
                let bools: Vec<&String> = t
                    .schema
                    .settings
                    .iter()
                    .filter(|(_, s)| s.ty == tenet::unstable::model::Ty::Bool)
                    .map(|(n, _)| n)
                    .collect();
                if let (false, false) = (bools.is_empty(), unlocked.is_empty()) {
                    let i = unlocked[rng.below(unlocked.len())];
                    let b = if rng.percent(50) { "$true" } else { "$false" };
                    let _ = writeln!(
                        out,
                        "Set-Cs{tname} -Identity '{}' -{} {b}",
                        i.identity(),
                        bools[rng.below(bools.len())]
                    );
                }
            }
            2 => {
                let u = users[rng.below(users.len())];
                let p = if rng.percent(20) {
                    "$null".to_string()
                } else {
                    format!("'{}'", any[rng.below(any.len())].identity())
                };
                let _ = writeln!(out, "Grant-Cs{tname} -Identity {u} -PolicyName {p}");
            }
            3 | 4 if !t.direct_only && !groups.is_empty() => {
                let g = &groups[rng.below(groups.len())];
                let i = any[rng.below(any.len())].identity();
                let rank = if rng.percent(30) { String::new() } else { format!(" -Rank {}", 1 + rng.below(4)) };
                let _ = writeln!(
                    out,
                    "New-CsGroupPolicyAssignment -GroupId {g} -PolicyType {tname} -PolicyName '{i}'{rank}"
                );
            }
            5 if !t.direct_only && !groups.is_empty() => {
                let g = &groups[rng.below(groups.len())];
                let _ = writeln!(out, "Remove-CsGroupPolicyAssignment -GroupId {g} -PolicyType {tname}");
            }
            _ => {
                let b = if rng.percent(50) { "$true" } else { "$false" };
                let _ = writeln!(out, "Set-CsTenantFederationConfiguration -AllowTeamsConsumer {b}");
            }
        }
    }
    out
}

/// What a snapshot records of an outcome: allowed and channel, the deciding code, the other
/// blockers' codes, the warnings' codes (messages name policies, and aren't compared).
fn recorded(o: &tenet::Outcome) -> (bool, Option<String>, Vec<String>) {
    let mut codes = vec![o.reason.code.to_string()];
    for b in &o.blockers {
        if !codes.iter().any(|c| **c == *b.code) {
            codes.push(b.code.to_string());
        }
    }
    codes.extend(o.warnings.iter().map(|w| format!("warn:{}", w.code)));
    (o.allowed, o.channel.as_ref().map(|c| c.to_string()), codes)
}

/// Every (user, decision, guardian) whose reference answer differs between the two engines.
fn reference_changes(before: &Engine, after: &Engine) -> BTreeSet<(String, String, String)> {
    let (b, a) = (before.table(), after.table());
    let mut out = BTreeSet::new();
    for (u, d, g) in b.every_query() {
        let old = tenet::unstable::eval::evaluate(b.model(), u.id(), d.index(), g.map(|g| g.id()));
        let new = tenet::unstable::eval::evaluate(a.model(), u.id(), d.index(), g.map(|g| g.id()));
        if recorded(&old) != recorded(&new) {
            let guardian = g.map_or_else(|| "-".to_string(), |g| b.guardian_at(g).id().to_string());
            out.insert((b.user_at(u).upn().to_string(), b.model().decisions[d.index()].name.clone(), guardian));
        }
    }
    out
}

#[test]
fn random_change_scripts_change_exactly_what_the_reference_evaluator_says() {
    let mut scripts = 0;
    for seed in 1..=3 {
        let before = crate::support::generated(seed, 60);
        for n in 0..5 {
            let script = random_script(&before, seed * 100 + n);
            let after = before
                .with_changes(Source::new("change.ps1", script.as_str()))
                .unwrap_or_else(|r| panic!("script refused:\n{script}\n{:?}", r.diagnostics));
            // The compiled table of the changed tenant agrees with the reference, query by query.
            assert!(assert_agreement(&after) > 0);
            // The changes the snapshots show are exactly the reference's, among the queries both
            // tables answer (a snapshot lists the guardians each user deals with).
            let (old, new) =
                (Snapshot::of(before.table(), Guardians::Contacts), Snapshot::of(after.table(), Guardians::Contacts));
            let by_snapshots = new.changes_since(&old);
            // The direct comparison of the tables lists exactly what the snapshots do.
            assert_eq!(
                tenet::snapshot::changes_between(before.table(), after.table(), Guardians::Contacts),
                by_snapshots,
                "seed {seed} script:\n{script}"
            );
            let shown: BTreeSet<_> = by_snapshots.into_iter().map(|c| c.key).collect();
            let listed = |s: &Snapshot, k: &(String, String, String)| s.entries.contains_key(k);
            let reference: BTreeSet<_> =
                reference_changes(&before, &after).into_iter().filter(|k| listed(&old, k) || listed(&new, k)).collect();
            let shown_changed: BTreeSet<_> = shown.into_iter().filter(|k| listed(&old, k) && listed(&new, k)).collect();
            let reference_changed: BTreeSet<_> =
                reference.into_iter().filter(|k| listed(&old, k) && listed(&new, k)).collect();
            let only_shown: Vec<_> = shown_changed.difference(&reference_changed).take(5).collect();
            let only_reference: Vec<_> = reference_changed.difference(&shown_changed).take(5).collect();
            assert!(
                only_shown.is_empty() && only_reference.is_empty(),
                "seed {seed} script:\n{script}\nonly in the snapshots: {only_shown:?}\nonly in the reference: {only_reference:?}"
            );
            scripts += 1;
        }
    }
    assert_eq!(scripts, 15);
}

#[test]
fn group_ranks_follow_teams_taking_a_rank_pushes_the_rest_down() {
    let (engine, _) = Engine::bundled().unwrap();
    let script = "New-CsGroupPolicyAssignment -GroupId sg-staff -PolicyType ExternalAccessPolicy -PolicyName Tag:Teachers -Rank 1\nNew-CsGroupPolicyAssignment -GroupId sg-students-hs -PolicyType ExternalAccessPolicy -PolicyName Tag:Students\nRemove-CsGroupPolicyAssignment -GroupId sg-teachers -PolicyType ExternalAccessPolicy\n";
    let after = engine.with_changes(Source::new("ranks.ps1", script)).unwrap_or_else(|r| panic!("{:?}", r.diagnostics));
    let m = after.table().model();
    let t = &m.policy_types["ExternalAccessPolicy"];
    let order: Vec<(String, Option<i64>)> =
        t.groups.iter().map(|a| (m.directory.group_at(a.group).id.clone(), a.rank)).collect();
    // Before: teachers 1, students 2, staff 3. Staff takes rank 1 (its old assignment goes, the
    // others move down), the new one goes last, and removing teachers keeps the others' order.
    assert_eq!(
        order,
        vec![
            ("sg-staff".to_string(), Some(1)),
            ("sg-students".to_string(), Some(3)),
            ("sg-students-hs".to_string(), Some(4)),
        ]
    );
}

fn tenet(dir: &Scratch, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tenet")).args(args).current_dir(dir.path()).env("NO_COLOR", "1").output().unwrap()
}

#[test]
fn what_if_lists_each_change_with_the_line_that_flips_it() {
    let dir = Scratch::copy("tests/fixtures/cli", "what-if");
    std::fs::write(
        dir.0.join("change.ps1"),
        "# the teachers' external access\nSet-CsExternalAccessPolicy -Identity Tag:Teachers `\n    -EnableTeamsConsumerAccess $false\n",
    )
    .unwrap();
    let o = tenet(&dir, &["what-if", "--change", "change.ps1"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(3), "{out}{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.starts_with("what-if change.ps1: 97 decisions changed\n"), "{out}");
    assert!(out.contains("  ana.rivera@lakeside.edu chat_with_guardians: allow (ALLOW) -> deny (CONSUMER_OFF_USER)\n      because user.ExternalAccessPolicy.EnableTeamsConsumerAccess true → false (ExternalAccessPolicy Tag:Teachers, via group sg-teachers"), "{out}");
    assert!(out.contains("set at change.ps1:3:5)"), "{out}");
    assert!(out.contains("by cause: user.ExternalAccessPolicy.EnableTeamsConsumerAccess 97\n"), "{out}");
    assert!(!out.contains("@example."), "{out}");

    let o = tenet(&dir, &["what-if", "--change", "change.ps1", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let changed = v["changed"].as_array().unwrap();
    assert_eq!(changed.len(), 97);
    let ana = changed
        .iter()
        .find(|c| c["user"] == "ana.rivera@lakeside.edu" && c["decision"] == "chat_with_guardians")
        .unwrap();
    assert_eq!((ana["before"]["allowed"].as_bool(), ana["after"]["allowed"].as_bool()), (Some(true), Some(false)));
    assert_eq!(ana["after"]["reason"]["code"], "CONSUMER_OFF_USER");
    let with_guardian = changed.iter().find(|c| !c["guardian"].is_null()).unwrap();
    assert!(with_guardian["guardian"].as_str().unwrap().starts_with("g:"));
    assert_eq!(with_guardian["guardian"], with_guardian["after"]["guardian"]);
    assert!(!String::from_utf8_lossy(&o.stdout).contains("@example."));

    let o = tenet(&dir, &["what-if", "--change", "change.ps1", "--format", "csv"]);
    let csv = String::from_utf8_lossy(&o.stdout);
    assert!(csv.starts_with("user,decision,guardian,before,after,cause\n") && csv.lines().count() == 98, "{csv}");

    // A script that changes nothing.
    std::fs::write(
        dir.0.join("same.ps1"),
        "Set-CsExternalAccessPolicy -Identity Tag:Teachers -EnableTeamsConsumerAccess $true\n",
    )
    .unwrap();
    let o = tenet(&dir, &["what-if", "--change", "same.ps1"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "what-if same.ps1: no decision changed\n");
}

#[test]
fn what_teams_refuses_is_refused_at_its_line_and_nothing_is_applied() {
    let dir = Scratch::copy("tests/fixtures/cli", "what-if-refused");
    let cases = [
        (
            "Set-CsExternalAccessPolicy -Identity FederationOnly -EnableTeamsConsumerAccess $true",
            "E0603",
            "locked subscription default",
            "1:28",
        ),
        (
            "Grant-CsTeamsAppPermissionPolicy -Group sg-teachers -Rank 1 -PolicyName Tag:ParentsAllowed",
            "E0603",
            "can't be assigned to groups",
            "1:34",
        ),
        (
            "Grant-CsExternalAccessPolicy -Identity ana.rivra@lakeside.edu -PolicyName Tag:Teachers",
            "E0603",
            "did you mean `ana.rivera@lakeside.edu`",
            "1:30",
        ),
        (
            "New-CsGroupPolicyAssignment -GroupId sg-nope -PolicyType TeamsMessagingPolicy -PolicyName Tag:Teachers",
            "E0603",
            "unknown group `sg-nope`",
            "1:29",
        ),
        (
            "Set-CsTeamsMessagingPolicy -Identity Tag:Nope -AllowUserChat $true",
            "E0603",
            "has no instance `Tag:Nope`",
            "1:28",
        ),
        ("Set-CsTenantFederationConfiguration -AllowTeamsConsumer maybe", "E0603", "takes $true or $false", "1:37"),
        ("Get-CsOnlineUser", "E0602", "not a cmdlet tenet can apply", "1:1"),
        ("Set-CsPrivacyConfiguration -EnablePrivacyMode $true -Bogus 1", "E0603", "`-Bogus` is not a setting", "1:53"),
        (
            "Update-M365TeamsApp -Id 00000000-0000-0000-0000-000000000000 -IsBlocked $true",
            "E0603",
            "no app of the pack has the id",
            "1:21",
        ),
        ("Set-CsExternalAccessPolicy -Identity 'Tag:Teachers", "E0602", "not closed", "1:38"),
    ];
    for (line, code, message, at) in cases {
        std::fs::write(dir.0.join("bad.ps1"), format!("{line}\n")).unwrap();
        let o = tenet(&dir, &["what-if", "--change", "bad.ps1"]);
        let err = String::from_utf8_lossy(&o.stderr);
        let flat = err.split_whitespace().filter(|w| *w != "│").collect::<Vec<_>>().join(" ");
        assert_eq!(o.status.code(), Some(1), "{line}: {err}");
        assert!(
            err.contains(code) && flat.contains(message) && err.contains(&format!("bad.ps1:{at}")),
            "{line}:\n{err}"
        );
        assert!(o.stdout.is_empty(), "{line}: nothing applied or printed");
    }
    let o = tenet(&dir, &["what-if", "--change", "missing.ps1"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("can't read the change script `missing.ps1`"));
}

#[test]
fn blocking_the_app_for_the_tenant_overrides_every_user() {
    let (before, _) = Engine::bundled().unwrap();
    let after = before
        .with_changes(Source::new("block.ps1", "Update-M365TeamsApp -Id Parents -IsBlocked $true\n"))
        .unwrap_or_else(|r| panic!("{:?}", r.diagnostics));
    let d = after.decide("ana.rivera@lakeside.edu", "parents_app", None).unwrap();
    assert_eq!(&*d.outcome.reason.code, "APP_BLOCKED_TENANT");
}

#[test]
fn a_new_policy_granted_to_a_user_or_a_group_decides_for_them() {
    let (before, _) = Engine::bundled().unwrap();
    let script = "New-CsTeamsMessagingPolicy -Identity Tag:Quiet -AllowUserChat $false\nGrant-CsTeamsMessagingPolicy -Identity ana.rivera@lakeside.edu -PolicyName Quiet\nGrant-CsTeamsMessagingPolicy -Group sg-teachers -Rank 1 -PolicyName Tag:Quiet\n";
    let after = before.with_changes(Source::new("quiet.ps1", script)).unwrap_or_else(|r| panic!("{:?}", r.diagnostics));
    for upn in ["ana.rivera@lakeside.edu", "ben.okafor@lakeside.edu"] {
        let d = after.decide(upn, "chat_with_guardians", None).unwrap();
        assert_eq!(&*d.outcome.reason.code, "CHAT_OFF", "{upn}");
        assert!(d.outcome.reason.message.contains("Tag:Quiet"), "{}", d.outcome.reason.message);
    }
    // Back to Global for ana: the direct assignment goes, the group's stays.
    let back = after
        .with_changes(Source::new(
            "back.ps1",
            "Grant-CsTeamsMessagingPolicy -Identity ana.rivera@lakeside.edu -PolicyName $null\n",
        ))
        .unwrap_or_else(|r| panic!("{:?}", r.diagnostics));
    let p = back.decide("ana.rivera@lakeside.edu", "chat_with_guardians", None).unwrap().provenance();
    let chat = p.iter().find(|p| p.setting.ends_with("TeamsMessagingPolicy.AllowUserChat")).unwrap();
    assert!(chat.source.contains("via group sg-teachers (rank 1"), "{}", chat.source);
    // A second New- of the same name, and a Grant with neither -Identity nor -Group, are refused.
    for (line, message) in [
        ("New-CsTeamsMessagingPolicy -Identity Quiet", "already exists"),
        ("Grant-CsTeamsMessagingPolicy -PolicyName Quiet", "needs -Identity UPN or -Group ID"),
        (
            "Grant-CsTeamsMessagingPolicy -Identity ana.rivera@lakeside.edu -PolicyName Quiet -Force",
            "doesn't take `-Force`",
        ),
        (
            "New-CsGroupPolicyAssignment -GroupId sg-teachers -PolicyType TeamsMessagingPolicy -PolicyName Quiet -Rank 0",
            "-Rank",
        ),
    ] {
        let r = after.with_changes(Source::new("again.ps1", format!("{line}\n"))).err().unwrap();
        assert!(r.diagnostics.iter().any(|d| d.message.contains(message)), "{line}: {:?}", r.diagnostics);
    }
}

#[test]
fn a_script_of_every_cmdlet_applies_and_names_only_the_values_that_changed() {
    let dir = Scratch::copy("tests/fixtures/changes", "what-if-every");
    let o = tenet(&dir, &["what-if", "--change", "every-cmdlet.ps1"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(3), "{out}{}", String::from_utf8_lossy(&o.stderr));
    let by_cause = out.lines().find(|l| l.starts_with("by cause: ")).unwrap();
    // Update-M365TeamsApp sets the Status Lakeside already has: no change names it.
    assert!(!by_cause.contains("ParentsApp.Status"), "{by_cause}");
    for cause in ["AllowTeamsConsumer", "AllowUserChat", "EnablePrivacyMode"] {
        assert!(by_cause.contains(cause), "{by_cause}");
    }
}
