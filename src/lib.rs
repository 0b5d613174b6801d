#![doc = include_str!("../README.md")]

pub mod as_of;
pub mod ast;
mod bundled;
pub mod check;
pub mod compile;
pub mod diagnostic;
pub mod directory;
pub mod engine;
pub mod eval;
pub mod expect;
mod facts;
pub mod generate;
pub mod model;
pub mod output;
pub mod phone;
pub mod privacy;
pub mod source;
pub mod suggest;
pub mod syntax;
pub mod table;
pub mod yaml;

pub use engine::{Engine, Sources};
pub use table::{Answer, DecisionTable, QueryError};
