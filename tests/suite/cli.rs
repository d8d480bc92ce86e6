//! The `quai` command line end to end on the sim backend, each test in its own quai
//! root: the book's examples (apply, plan again: nothing to do, destroy keeps volumes),
//! the layer cache scenario, plan files, bad input, locks, prompts and exit codes.
//! Most tests run quai in-process (`quai::run`); a few spawn the real binary.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use serde_json::Value;

/// What one run of quai printed and returned.
#[derive(Debug)]
struct Run {
    code: i32,
    out: String,
    err: String,
}

/// A quai root of its own, and the folder the examples are copied into.
struct Quai {
    root: tempfile::TempDir,
    work: tempfile::TempDir,
}

impl Quai {
    fn new() -> Quai {
        Quai {
            root: tempfile::tempdir().unwrap(),
            work: tempfile::tempdir().unwrap(),
        }
    }

    /// Copies `book/examples/NAME` into the work folder; returns its stack file.
    fn example(&self, name: &str) -> PathBuf {
        let from = repo().join("book/examples").join(name);
        let to = self.work.path().join(name);
        copy_dir(&from, &to);
        to.join("stack.toml")
    }

    fn args<'a>(&'a self, args: &[&'a str]) -> Vec<String> {
        let mut all = vec![
            "quai".to_string(),
            "--backend".into(),
            "sim".into(),
            "--root".into(),
            self.root.path().display().to_string(),
        ];
        all.extend(args.iter().map(|a| a.to_string()));
        all
    }

    /// Runs quai in-process with `input` on its standard input.
    fn run_with(&self, args: &[&str], input: &str) -> Run {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut input = input.as_bytes();
        let code = quai::run(
            self.args(args),
            &mut quai::Io {
                out: &mut out,
                err: &mut err,
                input: &mut input,
                colour: false,
            },
        );
        Run {
            code,
            out: String::from_utf8(out).unwrap(),
            err: String::from_utf8(err).unwrap(),
        }
    }

    fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, "")
    }

    /// Runs quai, expecting exit code `code`.
    fn expect(&self, code: i32, args: &[&str]) -> Run {
        let run = self.run(args);
        assert_eq!(run.code, code, "quai {args:?}\n{run:#?}");
        run
    }

    /// Runs the real binary, with `input` on its standard input.
    fn spawn(&self, args: &[&str], input: Option<&str>) -> Run {
        let mut child = Command::new(binary())
            .args(&self.args(args)[1..])
            .env_remove("QUAI_BACKEND")
            .env_remove("QUAI_ROOT")
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(input) = input {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        let output = child.wait_with_output().unwrap();
        Run {
            code: output.status.code().unwrap_or(-1),
            out: String::from_utf8(output.stdout).unwrap(),
            err: String::from_utf8(output.stderr).unwrap(),
        }
    }

    fn world(&self) -> String {
        fs::read_to_string(self.root.path().join("sim/world.json")).unwrap_or_default()
    }
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The `quai` binary, built once (fresh) for the tests that spawn it.
fn binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let status = Command::new(env!("CARGO"))
            .args(["build", "--quiet", "-p", "quai", "--bin", "quai"])
            .current_dir(repo())
            .status()
            .expect("cargo runs");
        assert!(status.success(), "cargo build -p quai failed");
        // The test executable is target/debug/deps/suite-…; the binary target/debug/quai.
        let exe = std::env::current_exe().unwrap();
        let dir = exe.parent().unwrap().parent().unwrap();
        let binary = dir.join(format!("quai{}", std::env::consts::EXE_SUFFIX));
        assert!(binary.exists(), "{} is missing", binary.display());
        binary
    })
}

// ---------------------------------------------------------------- the examples

/// apply -y, then nothing left to do, then destroy keeps the volumes.
fn round_trip(example: &str, volumes: &[&str]) {
    let q = Quai::new();
    let file = q.example(example);
    let file = file.to_str().unwrap();
    q.expect(2, &["plan", "-f", file, "--detailed-exitcode"]);
    let apply = q.expect(0, &["apply", "-f", file, "-y"]);
    assert!(apply.out.contains("Apply complete"), "{}", apply.out);
    q.expect(0, &["plan", "-f", file, "--detailed-exitcode"]);
    let destroy = q.expect(0, &["destroy", "-f", file, "-y"]);
    assert!(destroy.out.contains("Destroy complete"), "{}", destroy.out);
    let world = q.world();
    for volume in volumes {
        assert!(
            world.contains(volume),
            "volume {volume} should survive destroy"
        );
    }
    let ps = q.expect(0, &["ps", "-f", file]);
    assert_eq!(
        ps.out.lines().count(),
        1,
        "only the header is left:\n{}",
        ps.out
    );
}

#[test]
fn example_hello_applies_converges_and_destroys() {
    round_trip("hello", &[]);
}

#[test]
fn example_app_applies_converges_and_destroys_keeping_its_volume() {
    round_trip("app", &["app_data"]);
}

#[test]
fn example_cache_applies_converges_and_destroys() {
    round_trip("cache", &[]);
}

#[test]
fn destroy_with_volumes_deletes_them() {
    let q = Quai::new();
    let file = q.example("app");
    let file = file.to_str().unwrap();
    q.expect(0, &["apply", "-f", file, "-y"]);
    assert!(q.world().contains("app_data"));
    q.expect(0, &["destroy", "-f", file, "-y", "--volumes"]);
    assert!(!q.world().contains("app_data"), "{}", q.world());
}

// ---------------------------------------------------------------- the layer cache

/// The course's scenario: change package.json and exactly the steps from
/// `COPY package.json` on are rebuilt, the first because its content changed.
#[test]
fn editing_package_json_rebuilds_from_its_copy_on() {
    let q = Quai::new();
    let file = q.example("cache");
    let file_s = file.to_str().unwrap();
    q.expect(0, &["apply", "-f", file_s, "-y"]);
    let package = file.parent().unwrap().join("app/package.json");
    let text = fs::read_to_string(&package).unwrap();
    fs::write(&package, text.replace("^4.19.2", "^4.21.0")).unwrap();

    let plan = q.expect(0, &["plan", "-f", file_s, "--json"]);
    let plan: Value = serde_json::from_str(&plan.out).unwrap();
    let image = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "image.app")
        .expect("image.app in the plan");
    let steps: Vec<(String, String, Value)> = image["build"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["step"]["instruction"].as_str().unwrap().to_string(),
                s["prediction"]["cache"].as_str().unwrap().to_string(),
                s["prediction"]["reason"].clone(),
            )
        })
        .collect();
    let first_miss = steps.iter().position(|s| s.1 == "miss").expect("a miss");
    assert!(
        steps[first_miss].0.starts_with("COPY package.json"),
        "{steps:#?}"
    );
    assert!(
        steps[..first_miss].iter().all(|s| s.1 == "hit"),
        "{steps:#?}"
    );
    assert!(
        steps[first_miss..].iter().all(|s| s.1 == "miss"),
        "{steps:#?}"
    );
    assert_eq!(
        steps[first_miss].2,
        serde_json::json!({"why": "content_changed", "files": ["package.json"]})
    );

    let text = q.expect(2, &["plan", "-f", file_s, "--detailed-exitcode"]);
    assert!(
        text.out.contains("content changed (package.json)"),
        "{}",
        text.out
    );
}

// ---------------------------------------------------------------- plan files

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

// ---------------------------------------------------------------- bad input

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

// ---------------------------------------------------------------- reading back

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

// ---------------------------------------------------------------- locks

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

// ---------------------------------------------------------------- the binary

#[test]
fn the_binary_asks_before_applying_and_only_yes_goes_on() {
    let q = Quai::new();
    let file = q.example("hello");
    let file_s = file.to_str().unwrap();

    let refused = q.spawn(&["apply", "-f", file_s], Some("no\n"));
    assert_eq!(refused.code, 1, "{refused:#?}");
    assert!(
        refused
            .out
            .contains("Apply these changes? Only 'yes' is accepted:"),
        "{}",
        refused.out
    );
    let closed = q.spawn(&["apply", "-f", file_s], None);
    assert_eq!(closed.code, 1, "{closed:#?}");
    assert!(closed.err.contains("-y"), "{}", closed.err);
    assert_eq!(
        q.spawn(&["plan", "-f", file_s, "--detailed-exitcode"], None)
            .code,
        2,
        "nothing was applied"
    );

    let accepted = q.spawn(&["apply", "-f", file_s], Some("yes\n"));
    assert_eq!(accepted.code, 0, "{accepted:#?}");
    assert!(
        accepted.out.contains("container.hello: creating…"),
        "{}",
        accepted.out
    );
    assert_eq!(
        q.spawn(&["plan", "-f", file_s, "--detailed-exitcode"], None)
            .code,
        0
    );
}

#[test]
fn the_binary_documents_its_exit_codes_and_refuses_bad_usage_with_1() {
    let q = Quai::new();
    let help = q.spawn(&["--help"], None);
    assert_eq!(help.code, 0);
    assert!(help.out.contains("Exit codes:"), "{}", help.out);
    assert!(help.out.contains("stale plan"), "{}", help.out);
    let bad = q.spawn(&["plan", "--no-such-flag"], None);
    assert_eq!(bad.code, 1, "usage errors must not look like `changes` (2)");
}

#[test]
fn the_linux_backend_points_to_the_sim_backend_when_unavailable() {
    let q = Quai::new();
    let file = q.example("hello");
    let run = q.run(&["--backend", "linux", "plan", "-f", file.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(run.err.contains("--backend sim"), "{}", run.err);
}

#[test]
fn completions_are_printed_for_a_shell() {
    let q = Quai::new();
    let run = q.expect(0, &["completions", "bash"]);
    assert!(run.out.contains("_quai()"), "{}", run.out);
}

// ---------------------------------------------------------------- transcripts

/// What the book shows: the plan, the apply's progress, ps and images, for `app`.
#[test]
fn transcript_of_the_app_example() {
    let q = Quai::new();
    let file = q.example("app");
    let file_s = file.to_str().unwrap();
    insta::assert_snapshot!("app_plan", q.expect(0, &["plan", "-f", file_s]).out);
    insta::assert_snapshot!(
        "app_apply",
        q.expect(0, &["apply", "-f", file_s, "-y", "--parallelism", "1"])
            .out
    );
    insta::assert_snapshot!("app_ps", q.expect(0, &["ps", "-f", file_s]).out);
    insta::assert_snapshot!("app_images", q.expect(0, &["images"]).out);
    insta::assert_snapshot!(
        "app_destroy",
        q.expect(0, &["destroy", "-f", file_s, "-y", "--parallelism", "1"])
            .out
    );
}

/// What the book shows for the cache: the plan after package.json changed.
#[test]
fn transcript_of_the_cache_example_after_editing_package_json() {
    let q = Quai::new();
    let file = q.example("cache");
    let file_s = file.to_str().unwrap();
    q.expect(0, &["apply", "-f", file_s, "-y"]);
    let package = file.parent().unwrap().join("app/package.json");
    let text = fs::read_to_string(&package).unwrap();
    fs::write(&package, text.replace("^4.19.2", "^4.21.0")).unwrap();
    insta::assert_snapshot!(
        "cache_plan_after_package_json",
        q.expect(0, &["plan", "-f", file_s]).out
    );
    insta::assert_snapshot!(
        "cache_apply_after_package_json",
        q.expect(0, &["apply", "-f", file_s, "-y", "--parallelism", "1"])
            .out
    );
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
