//! Builds in the simulated backend: each step after FROM is looked up in the build
//! cache by its key; a hit reuses the step's layer and config, a miss says why (against
//! the last build of the same tag, by the same rules as the plan's prediction) and runs
//! the step. COPY and ADD make the reproducible layer tar of the files they copy (the
//! digest the Linux backend gives), RUN a layer whose digest derives from its cache
//! key, the other instructions change the image config only and make no layer.
//!
//! Step numbers in events and errors count the steps after FROM from 1.

use std::collections::{BTreeMap, BTreeSet};

use crate::backend::sim::process::{interpret, Behaviour};
use crate::backend::sim::registry::{manifest_digest, Registry};
use crate::backend::sim::world::{
    canonical, familiar, CachedStep, PreviousBuild, StoredLayer, World,
};
use crate::backend::sim::{pull_into, SimBackend};
use crate::backend::{BackendError, BuildRequest};
use crate::event::{Event, EventSink};
use crate::image::build::{apply_to_config, predict, step_files, PreviousBuild as Previous};
use crate::image::{layer, BuildStep, CachePrediction, Digest, ImageConfig, ImageInfo, Layer};
use crate::resource::ImageResource;
use crate::stack::dockerfile::{Instruction, InstructionKind};

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
    let cached: BTreeSet<Digest> = world.cache.keys().cloned().collect();
    let previous = world.builds.get(tag).map(|p| Previous {
        base_digest: &p.base_digest,
        steps: &p.steps,
    });
    let predicted = predict(base, base_digest, steps, previous, &cached);
    for (i, planned) in predicted.steps.into_iter().enumerate() {
        let number = i + 1;
        let step = &planned.step;
        let reason = match planned.prediction {
            CachePrediction::Hit => {
                events.emit(Event::CacheHit {
                    image: request.address.clone(),
                    step: number,
                    instruction: step.instruction.clone(),
                });
                let hit = &world.cache[&step.key];
                config = hit.config.clone();
                if let Some(digest) = &hit.layer {
                    let size = world.layers.get(digest).map_or(0, |l| l.size);
                    layers.push(Layer {
                        digest: digest.clone(),
                        size,
                        created_by: step.instruction.clone(),
                    });
                }
                continue;
            }
            CachePrediction::Miss { reason } => reason,
        };
        events.emit(Event::CacheMiss {
            image: request.address.clone(),
            step: number,
            instruction: step.instruction.clone(),
            reason,
        });
        let instruction = Instruction::parse(&step.instruction)
            .map_err(|e| failed(request, number, step, e.to_string()))?;
        let layer = match &instruction.kind {
            InstructionKind::Copy(_) | InstructionKind::Add(_) => {
                let files = step_files(number, &instruction, request.context)
                    .map_err(|e| failed(request, number, step, e.to_string()))?;
                let (digest, size) = layer::digest(&files);
                let files = files.into_iter().map(|f| (f.path, f.content)).collect();
                Some((digest, StoredLayer { size, files }))
            }
            InstructionKind::Run(command) => {
                if let Behaviour::Exits { code, .. } = interpret(&command.argv()) {
                    if code != 0 {
                        let message = format!("the command exited with code {code}");
                        return Err(failed(request, number, step, message));
                    }
                }
                Some(run_layer(&step.key))
            }
            _ => {
                apply_to_config(&mut config, &instruction);
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
            steps: steps.clone(),
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

    #[test]
    fn run_layers_derive_from_their_key() {
        let (a, la) = run_layer(&Digest::of(b"a"));
        let (b, _) = run_layer(&Digest::of(b"b"));
        assert_ne!(a, b);
        assert_eq!(run_layer(&Digest::of(b"a")).0, a);
        assert!((8 * 1024..8 * 1024 + 8 * 1024 * 1024).contains(&la.size));
    }
}
