//! Layers and cache: each image of the simulated store as a stack of layers (digest,
//! size, instruction), coloured by what the replay has played so far: cache hit, cache
//! miss with its reason, pulled, reused from the store; the tags naming each image; the
//! layers two images share.

use std::collections::BTreeMap;

use quai_core::image::{Digest, ImageInfo, Layer};
use yew::prelude::*;

use crate::i18n::{self, Text};
use crate::scene::{Scene, StepOutcome};
use crate::view::vm::short_reference;
use crate::view::Ctx;

/// What the replay says of one layer.
enum Mark {
    Hit,
    Miss(String),
    Pulled,
    Reused,
    /// Its event comes later in the replay.
    Pending,
    /// Present before this replay.
    Before,
}

/// What the replay says of `layer` of `image`: only the build that tagged this image
/// and the pulls of its own tags speak of it (another image may hold the same layer).
fn mark(
    layer: &Layer,
    image: &ImageInfo,
    now: &Scene,
    end: &Scene,
    lang: crate::i18n::Lang,
) -> Mark {
    let built_here = end.tags.values().any(|d| d == &image.digest);
    let tags: Vec<String> = image.tags.iter().map(|t| short_reference(t)).collect();
    let find = |scene: &Scene| -> Option<Mark> {
        if built_here {
            for steps in scene.builds.values() {
                for s in steps {
                    let same_layer = s.layer.as_ref().is_some_and(|(d, _)| d == &layer.digest);
                    if same_layer || (s.layer.is_none() && s.instruction == layer.created_by) {
                        return Some(match &s.outcome {
                            StepOutcome::Hit => Mark::Hit,
                            StepOutcome::Miss(r) => Mark::Miss(i18n::miss_reason(lang, r)),
                        });
                    }
                }
            }
        }
        // Pulled under any of its tags wins over found already under another.
        let mut reused = None;
        for (reference, layers) in &scene.pulls {
            if !tags.contains(&short_reference(reference)) {
                continue;
            }
            if let Some(pulled) = layers.iter().find(|p| p.digest == layer.digest) {
                if !pulled.reused {
                    return Some(Mark::Pulled);
                }
                reused = Some(Mark::Reused);
            }
        }
        reused
    };
    match find(now) {
        Some(m) => m,
        None if find(end).is_some() => Mark::Pending,
        None => Mark::Before,
    }
}

pub fn layers(ctx: &Ctx<'_>) -> Html {
    let store = ctx.store;
    let lang = ctx.lang();
    let images = store.shown().sandbox.images();
    if images.is_empty() {
        return html! { <p class="muted">{ ctx.t(Text::NoImages) }</p> };
    }
    let now = store.scene();
    let end = store.scene_end();
    // Which images hold each layer, to show what is shared.
    let mut holders: BTreeMap<&Digest, Vec<String>> = BTreeMap::new();
    for image in &images {
        for l in &image.layers {
            holders.entry(&l.digest).or_default().push(name(image));
        }
    }
    html! {
        <div class="images">
            { for images.iter().map(|image| {
                let me = name(image);
                html! {
                <div class="image-card" data-digest={image.digest.to_string()}>
                    <div class="image-head">
                        <code class="digest">{ image.digest.short() }</code>
                        <span class="size">{ i18n::size(lang, image.size()) }</span>
                    </div>
                    <div class="tags">
                        <span class="label">{ ctx.t(Text::Tags) }</span>
                        { for image.tags.iter().map(|t| html! { <span class="tag-chip">{ short_reference(t) }{ " → " }{ image.digest.short() }</span> }) }
                        if image.tags.is_empty() {
                            <span class="untagged">{ ctx.t(Text::Untagged) }</span>
                        }
                    </div>
                    <ol class="layer-stack" reversed=true>
                        { for image.layers.iter().enumerate().rev().map(|(i, l)| {
                            let (class, what) = match mark(l, image, &now, &end, lang) {
                                Mark::Hit => ("hit", ctx.t(Text::CacheHit).to_string()),
                                Mark::Miss(r) => ("miss", format!("{} — {r}", ctx.t(Text::CacheMiss))),
                                Mark::Pulled => ("pulled", ctx.t(Text::Pulled).to_string()),
                                Mark::Reused => ("reused", ctx.t(Text::Reused).to_string()),
                                Mark::Pending => ("pending", ctx.t(Text::Pending).to_string()),
                                Mark::Before => ("before", String::new()),
                            };
                            let others: Vec<String> = holders.get(&l.digest).map(|h| h.iter().filter(|n| **n != me).cloned().collect()).unwrap_or_default();
                            html! {
                                <li class={classes!("layer-row", class, (!others.is_empty()).then_some("shared"))}>
                                    <span class="index">{ i + 1 }</span>
                                    <code class="digest">{ l.digest.short() }</code>
                                    <span class="size">{ i18n::size(lang, l.size) }</span>
                                    <code class="instruction">{ if l.created_by.is_empty() { "—".to_string() } else { l.created_by.clone() } }</code>
                                    if !what.is_empty() {
                                        <span class="mark">{ what }</span>
                                    }
                                    if !others.is_empty() {
                                        <span class="shared-with">{ format!("{} {}", ctx.t(Text::SharedLayer), others.join(", ")) }</span>
                                    }
                                </li>
                            }
                        }) }
                    </ol>
                </div>
            }}) }
        </div>
    }
}

fn name(image: &ImageInfo) -> String {
    image
        .tags
        .first()
        .map(|t| short_reference(t))
        .unwrap_or_else(|| image.digest.short())
}
