//! The order of a plan: the changes by address, the edges of the dependency graph
//! (creations after what they use, deletions before what they used), and the final
//! listing, dependencies first. Pure.

use std::collections::{BTreeMap, HashMap};

use crate::address::{Address, Kind};
use crate::graph::{Cycle, Graph};
use crate::plan::{Action, Change};
use crate::resource::desired::stack_image;
use crate::resource::{ImageResource, ResolvedMount, ResourceConfig};
use crate::stack::{ImageRef, Stack};
use crate::state::State;

/// The changes being planned, at most one per address, found by address.
pub(super) struct Changes {
    /// In the order they were planned.
    pub(super) list: Vec<Change>,
    at: HashMap<Address, usize>,
}

impl Changes {
    pub(super) fn with_capacity(n: usize) -> Self {
        Changes {
            list: Vec::with_capacity(n),
            at: HashMap::with_capacity(n),
        }
    }

    pub(super) fn push(&mut self, change: Change) {
        self.at.insert(change.address.clone(), self.list.len());
        self.list.push(change);
    }

    pub(super) fn contains(&self, address: &Address) -> bool {
        self.at.contains_key(address)
    }

    pub(super) fn get(&self, address: &Address) -> Option<&Change> {
        self.at.get(address).map(|&i| &self.list[i])
    }

    pub(super) fn get_mut(&mut self, address: &Address) -> Option<&mut Change> {
        self.at.get(address).map(|&i| &mut self.list[i])
    }

    /// The plan's order: `extra` (orphans that share an address with another change)
    /// first, then the steps outside the graph (no-ops nothing waits for) in address
    /// order, then the graph's steps dependencies first, each with what it depends on.
    pub(super) fn ordered(self, graph: &Graph, extra: Vec<Change>) -> Result<Vec<Change>, Cycle> {
        let order = graph.order()?;
        // Each change is moved once into `out` (they are large): the free ones at once,
        // the graph's ones (few, in a plan of a mostly unchanged stack) through a map.
        let mut out = extra;
        out.reserve(self.list.len());
        let start = out.len();
        let mut in_graph: HashMap<Address, Change> = HashMap::new();
        for c in self.list {
            if graph.contains(&c.address) {
                in_graph.insert(c.address.clone(), c);
            } else {
                out.push(c);
            }
        }
        // Already in address order but for the state-only and orphan runs at the end.
        if !out[start..]
            .windows(2)
            .all(|w| w[0].address <= w[1].address)
        {
            out[start..].sort_unstable_by(|a, b| a.address.cmp(&b.address));
        }
        for address in order {
            if let Some(mut c) = in_graph.remove(&address) {
                c.depends_on = graph.dependencies(&address).cloned().collect();
                out.push(c);
            }
        }
        Ok(out)
    }

    /// In address order, when the graph cannot order them.
    pub(super) fn unordered(self, extra: Vec<Change>) -> Vec<Change> {
        let mut list = self.list;
        list.sort_by(|a, b| a.address.cmp(&b.address));
        extra.into_iter().chain(list).collect()
    }
}

/// Edges for creating and changing: a container after its image, volumes, networks
/// and the containers it depends on; a built image after the stack image it builds on.
/// Only steps that do something get edges (to any address, no-ops included).
pub(super) fn creation_edges(graph: &mut Graph, stack: &Stack, changes: &Changes) {
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
pub(super) fn deletion_edges(graph: &mut Graph, state: &State, changes: &Changes) {
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
