//! quai's integration tests, in one binary.

mod cli;
mod conformance;
mod layer_cache;
mod runtime;
mod stack_errors;
