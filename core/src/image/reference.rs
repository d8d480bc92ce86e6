//! Image references: `[registry/]repository[:tag][@sha256:…]`, with Docker Hub's
//! defaults (`busybox` is `docker.io/library/busybox:latest`).

use serde::{Deserialize, Serialize};

use crate::image::Digest;

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Reference {
    /// `docker.io` when none is written.
    pub registry: String,
    /// `library/busybox` for `busybox` on Docker Hub.
    pub repository: String,
    /// `latest` when neither tag nor digest is written.
    pub tag: Option<String>,
    pub digest: Option<Digest>,
}

/// Why a text is not an image reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not an image reference: {why}; expected [REGISTRY/]NAME[:TAG][@sha256:DIGEST], e.g. busybox:1.36")]
pub struct ReferenceError {
    pub text: String,
    pub why: String,
}

impl std::str::FromStr for Reference {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let _ = s;
        todo!("Reference::from_str")
    }
}

impl Serialize for Reference {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Reference {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl std::fmt::Display for Reference {
    /// The full form: `docker.io/library/busybox:1.36`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}
