//! Imports a district's real admin state — Teams PowerShell exports, Microsoft Graph JSON,
//! School Data Sync CSV, approved contact updates — as a tenant `tenet` can check and decide on.
//!
//! Files under the `--from` directories are recognised by what they hold ([`recognise`]), read
//! in dependency order into a [`Draft`], and written as a policy file and a directory file.
//! Every file gets a section in the [`ImportReport`]: what was read, used, ignored, rejected, and
//! why. Nothing is dropped without a line in the report.

pub mod draft;
pub mod json;
pub mod recognise;
pub mod report;
pub mod sources;
pub mod text;
mod write;

mod approvals;
mod contact;
mod graph;
mod sds;
mod supplement;
mod teams;

pub use draft::Draft;
pub use report::{At, FileReport, ImportReport, Problem, Severity};

use std::path::{Path, PathBuf};
use tenet::Source;
use tenet::unstable::directory::RawDirectory;
use tenet::unstable::model::Model;
use tenet::{DirectorySource, Sources};

/// Choices an export can't carry.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The Teams app id of Parents. Microsoft doesn't publish it, and exports name apps by id
    /// only, so app permission policies and the app catalog are matched against this id.
    pub parents_app_id: Option<String>,
    /// The Teams app id of Approvals, for the same reason.
    pub approvals_app_id: Option<String>,
    /// Told, a few times a second, how far the reading has got (for a progress bar).
    pub progress: Option<OnProgress>,
}

/// How far an import's reading has got.
#[derive(Debug, Clone)]
pub struct Reading {
    /// Bytes of the export files read so far.
    pub read: u64,
    /// Bytes of all the export files found.
    pub total: u64,
    /// The file being read (and how many more of its kind).
    pub files: String,
}

/// A callback for [`Reading`] updates; called from a thread of the import's own.
#[derive(Clone)]
pub struct OnProgress(pub std::sync::Arc<dyn Fn(&Reading) + Send + Sync>);

impl std::fmt::Debug for OnProgress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OnProgress")
    }
}

/// One file found under a `--from` directory.
#[derive(Debug, Clone)]
pub struct Found {
    pub path: PathBuf,
    /// The path shown in reports: relative to the `--from` directory, with `/` separators.
    pub shown: String,
    pub kind: Kind,
}

/// What a file is, by its content (see [`recognise`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// Microsoft Graph `/groups?$expand=members` pages.
    GraphGroups,
    /// Microsoft Graph `/directoryRoles?$expand=members` pages (Global and Teams admins).
    GraphDirectoryRoles,
    /// A Teams PowerShell export.
    Teams(teams::Cmdlet),
    /// A School Data Sync CSV file, v1 or v2.1: the format's name for it (`users.csv`,
    /// `user.csv`…), or `""` to go by the file's name.
    Sds(&'static str),
    /// Microsoft Graph educationUser pages with `relatedContacts`.
    GraphRelatedContacts,
    /// Manual contact updates and their approvals (`approvals.csv`).
    Approvals,
    /// What no export carries (`supplement.yaml`).
    Supplement,
}

/// An imported tenant and the report of its import.
#[derive(Debug, Clone)]
pub struct Imported {
    pub draft: Draft,
    pub report: ImportReport,
}

/// Name of the policy file an import writes.
pub const TENANT_FILE: &str = "tenant.tenet";

/// Name of the `n`-th policy file an import writes (from 1): `tenant.tenet`, then
/// `tenant-2.tenet`… for the direct assignments of a district too large for one file.
pub fn tenant_file_name(n: usize) -> String {
    if n <= 1 { TENANT_FILE.to_string() } else { format!("tenant-{n}.tenet") }
}
/// Name of the file listing approved contacts whose student is gone.
pub const ORPHANS_FILE: &str = "orphaned-contacts.yaml";

impl Imported {
    /// What the report may show of the imported people: emails at the users' domains, never a
    /// guardian's email or phone (see [`tenet::unstable::privacy`]).
    pub fn privacy(&self) -> tenet::unstable::privacy::Privacy {
        let mut privacy = tenet::unstable::privacy::Privacy::default();
        for user in self.draft.users.values() {
            privacy.user(&user.upn);
        }
        for (id, guardian) in self.draft.guardians.iter().chain(self.draft.orphaned_contacts.iter().map(|g| (&g.id, g)))
        {
            privacy.guardian_email(id);
            if let Some(email) = &guardian.email {
                privacy.guardian_email(email);
            }
        }
        privacy
    }

    /// The tenant as policy files, each with its name (see [`tenant_file_name`]): one file
    /// unless the district's direct assignments don't fit under the limit on a file's size.
    pub fn tenant_files(&self) -> Vec<(String, String)> {
        self.tenant_files_within(tenet::unstable::syntax::MAX_FILE_BYTES)
    }

    /// Like [`Self::tenant_files`], with direct assignments continued in a new file whenever a
    /// file would grow past `limit` bytes.
    pub fn tenant_files_within(&self, limit: usize) -> Vec<(String, String)> {
        let files = write::tenant_files(&self.draft, HEADER, limit);
        files.into_iter().enumerate().map(|(i, text)| (tenant_file_name(i + 1), text)).collect()
    }

    /// The directory as a YAML file `tenet check` reads.
    pub fn directory_file(&self) -> std::io::Result<String> {
        let mut out = Vec::new();
        self.write_directory(&mut out)?;
        String::from_utf8(out).map_err(std::io::Error::other)
    }

    /// Writes the directory file to `out` as it is serialised (no copy of it in memory).
    pub fn write_directory(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        write_directory_file(&self.directory(), out)
    }

    /// The directory as the directory file holds it, without writing the file.
    pub fn directory(&self) -> RawDirectory {
        write::into_raw_directory(self.draft.clone())
    }

    /// Approved contacts whose student was deleted (Teams keeps them), or `None` if there are
    /// none. Holds contact details: written only where the admin asked for output.
    pub fn orphaned_contacts_file(&self) -> Result<Option<String>, serde_yaml::Error> {
        if self.draft.orphaned_contacts.is_empty() {
            return Ok(None);
        }
        write::orphans_file(&self.draft, HEADER).map(Some)
    }

    /// The imported tenant on top of `pack` (the policy pack it was imported for): see
    /// [`tenant_sources`].
    pub fn sources(&self, pack: Vec<Source>, from: &Path) -> Sources {
        tenant_sources(pack, from, self.tenant_files(), self.directory())
    }

    /// Like [`Self::sources`], taking the draft instead of copying it.
    pub fn into_sources(self, pack: Vec<Source>, from: &Path) -> Sources {
        let (tenant, directory, _) = self.into_parts();
        tenant_sources(pack, from, tenant, directory)
    }

    /// The tenant files, the directory (taking the draft's strings) and the report.
    pub fn into_parts(self) -> (Vec<(String, String)>, RawDirectory, ImportReport) {
        let tenant = self.tenant_files();
        (tenant, write::into_raw_directory(self.draft), self.report)
    }
}

/// An imported tenant (its policy files, by name and text, and its directory) on top of `pack`,
/// as sources named after the first `--from` directory. The directory stays in memory: a district
/// of a million users is not written out as YAML only to be parsed again.
pub fn tenant_sources(
    pack: Vec<Source>,
    from: &Path,
    tenant: Vec<(String, String)>,
    directory: RawDirectory,
) -> Sources {
    let mut policies = pack;
    for (name, text) in tenant {
        policies.push(Source::new(format!("{} (imported {name})", from.display()), text));
    }
    let named = Source::new(format!("{} (imported {})", from.display(), tenet::unstable::engine::DIRECTORY_FILE), "");
    Sources { policies, directory: DirectorySource::Data { data: Box::new(directory), named: Some(named) } }
}

/// Writes a directory file: the header, then the YAML, serialised straight to `out`.
pub fn write_directory_file(directory: &RawDirectory, out: &mut impl std::io::Write) -> std::io::Result<()> {
    write::directory_file(directory, HEADER, out)
}

const HEADER: &str = "Written by `tenet import` from exports of the tenant's admin state.\nEdit the exports and import again rather than editing this file.";

/// Imports every file found under `dirs` for the policy `pack` (checked, so its policy types
/// and configuration objects say which properties are settings and of what type).
pub fn import(dirs: &[PathBuf], pack: &Model, options: &Options) -> Imported {
    let mut report = ImportReport::default();
    let mut files = Vec::new();
    for dir in dirs {
        find(dir, dir, &mut files, &mut Vec::new(), &mut report);
    }
    files.sort_by(|a, b| a.kind.cmp(&b.kind).then_with(|| a.path.cmp(&b.path)));
    let mut draft = Draft::default();
    let total: u64 = files.iter().filter_map(|f| std::fs::metadata(&f.path).ok()).map(|m| m.len()).sum();
    let progress = Progress::new(options.progress.clone(), total);
    let of = |kind: fn(&Kind) -> bool| {
        let chosen: Vec<Found> = files.iter().filter(|f| kind(&f.kind)).cloned().collect();
        progress.reading(&chosen);
        chosen
    };
    std::thread::scope(|scope| {
        if progress.on.is_some() {
            scope.spawn(|| progress.report_until_done());
        }
        graph::read_groups(&of(|k| *k == Kind::GraphGroups), &mut draft, &mut report);
        graph::read_directory_roles(&of(|k| *k == Kind::GraphDirectoryRoles), &mut draft, &mut report);
        let ids = teams::read(&of(|k| matches!(k, Kind::Teams(_))), pack, options, &mut draft, &mut report);
        sds::read(&of(|k| matches!(k, Kind::Sds(_))), &mut draft, &mut report);
        graph::read_related_contacts(&of(|k| *k == Kind::GraphRelatedContacts), &mut draft, &mut report);
        // The supplement may set the School Data Sync sync time that approvals are compared with.
        let supplements = of(|k| *k == Kind::Supplement);
        supplement::read_sync_time(&supplements, &mut draft, &mut report);
        approvals::read(&of(|k| *k == Kind::Approvals), &mut draft, &mut report);
        supplement::read(&supplements, pack, &mut draft, &mut report);
        sources::settle(&files, &ids, pack, &mut draft, &mut report);
        progress.finish();
    });
    Imported { draft, report }
}

/// How far the reading has got: bytes of the export files read so far, of all, and which files
/// are being read, told to the caller's callback a few times a second from a thread of its own.
struct Progress {
    on: Option<OnProgress>,
    total: u64,
    /// Bytes counted before this import started (the counter is per process).
    start: u64,
    state: std::sync::Mutex<(String, bool)>,
    wake: std::sync::Condvar,
}

impl Progress {
    fn new(on: Option<OnProgress>, total: u64) -> Self {
        let state = std::sync::Mutex::new((String::new(), false));
        Self { on, total, start: text::bytes_read(), state, wake: std::sync::Condvar::new() }
    }

    fn reading(&self, files: &[Found]) {
        if let (Some(_), Some(first), Ok(mut state)) = (&self.on, files.first(), self.state.lock()) {
            let more = if files.len() > 1 { format!(" and {} more", files.len() - 1) } else { String::new() };
            state.0 = format!("{}{more}", first.shown);
        }
    }

    fn finish(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.1 = true;
        }
        self.wake.notify_all();
    }

    fn report_until_done(&self) {
        let (Some(on), Ok(mut state)) = (&self.on, self.state.lock()) else { return };
        while !state.1 {
            let read = text::bytes_read().saturating_sub(self.start).min(self.total);
            (on.0)(&Reading { read, total: self.total, files: state.0.clone() });
            match self.wake.wait_timeout(state, std::time::Duration::from_millis(100)) {
                Ok((s, _)) => state = s,
                Err(_) => return,
            }
        }
        (on.0)(&Reading { read: self.total, total: self.total, files: String::new() });
    }
}

/// Finds the files under `dir`, recursively, and recognises each: an export, or a line at the
/// top of the report saying why it is not read. A folder reached again through a link (a loop)
/// is listed, not walked twice.
fn find(root: &Path, dir: &Path, out: &mut Vec<Found>, walked: &mut Vec<PathBuf>, report: &mut ImportReport) {
    let shown_dir = || dir.strip_prefix(root).unwrap_or(dir).to_string_lossy().replace('\\', "/");
    match std::fs::canonicalize(dir) {
        Ok(real) if walked.contains(&real) => {
            let reason = "a link back to a folder already read (a symbolic link loop): not read again".to_string();
            report.not_exports.push(report::NotExport { file: shown_dir(), reason, error: false });
            return;
        }
        Ok(real) => walked.push(real),
        Err(_) => {}
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            let shown = dir.display().to_string();
            report.file(&shown, "directory").note(
                Problem::error(At::file(), format!("can't read the directory: {e}"))
                    .help("check the path given to --from / --import"),
            );
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            find(root, &path, out, walked, report);
            continue;
        }
        let shown = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().replace('\\', "/");
        if !path.is_file() {
            report.not_exports.push(report::NotExport {
                file: shown,
                reason: "not a regular file".into(),
                error: false,
            });
            continue;
        }
        match recognise::recognise(&path) {
            recognise::Verdict::Export(kind) => out.push(Found { path, shown, kind }),
            recognise::Verdict::NotAnExport { reason, damaged } => {
                report.not_exports.push(report::NotExport { file: shown, reason, error: damaged });
            }
        }
    }
    walked.pop();
}

/// What a file is by its lower-cased name alone (see [`recognise::by_name`]).
#[cfg(test)]
fn classify(name: &str) -> Option<Kind> {
    let path = Path::new(name);
    recognise::by_name(path, &recognise::words(path))
}

/// The repository's top folder, where the tests' fixtures are.
#[cfg(test)]
pub(crate) fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_told_apart_by_name() {
        assert_eq!(classify("users.csv"), Some(Kind::Sds("users.csv")));
        assert_eq!(classify("guardianrelationship.csv"), Some(Kind::Sds("guardianrelationship.csv")));
        assert_eq!(classify("approvals.csv"), Some(Kind::Approvals));
        assert_eq!(classify("groups.json"), Some(Kind::GraphGroups));
        assert_eq!(classify("groups-2.json"), Some(Kind::GraphGroups));
        assert_eq!(classify("relationships (1).csv"), Some(Kind::Sds("relationships.csv")));
        assert_eq!(classify("directoryroles.json"), Some(Kind::GraphDirectoryRoles));
        assert_eq!(classify("educationusers.1.json"), Some(Kind::GraphRelatedContacts));
        assert_eq!(classify("supplement.yaml"), Some(Kind::Supplement));
        assert_eq!(classify("notes.txt"), None);
        assert!(matches!(classify("get-csonlineuser.json"), Some(Kind::Teams(_))));
        assert!(matches!(classify("csonlineuser.json"), Some(Kind::Teams(_))));
    }
}
