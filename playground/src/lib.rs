//! quai's playground: the simulated backend of quai-core in the browser, drawn with yew.
//!
//! The model lives in plain Rust and is tested natively: [`store`] (the state of the
//! page and its reducer), [`scene`] (events folded for the replay), [`lessons`],
//! [`footprint`] (VMs vs containers), [`link`] (scenarios in the URL), [`i18n`].
//! Components under [`view`] only draw the store and send it actions.

pub mod bench;
pub mod footprint;
pub mod i18n;
pub mod lessons;
pub mod link;
pub mod sandbox;
pub mod scene;
pub mod store;
pub mod view;

/// Starts the page: mounts the app on `<main id="app">`.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    let root = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("app"))
        .expect("index.html has <main id=\"app\">");
    yew::Renderer::<view::App>::with_root(root).render();
}
