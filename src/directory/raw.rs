//! The directory file's YAML shape, before validation: what `serde_yaml` reads, what an import
//! builds in memory and writes out. Nothing here is checked; [`super::validate`] does that.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A directory file as written, before validation. Also what an import builds in memory (see
/// [`super::from_raw`]) and writes out.
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
    /// The school the class belongs to (its name), for grouping and filtering by school.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub school: Option<String>,
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

impl RawDirectory {
    /// What messages about this directory may show, should it not validate (see
    /// [`super::Directory::privacy`]).
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
