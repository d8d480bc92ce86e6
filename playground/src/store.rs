//! The state of the page and its reducer: the stack being edited, the build contexts,
//! the plan, the history of simulated states and the replay of the last apply. Every
//! change goes through [`Store::reduce`] with an [`Action`]; components only draw.
//!
//! Plain Rust, tested natively. Never touches the browser (the app reads and writes the
//! address bar and the clock around it).

use std::collections::BTreeMap;
use std::rc::Rc;

use quai_core::address::Address;
use quai_core::event::{ContainerStatus, Event};
use quai_core::image::Context;
use quai_core::plan::Plan;
use quai_core::resource::desired::Desired;
use quai_core::stack::{self, BuildSource, ImageSpec, Stack, StackError};

use crate::i18n::Lang;
use crate::lessons::{self, Lesson};
use crate::link::Scenario;
use crate::sandbox::{Run, Sandbox};
use crate::scene::Scene;

/// The file name the stack has in errors.
pub const STACK_FILE: &str = "stack.toml";
/// The folder the stack pretends to live in (its default name).
pub const FOLDER: &str = "demo";

/// The four views of the course.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum View {
    #[default]
    Vm,
    Layers,
    Lifecycle,
    Network,
}

impl View {
    pub const ALL: [View; 4] = [View::Vm, View::Layers, View::Lifecycle, View::Network];

    /// Its id in the page (`vm`, `layers`, …), for tests and links.
    pub fn id(self) -> &'static str {
        match self {
            View::Vm => "vm",
            View::Layers => "layers",
            View::Lifecycle => "lifecycle",
            View::Network => "network",
        }
    }
}

/// What was done to reach a point of the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deed {
    /// The empty sandbox the page starts with.
    Start,
    Apply,
    Destroy,
    /// The lesson's container wrote its data file; `id` is the container that wrote it.
    Write {
        id: String,
    },
    /// A container's process was killed outside quai (SIGKILL).
    Kill {
        address: Address,
    },
}

/// One point of the history: the sandbox after a deed, and the replay of that deed.
pub struct Snapshot {
    pub deed: Deed,
    pub sandbox: Sandbox,
    /// The plan that was applied (none for the start).
    pub plan: Option<Plan>,
    /// The events of the deed, in order.
    pub events: Vec<Event>,
    /// The scene before the first event.
    pub before: Scene,
    /// Failures of the apply, by address.
    pub failed: Vec<(String, String)>,
}

/// An error in the stack as the editor shows it: at a line, or for the whole file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditorError {
    pub line: Option<usize>,
    pub col: Option<usize>,
    pub message: String,
    pub help: Option<String>,
    /// The full rendered error (file:line:col, caret, help).
    pub rendered: String,
}

impl From<&StackError> for EditorError {
    fn from(e: &StackError) -> Self {
        EditorError {
            line: e.span.map(|s| s.line),
            col: e.span.map(|s| s.col),
            message: e.message.clone(),
            help: e.help.clone(),
            rendered: e.to_string(),
        }
    }
}

/// Everything the page shows.
#[derive(Clone)]
pub struct Store {
    pub lang: Lang,
    pub view: View,
    pub lesson: Option<&'static Lesson>,
    /// The stack file's text as typed.
    pub stack_text: String,
    /// Files of the build contexts, by path from the stack's folder (`web/Dockerfile`).
    pub files: BTreeMap<String, String>,
    /// The file open in the context editor.
    pub open_file: Option<String>,
    /// The stack as parsed from `stack_text`.
    pub parsed: Result<Stack, EditorError>,
    /// The last plan asked for, or why it could not be made.
    pub plan: Option<Result<Plan, String>>,
    /// The history of states; `history[0]` is the empty start.
    pub history: Vec<Rc<Snapshot>>,
    /// The point of the history shown.
    pub cursor: usize,
    /// How many events of `history[cursor]` are played.
    pub position: usize,
    /// Whether the replay advances by itself.
    pub playing: bool,
    /// The last error of an apply or destroy.
    pub error: Option<String>,
}

/// What can happen to the page.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    EditStack(String),
    EditFile {
        path: String,
        text: String,
    },
    OpenFile(String),
    AddFile(String),
    Plan,
    Apply,
    Destroy,
    /// The lesson's container writes its data file (as its program would).
    WriteData,
    /// A container's process is killed outside quai (SIGKILL, exit 137); its restart
    /// policy applies, and the next plan sees the drift.
    Kill(Address),
    /// Replay: to the start, back one event, forward one event, to the end.
    First,
    Previous,
    Next,
    Last,
    Play,
    Pause,
    /// Goes to a point of the history.
    Return(usize),
    Undo,
    Redo,
    SetView(View),
    SetLang(Lang),
    /// Loads a lesson (or the free stack with `None`), replacing the sandbox.
    Lesson(Option<String>),
    /// Loads a shared scenario.
    Scenario(Scenario),
}

impl Default for Store {
    fn default() -> Self {
        Store::new()
    }
}

impl Store {
    /// The page as a student first sees it: the first lesson's stack, nothing applied.
    pub fn new() -> Self {
        let lesson = &lessons::LESSONS[0];
        let mut store = Store {
            lang: Lang::Fr,
            view: View::Vm,
            lesson: None,
            stack_text: String::new(),
            files: BTreeMap::new(),
            open_file: None,
            parsed: Err(EditorError {
                line: None,
                col: None,
                message: String::new(),
                help: None,
                rendered: String::new(),
            }),
            plan: None,
            history: vec![Rc::new(Snapshot {
                deed: Deed::Start,
                sandbox: Sandbox::new(),
                plan: None,
                events: Vec::new(),
                before: Scene::default(),
                failed: Vec::new(),
            })],
            cursor: 0,
            position: 0,
            playing: false,
            error: None,
        };
        store.load(Some(lesson), lesson.stack.to_string(), lesson.files());
        store
    }

    /// Changes the store by one action.
    pub fn reduce(&mut self, action: Action) {
        match action {
            Action::EditStack(text) => {
                self.stack_text = text;
                self.reparse();
                self.plan = None;
            }
            Action::EditFile { path, text } => {
                self.files.insert(path, text);
                self.plan = None;
            }
            Action::OpenFile(path) => self.open_file = Some(path),
            Action::AddFile(path) => {
                let path = path.trim().trim_start_matches("./").to_string();
                if !path.is_empty() {
                    self.files.entry(path.clone()).or_default();
                    self.open_file = Some(path);
                    self.plan = None;
                }
            }
            Action::Plan => self.plan = Some(self.make_plan()),
            Action::Apply => self.apply(),
            Action::Destroy => self.destroy(),
            Action::WriteData => self.write_data(),
            Action::Kill(address) => self.kill(address),
            Action::First => self.position = 0,
            Action::Previous => self.position = self.position.saturating_sub(1),
            Action::Next => {
                self.position = (self.position + 1).min(self.shown().events.len());
                if self.position == self.shown().events.len() {
                    self.playing = false;
                }
            }
            Action::Last => {
                self.position = self.shown().events.len();
                self.playing = false;
            }
            Action::Play => {
                if self.position >= self.shown().events.len() {
                    self.position = 0;
                }
                self.playing = !self.shown().events.is_empty();
            }
            Action::Pause => self.playing = false,
            Action::Return(index) => self.go_to(index),
            Action::Undo => self.go_to(self.cursor.saturating_sub(1)),
            Action::Redo => self.go_to(self.cursor + 1),
            Action::SetView(view) => self.view = view,
            Action::SetLang(lang) => self.lang = lang,
            Action::Lesson(id) => {
                let lesson = id.as_deref().and_then(lessons::find);
                match lesson {
                    Some(l) => self.load(Some(l), l.stack.to_string(), l.files()),
                    None => {
                        let l = &lessons::LESSONS[0];
                        self.load(None, l.stack.to_string(), l.files())
                    }
                }
            }
            Action::Scenario(s) => {
                self.lang = s.lang;
                let lesson = s.lesson.as_deref().and_then(lessons::find);
                self.load(lesson, s.stack, s.files);
            }
        }
    }

    /// The point of the history shown.
    pub fn shown(&self) -> &Snapshot {
        &self.history[self.cursor]
    }

    /// The scene at the replay's position.
    pub fn scene(&self) -> Scene {
        let shown = self.shown();
        shown.before.played(&shown.events[..self.position])
    }

    /// The scene once every event of the shown point is played.
    pub fn scene_end(&self) -> Scene {
        let shown = self.shown();
        shown.before.played(&shown.events)
    }

    /// The scenario to put in a link.
    pub fn scenario(&self) -> Scenario {
        Scenario {
            lesson: self.lesson.map(|l| l.id.to_string()),
            lang: self.lang,
            stack: self.stack_text.clone(),
            files: self.files.clone(),
        }
    }

    /// Whether the current lesson's goal is met by the shown sandbox.
    pub fn goal_met(&self) -> Option<bool> {
        let lesson = self.lesson?;
        let stack = self.parsed.as_ref().ok()?;
        Some((lesson.check)(&lessons::Progress {
            stack,
            sandbox: &self.shown().sandbox,
            history: &self.history[..=self.cursor],
        }))
    }

    /// The id of the lesson's data container now, and whether its data file is there.
    pub fn data(&self) -> Option<(String, bool)> {
        let data = self.lesson?.data.as_ref()?;
        let stack = self.parsed.as_ref().ok()?;
        let sandbox = &self.shown().sandbox;
        let id = sandbox
            .state(&stack.name)
            .resources
            .get(&quai_core::Address::container(data.container, 0))?
            .id
            .clone();
        let present = sandbox.read_file(&id, data.path).is_some();
        Some((id, present))
    }

    /// The build contexts of the parsed stack's images, from the page's files.
    pub fn contexts(&self) -> BTreeMap<String, Context> {
        let Ok(stack) = &self.parsed else {
            return BTreeMap::new();
        };
        contexts(stack, &self.files)
    }

    fn load(
        &mut self,
        lesson: Option<&'static Lesson>,
        stack: String,
        files: BTreeMap<String, String>,
    ) {
        self.lesson = lesson;
        self.stack_text = stack;
        self.files = files;
        self.open_file = self.files.keys().next().cloned();
        self.history.truncate(1);
        self.cursor = 0;
        self.position = 0;
        self.playing = false;
        self.plan = None;
        self.error = None;
        self.reparse();
    }

    fn reparse(&mut self) {
        self.parsed = stack::parse(&self.stack_text, STACK_FILE, FOLDER).map_err(|e| (&e).into());
    }

    fn desired(&self) -> Result<Desired, String> {
        let stack = self.parsed.as_ref().map_err(|e| e.rendered.clone())?;
        Ok(Desired {
            stack: stack.clone(),
            contexts: contexts(stack, &self.files),
        })
    }

    fn make_plan(&self) -> Result<Plan, String> {
        let desired = self.desired()?;
        self.shown()
            .sandbox
            .plan(&desired)
            .map_err(|e| e.to_string())
    }

    fn apply(&mut self) {
        let desired = match self.desired() {
            Ok(d) => d,
            Err(e) => {
                self.plan = Some(Err(e));
                return;
            }
        };
        self.run(Deed::Apply, &desired.contexts, |sandbox| {
            sandbox.plan(&desired).map_err(|e| e.to_string())
        });
    }

    fn destroy(&mut self) {
        let Ok(stack) = &self.parsed else { return };
        let name = stack.name.clone();
        self.run(Deed::Destroy, &BTreeMap::new(), |sandbox| {
            sandbox.destroy_plan(&name).map_err(|e| e.to_string())
        });
    }

    /// Plans on a copy of the shown sandbox (the copy is what the plan's serial is made
    /// against), applies there, and appends the result to the history (dropping what
    /// was after the shown point, as an editor's undo does).
    fn run(
        &mut self,
        deed: Deed,
        contexts: &BTreeMap<String, Context>,
        plan: impl FnOnce(&Sandbox) -> Result<Plan, String>,
    ) {
        let mut sandbox = self.shown().sandbox.clone();
        let plan = match plan(&sandbox) {
            Ok(plan) => plan,
            Err(e) => {
                self.plan = Some(Err(e));
                return;
            }
        };
        let before = self.scene_end().carried();
        match sandbox.apply(&plan, contexts) {
            Ok(Run { report, events }) => {
                self.history.truncate(self.cursor + 1);
                self.history.push(Rc::new(Snapshot {
                    deed,
                    sandbox,
                    plan: Some(plan.clone()),
                    events,
                    before,
                    failed: report
                        .failed
                        .iter()
                        .map(|(a, e)| (a.to_string(), e.clone()))
                        .collect(),
                }));
                self.cursor = self.history.len() - 1;
                self.position = 0;
                self.playing = true;
                self.error = None;
                self.plan = Some(Ok(plan));
            }
            Err(e) => self.error = Some(e.to_string()),
        }
    }

    fn write_data(&mut self) {
        let Some(data) = self.lesson.and_then(|l| l.data.as_ref()) else {
            return;
        };
        let Some((id, _)) = self.data() else {
            return;
        };
        let sandbox = self.shown().sandbox.clone();
        if let Err(e) = sandbox.write_file(&id, data.path, data.content.as_bytes()) {
            self.error = Some(e.to_string());
            return;
        }
        let before = self.scene_end().carried();
        self.history.truncate(self.cursor + 1);
        self.history.push(Rc::new(Snapshot {
            deed: Deed::Write { id },
            sandbox,
            plan: None,
            events: Vec::new(),
            before,
            failed: Vec::new(),
        }));
        self.cursor = self.history.len() - 1;
        self.position = 0;
        self.playing = false;
    }

    fn kill(&mut self, address: Address) {
        let Ok(stack) = &self.parsed else { return };
        let name = stack.name.clone();
        let sandbox = self.shown().sandbox.clone();
        let Some(id) = sandbox
            .state(&name)
            .resources
            .get(&address)
            .map(|r| r.id.clone())
        else {
            return;
        };
        let status = |s: &Sandbox| {
            s.observe_stack(&name)
                .ok()
                .and_then(|o| o.containers.get(&id).map(|c| (c.status, c.exit_code)))
        };
        let Some((from, _)) = status(&sandbox) else {
            return;
        };
        if let Err(e) = sandbox.kill(&id) {
            self.error = Some(e.to_string());
            return;
        }
        let Some((to, code)) = status(&sandbox) else {
            return;
        };
        // What the backend shows changed, told in core's words.
        let mut events = vec![Event::ContainerChanged {
            address: address.clone(),
            id: id.clone(),
            from: Some(from),
            to: ContainerStatus::Exited,
            exit_code: code.or(Some(crate::sandbox::SIGKILL_EXIT)),
        }];
        if to != ContainerStatus::Exited {
            events.push(Event::ContainerChanged {
                address: address.clone(),
                id,
                from: Some(ContainerStatus::Exited),
                to,
                exit_code: None,
            });
        }
        let before = self.scene_end().carried();
        self.history.truncate(self.cursor + 1);
        self.history.push(Rc::new(Snapshot {
            deed: Deed::Kill { address },
            sandbox,
            plan: None,
            events,
            before,
            failed: Vec::new(),
        }));
        self.cursor = self.history.len() - 1;
        self.position = 0;
        self.playing = true;
        self.plan = None;
    }

    fn go_to(&mut self, index: usize) {
        if index < self.history.len() {
            self.cursor = index;
            self.position = self.shown().events.len();
            self.playing = false;
            self.plan = None;
        }
    }
}

/// The build context of each built image of `stack`: the files under its folder.
pub fn contexts(stack: &Stack, files: &BTreeMap<String, String>) -> BTreeMap<String, Context> {
    let mut out = BTreeMap::new();
    for (name, spec) in &stack.images {
        if let ImageSpec::Build { context, .. } = spec {
            let prefix = context_prefix(context);
            let mut ctx = Context::new();
            for (path, text) in files {
                if let Some(rel) = path.strip_prefix(&prefix) {
                    ctx.insert(rel, text.as_bytes());
                }
            }
            out.insert(name.clone(), ctx);
        }
    }
    out
}

/// `web` → `web/`; `.` → `` (the stack's own folder).
pub fn context_prefix(context: &str) -> String {
    let c = context.trim_start_matches("./").trim_end_matches('/');
    if c.is_empty() || c == "." {
        String::new()
    } else {
        format!("{c}/")
    }
}

/// The files of the page that belong to `image`'s build context, for the editor tabs.
pub fn image_files<'a>(
    stack: &Stack,
    image: &str,
    files: &'a BTreeMap<String, String>,
) -> Vec<&'a str> {
    match stack.images.get(image) {
        Some(ImageSpec::Build { context, source }) => {
            let prefix = context_prefix(context);
            let mut out: Vec<&str> = files
                .keys()
                .filter(|p| p.starts_with(&prefix))
                .map(String::as_str)
                .collect();
            if let BuildSource::Dockerfile(_) = source {
                out.sort_by_key(|p| !p.ends_with("Dockerfile"));
            }
            out
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applied(store: &mut Store) {
        let before = store.history.len();
        store.reduce(Action::Apply);
        assert_eq!(store.error, None);
        assert!(
            matches!(store.plan, Some(Ok(_))),
            "plan failed: {:?}",
            store.plan.as_ref().and_then(|p| p.as_ref().err())
        );
        assert_eq!(
            store.history.len(),
            before + 1,
            "apply adds a point to the history"
        );
        assert!(
            store.shown().failed.is_empty(),
            "{:?}",
            store.shown().failed
        );
        store.reduce(Action::Last);
    }

    fn edit_stack(store: &mut Store, from: &str, to: &str) {
        assert!(store.stack_text.contains(from), "{from} not in the stack");
        let text = store.stack_text.replace(from, to);
        store.reduce(Action::EditStack(text));
        assert!(store.parsed.is_ok(), "{:?}", store.parsed.as_ref().err());
    }

    #[test]
    fn the_page_opens_on_the_first_lesson_with_nothing_applied() {
        let store = Store::new();
        assert_eq!(store.lesson.map(|l| l.id), Some("cache"));
        assert!(store.parsed.is_ok(), "{:?}", store.parsed.as_ref().err());
        assert_eq!(store.history.len(), 1);
        assert_eq!(store.goal_met(), Some(false));
        assert_eq!(store.lang, Lang::Fr);
    }

    #[test]
    fn a_stack_error_is_placed_at_its_line() {
        let mut store = Store::new();
        let text = store
            .stack_text
            .replace("image = \"web\"", "image = \"web\"\nreplicas = \"deux\"");
        store.reduce(Action::EditStack(text));
        let error = store.parsed.as_ref().unwrap_err();
        assert_eq!(error.line, Some(9), "{}", error.rendered);
        store.reduce(Action::Plan);
        assert!(matches!(store.plan, Some(Err(_))));
    }

    #[test]
    fn a_broken_build_context_is_reported_by_plan_and_apply_changes_nothing() {
        let mut store = Store::new();
        let dockerfile =
            store.files["web/Dockerfile"].replace("COPY . /app/", "COPY missing.txt /app/");
        store.reduce(Action::EditFile {
            path: "web/Dockerfile".into(),
            text: dockerfile,
        });
        store.reduce(Action::Plan);
        let error = store.plan.clone().unwrap().unwrap_err();
        assert!(error.contains("missing.txt"), "{error}");
        store.reduce(Action::Apply);
        assert!(matches!(store.plan, Some(Err(_))));
        assert_eq!(store.history.len(), 1, "nothing was applied");

        store.reduce(Action::AddFile("./web/missing.txt".into()));
        assert_eq!(store.open_file.as_deref(), Some("web/missing.txt"));
        store.reduce(Action::Plan);
        assert!(matches!(store.plan, Some(Ok(_))), "{:?}", store.plan);
    }

    #[test]
    fn apply_replays_step_by_step_and_history_goes_back() {
        let mut store = Store::new();
        store.reduce(Action::Plan);
        let plan = store.plan.clone().unwrap().unwrap();
        assert_eq!(plan.summary().create, 2, "image.web and container.web");

        store.reduce(Action::Apply);
        assert!(store.playing, "an apply starts playing");
        assert_eq!(store.position, 0);
        assert!(store.scene().containers.is_empty(), "nothing played yet");
        let total = store.shown().events.len();
        store.reduce(Action::Last);
        assert_eq!(store.position, total);
        let web = Address::container("web", 0);
        assert_eq!(
            store.scene().containers[&web].status,
            ContainerStatus::Running
        );

        store.reduce(Action::Previous);
        assert_eq!(store.position, total - 1);
        store.reduce(Action::First);
        store.reduce(Action::Next);
        assert_eq!(store.position, 1);

        store.reduce(Action::Destroy);
        store.reduce(Action::Last);
        assert!(!store.scene().containers.contains_key(&web));
        assert_eq!(store.history.len(), 3);

        store.reduce(Action::Undo);
        assert_eq!(store.cursor, 1);
        assert_eq!(
            store.scene().containers[&web].status,
            ContainerStatus::Running
        );
        store.reduce(Action::Return(0));
        assert!(store.scene().containers.is_empty());
        store.reduce(Action::Redo);
        assert_eq!(store.cursor, 1);

        // A new deed from an earlier point drops what came after it.
        store.reduce(Action::Destroy);
        assert_eq!(store.history.len(), 3);
        assert_eq!(store.cursor, 2);
    }

    #[test]
    fn the_cache_lesson_is_met_by_changing_the_app_not_package_json() {
        let mut store = Store::new();
        applied(&mut store);
        assert_eq!(
            store.goal_met(),
            Some(false),
            "a first build misses everywhere"
        );

        let js = store.files["web/package.json"].replace("4.19.0", "4.21.0");
        store.reduce(Action::EditFile {
            path: "web/package.json".into(),
            text: js,
        });
        applied(&mut store);
        assert_eq!(
            store.goal_met(),
            Some(false),
            "package.json changed: npm install reruns"
        );

        let js = store.files["web/server.js"].replace("Bonjour !", "Salut !");
        store.reduce(Action::EditFile {
            path: "web/server.js".into(),
            text: js,
        });
        applied(&mut store);
        assert_eq!(store.goal_met(), Some(true));
    }

    #[test]
    fn data_survives_a_replace_only_in_a_volume() {
        let mut store = Store::new();
        store.reduce(Action::Lesson(Some("volumes".into())));
        applied(&mut store);
        store.reduce(Action::WriteData);
        assert_eq!(store.data().map(|d| d.1), Some(true));

        edit_stack(&mut store, "DB_NAME = \"blog\"", "DB_NAME = \"blog2\"");
        applied(&mut store);
        assert_eq!(
            store.data().map(|d| d.1),
            Some(false),
            "the writable layer went with the container"
        );
        assert_eq!(store.goal_met(), Some(false));

        edit_stack(
            &mut store,
            "command = [\"mariadbd\"]",
            "command = [\"mariadbd\"]\nvolumes = [\"data:/var/lib/mysql\"]",
        );
        applied(&mut store);
        store.reduce(Action::WriteData);
        edit_stack(&mut store, "DB_NAME = \"blog2\"", "DB_NAME = \"blog3\"");
        applied(&mut store);
        assert_eq!(store.data().map(|d| d.1), Some(true), "the volume kept it");
        assert_eq!(store.goal_met(), Some(true));
    }

    #[test]
    fn lamp_tags_and_versions_lessons_are_met_as_the_texts_say() {
        let mut store = Store::new();
        store.reduce(Action::Lesson(Some("lamp".into())));
        assert_eq!(store.goal_met(), Some(false));
        applied(&mut store);
        assert_eq!(store.goal_met(), Some(true));

        store.reduce(Action::Lesson(Some("tags".into())));
        assert_eq!(
            store.history.len(),
            1,
            "a lesson starts from an empty sandbox"
        );
        applied(&mut store);
        assert_eq!(store.goal_met(), Some(true));

        store.reduce(Action::Lesson(Some("versions".into())));
        applied(&mut store);
        assert_eq!(store.goal_met(), Some(false));
        edit_stack(&mut store, "nginx:1.25", "nginx:1.27");
        applied(&mut store);
        assert_eq!(store.goal_met(), Some(true));
    }

    #[test]
    fn a_killed_container_shows_its_drift_and_apply_brings_it_back() {
        let mut store = Store::new();
        store.reduce(Action::Lesson(Some("restart".into())));
        applied(&mut store);
        let worker = Address::container("worker", 0);
        assert_eq!(
            store.scene().containers[&worker].status,
            ContainerStatus::Restarting,
            "exit 1 with restart on-failure"
        );
        assert_eq!(store.goal_met(), Some(false));

        let web = Address::container("web", 0);
        store.reduce(Action::Kill(web.clone()));
        store.reduce(Action::Last);
        assert_eq!(
            store.scene().containers[&web].status,
            ContainerStatus::Exited
        );
        assert_eq!(store.scene().containers[&web].exit_code, Some(137));

        store.reduce(Action::Plan);
        let plan = store.plan.clone().unwrap().unwrap();
        let change = plan.changes.iter().find(|c| c.address == web).unwrap();
        assert!(
            change
                .reasons
                .iter()
                .any(|r| matches!(r, quai_core::plan::Reason::Drift { .. })),
            "{:?}",
            change.reasons
        );
        applied(&mut store);
        assert_eq!(
            store.scene().containers[&web].status,
            ContainerStatus::Running
        );
        assert_eq!(store.goal_met(), Some(true));
    }

    #[test]
    fn a_scenario_brings_back_stack_files_lesson_and_language() {
        let mut store = Store::new();
        store.reduce(Action::Lesson(Some("lamp".into())));
        store.reduce(Action::SetLang(Lang::En));
        edit_stack(&mut store, "nginx:1.27", "nginx:1.25");
        let scenario = store.scenario();

        let mut other = Store::new();
        other.reduce(Action::Scenario(
            crate::link::decode(&crate::link::encode(&scenario)).unwrap(),
        ));
        assert_eq!(other.lesson.map(|l| l.id), Some("lamp"));
        assert_eq!(other.lang, Lang::En);
        assert!(other.stack_text.contains("nginx:1.25"));
    }

    #[test]
    fn contexts_hold_the_files_under_each_image_folder() {
        let store = Store::new();
        let contexts = store.contexts();
        let web = &contexts["web"];
        assert!(web.get("Dockerfile").is_some());
        assert!(web.get("server.js").is_some());
        assert_eq!(web.files.len(), 3);
        assert_eq!(context_prefix("./web/"), "web/");
        assert_eq!(context_prefix("."), "");
    }
}
