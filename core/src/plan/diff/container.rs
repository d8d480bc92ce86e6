//! How a recorded container compares with the desired one: field by field (resources
//! and restart policy in place, the rest replaces), and what the backend shows of it
//! (drift). Pure.

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::FxHashMap;

use crate::address::Address;
use crate::backend::Observed;
use crate::event::ContainerStatus;
use crate::plan::{Drift, Reason};
use crate::resource::{ContainerResource, ResolvedMount};
use crate::state::State;

/// Whether removing this container loses what it wrote: it is writable and has no
/// named volume to keep its data in.
pub(super) fn drops_data(c: &ContainerResource) -> bool {
    !c.read_only
        && !c.mounts.iter().any(|m| {
            matches!(
                m,
                ResolvedMount::Volume {
                    read_only: false,
                    ..
                }
            )
        })
}

/// What the backend shows of each recorded resource, and what it shows that no record
/// claims. Each record's id is looked up in a hash table of the observed ids, made once
/// (sorting the recorded ids instead cost n log n reads of ids scattered over a state
/// that, at 10 000 containers, does not fit in the cache). The observed ids are copied
/// side by side into one string the table points into, so that the lookups read them
/// from a few hundred kilobytes rather than from wherever the observation put them.
pub(super) struct Sightings<'o> {
    /// For each recorded resource, in the state's order: the container of its id, if
    /// the backend has one.
    pub(super) recorded: Vec<Option<Sighting>>,
    /// Containers of the stack no record claims (left by an interrupted apply), by the
    /// address of their label, ids in order.
    pub(super) orphans: BTreeMap<Address, Vec<&'o str>>,
}

/// What the backend shows of one container (what [`drift`] needs of it).
#[derive(Debug, Clone, Copy)]
pub(super) struct Sighting {
    status: ContainerStatus,
    exit_code: Option<i32>,
    oom_killed: bool,
}

impl<'o> Sightings<'o> {
    pub(super) fn new(state: &State, observed: &'o Observed) -> Self {
        // Observed id (in `ids`) → its place in id order, and what is seen.
        let ids: String = observed.containers.keys().map(String::as_str).collect();
        let mut seen: FxHashMap<&str, (usize, Sighting)> =
            FxHashMap::with_capacity_and_hasher(observed.containers.len(), Default::default());
        let mut start = 0;
        for (at, (id, c)) in observed.containers.iter().enumerate() {
            let sighting = Sighting {
                status: c.status,
                exit_code: c.exit_code,
                oom_killed: c.oom_killed,
            };
            seen.insert(&ids[start..start + id.len()], (at, sighting));
            start += id.len();
        }
        let mut claimed = vec![false; observed.containers.len()];
        let recorded = state
            .resources
            .values()
            .map(|r| {
                let (at, sighting) = *seen.get(r.id.as_str())?;
                claimed[at] = true;
                Some(sighting)
            })
            .collect();
        let mut orphans: BTreeMap<Address, Vec<&str>> = BTreeMap::new();
        let unclaimed = observed.containers.iter().zip(claimed).filter(|(_, c)| !c);
        for ((id, c), _) in unclaimed {
            if c.status != ContainerStatus::Removed {
                orphans.entry(c.address.clone()).or_default().push(id);
            }
        }
        Sightings { recorded, orphans }
    }
}

/// What the backend shows of a recorded container, when it is not what quai left.
pub(super) fn drift(seen: Option<Sighting>, before: Option<&ContainerResource>) -> Option<Drift> {
    let Some(seen) = seen else {
        return Some(Drift::Removed);
    };
    let exited = || Drift::Exited {
        code: seen.exit_code,
        oom_killed: seen.oom_killed,
    };
    match seen.status {
        ContainerStatus::Running | ContainerStatus::Restarting => None,
        ContainerStatus::Removed => Some(Drift::Removed),
        ContainerStatus::Created => Some(Drift::NeverStarted),
        ContainerStatus::Exited if seen.oom_killed => Some(exited()),
        ContainerStatus::Exited => {
            // A container that finished well and is not asked to run always is done,
            // not dead (a one-shot job).
            let always = before.is_some_and(|b| b.restart == crate::stack::RestartPolicy::Always);
            if seen.exit_code == Some(0) && !always {
                None
            } else {
                Some(exited())
            }
        }
    }
}

/// Field by field: resources and restart policy change in place, the rest replaces.
pub(super) fn container_fields(b: &ContainerResource, a: &ContainerResource) -> Vec<Reason> {
    let mut out = Vec::new();
    let mut field = |name: &str, before: String, after: String, replaces: bool| {
        if before != after {
            out.push(Reason::Field {
                field: name.into(),
                before,
                after,
                replaces,
            });
        }
    };
    if b.image != a.image {
        field("image", b.image.clone(), a.image.clone(), true);
    } else {
        field(
            "image",
            b.image_id.to_string(),
            a.image_id.to_string(),
            true,
        );
    }
    field("command", list(&b.command), list(&a.command), true);
    field("entrypoint", list(&b.entrypoint), list(&a.entrypoint), true);
    let keys: BTreeSet<&String> = b.env.keys().chain(a.env.keys()).collect();
    for k in keys {
        let show = |v: Option<&String>| v.map_or_else(|| "(unset)".to_string(), |v| v.clone());
        field(
            &format!("env.{k}"),
            show(b.env.get(k)),
            show(a.env.get(k)),
            true,
        );
    }
    field("workdir", opt(&b.workdir), opt(&a.workdir), true);
    field("user", opt(&b.user), opt(&a.user), true);
    field("hostname", opt(&b.hostname), opt(&a.hostname), true);
    let ports = |c: &ContainerResource| {
        join(c.ports.iter().map(|p| {
            let proto = match p.protocol {
                crate::stack::Protocol::Tcp => "tcp",
                crate::stack::Protocol::Udp => "udp",
            };
            format!("{}:{}/{proto}", p.host, p.container)
        }))
    };
    field("ports", ports(b), ports(a), true);
    let mounts = |c: &ContainerResource| {
        join(c.mounts.iter().map(|m| {
            let (source, target, ro) = match m {
                ResolvedMount::Volume {
                    volume,
                    target,
                    read_only,
                } => (volume, target, read_only),
                ResolvedMount::Bind {
                    source,
                    target,
                    read_only,
                } => (source, target, read_only),
            };
            format!("{source}:{target}{}", if *ro { ":ro" } else { "" })
        }))
    };
    field("volumes", mounts(b), mounts(a), true);
    field(
        "networks",
        join(b.networks.iter().cloned()),
        join(a.networks.iter().cloned()),
        true,
    );
    let deps = |c: &ContainerResource| {
        join(c.depends_on.iter().map(|(name, cond)| {
            let cond = match cond {
                crate::stack::DependsOn::Started => "started",
                crate::stack::DependsOn::Healthy => "healthy",
                crate::stack::DependsOn::CompletedSuccessfully => "completed",
            };
            format!("{name} ({cond})")
        }))
    };
    field("depends_on", deps(b), deps(a), true);
    field(
        "read_only",
        b.read_only.to_string(),
        a.read_only.to_string(),
        true,
    );
    let health = |c: &ContainerResource| {
        c.healthcheck.as_ref().map_or_else(
            || "none".to_string(),
            |h| {
                format!(
                    "{} every {}ms, {} retries",
                    list(&Some(h.command.clone())),
                    h.interval_ms,
                    h.retries
                )
            },
        )
    };
    field("healthcheck", health(b), health(a), true);
    field(
        "restart",
        b.restart.as_str().into(),
        a.restart.as_str().into(),
        false,
    );
    let (rb, ra) = (&b.resources, &a.resources);
    field("memory", bytes(rb.memory), bytes(ra.memory), false);
    let cpus = |c: Option<f64>| c.map_or_else(|| "unlimited".to_string(), |c| c.to_string());
    field("cpus", cpus(rb.cpus), cpus(ra.cpus), false);
    let pids = |p: Option<u64>| p.map_or_else(|| "unlimited".to_string(), |p| p.to_string());
    field("pids", pids(rb.pids), pids(ra.pids), false);
    out
}

fn list(v: &Option<Vec<String>>) -> String {
    match v {
        Some(v) => serde_json::to_string(v).unwrap_or_default(),
        None => "(image default)".into(),
    }
}

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "(image default)".into())
}

fn join(items: impl Iterator<Item = String>) -> String {
    let v: Vec<String> = items.collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

/// A size for people: `64MiB`, `1.5GiB`, `512B`; `unlimited` for none.
pub fn bytes(b: Option<u64>) -> String {
    let Some(b) = b else {
        return "unlimited".into();
    };
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if b < 1024 {
        return format!("{b}B");
    }
    let mut value = b as f64;
    let mut unit = "B";
    for u in UNITS {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = u;
    }
    if value.fract() == 0.0 {
        format!("{value}{unit}")
    } else {
        format!("{:.1}{unit}", value)
    }
}
