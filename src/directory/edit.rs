//! Changes to a validated directory that an admin makes outside Teams PowerShell (a licence,
//! an enabled account, a class team's owners, a guardian's record in School Data Sync), so
//! that `tenet fix` can verify such a suggestion the way it verifies a cmdlet line: by making
//! the change on a copy and deciding again.

use super::{ClassTeamId, Directory, GuardianId, Id as _, Link, NameSet, Relationship, UserId};
use indexmap::set::MutableValues as _;
use std::sync::Arc;

/// Stands in for an address the admin adds: never shown, and not anyone's.
const ADDED_EMAIL: &str = "added@example.invalid";
/// Stands in for a mobile number in E.164 form the admin adds or corrects.
const ADDED_PHONE: &str = "+10000000000";

impl Directory {
    /// Enables sign-in for `user`; the directory's role sets follow.
    pub(crate) fn enable(&mut self, user: UserId) {
        if let Some(u) = self.users.get_index_mut2(user.index()) {
            u.enabled = true;
        }
        self.count_roles();
    }

    /// Assigns a licence to `user`.
    pub(crate) fn add_license(&mut self, user: UserId, license: &str) {
        if let Some(u) = self.users.get_index_mut2(user.index())
            && !u.licenses.iter().any(|l| &**l == license)
        {
            let mut licenses = u.licenses.to_vec();
            licenses.push(Arc::from(license));
            licenses.sort();
            u.licenses = NameSet::from(licenses);
        }
    }

    /// Makes `user` an owner of `team`.
    pub(crate) fn add_owner(&mut self, team: ClassTeamId, user: UserId) {
        if let Some((_, t)) = self.class_teams.get_index_mut(team.index())
            && !t.owners.contains(&user)
        {
            t.owners.push(user);
            t.owners.sort_unstable();
        }
        if let Some(u) = self.users.get_index_mut2(user.index())
            && !u.owns().contains(team)
        {
            u.links = u.links.with(Link::Owns, team.raw(), true);
        }
    }

    /// `user` unblocks `guardian`.
    pub(crate) fn unblock(&mut self, user: UserId, guardian: GuardianId) {
        if let Some(u) = self.users.get_index_mut2(user.index()) {
            u.links = u.links.with(Link::Blocked, guardian.raw(), false);
        }
    }

    /// Gives `guardian` an email address (a stand-in: only its presence is decided on).
    pub(crate) fn add_guardian_email(&mut self, guardian: GuardianId) {
        if let Some(g) = self.guardians.get_index_mut2(guardian.index()) {
            g.set_email(ADDED_EMAIL);
        }
    }

    /// Gives `guardian` a mobile number in E.164 form (a stand-in, as for the email).
    pub(crate) fn add_guardian_e164_phone(&mut self, guardian: GuardianId) {
        if let Some(g) = self.guardians.get_index_mut2(guardian.index()) {
            g.set_phone(ADDED_PHONE);
            g.phone_e164 = true;
        }
    }

    /// Sets the relationship of `guardian`'s link that decisions about `user` read (see
    /// [`Directory::relation`]) to `relationship`.
    pub(crate) fn set_relationship(&mut self, user: UserId, guardian: GuardianId, relationship: Relationship) {
        let Some(g) = self.guardians.get_index(guardian.index()) else { return };
        let owns = self.users.get_index(user.index()).map(super::User::owns).unwrap_or_default();
        let teaches = |s: UserId| {
            self.users.get_index(s.index()).is_some_and(|s| s.student_of().iter().any(|c| owns.contains(c)))
        };
        let links = g.links();
        let link = links
            .iter()
            .position(|l| l.student == user)
            .or_else(|| links.iter().position(|l| teaches(l.student)))
            .or((!links.is_empty()).then_some(0));
        if let (Some(i), Some(g)) = (link, self.guardians.get_index_mut2(guardian.index()))
            && let Some(link) = g.link_mut(i)
        {
            link.relationship = relationship;
        }
    }
}
