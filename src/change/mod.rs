//! What-if: the cmdlet lines an admin is about to run, applied to a copy of the checked model,
//! so the new table can be compared with the old one over every user (`tenet what-if`).
//!
//! The script is read whole first ([`parse`]), then applied in order (`apply`); every line
//! that can't be read, isn't supported, or that Teams would refuse (a locked subscription
//! default, a direct-only type assigned to a group, an unknown user, group or instance) is a
//! located error, and nothing is applied unless every line is.

mod apply;
mod parse;

pub use parse::{Arg, Command, Param, parse};

use crate::diagnostic::Diagnostic;
use crate::model::Model;
use crate::source::{Source, SourceMap};

/// A copy of `model` with the change script `script` applied. The script joins the model's
/// sources, so provenance names its lines (`change.ps1:3`); on errors, those sources come back
/// with the diagnostics, to render them.
pub fn applied(model: &Model, script: Source) -> Result<Model, (SourceMap, Vec<Diagnostic>)> {
    let mut next = model.clone();
    let text = script.text.clone();
    let file = next.sources.add(script);
    let result = parse(file, &text).and_then(|commands| apply::apply(&mut next, &commands));
    match result {
        Ok(()) => Ok(next),
        Err(errors) => Err((next.sources, errors)),
    }
}
