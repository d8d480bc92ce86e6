//! The build of an image, planned: each step after FROM with its cache key and the
//! predicted hit or miss, and for a miss, the reason.
//!
//! A step's key is the digest of its parent's key, its instruction, and for COPY and
//! ADD the content (never the mtime) of the files it copies. The first step's parent is
//! the base image's digest. So the prediction is exact: a key is either in the cache
//! or not.

use serde::{Deserialize, Serialize};

use crate::image::Digest;

/// A cache key is a digest.
pub type CacheKey = Digest;

/// One step of a build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildStep {
    /// The instruction as normalised (`COPY package.json /app/`).
    pub instruction: String,
    pub key: CacheKey,
    /// For COPY and ADD: the digest of the copied content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Digest>,
}

/// Why a step will run rather than come from the cache.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "why", rename_all = "snake_case")]
pub enum MissReason {
    /// Never built: no earlier build of this image to compare with.
    NotBuilt,
    /// The base image behind FROM is another image now.
    BaseChanged,
    /// The instruction's text differs from the last build's.
    InstructionChanged,
    /// Same instruction, but the files it copies changed (these ones).
    ContentChanged { files: Vec<String> },
    /// An earlier step runs, so this one must too.
    ParentRebuilt,
    /// Same key as the last build, yet the layer is no longer in the cache.
    Evicted,
}

impl std::fmt::Display for MissReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MissReason::NotBuilt => f.write_str("not built before"),
            MissReason::BaseChanged => f.write_str("base image changed"),
            MissReason::InstructionChanged => f.write_str("instruction changed"),
            MissReason::ContentChanged { files } if files.is_empty() => {
                f.write_str("content changed")
            }
            MissReason::ContentChanged { files } => {
                write!(f, "content changed ({})", files.join(", "))
            }
            MissReason::ParentRebuilt => f.write_str("parent rebuilt"),
            MissReason::Evicted => f.write_str("layer no longer in the cache"),
        }
    }
}

/// Predicted outcome of one step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cache", rename_all = "snake_case")]
pub enum CachePrediction {
    Hit,
    Miss { reason: MissReason },
}

/// The planned build of one image: one prediction per step (after FROM).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildPlan {
    pub base: String,
    pub steps: Vec<BuildStepPlan>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildStepPlan {
    pub step: BuildStep,
    pub prediction: CachePrediction,
}

/// Why a build cannot be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error("{file}:{line}: {message}")]
    Dockerfile {
        file: String,
        line: usize,
        message: String,
    },
    #[error("step {step} `{instruction}`: no file matches `{pattern}` in the build context")]
    NothingToCopy {
        step: usize,
        instruction: String,
        pattern: String,
    },
    #[error("the Dockerfile `{path}` is not in the build context")]
    NoDockerfile { path: String },
}
