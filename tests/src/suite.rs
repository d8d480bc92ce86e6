//! The conformance suite: what every backend must do, through the `Backend` trait, with
//! the planner and the apply engine of quai-core. Each function is one test; the
//! [`crate::conformance!`] macro expands them for a backend.

use std::sync::Barrier;
use std::time::Duration;

use quai_core::address::Address;
use quai_core::apply::{apply, ApplyError, ApplyOptions};
use quai_core::event::{Discard, Event, Recorder};
use quai_core::image::{CachePrediction, MissReason};
use quai_core::plan::{self, Action, Plan};
use quai_core::state::file::FileStore;
use quai_core::state::{StateError, StateStore};

use crate::{Harness, Probe};

/// The stack most tests start from: a pulled image, a volume, a network, a database
/// holding its data in the volume and a web server publishing a port.
pub const STACK: &str = r#"
[stack]
name = "app"

[images.base]
from = "busybox:1.36"

[volumes.data]

[networks.back]

[containers.db]
image = "base"
command = ["sleep", "100000"]
volumes = ["data:/data"]
networks = ["back"]
env = { MODE = "prod" }
resources = { memory = "64MiB" }

[containers.web]
image = "base"
command = ["httpd", "-f", "-p", "80"]
ports = ["8080:80"]
networks = ["back"]
depends_on = ["db"]
"#;

/// Another stack holding host port 8080.
const PORT_HOLDER: &str = r#"
[stack]
name = "other"

[containers.holder]
image = "busybox:1.36"
command = ["httpd", "-f", "-p", "80"]
ports = ["8080:80"]
"#;

/// The failpoints of the apply engine.
pub const FAILPOINTS: [&str; 3] = [
    "apply::before_step",
    "apply::after_backend",
    "apply::after_record",
];

fn edit(from: &str, to: &str) -> String {
    assert!(STACK.contains(from), "`{from}` is not in the stack");
    STACK.replacen(from, to, 1)
}

fn without_web() -> String {
    let start = STACK.find("[containers.web]").expect("web");
    STACK[..start].to_string()
}

fn changed(plan: &Plan) -> Vec<String> {
    plan.changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .map(|c| format!("{} {}", c.action.symbol(), c.address))
        .collect()
}

pub fn apply_then_plan_is_empty<B: Probe>(make: impl Fn() -> B) {
    let h = Harness::new(make());
    let first = h.up(STACK);
    assert!(first.has_changes());
    h.assert_converged(STACK);
}

pub fn env_change_replaces<B: Probe>(make: impl Fn() -> B) {
    let h = Harness::new(make());
    h.up(STACK);
    let text = edit("MODE = \"prod\"", "MODE = \"dev\"");
    let plan = h.plan(&text);
    assert_eq!(Harness::<B>::action(&plan, "container.db"), Action::Replace);
    let before = h.id("container.db");
    h.up(&text);
    assert_ne!(h.id("container.db"), before);
    h.assert_converged(&text);
}

pub fn memory_change_updates_in_place<B: Probe>(make: impl Fn() -> B) {
    let h = Harness::new(make());
    h.up(STACK);
    let text = edit("memory = \"64MiB\"", "memory = \"128MiB\"");
    let plan = h.plan(&text);
    assert_eq!(changed(&plan), ["~ container.db"]);
    let before = h.id("container.db");
    h.up(&text);
    assert_eq!(
        h.id("container.db"),
        before,
        "updated in place, same container"
    );
    h.assert_converged(&text);
}

pub fn image_change_replaces_its_containers<B: Probe>(make: impl Fn() -> B) {
    let h = Harness::new(make());
    h.up(STACK);
    let text = edit("busybox:1.36", "busybox:1.37");
    let plan = h.plan(&text);
    assert_eq!(Harness::<B>::action(&plan, "container.db"), Action::Replace);
    assert_eq!(
        Harness::<B>::action(&plan, "container.web"),
        Action::Replace
    );
    assert_ne!(Harness::<B>::action(&plan, "image.base"), Action::NoOp);
    h.up(&text);
    h.assert_converged(&text);
}

pub fn removed_container_is_deleted<B: Probe>(make: impl Fn() -> B) {
    let h = Harness::new(make());
    h.up(STACK);
    let text = without_web();
    let plan = h.plan(&text);
    assert_eq!(changed(&plan), ["- container.web"]);
    h.up(&text);
    assert_eq!(h.backend.observe("app", &[]).unwrap().containers.len(), 1);
    h.assert_converged(&text);
}

pub fn new_volume_is_created<B: Probe>(make: impl Fn() -> B) {
    let h = Harness::new(make());
    h.up(STACK);
    let text = edit("[volumes.data]", "[volumes.data]\n\n[volumes.logs]");
    let plan = h.plan(&text);
    assert_eq!(changed(&plan), ["+ volume.logs"]);
    h.up(&text);
    assert!(h
        .backend
        .observe("app", &[])
        .unwrap()
        .volumes
        .contains("app_logs"));
    h.assert_converged(&text);
}

pub fn volume_data_survives_a_replace<B: Probe>(make: impl Fn() -> B) {
    let h = Harness::new(make());
    h.up(STACK);
    let old = h.id("container.db");
    h.backend.write_file(&old, "/data/rows", b"42").unwrap();
    h.backend.write_file(&old, "/tmp/scratch", b"gone").unwrap();
    let text = edit("MODE = \"prod\"", "MODE = \"dev\"");
    h.up(&text);
    let new = h.id("container.db");
    assert_ne!(new, old);
    assert_eq!(
        h.backend.read_file(&new, "/data/rows").unwrap(),
        Some(b"42".to_vec())
    );
    assert_eq!(h.backend.read_file(&new, "/tmp/scratch").unwrap(), None);
}

pub fn destroy_keeps_volumes_unless_asked<B: Probe>(make: impl Fn() -> B) {
    let h = Harness::new(make());
    h.up(STACK);
    let report = h.apply(&h.destroy_plan(false)).unwrap();
    assert!(report.succeeded(), "{report:?}");
    let observed = h.backend.observe("app", &[]).unwrap();
    assert!(observed.containers.is_empty() && observed.networks.is_empty());
    assert!(observed.volumes.contains("app_data"), "the volume is kept");
    assert!(
        !h.destroy_plan(false).has_changes(),
        "destroying again changes nothing"
    );
    let report = h.apply(&h.destroy_plan(true)).unwrap();
    assert!(report.succeeded(), "{report:?}");
    assert!(h.backend.observe("app", &[]).unwrap().volumes.is_empty());
    assert!(!h.destroy_plan(true).has_changes());
}

pub fn container_stopped_outside_is_repaired<B: Probe>(make: impl Fn() -> B) {
    let h = Harness::new(make());
    h.up(STACK);
    h.backend
        .stop_container(&h.id("container.web"), &Discard)
        .unwrap();
    let plan = h.plan(STACK);
    assert_ne!(Harness::<B>::action(&plan, "container.web"), Action::NoOp);
    h.up(STACK);
    h.assert_converged(STACK);
}

pub fn container_removed_outside_is_repaired<B: Probe>(make: impl Fn() -> B) {
    let h = Harness::new(make());
    h.up(STACK);
    h.backend
        .remove_container(&h.id("container.web"), &Discard)
        .unwrap();
    let plan = h.plan(STACK);
    assert_ne!(Harness::<B>::action(&plan, "container.web"), Action::NoOp);
    h.up(STACK);
    h.assert_converged(STACK);
}

pub fn failed_step_leaves_a_state_that_converges<B: Probe>(make: impl Fn() -> B) {
    let h = Harness::new(make());
    h.up(PORT_HOLDER);
    let report = h.apply(&h.plan(STACK)).unwrap();
    let failed: Vec<&Address> = report.failed.iter().map(|(a, _)| a).collect();
    assert_eq!(failed, [&"container.web".parse::<Address>().unwrap()]);
    assert!(report.failed[0].1.contains("8080"), "{report:?}");
    assert!(report.done.contains(&"container.db".parse().unwrap()));
    h.assert_no_orphans();
    // The port is let go; the next apply finishes the work.
    let observed = h.backend.observe("other", &[]).unwrap();
    let other = h.store.read("other").unwrap();
    let destroy = plan::destroy(&other, &observed, false);
    let mut lock = h.store.lock("other", "destroy", Duration::ZERO).unwrap();
    apply(
        &destroy,
        &h.backend,
        &mut *lock,
        &h.contexts,
        &Discard,
        &ApplyOptions::default(),
    )
    .unwrap();
    drop(lock);
    let plan = h.plan(STACK);
    assert_eq!(changed(&plan), ["+ container.web"]);
    h.up(STACK);
    h.assert_converged(STACK);
}

/// What an interrupted apply was doing, and how to finish it.
enum Transition<'a> {
    /// Applying `to` after applying each of `before`.
    Up { before: &'a [&'a str], to: &'a str },
    /// Destroying (volumes kept) after applying `before`.
    Destroy { before: &'a str },
}

/// For every failpoint and every hit k of it: a fresh backend, the apply interrupted at
/// the k-th hit, then applied again: it must converge, with nothing left over.
fn every_interruption_converges<B: Probe>(make: &impl Fn() -> B, transition: Transition<'_>) {
    for failpoint in FAILPOINTS {
        let mut interrupted = 0;
        for k in 0..500 {
            let h = Harness::new(make());
            let plan = match &transition {
                Transition::Up { before, to } => {
                    for text in *before {
                        h.up(text);
                    }
                    h.plan(to)
                }
                Transition::Destroy { before } => {
                    h.up(before);
                    h.destroy_plan(false)
                }
            };
            let actions = if k == 0 {
                "return".to_string()
            } else {
                format!("{k}*off->return")
            };
            fail::cfg(failpoint, &actions).unwrap();
            let result = h.apply(&plan);
            fail::remove(failpoint);
            match result {
                Err(ApplyError::Interrupted { .. }) => interrupted += 1,
                Ok(report) => {
                    // Fewer than k+1 hits: every interruption point was tried.
                    assert!(report.succeeded(), "{report:?}");
                    break;
                }
                Err(e) => panic!("{failpoint} #{k}: {e}"),
            }
            match &transition {
                Transition::Up { to, .. } => {
                    h.up(to);
                    h.assert_converged(to);
                }
                Transition::Destroy { .. } => {
                    let report = h.apply(&h.destroy_plan(false)).unwrap();
                    assert!(report.succeeded(), "{failpoint} #{k}: {report:?}");
                    assert!(!h.destroy_plan(false).has_changes(), "{failpoint} #{k}");
                    let observed = h.backend.observe("app", &[]).unwrap();
                    assert!(
                        observed.containers.is_empty() && observed.networks.is_empty(),
                        "{failpoint} #{k}: left {observed:?}"
                    );
                }
            }
        }
        assert!(interrupted > 0, "{failpoint} was never hit");
    }
}

pub fn interrupted_create_converges<B: Probe>(make: impl Fn() -> B) {
    every_interruption_converges(
        &make,
        Transition::Up {
            before: &[],
            to: STACK,
        },
    );
}

pub fn interrupted_change_converges<B: Probe>(make: impl Fn() -> B) {
    // A replaced image, two replaced containers, a new volume.
    let to = edit("busybox:1.36", "busybox:1.37").replacen(
        "[volumes.data]",
        "[volumes.data]\n\n[volumes.logs]",
        1,
    );
    every_interruption_converges(
        &make,
        Transition::Up {
            before: &[STACK],
            to: &to,
        },
    );
}

pub fn interrupted_destroy_converges<B: Probe>(make: impl Fn() -> B) {
    every_interruption_converges(&make, Transition::Destroy { before: STACK });
}

pub fn two_applies_at_once_one_waits_or_fails_naming_the_holder<B: Probe>(make: impl Fn() -> B) {
    let h = Harness::new(make());
    let root = tempfile::tempdir().unwrap();
    let files = FileStore::new(root.path());
    let plan = h.plan(STACK);
    let held = Barrier::new(2);
    let released = Barrier::new(2);
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut lock = files.lock("app", "apply", Duration::ZERO).unwrap();
            let report = apply(
                &plan,
                &h.backend,
                &mut *lock,
                &h.contexts,
                &Discard,
                &ApplyOptions::default(),
            )
            .unwrap();
            assert!(report.succeeded(), "{report:?}");
            held.wait();
            released.wait();
            std::thread::sleep(Duration::from_millis(100));
        });
        held.wait();
        let err = match files.lock("app", "apply", Duration::from_millis(50)) {
            Err(e) => e,
            Ok(_) => panic!("a second apply got the lock"),
        };
        match &err {
            StateError::Locked { holder, .. } => {
                assert_eq!(holder.pid, std::process::id());
                assert_eq!(holder.operation, "apply");
            }
            other => panic!("expected Locked, got {other}"),
        }
        assert!(err.to_string().contains("apply by pid"), "{err}");
        released.wait();
        // This one waits for the first to let go, then finds its plan out of date.
        let mut lock = files.lock("app", "apply", Duration::from_secs(10)).unwrap();
        let err = apply(
            &plan,
            &h.backend,
            &mut *lock,
            &h.contexts,
            &Discard,
            &ApplyOptions::default(),
        )
        .unwrap_err();
        assert!(
            matches!(err, ApplyError::StalePlan { planned: 0, .. }),
            "{err}"
        );
    });
    let state = files.read("app").unwrap();
    assert_eq!(state.resources.len(), plan.changes.len());
}

/// Replicas and independent containers, applied with several steps at once.
const WIDE: &str = r#"
[stack]
name = "app"

[images.base]
from = "busybox:1.36"

[networks.back]

[containers.api]
image = "base"
command = ["httpd", "-f", "-p", "80"]
networks = ["back"]
replicas = 3

[containers.worker]
image = "base"
command = ["sleep", "100000"]
networks = ["back"]
replicas = 3
depends_on = ["api"]
"#;

pub fn parallel_apply_converges<B: Probe>(make: impl Fn() -> B) {
    let h = Harness::new(make());
    let report = h.apply_with(&h.plan(WIDE), &Discard, 4).unwrap();
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(report.done.len(), 8);
    h.assert_converged(WIDE);
    assert_eq!(h.backend.observe("app", &[]).unwrap().containers.len(), 6);
    let fewer = WIDE.replace("replicas = 3", "replicas = 1");
    let plan = h.plan(&fewer);
    assert_eq!(plan.summary().delete, 4);
    let report = h.apply_with(&plan, &Discard, 4).unwrap();
    assert!(report.succeeded(), "{report:?}");
    h.assert_converged(&fewer);
}

/// A stack whose image is built from inline steps and a context.
const BUILT: &str = r#"
[stack]
name = "app"

[images.web]
context = "web"
steps = ["FROM busybox:1.36", "WORKDIR /app", "COPY package.json /app/", "RUN ./install", "COPY . /app/", "CMD [\"httpd\", \"-f\"]"]

[containers.web]
image = "web"
"#;

/// Each build step's cache outcome as the events of an apply tell it.
fn built_steps(events: &[Event]) -> Vec<CachePrediction> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::CacheHit { .. } => Some(CachePrediction::Hit),
            Event::CacheMiss { reason, .. } => Some(CachePrediction::Miss {
                reason: reason.clone(),
            }),
            _ => None,
        })
        .collect()
}

fn predicted_steps(plan: &Plan) -> Vec<CachePrediction> {
    let change = plan
        .changes
        .iter()
        .find(|c| c.address == "image.web".parse().unwrap())
        .expect("image.web in the plan");
    let build = change.build.as_ref().expect("a build plan");
    build.steps.iter().map(|s| s.prediction.clone()).collect()
}

pub fn builds_go_as_the_plan_predicts<B: Probe>(make: impl Fn() -> B) {
    let mut h = Harness::new(make());
    let mut context = quai_core::image::Context::new();
    context.insert("package.json", "{}");
    context.insert("index.html", "<h1>v1</h1>");
    h.contexts.insert("web".into(), context.clone());
    let events = Recorder::new();
    let plan = h.plan(BUILT);
    let first = predicted_steps(&plan);
    assert_eq!(first.len(), 5);
    assert_eq!(
        first[0],
        CachePrediction::Miss {
            reason: MissReason::NotBuilt
        }
    );
    assert!(h.apply_with(&plan, &events, 1).unwrap().succeeded());
    assert_eq!(built_steps(&events.take()), first);
    h.assert_converged(BUILT);

    // A page changes: the steps before its COPY come from the cache.
    context.insert("index.html", "<h1>v2</h1>");
    h.contexts.insert("web".into(), context);
    let plan = h.plan(BUILT);
    let second = predicted_steps(&plan);
    assert_eq!(
        second[..3],
        [
            CachePrediction::Hit,
            CachePrediction::Hit,
            CachePrediction::Hit
        ]
    );
    assert!(
        matches!(&second[3], CachePrediction::Miss { reason: MissReason::ContentChanged { files } } if files == &["index.html".to_string()]),
        "{second:?}"
    );
    assert_eq!(
        Harness::<B>::action(&plan, "container.web"),
        Action::Replace
    );
    assert!(h.apply_with(&plan, &events, 1).unwrap().succeeded());
    assert_eq!(built_steps(&events.take()), second);
    h.assert_converged(BUILT);
}
