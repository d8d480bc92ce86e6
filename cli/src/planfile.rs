//! Plan files (`quai plan --out FILE`, `quai apply FILE`): the plan as JSON with the
//! digests of the stack file and of every build context it was made from, so that a plan
//! is never applied to inputs other than its own.

use std::fs;
use std::path::Path;

use quai_core::plan::Plan;
use serde::{Deserialize, Serialize};

use crate::stack_file::Fingerprint;

/// What a plan file holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanFile {
    /// Version of this file's layout.
    pub format: u32,
    /// The stack file it was made from, as named then.
    pub stack_file: String,
    pub fingerprint: Fingerprint,
    pub plan: Plan,
}

impl PlanFile {
    pub const FORMAT: u32 = 1;
}

#[derive(Debug, thiserror::Error)]
pub enum PlanFileError {
    #[error("cannot read plan file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot write plan file {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a quai plan file: {message}")]
    Malformed { path: String, message: String },
    #[error("{path} has plan file format {found}; this quai reads format {expected}: make the plan again")]
    Format {
        path: String,
        found: u32,
        expected: u32,
    },
}

/// Why a plan file is not applied: what changed since it was made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Stale {
    #[error("stale plan: it was made against state serial {planned}, the state is now at serial {current} (another apply ran since); run `quai plan` again")]
    Serial { planned: u64, current: u64 },
    #[error("stale plan: it is for stack `{planned}`, the stack file now names `{current}`")]
    Stack { planned: String, current: String },
    #[error("stale plan: the stack file changed since the plan was made; run `quai plan` again")]
    StackFile,
    #[error("stale plan: the build context of image `{image}` changed since the plan was made; run `quai plan` again")]
    Context { image: String },
}

/// Writes a plan file.
pub fn write(path: &Path, file: &PlanFile) -> Result<(), PlanFileError> {
    let mut text = serde_json::to_string_pretty(file).map_err(|e| PlanFileError::Malformed {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    text.push('\n');
    fs::write(path, text).map_err(|source| PlanFileError::Write {
        path: path.display().to_string(),
        source,
    })
}

/// Reads a plan file, refusing other formats.
pub fn read(path: &Path) -> Result<PlanFile, PlanFileError> {
    let shown = path.display().to_string();
    let text = fs::read_to_string(path).map_err(|source| PlanFileError::Read {
        path: shown.clone(),
        source,
    })?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| PlanFileError::Malformed {
            path: shown.clone(),
            message: e.to_string(),
        })?;
    let found = value
        .get("format")
        .and_then(|f| f.as_u64())
        .ok_or_else(|| PlanFileError::Malformed {
            path: shown.clone(),
            message: "no `format` field".into(),
        })? as u32;
    if found != PlanFile::FORMAT {
        return Err(PlanFileError::Format {
            path: shown,
            found,
            expected: PlanFile::FORMAT,
        });
    }
    serde_json::from_value(value).map_err(|e| PlanFileError::Malformed {
        path: shown,
        message: e.to_string(),
    })
}

/// Checks that a plan file still fits the stack file and contexts read now (`current`)
/// and the state's serial now.
pub fn check(
    file: &PlanFile,
    stack: &str,
    current: &Fingerprint,
    serial: u64,
) -> Result<(), Stale> {
    if file.plan.stack != stack {
        return Err(Stale::Stack {
            planned: file.plan.stack.clone(),
            current: stack.to_string(),
        });
    }
    if file.fingerprint.stack != current.stack {
        return Err(Stale::StackFile);
    }
    for (image, digest) in current.contexts.iter() {
        if file.fingerprint.contexts.get(image) != Some(digest) {
            return Err(Stale::Context {
                image: image.clone(),
            });
        }
    }
    if let Some(image) = file
        .fingerprint
        .contexts
        .keys()
        .find(|image| !current.contexts.contains_key(*image))
    {
        return Err(Stale::Context {
            image: image.clone(),
        });
    }
    if file.plan.serial != serial {
        return Err(Stale::Serial {
            planned: file.plan.serial,
            current: serial,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use quai_core::image::Digest;
    use std::collections::BTreeMap;

    fn sample() -> PlanFile {
        PlanFile {
            format: PlanFile::FORMAT,
            stack_file: "stack.toml".into(),
            fingerprint: Fingerprint {
                stack: Digest::of(b"stack"),
                contexts: BTreeMap::from([("api".to_string(), Digest::of(b"ctx"))]),
            },
            plan: Plan {
                format: Plan::FORMAT,
                stack: "app".into(),
                serial: 4,
                changes: vec![],
            },
        }
    }

    #[test]
    fn a_plan_file_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        write(&path, &sample()).unwrap();
        assert_eq!(read(&path).unwrap(), sample());
    }

    #[test]
    fn another_format_is_refused_by_number() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        fs::write(&path, r#"{"format": 9}"#).unwrap();
        assert!(matches!(
            read(&path),
            Err(PlanFileError::Format { found: 9, .. })
        ));
        fs::write(&path, "not json").unwrap();
        assert!(matches!(read(&path), Err(PlanFileError::Malformed { .. })));
    }

    #[test]
    fn a_plan_is_stale_when_any_input_changed() {
        let file = sample();
        let now = file.fingerprint.clone();
        assert_eq!(check(&file, "app", &now, 4), Ok(()));
        assert_eq!(
            check(&file, "app", &now, 5),
            Err(Stale::Serial {
                planned: 4,
                current: 5
            })
        );
        assert!(matches!(
            check(&file, "blog", &now, 4),
            Err(Stale::Stack { .. })
        ));
        let mut edited = now.clone();
        edited.stack = Digest::of(b"stack2");
        assert_eq!(check(&file, "app", &edited, 4), Err(Stale::StackFile));
        let mut edited = now.clone();
        edited.contexts.insert("api".into(), Digest::of(b"ctx2"));
        assert_eq!(
            check(&file, "app", &edited, 4),
            Err(Stale::Context {
                image: "api".into()
            })
        );
        let mut edited = now;
        edited.contexts.clear();
        assert_eq!(
            check(&file, "app", &edited, 4),
            Err(Stale::Context {
                image: "api".into()
            })
        );
    }
}
