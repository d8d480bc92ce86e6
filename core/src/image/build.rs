//! The build of an image, planned: each step after FROM with its cache key and the
//! predicted hit or miss, and for a miss, the reason.
//!
//! A step's key is the digest of its parent's key, its instruction, and for COPY and
//! ADD the content (never the mtime) of the files it copies. The first step's parent is
//! the base image's digest. So the prediction is exact: a key is either in the cache
//! or not.
//!
//! Steps are numbered from 1 (the first instruction after FROM). This module also gives
//! the backends what a COPY or ADD step copies ([`step_files`]) and how each step
//! changes the image's configuration ([`apply_to_config`]). Does no I/O.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::image::context::{is_pattern, path_match};
use crate::image::layer::LayerFile;
use crate::image::{Context, Digest, ImageConfig};
use crate::stack::dockerfile::{Copy, Dockerfile, Instruction, InstructionKind};

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
    /// For COPY and ADD: each copied file of the context (its path there) with the
    /// digest of its mode and bytes, so that a plan can name the files that changed.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub files: BTreeMap<String, Digest>,
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
    #[error("step {step} `{instruction}`: --chown=`{chown}`: only numeric UID[:GID] are supported, e.g. --chown=1000:1000")]
    Chown {
        step: usize,
        instruction: String,
        chown: String,
    },
}

/// The cache key of a step: its parent's key (the base image's digest for the first
/// step), its normalised instruction, and the digest of what it copies.
pub fn step_key(parent: &Digest, instruction: &str, content: Option<&Digest>) -> CacheKey {
    let parent = parent.to_string();
    let content = content.map(ToString::to_string).unwrap_or_default();
    Digest::of_parts([
        parent.as_bytes(),
        instruction.as_bytes(),
        content.as_bytes(),
    ])
}

/// The identity of a build: its last step's key, or for a bare FROM the digest of the
/// base image's digest.
pub fn build_key(base_digest: &Digest, steps: &[BuildStep]) -> Digest {
    match steps.last() {
        Some(step) => step.key.clone(),
        None => Digest::of_parts([base_digest.to_string().as_bytes()]),
    }
}

/// Every step of a Dockerfile after FROM, with its cache key and, for COPY and ADD,
/// the digest of the files it copies from `context`.
pub fn plan_steps(
    dockerfile: &Dockerfile,
    context: &Context,
    base_digest: &Digest,
) -> Result<Vec<BuildStep>, BuildError> {
    let visible = context.visible();
    let mut parent = base_digest.clone();
    let mut steps = Vec::with_capacity(dockerfile.instructions.len());
    for (i, instruction) in dockerfile.instructions.iter().enumerate() {
        let text = instruction.to_string();
        let (content, files) = match &instruction.kind {
            InstructionKind::Copy(copy) | InstructionKind::Add(copy) => {
                let selected = select(i + 1, &text, copy, &visible)?;
                let owner = owner(i + 1, &text, copy)?;
                let mut parts: Vec<Vec<u8>> = Vec::new();
                let mut files = BTreeMap::new();
                for (source, dest) in &selected {
                    let bytes = context.get(source).unwrap_or_default();
                    let mode = context.mode(source);
                    files.insert(
                        source.to_string(),
                        Digest::of_parts([format!("{mode:o}").as_bytes(), bytes]),
                    );
                    parts.push(dest.as_bytes().to_vec());
                    parts.push(format!("{mode:o} {}:{}", owner.0, owner.1).into_bytes());
                    parts.push(bytes.to_vec());
                }
                let content = Digest::of_parts(parts.iter().map(Vec::as_slice));
                (Some(content), files)
            }
            _ => (None, BTreeMap::new()),
        };
        let key = step_key(&parent, &text, content.as_ref());
        parent = key.clone();
        steps.push(BuildStep {
            instruction: text,
            key,
            content,
            files,
        });
    }
    Ok(steps)
}

/// The build of an image as it was last applied, to explain misses.
#[derive(Debug, Clone, Copy)]
pub struct PreviousBuild<'a> {
    pub base_digest: &'a Digest,
    pub steps: &'a [BuildStep],
}

/// Predicts each step: a hit when its key is in `cache`, else a miss. The first miss
/// is explained against `previous` (the build recorded in the state); every later
/// miss is [`MissReason::ParentRebuilt`].
pub fn predict(
    base: &str,
    base_digest: &Digest,
    steps: &[BuildStep],
    previous: Option<PreviousBuild<'_>>,
    cache: &BTreeSet<Digest>,
) -> BuildPlan {
    let mut missed = false;
    let plans = steps
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let prediction = if cache.contains(&step.key) {
                CachePrediction::Hit
            } else if missed {
                CachePrediction::Miss {
                    reason: MissReason::ParentRebuilt,
                }
            } else {
                missed = true;
                CachePrediction::Miss {
                    reason: first_miss(i, step, base_digest, previous),
                }
            };
            BuildStepPlan {
                step: step.clone(),
                prediction,
            }
        })
        .collect();
    BuildPlan {
        base: base.to_string(),
        steps: plans,
    }
}

fn first_miss(
    i: usize,
    step: &BuildStep,
    base_digest: &Digest,
    previous: Option<PreviousBuild<'_>>,
) -> MissReason {
    let Some(previous) = previous else {
        return MissReason::NotBuilt;
    };
    let Some(before) = previous.steps.get(i) else {
        return MissReason::InstructionChanged;
    };
    if before.key == step.key {
        return MissReason::Evicted;
    }
    if before.instruction != step.instruction {
        return MissReason::InstructionChanged;
    }
    if before.content != step.content {
        let mut files: Vec<String> = step
            .files
            .iter()
            .filter(|(path, digest)| before.files.get(*path) != Some(digest))
            .map(|(path, _)| path.clone())
            .collect();
        files.extend(
            before
                .files
                .keys()
                .filter(|p| !step.files.contains_key(*p))
                .cloned(),
        );
        files.sort();
        return MissReason::ContentChanged { files };
    }
    // Same step as before on another parent: the base, or an earlier step whose layer
    // happened to be cached from another build.
    if previous.base_digest != base_digest {
        MissReason::BaseChanged
    } else {
        MissReason::ParentRebuilt
    }
}

/// What a COPY or ADD step puts in its layer (empty for other steps). `step` numbers
/// it in errors. The backends call this to build the layer ([`crate::image::layer`]).
pub fn step_files(
    step: usize,
    instruction: &Instruction,
    context: &Context,
) -> Result<Vec<LayerFile>, BuildError> {
    let (InstructionKind::Copy(copy) | InstructionKind::Add(copy)) = &instruction.kind else {
        return Ok(Vec::new());
    };
    let text = instruction.to_string();
    let visible = context.visible();
    let (uid, gid) = owner(step, &text, copy)?;
    let selected = select(step, &text, copy, &visible)?;
    Ok(selected
        .into_iter()
        .map(|(source, path)| LayerFile {
            path,
            content: context.get(source).unwrap_or_default().to_vec(),
            mode: context.mode(source),
            uid,
            gid,
        })
        .collect())
}

fn owner(step: usize, text: &str, copy: &Copy) -> Result<(u32, u32), BuildError> {
    let Some(chown) = &copy.chown else {
        return Ok((0, 0));
    };
    let bad = || BuildError::Chown {
        step,
        instruction: text.to_string(),
        chown: chown.clone(),
    };
    let (u, g) = chown.split_once(':').unwrap_or((chown, chown));
    Ok((u.parse().map_err(|_| bad())?, g.parse().map_err(|_| bad())?))
}

/// The context files a COPY selects, each with its destination path in the image,
/// sorted by destination (a later source of the same destination wins).
fn select<'c>(
    step: usize,
    text: &str,
    copy: &Copy,
    visible: &[&'c str],
) -> Result<Vec<(&'c str, String)>, BuildError> {
    let folder = copy.dest_is_folder();
    let dest_dir = if copy.dest.ends_with('/') {
        copy.dest.clone()
    } else {
        format!("{}/", copy.dest)
    };
    let mut out: BTreeMap<String, &'c str> = BTreeMap::new();
    for source in &copy.sources {
        let clean = clean_source(source);
        let before = out.len();
        let mut matched = false;
        if clean.is_empty() {
            for p in visible {
                out.insert(format!("{dest_dir}{p}"), p);
            }
            matched = !visible.is_empty();
        } else if is_pattern(&clean) {
            let pattern: Vec<&str> = clean.split('/').collect();
            for p in visible {
                let segments: Vec<&str> = p.split('/').collect();
                if segments.len() < pattern.len()
                    || !path_match(&pattern, &segments[..pattern.len()])
                {
                    continue;
                }
                matched = true;
                // A matched file lands in the folder by its name; a matched folder
                // gives its contents.
                let rel = if segments.len() == pattern.len() {
                    segments[segments.len() - 1..].join("/")
                } else {
                    segments[pattern.len()..].join("/")
                };
                out.insert(format!("{dest_dir}{rel}"), p);
            }
        } else if let Some(p) = visible.iter().find(|p| **p == clean) {
            matched = true;
            let name = clean.rsplit('/').next().unwrap_or(&clean);
            let dest = if folder {
                format!("{dest_dir}{name}")
            } else {
                copy.dest.clone()
            };
            out.insert(dest, p);
        } else {
            let prefix = format!("{clean}/");
            for p in visible {
                if let Some(rel) = p.strip_prefix(&prefix) {
                    matched = true;
                    out.insert(format!("{dest_dir}{rel}"), p);
                }
            }
        }
        if !matched && out.len() == before {
            return Err(BuildError::NothingToCopy {
                step,
                instruction: text.to_string(),
                pattern: source.clone(),
            });
        }
    }
    Ok(out.into_iter().map(|(dest, src)| (src, dest)).collect())
}

/// A source as a context path: no leading `./` or `/`, no trailing `/`; `.` is "".
fn clean_source(source: &str) -> String {
    let parts: Vec<&str> = source
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    parts.join("/")
}

/// How an instruction changes the image's configuration (ENV, WORKDIR, USER, CMD,
/// ENTRYPOINT, EXPOSE, LABEL, VOLUME; the others leave it alone).
pub fn apply_to_config(config: &mut ImageConfig, instruction: &Instruction) {
    fn set_env(env: &mut Vec<String>, key: &str, value: &str) {
        let entry = format!("{key}={value}");
        match env
            .iter_mut()
            .find(|e| e.split_once('=').map(|(k, _)| k) == Some(key))
        {
            Some(e) => *e = entry,
            None => env.push(entry),
        }
    }
    match &instruction.kind {
        InstructionKind::Env(pairs) => {
            for (k, v) in pairs {
                set_env(&mut config.env, k, v);
            }
        }
        InstructionKind::Workdir(dir) => config.workdir = dir.clone(),
        InstructionKind::User(user) => config.user = user.clone(),
        InstructionKind::Cmd(c) => config.cmd = c.argv(),
        InstructionKind::Entrypoint(c) => {
            config.entrypoint = c.argv();
            // A new ENTRYPOINT drops the CMD inherited from the base image.
            config.cmd.clear();
        }
        InstructionKind::Expose(ports) => {
            for p in ports {
                if !config.exposed_ports.contains(p) {
                    config.exposed_ports.push(p.clone());
                }
            }
        }
        InstructionKind::Label(pairs) => {
            for (k, v) in pairs {
                config.labels.insert(k.clone(), v.clone());
            }
        }
        InstructionKind::Volume(paths) => {
            for p in paths {
                if !config.volumes.contains(p) {
                    config.volumes.push(p.clone());
                }
            }
        }
        InstructionKind::Run(_)
        | InstructionKind::Copy(_)
        | InstructionKind::Add(_)
        | InstructionKind::Arg { .. } => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Digest {
        Digest::of(b"node:20")
    }

    fn context() -> Context {
        let mut c = Context::new();
        c.insert("package.json", r#"{"name":"web"}"#);
        c.insert("server.js", "listen(80)");
        c.insert("lib/db.js", "db");
        c.insert("lib/sub/x.js", "x");
        c.insert_with_mode("install.sh", "#!/bin/sh", 0o755);
        c
    }

    const DOCKERFILE: &str = "FROM node:20\nWORKDIR /app\nCOPY package.json .\nRUN npm install\nCOPY . .\nCMD [\"node\", \"server.js\"]\n";

    fn steps(c: &Context) -> Vec<BuildStep> {
        let d = Dockerfile::parse(DOCKERFILE, "Dockerfile").unwrap();
        plan_steps(&d, c, &base()).unwrap()
    }

    fn reasons(plan: &BuildPlan) -> Vec<Option<MissReason>> {
        plan.steps
            .iter()
            .map(|s| match &s.prediction {
                CachePrediction::Hit => None,
                CachePrediction::Miss { reason } => Some(reason.clone()),
            })
            .collect()
    }

    #[test]
    fn keys_chain_from_the_base_and_ignore_unrelated_changes() {
        let c = context();
        let a = steps(&c);
        assert_eq!(a.len(), 5);
        assert_eq!(a[0].key, step_key(&base(), "WORKDIR /app", None));
        assert_eq!(
            a[1].key,
            step_key(&a[0].key, "COPY package.json /app/", a[1].content.as_ref())
        );
        assert_eq!(steps(&c), a, "same inputs, same keys");
        let mut c2 = c.clone();
        c2.insert("server.js", "listen(8080)");
        let b = steps(&c2);
        assert_eq!(a[..3], b[..3], "steps before COPY . keep their keys");
        assert_ne!(a[3].key, b[3].key);
        assert_ne!(a[4].key, b[4].key);
        assert_eq!(build_key(&base(), &a), a[4].key);
    }

    #[test]
    fn mode_changes_change_the_content_digest() {
        let c = context();
        let mut c2 = c.clone();
        c2.insert_with_mode("server.js", "listen(80)", 0o755);
        assert_ne!(steps(&c)[3].content, steps(&c2)[3].content);
    }

    #[test]
    fn changed_package_json_misses_from_its_copy_on() {
        let c = context();
        let before = steps(&c);
        let cache: BTreeSet<Digest> = before.iter().map(|s| s.key.clone()).collect();
        let mut c2 = c.clone();
        c2.insert("package.json", r#"{"name":"web","dependencies":{}}"#);
        let after = steps(&c2);
        let previous = PreviousBuild {
            base_digest: &base(),
            steps: &before,
        };
        let plan = predict("node:20", &base(), &after, Some(previous), &cache);
        assert_eq!(
            reasons(&plan),
            [
                None,
                Some(MissReason::ContentChanged {
                    files: vec!["package.json".into()]
                }),
                Some(MissReason::ParentRebuilt),
                Some(MissReason::ParentRebuilt),
                Some(MissReason::ParentRebuilt),
            ]
        );
        let same = predict("node:20", &base(), &before, Some(previous), &cache);
        assert!(reasons(&same).iter().all(Option::is_none));
    }

    #[test]
    fn first_miss_reasons() {
        let c = context();
        let before = steps(&c);
        let empty = BTreeSet::new();
        let prev = PreviousBuild {
            base_digest: &base(),
            steps: &before,
        };
        let first = |plan: BuildPlan| reasons(&plan)[0].clone();
        assert_eq!(
            first(predict("node:20", &base(), &before, None, &empty)),
            Some(MissReason::NotBuilt)
        );
        assert_eq!(
            first(predict("node:20", &base(), &before, Some(prev), &empty)),
            Some(MissReason::Evicted)
        );
        let other_base = Digest::of(b"node:22");
        let d = Dockerfile::parse(DOCKERFILE, "Dockerfile").unwrap();
        let rebased = plan_steps(&d, &c, &other_base).unwrap();
        assert_eq!(
            first(predict(
                "node:22",
                &other_base,
                &rebased,
                Some(prev),
                &empty
            )),
            Some(MissReason::BaseChanged)
        );
        let d = Dockerfile::parse(&DOCKERFILE.replace("/app", "/srv"), "Dockerfile").unwrap();
        let moved = plan_steps(&d, &c, &base()).unwrap();
        assert_eq!(
            first(predict("node:20", &base(), &moved, Some(prev), &empty)),
            Some(MissReason::InstructionChanged)
        );
    }

    #[test]
    fn copy_selects_files_folders_globs_and_the_whole_context() {
        let c = context();
        let files = |line: &str| -> Vec<(String, u32)> {
            let i = Instruction::parse(line).unwrap();
            step_files(1, &i, &c)
                .unwrap()
                .into_iter()
                .map(|f| (f.path, f.mode))
                .collect()
        };
        assert_eq!(
            files("COPY package.json /app/"),
            [("/app/package.json".into(), 0o644)]
        );
        assert_eq!(
            files("COPY package.json /app/pkg"),
            [("/app/pkg".into(), 0o644)]
        );
        assert_eq!(
            files("COPY lib /srv"),
            [
                ("/srv/db.js".into(), 0o644),
                ("/srv/sub/x.js".into(), 0o644)
            ]
        );
        assert_eq!(
            files("COPY *.js *.sh /bin/"),
            [
                ("/bin/install.sh".into(), 0o755),
                ("/bin/server.js".into(), 0o644)
            ]
        );
        assert_eq!(files("COPY ./ /w/").len(), 5);
        let i = Instruction::parse("COPY --chown=1000:50 server.js /s").unwrap();
        let f = step_files(3, &i, &c).unwrap();
        assert_eq!((f[0].uid, f[0].gid), (1000, 50));
        let i = Instruction::parse("COPY --chown=www server.js /s").unwrap();
        assert!(matches!(
            step_files(3, &i, &c),
            Err(BuildError::Chown { step: 3, .. })
        ));
        let i = Instruction::parse("COPY missing.txt /s").unwrap();
        assert_eq!(
            step_files(2, &i, &c).unwrap_err().to_string(),
            "step 2 `COPY missing.txt /s`: no file matches `missing.txt` in the build context"
        );
    }

    #[test]
    fn dockerignored_files_are_neither_copied_nor_hashed() {
        let mut c = context();
        c.insert(".dockerignore", "node_modules\n");
        let a = steps(&c);
        c.insert("node_modules/big.js", "junk");
        assert_eq!(steps(&c), a);
    }

    #[test]
    fn config_follows_the_instructions() {
        let d = Dockerfile::parse(
            "FROM x\nENV A=1\nENV A=2 B=3\nWORKDIR /app\nUSER 1000\nEXPOSE 80\nENTRYPOINT [\"/bin/app\"]\nCMD serve\nLABEL v=1\nVOLUME /data\n",
            "Dockerfile",
        )
        .unwrap();
        let mut config = ImageConfig {
            cmd: vec!["sh".into()],
            ..ImageConfig::default()
        };
        for i in &d.instructions {
            apply_to_config(&mut config, i);
        }
        assert_eq!(config.env, ["A=2", "B=3"]);
        assert_eq!(config.workdir, "/app");
        assert_eq!(config.user, "1000");
        assert_eq!(config.entrypoint, ["/bin/app"]);
        assert_eq!(config.cmd, ["/bin/sh", "-c", "serve"]);
        assert_eq!(config.exposed_ports, ["80/tcp"]);
        assert_eq!(config.volumes, ["/data"]);
        assert_eq!(config.labels["v"], "1");
    }
}
