//! How the engine grows with the district, on synthetic districts from `tenet::unstable::generate`
//! (the same ones `tenet gen` writes, handed over in memory): building (parse, check, compile)
//! at 1,000 to 100,000 users, and queries on a 10,000-user district: decisions by UPN and by
//! handle, a guardian decision, `explain`'s provenance and the full table. Run with
//! `cargo bench --bench scale`; `cargo bench --bench growth` adds 1,000,000 users and memory.

#![allow(clippy::expect_used, clippy::unwrap_used, missing_docs)]

use criterion::{BenchmarkId, Criterion, Throughput, black_box, criterion_group, criterion_main};
use tenet::Source;
use tenet::unstable::generate::{Spec, district};
use tenet::{Engine, Sources};

/// The allocator the `tenet` command uses (see crates/tenet-cli/src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn sources(users: usize) -> Sources {
    let d = district(Spec { users, seed: 1 });
    let mut policies: Vec<Source> =
        Sources::bundled().policies.into_iter().filter(|s| s.name.starts_with("policies/teams/")).collect();
    policies.push(Source::new("generated/tenant.tenet", d.tenant));
    Sources { policies, directory: tenet::DirectorySource::Data { data: Box::new(d.directory), named: None } }
}

fn build(c: &mut Criterion) {
    let mut g = c.benchmark_group("build");
    g.sample_size(10);
    for users in [1_000, 10_000, 100_000] {
        let input = sources(users);
        g.throughput(Throughput::Elements(users as u64));
        g.bench_with_input(BenchmarkId::from_parameter(users), &input, |b, input| {
            // Cloning the input is not timed; dropping the engine is.
            b.iter_batched(
                || input.clone(),
                |input| Engine::build(input).map(|(e, _)| e.table().profile_count()),
                criterion::BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

fn queries(c: &mut Criterion) {
    let (engine, _) = Engine::build(sources(10_000)).expect("the generated district checks");
    let table = engine.table().clone();
    let teachers: Vec<String> = (0..200).map(|i| format!("teacher{i}@district.edu")).collect();
    let mut g = c.benchmark_group("decide_10k");
    g.throughput(Throughput::Elements(teachers.len() as u64));
    g.bench_function("chat_with_guardians_by_upn", |b| {
        b.iter(|| {
            teachers
                .iter()
                .filter(|t| table.decide(black_box(t), "chat_with_guardians", None).is_ok_and(|d| d.allowed()))
                .count()
        })
    });
    // A typo of each: an error with a suggestion, whose cost must not grow with the district
    // (compare `suggest_unknown_user` in the `decide` group, on the small bundled example).
    let typos: Vec<String> = teachers.iter().map(|t| t.replacen("teacher", "taecher", 1)).collect();
    g.bench_function("suggest_unknown_user", |b| {
        b.iter(|| typos.iter().filter(|t| table.decide(black_box(t), "chat_with_guardians", None).is_err()).count())
    });
    let pairs: Vec<(String, String)> = teachers
        .iter()
        .filter_map(|t| {
            let u = table.user(t).ok()?;
            let g = table.guardians_of(u).into_iter().next()?;
            Some((t.clone(), table.guardian_at(g).id().to_string()))
        })
        .collect();
    g.throughput(Throughput::Elements(pairs.len() as u64));
    g.bench_function("call_guardian_by_upn", |b| {
        b.iter(|| {
            pairs.iter().filter(|(t, gd)| table.decide(t, "call_guardian", Some(gd)).is_ok_and(|d| d.allowed())).count()
        })
    });
    let call = table.decision("call_guardian").expect("the pack has call_guardian");
    let handles: Vec<_> = pairs
        .iter()
        .map(|(t, gd)| (table.user(t).expect("a generated teacher"), table.guardian(gd).expect("a generated guardian")))
        .collect();
    g.bench_function("call_guardian_by_handle", |b| {
        b.iter(|| {
            handles
                .iter()
                .filter(|(u, gd)| table.decide_handles(*u, call, Some(*gd)).is_ok_and(|d| d.allowed()))
                .count()
        })
    });
    g.bench_function("explain_call_guardian", |b| {
        b.iter(|| {
            pairs
                .iter()
                .filter_map(|(t, gd)| table.decide(t, "call_guardian", Some(gd)).ok())
                .map(|d| d.provenance().len())
                .sum::<usize>()
        })
    });
    g.finish();

    // Every decision of every user, guardian decisions for each guardian they deal with: what
    // `tenet table` lists.
    let mut g = c.benchmark_group("table_10k");
    g.sample_size(10);
    g.throughput(Throughput::Elements(table.all().len() as u64));
    g.bench_function("all_decisions", |b| b.iter(|| table.all().len()));
    g.finish();
}

criterion_group!(scale, build, queries);
criterion_main!(scale);
