//! Rules across containers, checked once every table has been read: what a
//! `depends_on` condition needs from its target, dependency cycles, and host ports
//! published twice. Pure; reports the first broken rule at the spot that breaks it.

use std::collections::BTreeMap;
use std::ops::Range;

use crate::address::Address;
use crate::graph::Graph;
use crate::stack::container::ContainerSpans;
use crate::stack::document::Source;
use crate::stack::{DependsOn, Protocol, RestartPolicy, Span, Stack, StackError};

/// Checks the rules across containers. `spans` lists the containers in file order.
pub(crate) fn check(
    src: &Source,
    stack: &Stack,
    spans: &[(String, ContainerSpans)],
) -> Result<(), StackError> {
    conditions(src, stack, spans)?;
    cycles(src, spans)?;
    ports(src, stack, spans)
}

fn conditions(
    src: &Source,
    stack: &Stack,
    spans: &[(String, ContainerSpans)],
) -> Result<(), StackError> {
    for (name, s) in spans {
        let spec = &stack.containers[name];
        for (target, name_span, cond_span) in &s.depends_on {
            let Some(t) = stack.containers.get(target) else {
                continue;
            };
            let span = cond_span.clone().or_else(|| name_span.clone());
            match spec.depends_on[target] {
                DependsOn::Healthy if t.healthcheck.is_none() => {
                    return Err(src.error(
                        span,
                        format!("[containers.{name}] waits for `{target}` to be healthy, but [containers.{target}] has no healthcheck"),
                        Some(format!(
                            "add healthcheck = {{ command = [...], interval = \"2s\", retries = 3 }} to [containers.{target}], or wait for \"started\""
                        )),
                    ));
                }
                DependsOn::CompletedSuccessfully if t.restart == RestartPolicy::Always => {
                    return Err(src.error(
                        span,
                        format!("[containers.{name}] waits for `{target}` to complete, but [containers.{target}] has restart = \"always\" and never completes"),
                        Some(format!("give [containers.{target}] restart = \"no\" or \"on-failure\", or wait for \"started\"")),
                    ));
                }
                _ => {}
            }
        }
    }
    Ok(())
}

fn cycles(src: &Source, spans: &[(String, ContainerSpans)]) -> Result<(), StackError> {
    let mut graph = Graph::new();
    for (name, s) in spans {
        graph.add_node(Address::container(name, 0));
        for (target, _, _) in &s.depends_on {
            graph.add_edge(Address::container(name, 0), Address::container(target, 0));
        }
    }
    let Some(mut cycle) = graph.find_cycle() else {
        return Ok(());
    };
    // Start the cycle at the container written first in the file.
    let position = |a: &Address| spans.iter().position(|(n, _)| *n == a.name);
    if let Some(first) = (0..cycle.0.len()).min_by_key(|i| position(&cycle.0[*i])) {
        cycle.0.rotate_left(first);
    }
    let first = &cycle.0[0];
    let next = cycle.0.get(1).unwrap_or(first);
    let span = spans
        .iter()
        .find(|(n, _)| *n == first.name)
        .and_then(|(_, s)| s.depends_on.iter().find(|(t, _, _)| *t == next.name))
        .and_then(|(_, span, _)| span.clone());
    let help = if cycle.0.len() == 1 {
        format!(
            "a container cannot wait for itself: remove `{}` from its depends_on",
            first.name
        )
    } else {
        "each of these waits for the next, so none can start: remove one of these depends_on"
            .to_string()
    };
    Err(src.error(span, cycle.to_string(), Some(help)))
}

/// Host ports already published: by which container, and where.
type Taken<'a> = BTreeMap<(u16, Protocol), (&'a str, Option<Range<usize>>)>;

fn ports(
    src: &Source,
    stack: &Stack,
    spans: &[(String, ContainerSpans)],
) -> Result<(), StackError> {
    let mut taken: Taken = BTreeMap::new();
    for (name, s) in spans {
        let replicas = stack.containers[name].replicas;
        for (port, span) in &s.ports {
            let proto = match port.protocol {
                Protocol::Tcp => "tcp",
                Protocol::Udp => "udp",
            };
            if replicas > 1 {
                return Err(src.error(
                    span.clone(),
                    format!(
                        "[containers.{name}] has {replicas} replicas, and they cannot all publish host port {}/{proto}",
                        port.host
                    ),
                    Some("a host port goes to one container: use replicas = 1, or drop the published port and reach the replicas on their network".into()),
                ));
            }
            if let Some((other, other_span)) = taken.get(&(port.host, port.protocol)) {
                let line = other_span
                    .clone()
                    .map(|r| format!(" (line {})", Span::of(src.text, r).line))
                    .unwrap_or_default();
                return Err(src.error(
                    span.clone(),
                    format!("host port {}/{proto} is already published by [containers.{other}]", port.host),
                    Some(format!(
                        "[containers.{other}] publishes it{line}; give each container its own host port, e.g. \"{}:{}\"",
                        free_port(port.host, port.protocol, &taken),
                        port.container
                    )),
                ));
            }
            taken.insert((port.host, port.protocol), (name, span.clone()));
        }
    }
    Ok(())
}

/// The next host port after `from` that no container publishes.
fn free_port(from: u16, protocol: Protocol, taken: &Taken) -> u16 {
    (from.saturating_add(1)..=u16::MAX)
        .find(|p| !taken.contains_key(&(*p, protocol)))
        .unwrap_or(from)
}
