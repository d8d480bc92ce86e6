//! The dependency graph of a stack's addresses: cycle detection (naming the cycle) and
//! ordering in waves (each wave depends only on earlier ones). Pure.
