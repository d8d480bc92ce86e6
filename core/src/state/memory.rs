//! A state store in memory (tests, the playground).
