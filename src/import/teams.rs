//! Teams PowerShell exports (`Get-X | ConvertTo-Json -Depth 5 > X.json`).

use super::{Draft, Found, ImportReport, Options};
use crate::model::Model;

/// The exports read, by the cmdlet that wrote them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cmdlet {
    OnlineUser,
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
    GroupPolicyAssignment,
    AllM365TeamsApps,
}

impl Cmdlet {
    pub const ALL: [Cmdlet; 13] = [
        Cmdlet::OnlineUser,
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
        Cmdlet::GroupPolicyAssignment,
        Cmdlet::AllM365TeamsApps,
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
        }
    }

    /// The export a file holds, from its lower-cased stem: `Get-CsOnlineUser`, `CsOnlineUser`
    /// or `OnlineUser`; `M365TeamsApp` (one app) reads like `AllM365TeamsApps`.
    pub fn from_file_stem(stem: &str) -> Option<Cmdlet> {
        let stem = stem.strip_prefix("get-").unwrap_or(stem);
        if stem == "m365teamsapp" || stem.starts_with("m365teamsapp-") {
            return Some(Cmdlet::AllM365TeamsApps);
        }
        Cmdlet::ALL.into_iter().find(|c| {
            let noun = c.noun().to_lowercase();
            stem == noun || noun.strip_prefix("cs").is_some_and(|short| stem == short)
        })
    }
}

pub(super) fn read(
    _files: &[Found],
    _pack: &Model,
    _options: &Options,
    _draft: &mut Draft,
    _report: &mut ImportReport,
) {
}
