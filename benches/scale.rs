//! How the engine grows with the district, on synthetic districts from `tenet::generate`
//! (the same ones `tenet gen` writes): building (parse, check, compile) at several sizes, and
//! queries on a 10,000-user district. Run with `cargo bench --bench scale`.

#![allow(clippy::expect_used, clippy::unwrap_used, missing_docs)]

use criterion::{BenchmarkId, Criterion, Throughput, black_box, criterion_group, criterion_main};
use tenet::engine::{Engine, Sources};
use tenet::generate::{Spec, district};
use tenet::source::Source;

fn sources(users: usize) -> Sources {
    let d = district(Spec { users, seed: 1 });
    let mut policies: Vec<Source> =
        Sources::bundled().policies.into_iter().filter(|s| s.name.starts_with("policies/teams/")).collect();
    policies.push(Source::new("generated/tenant.tenet", d.tenant));
    Sources { policies, directory: None, directory_data: Some(d.directory) }
}

fn build(c: &mut Criterion) {
    let mut g = c.benchmark_group("build");
    g.sample_size(10);
    for users in [1_000, 10_000] {
        let input = sources(users);
        g.throughput(Throughput::Elements(users as u64));
        g.bench_with_input(BenchmarkId::from_parameter(users), &input, |b, input| {
            b.iter(|| Engine::build(input.clone()).map(|(e, _)| e.table().profile_count()))
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
    let pairs: Vec<(String, String)> = teachers
        .iter()
        .filter_map(|t| {
            let u = table.user(t).ok()?;
            let g = table.guardians_of(u).into_iter().next()?;
            Some((t.clone(), table.model().directory.guardians[g.index()].id.clone()))
        })
        .collect();
    g.throughput(Throughput::Elements(pairs.len() as u64));
    g.bench_function("call_guardian_by_upn", |b| {
        b.iter(|| {
            pairs.iter().filter(|(t, gd)| table.decide(t, "call_guardian", Some(gd)).is_ok_and(|d| d.allowed())).count()
        })
    });
    g.finish();
}

criterion_group!(scale, build, queries);
criterion_main!(scale);
