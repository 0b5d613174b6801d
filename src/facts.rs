//! The facts decisions read about users and the directory, read one way for the compiler and
//! for provenance. (Guardian facts are packed into [`crate::table::GuardianKey`]s; policy
//! settings are [`crate::model::PolicyType::value`]. The reference evaluator reads them all
//! its own way, by scanning, so that it stays an independent witness.)

use crate::directory::UserId;
use crate::model::{DirectoryAttr, Model, UserAttr, Value};
use std::sync::Arc;

/// The directory-wide role sets (`directory.enabled_roles`, `directory.disabled_roles`).
pub(crate) fn directory_roles(model: &Model, a: DirectoryAttr) -> Value {
    let roles = match a {
        DirectoryAttr::EnabledRoles => model.directory.enabled_roles(),
        DirectoryAttr::DisabledRoles => model.directory.disabled_roles(),
    };
    Value::set(roles.iter().map(|r| Value::Str(r.as_str().into())).collect())
}

/// A user's attribute (by user index).
pub(crate) fn user_attr(model: &Model, u: UserId, a: UserAttr) -> Value {
    let user = model.directory.user_at(u);
    let strings = |v: &mut dyn Iterator<Item = &str>| Value::set(v.map(|s| Value::Str(s.into())).collect());
    // Role and licence names are shared by the directory: the set shares them too.
    let shared = |v: &[Arc<str>]| Value::set(v.iter().map(|s| Value::Str(s.clone())).collect());
    match a {
        UserAttr::Enabled => Value::Bool(user.enabled),
        UserAttr::Roles => shared(&user.roles),
        UserAttr::Licenses => shared(&user.licenses),
        UserAttr::Groups => strings(&mut user.groups().iter().map(|g| model.directory.group_at(g).id.as_str())),
        UserAttr::OwnsClassTeam => Value::Bool(!user.owns().is_empty()),
        UserAttr::InClassTeam => Value::Bool(!user.student_of().is_empty()),
        UserAttr::InvitesSent => Value::Int(user.invites_sent),
    }
}
