//! Progress lines drawn from core's events while an apply runs
//! (`container.web: creating…`, `image.api: step 3/5 COPY package.json /app/ — cache miss:
//! content changed (package.json)`). The text of each line is a pure function of the
//! event; [`Progress`] sends the lines to the thread that writes the terminal.

use std::collections::BTreeMap;
use std::sync::mpsc::Sender;
use std::sync::Mutex;

use quai_core::address::Address;
use quai_core::event::{Event, EventSink};
use quai_core::plan::{Action, Plan};

use crate::table::size;

/// Turns events into lines, knowing from the plan how many steps each build has.
#[derive(Debug, Clone, Default)]
pub struct Lines {
    build_steps: BTreeMap<Address, usize>,
}

impl Lines {
    pub fn for_plan(plan: &Plan) -> Lines {
        let build_steps = plan
            .changes
            .iter()
            .filter_map(|c| Some((c.address.clone(), c.build.as_ref()?.steps.len())))
            .collect();
        Lines { build_steps }
    }

    /// `step 3/5`, counting from 1 (events count steps from 0).
    fn step(&self, image: &Address, step: usize) -> String {
        match self.build_steps.get(image) {
            Some(total) => format!("step {}/{total}", step + 1),
            None => format!("step {}", step + 1),
        }
    }

    /// The line for an event, or none for an event not worth a line.
    pub fn line(&self, event: &Event) -> Option<String> {
        Some(match event {
            Event::StepStarted { address, action } => {
                let verb = match action {
                    Action::NoOp => return None,
                    Action::Create => "creating",
                    Action::Update => "updating in place",
                    Action::Replace => "replacing",
                    Action::Delete => "deleting",
                };
                format!("{address}: {verb}…")
            }
            Event::StepFinished {
                address,
                action,
                error,
            } => match error {
                Some(error) => format!("{address}: FAILED: {error}"),
                None => {
                    let done = match action {
                        Action::NoOp => return None,
                        Action::Create => "created",
                        Action::Update => "updated in place",
                        Action::Replace => "replaced",
                        Action::Delete => "deleted",
                    };
                    format!("{address}: {done}")
                }
            },
            Event::StepSkipped { address, because } => {
                format!("{address}: skipped ({because} failed)")
            }
            Event::CacheHit {
                image,
                step,
                instruction,
            } => format!(
                "{image}: {} {instruction} — cache hit",
                self.step(image, *step)
            ),
            Event::CacheMiss {
                image,
                step,
                instruction,
                reason,
            } => format!(
                "{image}: {} {instruction} — cache miss: {reason}",
                self.step(image, *step)
            ),
            Event::LayerBuilt {
                image,
                step,
                digest,
                bytes,
            } => format!(
                "{image}: {} layer {} ({})",
                self.step(image, *step),
                digest.short(),
                size(*bytes)
            ),
            Event::LayerPulled {
                reference,
                digest,
                bytes,
            } => format!(
                "{reference}: pulled layer {} ({})",
                digest.short(),
                size(*bytes)
            ),
            Event::LayerReused { reference, digest } => {
                format!("{reference}: layer {} already present", digest.short())
            }
            Event::ImageTagged { tag, digest } => format!("{tag}: tagged {}", digest.short()),
            Event::ContainerChanged {
                address,
                id: _,
                from,
                to,
                exit_code,
            } => {
                let to = match exit_code {
                    Some(code) => format!("{} ({code})", to.as_str()),
                    None => to.as_str().to_string(),
                };
                match from {
                    Some(from) => format!("{address}: {} → {to}", from.as_str()),
                    None => format!("{address}: {to}"),
                }
            }
            Event::VolumeCreated { address } => format!("{address}: volume created"),
            Event::VolumeRemoved { address } => format!("{address}: volume removed"),
            Event::NetworkCreated { address, subnet } => {
                format!("{address}: network created ({subnet})")
            }
            Event::NetworkRemoved { address } => format!("{address}: network removed"),
            Event::Note { address, message } => match address {
                Some(address) => format!("{address}: {message}"),
                None => format!("note: {message}"),
            },
        })
    }
}

/// An event sink that sends each event's line to a writer thread.
pub struct Progress {
    lines: Lines,
    tx: Mutex<Sender<String>>,
}

impl Progress {
    pub fn new(lines: Lines, tx: Sender<String>) -> Progress {
        Progress {
            lines,
            tx: Mutex::new(tx),
        }
    }
}

impl EventSink for Progress {
    fn emit(&self, event: Event) {
        if let Some(line) = self.lines.line(&event) {
            // The receiver lives until the apply returns; a send can only fail after that.
            let _ = self.tx.lock().unwrap_or_else(|e| e.into_inner()).send(line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quai_core::event::ContainerStatus;
    use quai_core::image::{Digest, MissReason};

    #[test]
    fn steps_and_builds_read_as_sentences() {
        let mut lines = Lines::default();
        lines.build_steps.insert(Address::image("api"), 5);
        let web = Address::container("web", 0);
        assert_eq!(
            lines.line(&Event::StepStarted {
                address: web.clone(),
                action: Action::Create
            }),
            Some("container.web: creating…".into())
        );
        assert_eq!(
            lines.line(&Event::CacheMiss {
                image: Address::image("api"),
                step: 2,
                instruction: "COPY package.json /app/".into(),
                reason: MissReason::ContentChanged {
                    files: vec!["package.json".into()]
                },
            }),
            Some(
                "image.api: step 3/5 COPY package.json /app/ — cache miss: content changed (package.json)"
                    .into()
            )
        );
        assert_eq!(
            lines.line(&Event::ContainerChanged {
                address: Address::container("web", 1),
                id: "x".into(),
                from: Some(ContainerStatus::Running),
                to: ContainerStatus::Exited,
                exit_code: Some(137),
            }),
            Some("container.web[1]: running → exited (137)".into())
        );
        assert_eq!(
            lines.line(&Event::StepFinished {
                address: web,
                action: Action::Create,
                error: Some("host port 8080 is already published by `x`".into()),
            }),
            Some("container.web: FAILED: host port 8080 is already published by `x`".into())
        );
        assert_eq!(
            lines.line(&Event::LayerReused {
                reference: "busybox:1.36".into(),
                digest: Digest::of(b""),
            }),
            Some("busybox:1.36: layer sha256:e3b0c44298fc already present".into())
        );
    }

    #[test]
    fn no_op_steps_draw_no_line() {
        let lines = Lines::default();
        assert_eq!(
            lines.line(&Event::StepStarted {
                address: Address::volume("data"),
                action: Action::NoOp
            }),
            None
        );
    }
}
