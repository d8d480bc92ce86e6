//! The plan as a diff: one line per address with its symbol, then its reasons, and for
//! built images each step with its predicted cache hit or miss.

use quai_core::image::CachePrediction;
use quai_core::plan::{Action, Change};
use yew::prelude::*;

use crate::i18n::{self, Text};
use crate::view::Ctx;

pub fn plan(ctx: &Ctx<'_>) -> Html {
    let lang = ctx.lang();
    let body = match &ctx.store.plan {
        None => html! { <p class="muted">{ ctx.t(Text::NoPlan) }</p> },
        Some(Err(e)) => html! {
            <div class="error" id="plan-error"><strong>{ ctx.t(Text::PlanFailed) }</strong><pre>{ e }</pre></div>
        },
        Some(Ok(plan)) => {
            let s = plan.summary();
            let current = ctx.store.scene().current.map(|(a, _)| a);
            html! {
                <>
                <p class="summary" id="plan-summary">
                    { if plan.has_changes() { i18n::summary(lang, s.create, s.update, s.replace, s.delete) } else { ctx.t(Text::NoChanges).to_string() } }
                </p>
                <ul class="diff" id="plan-diff">
                    { for plan.changes.iter().filter(|c| c.action != Action::NoOp).map(|c| change(ctx, c, current.as_ref() == Some(&c.address))) }
                </ul>
                </>
            }
        }
    };
    html! {
        <div class="panel" id="plan-panel">
            <h2>{ ctx.t(Text::PlanTitle) }</h2>
            { body }
        </div>
    }
}

fn action_class(action: Action) -> &'static str {
    match action {
        Action::NoOp => "noop",
        Action::Create => "create",
        Action::Update => "update",
        Action::Replace => "replace",
        Action::Delete => "delete",
    }
}

/// One step of the plan; `running` marks the step the replay is in.
fn change(ctx: &Ctx<'_>, c: &Change, running: bool) -> Html {
    let lang = ctx.lang();
    html! {
        <li class={classes!("change", action_class(c.action), running.then_some("running"))} data-address={c.address.to_string()}>
            <div class="head">
                <span class="symbol">{ c.action.symbol() }</span>
                <code>{ c.address.to_string() }</code>
                <span class="verb">{ i18n::action(lang, c.action) }</span>
            </div>
            <ul class="reasons">
                { for c.reasons.iter().map(|r| html! { <li>{ i18n::reason(lang, r) }</li> }) }
            </ul>
            if let Some(build) = &c.build {
                <ol class="build">
                    <li class="base"><code>{ format!("FROM {}", build.base) }</code></li>
                    { for build.steps.iter().map(|s| match &s.prediction {
                        CachePrediction::Hit => html! {
                            <li class="hit"><code>{ &s.step.instruction }</code><span class="tag">{ ctx.t(Text::CacheHit) }</span></li>
                        },
                        CachePrediction::Miss { reason } => html! {
                            <li class="miss"><code>{ &s.step.instruction }</code>
                                <span class="tag">{ format!("{} — {}", ctx.t(Text::CacheMiss), i18n::miss_reason(lang, reason)) }</span></li>
                        },
                    }) }
                </ol>
            }
        </li>
    }
}
