//! Builds in the simulated backend: each step after FROM is looked up in the build
//! cache by its key; a hit reuses the step's layer and config, a miss says why (against
//! the last build of the same tag) and runs the step. COPY and ADD make a layer of the
//! files they copy, RUN a layer whose digest derives from its cache key, the other
//! instructions change the image config only and make no layer.
//!
//! Step numbers in events and errors count the steps after FROM from 1.

use std::collections::BTreeMap;

use crate::backend::sim::process::{interpret, Behaviour};
use crate::backend::sim::registry::{manifest_digest, Registry};
use crate::backend::sim::world::{
    canonical, familiar, CachedStep, PreviousBuild, PreviousStep, StoredLayer, World,
};
use crate::backend::sim::{pull_into, SimBackend};
use crate::backend::{BackendError, BuildRequest};
use crate::event::{Event, EventSink};
use crate::image::{BuildStep, Context, Digest, ImageConfig, ImageInfo, Layer, MissReason};
use crate::resource::ImageResource;

/// Runs a build request against the world.
pub(crate) fn build(
    backend: &SimBackend,
    world: &mut World,
    request: &BuildRequest<'_>,
    events: &dyn EventSink,
) -> Result<ImageInfo, BackendError> {
    let ImageResource::Build {
        tag,
        base,
        base_digest,
        steps,
        ..
    } = request.image
    else {
        let reference = request.image.run_reference().to_string();
        return pull_into(&backend.registry, world, &canonical(&reference), events);
    };
    let base_info = base_image(&backend.registry, world, base, events)?;
    let mut config = base_info.config.clone();
    let mut layers = base_info.layers.clone();
    let previous = world.builds.get(tag).cloned();
    let mut records = Vec::new();
    let mut missed = false;
    for (i, step) in steps.iter().enumerate() {
        let number = i + 1;
        let instruction = Instruction::parse(&step.instruction);
        let files = match instruction.keyword.as_str() {
            "COPY" | "ADD" => copied_files(&instruction, request.context, &config.workdir)
                .map_err(|message| failed(request, number, step, message))?,
            _ => Vec::new(),
        };
        records.push(PreviousStep {
            instruction: step.instruction.clone(),
            key: step.key.clone(),
            files: files
                .iter()
                .map(|f| (f.source.clone(), Digest::of(&f.content)))
                .collect(),
        });
        if let Some(cached) = world.cache.get(&step.key) {
            events.emit(Event::CacheHit {
                image: request.address.clone(),
                step: number,
                instruction: step.instruction.clone(),
            });
            config = cached.config.clone();
            if let Some(digest) = &cached.layer {
                if let Some(stored) = world.layers.get(digest) {
                    layers.push(Layer {
                        digest: digest.clone(),
                        size: stored.size,
                        created_by: step.instruction.clone(),
                    });
                }
            }
            continue;
        }
        let reason = if missed {
            MissReason::ParentRebuilt
        } else {
            miss_reason(previous.as_ref(), base_digest, i, step, records.last())
        };
        missed = true;
        events.emit(Event::CacheMiss {
            image: request.address.clone(),
            step: number,
            instruction: step.instruction.clone(),
            reason,
        });
        let layer = match instruction.keyword.as_str() {
            "COPY" | "ADD" => Some(copy_layer(&files)),
            "RUN" => {
                let argv = shell_or_exec(&instruction.args);
                let behaviour = interpret(&argv);
                if let Behaviour::Exits { code, .. } = behaviour {
                    if code != 0 {
                        let message = format!("the command exited with code {code}");
                        return Err(failed(request, number, step, message));
                    }
                }
                Some(run_layer(&step.key))
            }
            _ => {
                apply_metadata(&instruction, &mut config);
                None
            }
        };
        let layer_digest = layer.map(|(digest, stored)| {
            events.emit(Event::LayerBuilt {
                image: request.address.clone(),
                step: number,
                digest: digest.clone(),
                bytes: stored.size,
            });
            layers.push(Layer {
                digest: digest.clone(),
                size: stored.size,
                created_by: step.instruction.clone(),
            });
            world.layers.entry(digest.clone()).or_insert(stored);
            digest
        });
        world.cache.insert(
            step.key.clone(),
            CachedStep {
                layer: layer_digest,
                config: config.clone(),
            },
        );
    }
    let info = ImageInfo {
        digest: manifest_digest(&layers, &config),
        layers,
        config,
        tags: Vec::new(),
    };
    world
        .images
        .entry(info.digest.clone())
        .or_insert_with(|| info.clone());
    let canonical_tag = canonical(tag);
    world.tag(&canonical_tag, &familiar(&canonical_tag), &info.digest);
    events.emit(Event::ImageTagged {
        tag: familiar(&canonical_tag),
        digest: info.digest.clone(),
    });
    world.builds.insert(
        tag.clone(),
        PreviousBuild {
            base_digest: base_digest.clone(),
            steps: records,
        },
    );
    Ok(world.images[&info.digest].clone())
}

fn failed(
    request: &BuildRequest<'_>,
    step: usize,
    build_step: &BuildStep,
    message: String,
) -> BackendError {
    BackendError::BuildFailed {
        image: request.address.to_string(),
        step,
        instruction: build_step.instruction.clone(),
        message,
    }
}

/// The base image behind FROM: `scratch` is empty; else the local store, else a pull.
fn base_image(
    registry: &Registry,
    world: &mut World,
    base: &str,
    events: &dyn EventSink,
) -> Result<ImageInfo, BackendError> {
    if base == "scratch" {
        return Ok(ImageInfo {
            digest: manifest_digest(&[], &ImageConfig::default()),
            layers: Vec::new(),
            config: ImageConfig::default(),
            tags: Vec::new(),
        });
    }
    let reference = canonical(base);
    match world.local_image(&reference) {
        Some(info) => Ok(info.clone()),
        None => pull_into(registry, world, &reference, events),
    }
}

/// Why step `index` misses, compared with the previous build of the same tag.
fn miss_reason(
    previous: Option<&PreviousBuild>,
    base_digest: &Digest,
    index: usize,
    step: &BuildStep,
    now: Option<&PreviousStep>,
) -> MissReason {
    let Some(previous) = previous else {
        return MissReason::NotBuilt;
    };
    let Some(before) = previous.steps.get(index) else {
        return MissReason::InstructionChanged;
    };
    if before.key == step.key {
        return MissReason::Evicted;
    }
    if before.instruction != step.instruction {
        return MissReason::InstructionChanged;
    }
    if let Some(now) = now {
        if now.files != before.files {
            let mut files: Vec<String> = now
                .files
                .iter()
                .filter(|(path, digest)| before.files.get(*path) != Some(digest))
                .map(|(path, _)| path.clone())
                .collect();
            files.extend(
                before
                    .files
                    .keys()
                    .filter(|path| !now.files.contains_key(*path))
                    .cloned(),
            );
            files.sort();
            return MissReason::ContentChanged { files };
        }
    }
    if &previous.base_digest != base_digest {
        return MissReason::BaseChanged;
    }
    MissReason::ParentRebuilt
}

/// An instruction split into its keyword and the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Instruction {
    keyword: String,
    args: String,
}

impl Instruction {
    fn parse(text: &str) -> Instruction {
        let text = text.trim();
        let (keyword, args) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
        Instruction {
            keyword: keyword.to_ascii_uppercase(),
            args: args.trim().to_string(),
        }
    }
}

/// `["a", "b"]` (exec form) or a shell line (`sh -c LINE`).
fn shell_or_exec(args: &str) -> Vec<String> {
    match serde_json::from_str::<Vec<String>>(args) {
        Ok(argv) => argv,
        Err(_) => vec!["/bin/sh".into(), "-c".into(), args.to_string()],
    }
}

/// Words of an argument list: the JSON form, else split on whitespace.
fn words(args: &str) -> Vec<String> {
    serde_json::from_str::<Vec<String>>(args)
        .unwrap_or_else(|_| args.split_whitespace().map(str::to_string).collect())
}

/// `K=V K2="V 2"` pairs, or the old `K V` form.
fn pairs(args: &str) -> Vec<(String, String)> {
    let unquote = |s: &str| s.trim_matches('"').to_string();
    if !args.split_whitespace().next().unwrap_or("").contains('=') {
        return match args.split_once(char::is_whitespace) {
            Some((k, v)) => vec![(k.to_string(), unquote(v.trim()))],
            None => Vec::new(),
        };
    }
    let mut out = Vec::new();
    let mut rest = args.trim();
    while let Some((key, after)) = rest.split_once('=') {
        let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
            match quoted.split_once('"') {
                Some((v, n)) => (v.to_string(), n),
                None => (quoted.to_string(), ""),
            }
        } else {
            match after.split_once(char::is_whitespace) {
                Some((v, n)) => (v.to_string(), n),
                None => (after.to_string(), ""),
            }
        };
        out.push((key.trim().to_string(), value));
        rest = next.trim();
    }
    out
}

fn join_path(dir: &str, path: &str) -> String {
    if path.starts_with('/') {
        path.to_string()
    } else if dir.is_empty() || dir == "/" {
        format!("/{path}")
    } else {
        format!("{}/{path}", dir.trim_end_matches('/'))
    }
}

/// What ENV, WORKDIR, CMD, ENTRYPOINT, USER, EXPOSE, LABEL and VOLUME do to the config
/// (ARG and unknown instructions change nothing).
fn apply_metadata(instruction: &Instruction, config: &mut ImageConfig) {
    let args = &instruction.args;
    match instruction.keyword.as_str() {
        "ENV" => {
            for (k, v) in pairs(args) {
                config
                    .env
                    .retain(|e| e.split_once('=').map(|(n, _)| n) != Some(&k));
                config.env.push(format!("{k}={v}"));
            }
        }
        "WORKDIR" => config.workdir = join_path(&config.workdir, args),
        "CMD" => config.cmd = shell_or_exec(args),
        "ENTRYPOINT" => {
            config.entrypoint = shell_or_exec(args);
            // A new entrypoint drops the CMD inherited from the base.
            config.cmd.clear();
        }
        "USER" => config.user = args.clone(),
        "EXPOSE" => {
            for port in words(args) {
                let port = if port.contains('/') {
                    port
                } else {
                    format!("{port}/tcp")
                };
                if !config.exposed_ports.contains(&port) {
                    config.exposed_ports.push(port);
                }
            }
        }
        "LABEL" => config.labels.extend(pairs(args)),
        "VOLUME" => {
            for v in words(args) {
                if !config.volumes.contains(&v) {
                    config.volumes.push(v);
                }
            }
        }
        _ => {}
    }
}

/// A file a COPY takes from the context: where from, where to, what.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CopiedFile {
    source: String,
    target: String,
    content: Vec<u8>,
}

/// Whether `name` matches a pattern with `*` and `?` (neither crosses `/`).
fn wildcard(pattern: &[u8], name: &[u8]) -> bool {
    match (pattern.first(), name.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            wildcard(&pattern[1..], name)
                || (name.first().is_some_and(|c| *c != b'/') && wildcard(pattern, &name[1..]))
        }
        (Some(b'?'), Some(c)) if *c != b'/' => wildcard(&pattern[1..], &name[1..]),
        (Some(p), Some(c)) if p == c => wildcard(&pattern[1..], &name[1..]),
        _ => false,
    }
}

/// The files `COPY SRC... DEST` takes from `context`, with their paths in the image.
fn copied_files(
    instruction: &Instruction,
    context: &Context,
    workdir: &str,
) -> Result<Vec<CopiedFile>, String> {
    let mut args: Vec<String> = words(&instruction.args)
        .into_iter()
        .filter(|w| !w.starts_with("--"))
        .collect();
    let Some(dest) = args.pop() else {
        return Err("COPY needs a source and a destination".to_string());
    };
    if args.is_empty() {
        return Err("COPY needs a source and a destination".to_string());
    }
    let dest = join_path(workdir, &dest);
    let into_dir = dest.ends_with('/') || args.len() > 1;
    let dest = dest.trim_end_matches('/').to_string();
    let mut out = BTreeMap::new();
    for source in &args {
        let pattern = source.trim_start_matches("./").trim_end_matches('/');
        let mut found = false;
        for (path, content) in &context.files {
            let target = if pattern.is_empty() || pattern == "." {
                Some(format!("{dest}/{path}"))
            } else if path == pattern {
                let name = path.rsplit('/').next().unwrap_or(path);
                Some(if into_dir {
                    format!("{dest}/{name}")
                } else {
                    dest.clone()
                })
            } else if let Some(rest) = path.strip_prefix(&format!("{pattern}/")) {
                Some(format!("{dest}/{rest}"))
            } else if pattern.contains(['*', '?']) && wildcard(pattern.as_bytes(), path.as_bytes())
            {
                let name = path.rsplit('/').next().unwrap_or(path);
                Some(format!("{dest}/{name}"))
            } else {
                None
            };
            if let Some(target) = target {
                found = true;
                let target = if target.starts_with("//") {
                    target[1..].to_string()
                } else {
                    target
                };
                out.insert(
                    target.clone(),
                    CopiedFile {
                        source: path.clone(),
                        target,
                        content: content.clone(),
                    },
                );
            }
        }
        if !found {
            return Err(format!("no file matches `{source}` in the build context"));
        }
    }
    Ok(out.into_values().collect())
}

/// The layer of a COPY: its files, the digest and size of their tar.
fn copy_layer(files: &[CopiedFile]) -> (Digest, StoredLayer) {
    let mut parts: Vec<&[u8]> = vec![b"quai layer"];
    let mut size = 1024; // the two zero blocks that end a tar
    for f in files {
        parts.push(f.target.as_bytes());
        parts.push(&f.content);
        size += 512 + (f.content.len() as u64).div_ceil(512) * 512;
    }
    let digest = Digest::of_parts(parts);
    let stored = StoredLayer {
        size,
        files: files
            .iter()
            .map(|f| (f.target.clone(), f.content.clone()))
            .collect(),
    };
    (digest, stored)
}

/// The layer of a RUN: a digest derived from the step's cache key, and a plausible size
/// between 8 KiB and 8 MiB, also derived from it.
fn run_layer(key: &Digest) -> (Digest, StoredLayer) {
    let digest = Digest::of_parts([&b"quai sim run layer"[..], key.hex().as_bytes()]);
    let seed = u64::from_str_radix(&key.hex()[..8], 16).unwrap_or(0);
    let size = 8 * 1024 + seed % (8 * 1024 * 1024);
    (
        digest,
        StoredLayer {
            size,
            files: BTreeMap::new(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy(args: &str, files: &[(&str, &str)], workdir: &str) -> Result<Vec<String>, String> {
        let mut context = Context::new();
        for (p, c) in files {
            context.insert(*p, c.as_bytes());
        }
        let i = Instruction::parse(&format!("COPY {args}"));
        copied_files(&i, &context, workdir).map(|v| v.into_iter().map(|f| f.target).collect())
    }

    #[test]
    fn copy_places_files_as_a_dockerfile_does() {
        let files = [("package.json", "{}"), ("src/a.js", "a"), ("src/b.js", "b")];
        assert_eq!(
            copy("package.json /app/", &files, "").unwrap(),
            ["/app/package.json"]
        );
        assert_eq!(
            copy("package.json pkg.json", &files, "/app").unwrap(),
            ["/app/pkg.json"]
        );
        assert_eq!(
            copy("src /app/src", &files, "").unwrap(),
            ["/app/src/a.js", "/app/src/b.js"]
        );
        assert_eq!(copy(". /app/", &files, "").unwrap().len(), 3);
        assert_eq!(copy("src/*.js /js/", &files, "").unwrap().len(), 2);
        let err = copy("missing.txt /app/", &files, "").unwrap_err();
        assert!(err.contains("missing.txt"), "{err}");
    }

    #[test]
    fn metadata_steps_change_the_config() {
        let mut config = ImageConfig {
            cmd: vec!["sh".into()],
            ..ImageConfig::default()
        };
        for text in [
            "ENV MODE=prod NAME=\"a b\"",
            "WORKDIR /app",
            "WORKDIR src",
            "EXPOSE 80",
            "ENTRYPOINT [\"/bin/app\"]",
            "USER 1000",
        ] {
            apply_metadata(&Instruction::parse(text), &mut config);
        }
        assert_eq!(config.env, ["MODE=prod", "NAME=a b"]);
        assert_eq!(config.workdir, "/app/src");
        assert_eq!(config.exposed_ports, ["80/tcp"]);
        assert_eq!(config.entrypoint, ["/bin/app"]);
        assert!(config.cmd.is_empty());
        assert_eq!(config.user, "1000");
        apply_metadata(&Instruction::parse("CMD echo hi"), &mut config);
        assert_eq!(config.cmd, ["/bin/sh", "-c", "echo hi"]);
    }

    #[test]
    fn copy_layers_are_content_addressed() {
        let a = CopiedFile {
            source: "a".into(),
            target: "/a".into(),
            content: b"one".to_vec(),
        };
        let mut b = a.clone();
        assert_eq!(
            copy_layer(std::slice::from_ref(&a)).0,
            copy_layer(std::slice::from_ref(&b)).0
        );
        b.content = b"two".to_vec();
        assert_ne!(copy_layer(std::slice::from_ref(&a)).0, copy_layer(&[b]).0);
        assert_eq!(copy_layer(&[a]).1.size, 1024 + 512 + 512);
    }
}
