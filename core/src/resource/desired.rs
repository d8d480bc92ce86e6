//! From a validated stack, the build contexts and what the backend observed, the
//! desired configuration of every address. Pure.
//!
//! Pulled images take the digest their reference resolves to in the observation; built
//! images get their steps' cache keys from [`crate::image::build`].

use std::collections::BTreeMap;

use crate::address::Address;
use crate::backend::Observed;
use crate::image::Context;
use crate::resource::ResourceConfig;
use crate::stack::Stack;

/// What the user asked for: the stack, and the files of each build context, by image
/// name.
#[derive(Debug, Clone)]
pub struct Desired {
    pub stack: Stack,
    pub contexts: BTreeMap<String, Context>,
}

/// Why the desired configuration cannot be derived (a Dockerfile that does not parse,
/// a COPY of a file the context lacks, a base image that no registry knows).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DesiredError {
    #[error("{address}: {source}")]
    Build {
        address: Address,
        source: crate::image::build::BuildError,
    },
    #[error("{address}: image `{reference}` is neither in the local store nor in the registry")]
    UnknownImage { address: Address, reference: String },
}

/// Every address of the stack with its desired configuration.
pub fn resolve(
    desired: &Desired,
    observed: &Observed,
) -> Result<BTreeMap<Address, ResourceConfig>, DesiredError> {
    let _ = (desired, observed);
    todo!("resource::desired::resolve")
}
