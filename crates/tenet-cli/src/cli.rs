//! The command line: parses arguments, calls the library, renders results, picks exit codes.

use crate::progress::Progress;
use crate::{counts, fix, snapshot, what_if};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use tenet::QueryError;
use tenet::output::{self, AnswerJson};
use tenet::unstable::engine::{DirectorySource, Engine, Report, Sources, check_sources};
use tenet::unstable::privacy::Privacy;
use tenet::{Diagnostic, render_human};

/// Exit codes other tools rely on.
pub mod exit {
    pub const OK: u8 = 0;
    pub const INPUT: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const DENY: u8 = 3;
}

#[derive(Debug, Parser)]
#[command(name = "tenet", version, about = "Who can use the Teams Parent Connection, and why", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Show guardians' emails and phone numbers in messages (diagnostics, import reports);
    /// without it they read `<contact hidden>` there
    #[arg(long, global = true)]
    show_contacts: bool,
    /// No progress line on stderr (it is drawn only on a terminal anyway)
    #[arg(long, short, global = true)]
    quiet: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Parse and check policy files (or an import); report every error and warning
    Check {
        /// Policy files or directories (default: the bundled example district)
        paths: Vec<PathBuf>,
        #[command(flatten)]
        input: Input,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Decide one question: can this user do this (with this guardian)?
    Decide(Query),
    /// Decide and explain: the deciding rule, every blocker, and where each setting came from
    Explain(Query),
    /// Run the policy set's `expect` lines (policy tests), and with --snapshot compare every
    /// decision with a snapshot file; exit 1 if any expectation fails or any decision changed
    Test {
        #[command(flatten)]
        input: Input,
        /// A snapshot written by `tenet snapshot`: list every decision that differs, with why
        #[arg(long, value_name = "FILE")]
        snapshot: Option<PathBuf>,
        /// Accept the changes: rewrite the snapshot file (created if missing)
        #[arg(long, requires = "snapshot")]
        update: bool,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Every decision the Teams PowerShell lines in FILE would change, over every user, with the
    /// setting or assignment that flips each; exit 0 when none changes, 3 when some do
    WhatIf {
        /// The cmdlet lines to try (Set-/New-/Grant-Cs…, New-/Remove-CsGroupPolicyAssignment,
        /// Update-M365TeamsApp)
        #[arg(long, value_name = "FILE.ps1")]
        change: PathBuf,
        #[command(flatten)]
        input: Input,
        #[arg(long, value_enum, default_value_t = TableFormat::Text)]
        format: TableFormat,
    },
    /// The smallest changes that would allow a denied decision: cmdlet lines `what-if` reads, or
    /// plain actions, each verified and ranked by how many other users' decisions it changes.
    /// With several --user or a --role: one change set for all of them who are denied
    Fix {
        /// The user's UPN; repeat for several
        #[arg(long = "user", value_name = "UPN", required_unless_present = "role")]
        users: Vec<String>,
        /// Every user with this role in the directory (such as `teacher`)
        #[arg(long, value_name = "ROLE")]
        role: Option<String>,
        /// The decision to allow, such as `chat_with_guardians`
        #[arg(long)]
        decision: String,
        /// The guardian's id, for guardian decisions (one user only)
        #[arg(long)]
        guardian: Option<String>,
        /// Most suggestions to verify and show
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..=50))]
        max: u16,
        #[command(flatten)]
        input: Input,
        /// `ps1` prints the best suggestion as a script for `tenet what-if --change`
        #[arg(long, value_enum, default_value_t = FixFormat::Text)]
        format: FixFormat,
    },
    /// Every decision that differs between two policy sets, imports or snapshots, with why;
    /// exit 0 when none does, 3 when some do
    Diff {
        /// The state before: a snapshot file, a bundle, or policy files and folders and a
        /// directory `.yaml` (repeatable)
        #[arg(long, value_name = "PATH", required_unless_present = "before_import")]
        before: Vec<PathBuf>,
        /// The state before, imported from exports under DIR (repeatable)
        #[arg(long, value_name = "DIR")]
        before_import: Vec<PathBuf>,
        /// The state after: a snapshot file, a bundle, or policy files and folders and a
        /// directory `.yaml` (repeatable)
        #[arg(long, value_name = "PATH", required_unless_present = "after_import")]
        after: Vec<PathBuf>,
        /// The state after, imported from exports under DIR (repeatable)
        #[arg(long, value_name = "DIR")]
        after_import: Vec<PathBuf>,
        #[command(flatten)]
        options: ImportArgs,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Write every decision of the district as a snapshot to review and commit (guardians by
    /// pseudonym unless --show-contacts)
    Snapshot {
        #[command(flatten)]
        input: Input,
        /// The file to write (default: standard output)
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Serve decisions over HTTP (JSON), on loopback by default
    Serve {
        #[command(flatten)]
        input: Input,
        /// Address to listen on (port 0 picks a free port)
        #[arg(long, default_value = "127.0.0.1:8181")]
        addr: std::net::SocketAddr,
        /// Largest request body in bytes
        #[arg(long, default_value_t = 1024 * 1024)]
        max_body: usize,
        /// Most queries in one batch request
        #[arg(long, default_value_t = 10_000)]
        max_batch: usize,
        /// Reload when a source path changes (SIGHUP always reloads)
        #[arg(long)]
        watch: bool,
        /// File holding a bearer token required on every route but /healthz
        #[arg(long, value_name = "FILE")]
        token_file: Option<PathBuf>,
        /// Request log format on stderr
        #[arg(long, value_enum, default_value_t = LogFormat::Human)]
        log_format: LogFormat,
    },
    /// Check and compile the district once and write it as one bundle file: every command that
    /// decides (`decide`, `explain`, `table`, `serve`, …) loads it with --bundle in milliseconds
    Build {
        #[command(flatten)]
        input: Input,
        /// The file to write, such as `district.bundle` (replaced whole, never half written)
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Write a synthetic district (tenant.tenet + directory.yaml) for the Teams pack
    Gen {
        /// Number of users
        #[arg(long, default_value_t = 1000)]
        users: usize,
        /// Random seed: the same seed and size give the same files
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output directory (created if missing)
        #[arg(long)]
        out: PathBuf,
    },
    /// Import a tenant from exports: write tenant.tenet and directory.yaml, report every row
    Import {
        /// A directory of exports (searched recursively); repeat for several
        #[arg(long = "from", value_name = "DIR", required = true)]
        from: Vec<PathBuf>,
        /// Where to write the tenant (created if missing)
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// The policy pack the tenant is imported for (default: the bundled Teams pack)
        #[arg(long = "policies", value_name = "PATH")]
        policies: Vec<PathBuf>,
        #[command(flatten)]
        options: ImportArgs,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Every user × every decision (guardian decisions for each guardian the user deals with),
    /// written as it is decided; the filters narrow it
    Table {
        #[command(flatten)]
        input: Input,
        #[command(flatten)]
        filter: RowArgs,
        #[arg(long, value_enum, default_value_t = TableFormat::Text)]
        format: TableFormat,
    },
    /// Counts: allowed and denied per decision, and the blockers and warnings by how many users
    /// each stops; the filters narrow what is counted
    Summary {
        #[command(flatten)]
        input: Input,
        #[command(flatten)]
        filter: RowArgs,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Write the district as one HTML page to open in a browser: counts and charts, a
    /// who-can-what matrix to filter and sort, the blockers ranked with their fixes, each user's
    /// explanation, guardian data checks (by pseudonym unless --show-contacts) and the sources
    Report {
        #[command(flatten)]
        input: Input,
        /// The file to write, such as `report.html`
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// How many of the blockers that stop the most users get a verified smallest fix (each
        /// is one `tenet fix`: about a second at 10,000 users)
        #[arg(long, default_value_t = 5, value_name = "N")]
        fixes: usize,
        /// Most explanations of denied answers to embed (the rest name the command that explains them)
        #[arg(long, default_value_t = 2000, value_name = "N")]
        explanations: usize,
    },
    /// The users of one decision (--decision NAME), each with name, role, verdict and the deciding
    /// reason; --denied lists those denied at least once, --allowed those never denied
    Who {
        #[command(flatten)]
        input: Input,
        #[command(flatten)]
        filter: RowArgs,
        #[arg(long, value_enum, default_value_t = WhoFormat::Text)]
        format: WhoFormat,
    },
}

#[derive(Debug, Args)]
struct Input {
    /// A bundle `tenet build` wrote: decide on it, without checking or compiling again
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = ["policies", "directory", "import", "pack", "as_of", "parents_app_id", "approvals_app_id", "allow_rejects"]
    )]
    bundle: Option<PathBuf>,
    /// Policy files or directories; repeat for several (default: the bundled example district;
    /// with --import, the bundled Teams pack)
    #[arg(long = "policies", value_name = "PATH")]
    policies: Vec<PathBuf>,
    /// The directory file (default: `directory.yaml` in a given policy directory)
    #[arg(long, value_name = "FILE", conflicts_with = "import")]
    directory: Option<PathBuf>,
    /// Decide on a tenant imported from exports (Teams PowerShell, Graph, School Data Sync,
    /// approvals) found under DIR; repeat for several directories
    #[arg(long = "import", value_name = "DIR")]
    import: Vec<PathBuf>,
    /// The policy pack: `builtin` (the bundled Teams pack, also used when the given policy files
    /// declare no policy types) or a path
    #[arg(long, value_name = "builtin|PATH")]
    pack: Option<String>,
    /// Evaluate as of this date (YYYY-MM-DD): after 2025-09-30 the Parents app is retired, from
    /// 2025-06-30 SMS invites are (default: the behaviour the Parent Connection article describes)
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    as_of: Option<jiff::civil::Date>,
    #[command(flatten)]
    import_options: ImportArgs,
}

fn parse_date(text: &str) -> Result<jiff::civil::Date, String> {
    text.parse().map_err(|_| format!("`{text}` is not a date: write it as YYYY-MM-DD, such as 2025-10-01"))
}

/// Choices for reading exports.
#[derive(Debug, Clone, Args)]
struct ImportArgs {
    /// The Teams app id of Parents (Microsoft doesn't publish it; exports name apps by id)
    #[arg(long, value_name = "GUID")]
    parents_app_id: Option<String>,
    /// The Teams app id of Approvals
    #[arg(long, value_name = "GUID")]
    approvals_app_id: Option<String>,
    /// Go on when rows were rejected (they are still reported)
    #[arg(long)]
    allow_rejects: bool,
}

impl ImportArgs {
    fn options(&self, progress: &Progress) -> tenet_import::Options {
        tenet_import::Options {
            parents_app_id: self.parents_app_id.clone(),
            approvals_app_id: self.approvals_app_id.clone(),
            progress: Some(progress.on_import()),
        }
    }
}

/// Which rows `table` lists.
#[derive(Debug, Args)]
struct RowArgs {
    /// Only this decision; repeat for several
    #[arg(long = "decision", value_name = "NAME")]
    decisions: Vec<String>,
    /// Only this user (UPN); repeat for several
    #[arg(long = "user", value_name = "UPN")]
    users: Vec<String>,
    /// Only users with this role (such as `teacher`)
    #[arg(long, value_name = "ROLE")]
    role: Option<String>,
    /// Only members of this group (its id)
    #[arg(long, value_name = "ID")]
    group: Option<String>,
    /// Only owners and students of this school's class teams (its name)
    #[arg(long, value_name = "NAME")]
    school: Option<String>,
    /// Only allowed answers
    #[arg(long, conflicts_with = "denied")]
    allowed: bool,
    /// Only denied answers
    #[arg(long)]
    denied: bool,
    /// Only answers with this reason code (deciding, blocking or warning), such as CHAT_OFF
    #[arg(long, value_name = "CODE")]
    reason: Option<String>,
}

#[derive(Debug, Args)]
struct Query {
    /// The user's UPN
    #[arg(long)]
    user: String,
    /// The decision, such as `chat_with_guardians`
    #[arg(long)]
    decision: String,
    /// The guardian's id (its email when it has no explicit id), for guardian decisions
    #[arg(long)]
    guardian: Option<String>,
    #[command(flatten)]
    input: Input,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FixFormat {
    Text,
    Json,
    /// The best suggestion's cmdlet lines (plain actions as comments), for `what-if --change`
    Ps1,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    /// One readable line per request (coloured on a terminal)
    Human,
    /// One JSON object per request
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum WhoFormat {
    Text,
    Csv,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TableFormat {
    Text,
    Json,
    Csv,
    /// One JSON answer per line
    Ndjson,
    /// The compiled profiles: effective instances and outcomes per profile
    Profiles,
}

/// Runs the command line and returns the process exit code.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { exit::USAGE } else { exit::OK });
        }
    };
    SHOW_CONTACTS.store(cli.show_contacts, std::sync::atomic::Ordering::Relaxed);
    QUIET.store(cli.quiet, std::sync::atomic::Ordering::Relaxed);
    ExitCode::from(match cli.command {
        Command::Check { paths, mut input, format } => {
            if input.bundle.is_some() && !paths.is_empty() {
                eprintln!("error: give either policy paths or --bundle, not both");
                return ExitCode::from(exit::USAGE);
            }
            input.policies.splice(0..0, paths);
            check(&input, format)
        }
        Command::Decide(q) => decide(&q, false),
        Command::Explain(q) => decide(&q, true),
        Command::Test { input, snapshot, update, format } => test(&input, snapshot.as_deref(), update, format),
        Command::Snapshot { input, out } => write_snapshot(&input, out.as_deref()),
        Command::WhatIf { change, input, format } => what_if_command(&input, &change, format),
        Command::Fix { users, role, decision, guardian, max, input, format } => {
            fix_command(&input, &users, role.as_deref(), &decision, guardian.as_deref(), usize::from(max), format)
        }
        Command::Diff { before, before_import, after, after_import, options, format } => {
            diff(&before, &before_import, &after, &after_import, &options, format)
        }
        Command::Gen { users, seed, out } => generate(users, seed, &out),
        Command::Build { input, out } => build(&input, &out),
        Command::Serve { input, addr, max_body, max_batch, watch, token_file, log_format } => {
            let logs = tracing_subscriber::fmt().with_writer(std::io::stderr).with_target(false);
            let _ = match log_format {
                LogFormat::Json => logs.json().try_init(),
                LogFormat::Human => {
                    logs.with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()).try_init()
                }
            };
            let token = match token_file.as_deref().map(std::fs::read_to_string).transpose() {
                Ok(t) => t.map(|t| t.trim().to_string()),
                Err(e) => {
                    eprintln!("error: can't read the token file: {e}");
                    return ExitCode::from(exit::INPUT);
                }
            };
            if token.as_deref() == Some("") {
                eprintln!("error: the token file is empty");
                return ExitCode::from(exit::INPUT);
            }
            serve(input, crate::server::Settings { addr, max_body, max_batch, token }, watch)
        }
        Command::Table { input, filter, format } => table(&input, &filter, format),
        Command::Summary { input, filter, format } => summary(&input, &filter, format),
        Command::Who { input, filter, format } => who(&input, &filter, format),
        Command::Report { input, out, fixes, explanations } => report(&input, &out, fixes, explanations),
        Command::Import { from, out, policies, options, format } => {
            import(&from, out.as_deref(), &policies, &options, format)
        }
    })
}

/// `--quiet`: set once, from the command line.
static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A progress line for long work (hidden off a terminal and with --quiet).
fn progress() -> Progress {
    Progress::new(QUIET.load(std::sync::atomic::Ordering::Relaxed))
}

/// `--show-contacts`: set once, from the command line, before anything is printed.
static SHOW_CONTACTS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The privacy messages are written with: `learned`, or all shown with `--show-contacts`.
fn privacy(learned: &Privacy) -> Privacy {
    if show_contacts() { Privacy::showing_contacts() } else { learned.clone() }
}

/// Writes a result to stdout. A reader that has gone (`tenet … | head`) is not an error: what
/// it didn't read is dropped, and the exit code still says what the command found.
fn stdout(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

fn color() -> bool {
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}

/// Policy files and a directory: the bundled example district when none are named; else the
/// files, on top of the pack (`--pack`, or the bundled one when the files declare no policy
/// types, said in one line).
fn sources(input: &Input) -> (Sources, Vec<Diagnostic>) {
    if input.policies.is_empty() && input.directory.is_none() && input.pack.is_none() {
        return (Sources::bundled(), Vec::new());
    }
    let (mut srcs, mut io) = Sources::read(&input.policies, input.directory.as_deref());
    let pack = match input.pack.as_deref() {
        Some("builtin") => Some(Sources::pack().policies),
        Some(path) => {
            let (pack, mut errors) = Sources::read(&[PathBuf::from(path)], None);
            io.append(&mut errors);
            Some(pack.policies)
        }
        None if !srcs.policies.iter().any(|s| declares_policy_types(&s.text)) => {
            eprintln!("note: the given files declare no policy types: using the bundled Teams pack (--pack builtin)");
            Some(Sources::pack().policies)
        }
        None => None,
    };
    if let Some(mut pack) = pack {
        pack.append(&mut srcs.policies);
        srcs.policies = pack;
    }
    (srcs, io)
}

/// Whether a policy file declares a policy type (a line `policy type …`).
fn declares_policy_types(text: &str) -> bool {
    text.lines()
        .any(|l| l.trim_start().strip_prefix("policy").is_some_and(|rest| rest.trim_start().starts_with("type ")))
}

fn print_report(report: &Report, format: Format, only_errors: bool) {
    let shown: Vec<Diagnostic> = report.diagnostics.iter().filter(|d| !only_errors || d.is_error()).cloned().collect();
    let mut sources = report.sources.clone();
    sources.set_privacy(privacy(report.sources.privacy()));
    match format {
        Format::Text => {
            eprint!("{}", render_human(&shown, &sources, color()));
        }
        Format::Json => {
            let items: Vec<_> = shown.iter().map(|d| d.to_json(&sources)).collect();
            stdout(&format!("{}\n", serde_json::json!({ "diagnostics": items })));
        }
    }
}

fn io_failure(errors: Vec<Diagnostic>, format: Format) -> u8 {
    let report = Report { sources: Default::default(), diagnostics: errors };
    print_report(&report, format, false);
    exit::INPUT
}

/// When no `directory.yaml` was found: names the YAML files the given folders do hold (a
/// directory saved as `Directory.yml`, say), with the option that reads one.
fn yaml_hint(policies: &[PathBuf]) {
    let mut found: Vec<PathBuf> = policies
        .iter()
        .filter_map(|p| std::fs::read_dir(p).ok())
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "yaml" | "yml"))
        })
        .collect();
    found.sort();
    if let Some(first) = found.first() {
        let more = if found.len() > 1 { format!(" (and {} more)", found.len() - 1) } else { String::new() };
        eprintln!(
            "  help: `{}` is a YAML file there{more}; if it is the directory, pass `--directory {}` or rename it `directory.yaml`",
            first.display(),
            first.display()
        );
    }
}

fn check(input: &Input, format: Format) -> u8 {
    if let Some(path) = &input.bundle {
        return check_bundle(path, format);
    }
    let progress = progress();
    let srcs = match gather(input, &progress) {
        Ok(s) => s,
        Err(g) => {
            drop(progress);
            return g.print(format);
        }
    };
    let no_directory = matches!(srcs.directory, DirectorySource::None);
    // The missing piece first: without a directory every user a file names is unknown.
    if no_directory && format == Format::Text {
        progress.suspend(|| {
            eprintln!(
                "note: no directory file was given or found (no `directory.yaml` in or below the given directories), so the directory is empty"
            );
            yaml_hint(&input.policies);
        });
    }
    if let (Some(d), None) = (srcs.directory.file(), &input.directory)
        && !input
            .policies
            .iter()
            .any(|p| p.join(tenet::unstable::engine::DIRECTORY_FILE).display().to_string() == *d.name)
        && input.import.is_empty()
        && format == Format::Text
    {
        progress.suspend(|| eprintln!("note: using the directory file `{}`, found below the given folders", d.name));
    }
    progress.phase("checking");
    let (model, mut report) = check_sources(srcs);
    drop(progress);
    // The date is checked too: a pack without the retirement switches can't be evaluated as of one.
    if let (Some(mut model), Some(day)) = (model, input.as_of)
        && let Err(e) = tenet::unstable::as_of::apply(&mut model, day)
    {
        report.diagnostics.push(e);
    }
    let errors = report.diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = report.diagnostics.len() - errors;
    print_report(&report, format, false);
    if format == Format::Text {
        let files = report.sources.files().count();
        eprintln!(
            "checked {files} file{}: {errors} error{}, {warnings} warning{}",
            plural(files),
            plural(errors),
            plural(warnings)
        );
    }
    if errors > 0 { exit::INPUT } else { exit::OK }
}

/// `check --bundle`: the bundle loads (version, length, checksum, contents), and what it holds.
fn check_bundle(path: &std::path::Path, format: Format) -> u8 {
    let (engine, info) = match load_bundle(path, format, &progress()) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let directory = &engine.table().model().directory;
    let as_of = tenet::unstable::as_of::day_of(engine.table().model());
    match format {
        Format::Text => eprintln!(
            "bundle `{}`: built by tenet {}{}, {}, {} users, {} decisions, sha256 {}: it loads",
            path.display(),
            info.version,
            as_of.map(|d| format!(" as of {d}")).unwrap_or_default(),
            tenet::unstable::diagnostic::size(usize::try_from(info.bytes).unwrap_or(usize::MAX)),
            directory.user_count(),
            engine.table().model().decisions.len(),
            info.checksum
        ),
        Format::Json => stdout(&format!(
            "{}\n",
            serde_json::json!({ "diagnostics": [], "bundle": {
                "version": info.version, "format": info.format, "sha256": info.checksum, "bytes": info.bytes,
                "users": directory.user_count(), "decisions": engine.table().model().decisions.len(),
                "as_of": as_of.map(|d| d.to_string()) } })
        )),
    }
    exit::OK
}

/// Loads a bundle, printing why it can't be loaded.
fn load_bundle(
    path: &std::path::Path,
    format: Format,
    progress: &Progress,
) -> Result<(Engine, tenet::bundle::Info), u8> {
    progress.phase("loading the bundle");
    Engine::from_bundle_file(path).map_err(|e| progress.suspend(|| io_failure(vec![bundle_error(path, &e)], format)))
}

/// The diagnostic of a bundle that doesn't load.
fn bundle_error(path: &std::path::Path, e: &tenet::BundleError) -> Diagnostic {
    let message = match e {
        tenet::BundleError::Io(_) => e.to_string(),
        _ => format!("the bundle `{}` is {e}", path.display()),
    };
    Diagnostic::error(tenet::unstable::diagnostic::Code::Bundle, message).help(e.help())
}

/// A new file only its owner can read (on Unix): a bundle holds guardians' contact details.
fn private_file(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// `tenet build`: checks and compiles the district, then writes the bundle beside its place and
/// renames it there, so a reader (a server watching the file) sees the old bundle or the new one.
fn build(input: &Input, out: &std::path::Path) -> u8 {
    let progress = progress();
    let engine = match engine_reporting(input, Format::Text, &progress) {
        Ok((engine, _)) => engine,
        Err(code) => return code,
    };
    progress.phase("writing the bundle");
    let mut partial = out.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let written = private_file(&partial).and_then(|file| {
        let mut writer = std::io::BufWriter::new(file);
        let info = engine.write_bundle(&mut writer)?;
        writer.into_inner().map_err(std::io::IntoInnerError::into_error)?.sync_all()?;
        std::fs::rename(&partial, out)?;
        Ok(info)
    });
    drop(progress);
    match written {
        Ok(info) => {
            let table = engine.table();
            eprintln!(
                "wrote `{}`: {} users, {} decisions, {}, sha256 {}",
                out.display(),
                table.model().directory.user_count(),
                table.model().decisions.len(),
                tenet::unstable::diagnostic::size(usize::try_from(info.bytes).unwrap_or(usize::MAX)),
                info.checksum
            );
            exit::OK
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            eprintln!("error: can't write `{}`: {e}", out.display());
            exit::INPUT
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Why the sources of a command could not be gathered.
enum Gather {
    Io(Vec<Diagnostic>),
    /// The policy pack an import builds on has errors.
    Pack(Report),
    /// The import rejected rows (and --allow-rejects was not given); what the report may show.
    Import(Box<(tenet_import::ImportReport, Privacy)>),
}

impl Gather {
    /// Prints the failure and returns the exit code.
    fn print(self, format: Format) -> u8 {
        match self {
            Gather::Io(errors) => io_failure(errors, format),
            Gather::Pack(report) => {
                print_report(&report, format, true);
                exit::INPUT
            }
            Gather::Import(failed) => {
                let (report, learned) = *failed;
                eprint!("{}", privacy(&learned).hide(&report.render(false)));
                eprintln!("{}", import_failure(report.missing()));
                exit::INPUT
            }
        }
    }

    /// The failure as text (for a server reload).
    fn text(self) -> String {
        match self {
            Gather::Io(errors) => render_human(&errors, &Default::default(), false),
            Gather::Pack(report) => {
                let errors: Vec<Diagnostic> = report.diagnostics.into_iter().filter(Diagnostic::is_error).collect();
                render_human(&errors, &report.sources, false)
            }
            Gather::Import(failed) => failed.1.hide(&failed.0.render(false)).into_owned(),
        }
    }
}

/// The policy pack an import builds on: `--policies` paths, else the bundled Teams pack.
fn pack(policies: &[PathBuf]) -> Result<(Sources, tenet::unstable::model::Model), Gather> {
    let srcs = if policies.is_empty() {
        Sources::pack()
    } else {
        let (srcs, io) = Sources::read(policies, None);
        if !io.is_empty() {
            return Err(Gather::Io(io));
        }
        srcs
    };
    let pack = Sources { policies: srcs.policies, ..Sources::default() };
    match check_sources(pack.clone()) {
        (Some(model), _) => Ok((pack, model)),
        (None, report) => Err(Gather::Pack(report)),
    }
}

/// The sources a command decides on: policy files and a directory, or a pack and an import.
fn gather(input: &Input, progress: &Progress) -> Result<Sources, Gather> {
    gather_reporting(input, progress).map(|(srcs, _)| srcs)
}

/// [`gather`], with the import's report when the sources are an import.
fn gather_reporting(
    input: &Input,
    progress: &Progress,
) -> Result<(Sources, Option<tenet_import::ImportReport>), Gather> {
    progress.phase("reading");
    if input.import.is_empty() {
        let (srcs, io) = progress.suspend(|| sources(input));
        return if io.is_empty() { Ok((srcs, None)) } else { Err(Gather::Io(io)) };
    }
    let mut paths = input.policies.clone();
    match input.pack.as_deref() {
        Some("builtin") | None => {}
        Some(path) => paths.insert(0, PathBuf::from(path)),
    }
    export_dirs(&input.import)
        .map_err(|e| Gather::Io(vec![Diagnostic::error(tenet::unstable::diagnostic::Code::Io, e)]))?;
    let (pack, model) = pack(&paths)?;
    let imported = tenet_import::import(&input.import, &model, &input.import_options.options(progress));
    if imported.report.missing() > 0 || (imported.report.has_errors() && !input.import_options.allow_rejects) {
        let learned = imported.privacy();
        return Err(Gather::Import(Box::new((imported.report, learned))));
    }
    let r = &imported.report;
    progress.suspend(|| {
        eprintln!(
            "imported {} files: {} errors, {} warnings (`tenet import --from` shows the report)",
            r.files.len(),
            r.errors(),
            r.warnings()
        )
    });
    let report = imported.report.clone();
    Ok((imported.into_sources(pack.policies, &input.import[0]), Some(report)))
}

/// Builds the engine, printing errors (never warnings) on failure; a progress line shows the
/// phases meanwhile.
fn engine(input: &Input, format: Format) -> Result<Engine, u8> {
    engine_reporting(input, format, &progress()).map(|(engine, _)| engine)
}

/// [`engine`], with the import's report when the sources are an import, on the caller's
/// progress line (which goes on to the caller's own phases).
fn engine_reporting(
    input: &Input,
    format: Format,
    progress: &Progress,
) -> Result<(Engine, Option<tenet_import::ImportReport>), u8> {
    if let Some(path) = &input.bundle {
        return load_bundle(path, format, progress).map(|(engine, _)| (engine, None));
    }
    let (srcs, import) = gather_reporting(input, progress).map_err(|g| progress.suspend(|| g.print(format)))?;
    if matches!(srcs.directory, DirectorySource::None) {
        progress.suspend(|| {
            eprintln!(
                "warning: no directory file (no `directory.yaml` in the given directories, no --directory): no users"
            );
            yaml_hint(&input.policies);
        });
    }
    match Engine::build_observed(srcs, input.as_of, &mut |phase| progress.build_phase(phase)) {
        Ok((engine, _)) => Ok((engine, import)),
        Err(report) => {
            progress.suspend(|| print_report(&report, format, true));
            Err(exit::INPUT)
        }
    }
}

fn query_error(e: &QueryError, format: Format, engine: &Engine) -> u8 {
    let privacy = privacy(&engine.table().model().directory.privacy());
    let message = privacy.hide(&e.to_string()).into_owned();
    match format {
        Format::Text => eprintln!("error: {message}"),
        Format::Json => {
            stdout(&format!("{}\n", serde_json::json!({ "error": { "code": e.code(), "message": message } })))
        }
    }
    exit::INPUT
}

fn decide(q: &Query, explain: bool) -> u8 {
    let engine = match engine(&q.input, q.format) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let d = match engine.decide(&q.user, &q.decision, q.guardian.as_deref()) {
        Ok(d) => d,
        Err(e) => return query_error(&e, q.format, &engine),
    };
    let mut out = std::io::stdout().lock();
    let _ = match (q.format, explain) {
        (Format::Json, _) => writeln!(out, "{}", json(&AnswerJson::new(&d))),
        (Format::Text, false) => writeln!(out, "{}", output::one_line(&d)),
        (Format::Text, true) => write!(out, "{}", output::explain(&d)),
    };
    if d.allowed() { exit::OK } else { exit::DENY }
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

fn table(input: &Input, args: &RowArgs, format: TableFormat) -> u8 {
    let json_errors =
        if matches!(format, TableFormat::Json | TableFormat::Ndjson) { Format::Json } else { Format::Text };
    let progress = progress();
    let engine = match engine_reporting(input, json_errors, &progress) {
        Ok((e, _)) => e,
        Err(code) => return code,
    };
    let table = engine.table();
    let filter = match progress.suspend(|| row_filter(&engine, args, json_errors)) {
        Ok(f) => f,
        Err(code) => return code,
    };
    let rows = match format {
        TableFormat::Profiles => {
            drop(progress);
            stdout(&table.dump());
            return exit::OK;
        }
        TableFormat::Text => output::RowFormat::Text,
        TableFormat::Json => output::RowFormat::Json,
        TableFormat::Csv => output::RowFormat::Csv,
        TableFormat::Ndjson => output::RowFormat::Ndjson,
    };
    let mut out = std::io::BufWriter::with_capacity(1 << 16, progress.writing("lines", std::io::stdout().lock()));
    let written = output::write_rows(&mut out, table, &filter, rows);
    drop(out);
    drop(progress);
    match written {
        Ok(_) => exit::OK,
        // A reader that has gone (`tenet table | head`) ends the listing quietly.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => exit::OK,
        Err(e) => {
            eprintln!("error: can't write the table: {e}");
            exit::INPUT
        }
    }
}

fn summary(input: &Input, args: &RowArgs, format: Format) -> u8 {
    let engine = match engine(input, format) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let filter = match row_filter(&engine, args, format) {
        Ok(f) => f,
        Err(code) => return code,
    };
    let summary = tenet::summary::summarize(engine.table(), &filter);
    match format {
        Format::Text => stdout(&counts::summary_text(&summary)),
        Format::Json => stdout(&(json(&summary) + "\n")),
    }
    exit::OK
}

fn report(input: &Input, out: &std::path::Path, fixes: usize, explanations: usize) -> u8 {
    let progress = progress();
    let (engine, import) = match engine_reporting(input, Format::Text, &progress) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let source = if let Some(bundle) = &input.bundle {
        format!("the bundle {}", bundle.display())
    } else if !input.import.is_empty() {
        format!("imported from {}", input.import.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))
    } else if input.policies.is_empty() && input.directory.is_none() {
        "the bundled example district".to_string()
    } else {
        input.policies.iter().chain(&input.directory).map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    };
    let options = crate::report::Options { show_contacts: show_contacts(), fixes, explanations, source };
    // Written beside the target, then renamed: a failed run leaves no half page behind.
    let partial = out.with_extension("html.partial");
    let written = std::fs::File::create(&partial).and_then(|f| {
        let mut w = std::io::BufWriter::new(f);
        crate::report::write(&mut w, engine.table(), import.as_ref(), &options, &progress)
    });
    drop(progress);
    let written = match written.and_then(|w| std::fs::rename(&partial, out).map(|()| w)) {
        Ok(w) => w,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            eprintln!("error: can't write the report to `{}`: {e}", out.display());
            return exit::INPUT;
        }
    };
    eprintln!(
        "wrote {} ({:.1} MB, {} users){}",
        out.display(),
        written.bytes as f64 / 1e6,
        written.users,
        match written.explanations_left_out {
            0 => String::new(),
            n => format!("; {n} denied cells (user × decision) have no embedded explanation (raise --explanations)"),
        }
    );
    exit::OK
}

fn who(input: &Input, args: &RowArgs, format: WhoFormat) -> u8 {
    let errors = if format == WhoFormat::Json { Format::Json } else { Format::Text };
    if args.decisions.len() != 1 {
        eprintln!("error: `who` lists the users of one decision: give exactly one --decision NAME");
        return exit::USAGE;
    }
    let engine = match engine(input, errors) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let mut filter = match row_filter(&engine, args, errors) {
        Ok(f) => f,
        Err(code) => return code,
    };
    // Allowed and denied are verdicts of the user here, not of single answers.
    let allowed = filter.allowed.take();
    let format = match format {
        WhoFormat::Text => counts::WhoFormat::Text,
        WhoFormat::Csv => counts::WhoFormat::Csv,
        WhoFormat::Json => counts::WhoFormat::Json,
    };
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    match counts::who(&mut out, engine.table(), &filter, filter.decisions[0], allowed, format) {
        Ok(_) => exit::OK,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => exit::OK,
        Err(e) => {
            eprintln!("error: can't write the list: {e}");
            exit::INPUT
        }
    }
}

/// ` (did you mean `teacher`?)` for a role no user has, when one is close.
fn role_hint(dir: &tenet::unstable::directory::Directory, role: &str) -> String {
    let mut roles: Vec<&str> = dir.users().flat_map(|(_, u)| u.roles.iter().map(|r| &**r)).collect();
    roles.sort_unstable();
    roles.dedup();
    tenet::unstable::suggest::closest(role, roles).map(|r| format!(" (did you mean `{r}`?)")).unwrap_or_default()
}

/// The filter of `table`'s arguments, each name checked against the district.
fn row_filter(engine: &Engine, args: &RowArgs, format: Format) -> Result<output::RowFilter, u8> {
    let table = engine.table();
    let mut filter = output::RowFilter {
        role: args.role.clone(),
        group: args.group.clone(),
        school: args.school.clone(),
        allowed: if args.allowed {
            Some(true)
        } else if args.denied {
            Some(false)
        } else {
            None
        },
        reason: args.reason.clone(),
        ..Default::default()
    };
    for d in &args.decisions {
        filter.decisions.push(table.decision(d).map_err(|e| query_error(&e, format, engine))?);
    }
    for u in &args.users {
        filter.users.push(table.user(u).map_err(|e| query_error(&e, format, engine))?);
    }
    let dir = &table.model().directory;
    if let Some(role) = &args.role
        && !dir.users().any(|(_, u)| u.roles.iter().any(|r| r.eq_ignore_ascii_case(role)))
    {
        eprintln!("error: no user in the directory has the role `{role}`{}", role_hint(dir, role));
        return Err(exit::INPUT);
    }
    if let Some(group) = &args.group
        && dir.group(group).is_none()
    {
        let hint = dir.suggest_group(group).map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default();
        eprintln!("error: unknown group `{group}`{hint}");
        return Err(exit::INPUT);
    }
    if let Some(school) = &args.school {
        let schools = dir.schools();
        if !schools.iter().any(|s| s.eq_ignore_ascii_case(school.trim())) {
            let hint = match tenet::unstable::suggest::closest(school, schools.iter().copied()) {
                Some(s) => format!(" (did you mean `{s}`?)"),
                None if schools.is_empty() => {
                    " (no class team names a school: give class teams a `school` in the directory, or import School Data Sync files)".into()
                }
                None => format!(" (the schools are: {})", schools.join(", ")),
            };
            eprintln!("error: no class team belongs to the school `{school}`{hint}");
            return Err(exit::INPUT);
        }
    }
    if let Some(code) = &args.reason {
        let known = table.model().decisions.values().any(|d| {
            d.rules.iter().any(|r| match r {
                tenet::unstable::model::Rule::Deny(v) | tenet::unstable::model::Rule::Warn(v) => {
                    v.code.eq_ignore_ascii_case(code)
                }
                _ => false,
            })
        }) || ["ALLOW", "NO_ALLOW_RULE"].iter().any(|c| c.eq_ignore_ascii_case(code));
        if !known {
            eprintln!("error: no rule has the reason code `{code}`: `tenet explain` names the codes a decision uses");
            return Err(exit::INPUT);
        }
    }
    Ok(filter)
}

fn show_contacts() -> bool {
    SHOW_CONTACTS.load(std::sync::atomic::Ordering::Relaxed)
}

fn write_snapshot(input: &Input, out: Option<&std::path::Path>) -> u8 {
    let engine = match engine(input, Format::Text) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let text = snapshot::text(&engine, snapshot::guardians(show_contacts()));
    match out {
        None => stdout(&text),
        Some(path) => {
            if let Err(e) = std::fs::write(path, &text) {
                eprintln!("error: can't write the snapshot `{}`: {e}", path.display());
                return exit::INPUT;
            }
            let n = text.lines().filter(|l| !l.starts_with('#')).count();
            eprintln!(
                "wrote {n} decisions to {}; commit it, then `tenet test --snapshot {}` after each change",
                path.display(),
                path.display()
            );
        }
    }
    exit::OK
}

fn what_if_command(input: &Input, change: &std::path::Path, format: TableFormat) -> u8 {
    let report_format = if format == TableFormat::Json { Format::Json } else { Format::Text };
    if format == TableFormat::Profiles {
        eprintln!("error: what-if prints text, json or csv");
        return exit::USAGE;
    }
    let before = match engine(input, report_format) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let script = match std::fs::read_to_string(change) {
        Ok(text) => tenet::Source::new(change.display().to_string(), text),
        Err(e) => {
            return io_failure(
                vec![snapshot::failure_diagnostic(&format!(
                    "can't read the change script `{}`: {e}",
                    change.display()
                ))],
                report_format,
            );
        }
    };
    let after = match before.with_changes(script) {
        Ok(e) => e,
        Err(report) => {
            print_report(&report, report_format, false);
            return exit::INPUT;
        }
    };
    let changed = what_if::changes(&before, &after, snapshot::guardians(show_contacts()), format == TableFormat::Json);
    match format {
        TableFormat::Json => stdout(&(json(&what_if::json(&changed)) + "\n")),
        TableFormat::Csv => stdout(&what_if::csv(&changed)),
        _ => stdout(&what_if::render(&format!("what-if {}", change.display()), &changed)),
    }
    if changed.is_empty() { exit::OK } else { exit::DENY }
}

fn fix_command(
    input: &Input,
    users: &[String],
    role: Option<&str>,
    decision: &str,
    guardian: Option<&str>,
    max: usize,
    format: FixFormat,
) -> u8 {
    let report_format = if format == FixFormat::Json { Format::Json } else { Format::Text };
    let engine = match engine(input, report_format) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let table = engine.table();
    if let ([user], None) = (users, role) {
        let found = match tenet::fix::fix(table, user, decision, guardian, max) {
            Ok(f) => f,
            Err(e) => return query_error(&e, report_format, &engine),
        };
        let asked = match guardian {
            Some(g) => format!("{user} · {decision} · guardian {g}"),
            None => format!("{user} · {decision}"),
        };
        match format {
            FixFormat::Text => stdout(&fix::render(&asked, &found)),
            FixFormat::Json => stdout(&(json(&fix::json(user, decision, guardian, &found)) + "\n")),
            FixFormat::Ps1 => match found.suggestions.first() {
                Some(s) => stdout(&fix::script(&s.steps)),
                None => {
                    eprint!("{}", fix::render(&asked, &found));
                    return if found.before.allowed { exit::OK } else { exit::DENY };
                }
            },
        }
        return if found.before.allowed || !found.suggestions.is_empty() { exit::OK } else { exit::DENY };
    }
    if guardian.is_some() {
        eprintln!(
            "error: --guardian goes with one --user: a change set for many users is for decisions about the user only"
        );
        return exit::USAGE;
    }
    let model = table.model();
    let mut ids = Vec::new();
    for upn in users {
        match table.user(upn) {
            Ok(h) => ids.push(h.id()),
            Err(e) => return query_error(&e, report_format, &engine),
        }
    }
    if let Some(role) = role {
        let before = ids.len();
        ids.extend(
            model
                .directory
                .users()
                .filter(|(_, u)| u.roles.iter().any(|r| r.eq_ignore_ascii_case(role)))
                .map(|(id, _)| id),
        );
        if ids.len() == before {
            eprintln!(
                "error: no user in the directory has the role `{role}`{}",
                role_hint(&table.model().directory, role)
            );
            return exit::INPUT;
        }
    }
    ids.sort_unstable();
    ids.dedup();
    let population = match tenet::fix::fix_population(table, &ids, decision) {
        Ok(p) => p,
        Err(QueryError::GuardianRequired(d)) => {
            eprintln!("error: `{d}` is about a guardian: fix it for one user with --user UPN --guardian ID");
            return exit::USAGE;
        }
        Err(e) => return query_error(&e, report_format, &engine),
    };
    let asked = match role {
        Some(r) => format!("{decision} for every {r}"),
        None => format!("{decision} for {} users", ids.len()),
    };
    match format {
        FixFormat::Text => stdout(&fix::render_population(&asked, &population)),
        FixFormat::Json => stdout(&(json(&fix::json_population(decision, &population)) + "\n")),
        FixFormat::Ps1 => stdout(&population.change_sets.first().map(|c| fix::script(&c.steps)).unwrap_or_default()),
    }
    let all_allowed =
        population.change_sets.first().map_or(population.denied.is_empty(), |c| c.still_denied.is_empty());
    if all_allowed { exit::OK } else { exit::DENY }
}

/// One side of `tenet diff` as a snapshot: a snapshot file as it is, or the decisions of the
/// policy paths and exports given, and what to call it.
fn diff_side(
    paths: &[PathBuf],
    imports: &[PathBuf],
    options: &ImportArgs,
    format: Format,
) -> Result<(tenet::Snapshot, String), u8> {
    let guardians = snapshot::guardians(show_contacts());
    if let ([file], []) = (paths, imports)
        && snapshot::is_snapshot(file)
    {
        return match snapshot::read(file) {
            Ok(s) if s.guardians == guardians => Ok((s, file.display().to_string())),
            Ok(_) => Err(io_failure(
                vec![snapshot::failure_diagnostic(&format!(
                    "the snapshot `{}` names guardians differently from this run: compare it the way it was written (with or without --show-contacts)",
                    file.display()
                ))],
                format,
            )),
            Err(snapshot::Failure::Damaged(report)) => {
                print_report(&report, format, false);
                Err(exit::INPUT)
            }
            Err(snapshot::Failure::Message(m)) => Err(io_failure(vec![snapshot::failure_diagnostic(&m)], format)),
        };
    }
    // A YAML file among the paths is the directory; the rest are policy files and folders.
    let is_yaml = |p: &&PathBuf| p.extension().is_some_and(|e| e == "yaml" || e == "yml");
    let directories: Vec<&PathBuf> = paths.iter().filter(is_yaml).collect();
    if directories.len() > 1 {
        let names: Vec<String> = directories.iter().map(|d| format!("`{}`", d.display())).collect();
        return Err(io_failure(
            vec![snapshot::failure_diagnostic(&format!(
                "one side of the diff names two directory files: {}; give one",
                names.join(", ")
            ))],
            format,
        ));
    }
    let bundle = match (paths, imports) {
        ([file], []) if tenet::bundle::is_bundle(file) => Some(file.clone()),
        _ if paths.iter().any(|p| tenet::bundle::is_bundle(p)) => {
            return Err(io_failure(
                vec![snapshot::failure_diagnostic("a bundle is one side of a diff on its own: give it alone")],
                format,
            ));
        }
        _ => None,
    };
    let input = Input {
        policies: if bundle.is_some() { Vec::new() } else { paths.iter().filter(|p| !is_yaml(p)).cloned().collect() },
        bundle,
        directory: directories.first().map(|d| (*d).clone()),
        import: imports.to_vec(),
        pack: None,
        as_of: None,
        import_options: options.clone(),
    };
    let engine = engine(&input, format)?;
    let names: Vec<String> = paths.iter().chain(imports).map(|p| p.display().to_string()).collect();
    Ok((tenet::Snapshot::of(engine.table(), guardians), names.join(" + ")))
}

fn diff(
    before: &[PathBuf],
    before_import: &[PathBuf],
    after: &[PathBuf],
    after_import: &[PathBuf],
    options: &ImportArgs,
    format: Format,
) -> u8 {
    let (old, old_name) = match diff_side(before, before_import, options, format) {
        Ok(side) => side,
        Err(code) => return code,
    };
    let (new, new_name) = match diff_side(after, after_import, options, format) {
        Ok(side) => side,
        Err(code) => return code,
    };
    let changes = new.changes_since(&old);
    match format {
        Format::Text => stdout(&snapshot::render_changes(&format!("{old_name} -> {new_name}"), &changes)),
        Format::Json => stdout(
            &(json(
                &serde_json::json!({ "before": old_name, "after": new_name, "changed": snapshot::changes_json(&changes) }),
            ) + "\n"),
        ),
    }
    if changes.is_empty() { exit::OK } else { exit::DENY }
}

fn test(input: &Input, snapshot_file: Option<&std::path::Path>, update: bool, format: Format) -> u8 {
    let engine = match engine(input, format) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let compared = match snapshot_file
        .map(|f| snapshot::compare(&engine, f, update, snapshot::guardians(show_contacts())))
    {
        None => None,
        Some(Ok(c)) => Some(c),
        Some(Err(snapshot::Failure::Damaged(report))) => {
            print_report(&report, format, false);
            return exit::INPUT;
        }
        Some(Err(snapshot::Failure::Message(m))) => return io_failure(vec![snapshot::failure_diagnostic(&m)], format),
    };
    let changed = compared.as_ref().is_some_and(|c| !c.changes.is_empty() && !c.written);
    let results = tenet::unstable::expect::run(engine.table());
    let failed = results.iter().filter(|r| !r.passed).count();
    let passed = results.len() - failed;
    match format {
        Format::Json => {
            let mut v = serde_json::json!({ "results": results, "passed": passed, "failed": failed });
            if let (Some(c), Some(f)) = (&compared, snapshot_file) {
                v["snapshot"] = snapshot::to_json(f, c);
            }
            stdout(&(json(&v) + "\n"));
        }
        Format::Text => {
            let mut out = String::new();
            for r in &results {
                let guardian = r.guardian.as_deref().map(|g| format!(" {g}")).unwrap_or_default();
                let subject = format!("{} {}{guardian}", r.user, r.decision);
                if r.passed {
                    out.push_str(&format!("pass  {subject}: {}\n", r.expected));
                } else {
                    out.push_str(&format!(
                        "FAIL  {subject}: expected {}, got {}\n      at {}\n",
                        r.expected, r.actual, r.location
                    ));
                }
            }
            out.push_str(&format!("expectations: {passed} passed, {failed} failed\n"));
            if let (Some(c), Some(f)) = (&compared, snapshot_file) {
                out.push_str(&snapshot::render(f, c));
            }
            stdout(&out);
        }
    }
    if failed > 0 || changed { exit::INPUT } else { exit::OK }
}

fn generate(users: usize, seed: u64, out: &std::path::Path) -> u8 {
    let district = tenet::unstable::generate::district(tenet::unstable::generate::Spec { users, seed });
    let written = std::fs::create_dir_all(out)
        .and_then(|()| std::fs::write(out.join("tenant.tenet"), &district.tenant))
        .and_then(|()| district.directory_yaml())
        .and_then(|yaml| std::fs::write(out.join("directory.yaml"), yaml));
    match written {
        Ok(()) => {
            let shown = std::path::absolute(out).unwrap_or_else(|_| out.to_path_buf()).display().to_string();
            eprintln!(
                "wrote {} and {}; next: `tenet check {shown}`, then `tenet table --policies {shown}`",
                out.join("tenant.tenet").display(),
                out.join("directory.yaml").display(),
            );
            exit::OK
        }
        Err(e) => {
            eprintln!("error: can't write to `{}`: {e}", out.display());
            exit::INPUT
        }
    }
}

/// `tenet import`: reads exports, prints the report, checks the result, writes it.
fn import(
    from: &[PathBuf],
    out: Option<&std::path::Path>,
    policies: &[PathBuf],
    args: &ImportArgs,
    format: Format,
) -> u8 {
    let show_contacts = show_contacts();
    if let Err(e) = export_dirs(from) {
        eprintln!("error: {e}");
        return exit::INPUT;
    }
    let (pack, model) = match pack(policies) {
        Ok(p) => p,
        Err(g) => return g.print(format),
    };
    let progress = progress();
    let imported = tenet_import::import(from, &model, &args.options(&progress));
    let report = &imported.report;
    let shown = privacy(&imported.privacy());
    progress.suspend(|| match format {
        Format::Text => stdout(&shown.hide(&report.render(show_contacts))),
        Format::Json => {
            let report = if show_contacts { report.with_personal() } else { report.clone() };
            let mut value = serde_json::to_value(&report).unwrap_or_default();
            shown.hide_json(&mut value);
            stdout(&(json(&value) + "\n"));
        }
    });
    let rejected = report.has_errors();
    let report_missing = report.missing();
    // An incomplete tenant is not written: it would answer as if the missing facts were "none".
    let out = if report_missing > 0 { None } else { out };
    let orphans = match imported.orphaned_contacts_file() {
        Ok(o) => o,
        Err(e) => {
            progress.suspend(|| eprintln!("error: can't write the orphaned contacts: {e}"));
            return exit::INPUT;
        }
    };
    let (tenant, directory, _) = imported.into_parts();
    progress.phase("writing");
    // Files are staged beside their final names and kept only if the tenant checks, so the
    // directory is serialised once, straight to disk, and never held twice in memory.
    let staged = match out.map(|out| stage(out, &tenant, &directory, orphans.as_deref())).transpose() {
        Ok(s) => s,
        Err(e) => {
            let to = out.map(|o| o.display().to_string()).unwrap_or_default();
            progress.suspend(|| eprintln!("error: can't write to `{to}`: {e}"));
            return exit::INPUT;
        }
    };
    // What was imported must be a tenant `tenet check` accepts.
    let files = tenant.len();
    progress.phase("checking");
    let (_, checked) = check_sources(tenet_import::tenant_sources(pack.policies, &from[0], tenant, directory));
    drop(progress);
    if checked.has_errors() {
        for (partial, _) in staged.iter().flatten() {
            let _ = std::fs::remove_file(partial);
        }
        print_report(&checked, Format::Text, true);
        eprintln!("error: the imported tenant does not check (see above); nothing was written");
        return exit::INPUT;
    }
    if let (Some(out), Some(staged)) = (out, staged) {
        for (partial, done) in &staged {
            if let Err(e) = std::fs::rename(partial, done) {
                eprintln!("error: can't write `{}`: {e}", done.display());
                return exit::INPUT;
            }
        }
        // Continuation files of an earlier, larger import would be read with the new tenant.
        for n in files + 1.. {
            let stale = out.join(tenet_import::tenant_file_name(n));
            match std::fs::remove_file(&stale) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
                Err(e) => {
                    eprintln!(
                        "error: can't remove `{}`, left by an earlier import: {e}; remove it before using `{}`",
                        stale.display(),
                        out.display()
                    );
                    return exit::INPUT;
                }
            }
        }
        let more = match files {
            1 => String::new(),
            2 => format!(" (and {})", tenet_import::tenant_file_name(2)),
            n => format!(" (and {} more policy files, up to {})", n - 1, tenet_import::tenant_file_name(n)),
        };
        // A command that works from any folder: the written files declare no policy types, so
        // the bundled pack is used with them unless the import was for another pack.
        let shown = std::path::absolute(out).unwrap_or_else(|_| out.to_path_buf()).display().to_string();
        let pack = if policies.is_empty() { String::new() } else { " --pack <the pack imported for>".to_string() };
        eprintln!(
            "wrote {}{more} and {}; next: `tenet check{pack} {shown}`, then `tenet table{pack} --policies {shown}`",
            out.join(tenet_import::TENANT_FILE).display(),
            out.join(tenet::unstable::engine::DIRECTORY_FILE).display(),
        );
    }
    if report_missing > 0 || (rejected && !args.allow_rejects) {
        eprintln!("{}", import_failure(report_missing));
        return exit::INPUT;
    }
    exit::OK
}

/// Checks that each directory of exports is one, before anything is read: a mistyped path is
/// the cause of every missing source that would follow.
fn export_dirs(dirs: &[PathBuf]) -> Result<(), String> {
    for d in dirs {
        if !d.is_dir() {
            let why = if d.exists() { "is not a directory" } else { "does not exist" };
            return Err(format!("`{}` {why}: --from and --import take the folder holding the exports", d.display()));
        }
    }
    Ok(())
}

/// Why an import stops a command: required sources missing (never waived), or rejected rows.
fn import_failure(missing: usize) -> String {
    if missing > 0 {
        format!(
            "error: {missing} required source{} missing (`MISSING` at the top of the report says how to export each); a fact nobody exported is not assumed to be \"none\"",
            if missing == 1 { " is" } else { "s are" }
        )
    } else {
        "error: the import rejected rows (see the report): fix them, or pass --allow-rejects to go on without them"
            .to_string()
    }
}

/// Writes an import's files under `.partial` names; returns (staged, final) paths.
fn stage(
    out: &std::path::Path,
    tenant: &[(String, String)],
    directory: &tenet::unstable::directory::RawDirectory,
    orphans: Option<&str>,
) -> std::io::Result<Vec<(PathBuf, PathBuf)>> {
    std::fs::create_dir_all(out)?;
    let paths = |name: &str| (out.join(format!("{name}.partial")), out.join(name));
    let mut staged = Vec::new();
    for (name, text) in tenant {
        staged.push(paths(name));
        std::fs::write(&paths(name).0, text)?;
    }
    let (partial, done) = paths(tenet::unstable::engine::DIRECTORY_FILE);
    let mut file = std::io::BufWriter::new(std::fs::File::create(&partial)?);
    tenet_import::write_directory_file(directory, &mut file)?;
    file.flush()?;
    staged.push((partial, done));
    if let Some(orphans) = orphans {
        let (partial, done) = paths(tenet_import::ORPHANS_FILE);
        std::fs::write(&partial, orphans)?;
        staged.push((partial, done));
    }
    Ok(staged)
}

fn serve(input: Input, settings: crate::server::Settings, watch: bool) -> u8 {
    let loaded = match &input.bundle {
        Some(path) => load_bundle(path, Format::Text, &progress()).map(|(engine, info)| {
            crate::server::log(&format!("loaded the bundle `{}`: sha256 {}", path.display(), info.checksum));
            engine
        }),
        None => engine(&input, Format::Text),
    };
    let engine = match loaded {
        Ok(e) => e,
        Err(code) => return code,
    };
    let mut watched: Vec<PathBuf> = input.policies.clone();
    watched.extend(input.directory.clone());
    watched.extend(input.import.iter().cloned());
    watched.extend(input.bundle.clone());
    let rebuild: crate::server::Rebuild = std::sync::Arc::new(move || {
        if let Some(path) = &input.bundle {
            let (engine, info) = Engine::from_bundle_file(path).map_err(|e| bundle_error(path, &e).message)?;
            crate::server::log(&format!("loaded the bundle `{}`: sha256 {}", path.display(), info.checksum));
            return Ok(engine);
        }
        // A server reloads in the background: no progress line.
        let srcs = gather(&input, &Progress::new(true)).map_err(Gather::text)?;
        Engine::build_as_of(srcs, input.as_of).map(|(e, _)| e).map_err(|report| {
            let errors: Vec<Diagnostic> = report.diagnostics.into_iter().filter(Diagnostic::is_error).collect();
            render_human(&errors, &report.sources, false)
        })
    });
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: can't start the server runtime: {e}");
            return exit::INPUT;
        }
    };
    let watched = if watch { watched } else { Vec::new() };
    match runtime.block_on(crate::server::serve(engine, settings, rebuild, watched)) {
        Ok(()) => exit::OK,
        Err(e) => {
            eprintln!("error: can't serve: {e}");
            exit::INPUT
        }
    }
}
