//! How building grows with the district: time, memory and bytes per user at 1,000 to 1,000,000
//! users, on synthetic districts from `tenet::unstable::generate` handed to the engine in memory (no YAML).
//!
//! Run with `cargo bench --bench growth` (all sizes) or `cargo bench --bench growth -- 100000`.
//! Each size runs in a fresh process (this binary again), so its peak RSS (`VmHWM`) is its own.
//! A counting allocator (crate `cap`) gives exact heap figures for what is live after each
//! phase. Prints one Markdown table row per size. The last two columns write the built table
//! as a bundle (in memory) and time loading it back: what `tenet serve --bundle` pays instead of
//! the build.

#![allow(clippy::expect_used, clippy::unwrap_used, missing_docs)]

use cap::Cap;
use mimalloc::MiMalloc;
use std::sync::Arc;
use std::time::Instant;
use tenet::Source;
use tenet::unstable::engine::{Sources, check_sources};
use tenet::unstable::generate::{Spec, district};

/// The allocator the `tenet` command uses (see crates/tenet-cli/src/main.rs), counting live bytes.
#[global_allocator]
static ALLOCATOR: Cap<MiMalloc> = Cap::new(MiMalloc, usize::MAX);

const SIZES: [usize; 4] = [1_000, 10_000, 100_000, 1_000_000];
const ONE_SIZE: &str = "TENET_GROWTH_USERS";

fn main() {
    if let Some(users) = std::env::var(ONE_SIZE).ok().and_then(|v| v.parse().ok()) {
        measure(users);
        return;
    }
    // `cargo bench` passes `--bench`; a number picks the sizes.
    let chosen: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.replace(['_', ','], "").parse().ok()).collect();
    let sizes = if chosen.is_empty() { SIZES.to_vec() } else { chosen };
    println!(
        "| users | generate | check | compile | build (check + compile) | peak RSS | input heap | resident: model + table | table only | profiles | cells | bundle | load from bundle |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    let exe = std::env::current_exe().expect("the bench knows its own path");
    for users in sizes {
        let status = std::process::Command::new(&exe).env(ONE_SIZE, users.to_string()).status();
        if !status.is_ok_and(|s| s.success()) {
            eprintln!("the run at {users} users failed");
            std::process::exit(1);
        }
    }
}

fn measure(users: usize) {
    let t = Instant::now();
    let d = district(Spec { users, seed: 1 });
    let mut policies: Vec<Source> =
        Sources::bundled().policies.into_iter().filter(|s| s.name.starts_with("policies/teams/")).collect();
    policies.push(Source::new("generated/tenant.tenet", d.tenant));
    let sources =
        Sources { policies, directory: tenet::DirectorySource::Data { data: Box::new(d.directory), named: None } };
    let generate = t.elapsed();
    let input = ALLOCATOR.allocated();

    let t = Instant::now();
    let (model, report) = check_sources(sources);
    let model = Arc::new(model.expect("the generated district checks"));
    let check = t.elapsed();
    drop(report);
    let t = Instant::now();
    let before_table = ALLOCATOR.allocated();
    let table = tenet::unstable::compile::compile(model);
    let compile = t.elapsed();
    let resident = ALLOCATOR.allocated();
    let table_only = resident - before_table;
    let per_user = |bytes: usize| bytes as f64 / users as f64;
    let peak = peak_rss();
    let engine = tenet::Engine::from(Arc::new(table));
    let mut bundle = Vec::new();
    engine.write_bundle(&mut bundle).expect("the bundle is written");
    let (profiles, cells) = (engine.table().profile_count(), engine.table().cell_count());
    drop(engine);
    let t = Instant::now();
    let loaded = tenet::Engine::from_bundle(&bundle).expect("the bundle loads");
    let load = t.elapsed();
    drop(loaded);
    println!(
        "| {users} | {:.2} s | {:.2} s | {:.2} s | {:.2} s | {} | {} ({:.0} B/user) | {} ({:.0} B/user) | {} ({:.1} B/user) | {} | {} | {} | {:.2} s |",
        generate.as_secs_f64(),
        check.as_secs_f64(),
        compile.as_secs_f64(),
        (check + compile).as_secs_f64(),
        peak.map_or_else(|| "n/a".to_string(), mb),
        mb(input),
        per_user(input),
        mb(resident),
        per_user(resident),
        mb(table_only),
        per_user(table_only),
        profiles,
        cells,
        mb(bundle.len()),
        load.as_secs_f64(),
    );
}

fn mb(bytes: usize) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// The process's peak resident set (Linux `/proc/self/status`), in bytes.
fn peak_rss() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
