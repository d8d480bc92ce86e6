//! quai's integration tests, in one binary.
mod runtime;
