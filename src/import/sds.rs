//! School Data Sync CSV files, v1 (Classic) and v2.1.

use super::{Draft, Found, ImportReport};

/// Lower-cased file stems read as School Data Sync files.
pub(super) const FILES: &[&str] = &[
    // v1
    "school",
    "section",
    "student",
    "teacher",
    "studentenrollment",
    "teacherroster",
    "user",
    "guardianrelationship",
    // v2.1
    "orgs",
    "users",
    "roles",
    "classes",
    "enrollments",
    "relationships",
    "academicsessions",
    "courses",
    "demographics",
    "userflags",
];

pub(super) fn read(_files: &[Found], _draft: &mut Draft, _report: &mut ImportReport) {}
