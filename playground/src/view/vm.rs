//! VMs vs containers: the course's two drawings for the apps of the current stack, with
//! the costs added up ([`crate::footprint`]).

use quai_core::image::ImageInfo;
use quai_core::resource::ResourceConfig;
use quai_core::stack::ImageRef;
use yew::prelude::*;

use crate::footprint::{self, App, Cost};
use crate::i18n::{self, Lang, Text};
use crate::view::Ctx;

/// The apps of the parsed stack, each replica one app, with its image's size when the
/// simulated store has it.
fn apps(ctx: &Ctx<'_>) -> Vec<App> {
    let store = ctx.store;
    let Ok(stack) = &store.parsed else {
        return Vec::new();
    };
    let sandbox = &store.shown().sandbox;
    let images = sandbox.images();
    let state = sandbox.state(&stack.name);
    let mut apps = Vec::new();
    for (name, spec) in &stack.containers {
        for index in 0..spec.replicas {
            let address = quai_core::Address::container(name.clone(), index);
            let image = match &spec.image {
                ImageRef::Stack(n) => n.clone(),
                ImageRef::Reference(r) => short_reference(&r.to_string()),
            };
            let bytes = match state.resources.get(&address).map(|r| &r.config) {
                Some(ResourceConfig::Container(c)) => find_image(&images, &c.image, &c.image_id),
                _ => None,
            };
            apps.push(App {
                address: address.to_string(),
                image,
                layers: bytes
                    .map(|i| {
                        i.layers
                            .iter()
                            .map(|l| (l.digest.to_string(), l.size))
                            .collect()
                    })
                    .unwrap_or_default(),
            });
        }
    }
    apps
}

fn find_image<'a>(
    images: &'a [ImageInfo],
    reference: &str,
    id: &quai_core::image::Digest,
) -> Option<&'a ImageInfo> {
    images.iter().find(|i| {
        &i.digest == id
            || i.tags
                .iter()
                .any(|t| t == reference || short_reference(t) == short_reference(reference))
    })
}

/// `docker.io/library/busybox:1.36` → `busybox:1.36`.
pub fn short_reference(r: &str) -> String {
    r.trim_start_matches("docker.io/")
        .trim_start_matches("library/")
        .to_string()
}

/// `240` → `4 min`, `3` → `3 s`.
fn duration(seconds: u64) -> String {
    if seconds >= 60 {
        format!("{} min", seconds / 60)
    } else {
        format!("{seconds} s")
    }
}

fn cost_table(lang: Lang, cost: &Cost, boot: Text) -> Html {
    html! {
        <table class="costs">
            <tr><th>{ lang.t(Text::Kernels) }</th><td class="kernels">{ cost.kernels }</td></tr>
            <tr><th>{ lang.t(Text::Disk) }</th><td class="disk">{ i18n::size(lang, cost.disk_bytes) }</td></tr>
            <tr><th>{ lang.t(Text::Boot) }</th><td>{ format!("{} (≈ {})", lang.t(boot), duration(cost.boot_seconds)) }</td></tr>
        </table>
    }
}

pub fn vm(ctx: &Ctx<'_>) -> Html {
    let lang = ctx.lang();
    let apps = apps(ctx);
    if apps.is_empty() {
        return html! { <p class="muted">{ ctx.t(Text::NoApps) }</p> };
    }
    let f = footprint::footprint(&apps);
    let layer = |class: &'static str, text: String, size: Option<u64>| {
        html! {
            <div class={classes!("layer", class)}>
                <span>{ text }</span>
                if let Some(s) = size { <span class="size">{ i18n::size(lang, s) }</span> }
            </div>
        }
    };
    html! {
        <>
        <p class="muted">{ ctx.t(Text::VmCosts) }</p>
        <div class="vm-compare">
            <div class="side" id="vm-side">
                <h3>{ ctx.t(Text::VmSide) }</h3>
                <div class="boxes">
                    { for apps.iter().map(|a| html! {
                        <div class="guest vm">
                            <span class="guest-label">{ "VM" }</span>
                            { layer("app", format!("{} ({})", a.address, a.image), Some(a.bytes())) }
                            { layer("guest-os", ctx.t(Text::GuestOs).to_string(), Some(footprint::DISTRIBUTION_BYTES + footprint::KERNEL_BYTES)) }
                        </div>
                    }) }
                </div>
                { layer("hypervisor", ctx.t(Text::Hypervisor).to_string(), None) }
                { layer("host-os", ctx.t(Text::HostOs).to_string(), Some(footprint::KERNEL_BYTES)) }
                { layer("hardware", ctx.t(Text::Hardware).to_string(), None) }
                { cost_table(lang, &f.vms, Text::BootVm) }
            </div>
            <div class="side" id="container-side">
                <h3>{ ctx.t(Text::ContainerSide) }</h3>
                <div class="boxes">
                    { for apps.iter().map(|a| html! {
                        <div class="guest container">
                            <span class="guest-label">{ ctx.t(Text::Container) }</span>
                            { layer("app", format!("{} ({})", a.address, a.image), Some(a.bytes())) }
                        </div>
                    }) }
                </div>
                { layer("engine", ctx.t(Text::Engine).to_string(), None) }
                { layer("host-os", ctx.t(Text::HostOs).to_string(), Some(footprint::KERNEL_BYTES)) }
                { layer("hardware", ctx.t(Text::Hardware).to_string(), None) }
                { cost_table(lang, &f.containers, Text::BootContainer) }
            </div>
        </div>
        </>
    }
}
