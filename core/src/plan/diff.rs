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
use std::sync::Arc;

use crate::address::{Address, Kind};
use crate::backend::Observed;
use crate::graph::{Cycle, Graph};
use crate::image::build::{predict, PreviousBuild};
use crate::plan::{Action, Change, Drift, Plan, Reason};
use crate::resource::desired::{address_count, resolve_each, Desired, DesiredError};
use crate::resource::{ContainerResource, ImageResource, NetworkResource, ResourceConfig};
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
    let Sightings {
        recorded: sighted,
        orphans,
    } = Sightings::new(state, observed);
    let mut changes = Changes::with_capacity(address_count(stack));
    // Networks made anew (by backend name): their containers must follow. Known once
    // the networks are planned; addresses sort images, volumes, networks, containers.
    let mut recreated: Option<BTreeMap<String, Address>> = None;
    // The state is in address order like the resolved configurations: walked beside
    // them, each record is compared as its configuration is made, while both are in the
    // cache. What the state has that the stack lacks is left over.
    let mut records = state.resources.iter().zip(&sighted).peekable();
    let mut leftovers = Vec::new();
    let mut equal = Equal::default();
    resolve_each(desired, observed, |address, after| {
        while let Some((left, _)) = records.next_if(|((a, _), _)| **a < address) {
            leftovers.push(left);
        }
        let (recorded, sighted) = match records.next_if(|((a, _), _)| **a == address) {
            Some(((_, r), s)) => (Some(r), *s),
            None => (None, None),
        };
        let change = match after {
            ResourceConfig::Image(image) => {
                image_change(address, image.clone(), recorded, observed)
            }
            ResourceConfig::Volume(v) => {
                let exists = observed.volumes.contains(&v.name);
                simple_change(address, ResourceConfig::Volume(v.clone()), recorded, exists)
            }
            ResourceConfig::Network(n) => network_change(address, n.clone(), recorded, observed),
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
                container_change(address, container, recorded, sighted, recreated, &mut equal)
            }
        };
        changes.push(unchanged_before_dropped(change));
    })?;
    leftovers.extend(records.map(|(left, _)| left));
    let stack_changes = changes.list.len();

    // Containers of the stack the state does not know (an interrupted apply made
    // them). One whose address is a container of the stack whose recorded container is
    // gone takes its place: it is the one to replace.
    let mut folded: BTreeSet<&str> = BTreeSet::new();
    for (address, ids) in &orphans {
        let Some(&id) = ids.first() else { continue };
        let Ok(at) = changes.list[..stack_changes].binary_search_by(|c| c.address.cmp(address))
        else {
            continue;
        };
        let change = &mut changes.list[at];
        let container = matches!(change.after, Some(ResourceConfig::Container(_)));
        if container && !observed.containers.contains_key(&change.id) {
            // Its recorded container is gone (or it has none): it is a create or a
            // replace already, so the count of acting changes stays right.
            debug_assert!(change.action != Action::NoOp);
            folded.insert(id);
            change.id = id.to_string();
            change.action = Action::Replace;
            change.reasons.retain(|r| *r != Reason::New);
            change.reasons.push(Reason::Orphan { id: id.to_string() });
        }
    }

    // What the state has and the stack no longer asks for.
    for (address, recorded) in leftovers {
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

    // A plan where nothing changes (the common one, on a large stack too) has no graph
    // to build: no step waits for another.
    let mut graph = Graph::new();
    if changes.acting() {
        for c in changes.list.iter().filter(|c| c.action != Action::NoOp) {
            graph.add_node(c.address.clone());
        }
        creation_edges(&mut graph, stack, &changes);
        deletion_edges(&mut graph, state, &changes);
    }
    Ok(Plan {
        format: Plan::FORMAT,
        stack: stack.name.clone(),
        serial: state.serial,
        changes: changes.ordered(&graph, extra)?,
    })
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
    for (address, ids) in Sightings::new(state, observed).orphans {
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

/// A no-op whose record is exactly what the stack asks carries `after` alone (see
/// [`Change::before`]).
fn unchanged_before_dropped(mut c: Change) -> Change {
    if c.action == Action::NoOp && c.before.is_some() && c.before == c.after {
        c.before = None;
    }
    c
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
        observed: Drift::Removed,
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
    image: Arc<ImageResource>,
    recorded: Option<&Recorded>,
    observed: &Observed,
) -> Change {
    let after: &ImageResource = &image;
    let before = match recorded.map(|r| &r.config) {
        Some(ResourceConfig::Image(b)) => Some(&**b),
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
                    observed: Drift::NotInStore,
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
                    observed: Drift::NotInStore,
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
        c.build = Some(Box::new(predict(
            base,
            base_digest,
            steps,
            previous,
            &observed.cache,
        )));
    }
    c.after = Some(ResourceConfig::Image(image));
    c
}

fn container_change(
    address: Address,
    container: &Arc<ContainerResource>,
    recorded: Option<&Recorded>,
    seen: Option<Sighting>,
    recreated: &BTreeMap<String, Address>,
    equal: &mut Equal,
) -> Change {
    let Some(recorded) = recorded else {
        return Change {
            reasons: vec![Reason::New],
            ..change(
                address,
                Action::Create,
                None,
                Some(ResourceConfig::Container(container.clone())),
            )
        };
    };
    let after: &ContainerResource = container;
    // The recorded configuration is copied into the change only when it differs from
    // `after`, the common no-op copies nothing (see [`Change::before`]).
    let mut c = change(address, Action::NoOp, None, None);
    c.id = recorded.id.clone();
    let recorded_container = match &recorded.config {
        ResourceConfig::Container(b) => Some(b),
        _ => None,
    };
    let before = recorded_container.map(|b| &**b);
    if let Some(d) = drift(seen, before) {
        c.reasons.push(Reason::Drift { observed: d });
    }
    // Compared once: on a large unchanged stack, reading the record is most of the work.
    let same = recorded_container.is_some_and(|b| equal.same(container, b));
    match before {
        Some(_) if same => {}
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
    if c.action != Action::NoOp || !same {
        c.before = Some(recorded.config.clone());
    }
    // When the record is what the stack asks, the step shares the record's
    // configuration, and the one just resolved is let go with its service: a plan of a
    // large unchanged stack holds no configuration beyond the state's.
    c.after = Some(if same {
        recorded.config.clone()
    } else {
        ResourceConfig::Container(container.clone())
    });
    c
}

/// Whether a desired container configuration equals a recorded one, remembering the
/// last pair found equal. The replicas of a service share one configuration in the plan
/// and in a decoded state, so that after the first replica the next ones are known equal
/// without reading their record again. (The pair is held, not only its addresses, so
/// that neither can be freed and another configuration made at the same place.)
#[derive(Default)]
struct Equal {
    last: Option<(Arc<ContainerResource>, Arc<ContainerResource>)>,
}

impl Equal {
    fn same(&mut self, after: &Arc<ContainerResource>, before: &Arc<ContainerResource>) -> bool {
        if let Some((a, b)) = &self.last {
            if Arc::ptr_eq(a, after) && Arc::ptr_eq(b, before) {
                return true;
            }
        }
        let same = after == before;
        if same {
            self.last = Some((after.clone(), before.clone()));
        }
        same
    }
}

fn recorded_kind(config: &ResourceConfig) -> &'static str {
    match config {
        ResourceConfig::Image(_) => "image",
        ResourceConfig::Volume(_) => "volume",
        ResourceConfig::Network(_) => "network",
        ResourceConfig::Container(_) => "container",
    }
}

mod container;
mod order;

pub use container::bytes;
use container::{container_fields, drift, drops_data, Sighting, Sightings};
use order::{creation_edges, deletion_edges, Changes};

#[cfg(test)]
mod tests;
