//! The backend conformance suite, for each backend available here.

use quai_core::backend::sim::SimBackend;

quai_tests::conformance!(sim, SimBackend::new);
