//! The integration test binary: one binary, one module per concern.

mod agreement;
mod cli;
mod diagnostics;
mod examples;
mod precedence;
mod support;
