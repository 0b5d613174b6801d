//! The Microsoft Graph readers: `/groups?$expand=members` pages (`groups.json`),
//! `/directoryRoles?$expand=members` (`directoryRoles.json`) and educationUser pages with
//! `relatedContacts` (`educationUsers.json`), each one page or several.
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
    name: "graph",
    context: &[
        "lakeside/teams",
        "lakeside/graph",
        "lakeside/supplement",
        "lakeside/sds-v1/roster",
        "lakeside/graph-contacts",
    ],
    default_name: "groups.json",
};

fuzz_target!(|data: &[u8]| import_one(&EXPORTS, data));
