//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};
use tenet::Source;
use tenet::render_human;
use tenet::{Engine, Sources};

/// The repository's top folder (the suite belongs to `crates/tenet-cli`).
pub fn repo() -> PathBuf {
    let top = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    top.canonicalize().unwrap_or(top)
}

/// Builds an engine from in-memory policy text and directory YAML, failing the test with the
/// rendered diagnostics if it does not check.
pub fn engine(policies: &[(&str, &str)], directory: &str) -> Engine {
    let sources = Sources {
        policies: policies.iter().map(|(n, t)| Source::new(*n, *t)).collect(),
        directory: tenet::DirectorySource::File(Source::new("directory.yaml", directory)),
    };
    match Engine::build(sources) {
        Ok((e, _)) => e,
        Err(report) => panic!("does not check:\n{}", render_human(&report.diagnostics, &report.sources, false)),
    }
}

/// Reads a file relative to the repository.
pub fn read(path: impl AsRef<Path>) -> String {
    std::fs::read_to_string(repo().join(path.as_ref())).unwrap_or_else(|e| panic!("{}: {e}", path.as_ref().display()))
}

/// A generated district (`tenet gen`'s) on the bundled pack, built.
pub fn generated(seed: u64, users: usize) -> Engine {
    let d = tenet::unstable::generate::district(tenet::unstable::generate::Spec { users, seed });
    let pack: Vec<(String, String)> = Sources::bundled()
        .policies
        .iter()
        .filter(|s| s.name.starts_with("policies/teams/"))
        .map(|s| (s.name.to_string(), s.text.to_string()))
        .collect();
    let mut files: Vec<(&str, &str)> = pack.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    files.push(("tenant.tenet", &d.tenant));
    engine(&files, &d.directory_yaml().expect("the directory serialises"))
}

/// Asserts the compiled table and the reference evaluator agree on every query, outcome and
/// provenance alike; returns how many queries were compared.
pub fn assert_agreement(engine: &Engine) -> usize {
    let table = engine.table();
    let model = table.model();
    let mut n = 0;
    for (u, d, g) in table.every_query() {
        let compiled = table.decide_handles(u, d, g).unwrap_or_else(|e| panic!("query failed: {e}"));
        let reference = tenet::unstable::eval::evaluate(model, u.id(), d.index(), g.map(|g| g.id()));
        let who = format!(
            "user {} decision {} guardian {:?}",
            table.user_at(u).upn(),
            model.decisions[d.index()].name,
            g.map(|g| table.guardian_at(g).id().to_string())
        );
        assert_eq!(compiled.outcome, &reference, "outcome differs for {who}\n{}", table.dump());
        let reference_prov = tenet::unstable::eval::provenance(model, u.id(), d.index(), g.map(|g| g.id()));
        assert_eq!(compiled.provenance(), reference_prov, "provenance differs for {who}");
        n += 1;
    }
    // The guardians `table` lists for a user are exactly those linked to the user.
    let dir = &model.directory;
    for (u, u_entry) in dir.users() {
        let user = table.user(u_entry.upn()).unwrap();
        let listed: Vec<usize> = table.guardians_of(user).iter().map(|g| g.index()).collect();
        let linked: Vec<usize> = dir
            .guardians()
            .filter(|(_, g)| {
                g.links().iter().any(|l| {
                    l.student == u
                        || dir.class_teams().any(|(_, c)| c.owners.contains(&u) && c.students.contains(&l.student))
                })
            })
            .map(|(i, _)| i.index())
            .collect();
        assert_eq!(listed, linked, "guardians of {}", u_entry.upn());
    }
    n
}

/// A scratch folder under the temp dir, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    /// A copy of `from` (relative to the repository).
    pub fn copy(from: &str, name: &str) -> Scratch {
        let dir = Self::empty(name).0.clone();
        copy_dir(&repo().join(from), &dir);
        Scratch(dir)
    }

    /// A new empty folder.
    pub fn empty(name: &str) -> Scratch {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("tenet-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    /// Edits a file of the copy; the edit must change something.
    pub fn edit(&self, file: &str, edit: impl Fn(&str) -> String) {
        let path = self.0.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        let edited = edit(&text);
        assert_ne!(edited, text, "the edit of {file} changed nothing");
        std::fs::write(path, edited).unwrap();
    }

    pub fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let target = to.join(p.file_name().unwrap());
        if p.is_dir() { copy_dir(&p, &target) } else { std::fs::copy(&p, &target).map(drop).unwrap() }
    }
}
