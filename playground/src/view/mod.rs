//! The components: they draw the [`Store`] and send it [`Action`]s, nothing else. The
//! only effects (the replay's timer, the address bar, the clock of the first paint) live
//! in [`App`]'s hooks.

mod editor;
mod layers;
mod lifecycle;
mod network;
mod plan;
mod replay;
mod vm;

use std::rc::Rc;

use yew::prelude::*;

use crate::i18n::{Lang, Text};
use crate::lessons::LESSONS;
use crate::link;
use crate::store::{Action, Store, View};

/// The store as yew's reducer holds it.
#[derive(Clone)]
pub struct Model(pub Store);

impl PartialEq for Model {
    fn eq(&self, _: &Self) -> bool {
        false
    }
}

impl Reducible for Model {
    type Action = Action;
    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut model = Rc::unwrap_or_clone(self);
        model.0.reduce(action);
        Rc::new(model)
    }
}

/// What every part of the page receives: the store and where to send actions.
pub struct Ctx<'a> {
    pub store: &'a Store,
    pub send: &'a Callback<Action>,
}

impl Ctx<'_> {
    pub fn lang(&self) -> Lang {
        self.store.lang
    }
    pub fn t(&self, text: Text) -> &'static str {
        self.store.lang.t(text)
    }
    /// A click handler that sends `action`.
    pub fn on(&self, action: Action) -> Callback<MouseEvent> {
        let send = self.send.clone();
        Callback::from(move |_| send.emit(action.clone()))
    }
}

/// The whole page.
#[function_component(App)]
pub fn app() -> Html {
    let model = use_reducer(|| Model(initial_store()));
    let send = {
        let model = model.clone();
        Callback::from(move |a: Action| model.dispatch(a))
    };

    // The replay plays by itself while `playing`.
    {
        let send = send.clone();
        let playing = model.0.playing;
        let position = model.0.position;
        let cursor = model.0.cursor;
        use_effect_with((playing, position, cursor), move |(playing, _, _)| {
            let timer = playing
                .then(|| gloo_timers::callback::Timeout::new(450, move || send.emit(Action::Next)));
            move || drop(timer)
        });
    }
    // The event being played stays in sight in the replay's list.
    use_effect_with((model.0.position, model.0.cursor), |_| {
        use wasm_bindgen::JsCast;
        let doc = web_sys::window().and_then(|w| w.document());
        let list = doc.as_ref().and_then(|d| d.get_element_by_id("events"));
        let current = doc
            .as_ref()
            .and_then(|d| d.query_selector("#events .current").ok().flatten());
        if let (Some(list), Some(current)) = (list, current) {
            if let (Ok(list), Ok(current)) = (
                list.dyn_into::<web_sys::HtmlElement>(),
                current.dyn_into::<web_sys::HtmlElement>(),
            ) {
                let top = current.offset_top() - list.offset_top() - list.client_height() / 2;
                list.set_scroll_top(top.max(0));
            }
        }
    });
    // The language of the document follows the page's.
    {
        let lang = model.0.lang;
        use_effect_with(lang, move |lang| {
            if let Some(root) = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.document_element())
            {
                let _ = root.set_attribute("lang", lang.code());
            }
        });
    }
    // When the first paint is done: time to interactive, for the budget.
    use_effect_with((), |_| {
        if let Some(w) = web_sys::window() {
            let now = w.performance().map(|p| p.now()).unwrap_or(0.0);
            let _ = js_sys::Reflect::set(&w, &"quaiInteractiveMs".into(), &now.into());
        }
    });

    let store = &model.0;
    let ctx = Ctx { store, send: &send };
    html! {
        <div class="page">
            { header(&ctx) }
            { lesson_panel(&ctx) }
            <div class="work">
                <section class="column">{ editor::editor(&ctx) }</section>
                <section class="column">
                    { plan::plan(&ctx) }
                    { replay::replay(&ctx) }
                    { replay::history(&ctx) }
                </section>
            </div>
            { views(&ctx) }
            <footer>{ lang_footer(store.lang) }</footer>
        </div>
    }
}

/// The store the page opens on: the scenario of the link, if the address has one.
fn initial_store() -> Store {
    let mut store = Store::new();
    if let Some(hash) = web_sys::window().and_then(|w| w.location().hash().ok()) {
        if let Ok(scenario) = link::decode(&hash) {
            store.reduce(Action::Scenario(scenario));
        }
    }
    store
}

fn header(ctx: &Ctx<'_>) -> Html {
    let store = ctx.store;
    let share = {
        let scenario = store.scenario();
        Callback::from(move |_: MouseEvent| {
            if let Some(w) = web_sys::window() {
                let fragment = format!("#{}", link::encode(&scenario));
                if let Ok(h) = w.history() {
                    let _ =
                        h.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&fragment));
                }
            }
        })
    };
    html! {
        <header>
            <div class="brand">
                <h1>{ ctx.t(Text::Title) }</h1>
                <p class="tagline">{ ctx.t(Text::Tagline) }</p>
            </div>
            <nav class="lessons" id="lessons">
                <span class="label">{ ctx.t(Text::Lessons) }</span>
                <button class={classes!("lesson", store.lesson.is_none().then_some("active"))}
                    data-lesson="free" onclick={ctx.on(Action::Lesson(None))}>
                    { ctx.t(Text::FreePlay) }
                </button>
                { for LESSONS.iter().map(|l| {
                    let active = store.lesson.is_some_and(|c| c.id == l.id);
                    html! {
                        <button class={classes!("lesson", active.then_some("active"))}
                            data-lesson={l.id}
                            onclick={ctx.on(Action::Lesson(Some(l.id.to_string())))}>
                            { l.title(store.lang) }
                        </button>
                    }
                }) }
            </nav>
            <div class="tools">
                <button id="share" title={ctx.t(Text::LinkCopied)} onclick={share}>{ ctx.t(Text::Share) }</button>
                <button id="lang" onclick={ctx.on(Action::SetLang(store.lang.other()))}>{ ctx.t(Text::SwitchLang) }</button>
            </div>
        </header>
    }
}

fn lesson_panel(ctx: &Ctx<'_>) -> Html {
    let Some(lesson) = ctx.store.lesson else {
        return html! {};
    };
    let lang = ctx.lang();
    let met = ctx.store.goal_met().unwrap_or(false);
    html! {
        <section class="lesson-panel" id="lesson">
            <h2>{ lesson.title(lang) }</h2>
            <p>{ lesson.text(lang) }</p>
            <p class={classes!("goal", met.then_some("met"))} id="goal" data-met={met.to_string()}>
                <strong>{ ctx.t(Text::Goal) }{ lang.pick(" : ", ": ") }</strong>{ lesson.goal(lang) }
                <span class="goal-state">{ if met { ctx.t(Text::GoalMet) } else { ctx.t(Text::GoalNotMet) } }</span>
            </p>
            if let Some(data) = &lesson.data {
                <p class="data">
                    <button id="write-data" onclick={ctx.on(Action::WriteData)}
                        disabled={ctx.store.data().is_none()}>{ ctx.t(Text::WriteData) }</button>
                    { match ctx.store.data() {
                        Some((id, true)) => html! { <span class="kept" id="data-state" data-present="true">{ format!("{} container.{} ({}) : {}", ctx.t(Text::DataPresent), data.container, short_id(&id), data.path) }</span> },
                        Some((id, false)) => html! { <span class="lost" id="data-state" data-present="false">{ format!("{} container.{} ({}) : {}", ctx.t(Text::DataAbsent), data.container, short_id(&id), data.path) }</span> },
                        None => html! {},
                    } }
                </p>
            }
        </section>
    }
}

/// A container id as people read it: its first 12 characters.
pub fn short_id(id: &str) -> String {
    id.chars().take(12).collect()
}

fn views(ctx: &Ctx<'_>) -> Html {
    let store = ctx.store;
    let tab = |view: View, text: Text| {
        html! {
            <button class={classes!("tab", (store.view == view).then_some("active"))}
                id={format!("tab-{}", view.id())}
                onclick={ctx.on(Action::SetView(view))}>{ ctx.t(text) }</button>
        }
    };
    let body = match store.view {
        View::Vm => vm::vm(ctx),
        View::Layers => layers::layers(ctx),
        View::Lifecycle => lifecycle::lifecycle(ctx),
        View::Network => network::network(ctx),
    };
    html! {
        <section class="views">
            <nav class="tabs">
                { tab(View::Vm, Text::ViewVm) }
                { tab(View::Layers, Text::ViewLayers) }
                { tab(View::Lifecycle, Text::ViewLifecycle) }
                { tab(View::Network, Text::ViewNetwork) }
            </nav>
            <div class="view" id={format!("view-{}", store.view.id())}>{ body }</div>
        </section>
    }
}

fn lang_footer(lang: Lang) -> Html {
    html! {
        <p>{ lang.pick(
            "quai — outil de conteneurs déclaratif, pour le cours DevOps. Tout tourne dans la page : backend simulé, aucun conteneur réel.",
            "quai — a declarative container tool, for the DevOps course. Everything runs in the page: simulated backend, no real container.") }</p>
    }
}
