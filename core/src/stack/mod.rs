//! The stack file: its schema, parsing with positions, validation and units.
//!
//! [`parse`] turns TOML text into a validated [`Stack`], or into a [`StackError`] that
//! names file, line and column, draws a caret under the spot and says what is accepted.
//! Parsing does no I/O: the files of build contexts are read by the caller (the CLI
//! from disk, the playground from the page) into [`crate::image::Context`] values.

pub mod dockerfile;
pub mod error;
pub mod model;
pub mod parse;
pub mod units;

pub use dockerfile::{Dockerfile, Instruction};
pub use error::{Span, StackError};
pub use model::*;
pub use parse::parse;
