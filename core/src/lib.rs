//! quai-core: the domain of quai, with no terminal and no browser.
//!
//! A stack file ([`stack`]) declares images, containers, volumes and networks. The
//! planner ([`plan::diff`]) compares that wish with what was applied ([`state`]) and with
//! what a [`backend`] observes, and returns a [`plan::Plan`]: pure data, each step with its
//! reasons. [`apply`] runs a plan over a backend and records every finished step in the
//! state as it completes. Everything that happens is told as [`event::Event`]s.
//!
//! This crate builds for `wasm32-unknown-unknown`: everything Linux-specific lives in
//! `backend::linux`, compiled only on Linux.
//!
//! The whole loop on the simulated backend: plan, apply, plan again.
//!
//! ```
//! use std::time::Duration;
//! use quai_core::apply::{apply, ApplyOptions};
//! use quai_core::backend::{sim::SimBackend, Backend};
//! use quai_core::event::Recorder;
//! use quai_core::plan::{self, Action};
//! use quai_core::resource::desired::{self, Desired};
//! use quai_core::state::{memory::MemoryStore, StateStore};
//!
//! let text = r#"
//! [volumes.data]
//!
//! [containers.web]
//! image = "nginx:1.27"
//! ports = ["8080:80"]
//! volumes = ["data:/usr/share/nginx/html"]
//! "#;
//! let stack = quai_core::stack::parse(text, "stack.toml", "blog").unwrap();
//! let desired = Desired { stack, contexts: Default::default() };
//! let (backend, store) = (SimBackend::new(), MemoryStore::new());
//!
//! // Plan: observe first (what the images resolve to, what runs), then diff. Pure.
//! let observed = backend.observe("blog", &desired::references(&desired).unwrap()).unwrap();
//! let plan = plan::diff(&desired, &store.read("blog").unwrap(), &observed).unwrap();
//! let actions: Vec<_> = plan.changes.iter().map(|c| (c.address.to_string(), c.action)).collect();
//! assert_eq!(actions, [("volume.data".to_string(), Action::Create), ("container.web".to_string(), Action::Create)]);
//!
//! // Apply, under the stack's lock; every finished step is recorded at once.
//! let events = Recorder::new();
//! let mut lock = store.lock("blog", "apply", Duration::ZERO).unwrap();
//! let report = apply(&plan, &backend, &mut *lock, &Default::default(), &events, &ApplyOptions { parallelism: 1 }).unwrap();
//! assert!(report.succeeded());
//! drop(lock);
//!
//! // Plan again: nothing to do.
//! let observed = backend.observe("blog", &desired::references(&desired).unwrap()).unwrap();
//! let again = plan::diff(&desired, &store.read("blog").unwrap(), &observed).unwrap();
//! assert!(!again.has_changes());
//! ```

/// Serialises a type as the text its `Display` writes and deserialises it through its
/// `FromStr` (addresses, digests, references, drift: one phrase each in state, plan and
/// JSON files).
macro_rules! serde_as_text {
    ($type:ty) => {
        impl serde::Serialize for $type {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $type {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <String as serde::Deserialize>::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

pub mod address;
pub mod apply;
pub mod backend;
pub mod event;
pub mod graph;
pub mod image;
pub mod plan;
pub mod resource;
pub mod stack;
pub mod state;

pub use address::{Address, Kind};

/// Marks a point of the apply engine where tests may interrupt it (the `fail` crate).
/// Without the `failpoints` feature it compiles to nothing.
#[macro_export]
#[doc(hidden)]
macro_rules! failpoint {
    ($name:expr) => {
        #[cfg(feature = "failpoints")]
        fail::fail_point!($name, |msg: Option<String>| {
            Err($crate::apply::ApplyError::Interrupted {
                failpoint: $name.to_string(),
                message: msg.unwrap_or_default(),
            })
        });
    };
}
