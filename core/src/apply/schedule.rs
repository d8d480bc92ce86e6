//! The order of an apply's tasks: which may run now, which must wait, which are skipped
//! because something they wait for failed. Pure bookkeeping: it runs nothing itself, and
//! tells the step events (started, finished, skipped) as tasks come and go.

use std::collections::BTreeMap;

use crate::address::{Address, Kind};
use crate::apply::{ApplyReport, PlanNames};
use crate::event::{Event, EventSink};
use crate::plan::{Action, Plan};

/// One half of a change: its removal or its making.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Task {
    /// Index in the plan's changes.
    pub change: usize,
    pub remove: bool,
}

/// How a task ended, when the apply goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TaskEnd {
    Done,
    Failed(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Status {
    Pending,
    Running,
    Done,
    Failed,
    /// Not run; the address whose failure caused it.
    Skipped(Address),
}

#[derive(Debug)]
struct Node {
    task: Task,
    waits: Vec<usize>,
    status: Status,
}

/// Per change: its tasks, whether it started, and whether it is already reported.
#[derive(Debug, Default)]
struct Progress {
    nodes: Vec<usize>,
    started: bool,
    reported: bool,
}

pub(crate) struct Schedule {
    nodes: Vec<Node>,
    changes: Vec<(Address, Action)>,
    progress: Vec<Progress>,
    report: ApplyReport,
}

impl Schedule {
    /// The tasks of `plan` and what each waits for (see the module doc of `apply`).
    pub fn new(plan: &Plan) -> Schedule {
        let mut nodes = Vec::new();
        let mut progress: Vec<Progress> = Vec::new();
        let mut makes: BTreeMap<&Address, usize> = BTreeMap::new();
        let mut removes: BTreeMap<&Address, usize> = BTreeMap::new();
        for (i, change) in plan.changes.iter().enumerate() {
            let mut p = Progress::default();
            let (remove, make) = match change.action {
                Action::NoOp => (false, false),
                Action::Delete => (true, false),
                Action::Replace => (true, true),
                Action::Create | Action::Update => (false, true),
            };
            for (wanted, is_remove) in [(remove, true), (make, false)] {
                if wanted {
                    let index = nodes.len();
                    nodes.push(Node {
                        task: Task {
                            change: i,
                            remove: is_remove,
                        },
                        waits: Vec::new(),
                        status: Status::Pending,
                    });
                    p.nodes.push(index);
                    if is_remove {
                        removes.insert(&change.address, index);
                    } else {
                        makes.insert(&change.address, index);
                    }
                }
            }
            progress.push(p);
        }
        let names = PlanNames::new(plan);
        let container_removals: Vec<usize> = removes
            .iter()
            .filter(|(a, _)| a.kind == Kind::Container)
            .map(|(_, n)| *n)
            .collect();
        for (address, &node) in &makes {
            let change = &plan.changes[nodes[node].task.change];
            let mut waits: Vec<usize> = change
                .depends_on
                .iter()
                .cloned()
                .chain(
                    change
                        .after
                        .iter()
                        .flat_map(|after| names.dependencies(after)),
                )
                .filter(|d| d != *address)
                .filter_map(|d| makes.get(&d).copied())
                .collect();
            if let Some(&own) = removes.get(address) {
                waits.push(own);
            }
            if address.kind == Kind::Container {
                waits.extend(container_removals.iter().copied());
            }
            waits.sort_unstable();
            waits.dedup();
            nodes[node].waits = waits;
        }
        // Removals go backward: what a removed configuration depends on is removed
        // after it.
        for (address, &node) in &removes {
            let change = &plan.changes[nodes[node].task.change];
            if let Some(before) = &change.before {
                for dep in names.dependencies(before) {
                    if dep == **address {
                        continue;
                    }
                    if let Some(&dep_node) = removes.get(&dep) {
                        nodes[dep_node].waits.push(node);
                    }
                }
            }
        }
        Schedule {
            nodes,
            changes: plan
                .changes
                .iter()
                .map(|c| (c.address.clone(), c.action))
                .collect(),
            progress,
            report: ApplyReport::default(),
        }
    }

    /// Marks as skipped every pending task that waits on a failed or skipped one.
    fn propagate_skips(&mut self, events: &dyn EventSink) {
        loop {
            let mut changed = false;
            for i in 0..self.nodes.len() {
                if self.nodes[i].status != Status::Pending {
                    continue;
                }
                let because = self.nodes[i].waits.iter().find_map(|w| {
                    let waited = &self.nodes[*w];
                    match &waited.status {
                        Status::Failed => Some(self.changes[waited.task.change].0.clone()),
                        Status::Skipped(b) => Some(b.clone()),
                        _ => None,
                    }
                });
                let Some(because) = because else { continue };
                changed = true;
                let change = self.nodes[i].task.change;
                self.nodes[i].status = Status::Skipped(because.clone());
                let progress = &mut self.progress[change];
                if !progress.reported {
                    progress.reported = true;
                    let address = self.changes[change].0.clone();
                    events.emit(Event::StepSkipped {
                        address: address.clone(),
                        because: because.clone(),
                    });
                    self.report.skipped.push((address, because));
                }
            }
            if !changed {
                break;
            }
        }
    }

    /// The next task that may run now, marked running (its step told started).
    pub fn next_ready(&mut self, events: &dyn EventSink) -> Option<Task> {
        self.propagate_skips(events);
        let index = (0..self.nodes.len()).find(|&i| {
            self.nodes[i].status == Status::Pending
                && self.nodes[i]
                    .waits
                    .iter()
                    .all(|w| self.nodes[*w].status == Status::Done)
        })?;
        let node = &mut self.nodes[index];
        node.status = Status::Running;
        let task = node.task;
        let progress = &mut self.progress[task.change];
        if !progress.started {
            progress.started = true;
            let (address, action) = self.changes[task.change].clone();
            events.emit(Event::StepStarted { address, action });
        }
        Some(task)
    }

    /// Records how a task ended; a step is told finished with its last task, or failed
    /// with its first failure.
    pub fn finish(&mut self, task: Task, end: TaskEnd, events: &dyn EventSink) {
        let Some(index) = self.nodes.iter().position(|n| n.task == task) else {
            return;
        };
        let (address, action) = self.changes[task.change].clone();
        match end {
            TaskEnd::Done => {
                self.nodes[index].status = Status::Done;
                let all_done = self.progress[task.change]
                    .nodes
                    .iter()
                    .all(|n| self.nodes[*n].status == Status::Done);
                if all_done {
                    self.progress[task.change].reported = true;
                    events.emit(Event::StepFinished {
                        address: address.clone(),
                        action,
                        error: None,
                    });
                    self.report.done.push(address);
                }
            }
            TaskEnd::Failed(message) => {
                self.nodes[index].status = Status::Failed;
                self.progress[task.change].reported = true;
                events.emit(Event::StepFinished {
                    address: address.clone(),
                    action,
                    error: Some(message.clone()),
                });
                self.report.failed.push((address, message));
            }
        }
    }

    /// What was done, failed and skipped. Tasks never run because they waited on one
    /// another in a circle count as failed.
    pub fn report(mut self) -> ApplyReport {
        for (change, progress) in self.progress.iter_mut().enumerate() {
            let stuck = progress
                .nodes
                .iter()
                .any(|n| self.nodes[*n].status == Status::Pending);
            if stuck && !progress.reported {
                progress.reported = true;
                self.report.failed.push((
                    self.changes[change].0.clone(),
                    "not run: its dependencies wait on one another".to_string(),
                ));
            }
        }
        self.report
    }
}
