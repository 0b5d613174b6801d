//! Embedding tenet: "can this teacher chat with guardians?" from your own Rust code, with the
//! engine crate alone (no server, no CLI). Run it with `cargo run --example can_chat`.
//!
//! It builds the bundled example district; a real service reads its own files with
//! `Sources::read(&paths, directory)`.

use tenet::{Engine, Sources};

fn main() -> std::process::ExitCode {
    let engine = match Engine::build(Sources::bundled()) {
        Ok((engine, _warnings)) => engine,
        Err(report) => {
            eprint!("{}", tenet::render_human(&report.diagnostics, &report.sources, false));
            return std::process::ExitCode::FAILURE;
        }
    };
    for upn in ["ana.rivera@lakeside.edu", "frank.mueller@lakeside.edu"] {
        match engine.decide(upn, "chat_with_guardians", None) {
            Ok(answer) if answer.allowed() => println!("{upn}: allowed"),
            Ok(answer) => println!("{upn}: denied ({}: {})", answer.outcome.reason.code, answer.outcome.reason.message),
            Err(e) => println!("{upn}: {e}"),
        }
    }
    std::process::ExitCode::SUCCESS
}
