//! Errors in a stack file, with the spot they are about.

/// A place in a file: byte range and 1-based line and column of its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub line: usize,
    pub col: usize,
}

/// An error in a stack file. Its `Display` shows `file:line:col`, the line with a caret
/// under the spot, and what would be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{rendered}")]
pub struct StackError {
    pub file: String,
    pub span: Option<Span>,
    pub message: String,
    /// What is accepted, or the closest known key.
    pub help: Option<String>,
    rendered: String,
}
