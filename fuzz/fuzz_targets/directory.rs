//! The directory loader: the input is the text of a directory YAML file (`directory.yaml`). It
//! is loaded alone and checked three ways, and every report is rendered as text and JSON:
//!
//! - alone, with no policy file;
//! - with the base policies the `tests/fixtures/check/` fixtures are checked with;
//! - as the directory of the bundled example district (the Teams pack, the Lakeside tenant and
//!   its expectations), in place of the Lakeside directory.
//!
//! A set that checks is compiled, its expectations run and its decisions rendered.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tenet::unstable::engine::{DIRECTORY_FILE, Sources};
use tenet::unstable::source::{FileId, Source, SourceMap};
use tenet_fuzz::{DirectoryFile, bundled_district, check_and_render, check_base, decide_and_render, render};

fuzz_target!(|data: &[u8]| {
    let text = tenet_fuzz::text(data);
    let fuzzed = Source::new(DIRECTORY_FILE, text.clone());

    let mut map = SourceMap::default();
    let id = map.add(fuzzed.clone());
    match tenet::unstable::directory::load(id, text) {
        Ok(directory) => {
            std::hint::black_box(format!("{directory:?}"));
        }
        Err(diagnostics) => render(&diagnostics, &map),
    }

    let report = check_and_render(Sources { directory: tenet::DirectorySource::File(fuzzed), ..Sources::default() });
    // The file as `check_sources` marked it (with the parts that hold personal data).
    let Some(fuzzed) = report.sources.get(FileId(0)) else { return };

    for set in [check_base(), bundled_district()] {
        if let Some(model) = set.check(&[], Some(DirectoryFile::Text(fuzzed))) {
            decide_and_render(model);
        }
    }
});
