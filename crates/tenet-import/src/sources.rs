//! Which sources an import found and which it lacks. A fact nobody exported is never read as
//! "there is none": a missing *required* source is an error naming the cmdlet or request that
//! exports it; a missing *optional* one leads to a stated assumption, one that fits a typical
//! tenant and never denies on its own.

use super::draft::Draft;
use super::report::{ImportReport, SourceLine, Status};
use super::teams::{AppIds, Cmdlet};
use super::{Found, Kind};
use tenet::unstable::directory::Assumption;
use tenet::unstable::model::Model;

/// What is assumed without a directory roles export: every tenant has a Global Administrator.
pub const ASSUMED_ADMIN: &str = "at least one enabled Global Administrator, and no disabled admin — no directory roles export (Graph `GET /directoryRoles?$expand=members`)";

/// What is assumed without a supplement: a tenant where nobody has done these things yet.
pub const ASSUMED_SUPPLEMENT: &str = "no supplement.yaml: the pack's defaults for the settings no export carries, no invites sent yet, no guardian blocked or on Teams yet, and no roles beyond School Data Sync's";

/// What the pack reads from each Teams export, for the report.
fn teams_source(c: Cmdlet) -> String {
    let what = match c {
        Cmdlet::OnlineUser => "users, direct policy assignments, telephony licences",
        Cmdlet::GroupPolicyAssignment => "ranked group policy assignments",
        Cmdlet::AllM365TeamsApps => "whether Parents and Approvals are allowed, and to whom",
        Cmdlet::TeamsApp => "the apps' ids",
        c if c.noun().ends_with("Configuration") => "tenant settings",
        _ => "policy instances",
    };
    format!("Get-{} ({what})", c.noun())
}

/// How to export what a cmdlet returns.
fn export_command(c: Cmdlet) -> String {
    match c {
        Cmdlet::OnlineUser => {
            "run `Get-CsOnlineUser -ResultSize Unlimited | ConvertTo-Json -Depth 5 > CsOnlineUser.json`".to_string()
        }
        Cmdlet::AllM365TeamsApps => {
            "run `Get-AllM365TeamsApps | ConvertTo-Json -Depth 5 > AllM365TeamsApps.json`".to_string()
        }
        c => format!("run `Get-{0} | ConvertTo-Json -Depth 5 > {0}.json`", c.noun()),
    }
}

/// Settles what was found against what the pack reads: a line per source in the report, an error
/// for each required one missing, and the assumptions for optional ones (into `draft`, so the
/// directory carries them and every explanation that reads them says so).
pub(super) fn settle(files: &[Found], ids: &AppIds, pack: &Model, draft: &mut Draft, report: &mut ImportReport) {
    let shown = |want: &dyn Fn(&Kind) -> bool| -> Vec<String> {
        files.iter().filter(|f| want(&f.kind)).map(|f| f.shown.clone()).collect()
    };
    let mut lines = Vec::new();
    let mut line = |source: String, found: Vec<String>, missing: Status, detail: String| {
        let status = if found.is_empty() { missing } else { Status::Found };
        let detail = if status == Status::Found { String::new() } else { detail };
        lines.push(SourceLine { source, status, files: found, detail });
    };
    for c in Cmdlet::ALL.into_iter().filter(|c| *c != Cmdlet::TeamsApp) {
        line(teams_source(c), shown(&|k| *k == Kind::Teams(c)), Status::Missing, export_command(c));
    }
    for (config, from) in &ids.found {
        let (name, flag) =
            if *config == "ParentsApp" { ("Parents", "--parents-app-id") } else { ("Approvals", "--approvals-app-id") };
        line(
            format!("the {name} app's id ({config}.Id)"),
            from.iter().cloned().collect(),
            Status::Missing,
            format!(
                "export the apps with `Get-TeamsApp | Where-Object DisplayName -in 'Parents','Approvals' | ConvertTo-Json > TeamsApp.json`, or pass {flag} GUID (Teams admin center > Teams apps > Manage apps > {name} shows the App ID)"
            ),
        );
    }
    // Group membership matters once a policy or an app is given to groups.
    let assignments = report.files.iter().any(|f| f.format == "Get-CsGroupPolicyAssignment" && f.read > 0);
    let groups_used = assignments
        || draft.tenant.configs.values().any(
            |v| matches!(v.get("AvailableToGroups"), Some(super::draft::Literal::Set(groups)) if !groups.is_empty()),
        );
    line(
        "Graph groups (members of the groups policies and apps are given to)".into(),
        shown(&|k| *k == Kind::GraphGroups),
        if groups_used { Status::Missing } else { Status::Assumed },
        if groups_used {
            "save `GET /groups?$select=id,displayName,visibility&$expand=members($select=id,displayName,userPrincipalName,accountEnabled)` (every page)".into()
        } else {
            "no group membership: no policy and no app is given to a group".into()
        },
    );
    let roles = shown(&|k| *k == Kind::GraphDirectoryRoles);
    if roles.is_empty() {
        draft.assumed.push(Assumption {
            enabled_roles: vec!["global_admin".into()],
            facts: vec!["directory".into()],
            because: ASSUMED_ADMIN.into(),
        });
    }
    line("Graph directory roles (who approves contact updates)".into(), roles, Status::Assumed, ASSUMED_ADMIN.into());
    let sds = |names: &'static [&'static str]| shown(&move |k| matches!(k, Kind::Sds(n) if names.contains(n)));
    let v1_roster: &[&str] =
        &["school.csv", "teacher.csv", "student.csv", "section.csv", "teacherroster.csv", "studentenrollment.csv"];
    let v2_roster: &[&str] = &["orgs.csv", "users.csv", "roles.csv", "classes.csv", "enrollments.csv"];
    let roster_v1 = sds(v1_roster);
    let roster_v2 = sds(v2_roster);
    // The files of the version found must all be there (a roster is one set).
    let conflict = (!roster_v1.is_empty() && !roster_v2.is_empty()).then(|| SourceLine {
            source: "School Data Sync roster (teachers, students, class teams)".into(),
            status: Status::Conflict,
            files: roster_v1.iter().chain(&roster_v2).cloned().collect(),
        detail: "both an SDS v1 and an SDS v2.1 roster: a district syncs with one, and nothing in the files says which is current (their class teams would be counted twice); import one".into(),
    });
    let (roster, missing_files): (Vec<String>, Vec<&str>) = if !roster_v1.is_empty() {
        let have = |n: &str| files.iter().any(|f| matches!(f.kind, Kind::Sds(k) if k == n));
        (roster_v1, v1_roster.iter().copied().filter(|n| !have(n)).collect())
    } else {
        let have = |n: &str| files.iter().any(|f| matches!(f.kind, Kind::Sds(k) if k == n));
        let missing =
            if roster_v2.is_empty() { Vec::new() } else { v2_roster.iter().copied().filter(|n| !have(n)).collect() };
        (roster_v2, missing)
    };
    if missing_files.is_empty() {
        line(
            "School Data Sync roster (teachers, students, class teams)".into(),
            roster,
            Status::Missing,
            "export the School Data Sync CSV files (v2.1: orgs, users, roles, classes, enrollments; v1: school, teacher, student, section, teacherroster, studentenrollment)".into(),
        );
    } else {
        // Found in part: missing all the same.
        line(
            "School Data Sync roster (teachers, students, class teams)".into(),
            Vec::new(),
            Status::Missing,
            format!(
                "{} found, but the roster is missing {}: export the whole set",
                roster.join(", "),
                missing_files.join(", ")
            ),
        );
    }
    // v1's parent files are a pair: user.csv holds the contacts, guardianrelationship.csv their
    // students; without either, every contact would be read as linked to no one.
    let v1_users = sds(&["user.csv"]);
    let v1_links = sds(&["guardianrelationship.csv"]);
    let half = match (v1_users.is_empty(), v1_links.is_empty()) {
        (false, true) => {
            Some("user.csv is there but guardianrelationship.csv, which links each contact to students, is not")
        }
        (true, false) => Some("guardianrelationship.csv is there but user.csv, which holds the contacts, is not"),
        _ => None,
    };
    let mut contacts = if half.is_some() { Vec::new() } else { [v1_users, v1_links].concat() };
    contacts.extend(sds(&["relationships.csv"]));
    contacts.extend(shown(&|k| *k == Kind::GraphRelatedContacts));
    let how = "export School Data Sync's parent contacts (v2.1: users.csv and relationships.csv; v1: user.csv and guardianrelationship.csv), or save `GET /education/users?$select=userPrincipalName,relatedContacts` (every page)";
    line(
        "guardian contacts (School Data Sync parent files, or Graph related contacts)".into(),
        if half.is_some() { Vec::new() } else { contacts },
        Status::Missing,
        match half {
            Some(why) => format!("{why}: {how}"),
            None => how.into(),
        },
    );
    line(
        "approvals.csv (contact updates approved in Teams)".into(),
        shown(&|k| *k == Kind::Approvals),
        Status::Assumed,
        "no contact update was approved in Teams beyond what School Data Sync holds".into(),
    );
    let supplement = shown(&|k| *k == Kind::Supplement);
    if supplement.is_empty() {
        // The configuration objects no export fills (the apps' come from the catalog, the
        // retirement switches from --as-of).
        let ours = pack.configs.keys().filter(|c| {
            !Cmdlet::ALL.iter().any(|x| x.target() == Some(c.as_str()))
                && !["ParentsApp", "ApprovalsApp", tenet::unstable::as_of::CONFIG].contains(&c.as_str())
        });
        let mut facts: Vec<String> =
            ["user.invites_sent", "user.roles", "guardian.on_teams", "guardian.blocked"].map(String::from).to_vec();
        facts.extend(ours.map(|c| format!("tenant.{c}")));
        draft.assumed.push(Assumption { enabled_roles: Vec::new(), facts, because: ASSUMED_SUPPLEMENT.into() });
    }
    line("supplement.yaml (what no export carries)".into(), supplement, Status::Assumed, ASSUMED_SUPPLEMENT.into());
    lines.extend(conflict);
    report.sources = lines;
    for ((first, second), (n, names)) in &draft.overlaps {
        let such = if names.is_empty() { String::new() } else { format!(" (such as {})", names.join(", ")) };
        report.overlaps.push(format!(
            "{n} guardian{} in both {first} and {second}{such}: each is one guardian, linked to the students of both; where their details differ (a warning says so), those from {first} are kept, as read first (School Data Sync before Graph's related contacts, which it fills; approved updates last, by their time)",
            if *n == 1 { " is" } else { "s are" }
        ));
    }
}
