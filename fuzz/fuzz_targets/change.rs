//! What-if change scripts: the input is the text of a `.ps1` file of Teams PowerShell lines (what
//! `tenet what-if --change` and `POST /v1/what-if` take). It is applied to the bundled example
//! district; a script that applies is compiled and compared with the district over every user,
//! and the changes rendered; one that doesn't has its diagnostics rendered as text and JSON.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use tenet::snapshot::{Guardians, changes_between};
use tenet::{Engine, Source};

fn district() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| match Engine::bundled() {
        Ok((engine, _)) => engine,
        Err(report) => panic!("the bundled district checks: {:?}", report.diagnostics),
    })
}

fuzz_target!(|data: &[u8]| {
    let before = district();
    match before.with_changes(Source::new("change.ps1", tenet_fuzz::text(data))) {
        Ok(after) => {
            for guardians in [Guardians::Pseudonyms, Guardians::Contacts] {
                let changes = changes_between(before.table(), after.table(), guardians);
                for c in changes.iter().take(64) {
                    std::hint::black_box(format!("{c:?}"));
                }
            }
        }
        Err(report) => tenet_fuzz::render(&report.diagnostics, &report.sources),
    }
});
