//! `tenet`: thin entry point; everything else lives in the library and in `cli`.

mod cli;
mod counts;
mod fix;
mod progress;
mod report;
mod server;
mod snapshot;
mod what_if;

fn main() -> std::process::ExitCode {
    cli::run()
}
