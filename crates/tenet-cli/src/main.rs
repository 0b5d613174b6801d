//! `tenet`: thin entry point; everything else lives in the library and in `cli`.

mod cli;
mod counts;
mod fix;
mod progress;
mod report;
mod server;
mod snapshot;
mod what_if;

/// mimalloc rather than the system's allocator: loading a district makes millions of small
/// allocations, and the system allocator's bookkeeping was a fifth of the time (measured in
/// BENCHMARKS.md, "The allocator"). The engine crate leaves the choice to whoever embeds it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::run()
}
