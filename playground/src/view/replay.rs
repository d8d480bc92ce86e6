//! The replay of the last apply (first / previous / play / next / last, the events with
//! the current one marked) and the history of states, any of which can be returned to.

use yew::prelude::*;

use crate::i18n::{self, Text};
use crate::store::{Action, Deed};
use crate::view::Ctx;

pub fn replay(ctx: &Ctx<'_>) -> Html {
    let store = ctx.store;
    let events = &store.shown().events;
    let lang = ctx.lang();
    if events.is_empty() {
        return html! {
            <div class="panel" id="replay">
                <h2>{ ctx.t(Text::Replay) }</h2>
                <p class="muted">{ ctx.t(Text::NoRun) }</p>
            </div>
        };
    }
    let pos = store.position;
    html! {
        <div class="panel" id="replay">
            <h2>{ ctx.t(Text::Replay) }</h2>
            <div class="controls">
                <button id="first" onclick={ctx.on(Action::First)} disabled={pos == 0}>{ ctx.t(Text::First) }</button>
                <button id="previous" onclick={ctx.on(Action::Previous)} disabled={pos == 0}>{ ctx.t(Text::Previous) }</button>
                if store.playing {
                    <button id="pause" onclick={ctx.on(Action::Pause)}>{ ctx.t(Text::Pause) }</button>
                } else {
                    <button id="play" onclick={ctx.on(Action::Play)}>{ ctx.t(Text::Play) }</button>
                }
                <button id="next" onclick={ctx.on(Action::Next)} disabled={pos == events.len()}>{ ctx.t(Text::Next) }</button>
                <button id="last" onclick={ctx.on(Action::Last)} disabled={pos == events.len()}>{ ctx.t(Text::Last) }</button>
                <span class="position" id="position">{ format!("{pos} / {}", events.len()) }</span>
            </div>
            if !store.shown().failed.is_empty() {
                <div class="error" id="apply-failures">
                    <strong>{ ctx.t(Text::ApplyFailed) }</strong>
                    <ul>{ for store.shown().failed.iter().map(|(a, e)| html! { <li><code>{ a }</code>{ ctx.lang().pick(" : ", ": ") }{ e }</li> }) }</ul>
                </div>
            }
            <ol class="events" id="events">
                { for events.iter().enumerate().map(|(i, e)| {
                    let class = if i + 1 == pos { "current" } else if i < pos { "played" } else { "pending" };
                    html! { <li class={class}>{ i18n::event(lang, e) }</li> }
                }) }
            </ol>
        </div>
    }
}

pub fn history(ctx: &Ctx<'_>) -> Html {
    let store = ctx.store;
    let lang = ctx.lang();
    html! {
        <div class="panel" id="history">
            <h2>{ ctx.t(Text::History) }</h2>
            <div class="controls">
                <button id="undo" onclick={ctx.on(Action::Undo)} disabled={store.cursor == 0}>{ ctx.t(Text::Undo) }</button>
                <button id="redo" onclick={ctx.on(Action::Redo)} disabled={store.cursor + 1 >= store.history.len()}>{ ctx.t(Text::Redo) }</button>
            </div>
            <ol class="states">
                { for store.history.iter().enumerate().map(|(i, s)| {
                    let label = match &s.deed {
                        Deed::Start => ctx.t(Text::Initial).to_string(),
                        Deed::Write { id } => format!("#{i} {} ({})", ctx.t(Text::WriteData), crate::view::short_id(id)),
                        Deed::Kill { address } => format!("#{i} {} {address}", ctx.t(Text::Killed)),
                        Deed::Apply | Deed::Destroy => {
                            let what = if s.deed == Deed::Apply { ctx.t(Text::Apply) } else { ctx.t(Text::Destroy) };
                            match &s.plan {
                                Some(p) => {
                                    let sum = p.summary();
                                    format!("#{i} {what} — {}", i18n::summary(lang, sum.create, sum.update, sum.replace, sum.delete))
                                }
                                None => format!("#{i} {what}"),
                            }
                        }
                    };
                    let shown = i == store.cursor;
                    html! {
                        <li class={classes!("state", shown.then_some("shown"))} data-index={i.to_string()}>
                            <span>{ label }</span>
                            if !shown {
                                <button class="return" onclick={ctx.on(Action::Return(i))}>{ ctx.t(Text::ReturnHere) }</button>
                            }
                        </li>
                    }
                }) }
            </ol>
        </div>
    }
}
