//! Bad input never panics: random text, and real policy and directory files with random
//! damage, go through parsing, checking and (when they still check) compiling.

use proptest::prelude::*;
use tenet::engine::{Engine, Sources, check_sources};
use tenet::source::Source;

fn bundled(name_prefix: &str) -> Vec<(String, String)> {
    Sources::bundled()
        .policies
        .iter()
        .filter(|s| s.name.starts_with(name_prefix))
        .map(|s| (s.name.to_string(), s.text.to_string()))
        .collect()
}

/// Replaces `len` bytes at `at` (both taken modulo the text) with `junk`, on char boundaries.
fn damage(text: &str, at: usize, len: usize, junk: &str) -> String {
    let mut start = at % (text.len() + 1);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (start + len % 64).min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{junk}{}", &text[..start], &text[end..])
}

fn run(policies: Vec<(String, String)>, directory: String) {
    let sources = Sources {
        policies: policies.into_iter().map(|(n, t)| Source::new(n, t)).collect(),
        directory: Some(Source::new("directory.yaml", directory)),
        directory_data: None,
    };
    let (_, report) = check_sources(sources.clone());
    // Rendering must not panic either, whatever the spans.
    let _ = tenet::diagnostic::render_human(&report.diagnostics, &report.sources, false);
    if let Ok((engine, _)) = Engine::build(sources) {
        let _ = engine.table().all().len();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_text_never_panics(text in "\\PC{0,400}", yaml in "\\PC{0,200}") {
        run(vec![("random.tenet".into(), text)], yaml);
    }

    #[test]
    fn damaged_policy_files_never_panic(file in 0usize..8, at in any::<usize>(), len in any::<usize>(),
                                       junk in prop::sample::select(vec!["", "{", "}", "(", "\"", "not ", "==", "é", "allow", "\n"])) {
        let mut policies = bundled("policies/");
        let i = file % policies.len();
        policies[i].1 = damage(&policies[i].1, at, len, junk);
        run(policies, tenet::engine::Sources::bundled().directory.map(|d| d.text.to_string()).unwrap_or_default());
    }

    #[test]
    fn damaged_directories_never_panic(at in any::<usize>(), len in any::<usize>(),
                                       junk in prop::sample::select(vec!["", ":", "- ", "\"", "[", "]", "{", "\t", "é", "\n  - upn: x@y.z\n"])) {
        let dir = tenet::engine::Sources::bundled().directory.map(|d| d.text.to_string()).unwrap_or_default();
        run(bundled("policies/"), damage(&dir, at, len, junk));
    }
}
