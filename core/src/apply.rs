//! Runs a [`Plan`] over a [`Backend`]: steps in dependency order, independent steps
//! concurrently, each finished step recorded in the state at once. When a step fails,
//! the steps that depend on it are skipped and every failure is reported; the state
//! left behind is one from which the next apply converges.
//!
//! Decides on actions alone; reasons are for people (but for `Kept`, which it tells).
//!
//! Each change becomes one or two tasks: a *removal* (Delete, and the first half of a
//! Replace) and a *making* (Create, Update, and the second half of a Replace).
//! Makings follow dependencies forward: a container after its image, volumes, networks
//! and the containers it depends on ([`Change::depends_on`], plus what its configuration
//! names). Removals follow them backward, from the recorded configurations: a network is
//! removed after the containers attached to it. Every container making waits for every
//! container removal, so that names and host ports are free. So a replaced network is
//! removed after its containers, made again, and its containers made after it.
//!
//! Crash safety: the state is written after every backend action that changes what
//! exists, and every backend call is idempotent or tolerated when repeated (removing a
//! container that is gone is success; a container name held by an earlier, interrupted
//! apply's container of the same address is freed). Interrupted anywhere, the next
//! plan sees either the recorded resource or an orphan of the stack (which it deletes).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, MutexGuard};

use crate::address::{Address, Kind};
use crate::backend::{Backend, BackendError, BuildRequest};
use crate::event::{Event, EventSink};
use crate::image::{Context, Reference};
use crate::plan::{Action, Change, Plan, Reason};
use crate::resource::{ContainerResource, ImageResource, ResolvedMount, ResourceConfig};
use crate::stack::DependsOn;
use crate::state::{Recorded, State, StateError, StateLock};

mod schedule;

use schedule::{Schedule, Task, TaskEnd};

/// How an apply runs.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// Steps run at once at most (1 in the browser).
    pub parallelism: usize,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        let parallelism = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .clamp(1, 8);
        ApplyOptions { parallelism }
    }
}

/// What an apply did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApplyReport {
    pub done: Vec<Address>,
    pub failed: Vec<(Address, String)>,
    /// Not run, because a step they depend on failed: (skipped, failed dependency).
    pub skipped: Vec<(Address, Address)>,
}

impl ApplyReport {
    pub fn succeeded(&self) -> bool {
        self.failed.is_empty() && self.skipped.is_empty()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("the plan was made against state serial {planned}, the state is now at {current}: plan again")]
    StalePlan { planned: u64, current: u64 },
    #[error("the plan is for stack `{planned}`, the state is of stack `{current}`")]
    WrongStack { planned: String, current: String },
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// A failpoint of a test stopped the apply (only with the `failpoints` feature).
    #[error("interrupted at failpoint {failpoint}: {message}")]
    Interrupted { failpoint: String, message: String },
}

/// Applies `plan` with `backend`, writing the state through `lock` after each step.
/// `contexts` are the build contexts of the stack's images, by image name (an image
/// without one builds from an empty context).
pub fn apply(
    plan: &Plan,
    backend: &dyn Backend,
    lock: &mut dyn StateLock,
    contexts: &BTreeMap<String, Context>,
    events: &dyn EventSink,
    options: &ApplyOptions,
) -> Result<ApplyReport, ApplyError> {
    let state = lock.load()?;
    if state.stack != plan.stack {
        return Err(ApplyError::WrongStack {
            planned: plan.stack.clone(),
            current: state.stack,
        });
    }
    if state.serial != plan.serial {
        return Err(ApplyError::StalePlan {
            planned: plan.serial,
            current: state.serial,
        });
    }
    for change in &plan.changes {
        if change.action == Action::NoOp && change.reasons.contains(&Reason::Kept) {
            events.emit(Event::Note {
                address: Some(change.address.clone()),
                message: format!("{} kept (ask --volumes to delete it)", change.address),
            });
        }
    }
    let run = Run {
        plan,
        backend,
        contexts,
        events,
        healthy_wanted: healthy_wanted(plan),
        shared: Mutex::new(Shared { state, lock }),
    };
    let mut schedule = Schedule::new(plan);
    let sequential = options.parallelism <= 1 || cfg!(target_arch = "wasm32");
    if sequential {
        while let Some(task) = schedule.next_ready(events) {
            let end = run.task(&task)?;
            schedule.finish(task, end, events);
        }
    } else {
        drive_parallel(&run, &mut schedule, options.parallelism)?;
    }
    Ok(schedule.report())
}

/// Runs tasks on up to `parallelism` threads; the first interruption stops the
/// launching of new tasks and is returned once the running ones end.
#[cfg(not(target_arch = "wasm32"))]
fn drive_parallel(
    run: &Run<'_>,
    schedule: &mut Schedule,
    parallelism: usize,
) -> Result<(), ApplyError> {
    let (tx, rx) = std::sync::mpsc::channel::<(Task, Result<TaskEnd, ApplyError>)>();
    let mut first_error = None;
    std::thread::scope(|scope| {
        let mut running = 0;
        loop {
            while first_error.is_none() && running < parallelism {
                let Some(task) = schedule.next_ready(run.events) else {
                    break;
                };
                running += 1;
                let tx = tx.clone();
                scope.spawn(move || {
                    let end = run.task(&task);
                    let _ = tx.send((task, end));
                });
            }
            if running == 0 {
                break;
            }
            let Ok((task, end)) = rx.recv() else { break };
            running -= 1;
            match end {
                Ok(end) => schedule.finish(task, end, run.events),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
    });
    first_error.map_or(Ok(()), Err)
}

#[cfg(target_arch = "wasm32")]
fn drive_parallel(
    run: &Run<'_>,
    schedule: &mut Schedule,
    _parallelism: usize,
) -> Result<(), ApplyError> {
    while let Some(task) = schedule.next_ready(run.events) {
        let end = run.task(&task)?;
        schedule.finish(task, end, run.events);
    }
    Ok(())
}

/// Names of containers that some container waits on with `{ NAME = "healthy" }`.
fn healthy_wanted(plan: &Plan) -> BTreeSet<String> {
    plan.changes
        .iter()
        .filter_map(|c| match &c.after {
            Some(ResourceConfig::Container(after)) => Some(after),
            _ => None,
        })
        .flat_map(|after| after.depends_on.iter())
        .filter(|(_, condition)| **condition == DependsOn::Healthy)
        .map(|(name, _)| name.clone())
        .collect()
}

struct Shared<'a> {
    state: State,
    lock: &'a mut dyn StateLock,
}

/// What every task needs.
struct Run<'a> {
    plan: &'a Plan,
    backend: &'a dyn Backend,
    contexts: &'a BTreeMap<String, Context>,
    events: &'a dyn EventSink,
    healthy_wanted: BTreeSet<String>,
    shared: Mutex<Shared<'a>>,
}

impl<'a> Run<'a> {
    fn shared(&self) -> MutexGuard<'_, Shared<'a>> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes the state with `address` recorded as `recorded` (or forgotten).
    fn record(&self, address: &Address, recorded: Option<Recorded>) -> Result<(), ApplyError> {
        let mut guard = self.shared();
        let shared = &mut *guard;
        match recorded {
            Some(r) => shared.state.resources.insert(address.clone(), r),
            None => shared.state.resources.remove(address),
        };
        shared.lock.save_change(&mut shared.state, address)?;
        Ok(())
    }

    fn recorded_id(&self, address: &Address) -> String {
        self.shared()
            .state
            .resources
            .get(address)
            .map(|r| r.id.clone())
            .unwrap_or_default()
    }

    /// Runs one task: `Err` only when the apply must stop (interruption, state write).
    fn task(&self, task: &Task) -> Result<TaskEnd, ApplyError> {
        let change = &self.plan.changes[task.change];
        crate::failpoint!("apply::before_step");
        let outcome = if task.remove {
            self.remove(change)?
        } else {
            self.make(change)?
        };
        Ok(match outcome {
            Ok(()) => TaskEnd::Done,
            Err(e) => TaskEnd::Failed(e.to_string()),
        })
    }

    /// The removal half: Delete, or the first half of Replace.
    fn remove(&self, change: &Change) -> Result<Result<(), BackendError>, ApplyError> {
        let address = &change.address;
        let config = change.before.as_ref().or(change.after.as_ref());
        let acted = match (address.kind, config) {
            // Images stay in the store (they are the build cache's and other stacks');
            // only the state forgets them.
            (Kind::Image, _) => Ok(()),
            (Kind::Volume, Some(ResourceConfig::Volume(v))) => {
                self.backend.remove_volume(&v.name).inspect(|_| {
                    self.events.emit(Event::VolumeRemoved {
                        address: address.clone(),
                    })
                })
            }
            (Kind::Network, Some(ResourceConfig::Network(n))) => {
                self.backend.remove_network(&n.name).inspect(|_| {
                    self.events.emit(Event::NetworkRemoved {
                        address: address.clone(),
                    })
                })
            }
            (Kind::Container, _) => {
                let id = if change.id.is_empty() {
                    self.recorded_id(address)
                } else {
                    change.id.clone()
                };
                match self.backend.remove_container(&id, self.events) {
                    // Gone already (removed outside quai, or by an interrupted apply).
                    Err(BackendError::NoSuchContainer { .. }) => Ok(()),
                    other if id.is_empty() => other.or(Ok(())),
                    other => other,
                }
            }
            // A volume or network change without its configuration: nothing to name.
            _ => Ok(()),
        };
        if let Err(e) = acted {
            return Ok(Err(e));
        }
        crate::failpoint!("apply::after_backend");
        self.record(address, None)?;
        crate::failpoint!("apply::after_record");
        Ok(Ok(()))
    }

    /// The making half: Create, Update, or the second half of Replace.
    fn make(&self, change: &Change) -> Result<Result<(), BackendError>, ApplyError> {
        let address = &change.address;
        let Some(after) = &change.after else {
            return Ok(Ok(()));
        };
        let made = match after {
            ResourceConfig::Image(image) => self.make_image(address, image),
            ResourceConfig::Volume(v) => {
                self.backend.create_volume(&self.plan.stack, v).map(|()| {
                    self.events.emit(Event::VolumeCreated {
                        address: address.clone(),
                    });
                    (String::new(), BTreeMap::new())
                })
            }
            ResourceConfig::Network(n) => {
                self.backend
                    .create_network(&self.plan.stack, n)
                    .map(|subnet| {
                        self.events.emit(Event::NetworkCreated {
                            address: address.clone(),
                            subnet: subnet.to_string(),
                        });
                        let attributes =
                            BTreeMap::from([("subnet".to_string(), subnet.to_string())]);
                        (String::new(), attributes)
                    })
            }
            ResourceConfig::Container(c) if change.action == Action::Update => {
                let id = if change.id.is_empty() {
                    self.recorded_id(address)
                } else {
                    change.id.clone()
                };
                self.backend
                    .update_container(&id, &c.resources, c.restart)
                    .map(|()| (id, BTreeMap::new()))
            }
            ResourceConfig::Container(c) => return self.make_container(address, after, c),
        };
        let (id, attributes) = match made {
            Ok(made) => made,
            Err(e) => return Ok(Err(e)),
        };
        crate::failpoint!("apply::after_backend");
        self.record(
            address,
            Some(Recorded {
                config: after.clone(),
                id,
                attributes,
            }),
        )?;
        crate::failpoint!("apply::after_record");
        Ok(Ok(()))
    }

    fn make_image(
        &self,
        address: &Address,
        image: &ImageResource,
    ) -> Result<(String, BTreeMap<String, String>), BackendError> {
        let info = match image {
            ImageResource::Pull { reference, .. } => {
                let parsed: Reference =
                    reference
                        .parse()
                        .map_err(
                            |e: crate::image::ReferenceError| BackendError::ImageNotFound {
                                reference: e.to_string(),
                            },
                        )?;
                self.backend.pull(&parsed, self.events)?
            }
            ImageResource::Build { name, .. } => {
                let empty = Context::new();
                let context = self.contexts.get(name).unwrap_or(&empty);
                let request = BuildRequest {
                    address,
                    image,
                    context,
                };
                self.backend.build(&request, self.events)?
            }
        };
        Ok((info.digest.to_string(), BTreeMap::new()))
    }

    /// Creates and starts a container (and waits for its health when a dependent asks).
    fn make_container(
        &self,
        address: &Address,
        after: &ResourceConfig,
        c: &ContainerResource,
    ) -> Result<Result<(), BackendError>, ApplyError> {
        let stack = &self.plan.stack;
        let created = match self
            .backend
            .create_container(stack, address, c, self.events)
        {
            Err(BackendError::NameTaken { name }) => match self.free_name(address, &name) {
                Ok(true) => self
                    .backend
                    .create_container(stack, address, c, self.events),
                Ok(false) => Err(BackendError::NameTaken { name }),
                Err(e) => Err(e),
            },
            other => other,
        };
        let id = match created {
            Ok(id) => id,
            Err(e) => return Ok(Err(e)),
        };
        let recorded = Recorded {
            config: after.clone(),
            id: id.clone(),
            attributes: BTreeMap::new(),
        };
        if let Err(e) = self.backend.start_container(&id, self.events) {
            // Take back what was created, so that the next plan simply creates it; if
            // even that fails, record it: the next plan sees it not running and
            // replaces it.
            if self.backend.remove_container(&id, self.events).is_err() {
                self.record(address, Some(recorded))?;
            }
            return Ok(Err(e));
        }
        let healthy = if self.healthy_wanted.contains(&address.name) {
            self.backend.wait_healthy(&id)
        } else {
            Ok(())
        };
        crate::failpoint!("apply::after_backend");
        self.record(address, Some(recorded))?;
        crate::failpoint!("apply::after_record");
        Ok(healthy)
    }

    /// A container named `name` exists already. When it is this stack's container for
    /// this very address and the state does not know it (left by an interrupted apply),
    /// it is removed and `true` returned.
    fn free_name(&self, address: &Address, name: &str) -> Result<bool, BackendError> {
        let observed = self.backend.observe(&self.plan.stack, &[])?;
        let known: BTreeSet<String> = self
            .shared()
            .state
            .resources
            .values()
            .map(|r| r.id.clone())
            .collect();
        let Some((id, _)) = observed
            .containers
            .iter()
            .find(|(id, o)| o.name == name && &o.address == address && !known.contains(*id))
        else {
            return Ok(false);
        };
        self.backend.remove_container(id, self.events)?;
        Ok(true)
    }
}

/// The addresses of a plan by the names a container's configuration uses for them:
/// run reference of an image, backend name of a volume or network, stack name of a
/// container. Built once per apply, so that finding what each of n containers depends
/// on costs a few lookups, not a walk over the whole plan (which made scheduling
/// O(n²)).
pub(crate) struct PlanNames<'p> {
    images: BTreeMap<&'p str, Vec<&'p Address>>,
    volumes: BTreeMap<&'p str, Vec<&'p Address>>,
    networks: BTreeMap<&'p str, Vec<&'p Address>>,
    containers: BTreeMap<&'p str, Vec<&'p Address>>,
}

impl<'p> PlanNames<'p> {
    /// From the configurations of `plan`, as recorded and as asked.
    pub(crate) fn new(plan: &'p Plan) -> Self {
        let mut names = PlanNames {
            images: BTreeMap::new(),
            volumes: BTreeMap::new(),
            networks: BTreeMap::new(),
            containers: BTreeMap::new(),
        };
        let configs = plan
            .changes
            .iter()
            .flat_map(|ch| [ch.before.as_ref(), ch.after.as_ref()].map(|cfg| (ch, cfg)))
            .filter_map(|(ch, cfg)| cfg.map(|cfg| (&ch.address, cfg)));
        for (address, cfg) in configs {
            let (map, name) = match cfg {
                ResourceConfig::Image(i) => (&mut names.images, i.run_reference()),
                ResourceConfig::Volume(v) => (&mut names.volumes, v.name.as_str()),
                ResourceConfig::Network(n) => (&mut names.networks, n.name.as_str()),
                ResourceConfig::Container(_) if address.kind == Kind::Container => {
                    (&mut names.containers, address.name.as_str())
                }
                ResourceConfig::Container(_) => continue,
            };
            map.entry(name).or_default().push(address);
        }
        names
    }

    /// What a configuration depends on, by address, among the addresses of the plan:
    /// a container's image, volumes, networks and the containers it depends on.
    pub(crate) fn dependencies(&self, config: &ResourceConfig) -> Vec<Address> {
        let ResourceConfig::Container(c) = config else {
            return Vec::new();
        };
        let volumes = c.mounts.iter().filter_map(|m| match m {
            ResolvedMount::Volume { volume, .. } => self.volumes.get(volume.as_str()),
            ResolvedMount::Bind { .. } => None,
        });
        let deps: BTreeSet<&Address> = self
            .images
            .get(c.image.as_str())
            .into_iter()
            .chain(volumes)
            .chain(
                c.networks
                    .iter()
                    .filter_map(|n| self.networks.get(n.as_str())),
            )
            .chain(
                c.depends_on
                    .keys()
                    .filter_map(|n| self.containers.get(n.as_str())),
            )
            .flatten()
            .copied()
            .collect();
        deps.into_iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests;
