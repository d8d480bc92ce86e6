//! quai's integration tests, in one binary.
mod stack_errors;
