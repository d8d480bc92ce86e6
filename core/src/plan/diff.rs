//! Builds a [`Plan`] from what is desired, what was applied and what is observed.
//! Pure: no I/O, same inputs give the same plan.
//!
//! The rules: what the state lacks is created; a container changed only in its
//! resources or restart policy is updated in place, any other change replaces it; a
//! changed image identity replaces the containers that run it; a replaced network
//! replaces the containers attached to it; a container removed or dead outside quai is
//! recreated (drift); a container of the stack the state does not know is deleted
//! (orphan); volumes are never deleted by a plan, only by [`destroy`] when asked.
//! Steps are ordered dependencies first, deletions in reverse.

use std::collections::{BTreeMap, BTreeSet};

use crate::address::{Address, Kind};
use crate::backend::Observed;
use crate::event::ContainerStatus;
use crate::graph::{Cycle, Graph};
use crate::image::build::{predict, PreviousBuild};
use crate::plan::{Action, Change, Plan, Reason};
use crate::resource::desired::{resolve, stack_image, Desired, DesiredError};
use crate::resource::{
    ContainerResource, ImageResource, NetworkResource, ResolvedMount, ResourceConfig,
};
use crate::stack::{ImageRef, Stack};
use crate::state::{Recorded, State};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Desired(#[from] DesiredError),
    #[error("the state is of stack `{state}`, the stack file names `{stack}`")]
    WrongStack { state: String, stack: String },
    #[error("cannot order the plan: {0}")]
    Cycle(#[from] Cycle),
}

/// The plan that takes `state` (as `observed` now) to `desired`.
pub fn diff(desired: &Desired, state: &State, observed: &Observed) -> Result<Plan, PlanError> {
    let stack = &desired.stack;
    if state.stack != stack.name {
        return Err(PlanError::WrongStack {
            state: state.stack.clone(),
            stack: stack.name.clone(),
        });
    }
    let configs = resolve(desired, observed)?;
    let mut changes: BTreeMap<Address, Change> = BTreeMap::new();

    // Images, volumes and networks first: containers look at what happens to them.
    for (address, after) in &configs {
        let recorded = state.resources.get(address);
        let change = match after {
            ResourceConfig::Image(image) => image_change(address, image, recorded, observed),
            ResourceConfig::Volume(v) => {
                let exists = observed.volumes.contains(&v.name);
                simple_change(address, after, recorded, exists)
            }
            ResourceConfig::Network(n) => network_change(address, n, recorded, observed),
            ResourceConfig::Container(_) => continue,
        };
        changes.insert(address.clone(), change);
    }
    // Networks whose backend object is made anew: their containers must follow.
    let recreated: BTreeMap<&str, &Address> = changes
        .values()
        .filter(|c| recreates(c))
        .filter_map(|c| match &c.after {
            Some(ResourceConfig::Network(n)) => Some((n.name.as_str(), &c.address)),
            _ => None,
        })
        .collect();

    let orphans = orphans(state, observed);
    let mut folded: BTreeSet<&str> = BTreeSet::new();
    let mut container_changes = Vec::new();
    for (address, after) in &configs {
        let ResourceConfig::Container(container) = after else {
            continue;
        };
        let recorded = state.resources.get(address);
        let orphan = orphans.get(address).and_then(|ids| ids.first()).copied();
        let mut change = container_change(address, container, recorded, observed, &recreated);
        // A container of this address the state does not know (an interrupted apply
        // made it): it is the one to replace when the recorded one is gone or absent.
        if let Some(id) = orphan {
            let recorded_gone = !recorded.is_some_and(|r| observed.containers.contains_key(&r.id));
            if recorded_gone {
                folded.insert(id);
                change.id = id.to_string();
                change.action = Action::Replace;
                change.reasons.retain(|r| *r != Reason::New);
                change.reasons.push(Reason::Orphan { id: id.to_string() });
            }
        }
        container_changes.push(change);
    }
    for change in container_changes {
        changes.insert(change.address.clone(), change);
    }

    // What the state has and the stack no longer asks for.
    for (address, recorded) in &state.resources {
        if configs.contains_key(address) {
            continue;
        }
        let change = if address.kind == Kind::Volume {
            Change {
                reasons: vec![Reason::NotInStack, Reason::Kept],
                ..change(address, Action::NoOp, Some(recorded), None)
            }
        } else {
            Change {
                reasons: vec![Reason::NotInStack],
                ..change(address, Action::Delete, Some(recorded), None)
            }
        };
        changes.insert(address.clone(), change);
    }
    let mut extra = Vec::new();
    for (address, ids) in &orphans {
        for id in ids {
            if folded.contains(id) {
                continue;
            }
            let orphan = orphan_delete(address, id);
            if changes.contains_key(address) {
                extra.push(orphan);
            } else {
                changes.insert(address.clone(), orphan);
            }
        }
    }

    let mut graph = Graph::new();
    for address in changes.keys() {
        graph.add_node(address.clone());
    }
    creation_edges(&mut graph, stack, &configs, &changes);
    deletion_edges(&mut graph, state, &changes);
    Ok(Plan {
        format: Plan::FORMAT,
        stack: stack.name.clone(),
        serial: state.serial,
        changes: ordered(graph, changes, extra)?,
    })
}

/// The plan that deletes everything of `state`; volumes only when `volumes` is set.
pub fn destroy(state: &State, observed: &Observed, volumes: bool) -> Plan {
    let mut changes: BTreeMap<Address, Change> = BTreeMap::new();
    for (address, recorded) in &state.resources {
        let c = if address.kind == Kind::Volume && !volumes {
            Change {
                reasons: vec![Reason::Kept],
                ..change(address, Action::NoOp, Some(recorded), None)
            }
        } else {
            Change {
                reasons: vec![Reason::Destroy],
                ..change(address, Action::Delete, Some(recorded), None)
            }
        };
        changes.insert(address.clone(), c);
    }
    let mut extra = Vec::new();
    for (address, ids) in orphans(state, observed) {
        for id in ids {
            match changes.get_mut(&address) {
                // The recorded one is gone: delete the one that is there instead.
                Some(c)
                    if c.action == Action::Delete && !observed.containers.contains_key(&c.id) =>
                {
                    c.id = id.to_string();
                    c.reasons.push(Reason::Orphan { id: id.to_string() });
                }
                Some(_) => extra.push(orphan_delete(&address, id)),
                None => {
                    changes.insert(address.clone(), orphan_delete(&address, id));
                }
            }
        }
    }
    let mut graph = Graph::new();
    for address in changes.keys() {
        graph.add_node(address.clone());
    }
    deletion_edges(&mut graph, state, &changes);
    // Deletions alone cannot loop (their edges follow the recorded depends_on, which
    // had no cycle when applied); should a hand-edited state loop, keep address order.
    let changes = match ordered(graph, changes.clone(), extra.clone()) {
        Ok(c) => c,
        Err(_) => extra.into_iter().chain(changes.into_values()).collect(),
    };
    Plan {
        format: Plan::FORMAT,
        stack: state.stack.clone(),
        serial: state.serial,
        changes,
    }
}

fn change(
    address: &Address,
    action: Action,
    recorded: Option<&Recorded>,
    after: Option<&ResourceConfig>,
) -> Change {
    Change {
        address: address.clone(),
        action,
        reasons: Vec::new(),
        before: recorded.map(|r| r.config.clone()),
        after: after.cloned(),
        id: recorded.map(|r| r.id.clone()).unwrap_or_default(),
        depends_on: Vec::new(),
        build: None,
    }
}

fn orphan_delete(address: &Address, id: &str) -> Change {
    Change {
        address: address.clone(),
        action: Action::Delete,
        reasons: vec![Reason::Orphan { id: id.to_string() }],
        before: None,
        after: None,
        id: id.to_string(),
        depends_on: Vec::new(),
        build: None,
    }
}

/// Whether a change makes the backend object anew (replace, or create of one that was
/// recorded but removed outside quai).
fn recreates(c: &Change) -> bool {
    c.action == Action::Replace || (c.action == Action::Create && c.before.is_some())
}

/// Containers of the stack the state does not know, by the address of their label.
fn orphans<'o>(state: &State, observed: &'o Observed) -> BTreeMap<Address, Vec<&'o str>> {
    let known: BTreeSet<&str> = state.resources.values().map(|r| r.id.as_str()).collect();
    let mut out: BTreeMap<Address, Vec<&str>> = BTreeMap::new();
    for (id, c) in &observed.containers {
        if !known.contains(id.as_str()) && c.status != ContainerStatus::Removed {
            out.entry(c.address.clone()).or_default().push(id);
        }
    }
    out
}

/// Volumes have nothing to change: created when new, again when removed outside quai.
fn simple_change(
    address: &Address,
    after: &ResourceConfig,
    recorded: Option<&Recorded>,
    exists: bool,
) -> Change {
    match recorded {
        None => Change {
            reasons: vec![Reason::New],
            ..change(address, Action::Create, None, Some(after))
        },
        Some(r) if !exists => Change {
            reasons: vec![removed()],
            ..change(address, Action::Create, Some(r), Some(after))
        },
        Some(r) => change(address, Action::NoOp, Some(r), Some(after)),
    }
}

fn removed() -> Reason {
    Reason::Drift {
        observed: "removed outside quai".into(),
    }
}

fn network_change(
    address: &Address,
    after: &NetworkResource,
    recorded: Option<&Recorded>,
    observed: &Observed,
) -> Change {
    let seen = observed.networks.get(&after.name);
    let config = ResourceConfig::Network(after.clone());
    let mut c = simple_change(address, &config, recorded, seen.is_some());
    if c.action != Action::NoOp {
        return c;
    }
    if let Some(ResourceConfig::Network(before)) = c.before.as_ref() {
        let allocated = seen.map(|n| n.subnet);
        if before.subnet != after.subnet && (after.subnet.is_some() && after.subnet != allocated) {
            let show = |s: Option<crate::stack::Subnet>| {
                s.map_or_else(|| "allocated".to_string(), |s| s.to_string())
            };
            c.action = Action::Replace;
            c.reasons.push(Reason::Field {
                field: "subnet".into(),
                before: show(allocated.or(before.subnet)),
                after: show(after.subnet),
                replaces: true,
            });
        }
    }
    c
}

fn image_change(
    address: &Address,
    after: &ImageResource,
    recorded: Option<&Recorded>,
    observed: &Observed,
) -> Change {
    let config = ResourceConfig::Image(after.clone());
    let before = match recorded.map(|r| &r.config) {
        Some(ResourceConfig::Image(b)) => Some(b),
        _ => None,
    };
    let mut c = match recorded {
        None => Change {
            reasons: vec![Reason::New],
            ..change(address, Action::Create, None, Some(&config))
        },
        Some(r) => change(address, Action::NoOp, Some(r), Some(&config)),
    };
    let field = |field: &str, before: String, after: String| Reason::Field {
        field: field.into(),
        before,
        after,
        replaces: true,
    };
    match (before, after) {
        (None, _) if recorded.is_none() => {}
        (
            Some(ImageResource::Pull {
                reference: rb,
                digest: db,
            }),
            ImageResource::Pull {
                reference: ra,
                digest: da,
            },
        ) => {
            if rb != ra {
                c.reasons.push(field("reference", rb.clone(), ra.clone()));
            } else if db != da {
                c.reasons
                    .push(field("digest", db.to_string(), da.to_string()));
            } else if observed.images.get(ra).is_some_and(|o| !o.local) {
                c.reasons.push(Reason::Drift {
                    observed: "no longer in the local store (removed outside quai)".into(),
                });
            }
        }
        (
            Some(ImageResource::Build {
                base: bb,
                base_digest: bd,
                key: kb,
                ..
            }),
            ImageResource::Build {
                base: ba,
                base_digest: ad,
                key: ka,
                ..
            },
        ) => {
            if bb != ba {
                c.reasons.push(field("base", bb.clone(), ba.clone()));
            } else if bd != ad {
                c.reasons
                    .push(field("base", bd.to_string(), ad.to_string()));
            }
            if kb != ka {
                c.reasons
                    .push(field("build", kb.to_string(), ka.to_string()));
            } else if !observed.cache.contains(ka) {
                c.reasons.push(Reason::Drift {
                    observed: "no longer in the local store (removed outside quai)".into(),
                });
            }
        }
        (before, after) => {
            let source = |i: Option<&ImageResource>| match i {
                Some(ImageResource::Pull { reference, .. }) => format!("pull {reference}"),
                Some(ImageResource::Build { .. }) => "build".to_string(),
                None => "none".to_string(),
            };
            c.reasons
                .push(field("source", source(before), source(Some(after))));
        }
    }
    if recorded.is_some() && !c.reasons.is_empty() {
        c.action = Action::Replace;
    }
    if let ImageResource::Build {
        base,
        base_digest,
        steps,
        ..
    } = after
    {
        let previous = match before {
            Some(ImageResource::Build {
                base_digest, steps, ..
            }) => Some(PreviousBuild { base_digest, steps }),
            _ => None,
        };
        c.build = Some(predict(base, base_digest, steps, previous, &observed.cache));
    }
    c
}

fn container_change(
    address: &Address,
    after: &ContainerResource,
    recorded: Option<&Recorded>,
    observed: &Observed,
    recreated: &BTreeMap<&str, &Address>,
) -> Change {
    let config = ResourceConfig::Container(after.clone());
    let Some(recorded) = recorded else {
        return Change {
            reasons: vec![Reason::New],
            ..change(address, Action::Create, None, Some(&config))
        };
    };
    let mut c = change(address, Action::NoOp, Some(recorded), Some(&config));
    let before = match &recorded.config {
        ResourceConfig::Container(b) => Some(b),
        _ => None,
    };
    if let Some(d) = drift(recorded, before, observed) {
        c.reasons.push(Reason::Drift { observed: d });
    }
    match before {
        Some(b) if b == after => {}
        Some(b) => c.reasons.extend(container_fields(b, after)),
        None => c.reasons.push(Reason::Field {
            field: "kind".into(),
            before: recorded_kind(&recorded.config).into(),
            after: "container".into(),
            replaces: true,
        }),
    }
    for n in &after.networks {
        if let Some(network) = recreated.get(n.as_str()) {
            c.reasons.push(Reason::Dependency {
                address: (*network).clone(),
            });
        }
    }
    let replaces = c.reasons.iter().any(|r| match r {
        Reason::Field { replaces, .. } => *replaces,
        _ => true,
    });
    c.action = if replaces {
        Action::Replace
    } else if c.reasons.is_empty() {
        Action::NoOp
    } else {
        Action::Update
    };
    if c.action == Action::Replace && before.is_some_and(drops_data) {
        c.reasons.push(Reason::WritableLayerDropped);
    }
    c
}

fn recorded_kind(config: &ResourceConfig) -> &'static str {
    match config {
        ResourceConfig::Image(_) => "image",
        ResourceConfig::Volume(_) => "volume",
        ResourceConfig::Network(_) => "network",
        ResourceConfig::Container(_) => "container",
    }
}

/// Whether removing this container loses what it wrote: it is writable and has no
/// named volume to keep its data in.
fn drops_data(c: &ContainerResource) -> bool {
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

/// What the backend shows of a recorded container, when it is not what quai left.
fn drift(
    recorded: &Recorded,
    before: Option<&ContainerResource>,
    observed: &Observed,
) -> Option<String> {
    let Some(seen) = observed.containers.get(&recorded.id) else {
        return Some("removed outside quai".into());
    };
    let code = seen
        .exit_code
        .map_or_else(|| "?".to_string(), |c| c.to_string());
    match seen.status {
        ContainerStatus::Running | ContainerStatus::Restarting => None,
        ContainerStatus::Removed => Some("removed outside quai".into()),
        ContainerStatus::Created => Some("created but never started".into()),
        ContainerStatus::Exited if seen.oom_killed => Some(format!(
            "exited ({code}, killed: out of memory) outside quai"
        )),
        ContainerStatus::Exited => {
            // A container that finished well and is not asked to run always is done,
            // not dead (a one-shot job).
            let always = before.is_some_and(|b| b.restart == crate::stack::RestartPolicy::Always);
            if seen.exit_code == Some(0) && !always {
                None
            } else {
                Some(format!("exited ({code}) outside quai"))
            }
        }
    }
}

/// Field by field: resources and restart policy change in place, the rest replaces.
fn container_fields(b: &ContainerResource, a: &ContainerResource) -> Vec<Reason> {
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
    field("name", b.name.clone(), a.name.clone(), true);
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

/// Edges for creating and changing: a container after its image, volumes, networks
/// and the containers it depends on; a built image after the stack image it builds on.
fn creation_edges(
    graph: &mut Graph,
    stack: &Stack,
    configs: &BTreeMap<Address, ResourceConfig>,
    changes: &BTreeMap<Address, Change>,
) {
    let mut by_name: BTreeMap<&str, &Address> = BTreeMap::new();
    for (address, config) in configs {
        match config {
            ResourceConfig::Volume(v) => {
                by_name.insert(&v.name, address);
            }
            ResourceConfig::Network(n) => {
                by_name.insert(&n.name, address);
            }
            _ => {}
        }
    }
    for (address, c) in changes {
        if c.action == Action::Delete {
            continue;
        }
        match &c.after {
            Some(ResourceConfig::Container(after)) => {
                if let Some(spec) = stack.containers.get(&address.name) {
                    if let ImageRef::Stack(image) = &spec.image {
                        graph.add_edge(address.clone(), Address::image(image));
                    }
                }
                let used = after
                    .mounts
                    .iter()
                    .filter_map(|m| match m {
                        ResolvedMount::Volume { volume, .. } => Some(volume),
                        ResolvedMount::Bind { .. } => None,
                    })
                    .chain(&after.networks);
                for name in used {
                    if let Some(dep) = by_name.get(name.as_str()) {
                        graph.add_edge(address.clone(), (*dep).clone());
                    }
                }
                for name in after.depends_on.keys() {
                    let replicas = stack.containers.get(name).map_or(1, |s| s.replicas.max(1));
                    for i in 0..replicas {
                        graph.add_edge(address.clone(), Address::container(name, i));
                    }
                }
            }
            Some(ResourceConfig::Image(ImageResource::Build { base, .. })) => {
                if let Some(base) = stack_image(stack, base) {
                    graph.add_edge(address.clone(), Address::image(base));
                }
            }
            _ => {}
        }
    }
}

/// Edges for deleting, in reverse: what a removed container used (network, volume,
/// image, the containers it depended on) is deleted after it.
fn deletion_edges(graph: &mut Graph, state: &State, changes: &BTreeMap<Address, Change>) {
    let mut by_name: BTreeMap<&str, &Address> = BTreeMap::new();
    for (address, r) in &state.resources {
        match &r.config {
            ResourceConfig::Volume(v) => {
                by_name.insert(&v.name, address);
            }
            ResourceConfig::Network(n) => {
                by_name.insert(&n.name, address);
            }
            ResourceConfig::Image(i) => {
                by_name.insert(i.run_reference(), address);
            }
            ResourceConfig::Container(_) => {}
        }
    }
    let mut containers_by_name: BTreeMap<&str, Vec<&Address>> = BTreeMap::new();
    for address in state.resources.keys() {
        if address.kind == Kind::Container {
            containers_by_name
                .entry(&address.name)
                .or_default()
                .push(address);
        }
    }
    let deleted = |a: &Address| changes.get(a).is_some_and(|c| c.action == Action::Delete);
    for (address, c) in changes {
        if !matches!(c.action, Action::Delete | Action::Replace) {
            continue;
        }
        let Some(ResourceConfig::Container(before)) = &c.before else {
            continue;
        };
        let used = before
            .mounts
            .iter()
            .filter_map(|m| match m {
                ResolvedMount::Volume { volume, .. } => Some(volume),
                ResolvedMount::Bind { .. } => None,
            })
            .chain(&before.networks)
            .chain(std::iter::once(&before.image));
        for name in used {
            if let Some(dep) = by_name.get(name.as_str()) {
                if deleted(dep) {
                    graph.add_edge((*dep).clone(), address.clone());
                }
            }
        }
        if c.action == Action::Delete {
            for name in before.depends_on.keys() {
                for dep in containers_by_name.get(name.as_str()).into_iter().flatten() {
                    if deleted(dep) {
                        graph.add_edge((*dep).clone(), address.clone());
                    }
                }
            }
        }
    }
}

/// The changes in the graph's order, each with what it depends on; `extra` (orphans
/// that share an address with another change) first, as they depend on nothing.
fn ordered(
    graph: Graph,
    mut changes: BTreeMap<Address, Change>,
    extra: Vec<Change>,
) -> Result<Vec<Change>, Cycle> {
    let order = graph.order()?;
    let mut out = extra;
    out.reserve(order.len());
    for address in order {
        if let Some(mut c) = changes.remove(&address) {
            c.depends_on = graph.dependencies(&address).cloned().collect();
            out.push(c);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
