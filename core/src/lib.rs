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
