#![doc = include_str!("../README.md")]

pub mod ast;
pub mod diagnostic;
pub mod source;
pub mod syntax;
pub mod directory;
pub mod check;
pub mod model;
pub mod eval;
pub mod compile;
pub mod table;
pub mod engine;
pub mod output;
mod bundled;

pub use engine::{Engine, Sources};
pub use table::{Decision, DecisionTable, QueryError};
