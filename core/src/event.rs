//! The one vocabulary for what happens: the CLI draws its progress from it, the
//! playground animates it, the book prints it. Events carry no clock time, so a run of
//! the simulated backend gives the same events every time.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::address::Address;
use crate::image::{Digest, MissReason};
use crate::plan::Action;

/// The states of a container's life, as the course draws them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContainerStatus {
    Created,
    Running,
    Restarting,
    Exited,
    Removed,
}

impl ContainerStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ContainerStatus::Created => "created",
            ContainerStatus::Running => "running",
            ContainerStatus::Restarting => "restarting",
            ContainerStatus::Exited => "exited",
            ContainerStatus::Removed => "removed",
        }
    }
}

/// Something that happened, told once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A step of the plan begins.
    StepStarted {
        address: Address,
        action: Action,
    },
    /// A step of the plan ended; `error` says why when it failed.
    StepFinished {
        address: Address,
        action: Action,
        error: Option<String>,
    },
    /// A step was not run because a step it depends on failed.
    StepSkipped {
        address: Address,
        because: Address,
    },
    /// A build step found its layer in the cache. In build events, `step` counts the
    /// steps after FROM from 1, as the progress line `step 2/5` shows it.
    CacheHit {
        image: Address,
        step: usize,
        instruction: String,
    },
    /// A build step must run; `reason` says why.
    CacheMiss {
        image: Address,
        step: usize,
        instruction: String,
        reason: MissReason,
    },
    /// A build step produced a layer (`bytes` is the size of its tar; 0 for a step that
    /// only changes the config).
    LayerBuilt {
        image: Address,
        step: usize,
        digest: Digest,
        bytes: u64,
    },
    /// A layer was fetched from a registry.
    LayerPulled {
        reference: String,
        digest: Digest,
        bytes: u64,
    },
    /// A layer needed by a pull was already in the store.
    LayerReused {
        reference: String,
        digest: Digest,
    },
    /// A name now points at an image.
    ImageTagged {
        tag: String,
        digest: Digest,
    },
    /// A container moved from one state of its life to another.
    ContainerChanged {
        address: Address,
        id: String,
        from: Option<ContainerStatus>,
        to: ContainerStatus,
        /// The exit code, when `to` is `exited`.
        exit_code: Option<i32>,
    },
    VolumeCreated {
        address: Address,
    },
    VolumeRemoved {
        address: Address,
    },
    NetworkCreated {
        address: Address,
        subnet: String,
    },
    NetworkRemoved {
        address: Address,
    },
    /// Something worth a person's attention that changes nothing (`volume.data kept`).
    Note {
        address: Option<Address>,
        message: String,
    },
}

/// Where events go. Implementations must accept events from several threads.
pub trait EventSink: Send + Sync {
    fn emit(&self, event: Event);
}

/// Drops every event.
pub struct Discard;

impl EventSink for Discard {
    fn emit(&self, _: Event) {}
}

/// Keeps every event, in the order received.
#[derive(Default)]
pub struct Recorder {
    events: Mutex<Vec<Event>>,
}

impl Recorder {
    pub fn new() -> Self {
        Self::default()
    }
    /// The events received so far.
    pub fn events(&self) -> Vec<Event> {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
    pub fn take(&self) -> Vec<Event> {
        std::mem::take(&mut *self.events.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl EventSink for Recorder {
    fn emit(&self, event: Event) {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(event);
    }
}

impl<F: Fn(Event) + Send + Sync> EventSink for F {
    fn emit(&self, event: Event) {
        self(event)
    }
}
