//! Each command on the sim backend: plan files, bad input, reading back, images,
//! locks, failures, logs, colour.

use std::fs;

use serde_json::Value;

use super::Quai;

// ---- plan files

#[test]
fn a_saved_plan_is_applied_as_is_and_refused_once_stale() {
    let q = Quai::new();
    let file = q.example("app");
    let file_s = file.to_str().unwrap();
    let planfile = q.work.path().join("app.plan");
    let planfile_s = planfile.to_str().unwrap();
    q.expect(0, &["plan", "-f", file_s, "--out", planfile_s]);
    // Applied without a question: it was reviewed when made.
    let applied = q.expect(0, &["apply", "-f", file_s, planfile_s]);
    assert!(applied.out.contains("Apply complete"), "{}", applied.out);
    // The same file again: the state moved on since.
    let stale = q.expect(3, &["apply", "-f", file_s, planfile_s]);
    assert!(stale.err.contains("stale plan"), "{}", stale.err);

    // A plan made, then the stack file edited: refused.
    q.expect(0, &["plan", "-f", file_s, "--out", planfile_s]);
    let text = fs::read_to_string(&file).unwrap();
    fs::write(&file, text.replace("pids = 50", "pids = 60")).unwrap();
    let stale = q.expect(3, &["apply", "-f", file_s, planfile_s]);
    assert!(stale.err.contains("stack file changed"), "{}", stale.err);

    // A plan made, then a build context edited: refused.
    q.expect(0, &["plan", "-f", file_s, "--out", planfile_s]);
    fs::write(file.parent().unwrap().join("api/index.html"), "{}").unwrap();
    let stale = q.expect(3, &["apply", "-f", file_s, planfile_s]);
    assert!(stale.err.contains("image `api`"), "{}", stale.err);
}

// ---- bad input

#[test]
fn a_bad_stack_file_is_shown_with_its_place_and_changes_nothing() {
    let q = Quai::new();
    let dir = q.work.path().join("bad");
    fs::create_dir_all(&dir).unwrap();
    let file = dir.join("stack.toml");
    fs::write(
        &file,
        "[containers.web]\nimage = \"busybox:1.36\"\nport = [\"8080:80\"]\n",
    )
    .unwrap();
    let file_s = file.to_str().unwrap();
    for args in [
        vec!["plan", "-f", file_s],
        vec!["apply", "-f", file_s, "-y"],
        vec!["destroy", "-f", file_s, "-y"],
    ] {
        let run = q.expect(1, &args);
        assert!(run.err.contains("stack.toml:3:"), "{}", run.err);
        assert!(
            run.err.contains("ports"),
            "suggests the known key: {}",
            run.err
        );
    }
    assert_eq!(q.world(), "", "nothing was written");
}

#[test]
fn a_missing_stack_file_is_named() {
    let q = Quai::new();
    let run = q.expect(1, &["plan", "-f", "/nonexistent/stack.toml"]);
    assert!(run.err.contains("/nonexistent/stack.toml"), "{}", run.err);
}

#[test]
fn an_image_the_sim_registry_lacks_is_named_with_those_it_holds() {
    let q = Quai::new();
    let dir = q.work.path().join("pg");
    fs::create_dir_all(&dir).unwrap();
    let file = dir.join("stack.toml");
    fs::write(&file, "[containers.db]\nimage = \"postgres:16\"\n").unwrap();
    let run = q.expect(1, &["plan", "-f", file.to_str().unwrap()]);
    assert!(
        run.err
            .contains("container.db: image `docker.io/library/postgres:16` is neither"),
        "{}",
        run.err
    );
    let help = run
        .err
        .lines()
        .find(|l| l.starts_with("  = help: the sim backend's registry holds "))
        .unwrap_or_else(|| panic!("no help line: {}", run.err));
    for held in ["alpine:3.20", "busybox:1.36", "debian:12", "nginx:1.27"] {
        assert!(help.contains(held), "{help}");
    }
}

// ---- reading back

#[test]
fn ps_inspect_state_and_graph_read_what_was_applied() {
    let q = Quai::new();
    let file = q.example("app");
    let file_s = file.to_str().unwrap();
    q.expect(0, &["apply", "-f", file_s, "-y"]);

    let ps = q.expect(0, &["ps", "-f", file_s]);
    let lines: Vec<&str> = ps.out.lines().collect();
    assert!(lines[0].starts_with("ADDRESS"), "{}", ps.out);
    assert_eq!(lines.len(), 4, "{}", ps.out);
    assert!(
        ps.out.contains("container.web") && ps.out.contains("8080->80/tcp"),
        "{}",
        ps.out
    );

    let memory = q.expect(
        0,
        &[
            "inspect",
            "--file",
            file_s,
            "container.db",
            "-f",
            "{{ .Config.Resources.Memory }}",
        ],
    );
    assert_eq!(memory.out, "134217728\n");
    let missing = q.expect(
        1,
        &[
            "inspect",
            "--file",
            file_s,
            "container.db",
            "-f",
            "{{ .Config.Resources.Memroy }}",
        ],
    );
    assert!(missing.err.contains("no field `Memroy`"), "{}", missing.err);
    let whole = q.expect(0, &["inspect", "--file", file_s, "container.api"]);
    let whole: Value = serde_json::from_str(&whole.out).unwrap();
    assert_eq!(whole["address"], "container.api");
    assert_eq!(whole["observed"]["status"], "running");

    let list = q.expect(0, &["state", "list", "-f", file_s]);
    for address in ["image.api", "volume.data", "network.back", "container.db"] {
        assert!(list.out.lines().any(|l| l == address), "{}", list.out);
    }
    let show = q.expect(0, &["state", "show", "-f", file_s, "network.back"]);
    assert!(show.out.contains("10.89.1.0"), "{}", show.out);
    let unknown = q.expect(1, &["state", "show", "-f", file_s, "container.nope"]);
    assert!(unknown.err.contains("not in the state"), "{}", unknown.err);

    let graph = q.expect(0, &["graph", "-f", file_s]);
    assert!(graph.out.starts_with("digraph \"app\""), "{}", graph.out);
    assert!(
        graph.out.contains("\"container.api\" -> \"container.db\""),
        "{}",
        graph.out
    );
    assert!(
        graph.out.contains("\"container.db\" -> \"volume.data\""),
        "{}",
        graph.out
    );
}

#[test]
fn images_lists_one_row_per_tag_and_history_its_layers() {
    let q = Quai::new();
    let file = q.example("app");
    let file_s = file.to_str().unwrap();
    q.expect(0, &["apply", "-f", file_s, "-y"]);
    let images = q.expect(0, &["images"]);
    let lines: Vec<&str> = images.out.lines().collect();
    assert!(lines[0].starts_with("REPOSITORY"), "{}", images.out);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("app/api") && l.contains("latest")),
        "{}",
        images.out
    );
    let history = q.expect(0, &["history", "app/api:latest"]);
    assert!(history.out.starts_with("LAYER"), "{}", history.out);
    assert!(
        history.out.contains("COPY server.sh /srv/"),
        "{}",
        history.out
    );
    let full = q.expect(0, &["images", "--no-trunc"]);
    assert!(full.out.contains("sha256:"), "{}", full.out);
    let unknown = q.expect(1, &["history", "nothing:here"]);
    assert!(unknown.err.contains("quai images"), "{}", unknown.err);
}

// ---- locks

#[test]
fn a_held_lock_stops_apply_and_names_its_holder() {
    use quai_core::state::StateStore;
    let q = Quai::new();
    let file = q.example("hello");
    let file_s = file.to_str().unwrap();
    let store = quai_core::state::file::FileStore::new(q.root.path().join("sim"));
    let _held = store
        .lock("hello", "apply", std::time::Duration::ZERO)
        .unwrap();
    let run = q.expect(1, &["apply", "-f", file_s, "-y", "--lock-timeout", "100ms"]);
    assert!(run.err.contains("locked"), "{}", run.err);
    assert!(
        run.err.contains(&format!("pid {}", std::process::id())),
        "{}",
        run.err
    );
    assert_eq!(q.world(), "", "nothing was applied");
}

#[test]
fn two_tags_of_one_image_are_two_rows_with_one_id() {
    let q = Quai::new();
    let dir = q.work.path().join("two");
    fs::create_dir_all(&dir).unwrap();
    let file = dir.join("stack.toml");
    fs::write(
        &file,
        "[containers.a]\nimage = \"busybox:1.36\"\n\n[containers.b]\nimage = \"busybox:1.36.1\"\n",
    )
    .unwrap();
    q.expect(0, &["apply", "-f", file.to_str().unwrap(), "-y"]);
    let images = q.expect(0, &["images"]);
    let rows: Vec<Vec<&str>> = images
        .out
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), 2, "{}", images.out);
    assert_eq!((rows[0][0], rows[0][1]), ("busybox", "1.36"));
    assert_eq!((rows[1][0], rows[1][1]), ("busybox", "1.36.1"));
    assert_eq!(rows[0][2], rows[1][2], "one image, one id:\n{}", images.out);
    insta::assert_snapshot!("two_tags_images", images.out);
}

#[test]
fn a_failed_step_is_listed_with_what_it_skipped_and_exits_1() {
    let q = Quai::new();
    let write = |name: &str, body: &str| {
        let dir = q.work.path().join(name);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("stack.toml"), body).unwrap();
        dir.join("stack.toml").display().to_string()
    };
    let first = write(
        "first",
        "[containers.web]\nimage = \"nginx:1.27\"\nports = [\"8080:80\"]\n",
    );
    let second = write(
        "second",
        "[containers.web]\nimage = \"nginx:1.27\"\nports = [\"8080:80\"]\n\n\
         [containers.probe]\nimage = \"busybox:1.36\"\ncommand = [\"sleep\", \"60\"]\ndepends_on = [\"web\"]\n",
    );
    q.expect(0, &["apply", "-f", &first, "-y"]);
    let failed = q.expect(1, &["apply", "-f", &second, "-y"]);
    assert!(failed.out.contains("Apply failed"), "{}", failed.out);
    assert!(
        failed
            .out
            .lines()
            .any(|l| l.starts_with("  container.web: ") && l.contains("8080")),
        "{}",
        failed.out
    );
    assert!(
        failed
            .out
            .contains("  container.probe: skipped, because container.web failed"),
        "{}",
        failed.out
    );
}

#[test]
fn logs_print_what_a_container_wrote() {
    let q = Quai::new();
    let file = q.example("hello");
    let file_s = file.to_str().unwrap();
    q.expect(0, &["apply", "-f", file_s, "-y"]);
    let logs = q.expect(0, &["logs", "--file", file_s, "container.hello"]);
    assert_eq!(logs.out, "hello from quai\n");
    let not_a_container = q.expect(1, &["logs", "--file", file_s, "volume.data"]);
    assert!(
        not_a_container.err.contains("not a container"),
        "{}",
        not_a_container.err
    );
}

#[test]
fn colour_only_when_allowed_and_not_turned_off() {
    let q = Quai::new();
    let file = q.example("hello");
    let file_s = file.to_str().unwrap();
    let run = |args: &[&str], colour: bool| {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = quai::run(
            q.args(args),
            &mut quai::Io {
                out: &mut out,
                err: &mut err,
                input: &mut &b""[..],
                colour,
            },
        );
        assert_eq!(code, 0);
        String::from_utf8(out).unwrap()
    };
    let painted = run(&["plan", "-f", file_s], true);
    assert!(
        painted.contains("\x1b[32m  + container.hello"),
        "{painted:?}"
    );
    assert!(!run(&["plan", "-f", file_s, "--no-color"], true).contains('\x1b'));
    assert!(!run(&["plan", "-f", file_s], false).contains('\x1b'));
    assert!(!run(&["plan", "-f", file_s, "--json"], true).contains('\x1b'));
}

#[test]
fn lock_timeout_waits_for_the_holder_to_let_go() {
    use quai_core::state::StateStore;
    let q = Quai::new();
    let file = q.example("hello");
    let file_s = file.to_str().unwrap();
    let store = quai_core::state::file::FileStore::new(q.root.path().join("sim"));
    let held = store
        .lock("hello", "apply", std::time::Duration::ZERO)
        .unwrap();
    std::thread::scope(|s| {
        s.spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            drop(held);
        });
        let run = q.expect(0, &["apply", "-f", file_s, "-y", "--lock-timeout", "20s"]);
        assert!(run.out.contains("Apply complete"), "{}", run.out);
    });
}

#[test]
fn ps_tells_containers_removed_outside_quai_and_containers_the_state_forgot() {
    use quai_core::address::Address;
    use quai_core::backend::sim::SimBackend;
    use quai_core::state::file::FileStore;
    use quai_core::state::StateStore;

    let q = Quai::new();
    let file = q.example("app");
    let file_s = file.to_str().unwrap();
    q.expect(0, &["apply", "-f", file_s, "-y"]);
    let sim_dir = q.root.path().join("sim");
    let store = FileStore::new(&sim_dir);

    // container.web removed behind quai's back.
    let web = store.read("app").unwrap().resources[&Address::container("web", 0)]
        .id
        .clone();
    let world = sim_dir.join("world.json");
    let sim = SimBackend::from_json(&fs::read_to_string(&world).unwrap()).unwrap();
    sim.remove_outside(&web).unwrap();
    fs::write(&world, sim.to_json()).unwrap();

    // container.db forgotten by the state (as after an interrupted apply).
    {
        let mut lock = store
            .lock("app", "test", std::time::Duration::ZERO)
            .unwrap();
        let mut state = lock.load().unwrap();
        state.resources.remove(&Address::container("db", 0));
        lock.save(&mut state).unwrap();
    }

    let ps = q.expect(0, &["ps", "-f", file_s]);
    let row = |address: &str| {
        ps.out
            .lines()
            .find(|l| l.starts_with(&format!("{address} ")))
            .unwrap_or_else(|| panic!("no row for {address}:\n{}", ps.out))
            .to_string()
    };
    assert!(row("container.web").contains("missing"), "{}", ps.out);
    assert!(
        row("container.db").contains("running (not in the state)"),
        "{}",
        ps.out
    );
    let summary = q.expect(
        0,
        &[
            "inspect",
            "--file",
            file_s,
            "container.web",
            "-f",
            "{{ .Observed.Summary }}",
        ],
    );
    assert_eq!(summary.out, "missing\n");
    let plan = q.expect(2, &["plan", "-f", file_s, "--detailed-exitcode"]);
    assert!(plan.out.contains("removed outside quai"), "{}", plan.out);
}

#[test]
fn ps_and_images_speak_json_too() {
    let q = Quai::new();
    let file = q.example("app");
    let file_s = file.to_str().unwrap();
    q.expect(0, &["apply", "-f", file_s, "-y"]);
    let ps: Value =
        serde_json::from_str(&q.expect(0, &["ps", "-f", file_s, "--json"]).out).unwrap();
    let rows = ps.as_array().unwrap();
    assert_eq!(rows.len(), 3, "{ps:#}");
    assert!(rows.iter().all(|r| r["status"] == "running"), "{ps:#}");
    assert_eq!(rows[2]["address"], "container.web");
    assert_eq!(rows[2]["ports"], "8080->80/tcp");
    let images: Value = serde_json::from_str(&q.expect(0, &["images", "--json"]).out).unwrap();
    assert!(
        images
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["tags"] == serde_json::json!(["app/api:latest"])),
        "{images:#}"
    );
}
