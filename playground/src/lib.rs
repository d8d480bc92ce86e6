//! quai's playground: the simulated backend of quai-core in the browser, drawn with yew.
//!
//! The model lives in plain Rust and is tested natively: [`scene`] (events folded for
//! the replay), [`footprint`] (VMs vs containers), [`link`] (scenarios in the URL),
//! [`i18n`].

pub mod footprint;
pub mod i18n;
pub mod link;
pub mod scene;
