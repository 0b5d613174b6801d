//! The integration test binary: one binary, one module per concern.

// Tests report failures by panicking, helpers included.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod agreement;
mod bundle;
mod cli;
mod diagnostics;
mod examples;
mod fix;
mod import;
mod import_trust;
mod pack;
mod precedence;
mod privacy;
mod progress;
mod report;
mod robustness;
mod server;
mod snapshot;
mod support;
mod table;
mod what_if;
