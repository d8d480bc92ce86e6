//! Networks and volumes: containers, networks and volumes as a graph; who can reach
//! whom (containers that share a network); what survives a replace (named volumes do,
//! the writable layer does not).

use quai_core::address::Address;
use quai_core::stack::MountSource;
use yew::prelude::*;

use crate::i18n::{self, Text};
use crate::view::Ctx;

const W: f64 = 900.0;

fn spread(n: usize, i: usize) -> f64 {
    W * (i as f64 + 0.5) / n.max(1) as f64
}

pub fn network(ctx: &Ctx<'_>) -> Html {
    let store = ctx.store;
    let Ok(stack) = &store.parsed else {
        return html! { <p class="muted">{ ctx.t(Text::NoApps) }</p> };
    };
    if stack.containers.is_empty() {
        return html! { <p class="muted">{ ctx.t(Text::NoApps) }</p> };
    }
    let scene = store.scene();
    let networks: Vec<&String> = stack.networks.keys().collect();
    // Containers ordered by where their networks sit, so that links cross less.
    let place = |spec: &quai_core::stack::ContainerSpec| {
        let at: Vec<usize> = spec
            .networks
            .iter()
            .filter_map(|n| networks.iter().position(|x| *x == n))
            .collect();
        if at.is_empty() {
            f64::MAX
        } else {
            at.iter().sum::<usize>() as f64 / at.len() as f64
        }
    };
    let mut containers: Vec<(&String, &quai_core::stack::ContainerSpec)> =
        stack.containers.iter().collect();
    containers.sort_by(|a, b| place(a.1).total_cmp(&place(b.1)));
    let volumes: Vec<&String> = stack.volumes.keys().collect();
    let (cy, ny, vy) = (50.0, 170.0, 290.0);
    let cx = |i: usize| spread(containers.len(), i);
    let nx = |i: usize| spread(networks.len(), i);
    // A volume sits under the containers that mount it (else spread out).
    let vx = |j: usize| {
        let users: Vec<f64> = containers
            .iter()
            .enumerate()
            .filter(|(_, (_, spec))| {
                spec.volumes
                    .iter()
                    .any(|m| m.source == MountSource::Volume(volumes[j].clone()))
            })
            .map(|(i, _)| cx(i))
            .collect();
        if users.is_empty() {
            spread(volumes.len(), j)
        } else {
            users.iter().sum::<f64>() / users.len() as f64
        }
    };

    let mut lines = Vec::new();
    for (i, (_, spec)) in containers.iter().enumerate() {
        for n in &spec.networks {
            if let Some(j) = networks.iter().position(|x| *x == n) {
                lines.push(html! { <line class="link net" x1={cx(i).to_string()} y1={(cy + 22.0).to_string()} x2={nx(j).to_string()} y2={(ny - 20.0).to_string()} /> });
            }
        }
        for m in &spec.volumes {
            if let MountSource::Volume(v) = &m.source {
                if let Some(j) = volumes.iter().position(|x| *x == v) {
                    lines.push(html! {
                        <g>
                            <line class="link vol" x1={cx(i).to_string()} y1={(cy + 22.0).to_string()} x2={vx(j).to_string()} y2={(vy - 22.0).to_string()} />
                            <text class="mount" x={((cx(i) + vx(j)) / 2.0 + 6.0).to_string()} y={((cy + vy) / 2.0 + 40.0).to_string()}>{ &m.target }</text>
                        </g>
                    });
                }
            }
        }
    }

    // Who reaches whom: pairs sharing a network.
    let mut reach = Vec::new();
    for (i, (a, sa)) in containers.iter().enumerate() {
        for (b, sb) in containers.iter().skip(i + 1) {
            let shared: Vec<&str> = sa
                .networks
                .iter()
                .filter(|n| sb.networks.contains(n))
                .map(String::as_str)
                .collect();
            let both_default = sa.networks.is_empty() && sb.networks.is_empty();
            if !shared.is_empty() || both_default {
                let via = if both_default {
                    ctx.t(Text::NoNetwork).to_string()
                } else {
                    shared.join(", ")
                };
                reach.push(html! { <li class="reach-yes"><code>{ a.as_str() }</code>{ " ↔ " }<code>{ b.as_str() }</code>{ format!(" ({via})") }</li> });
            } else {
                reach.push(html! { <li class="reach-no"><code>{ a.as_str() }</code>{ " ✕ " }<code>{ b.as_str() }</code></li> });
            }
        }
    }

    html! {
        <div class="network-view">
            <svg viewBox={format!("0 0 {W} 330")} class="graph" role="img">
                { for lines }
                { for containers.iter().enumerate().map(|(i, (name, spec))| {
                    let status = scene.containers.get(&Address::container(name.as_str(), 0)).map(|c| c.status);
                    let up = status.map(|s| s.as_str()).unwrap_or("absent");
                    let shown = status.map(|s| i18n::status(ctx.lang(), s)).unwrap_or(ctx.t(Text::Absent));
                    let label = if spec.replicas > 1 { format!("{name} ×{}", spec.replicas) } else { name.to_string() };
                    html! {
                        <g class={classes!("node", "container", up)} data-name={name.to_string()}>
                            <rect x={(cx(i) - 70.0).to_string()} y={(cy - 22.0).to_string()} width="140" height="44" rx="8" />
                            <text x={cx(i).to_string()} y={(cy - 2.0).to_string()} text-anchor="middle">{ label }</text>
                            <text x={cx(i).to_string()} y={(cy + 14.0).to_string()} text-anchor="middle" class="small">{ shown }</text>
                        </g>
                    }
                }) }
                { for networks.iter().enumerate().map(|(j, n)| {
                    let subnet = scene.networks.get(&Address::network(n.as_str())).cloned().unwrap_or_default();
                    html! {
                        <g class="node network">
                            <rect x={(nx(j) - 90.0).to_string()} y={(ny - 20.0).to_string()} width="180" height="40" rx="20" />
                            <text x={nx(j).to_string()} y={(ny - 2.0).to_string()} text-anchor="middle">{ format!("{} {n}", ctx.t(Text::Network)) }</text>
                            <text x={nx(j).to_string()} y={(ny + 13.0).to_string()} text-anchor="middle" class="small">{ subnet }</text>
                        </g>
                    }
                }) }
                { for volumes.iter().enumerate().map(|(j, v)| {
                    let exists = scene.volumes.contains(&Address::volume(v.as_str()));
                    html! {
                        <g class={classes!("node", "volume", exists.then_some("exists"))}>
                            <ellipse cx={vx(j).to_string()} cy={(vy - 14.0).to_string()} rx="60" ry="9" />
                            <rect x={(vx(j) - 60.0).to_string()} y={(vy - 14.0).to_string()} width="120" height="30" />
                            <ellipse cx={vx(j).to_string()} cy={(vy + 16.0).to_string()} rx="60" ry="9" />
                            <text x={vx(j).to_string()} y={(vy + 6.0).to_string()} text-anchor="middle">{ format!("{} {v}", ctx.t(Text::Volume)) }</text>
                        </g>
                    }
                }) }
            </svg>
            <div class="columns">
                <div>
                    <h3>{ ctx.t(Text::Reach) }</h3>
                    <ul class="reach" id="reach">{ for reach }</ul>
                </div>
                <div>
                    <h3>{ ctx.t(Text::Survives) }</h3>
                    <p class="muted">{ ctx.t(Text::SurvivesText) }</p>
                    <ul class="survives" id="survives">
                        { for containers.iter().map(|(name, spec)| html! {
                            <li>
                                <code>{ name.as_str() }</code>{ ctx.lang().pick(" : ", ": ") }
                                { for spec.volumes.iter().map(|m| match &m.source {
                                    MountSource::Volume(v) => html! { <span class="kept">{ format!("{} {v} → {} ({}) ", ctx.t(Text::Volume), m.target, ctx.t(Text::Kept)) }</span> },
                                    MountSource::Bind(p) => html! { <span class="kept">{ format!("{p} → {} ({}) ", m.target, ctx.t(Text::Kept)) }</span> },
                                }) }
                                <span class="lost">{ format!("{} ({})", ctx.t(Text::WritableLayer), ctx.t(Text::Lost)) }</span>
                            </li>
                        }) }
                    </ul>
                </div>
            </div>
        </div>
    }
}
