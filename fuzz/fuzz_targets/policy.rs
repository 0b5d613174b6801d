//! The policy parser and checker: the input is the text of one `.tenet` file. It is parsed
//! alone, then checked four ways, and every report is rendered as text and JSON:
//!
//! - alone, with no directory (as `tenet check FILE`);
//! - with the base set the `tests/fixtures/check/` fixtures are checked with (its policies and
//!   directory);
//! - on top of the bundled Teams pack, with no directory;
//! - added to the bundled example district (the pack, the Lakeside tenant and its expectations,
//!   the Lakeside directory).
//!
//! A set that checks is compiled, its expectations run and its decisions rendered.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tenet::Sources;
use tenet::unstable::source::{FileId, Source, SourceMap};
use tenet_fuzz::{bundled_district, bundled_pack, check_and_render, check_base, decide_and_render, render};

fuzz_target!(|data: &[u8]| {
    let text = tenet_fuzz::text(data);
    let fuzzed = Source::new("fuzz.tenet", text.clone());

    let mut map = SourceMap::default();
    let id = map.add(fuzzed.clone());
    if let Err(diagnostics) = tenet::unstable::syntax::parse(id, &text) {
        render(&diagnostics, &map);
    }

    let report = check_and_render(Sources { policies: vec![fuzzed], ..Sources::default() });
    // The file as `check_sources` marked it (with the lines that hold personal data).
    let Some(fuzzed) = report.sources.get(FileId(0)) else { return };

    for set in [check_base(), bundled_pack(), bundled_district()] {
        if let Some(model) = set.check(std::slice::from_ref(fuzzed), None) {
            decide_and_render(model);
        }
    }
});
