//! Query cost on the bundled example district: decide by name, by handle, a guardian decision,
//! provenance for `explain`, and the whole build (parse, check, compile).
//!
//! Run with `cargo bench --bench decide`. District-scale benchmarks and peer engines belong to
//! the performance work; this bench keeps the hot path honest meanwhile.

#![allow(clippy::expect_used, clippy::unwrap_used, missing_docs)]

use criterion::{Criterion, Throughput, black_box, criterion_group, criterion_main};
use tenet::Engine;

/// The allocator the `tenet` command uses (see crates/tenet-cli/src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn benches(c: &mut Criterion) {
    let (engine, _) = Engine::bundled().expect("the bundled example checks");
    let table = engine.table().clone();
    // A teacher with guardians, found rather than named so the bench survives example edits.
    let (user, guardian) = table
        .model()
        .directory
        .users()
        .find_map(|(_, u)| {
            let h = table.user(u.upn()).ok()?;
            table.guardians_of(h).first().map(|g| (u.upn().to_string(), table.guardian_at(*g).id().to_string()))
        })
        .expect("some user deals with a guardian");

    let mut g = c.benchmark_group("decide");
    g.throughput(Throughput::Elements(1));
    g.bench_function("by_upn", |b| {
        b.iter(|| table.decide(black_box(&user), black_box("chat_with_guardians"), None).map(|d| d.allowed()))
    });
    // An unknown user: an error with a suggestion (see `decide_10k/suggest_unknown_user`).
    let typo = format!("x{user}");
    g.bench_function("suggest_unknown_user", |b| {
        b.iter(|| table.decide(black_box(&typo), black_box("chat_with_guardians"), None).is_err())
    });
    let (uh, dh) = (table.user(&user).unwrap(), table.decision("chat_with_guardians").unwrap());
    g.bench_function("by_handle", |b| {
        b.iter(|| table.decide_handles(black_box(uh), black_box(dh), None).map(|d| d.allowed()))
    });
    g.bench_function("guardian_by_upn", |b| {
        b.iter(|| {
            table.decide(black_box(&user), black_box("call_guardian"), Some(black_box(&guardian))).map(|d| d.allowed())
        })
    });
    g.bench_function("explain_provenance", |b| {
        b.iter(|| table.decide(black_box(&user), "call_guardian", Some(&guardian)).map(|d| d.provenance().len()))
    });
    g.finish();

    let mut g = c.benchmark_group("build");
    g.sample_size(20);
    g.bench_function("pack_parse_check", |b| {
        b.iter(|| tenet::unstable::engine::check_sources(tenet::Sources::pack()).0.map(|m| m.decisions.len()))
    });
    g.bench_function("bundled_example", |b| b.iter(|| Engine::bundled().map(|(e, _)| e.table().profile_count())));
    g.finish();
}

criterion_group!(decide, benches);
criterion_main!(decide);
