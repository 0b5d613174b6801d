#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

// The API: build an engine from sources once, then ask it questions. Everything a caller needs
// to do that, read the answer and report problems is exported here, documented, and kept
// stable; the rest is in `unstable`.
pub use engine::{DirectorySource, Engine, Report, Sources};
pub use eval::{Outcome, Provenance, Reason};
pub use table::{Answer, DecisionHandle, DecisionTable, GuardianHandle, QueryError, UserHandle};
pub use unstable::bundle::{self, BundleError};
pub use unstable::diagnostic::{Diagnostic, Severity, render_human};
pub use unstable::fix::{self, Fix, Suggestion};
pub use unstable::output;
pub use unstable::snapshot::{self, Snapshot};
pub use unstable::source::{Source, SourceMap};
pub use unstable::summary::{self, Summary};

mod bundled;
mod facts;

pub mod unstable;

// Inside the crate, every module is reached as `crate::name`.
use unstable::{
    as_of, ast, change, check, compile, diagnostic, directory, engine, eval, model, phone, privacy, source, suggest,
    syntax, table, yaml,
};
