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

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

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
    let orphans = orphans(state, observed);
    let mut changes = Changes::with_capacity(configs.len() + orphans.len());
    let mut folded: BTreeSet<&str> = BTreeSet::new();
    // Networks made anew (by backend name): their containers must follow. Known once
    // the networks are planned; addresses sort images, volumes, networks, containers.
    let mut recreated: Option<BTreeMap<String, Address>> = None;
    for (address, after) in configs {
        let recorded = state.resources.get(&address);
        let change = match after {
            ResourceConfig::Image(image) => image_change(address, image, recorded, observed),
            ResourceConfig::Volume(v) => {
                let exists = observed.volumes.contains(&v.name);
                simple_change(address, ResourceConfig::Volume(v), recorded, exists)
            }
            ResourceConfig::Network(n) => network_change(address, n, recorded, observed),
            ResourceConfig::Container(container) => {
                let recreated = recreated.get_or_insert_with(|| {
                    changes
                        .list
                        .iter()
                        .filter(|c| recreates(c))
                        .filter_map(|c| match &c.after {
                            Some(ResourceConfig::Network(n)) => {
                                Some((n.name.clone(), c.address.clone()))
                            }
                            _ => None,
                        })
                        .collect()
                });
                let orphan = orphans.get(&address).and_then(|ids| ids.first()).copied();
                let mut change =
                    container_change(address, container, recorded, observed, recreated);
                // A container of this address the state does not know (an interrupted
                // apply made it): it is the one to replace when the recorded one is gone.
                if let Some(id) = orphan {
                    let recorded_gone =
                        !recorded.is_some_and(|r| observed.containers.contains_key(&r.id));
                    if recorded_gone {
                        folded.insert(id);
                        change.id = id.to_string();
                        change.action = Action::Replace;
                        change.reasons.retain(|r| *r != Reason::New);
                        change.reasons.push(Reason::Orphan { id: id.to_string() });
                    }
                }
                change
            }
        };
        changes.push(change);
    }

    // What the state has and the stack no longer asks for.
    for (address, recorded) in &state.resources {
        if changes.contains(address) {
            continue;
        }
        let change = if address.kind == Kind::Volume {
            Change {
                reasons: vec![Reason::NotInStack, Reason::Kept],
                ..change(address.clone(), Action::NoOp, Some(recorded), None)
            }
        } else {
            Change {
                reasons: vec![Reason::NotInStack],
                ..change(address.clone(), Action::Delete, Some(recorded), None)
            }
        };
        changes.push(change);
    }
    let mut extra = Vec::new();
    for (address, ids) in &orphans {
        for id in ids {
            if folded.contains(id) {
                continue;
            }
            let orphan = orphan_delete(address, id);
            if changes.contains(address) {
                extra.push(orphan);
            } else {
                changes.push(orphan);
            }
        }
    }

    let mut graph = Graph::new();
    for c in changes.list.iter().filter(|c| c.action != Action::NoOp) {
        graph.add_node(c.address.clone());
    }
    creation_edges(&mut graph, stack, &changes);
    deletion_edges(&mut graph, state, &changes);
    Ok(Plan {
        format: Plan::FORMAT,
        stack: stack.name.clone(),
        serial: state.serial,
        changes: changes.ordered(&graph, extra)?,
    })
}

/// The changes being planned, at most one per address, found by address.
struct Changes {
    list: Vec<Change>,
    at: HashMap<Address, usize>,
}

impl Changes {
    fn with_capacity(n: usize) -> Self {
        Changes {
            list: Vec::with_capacity(n),
            at: HashMap::with_capacity(n),
        }
    }

    fn push(&mut self, change: Change) {
        self.at.insert(change.address.clone(), self.list.len());
        self.list.push(change);
    }

    fn contains(&self, address: &Address) -> bool {
        self.at.contains_key(address)
    }

    fn get(&self, address: &Address) -> Option<&Change> {
        self.at.get(address).map(|&i| &self.list[i])
    }

    fn get_mut(&mut self, address: &Address) -> Option<&mut Change> {
        self.at.get(address).map(|&i| &mut self.list[i])
    }

    /// The plan's order: `extra` (orphans that share an address with another change)
    /// first, then the steps outside the graph (no-ops nothing waits for) in address
    /// order, then the graph's steps dependencies first, each with what it depends on.
    fn ordered(self, graph: &Graph, extra: Vec<Change>) -> Result<Vec<Change>, Cycle> {
        let order = graph.order()?;
        let mut out = extra;
        out.reserve(self.list.len());
        let mut slots: Vec<Option<Change>> = Vec::with_capacity(self.list.len());
        let mut free = Vec::new();
        for c in self.list {
            if graph.contains(&c.address) {
                slots.push(Some(c));
            } else {
                free.push(c);
                slots.push(None);
            }
        }
        free.sort_by(|a, b| a.address.cmp(&b.address));
        out.extend(free);
        for address in order {
            if let Some(mut c) = self.at.get(&address).and_then(|&i| slots[i].take()) {
                c.depends_on = graph.dependencies(&address).cloned().collect();
                out.push(c);
            }
        }
        Ok(out)
    }

    /// In address order, when the graph cannot order them.
    fn unordered(self, extra: Vec<Change>) -> Vec<Change> {
        let mut list = self.list;
        list.sort_by(|a, b| a.address.cmp(&b.address));
        extra.into_iter().chain(list).collect()
    }
}

/// The plan that deletes everything of `state`; volumes only when `volumes` is set.
pub fn destroy(state: &State, observed: &Observed, volumes: bool) -> Plan {
    let mut changes = Changes::with_capacity(state.resources.len());
    for (address, recorded) in &state.resources {
        let c = if address.kind == Kind::Volume && !volumes {
            Change {
                reasons: vec![Reason::Kept],
                ..change(address.clone(), Action::NoOp, Some(recorded), None)
            }
        } else {
            Change {
                reasons: vec![Reason::Destroy],
                ..change(address.clone(), Action::Delete, Some(recorded), None)
            }
        };
        changes.push(c);
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
                None => changes.push(orphan_delete(&address, id)),
            }
        }
    }
    let mut graph = Graph::new();
    for c in changes.list.iter().filter(|c| c.action != Action::NoOp) {
        graph.add_node(c.address.clone());
    }
    deletion_edges(&mut graph, state, &changes);
    // Deletions alone cannot loop (their edges follow the recorded depends_on, which
    // had no cycle when applied); should a hand-edited state loop, keep address order.
    let changes = match graph.find_cycle() {
        None => changes.ordered(&graph, extra).unwrap_or_default(),
        Some(_) => changes.unordered(extra),
    };
    Plan {
        format: Plan::FORMAT,
        stack: state.stack.clone(),
        serial: state.serial,
        changes,
    }
}

fn change(
    address: Address,
    action: Action,
    recorded: Option<&Recorded>,
    after: Option<ResourceConfig>,
) -> Change {
    Change {
        address,
        action,
        reasons: Vec::new(),
        before: recorded.map(|r| r.config.clone()),
        after,
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
    let known: HashSet<&str> = state.resources.values().map(|r| r.id.as_str()).collect();
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
    address: Address,
    after: ResourceConfig,
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
    address: Address,
    after: NetworkResource,
    recorded: Option<&Recorded>,
    observed: &Observed,
) -> Change {
    let seen = observed.networks.get(&after.name);
    let mut subnet = None;
    if let (Some(ResourceConfig::Network(before)), Some(seen)) = (recorded.map(|r| &r.config), seen)
    {
        let allocated = Some(seen.subnet);
        if before.subnet != after.subnet && after.subnet.is_some() && after.subnet != allocated {
            let show = |s: Option<crate::stack::Subnet>| {
                s.map_or_else(|| "allocated".to_string(), |s| s.to_string())
            };
            subnet = Some(Reason::Field {
                field: "subnet".into(),
                before: show(allocated),
                after: show(after.subnet),
                replaces: true,
            });
        }
    }
    let exists = seen.is_some();
    let mut c = simple_change(address, ResourceConfig::Network(after), recorded, exists);
    if let (Action::NoOp, Some(reason)) = (c.action, subnet) {
        c.action = Action::Replace;
        c.reasons.push(reason);
    }
    c
}

fn image_change(
    address: Address,
    image: ImageResource,
    recorded: Option<&Recorded>,
    observed: &Observed,
) -> Change {
    let after = &image;
    let before = match recorded.map(|r| &r.config) {
        Some(ResourceConfig::Image(b)) => Some(b),
        _ => None,
    };
    let mut c = match recorded {
        None => Change {
            reasons: vec![Reason::New],
            ..change(address, Action::Create, None, None)
        },
        Some(r) => change(address, Action::NoOp, Some(r), None),
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
    c.after = Some(ResourceConfig::Image(image));
    c
}

fn container_change(
    address: Address,
    container: ContainerResource,
    recorded: Option<&Recorded>,
    observed: &Observed,
    recreated: &BTreeMap<String, Address>,
) -> Change {
    let Some(recorded) = recorded else {
        return Change {
            reasons: vec![Reason::New],
            ..change(
                address,
                Action::Create,
                None,
                Some(ResourceConfig::Container(container)),
            )
        };
    };
    let after = &container;
    let mut c = change(address, Action::NoOp, Some(recorded), None);
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
        if let Some(network) = recreated.get(n) {
            c.reasons.push(Reason::Dependency {
                address: network.clone(),
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
    c.after = Some(ResourceConfig::Container(container));
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
/// Only steps that do something get edges (to any address, no-ops included).
fn creation_edges(graph: &mut Graph, stack: &Stack, changes: &Changes) {
    let mut by_name: BTreeMap<&str, &Address> = BTreeMap::new();
    for c in &changes.list {
        match &c.after {
            Some(ResourceConfig::Volume(v)) => {
                by_name.insert(&v.name, &c.address);
            }
            Some(ResourceConfig::Network(n)) => {
                by_name.insert(&n.name, &c.address);
            }
            _ => {}
        }
    }
    for c in &changes.list {
        let address = &c.address;
        // A step that does nothing waits for nothing: no-ops get no edges, which keeps
        // a plan of a large unchanged stack cheap.
        if matches!(c.action, Action::Delete | Action::NoOp) {
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
fn deletion_edges(graph: &mut Graph, state: &State, changes: &Changes) {
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
    for c in &changes.list {
        let address = &c.address;
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

#[cfg(test)]
mod tests;
