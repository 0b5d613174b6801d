//! `tenet`: thin entry point; everything else lives in the library and in `cli`.

mod cli;
mod server;

fn main() -> std::process::ExitCode {
    cli::run()
}
