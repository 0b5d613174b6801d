//! Manual contact updates requested by teachers and decided in the Approvals app.

use super::{Draft, Found, ImportReport};

pub(super) fn read(_files: &[Found], _draft: &mut Draft, _report: &mut ImportReport) {}
