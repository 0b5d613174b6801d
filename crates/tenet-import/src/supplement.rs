//! `supplement.yaml`: what a district knows that no export carries — settings the pack names
//! but Microsoft exposes nowhere (guardian permissions, the invite limit, the app governance
//! mode), teachers' invite counts and blocked guardians, guardians already on Teams, extra roles,
//! and when School Data Sync last synced.
//!
//! ```yaml
//! sds_synced_at: 2025-08-15T06:00:00Z
//! tenant:
//!   ParentConnectionConfiguration: { GuardianPermissions: Relaxed, InviteLimit: 40 }
//! users:
//!   - upn: ana.rivera@lakeside.edu
//!     invites_sent: 3
//!     blocked_guardians: [dae.kim@example.org]
//!     roles: [student_teacher]
//! guardians:
//!   - id: dae.kim@example.org
//!     on_teams: true
//! ```

use super::draft::Draft;
use super::report::{At, FileReport, ImportReport, Problem};
use super::{Found, text};
use indexmap::IndexMap;
use serde::Deserialize;
use tenet::unstable::directory::locate::Locations;
use tenet::unstable::model::Model;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Supplement {
    #[serde(default)]
    sds_synced_at: Option<String>,
    #[serde(default)]
    tenant: IndexMap<String, IndexMap<String, serde_yaml::Value>>,
    #[serde(default)]
    users: Vec<SupplementUser>,
    #[serde(default)]
    guardians: Vec<SupplementGuardian>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SupplementUser {
    upn: String,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    invites_sent: Option<u32>,
    #[serde(default)]
    blocked_guardians: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SupplementGuardian {
    id: String,
    #[serde(default)]
    on_teams: bool,
}

const FORMAT: &str = "tenet supplement";
const HELP: &str = "see the README's import section for supplement.yaml";

/// A parsed supplement and its text (to locate problems).
struct Parsed {
    supplement: Supplement,
    locations: Locations,
    text: String,
}

impl Parsed {
    fn at(&self, path: &str) -> At {
        let offset = self.locations.offset(path).min(self.text.len());
        At::property(Some(1 + self.text[..offset].matches('\n').count()), path)
    }
}

fn parse(found: &Found, file: &mut FileReport) -> Option<Parsed> {
    let bytes = match std::fs::read(&found.path) {
        Ok(b) => b,
        Err(e) => {
            file.note(Problem::error(At::file(), format!("can't read the file: {e}")));
            return None;
        }
    };
    let (text, encoding) = match text::decode(&bytes) {
        Ok(t) => t,
        Err(e) => {
            file.note(Problem::error(At::line(e.line), e.message).help(e.help));
            return None;
        }
    };
    file.encoding = encoding.to_string();
    let supplement: Supplement = if text.trim().is_empty() {
        Supplement::default()
    } else if let Err(limit) = tenet::unstable::yaml::check_aliases(&text) {
        let line = text[..limit.offset].matches('\n').count() + 1;
        file.note(Problem::error(At::line(line), limit.message).help(HELP));
        return None;
    } else {
        match serde_yaml::from_str(&text) {
            Ok(s) => s,
            Err(e) => {
                let line = e.location().map(|l| l.line());
                let message = e.to_string();
                let message = message.split(" at line ").next().unwrap_or(&message).to_string();
                file.note(
                    Problem::error(At { line, ..At::default() }, format!("invalid supplement: {message}")).help(HELP),
                );
                return None;
            }
        }
    };
    let locations = Locations::index(&text);
    Some(Parsed { supplement, locations, text })
}

/// Reads `sds_synced_at` first: approved contact updates are compared with it.
pub(super) fn read_sync_time(files: &[Found], draft: &mut Draft, report: &mut ImportReport) {
    for found in files {
        let file = report.file(&found.shown, FORMAT);
        let Some(parsed) = parse(found, file) else { continue };
        if let Some(t) = &parsed.supplement.sds_synced_at {
            match t.trim().parse::<jiff::Timestamp>() {
                Ok(ts) => draft.sds_synced_at = Some(ts),
                Err(_) => file.note(
                    Problem::error(parsed.at("sds_synced_at"), "`sds_synced_at` is not a date and time")
                        .value(t.clone())
                        .help("write it in RFC 3339 form, for example 2025-08-15T06:00:00Z"),
                ),
            }
        }
    }
}

/// Applies the supplement's tenant settings, users and guardians.
pub(super) fn read(files: &[Found], pack: &Model, draft: &mut Draft, report: &mut ImportReport) {
    for found in files {
        let file = report.file(&found.shown, FORMAT);
        // Parsed a second time: its problems were reported by the first pass (read_sync_time).
        let Some(parsed) = parse(found, &mut FileReport::default()) else { continue };
        let s = &parsed.supplement;
        for (config, settings) in &s.tenant {
            let Some((config_name, c)) = pack.configs.iter().find(|(k, _)| k.eq_ignore_ascii_case(config)) else {
                let names: Vec<&str> = pack.configs.keys().map(String::as_str).collect();
                file.reject(
                    Problem::error(
                        parsed.at(&format!("tenant.{config}")),
                        "the policy pack has no such configuration object",
                    )
                    .value(config.clone())
                    .help(format!("one of: {}", names.join(", "))),
                );
                continue;
            };
            let mut good = true;
            for (setting, value) in settings {
                let at = parsed.at(&format!("tenant.{config}.{setting}"));
                let Some((setting_name, st)) = c.schema.settings.iter().find(|(k, _)| k.eq_ignore_ascii_case(setting))
                else {
                    let names: Vec<&str> = c.schema.settings.keys().map(String::as_str).collect();
                    file.note(
                        Problem::error(at, format!("{config_name} has no such setting"))
                            .value(setting.clone())
                            .help(format!("one of: {}", names.join(", "))),
                    );
                    good = false;
                    continue;
                };
                let json = serde_json::to_value(value).unwrap_or_default();
                match super::teams::setting_literal(pack, &st.ty, &json) {
                    Ok(l) => {
                        draft.tenant.configs.entry(config_name.clone()).or_default().insert(setting_name.clone(), l);
                        let path = format!("tenant.{config}.{setting}");
                        let origin = super::teams::origin(&found.shown, at.line.unwrap_or(1), &path);
                        draft.tenant.set_origin(config_name, setting_name, origin);
                    }
                    Err(p) => {
                        file.note(p(at, setting_name));
                        good = false;
                    }
                }
            }
            if good {
                file.use_one();
            } else {
                file.reject_noted();
            }
        }
        for (i, u) in s.users.iter().enumerate() {
            if !draft.has_user(&u.upn) {
                file.reject(
                    Problem::error(parsed.at(&format!("users[{i}].upn")), "no user with this UPN was imported")
                        .value(u.upn.clone())
                        .help("the supplement adds to users the exports define; check the spelling"),
                );
                continue;
            }
            let blocked: Vec<Option<String>> = u.blocked_guardians.iter().map(|g| guardian_key(draft, g)).collect();
            let unknown: Vec<usize> = (0..blocked.len()).filter(|j| blocked[*j].is_none()).collect();
            let user = draft.user_mut(&u.upn);
            user.roles.extend(u.roles.iter().map(|r| r.trim().to_string()).filter(|r| !r.is_empty()));
            if u.invites_sent.is_some() {
                user.invites_sent = u.invites_sent;
            }
            user.blocked_guardians.extend(blocked.into_iter().flatten());
            if unknown.is_empty() {
                file.use_one();
            } else {
                for j in unknown {
                    file.note(
                        Problem::error(
                            parsed.at(&format!("users[{i}].blocked_guardians[{j}]")),
                            "no imported guardian has this id",
                        )
                        .personal_value(u.blocked_guardians[j].clone())
                        .help(
                            "a guardian's id is their email (lower-cased), or the SDS id of a guardian without email",
                        ),
                    );
                }
                file.reject_noted();
            }
        }
        for (i, g) in s.guardians.iter().enumerate() {
            match guardian_key(draft, &g.id).and_then(|k| draft.guardians.get_mut(&k)) {
                Some(known) => {
                    known.on_teams |= g.on_teams;
                    file.use_one();
                }
                None => file.reject(
                    Problem::error(parsed.at(&format!("guardians[{i}].id")), "no imported guardian has this id")
                        .personal_value(g.id.clone())
                        .help(
                            "a guardian's id is their email (lower-cased), or the SDS id of a guardian without email",
                        ),
                ),
            }
        }
    }
}

/// The key of an imported guardian named by `id` (as written, or lower-cased like emails).
fn guardian_key(draft: &Draft, id: &str) -> Option<String> {
    [id.trim().to_string(), tenet::unstable::directory::key(id)].into_iter().find(|k| draft.guardians.contains_key(k))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Kind;

    #[test]
    fn a_broken_supplement_is_reported_once() {
        let dir = std::env::temp_dir().join(format!("tenet-supplement-once-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("supplement.yaml");
        std::fs::write(&path, "tenant: [unclosed\n").unwrap();
        let files = vec![Found { path, shown: "supplement.yaml".into(), kind: Kind::Supplement }];
        let pack = tenet::unstable::engine::check_sources(tenet::Sources::pack()).0.unwrap();
        let (mut draft, mut report) = (Draft::default(), ImportReport::default());
        read_sync_time(&files, &mut draft, &mut report);
        read(&files, &pack, &mut draft, &mut report);
        assert_eq!(report.errors(), 1, "{}", report.render(false));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
