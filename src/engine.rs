//! The facade: load sources, check, compile once, then decide many times.

use crate::check::{self, Checked};
use crate::diagnostic::{Code, Diagnostic};
use crate::directory::{self, Directory};
use crate::privacy::Privacy;
use crate::source::{FileId, Source, SourceMap};
use crate::table::{Answer, DecisionTable, QueryError};
use crate::{ast, bundle, bundled, compile, syntax};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Name of the directory file found beside policy files when none is named.
pub const DIRECTORY_FILE: &str = "directory.yaml";

/// Where the bundled Teams policy pack lives in the repository.
pub const PACK_DIR: &str = "policies/teams/";

/// Where a policy set comes from.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// Policy files, in load order.
    pub policies: Vec<Source>,
    /// The directory.
    pub directory: DirectorySource,
}

/// Where a policy set's directory comes from.
#[derive(Debug, Clone, Default)]
pub enum DirectorySource {
    /// None: an empty directory (policy files checked on their own).
    #[default]
    None,
    /// A directory file (YAML), parsed and validated with located errors.
    File(Source),
    /// A directory already in memory (an import, a generated district), validated as a file
    /// would be. `named`, if given, is the file diagnostics name (an import's written
    /// `directory.yaml`); otherwise they say `(directory in memory)`.
    Data {
        /// The directory, as the directory file would hold it.
        data: Box<directory::RawDirectory>,
        /// The file diagnostics name, if any.
        named: Option<Source>,
    },
}

impl DirectorySource {
    /// The directory file, if the directory is one.
    pub fn file(&self) -> Option<&Source> {
        match self {
            Self::File(s) => Some(s),
            Self::None | Self::Data { .. } => None,
        }
    }
}

impl Sources {
    /// The bundled example district: the Teams pack and the Lakeside tenant.
    pub fn bundled() -> Self {
        let policies = bundled::POLICIES.iter().map(|(name, text)| Source::new(*name, *text)).collect();
        let directory = DirectorySource::File(Source::new(bundled::DIRECTORY.0, bundled::DIRECTORY.1));
        Self { policies, directory }
    }

    /// The bundled Teams policy pack alone (no tenant, no directory): what imports build on.
    pub fn pack() -> Self {
        let policies = bundled::POLICIES
            .iter()
            .filter(|(name, _)| name.starts_with(PACK_DIR))
            .map(|(name, text)| Source::new(*name, *text))
            .collect();
        Self { policies, directory: DirectorySource::None }
    }

    /// Reads policy files and directories (recursively, `*.tenet` in name order) and the
    /// directory file: `directory` if given, else the `directory.yaml` at the top of a given
    /// directory, else the one below them (`tenet check policies` finds
    /// `policies/examples/lakeside/directory.yaml`; several below is an error naming them).
    /// Unreadable paths become diagnostics.
    pub fn read(paths: &[PathBuf], directory: Option<&Path>) -> (Self, Vec<Diagnostic>) {
        let mut errors = Vec::new();
        let mut files = Vec::new();
        let mut found_directory = None;
        let mut below = Vec::new();
        for path in paths {
            if path.is_dir() {
                let candidate = path.join(DIRECTORY_FILE);
                if directory.is_none() && candidate.is_file() {
                    match &found_directory {
                        None => found_directory = Some(candidate),
                        Some(first) => errors.push(
                            Diagnostic::error(
                                Code::Io,
                                format!("two directory files: `{}` and `{}`", first.display(), candidate.display()),
                            )
                            .help("name the one to use with --directory"),
                        ),
                    }
                }
                collect_dir(path, &mut files, &mut below, &mut Vec::new(), &mut errors);
            } else {
                files.push(path.clone());
            }
        }
        if directory.is_none() && found_directory.is_none() {
            below.retain(|d| !paths.iter().any(|p| p.join(DIRECTORY_FILE) == *d));
            match below.as_slice() {
                [] => {}
                [one] => found_directory = Some(one.clone()),
                several => {
                    let names: Vec<String> = several.iter().map(|d| format!("`{}`", d.display())).collect();
                    errors.insert(
                        0,
                        Diagnostic::error(Code::Io, format!("several directory files below the given folders: {}", names.join(", ")))
                            .help("give the tenant's own folder (the one holding its directory.yaml), or name the file with --directory"),
                    );
                }
            }
        }
        let mut out = Self::default();
        for f in files {
            match read_text(&f, syntax::MAX_FILE_BYTES) {
                Ok(s) => out.policies.push(s),
                Err(e) => errors.push(e),
            }
        }
        if let Some(d) = directory.map(Path::to_path_buf).or(found_directory) {
            match read_text(&d, directory::MAX_DIRECTORY_BYTES) {
                Ok(s) => out.directory = DirectorySource::File(s),
                Err(e) => errors.push(e),
            }
        }
        (out, errors)
    }
}

/// Collects `*.tenet` files below `dir`, and the directory files found on the way. A folder
/// reached again through a link (a loop) is an error and not walked twice; so is a `*.tenet`
/// that is not a regular file (a named pipe would never end).
fn collect_dir(
    dir: &Path,
    files: &mut Vec<PathBuf>,
    directories: &mut Vec<PathBuf>,
    walked: &mut Vec<PathBuf>,
    errors: &mut Vec<Diagnostic>,
) {
    match std::fs::canonicalize(dir) {
        Ok(real) if walked.contains(&real) => {
            errors.push(
                io_error(dir, "it leads back to a folder already read (a symbolic link loop)")
                    .help("remove the link, or point it outside the policy folder"),
            );
            return;
        }
        Ok(real) => walked.push(real),
        Err(e) => {
            errors.push(io_error(dir, &e.to_string()));
            return;
        }
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            errors.push(io_error(dir, &e.to_string()));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            collect_dir(&p, files, directories, walked, errors);
        } else if p.extension().is_some_and(|e| e == "tenet") {
            files.push(p);
        } else if p.file_name().is_some_and(|n| n == DIRECTORY_FILE) {
            directories.push(p);
        }
    }
    walked.pop();
}

/// Reads a file of at most `limit` bytes: only a regular file (a device such as `/dev/zero` or a
/// named pipe would never end), and never more than the limit and one byte.
fn read_text(path: &Path, limit: usize) -> Result<Source, Diagnostic> {
    use std::io::Read as _;
    let name = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| io_error(path, &e.to_string()))?;
    if !meta.is_file() {
        return Err(io_error(path, "not a regular file (a device, a pipe or a socket)"));
    }
    // Sized from the file's length: grown by doubling, a 550 MB directory was copied and its
    // pages faulted in several times over (a third of `tenet check`'s time at 100,000 users).
    let expected = usize::try_from(meta.len()).unwrap_or(usize::MAX).min(limit) + 1;
    let mut bytes = Vec::with_capacity(expected);
    std::fs::File::open(path)
        .and_then(|f| f.take(limit as u64 + 1).read_to_end(&mut bytes))
        .map_err(|e| io_error(path, &e.to_string()))?;
    if bytes.len() > limit {
        return Err(Diagnostic::error(
            Code::InputTooLarge,
            format!("`{}` is over the limit of {}", path.display(), crate::diagnostic::size(limit)),
        )
        .help("split the policy set into several files, or check that this is the file you meant"));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        io_error(path, &format!("not valid UTF-8 (first bad byte at offset {})", e.utf8_error().valid_up_to()))
    })?;
    Ok(Source::new(name, text))
}

fn io_error(path: &Path, why: &str) -> Diagnostic {
    Diagnostic::error(Code::Io, format!("can't read `{}`: {why}", path.display()))
        .help("check the path; policy files end in `.tenet`, the directory is a YAML file")
}

/// Everything known after checking: the sources (to render diagnostics) and the diagnostics.
#[derive(Debug)]
pub struct Report {
    /// Every file read, for rendering the diagnostics with their snippets.
    pub sources: SourceMap,
    /// Errors and warnings, sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
}

impl Report {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Parses and checks sources; returns the checked model (if no errors) and the report.
pub fn check_sources(sources: Sources) -> (Option<crate::model::Model>, Report) {
    let mut map = SourceMap::default();
    let mut diagnostics = Vec::new();
    let mut files: Vec<ast::File> = Vec::new();
    // What messages may show, when it is learned before the directory is whole (else the
    // directory says).
    let mut learned_privacy = None;
    for s in sources.policies {
        let text = s.text.clone();
        let id = map.add(s);
        match syntax::parse(id, &text) {
            Ok(f) => files.push(f),
            Err(mut e) => diagnostics.append(&mut e),
        }
    }
    let directory = match sources.directory {
        DirectorySource::Data { data, named } => {
            let id = map.add(named.unwrap_or_else(|| Source::new("(directory in memory)", "")));
            // Learned from the entries as given: the same as the directory's own when they
            // validate (every user and guardian kept), and all there is when they don't.
            learned_privacy = Some(data.privacy());
            directory::from_raw(id, *data).unwrap_or_else(|mut e| {
                diagnostics.append(&mut e);
                Directory::default()
            })
        }
        DirectorySource::File(s) => {
            let text = s.text.clone();
            let id: FileId = map.add(s);
            match directory::load(id, text.clone()) {
                Ok(d) => d,
                Err(mut e) => {
                    diagnostics.append(&mut e);
                    learned_privacy = Some(directory::privacy_of_text(&text));
                    Directory::default()
                }
            }
        }
        DirectorySource::None => Directory::default(),
    };
    map.set_privacy(privacy(learned_privacy.unwrap_or_else(|| directory.privacy()), &files));
    if diagnostics.iter().any(Diagnostic::is_error) {
        // Name resolution over a partial set would only add noise.
        crate::diagnostic::sort(&mut diagnostics);
        return (None, Report { sources: map, diagnostics });
    }
    let Checked { model, diagnostics: mut more } = check::check(map.clone(), &files, directory);
    diagnostics.append(&mut more);
    crate::diagnostic::sort(&mut diagnostics);
    (model, Report { sources: map, diagnostics })
}

/// What messages about these files may show: emails at the directory's user domains, but no
/// guardian's email, whether the directory or an `expect` line names them. Without a
/// directory no email is shown (see [`crate::privacy`]).
fn privacy(mut privacy: Privacy, files: &[ast::File]) -> Privacy {
    for item in files.iter().flat_map(|f| &f.items) {
        if let ast::Item::Expect(ast::Expectation { guardian: Some(g), .. }) = item {
            privacy.guardian_email(&g.name);
        }
    }
    privacy
}

/// A phase of [`Engine::build_observed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Parsing and checking the policy files and the directory.
    Checking,
    /// Compiling the checked model into the decision table.
    Compiling,
}

/// A compiled policy set, ready for queries. Cheap to clone: the table is shared.
#[derive(Debug, Clone)]
pub struct Engine {
    table: Arc<DecisionTable>,
}

impl From<Arc<DecisionTable>> for Engine {
    /// The engine of a table already compiled (a server's served table, say).
    fn from(table: Arc<DecisionTable>) -> Self {
        Self { table }
    }
}

impl Engine {
    /// Checks and compiles. On errors, returns the report with every diagnostic.
    pub fn build(sources: Sources) -> Result<(Engine, Report), Report> {
        Self::build_as_of(sources, None)
    }

    /// Like [`Self::build`], evaluating the tenant as of `day` (see [`crate::as_of`]) if given.
    pub fn build_as_of(sources: Sources, day: Option<jiff::civil::Date>) -> Result<(Engine, Report), Report> {
        Self::build_observed(sources, day, &mut |_| {})
    }

    /// Like [`Self::build_as_of`], telling `on_phase` as each phase starts: for a progress
    /// display, since a district of 100,000 users takes seconds.
    pub fn build_observed(
        sources: Sources,
        day: Option<jiff::civil::Date>,
        on_phase: &mut dyn FnMut(Phase),
    ) -> Result<(Engine, Report), Report> {
        on_phase(Phase::Checking);
        match check_sources(sources) {
            (Some(mut model), mut report) => {
                if let Some(day) = day
                    && let Err(e) = crate::as_of::apply(&mut model, day)
                {
                    report.diagnostics.push(e);
                    return Err(report);
                }
                on_phase(Phase::Compiling);
                let table = compile::compile(Arc::new(model));
                Ok((Engine { table: Arc::new(table) }, report))
            }
            (None, report) => Err(report),
        }
    }

    /// This engine with a change script applied (Teams PowerShell cmdlet lines, see
    /// [`crate::unstable::change`]): a new engine to compare with this one. On errors, the
    /// report locates each refused line in the script.
    pub fn with_changes(&self, script: Source) -> Result<Engine, Report> {
        match crate::unstable::change::applied(self.table.model(), script) {
            Ok(model) => Ok(Engine { table: Arc::new(compile::compile(Arc::new(model))) }),
            Err((sources, diagnostics)) => Err(Report { sources, diagnostics }),
        }
    }

    /// This engine with the steps of a `tenet fix` suggestion made, plain actions included
    /// (a licence, a class team's owner, a guardian's record): a new engine to compare with this
    /// one.
    pub fn with_steps(&self, steps: &[crate::fix::Step]) -> Result<Engine, Report> {
        match crate::fix::apply(self.table.model(), steps) {
            Ok(model) => Ok(Engine { table: Arc::new(compile::compile(Arc::new(model))) }),
            Err((sources, diagnostics)) => Err(Report { sources, diagnostics }),
        }
    }

    /// Writes this engine as a bundle (see [`crate::bundle`]): checked and compiled, to load in
    /// milliseconds with [`Self::from_bundle`].
    pub fn write_bundle(&self, out: &mut impl std::io::Write) -> std::io::Result<bundle::Info> {
        bundle::write(&self.table, out)
    }

    /// The engine a bundle holds, without checking or compiling again; with what its header
    /// says. Another version's bundle, a truncated or a damaged one is an error.
    pub fn from_bundle(bytes: &[u8]) -> Result<(Engine, bundle::Info), bundle::BundleError> {
        bundle::read(bytes).map(|(table, info)| (Engine { table }, info))
    }

    /// [`Self::from_bundle`], reading the file.
    pub fn from_bundle_file(path: &Path) -> Result<(Engine, bundle::Info), bundle::BundleError> {
        bundle::read_file(path).map(|(table, info)| (Engine { table }, info))
    }

    /// The bundled example district.
    pub fn bundled() -> Result<(Engine, Report), Report> {
        Self::build(Sources::bundled())
    }

    /// The compiled table: for handles, every query at once, and counts.
    pub fn table(&self) -> &Arc<DecisionTable> {
        &self.table
    }

    /// Answers one question: may `user` (a UPN) do `decision` (with `guardian`, an id, for the
    /// decisions about a guardian)? Names are matched as the directory spells them, ASCII
    /// letters in any case.
    pub fn decide(&self, user: &str, decision: &str, guardian: Option<&str>) -> Result<Answer<'_>, QueryError> {
        self.table.decide(user, decision, guardian)
    }
}
