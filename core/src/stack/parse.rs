//! From TOML text to a validated [`Stack`].

use crate::stack::{Stack, StackError};

/// Parses and validates a stack file. `file` is its name as shown in errors;
/// `folder_name` gives the stack its default name.
pub fn parse(text: &str, file: &str, folder_name: &str) -> Result<Stack, StackError> {
    let _ = (text, file, folder_name);
    todo!("stack::parse")
}
