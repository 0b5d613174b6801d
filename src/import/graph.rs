//! Microsoft Graph JSON: group membership, directory roles and students' related contacts.

use super::{Draft, Found, ImportReport};

/// `/groups?$expand=members` pages.
pub(super) fn read_groups(_files: &[Found], _draft: &mut Draft, _report: &mut ImportReport) {}

/// `/directoryRoles?$expand=members` pages.
pub(super) fn read_directory_roles(_files: &[Found], _draft: &mut Draft, _report: &mut ImportReport) {}

/// educationUser pages with `relatedContacts`.
pub(super) fn read_related_contacts(_files: &[Found], _draft: &mut Draft, _report: &mut ImportReport) {}
