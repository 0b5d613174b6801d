//! Bad input never panics: random text, and real policy and directory files with random
//! damage, go through parsing, checking and (when they still check) compiling.

use proptest::prelude::*;
use tenet::Source;
use tenet::unstable::engine::{Engine, Sources, check_sources};

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
        directory: tenet::DirectorySource::File(Source::new("directory.yaml", directory)),
    };
    let (_, report) = check_sources(sources.clone());
    // Rendering must not panic either, whatever the spans.
    let _ = tenet::render_human(&report.diagnostics, &report.sources, false);
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
        run(policies, tenet::Sources::bundled().directory.file().map(|d| d.text.to_string()).unwrap_or_default());
    }

    #[test]
    fn damaged_directories_never_panic(at in any::<usize>(), len in any::<usize>(),
                                       junk in prop::sample::select(vec!["", ":", "- ", "\"", "[", "]", "{", "\t", "é", "\n  - upn: x@y.z\n"])) {
        let dir = tenet::Sources::bundled().directory.file().map(|d| d.text.to_string()).unwrap_or_default();
        run(bundled("policies/"), damage(&dir, at, len, junk));
    }
}

/// Checks `policy` (on top of a tiny type) and `directory`, and renders every diagnostic.
fn rendered(policy: &str, directory: &str) -> String {
    let types = "policy type X {\n  A: bool = true\n}\n";
    let sources = Sources {
        policies: vec![Source::new("types.tenet", types), Source::new("long.tenet", policy)],
        directory: tenet::DirectorySource::File(Source::new("directory.yaml", directory)),
    };
    let (_, report) = check_sources(sources);
    assert!(!report.diagnostics.is_empty(), "the input has an error");
    tenet::render_human(&report.diagnostics, &report.sources, false)
}

#[test]
fn diagnostics_far_along_long_lines_render_a_window_with_the_real_column() {
    let pad = " ".repeat(70_000);
    // An unknown setting, a syntax error, an unknown user: each at a column past 70,000.
    // Each case: the text, and where its error is (the text the location points at).
    let cases = [
        (format!("policy X \"G\" {{ {pad}B = true }}\n"), "B = true"),
        (format!("policy X \"G\" {{ {pad}A = = }}\n"), "= }"),
        (format!("policy X \"G\" {{ }}\n{pad}assign X \"G\" to user \"nobody@x.edu\"\n"), "\"nobody@x.edu\""),
        // Tabs widen when shown, and wide characters take two columns.
        (format!("policy X \"G\" {{ {}B = true }}\n", "\t".repeat(20_000)), "B = true"),
        (format!("policy X \"{}\" {{ B = true }}\n", "é漢".repeat(20_000)), "B = true"),
    ];
    for (policy, at) in cases {
        let offset = policy.rfind(at).unwrap();
        let line = policy[..offset].matches('\n').count() + 1;
        let column = policy[..offset].rsplit('\n').next().unwrap().chars().count() + 1;
        let text = rendered(&policy, "users:\n  - upn: somebody@x.edu\n");
        let shown: String = text.chars().take(600).collect();
        assert!(text.contains(&format!("long.tenet:{line}:{column}]")), "{line}:{column}: {shown}");
        assert!(text.contains(at) && text.contains('…'), "{shown}");
        assert!(text.lines().all(|l| l.chars().count() < 1_000), "a window, not the line");
    }
    // A name of 100,000 characters: its underline is cut to the window too.
    let key = "K".repeat(100_000);
    let text = rendered(&format!("policy X \"G\" {{ {key} = true }}\n"), "users: []\n");
    assert!(text.contains("long.tenet:1:16]") && text.lines().all(|l| l.chars().count() < 1_000));
    // The directory's diagnostics go through the same renderer.
    let text = rendered("policy X \"G\" { }\n", &format!("users: [{{upn: \"a@x.edu\", {pad}bogus: 1}}]\n"));
    let shown: String = text.chars().take(600).collect();
    assert!(text.contains("directory.yaml:1:") && text.lines().all(|l| l.chars().count() < 1_000), "{shown}");
}
