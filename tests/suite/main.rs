//! quai's integration tests, in one binary.

mod cli;
mod stack_errors;
