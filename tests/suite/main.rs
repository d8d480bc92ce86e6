//! quai's integration tests, in one binary.

mod layer_cache;
mod stack_errors;
