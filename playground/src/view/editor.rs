//! The stack editor (with its error shown at its line), the files of the build contexts,
//! and the Plan / Apply / Destroy buttons.

use web_sys::{HtmlInputElement, HtmlTextAreaElement};
use yew::prelude::*;

use crate::i18n::Text;
use crate::store::{self, Action};
use crate::view::Ctx;

pub fn editor(ctx: &Ctx<'_>) -> Html {
    let store = ctx.store;
    let error = store
        .parsed
        .as_ref()
        .err()
        .filter(|e| !e.message.is_empty());
    let error_line = error.and_then(|e| e.line);
    let lines = store.stack_text.lines().count().max(1);
    let on_stack = {
        let send = ctx.send.clone();
        Callback::from(move |e: InputEvent| {
            let area: HtmlTextAreaElement = e.target_unchecked_into();
            send.emit(Action::EditStack(area.value()));
        })
    };
    html! {
        <>
        <h2>{ ctx.t(Text::Stack) }</h2>
        <div class="code">
            <div class="gutter" aria-hidden="true">
                { for (1..=lines).map(|n| html! {
                    <div class={classes!((Some(n) == error_line).then_some("error-line"))}>{ n }</div>
                }) }
            </div>
            <textarea id="stack" spellcheck="false" rows={(lines + 1).clamp(8, 30).to_string()}
                value={store.stack_text.clone()} oninput={on_stack} />
        </div>
        if let Some(e) = error {
            <div class="error" id="stack-error" data-line={e.line.map(|l| l.to_string()).unwrap_or_default()}>
                <strong>{ ctx.t(Text::StackError) }</strong>
                <pre>{ &e.rendered }</pre>
            </div>
        }
        { files(ctx) }
        <div class="actions">
            <button id="plan" onclick={ctx.on(Action::Plan)}>{ ctx.t(Text::Plan) }</button>
            <button id="apply" class="primary" onclick={ctx.on(Action::Apply)}>{ ctx.t(Text::Apply) }</button>
            <button id="destroy" class="danger" onclick={ctx.on(Action::Destroy)}>{ ctx.t(Text::Destroy) }</button>
        </div>
        if let Some(e) = &store.error {
            <div class="error" id="apply-error"><strong>{ ctx.t(Text::ApplyFailed) }</strong><pre>{ e }</pre></div>
        }
        </>
    }
}

fn files(ctx: &Ctx<'_>) -> Html {
    let store = ctx.store;
    let Ok(stack) = &store.parsed else {
        return html! {};
    };
    let built: Vec<(String, Vec<&str>)> = stack
        .images
        .iter()
        .filter(|(_, spec)| matches!(spec, quai_core::stack::ImageSpec::Build { .. }))
        .map(|(name, _)| (name.clone(), store::image_files(stack, name, &store.files)))
        .collect();
    if built.is_empty() {
        return html! { <><h2>{ ctx.t(Text::Files) }</h2><p class="muted">{ ctx.t(Text::NoFiles) }</p></> };
    }
    let open = store.open_file.clone().unwrap_or_default();
    let on_file = {
        let send = ctx.send.clone();
        let path = open.clone();
        Callback::from(move |e: InputEvent| {
            let area: HtmlTextAreaElement = e.target_unchecked_into();
            send.emit(Action::EditFile {
                path: path.clone(),
                text: area.value(),
            });
        })
    };
    let on_add = {
        let send = ctx.send.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Enter" {
                let input: HtmlInputElement = e.target_unchecked_into();
                send.emit(Action::AddFile(input.value()));
                input.set_value("");
            }
        })
    };
    let text = store.files.get(&open).cloned().unwrap_or_default();
    let rows = (text.lines().count() + 1).clamp(4, 16).to_string();
    html! {
        <>
        <h2>{ ctx.t(Text::Files) }</h2>
        <div class="file-tabs" id="files">
            { for built.iter().map(|(image, files)| html! {
                <div class="file-group">
                    <span class="image-name">{ format!("image.{image}") }</span>
                    { for files.iter().map(|path| html! {
                        <button class={classes!("file", (*path == open).then_some("active"))}
                            data-path={path.to_string()}
                            onclick={ctx.on(Action::OpenFile(path.to_string()))}>{ *path }</button>
                    }) }
                </div>
            }) }
        </div>
        if store.files.contains_key(&open) {
            <textarea id="file" class="file-editor" spellcheck="false"
                rows={rows} value={text} oninput={on_file} />
        }
        <input id="new-file" placeholder={ctx.t(Text::NewFile)} onkeydown={on_add} />
        </>
    }
}
