//! Apply benchmark: generated stacks of 100 and 1 000 containers (see `common`) planned from
//! empty and applied on a fresh sim backend, with the state in memory and then in files
//! (where every step is saved atomically: temporary file, fsync, rename, fsync of the
//! folder). Prints the median of several runs of `apply::apply` with default options;
//! the plan before it is timed apart.
//!
//! Run: `cargo bench -p quai-core --bench apply` (`-- memory` or `-- file` for one store).

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use common::stack;
use quai_core::apply::{apply, ApplyOptions};
use quai_core::backend::sim::SimBackend;
use quai_core::backend::Backend;
use quai_core::event::Discard;
use quai_core::plan::diff;
use quai_core::resource::desired::references;
use quai_core::state::file::FileStore;
use quai_core::state::memory::MemoryStore;
use quai_core::state::StateStore;

/// One apply from empty: (plan time, apply time, state writes).
fn run(containers: usize, store: &dyn StateStore) -> (Duration, Duration, u64) {
    let desired = stack(containers);
    let name = desired.stack.name.clone();
    let backend = SimBackend::new();
    let wanted = references(&desired).expect("references");
    let observed = backend.observe(&name, &wanted).expect("observe");
    let state = store.read(&name).expect("read the state");
    let start = Instant::now();
    let plan = diff(&desired, &state, &observed).expect("plan");
    let planned = start.elapsed();
    let mut lock = store
        .lock(&name, "apply", Duration::from_secs(5))
        .expect("lock");
    let start = Instant::now();
    let report = apply(
        black_box(&plan),
        &backend,
        &mut *lock,
        &desired.contexts,
        &Discard,
        &ApplyOptions::default(),
    )
    .expect("apply");
    // Letting go of the lock is part of the apply: the file store folds its journal
    // into the state file then.
    drop(lock);
    let applied = start.elapsed();
    assert!(report.succeeded(), "every step succeeds: {report:?}");
    let observed = backend.observe(&name, &wanted).expect("observe");
    let after = store.read(&name).expect("read the state");
    let serial = after.serial;
    let again = diff(&desired, &after, &observed).expect("plan again");
    assert!(!again.has_changes(), "the apply converged");
    (planned, applied, serial)
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    println!(
        "apply from empty on the sim backend, default options (parallelism {}), median of N runs",
        ApplyOptions::default().parallelism
    );
    println!(
        "{:>8} {:>10} {:>4} {:>8} {:>12} {:>12} {:>10}",
        "store", "containers", "N", "writes", "plan ms", "apply ms", "min ms"
    );
    // Not 10 000: the generated stack's four /24 networks hold 253 containers each.
    let sizes: [(&str, usize, usize); 4] = [
        ("memory", 100, 9),
        ("memory", 1_000, 5),
        ("file", 100, 5),
        ("file", 1_000, 3),
    ];
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    for (kind, containers, runs) in sizes {
        if !only.is_empty() && !only.iter().any(|o| o == kind) {
            continue;
        }
        let mut plans = Vec::new();
        let mut applies = Vec::new();
        let mut writes = 0;
        for _ in 0..runs {
            let dir = tempfile::tempdir().expect("temporary folder");
            let (plan, applied, serial) = match kind {
                "memory" => run(containers, &MemoryStore::new()),
                _ => run(containers, &FileStore::new(dir.path())),
            };
            plans.push(plan);
            applies.push(applied);
            writes = serial;
        }
        let min = *applies.iter().min().expect("runs");
        println!(
            "{:>8} {:>10} {:>4} {:>8} {:>12.2} {:>12.2} {:>10.2}",
            kind,
            containers,
            runs,
            writes,
            ms(median(plans)),
            ms(median(applies)),
            ms(min)
        );
    }
}
