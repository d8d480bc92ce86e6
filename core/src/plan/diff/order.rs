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

/// The changes being planned, at most one per address, found by address. They arrive
/// in a few runs sorted by address (the stack's, the state's leftovers, the orphans),
/// so finding one is a binary search per run: no map of every address is built, which
/// matters for a stack of 10 000 containers.
pub(super) struct Changes {
    /// In the order they were planned.
    pub(super) list: Vec<Change>,
    /// Where each sorted run starts in `list`.
    runs: Vec<usize>,
    /// How many of them do something (not no-ops).
    acting: usize,
}

impl Changes {
    pub(super) fn with_capacity(n: usize) -> Self {
        Changes {
            list: Vec::with_capacity(n),
            runs: Vec::new(),
            acting: 0,
        }
    }

    /// Whether some change does something.
    pub(super) fn acting(&self) -> bool {
        self.acting > 0
    }

    pub(super) fn push(&mut self, change: Change) {
        let sorted = self
            .list
            .last()
            .is_some_and(|last| last.address < change.address);
        if !sorted {
            self.runs.push(self.list.len());
        }
        if change.action != Action::NoOp {
            self.acting += 1;
        }
        self.list.push(change);
    }

    fn find(&self, address: &Address) -> Option<usize> {
        let ends = self.runs.iter().skip(1).copied().chain([self.list.len()]);
        self.runs.iter().zip(ends).find_map(|(&start, end)| {
            self.list[start..end]
                .binary_search_by(|c| c.address.cmp(address))
                .ok()
                .map(|i| start + i)
        })
    }

    pub(super) fn contains(&self, address: &Address) -> bool {
        self.find(address).is_some()
    }

    pub(super) fn get(&self, address: &Address) -> Option<&Change> {
        self.find(address).map(|i| &self.list[i])
    }

    /// The change at `address`, to amend (it must keep doing something if it did).
    pub(super) fn get_mut(&mut self, address: &Address) -> Option<&mut Change> {
        self.find(address).map(|i| &mut self.list[i])
    }

    /// The plan's order: `extra` (orphans that share an address with another change)
    /// first, then the steps outside the graph (no-ops nothing waits for) in address
    /// order, then the graph's steps dependencies first, each with what it depends on.
    pub(super) fn ordered(self, graph: &Graph, extra: Vec<Change>) -> Result<Vec<Change>, Cycle> {
        let order = graph.order()?;
        // Changes are large: they stay in place, the graph's ones (few in a plan of a
        // mostly unchanged stack) are taken out through a map and put back in order.
        // One sorted run (the stack's, when the state has nothing more) needs no sort.
        let mut sorted = self.runs.len() <= 1;
        let mut list = self.list;
        let mut in_graph: HashMap<Address, Change> = HashMap::new();
        if !graph.is_empty() {
            for c in list.iter_mut() {
                if graph.contains(&c.address) {
                    let taken = std::mem::replace(c, taken_out());
                    in_graph.insert(taken.address.clone(), taken);
                }
            }
            list.retain(|c| !c.address.name.is_empty());
        }
        if !sorted {
            sorted = list.windows(2).all(|w| w[0].address <= w[1].address);
        }
        if !sorted {
            list.sort_unstable_by(|a, b| a.address.cmp(&b.address));
        }
        list.reserve(in_graph.len());
        for address in order {
            if let Some(mut c) = in_graph.remove(&address) {
                c.depends_on = graph.dependencies(&address).cloned().collect();
                list.push(c);
            }
        }
        if extra.is_empty() {
            return Ok(list);
        }
        let mut out = extra;
        out.extend(list);
        Ok(out)
    }

    /// In address order, when the graph cannot order them.
    pub(super) fn unordered(self, extra: Vec<Change>) -> Vec<Change> {
        let mut list = self.list;
        list.sort_by(|a, b| a.address.cmp(&b.address));
        extra.into_iter().chain(list).collect()
    }
}

/// What stands in the list for a change taken out (an address never has an empty name).
fn taken_out() -> Change {
    Change {
        address: Address::new(Kind::Image, String::new()),
        action: Action::NoOp,
        reasons: Vec::new(),
        before: None,
        after: None,
        id: String::new(),
        depends_on: Vec::new(),
        build: None,
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
            Some(ResourceConfig::Image(image)) => {
                if let ImageResource::Build { base, .. } = &**image {
                    if let Some(base) = stack_image(stack, base) {
                        graph.add_edge(address.clone(), Address::image(base));
                    }
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
