//! The School Data Sync v2.1 reader: `orgs.csv`, `users.csv`, `roles.csv`, `classes.csv`,
//! `enrollments.csv`, `relationships.csv` (and the files it only counts, such as `courses.csv`).
//!
//! The input is a file name on its first line and the file's bytes after it (see the
//! `tenet_fuzz` library): the file is written among the Lakeside exports named below, replacing
//! the one of that name if there is one, and the whole folder is imported as `tenet import`
//! does; the report is rendered as text and JSON, the tenant's files are written, and the
//! imported tenant is checked (see [`tenet_fuzz::import_one`]). The file is also imported alone.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tenet_fuzz::{Exports, import_one};

const EXPORTS: Exports = Exports {
    name: "sds-v2",
    context: &["lakeside/teams", "lakeside/graph", "lakeside/supplement", "lakeside/sds-v2.1"],
    default_name: "users.csv",
};

fuzz_target!(|data: &[u8]| import_one(&EXPORTS, data));
