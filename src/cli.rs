//! The command line: parses arguments, calls the library, renders results, picks exit codes.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use tenet::diagnostic::{Diagnostic, render_human};
use tenet::engine::{Engine, Report, Sources, check_sources};
use tenet::output::{self, DecisionJson};
use tenet::table::QueryError;

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
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Parse and check policy files; report every error and warning
    Check {
        /// Policy files or directories (default: the bundled example district)
        paths: Vec<PathBuf>,
        /// The directory file (default: `directory.yaml` in a given directory)
        #[arg(long)]
        directory: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Decide one question: can this user do this (with this guardian)?
    Decide(Query),
    /// Decide and explain: the deciding rule, every blocker, and where each setting came from
    Explain(Query),
    /// Run the policy set's `expect` lines (policy tests); exit 1 if any fails
    Test {
        #[command(flatten)]
        input: Input,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
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
    /// Every user × every decision (guardian decisions for each guardian the user deals with)
    Table {
        #[command(flatten)]
        input: Input,
        #[arg(long, value_enum, default_value_t = TableFormat::Text)]
        format: TableFormat,
    },
}

#[derive(Debug, Args)]
struct Input {
    /// Policy files or directories; repeat for several (default: the bundled example district)
    #[arg(long = "policies", value_name = "PATH")]
    policies: Vec<PathBuf>,
    /// The directory file (default: `directory.yaml` in a given policy directory)
    #[arg(long, value_name = "FILE")]
    directory: Option<PathBuf>,
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
enum LogFormat {
    /// One readable line per request (coloured on a terminal)
    Human,
    /// One JSON object per request
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TableFormat {
    Text,
    Json,
    Csv,
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
    ExitCode::from(match cli.command {
        Command::Check { paths, directory, format } => check(&paths, directory, format),
        Command::Decide(q) => decide(&q, false),
        Command::Explain(q) => decide(&q, true),
        Command::Test { input, format } => test(&input, format),
        Command::Gen { users, seed, out } => generate(users, seed, &out),
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
        Command::Table { input, format } => table(&input, format),
    })
}

fn color() -> bool {
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}

fn sources(paths: &[PathBuf], directory: Option<PathBuf>) -> (Sources, Vec<Diagnostic>) {
    if paths.is_empty() && directory.is_none() {
        (Sources::bundled(), Vec::new())
    } else {
        Sources::read(paths, directory.as_deref())
    }
}

fn print_report(report: &Report, format: Format, only_errors: bool) {
    let shown: Vec<Diagnostic> = report.diagnostics.iter().filter(|d| !only_errors || d.is_error()).cloned().collect();
    match format {
        Format::Text => {
            eprint!("{}", render_human(&shown, &report.sources, color()));
        }
        Format::Json => {
            let items: Vec<_> = shown.iter().map(|d| d.to_json(&report.sources)).collect();
            println!("{}", serde_json::json!({ "diagnostics": items }));
        }
    }
}

fn io_failure(errors: Vec<Diagnostic>, format: Format) -> u8 {
    let report = Report { sources: Default::default(), diagnostics: errors };
    print_report(&report, format, false);
    exit::INPUT
}

fn check(paths: &[PathBuf], directory: Option<PathBuf>, format: Format) -> u8 {
    let (srcs, io) = sources(paths, directory);
    if !io.is_empty() {
        return io_failure(io, format);
    }
    let no_directory = srcs.directory.is_none();
    let (_, report) = check_sources(srcs);
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
        if no_directory {
            eprintln!("note: no directory file was given or found, so the directory is empty");
        }
    }
    if errors > 0 { exit::INPUT } else { exit::OK }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Builds the engine, printing errors (never warnings) on failure.
fn engine(input: &Input, format: Format) -> Result<Engine, u8> {
    let (srcs, io) = sources(&input.policies, input.directory.clone());
    if !io.is_empty() {
        return Err(io_failure(io, format));
    }
    if srcs.directory.is_none() {
        eprintln!(
            "warning: no directory file (no `directory.yaml` in the given directories, no --directory): no users"
        );
    }
    match Engine::build(srcs) {
        Ok((engine, _)) => Ok(engine),
        Err(report) => {
            print_report(&report, format, true);
            Err(exit::INPUT)
        }
    }
}

fn query_error(e: &QueryError, format: Format) -> u8 {
    match format {
        Format::Text => eprintln!("error: {e}"),
        Format::Json => println!("{}", serde_json::json!({ "error": { "code": e.code(), "message": e.to_string() } })),
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
        Err(e) => return query_error(&e, q.format),
    };
    let mut out = std::io::stdout().lock();
    let _ = match (q.format, explain) {
        (Format::Json, _) => writeln!(out, "{}", json(&DecisionJson::new(&d))),
        (Format::Text, false) => writeln!(out, "{}", output::one_line(&d)),
        (Format::Text, true) => write!(out, "{}", output::explain(&d)),
    };
    if d.allowed() { exit::OK } else { exit::DENY }
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

fn table(input: &Input, format: TableFormat) -> u8 {
    let json_errors = if format == TableFormat::Json { Format::Json } else { Format::Text };
    let engine = match engine(input, json_errors) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let table = engine.table();
    let all = table.all();
    let text = match format {
        TableFormat::Text => output::table_text(&all),
        TableFormat::Json => json(&all.iter().map(DecisionJson::new).collect::<Vec<_>>()) + "\n",
        TableFormat::Csv => match output::table_csv(&all) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: can't write CSV: {e}");
                return exit::INPUT;
            }
        },
        TableFormat::Profiles => table.dump(),
    };
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    exit::OK
}

fn test(input: &Input, format: Format) -> u8 {
    let engine = match engine(input, format) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let results = tenet::expect::run(engine.table());
    let failed = results.iter().filter(|r| !r.passed).count();
    let passed = results.len() - failed;
    match format {
        Format::Json => {
            println!("{}", json(&serde_json::json!({ "results": results, "passed": passed, "failed": failed })));
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
            print!("{out}");
        }
    }
    if failed > 0 { exit::INPUT } else { exit::OK }
}

fn generate(users: usize, seed: u64, out: &std::path::Path) -> u8 {
    let district = tenet::generate::district(tenet::generate::Spec { users, seed });
    let written = std::fs::create_dir_all(out)
        .and_then(|()| std::fs::write(out.join("tenant.tenet"), &district.tenant))
        .and_then(|()| std::fs::write(out.join("directory.yaml"), &district.directory));
    match written {
        Ok(()) => {
            eprintln!(
                "wrote {} and {}: use with `--policies policies/teams --policies {}`",
                out.join("tenant.tenet").display(),
                out.join("directory.yaml").display(),
                out.display()
            );
            exit::OK
        }
        Err(e) => {
            eprintln!("error: can't write to `{}`: {e}", out.display());
            exit::INPUT
        }
    }
}

fn serve(input: Input, settings: crate::server::Settings, watch: bool) -> u8 {
    let engine = match engine(&input, Format::Text) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let mut watched: Vec<PathBuf> = input.policies.clone();
    watched.extend(input.directory.clone());
    let rebuild: crate::server::Rebuild = std::sync::Arc::new(move || {
        let (srcs, io) = sources(&input.policies, input.directory.clone());
        if !io.is_empty() {
            return Err(render_human(&io, &Default::default(), false));
        }
        Engine::build(srcs).map(|(e, _)| e).map_err(|report| {
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
