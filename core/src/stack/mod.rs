//! The stack file: its schema, parsing with positions, validation and units.
//!
//! [`parse()`] turns TOML text into a validated [`Stack`], or into a [`StackError`] that
//! names file, line and column, draws a caret under the spot and says what is accepted.
//! Parsing does no I/O: the files of build contexts are read by the caller (the CLI
//! from disk, the playground from the page) into [`crate::image::Context`] values.

// A StackError carries its rendering; it ends the parse, so its size costs nothing.
#![allow(clippy::result_large_err)]

mod container;
pub mod dockerfile;
mod document;
pub mod error;
mod mapping;
pub mod model;
pub mod parse;
mod process;
mod schema;
pub mod subnet;
#[cfg(test)]
mod tests;
pub mod units;
mod validate;

pub use dockerfile::{Dockerfile, Instruction};
pub use error::{Span, StackError};
pub use model::*;
pub use parse::parse;
pub use subnet::SubnetError;
pub use units::UnitError;
