//! The simulated backend: images, layers, containers, volumes and networks in memory.
//! Deterministic (same inputs, same events, same digests) and serialisable, so the CLI
//! keeps it in a file and the playground in the page. It carries a registry seeded with
//! well-known images so that pulls work offline.
