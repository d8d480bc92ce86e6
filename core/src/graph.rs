//! The dependency graph of a stack's addresses: cycle detection (naming the cycle) and
//! ordering in waves, each wave depending only on earlier ones. Pure.

use std::collections::{BTreeMap, BTreeSet};

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

    /// The first cycle found (in address order), if any.
    pub fn find_cycle(&self) -> Option<Cycle> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            Visiting,
            Done,
        }
        let mut marks: BTreeMap<&Address, Mark> = BTreeMap::new();
        for root in self.deps.keys() {
            if marks.contains_key(root) {
                continue;
            }
            // Iterative depth-first search; `path` is the chain from root.
            let mut path: Vec<&Address> = vec![root];
            let mut iters = vec![self.deps[root].iter()];
            marks.insert(root, Mark::Visiting);
            while let Some(it) = iters.last_mut() {
                match it.next() {
                    Some(next) => match marks.get(next) {
                        Some(Mark::Visiting) => {
                            let start = path.iter().position(|n| *n == next).unwrap_or(0);
                            return Some(Cycle(
                                path[start..].iter().map(|a| (*a).clone()).collect(),
                            ));
                        }
                        Some(Mark::Done) => {}
                        None => {
                            marks.insert(next, Mark::Visiting);
                            path.push(next);
                            iters.push(self.deps[next].iter());
                        }
                    },
                    None => {
                        iters.pop();
                        if let Some(done) = path.pop() {
                            marks.insert(done, Mark::Done);
                        }
                    }
                }
            }
        }
        None
    }

    /// The nodes in waves: the first wave depends on nothing, each later one only on
    /// earlier waves. Within a wave, address order.
    pub fn waves(&self) -> Result<Vec<Vec<Address>>, Cycle> {
        if let Some(cycle) = self.find_cycle() {
            return Err(cycle);
        }
        let mut remaining: BTreeMap<&Address, usize> =
            self.deps.iter().map(|(n, d)| (n, d.len())).collect();
        let mut dependents: BTreeMap<&Address, Vec<&Address>> = BTreeMap::new();
        for (n, d) in &self.deps {
            for dep in d {
                dependents.entry(dep).or_default().push(n);
            }
        }
        let mut waves = Vec::new();
        let mut ready: Vec<&Address> = remaining
            .iter()
            .filter(|(_, c)| **c == 0)
            .map(|(n, _)| *n)
            .collect();
        while !ready.is_empty() {
            let mut next = Vec::new();
            for n in &ready {
                remaining.remove(n);
                for d in dependents.get(n).into_iter().flatten() {
                    if let Some(c) = remaining.get_mut(d) {
                        *c -= 1;
                        if *c == 0 {
                            next.push(*d);
                        }
                    }
                }
            }
            waves.push(ready.iter().map(|a| (*a).clone()).collect());
            next.sort();
            ready = next;
        }
        Ok(waves)
    }

    /// All nodes, dependencies first.
    pub fn order(&self) -> Result<Vec<Address>, Cycle> {
        Ok(self.waves()?.into_iter().flatten().collect())
    }
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
