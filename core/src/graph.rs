//! The dependency graph of a stack's addresses: cycle detection (naming the cycle) and
//! ordering in waves, each wave depending only on earlier ones. Pure.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::address::Address;

/// Nodes and "depends on" edges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Graph {
    /// Each node with what it depends on.
    deps: BTreeMap<Address, BTreeSet<Address>>,
}

/// A cycle, written in order: each depends on the next, the last on the first.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("dependency cycle: {}", cycle_text(.0))]
pub struct Cycle(pub Vec<Address>);

fn cycle_text(cycle: &[Address]) -> String {
    let mut parts: Vec<String> = cycle.iter().map(ToString::to_string).collect();
    if let Some(first) = cycle.first() {
        parts.push(first.to_string());
    }
    parts.join(" → ")
}

impl Graph {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add_node(&mut self, node: Address) {
        self.deps.entry(node).or_default();
    }

    /// `node` depends on `dependency` (both become nodes).
    pub fn add_edge(&mut self, node: Address, dependency: Address) {
        self.add_node(dependency.clone());
        self.deps.entry(node).or_default().insert(dependency);
    }

    pub fn contains(&self, node: &Address) -> bool {
        self.deps.contains_key(node)
    }

    /// What `node` depends on directly.
    pub fn dependencies(&self, node: &Address) -> impl Iterator<Item = &Address> {
        self.deps.get(node).into_iter().flatten()
    }

    /// The nodes that depend on `node` directly.
    pub fn dependents<'a>(&'a self, node: &'a Address) -> impl Iterator<Item = &'a Address> + 'a {
        self.deps
            .iter()
            .filter(move |(_, d)| d.contains(node))
            .map(|(n, _)| n)
    }

    /// The nodes in address order, and for each the indices of its dependencies (in
    /// address order too). Walks work on indices: no address is compared twice.
    fn indexed(&self) -> (Vec<&Address>, Vec<Vec<usize>>) {
        let nodes: Vec<&Address> = self.deps.keys().collect();
        let index: HashMap<&Address, usize> =
            nodes.iter().enumerate().map(|(i, a)| (*a, i)).collect();
        let deps = self
            .deps
            .values()
            .map(|d| d.iter().map(|a| index[a]).collect())
            .collect();
        (nodes, deps)
    }

    /// The first cycle found (in address order), if any.
    pub fn find_cycle(&self) -> Option<Cycle> {
        let (nodes, deps) = self.indexed();
        find_cycle(&nodes, &deps)
    }

    /// The nodes in waves: the first wave depends on nothing, each later one only on
    /// earlier waves. Within a wave, address order.
    pub fn waves(&self) -> Result<Vec<Vec<Address>>, Cycle> {
        let (nodes, deps) = self.indexed();
        if let Some(cycle) = find_cycle(&nodes, &deps) {
            return Err(cycle);
        }
        let mut remaining: Vec<usize> = deps.iter().map(Vec::len).collect();
        let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
        for (n, d) in deps.iter().enumerate() {
            for &dep in d {
                dependents[dep].push(n);
            }
        }
        let mut waves = Vec::new();
        let mut ready: Vec<usize> = (0..nodes.len()).filter(|&n| remaining[n] == 0).collect();
        while !ready.is_empty() {
            let mut next = Vec::new();
            for &n in &ready {
                for &d in &dependents[n] {
                    remaining[d] -= 1;
                    if remaining[d] == 0 {
                        next.push(d);
                    }
                }
            }
            waves.push(ready.iter().map(|&n| nodes[n].clone()).collect());
            // Indices follow address order.
            next.sort_unstable();
            ready = next;
        }
        Ok(waves)
    }

    /// All nodes, dependencies first.
    pub fn order(&self) -> Result<Vec<Address>, Cycle> {
        Ok(self.waves()?.into_iter().flatten().collect())
    }
}

/// Depth-first search from each node in address order; the first back edge closes
/// the cycle.
fn find_cycle(nodes: &[&Address], deps: &[Vec<usize>]) -> Option<Cycle> {
    const NEW: u8 = 0;
    const VISITING: u8 = 1;
    const DONE: u8 = 2;
    let mut marks = vec![NEW; nodes.len()];
    for root in 0..nodes.len() {
        if marks[root] != NEW {
            continue;
        }
        // Iterative: `path` is the chain from root, `next` the next edge to try at each.
        let mut path: Vec<usize> = vec![root];
        let mut next: Vec<usize> = vec![0];
        marks[root] = VISITING;
        while let (Some(&node), Some(edge)) = (path.last(), next.last_mut()) {
            match deps[node].get(*edge) {
                Some(&dep) => {
                    *edge += 1;
                    match marks[dep] {
                        VISITING => {
                            let start = path.iter().position(|&n| n == dep).unwrap_or(0);
                            return Some(Cycle(
                                path[start..].iter().map(|&n| nodes[n].clone()).collect(),
                            ));
                        }
                        DONE => {}
                        _ => {
                            marks[dep] = VISITING;
                            path.push(dep);
                            next.push(0);
                        }
                    }
                }
                None => {
                    marks[node] = DONE;
                    path.pop();
                    next.pop();
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(name: &str) -> Address {
        Address::container(name, 0)
    }

    #[test]
    fn waves_put_dependencies_first() {
        let mut g = Graph::new();
        g.add_edge(c("web"), c("db"));
        g.add_edge(c("web"), Address::network("back"));
        g.add_edge(c("db"), Address::network("back"));
        g.add_edge(c("db"), Address::volume("data"));
        let waves = g.waves().unwrap();
        assert_eq!(
            waves,
            vec![
                vec![Address::volume("data"), Address::network("back")],
                vec![c("db")],
                vec![c("web")]
            ]
        );
    }

    #[test]
    fn a_cycle_is_named_in_order() {
        let mut g = Graph::new();
        g.add_edge(c("a"), c("b"));
        g.add_edge(c("b"), c("c"));
        g.add_edge(c("c"), c("a"));
        g.add_edge(c("d"), c("a"));
        let cycle = g.waves().unwrap_err();
        assert_eq!(
            cycle.to_string(),
            "dependency cycle: container.a → container.b → container.c → container.a"
        );
    }

    #[test]
    fn a_self_dependency_is_a_cycle() {
        let mut g = Graph::new();
        g.add_edge(c("a"), c("a"));
        assert_eq!(g.find_cycle(), Some(Cycle(vec![c("a")])));
    }

    #[test]
    fn dependents_are_found() {
        let mut g = Graph::new();
        g.add_edge(c("web"), c("db"));
        g.add_edge(c("api"), c("db"));
        let d: Vec<_> = g.dependents(&c("db")).cloned().collect();
        assert_eq!(d, vec![c("api"), c("web")]);
    }
}
