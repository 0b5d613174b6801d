//! What the fuzz targets share: checking a policy set and rendering its diagnostics the ways
//! `tenet check` and the server do, and running `tenet import` on one fuzzed export file among
//! real ones.
//!
//! The import targets read their input as a file name on the first line and the file's bytes
//! after it (`user.csv\nEmail,First Name,...`), so the fuzzer varies the name as well as the
//! content: the name is how an import tells look-alike exports apart. The file is written into a
//! copy of a real export folder from `tests/fixtures/exports/`, replacing the file of that name
//! if there is one, so cross-file checks (a student an enrollment names, a group a policy is
//! assigned to) run against real data.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use tenet::{Diagnostic, render_human};
use tenet::unstable::directory::{Directory, RawDirectory};
use tenet::unstable::engine::{Report, Sources, check_sources};
use tenet_import::{Options, import, tenant_sources};
use tenet::unstable::model::Model;
use tenet::{Source, SourceMap};

/// Renders diagnostics as `tenet check` prints them: text without and with colour, and JSON.
pub fn render(diagnostics: &[Diagnostic], sources: &SourceMap) {
    std::hint::black_box(render_human(diagnostics, sources, false));
    std::hint::black_box(render_human(diagnostics, sources, true));
    let items: Vec<serde_json::Value> = diagnostics.iter().map(|d| d.to_json(sources)).collect();
    std::hint::black_box(serde_json::json!({ "diagnostics": items }).to_string());
}

/// At most this many decisions of a compiled table are rendered as `tenet table` does, and at
/// most `MAX_EXPLAINED` of them explained one by one.
const MAX_DECISIONS: usize = 5_000;
const MAX_EXPLAINED: usize = 64;

/// Checks `sources` as `tenet check` does and renders the diagnostics; a set that checks is
/// compiled and decided on (see [`decide_and_render`]). Returns the report.
pub fn check_and_render(sources: Sources) -> Report {
    let (model, report) = check_sources(sources);
    render(&report.diagnostics, &report.sources);
    if let Some(model) = model {
        decide_and_render(model);
    }
    report
}

/// Compiles a checked model, runs its expectations, and renders its decisions as `tenet table`
/// (text and CSV), `tenet decide`, `tenet explain` and the JSON output do.
pub fn decide_and_render(model: Model) {
    let table = tenet::unstable::compile::compile(Arc::new(model));
    std::hint::black_box(tenet::unstable::expect::run(&table));
    let decisions = table.all();
    if decisions.len() <= MAX_DECISIONS {
        std::hint::black_box(tenet::output::table_text(&decisions));
        let mut csv = Vec::new();
        let every = tenet::output::RowFilter::default();
        let _ = tenet::output::write_rows(&mut csv, &table, &every, tenet::output::RowFormat::Csv);
        std::hint::black_box(csv);
    }
    for d in decisions.iter().take(MAX_EXPLAINED) {
        std::hint::black_box(tenet::output::one_line(d));
        std::hint::black_box(tenet::output::explain(d));
        std::hint::black_box(serde_json::to_string(&tenet::output::AnswerJson::new(d)).ok());
    }
}

/// A policy set (and its directory) parsed once, that fuzzed files are checked with: parsing the
/// bundled district again on every run would cost more than everything else a target does.
///
/// [`Parsed::check`] does what [`check_sources`] does, with the set's files already parsed: the
/// fuzzed policy file comes after the set's own, then the directory, each with the ranges of
/// personal data `check_sources` marks (taken from the report of a `check_sources` run).
pub struct Parsed {
    sources: SourceMap,
    files: Vec<tenet::unstable::ast::File>,
    directory: Option<Source>,
    /// The set's directory loaded as the file after the set's and one more policy file.
    loaded: OnceLock<Result<Directory, Vec<Diagnostic>>>,
}

impl Parsed {
    /// Parses `sources`, whose policy files must parse.
    pub fn new(sources: Sources) -> Self {
        let n = sources.policies.len();
        let (_, report) = check_sources(sources);
        let mut map = SourceMap::default();
        let mut files = Vec::new();
        let mut directory = None;
        for (id, source) in report.sources.files() {
            if (id.0 as usize) < n {
                match tenet::unstable::syntax::parse(map.add(source.clone()), &source.text) {
                    Ok(file) => files.push(file),
                    Err(_) => panic!("{} does not parse", source.name),
                }
            } else {
                directory = Some(source.clone());
            }
        }
        Parsed { sources: map, files, directory, loaded: OnceLock::new() }
    }

    /// Checks the set with `policies` added after its files and, if given, `directory` in
    /// place of its own, and renders the diagnostics. Returns the model of a set that checks.
    pub fn check(&self, policies: &[Source], directory: Option<DirectoryFile>) -> Option<Model> {
        let mut map = self.sources.clone();
        let mut files = self.files.clone();
        let mut diagnostics = Vec::new();
        for policy in policies {
            let id = map.add(policy.clone());
            match tenet::unstable::syntax::parse(id, &policy.text) {
                Ok(file) => files.push(file),
                Err(mut e) => diagnostics.append(&mut e),
            }
        }
        let loaded = match (directory, &self.directory) {
            (Some(DirectoryFile::Text(d)), _) => Some(tenet::unstable::directory::load(map.add(d.clone()), d.text.clone())),
            (Some(DirectoryFile::InMemory(named, raw)), _) => Some(tenet::unstable::directory::from_raw(map.add(named), raw)),
            // The set's own directory, after one more policy file: loaded once.
            (None, Some(d)) if policies.len() == 1 => {
                let id = map.add(d.clone());
                Some(self.loaded.get_or_init(|| tenet::unstable::directory::load(id, d.text.clone())).clone())
            }
            (None, Some(d)) => Some(tenet::unstable::directory::load(map.add(d.clone()), d.text.clone())),
            (None, None) => None,
        };
        let directory = match loaded {
            Some(Ok(d)) => d,
            Some(Err(mut e)) => {
                diagnostics.append(&mut e);
                Directory::default()
            }
            None => Directory::default(),
        };
        if diagnostics.iter().any(Diagnostic::is_error) {
            tenet::unstable::diagnostic::sort(&mut diagnostics);
            render(&diagnostics, &map);
            return None;
        }
        let checked = tenet::unstable::check::check(map.clone(), &files, directory);
        diagnostics.extend(checked.diagnostics);
        tenet::unstable::diagnostic::sort(&mut diagnostics);
        render(&diagnostics, &map);
        checked.model
    }
}

/// A directory to check a [`Parsed`] set with.
#[derive(Debug)]
pub enum DirectoryFile<'a> {
    /// A directory YAML file.
    Text(&'a Source),
    /// A directory in memory (an import's), and the source that names it in diagnostics.
    InMemory(Source, RawDirectory),
}

/// Fuzz input as text. Policy and directory files are read as UTF-8 (anything else is an error
/// before parsing), so invalid bytes become U+FFFD instead of being thrown away.
pub fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// The base set the `tests/fixtures/check/` fixtures are checked with
/// (`tests/fixtures/check/base/`: policy files in name order, and a directory).
pub fn check_base() -> &'static Parsed {
    static BASE: OnceLock<Parsed> = OnceLock::new();
    BASE.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/check/base");
        let read = |name: &str| {
            let text = std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("can't read {name}: {e}"));
            Source::new(format!("tests/fixtures/check/base/{name}"), text)
        };
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("can't read {}: {e}", dir.display()))
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tenet"))
            .collect();
        names.sort();
        let policies = names.iter().map(|n| read(n)).collect();
        Parsed::new(Sources { policies, directory: tenet::DirectorySource::File(read(tenet::unstable::engine::DIRECTORY_FILE)) })
    })
}

/// The bundled Teams policy pack, without a directory.
pub fn bundled_pack() -> &'static Parsed {
    static PACK: OnceLock<Parsed> = OnceLock::new();
    PACK.get_or_init(|| Parsed::new(Sources::pack()))
}

/// The bundled example district: the pack, the Lakeside tenant and its expectations, the
/// Lakeside directory.
pub fn bundled_district() -> &'static Parsed {
    static DISTRICT: OnceLock<Parsed> = OnceLock::new();
    DISTRICT.get_or_init(|| Parsed::new(Sources::bundled()))
}

/// The bundled Teams policy pack, checked once: what an import reads exports against.
pub fn pack_model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| {
        let (model, report) = check_sources(Sources::pack());
        match model {
            Some(model) => model,
            None => panic!(
                "the bundled pack does not check:\n{}",
                render_human(&report.diagnostics, &report.sources, false)
            ),
        }
    })
}

/// The Teams app ids the Lakeside exports use (Microsoft doesn't publish them).
const PARENTS_APP_ID: &str = "6f1e7c2a-8d3b-4f5e-9a1c-2b3d4e5f6a71";
const APPROVALS_APP_ID: &str = "7c316234-ded0-4f95-8a83-8453d0876592";

/// The real exports a fuzzed file is read among.
#[derive(Debug)]
pub struct Exports {
    /// A short name for the temporary folder.
    pub name: &'static str,
    /// Folders under `tests/fixtures/exports/` whose files are copied, side by side, into the
    /// folder the import reads.
    pub context: &'static [&'static str],
    /// The file name used when the input has no first line.
    pub default_name: &'static str,
}

/// A folder holding a copy of an [`Exports`] context, and the original bytes of each file.
struct Folder {
    dir: PathBuf,
    originals: HashMap<String, Vec<u8>>,
}

impl Folder {
    /// A folder `tenet-fuzz-NAME-PID` in the temporary directory holding the files of
    /// `context` (folders under `tests/fixtures/exports/`).
    fn new(name: &str, context: &[&str]) -> Self {
        let dir = std::env::temp_dir().join(format!("tenet-fuzz-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("can't create {}: {e}", dir.display()));
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/exports");
        let mut originals = HashMap::new();
        for sub in context {
            let from = fixtures.join(sub);
            let entries = std::fs::read_dir(&from).unwrap_or_else(|e| panic!("can't read {}: {e}", from.display()));
            for entry in entries.flatten() {
                let path = entry.path();
                let name = entry.file_name().to_string_lossy().into_owned();
                if !path.is_file() || name.ends_with(".md") {
                    continue;
                }
                let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("can't read {}: {e}", path.display()));
                std::fs::write(dir.join(&name), &bytes).unwrap_or_else(|e| panic!("can't write {name}: {e}"));
                originals.insert(name, bytes);
            }
        }
        Folder { dir, originals }
    }
}

/// Splits an import target's input into a file name (its first line, made safe to use as one)
/// and the file's bytes.
pub fn split_input<'a>(data: &'a [u8], default_name: &str) -> (String, &'a [u8]) {
    let Some(newline) = data.iter().position(|&b| b == b'\n') else {
        return (default_name.to_string(), data);
    };
    let name: String = data[..newline]
        .iter()
        .map(|&b| b as char)
        .filter(|c| c.is_ascii_alphanumeric() || " ._-()".contains(*c))
        .take(80)
        .collect();
    let name = name.trim().to_string();
    let name = if name.is_empty() || name == "." || name == ".." { default_name.to_string() } else { name };
    (name, &data[newline + 1..])
}

/// Runs `tenet import` on the input's file twice: alone in a folder, and among the real exports
/// of `exports`. Each time renders the import report as text and JSON, writes the tenant's files,
/// checks the imported tenant on the bundled pack as `tenet import` does and renders that
/// check's diagnostics.
///
/// Panics if a complete import checks in memory but not as the files the import writes: what
/// `tenet import --out` wrote would then fail `tenet check`.
pub fn import_one(exports: &Exports, data: &[u8]) {
    thread_local! {
        static FOLDERS: std::cell::RefCell<HashMap<&'static str, (Folder, Folder)>> = Default::default();
    }
    let (name, content) = split_input(data, exports.default_name);
    FOLDERS.with(|folders| {
        let mut folders = folders.borrow_mut();
        let (alone, among) = folders.entry(exports.name).or_insert_with(|| {
            (Folder::new(&format!("{}-alone", exports.name), &[]), Folder::new(exports.name, exports.context))
        });
        alone.import(&name, content);
        among.import(&name, content);
    });
}

impl Folder {
    /// Imports the folder with `content` as its file `name`, then puts the folder back.
    fn import(&self, name: &str, content: &[u8]) {
        let path = self.dir.join(name);
        if std::fs::write(&path, content).is_err() {
            return;
        }
        let options = Options {
            parents_app_id: Some(PARENTS_APP_ID.into()),
            approvals_app_id: Some(APPROVALS_APP_ID.into()),
            progress: false,
        };
        let imported = import(std::slice::from_ref(&self.dir), pack_model(), &options);
        match self.originals.get(name) {
            Some(bytes) => std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("can't restore {name}: {e}")),
            None => std::fs::remove_file(&path).unwrap_or_else(|e| panic!("can't remove {name}: {e}")),
        }
        check_import(imported);
    }
}

fn check_import(imported: tenet_import::Imported) {
    let report = &imported.report;
    std::hint::black_box(report.render(false));
    std::hint::black_box(report.render(true));
    std::hint::black_box(serde_json::to_string_pretty(report).ok());
    std::hint::black_box(serde_json::to_string_pretty(&report.with_personal()).ok());
    let _ = std::hint::black_box(imported.orphaned_contacts_file());
    let written = imported.directory_file();
    let (tenant, directory, report) = imported.into_parts();
    // The tenant's sources as `tenet import` checks them, less the pack (parsed once).
    let sources = tenant_sources(Vec::new(), Path::new("exports"), tenant, directory);
    let tenet::DirectorySource::Data { data: raw, named: Some(named) } = sources.directory else { return };
    let raw = *raw;
    let pack = bundled_pack();
    let in_memory = pack.check(&sources.policies, Some(DirectoryFile::InMemory(named, raw)));
    // `tenet import` writes the tenant only when no source is missing and it checks.
    if report.missing() > 0 || in_memory.is_none() {
        return;
    }
    let Ok(written) = written else { return };
    let written = Source::new(tenet::unstable::engine::DIRECTORY_FILE, written);
    if pack.check(&sources.policies, Some(DirectoryFile::Text(&written))).is_none() {
        let mut policies = Sources::pack().policies;
        policies.extend(sources.policies);
        let (_, files) = check_sources(Sources { policies, directory: tenet::DirectorySource::File(written) });
        panic!(
            "the imported tenant checks in memory but not as the files the import writes:\n{}",
            render_human(&files.diagnostics, &files.sources, false)
        );
    }
}
