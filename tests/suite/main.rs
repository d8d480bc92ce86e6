//! quai's integration tests, in one binary.
