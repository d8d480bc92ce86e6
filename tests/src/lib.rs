//! Helpers for quai's test suite: the conformance suite is written once against the
//! `Backend` trait and instantiated for each backend.
