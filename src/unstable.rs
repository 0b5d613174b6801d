//! The engine's internals: the language (`syntax`, `ast`), the checker, the checked `model`,
//! the `directory`, the compiler and the table's parts, the reference evaluator, privacy, and
//! the helpers tenet's own crates share (`tenet-import`, `tenet-cli`), tests, benches and fuzz
//! targets use.
//!
//! **No stability promise**: anything here may change or go in any release. Embed through
//! the names at the crate's root.
//!
//! (The files stay where the architecture puts them; only their names are gathered here.) The
//! modules the root's names come from (`engine`, `table`, `eval`, `diagnostic`, `source`,
//! `output`) are documented in full; the others are not held to it.

#[path = "as_of.rs"]
#[allow(missing_docs)]
pub mod as_of;
#[path = "ast.rs"]
#[allow(missing_docs)]
pub mod ast;
#[path = "bundle.rs"]
pub mod bundle;
#[path = "change/mod.rs"]
pub mod change;
#[path = "check/mod.rs"]
#[allow(missing_docs)]
pub mod check;
#[path = "compile.rs"]
#[allow(missing_docs)]
pub mod compile;
#[path = "diagnostic.rs"]
pub mod diagnostic;
#[path = "directory/mod.rs"]
#[allow(missing_docs)]
pub mod directory;
#[path = "engine.rs"]
pub mod engine;
#[path = "eval.rs"]
pub mod eval;
#[path = "expect.rs"]
#[allow(missing_docs)]
pub mod expect;
#[path = "fix/mod.rs"]
pub mod fix;
#[path = "generate.rs"]
#[allow(missing_docs)]
pub mod generate;
#[path = "model.rs"]
#[allow(missing_docs)]
pub mod model;
#[path = "output.rs"]
pub mod output;
#[path = "phone.rs"]
#[allow(missing_docs)]
pub mod phone;
#[path = "privacy.rs"]
#[allow(missing_docs)]
pub mod privacy;
#[path = "snapshot.rs"]
pub mod snapshot;
#[path = "source.rs"]
pub mod source;
#[path = "suggest.rs"]
#[allow(missing_docs)]
pub mod suggest;
#[path = "summary.rs"]
pub mod summary;
#[path = "syntax/mod.rs"]
#[allow(missing_docs)]
pub mod syntax;
#[path = "table/mod.rs"]
pub mod table;
#[path = "yaml.rs"]
#[allow(missing_docs)]
pub mod yaml;
