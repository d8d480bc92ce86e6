//! `quai graph`: the stack's dependency graph in DOT, drawn from the stack file alone
//! (a container depends on its image, volumes, networks and `depends_on`). Edges point
//! from a resource to what it needs.

use std::collections::BTreeSet;
use std::path::Path;

use quai_core::address::Address;
use quai_core::stack::{ImageRef, MountSource, Stack};

use crate::stack_file::Loaded;
use crate::{exit, Ctx};

pub(crate) fn graph(ctx: &mut Ctx<'_, '_>, file: &Path) -> anyhow::Result<i32> {
    let loaded = Loaded::read(file)?;
    write!(ctx.io.out, "{}", dot(&loaded.stack))?;
    Ok(exit::OK)
}

/// The graph of `stack` in DOT.
pub fn dot(stack: &Stack) -> String {
    let mut nodes = BTreeSet::new();
    let mut edges = BTreeSet::new();
    for name in stack.images.keys() {
        nodes.insert(Address::image(name));
    }
    for name in stack.volumes.keys() {
        nodes.insert(Address::volume(name));
    }
    for name in stack.networks.keys() {
        nodes.insert(Address::network(name));
    }
    for (name, spec) in &stack.containers {
        for index in 0..spec.replicas.max(1) {
            let me = Address::container(name, index);
            nodes.insert(me.clone());
            if let ImageRef::Stack(image) = &spec.image {
                edges.insert((me.clone(), Address::image(image)));
            }
            for mount in &spec.volumes {
                if let MountSource::Volume(volume) = &mount.source {
                    edges.insert((me.clone(), Address::volume(volume)));
                }
            }
            for network in &spec.networks {
                edges.insert((me.clone(), Address::network(network)));
            }
            for dependency in spec.depends_on.keys() {
                let replicas = stack
                    .containers
                    .get(dependency)
                    .map_or(1, |d| d.replicas.max(1));
                for i in 0..replicas {
                    edges.insert((me.clone(), Address::container(dependency, i)));
                }
            }
        }
    }
    let mut out = format!(
        "digraph \"{}\" {{\n  rankdir=LR;\n  node [shape=box];\n",
        stack.name
    );
    for node in &nodes {
        out.push_str(&format!("  \"{node}\";\n"));
    }
    for (from, to) in &edges {
        out.push_str(&format!("  \"{from}\" -> \"{to}\";\n"));
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_point_at_what_they_need_replica_by_replica() {
        let stack = quai_core::stack::parse(
            r#"
[stack]
name = "blog"

[images.web]
from = "busybox:1.36"

[volumes.data]

[networks.back]

[containers.db]
image = "busybox:1.36"
volumes = ["data:/data"]
networks = ["back"]
replicas = 2

[containers.web]
image = "web"
depends_on = ["db"]
"#,
            "stack.toml",
            "blog",
        )
        .unwrap();
        assert_eq!(
            dot(&stack),
            r#"digraph "blog" {
  rankdir=LR;
  node [shape=box];
  "image.web";
  "volume.data";
  "network.back";
  "container.db";
  "container.db[1]";
  "container.web";
  "container.db" -> "volume.data";
  "container.db" -> "network.back";
  "container.db[1]" -> "volume.data";
  "container.db[1]" -> "network.back";
  "container.web" -> "image.web";
  "container.web" -> "container.db";
  "container.web" -> "container.db[1]";
}
"#
        );
    }
}
