//! No-op plan benchmark: generated stacks of 100, 1 000 and 10 000 containers, planned
//! against a state and an observation that match them (as after an apply). Measures
//! `plan::diff` (which resolves the desired configuration, build keys included) and
//! prints the median of several runs. The state is decoded from its JSON as a file
//! store would give it (the decoding is timed apart). Targets: 1 000 containers in ≤ 50 ms, 10 000 in
//! ≤ 10× the 1 000 figure.
//!
//! Run: `cargo bench -p quai-core --bench plan`.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

mod common;

use common::{busybox, stack};
use quai_core::backend::{Observed, ObservedContainer, ObservedImage, ObservedNetwork};
use quai_core::event::ContainerStatus;
use quai_core::image::{Digest, ImageInfo};
use quai_core::plan::diff;
use quai_core::resource::desired::{resolve, Desired};
use quai_core::resource::{ImageResource, ResourceConfig};
use quai_core::stack::Subnet;
use quai_core::state::{Recorded, State};

fn base_observed() -> Observed {
    let mut o = Observed::default();
    let info = |name: &str| ObservedImage {
        info: ImageInfo {
            digest: Digest::of(name.as_bytes()),
            layers: Vec::new(),
            config: Default::default(),
            tags: vec![name.into()],
        },
        local: true,
    };
    o.images.insert("busybox:1.36".into(), info("busybox:1.36"));
    o.images.insert(busybox().to_string(), info("busybox:1.36"));
    o
}

/// The state and observation after an apply that did what `desired` asks.
fn applied(desired: &Desired, observed: &Observed) -> (State, Observed) {
    let mut state = State::new(&desired.stack.name);
    let mut seen = observed.clone();
    for (address, config) in resolve(desired, observed).expect("the generated stack resolves") {
        let mut id = String::new();
        match &config {
            ResourceConfig::Image(i) => {
                id = i.identity().to_string();
                if let ImageResource::Build { steps, .. } = &**i {
                    seen.cache.extend(steps.iter().map(|s| s.key.clone()));
                }
            }
            ResourceConfig::Volume(v) => {
                seen.volumes.insert(v.name.clone());
            }
            ResourceConfig::Network(n) => {
                seen.networks.insert(
                    n.name.clone(),
                    ObservedNetwork {
                        subnet: Subnet {
                            addr: [10, 89, 0, 0],
                            prefix: 24,
                        },
                    },
                );
            }
            ResourceConfig::Container(c) => {
                id = Digest::of(address.to_string().as_bytes()).hex().to_string();
                seen.containers.insert(
                    id.clone(),
                    ObservedContainer {
                        name: c.name.clone(),
                        address: address.clone(),
                        status: ContainerStatus::Running,
                        exit_code: None,
                        image_id: c.image_id.clone(),
                        oom_killed: false,
                    },
                );
            }
        }
        state.resources.insert(
            address,
            Recorded {
                config,
                id,
                attributes: BTreeMap::new(),
            },
        );
    }
    (state, seen)
}

/// The state as `quai plan` has it: decoded from the text a file store writes (its
/// records then lie in memory as a loaded state's do, not interleaved with what
/// `applied` made beside them), with how long the decoding took.
fn as_loaded(state: &State) -> (State, Duration) {
    let text = quai_core::state::encode(state);
    let start = Instant::now();
    let state = quai_core::state::decode(&text, "bench").expect("the state decodes");
    let took = start.elapsed();
    (state, took)
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    println!("no-op plan (resolve + diff), median of N runs; and decoding the state's JSON");
    println!(
        "{:>10} {:>10} {:>4} {:>12} {:>12} {:>14} {:>12}",
        "containers", "resources", "N", "median ms", "min ms", "µs/container", "decode ms"
    );
    let mut cases = BTreeMap::new();
    for (containers, runs) in [(100, 51), (1_000, 41), (10_000, 21)] {
        let desired = stack(containers);
        let (state, observed) = applied(&desired, &base_observed());
        let decodes: Vec<Duration> = (0..runs.min(11)).map(|_| as_loaded(&state).1).collect();
        let (state, _) = as_loaded(&state);
        let plan = diff(&desired, &state, &observed).expect("plan");
        assert!(
            !plan.has_changes(),
            "the generated state must match its stack"
        );
        let case = Case {
            desired,
            state,
            observed,
        };
        let times = case.time(runs);
        let min = *times.iter().min().expect("runs");
        let med = median(times);
        println!(
            "{:>10} {:>10} {:>4} {:>12.2} {:>12.2} {:>14.1} {:>12.2}",
            containers,
            case.state.resources.len(),
            runs,
            ms(med),
            ms(min),
            med.as_secs_f64() * 1e6 / containers as f64,
            ms(median(decodes)),
        );
        cases.insert(containers, case);
    }
    // The ratio, measured in rounds that time 1 000 then 10 000 back to back, so that a
    // change in the machine's speed between them (a shared VM) weighs on both sides.
    let rounds = 9;
    let mut ratios = Vec::with_capacity(rounds);
    let mut one_k = Vec::with_capacity(rounds);
    let mut ten_k = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let k1 = median(cases[&1_000].time(15));
        let k10 = median(cases[&10_000].time(5));
        one_k.push(k1);
        ten_k.push(k10);
        ratios.push(k10.as_secs_f64() / k1.as_secs_f64());
    }
    ratios.sort_by(f64::total_cmp);
    let ratio = ratios[rounds / 2];
    let (k1, k10) = (median(one_k), median(ten_k));
    println!(
        "in the rounds: 1 000 containers {:.2} ms, 10 000 containers {:.2} ms",
        ms(k1),
        ms(k10)
    );
    println!(
        "1 000 containers: {:.2} ms (target ≤ 50 ms: {}); 10 000 / 1 000 = {:.1}× (median of {rounds} rounds, {:.1}–{:.1}; target ≤ 10×: {})",
        ms(k1),
        if ms(k1) <= 50.0 { "met" } else { "MISSED" },
        ratio,
        ratios[0],
        ratios[rounds - 1],
        if ratio <= 10.0 { "met" } else { "MISSED" },
    );
}

/// A generated stack with the state and observation that match it.
struct Case {
    desired: Desired,
    state: State,
    observed: Observed,
}

impl Case {
    /// `runs` timings of the no-op plan.
    fn time(&self, runs: usize) -> Vec<Duration> {
        (0..runs)
            .map(|_| {
                let start = Instant::now();
                let plan = diff(
                    black_box(&self.desired),
                    black_box(&self.state),
                    black_box(&self.observed),
                );
                let took = start.elapsed();
                black_box(plan.expect("plan"));
                took
            })
            .collect()
    }
}
