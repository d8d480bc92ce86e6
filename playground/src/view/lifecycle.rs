//! Lifecycle: the container state machine (created, running, exited, restarting,
//! removed), with the state of each container highlighted and the transitions the
//! replay has played drawn bold.

use quai_core::event::ContainerStatus::{self, *};
use yew::prelude::*;

use crate::i18n::{self, Text};
use crate::store::Action;
use crate::view::Ctx;

/// Where each state sits in the drawing.
fn at(status: ContainerStatus) -> (f64, f64) {
    match status {
        Created => (150.0, 150.0),
        Running => (360.0, 150.0),
        Restarting => (465.0, 45.0),
        Exited => (570.0, 150.0),
        Removed => (770.0, 150.0),
    }
}

/// The transitions the course draws, with how the path bends (0 = straight).
const EDGES: [(ContainerStatus, ContainerStatus, f64); 7] = [
    (Created, Running, 0.0),
    (Running, Exited, -16.0),
    (Exited, Running, -16.0),
    // A process that ends under a restart policy: exited, then restarting, then
    // running again.
    (Exited, Restarting, 0.0),
    (Restarting, Running, 0.0),
    (Exited, Removed, 0.0),
    (Created, Removed, 150.0),
];

pub fn lifecycle(ctx: &Ctx<'_>) -> Html {
    let lang = ctx.lang();
    let scene = ctx.store.scene();
    if scene.containers.is_empty() && scene.transitions.is_empty() {
        return html! { <p class="muted">{ ctx.t(Text::NoContainers) }</p> };
    }
    let count = |from: ContainerStatus, to: ContainerStatus| {
        scene
            .transitions
            .iter()
            .filter(|t| t.from == Some(from) && t.to == to)
            .count()
    };
    let states = [Created, Running, Restarting, Exited, Removed];
    let restart = |a: &quai_core::Address| {
        ctx.store
            .parsed
            .as_ref()
            .ok()
            .and_then(|s| s.containers.get(&a.name))
            .map(|c| c.restart.as_str())
            .unwrap_or("no")
    };
    let born = scene
        .transitions
        .iter()
        .filter(|t| t.from.is_none())
        .count();
    html! {
        <div class="lifecycle">
            <svg viewBox="0 0 840 270" class="state-machine" role="img">
                <defs>
                    <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                        <path d="M 0 0 L 10 5 L 0 10 z" fill="#5b6b7a" />
                    </marker>
                    <marker id="arrow-hot" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse">
                        <path d="M 0 0 L 10 5 L 0 10 z" fill="#d9480f" />
                    </marker>
                </defs>
                <g class={classes!("edge", (born > 0).then_some("hot"))}>
                    <circle cx="30" cy="150" r="7" fill="#1f2933" />
                    <path d="M 38 150 L 90 150" fill="none" stroke={if born > 0 { "#d9480f" } else { "#9aa5b1" }}
                        stroke-width={if born > 0 { "3" } else { "1.5" }}
                        marker-end={if born > 0 { "url(#arrow-hot)" } else { "url(#arrow)" }} />
                    if born > 0 {
                        <text x="62" y="142" class="edge-count" text-anchor="middle">{ format!("×{born}") }</text>
                    }
                </g>
                { for EDGES.iter().map(|(from, to, bend)| {
                    let n = count(*from, *to);
                    let (x1, y1) = at(*from);
                    let (x2, y2) = at(*to);
                    // Start and end on the node's border (radius 52 × 26 ellipse, roughly).
                    let (dx, dy) = (x2 - x1, y2 - y1);
                    let len = (dx * dx + dy * dy).sqrt();
                    let (ux, uy) = (dx / len, dy / len);
                    let r = |ux: f64, uy: f64| 1.0 / ((ux / 58.0).powi(2) + (uy / 28.0).powi(2)).sqrt();
                    let rr = r(ux, uy);
                    let (sx, sy) = (x1 + ux * rr, y1 + uy * rr);
                    let (ex, ey) = (x2 - ux * rr, y2 - uy * rr);
                    let (mx, my) = ((sx + ex) / 2.0 - uy * bend, (sy + ey) / 2.0 + ux * bend);
                    let d = format!("M {sx:.1} {sy:.1} Q {mx:.1} {my:.1} {ex:.1} {ey:.1}");
                    let hot = n > 0;
                    html! {
                        <g class={classes!("edge", hot.then_some("hot"))} data-edge={format!("{}-{}", from.as_str(), to.as_str())}>
                            <path d={d} fill="none" stroke={if hot { "#d9480f" } else { "#9aa5b1" }}
                                stroke-width={if hot { "3" } else { "1.5" }}
                                marker-end={if hot { "url(#arrow-hot)" } else { "url(#arrow)" }} />
                            if hot {
                                <text x={format!("{mx:.1}")} y={format!("{:.1}", my - 6.0)} class="edge-count" text-anchor="middle">{ format!("×{n}") }</text>
                            }
                        </g>
                    }
                }) }
                { for states.iter().map(|s| {
                    let (x, y) = at(*s);
                    let here: Vec<String> = scene.containers.iter().filter(|(_, c)| c.status == *s).map(|(a, _)| a.to_string()).collect();
                    let active = !here.is_empty();
                    html! {
                        <g class={classes!("state-node", s.as_str(), active.then_some("active"))}>
                            <ellipse cx={x.to_string()} cy={y.to_string()} rx="58" ry="28" />
                            <text x={x.to_string()} y={(y + 5.0).to_string()} text-anchor="middle" class="state-name">{ i18n::status(lang, *s) }</text>
                            { for here.iter().enumerate().map(|(i, a)| html! {
                                <text x={x.to_string()} y={(y + 48.0 + 15.0 * i as f64).to_string()} text-anchor="middle" class="who">{ a }</text>
                            }) }
                        </g>
                    }
                }) }
            </svg>
            <table class="containers" id="container-table">
                <tr><th>{ ctx.t(Text::Container) }</th><th>{ ctx.t(Text::State) }</th><th>{ ctx.t(Text::Restarts) }</th><th>{ ctx.t(Text::Transitions) }</th><th></th></tr>
                { for scene.containers.iter().map(|(a, c)| {
                    let path: Vec<&str> = scene.path(a).into_iter().map(|s| i18n::status(lang, s)).collect();
                    html! {
                        <tr data-address={a.to_string()} data-status={c.status.as_str()}>
                            <td><code>{ a.to_string() }</code><br/><small class="muted">{ crate::view::short_id(&c.id) }</small></td>
                            <td><span class={classes!("status", c.status.as_str())}>{ i18n::status(lang, c.status) }</span></td>
                            <td><code>{ restart(a) }</code></td>
                            <td>{ path.join(" → ") }</td>
                            <td>
                                if c.status == Running {
                                    <button class="kill" data-address={a.to_string()} onclick={ctx.on(Action::Kill(a.clone()))}>{ ctx.t(Text::Kill) }</button>
                                }
                            </td>
                        </tr>
                    }
                }) }
            </table>
        </div>
    }
}
