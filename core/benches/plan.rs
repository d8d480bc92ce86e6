//! No-op plan benchmark: generated stacks of 100, 1 000 and 10 000 containers, planned
//! against a state and an observation that match them (as after an apply). Measures
//! `plan::diff` (which resolves the desired configuration, build keys included) and
//! prints the median of several runs. The state is decoded from its JSON as a file
//! store would give it (the decoding is timed apart). Targets: 1 000 containers in
//! ≤ 50 ms, 10 000 in ≤ 10× the 1 000 figure.
//!
//! Each stack is planned in a process of its own, as `quai plan` plans one stack: the
//! bench runs itself again with `PLAN_BENCH_CASE=<containers>` and reads the timings the
//! child prints. (Planned in one process, a stack lies in a heap the other sizes'
//! stacks have used and left, and each size's figures depend on what ran before.)
//! The ratio is measured in rounds that time 1 000 then 10 000 back to back, so that a
//! change in the machine's speed between them (a shared VM) weighs on both sides.
//!
//! Run: `cargo bench -p quai-core --bench plan`.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::Path;
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
                        name: quai_core::resource::container_name("bench", &address),
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

/// Writes the state and the observation that match a stack of `containers` into `dir`
/// as JSON, as a file store and a backend give them to `quai plan`.
fn write_case(containers: usize, dir: &Path) {
    let (state, observed) = applied(&stack(containers), &base_observed());
    std::fs::write(dir.join("state.json"), quai_core::state::encode(&state)).expect("write");
    let observed = serde_json::to_string(&observed).expect("encode the observation");
    std::fs::write(dir.join("observed.json"), observed).expect("write");
}

/// What `quai plan` reads: the state (decoded `decodes` times, each timed) and the
/// observation, decoded in a process that has done nothing else yet.
fn read_case(dir: &Path, decodes: usize) -> (State, Observed, Vec<Duration>) {
    let text = std::fs::read_to_string(dir.join("state.json")).expect("read");
    let mut times = Vec::with_capacity(decodes);
    let mut decoded = None;
    for _ in 0..decodes.max(1) {
        drop(decoded.take());
        let start = Instant::now();
        decoded = Some(quai_core::state::decode(&text, "bench").expect("the state decodes"));
        times.push(start.elapsed());
    }
    let observed = std::fs::read_to_string(dir.join("observed.json")).expect("read");
    let observed = serde_json::from_str(&observed).expect("the observation decodes");
    (decoded.expect("decoded once"), observed, times)
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// What a child process measured for one stack size.
struct Measured {
    resources: usize,
    runs: Vec<Duration>,
    decodes: Vec<Duration>,
}

/// The child's part: plans a stack of `containers` against the state and observation in
/// `dir`, `runs` times, and prints the figures, one per line.
fn child(containers: usize, runs: usize, decodes: usize, dir: &Path) {
    let desired = stack(containers);
    let (state, observed, decode_times) = read_case(dir, decodes);
    let plan = diff(&desired, &state, &observed).expect("plan");
    assert!(
        !plan.has_changes(),
        "the generated state must match its stack"
    );
    drop(plan);
    let case = Case {
        desired,
        state,
        observed,
    };
    let times = case.time(runs);
    println!("resources {}", case.state.resources.len());
    for d in decode_times {
        println!("decode {}", d.as_nanos());
    }
    for d in times {
        println!("run {}", d.as_nanos());
    }
}

/// Runs this bench again as a child that measures the stack of `containers` whose
/// files are in `dir`.
fn measure(containers: usize, runs: usize, decodes: usize, dir: &Path) -> Measured {
    let out = std::process::Command::new(std::env::current_exe().expect("the bench's path"))
        .env(
            "PLAN_BENCH_CASE",
            format!("{containers} {runs} {decodes} {}", dir.display()),
        )
        .stderr(std::process::Stdio::inherit())
        .output()
        .expect("the bench runs itself");
    assert!(out.status.success(), "the child failed: {}", out.status);
    let mut m = Measured {
        resources: 0,
        runs: Vec::new(),
        decodes: Vec::new(),
    };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let (what, value) = line.split_once(' ').expect("`what value` lines");
        let value: u64 = value.parse().expect("a number");
        match what {
            "resources" => m.resources = value as usize,
            "decode" => m.decodes.push(Duration::from_nanos(value)),
            "run" => m.runs.push(Duration::from_nanos(value)),
            other => panic!("unknown line `{other}`"),
        }
    }
    assert_eq!(m.runs.len(), runs, "the child timed every run");
    m
}

fn main() {
    if let Ok(case) = std::env::var("PLAN_BENCH_CASE") {
        let mut words = case.splitn(4, ' ');
        let mut number = || -> usize {
            let word = words
                .next()
                .expect("PLAN_BENCH_CASE is `containers runs decodes dir`");
            word.parse().expect("a number")
        };
        let (containers, runs, decodes) = (number(), number(), number());
        let dir = words.next().expect("PLAN_BENCH_CASE ends with a folder");
        child(containers, runs, decodes, Path::new(dir));
        return;
    }
    let dirs: BTreeMap<usize, tempfile::TempDir> = [100, 1_000, 10_000]
        .into_iter()
        .map(|containers| {
            let dir = tempfile::tempdir().expect("a temporary folder");
            write_case(containers, dir.path());
            (containers, dir)
        })
        .collect();
    println!("no-op plan (resolve + diff), median of N runs; and decoding the state's JSON");
    println!(
        "{:>10} {:>10} {:>4} {:>12} {:>12} {:>14} {:>12}",
        "containers", "resources", "N", "median ms", "min ms", "µs/container", "decode ms"
    );
    // Runs per process; the same in the table and in the rounds (the first plans of a
    // process are slower while its heap grows, more so at 10 000: too few runs would
    // count them).
    let runs_of = |containers: usize| match containers {
        100 => 51,
        1_000 => 41,
        _ => 21,
    };
    for containers in [100, 1_000, 10_000] {
        let runs = runs_of(containers);
        let m = measure(containers, runs, 11, dirs[&containers].path());
        let min = *m.runs.iter().min().expect("runs");
        let med = median(m.runs);
        println!(
            "{:>10} {:>10} {:>4} {:>12.2} {:>12.2} {:>14.1} {:>12.2}",
            containers,
            m.resources,
            runs,
            ms(med),
            ms(min),
            med.as_secs_f64() * 1e6 / containers as f64,
            ms(median(m.decodes)),
        );
    }
    let rounds = 11;
    let mut ratios = Vec::with_capacity(rounds);
    let mut one_k = Vec::with_capacity(rounds);
    let mut ten_k = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let k1 = median(measure(1_000, runs_of(1_000), 1, dirs[&1_000].path()).runs);
        let k10 = median(measure(10_000, runs_of(10_000), 1, dirs[&10_000].path()).runs);
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
