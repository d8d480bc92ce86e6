//! quai's own container runtime, end to end, as root: busybox bundles run through the
//! `quai runtime` command (spawning the binary keeps forks out of this multithreaded
//! test harness). Without root these tests print a notice and pass, except under CI
//! (which runs as root), where they fail. This module holds the harness; the tests are
//! in its submodules.

mod cgroup_v2;
mod console;
mod isolation;
mod lifecycle;
mod limits;
mod safety;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `quai` binary next to this test executable, brought up to date once per run
/// (`cargo test -p quai-tests` alone would not rebuild it).
fn quai() -> PathBuf {
    static BUILD: std::sync::Once = std::sync::Once::new();
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let bin = dir.join("quai");
    BUILD.call_once(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let built = Command::new(cargo)
            .args(["build", "-p", "quai"])
            .status()
            .is_ok_and(|s| s.success());
        assert!(built || bin.exists(), "cannot build the quai binary");
    });
    bin
}

/// Whether we may run: root, or a notice (and a failure under CI).
fn as_root(test: &str) -> bool {
    let uid = std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
        .unwrap();
    if uid == "0" {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{test} needs root, and CI runs as root"
    );
    eprintln!("notice: {test} skipped (needs root)");
    false
}

/// A bundle with a busybox rootfs built from the host's busybox-static, and its spec
/// written by `quai runtime spec`.
struct Bundle {
    dir: tempfile::TempDir,
    root: tempfile::TempDir,
}

impl Bundle {
    fn new(args: &[&str], spec_flags: &[&str]) -> Bundle {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("rootfs/bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::copy("/bin/busybox", bin.join("busybox")).unwrap();
        let list = Command::new("/bin/busybox").arg("--list").output().unwrap();
        for name in String::from_utf8(list.stdout).unwrap().lines() {
            if name != "busybox" {
                std::os::unix::fs::symlink("busybox", bin.join(name)).unwrap();
            }
        }
        for d in ["etc", "tmp", "root"] {
            std::fs::create_dir_all(dir.path().join("rootfs").join(d)).unwrap();
        }
        let bundle = Bundle {
            dir,
            root: tempfile::tempdir().unwrap(),
        };
        bundle.spec(args, spec_flags);
        bundle
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Rewrites config.json.
    fn spec(&self, args: &[&str], flags: &[&str]) {
        let out = Command::new(quai())
            .args(["runtime", "spec", "--bundle"])
            .arg(self.path())
            .args(flags)
            .arg("--")
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Edits config.json as JSON.
    fn edit(&self, f: impl FnOnce(&mut serde_json::Value)) {
        let path = self.path().join("config.json");
        let mut v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        f(&mut v);
        std::fs::write(&path, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    }

    /// `quai runtime VERB ... ` with this bundle's root folder.
    fn quai(&self, verb: &str, args: &[&str]) -> Output {
        Command::new(quai())
            .args(["runtime", verb, "--root"])
            .arg(self.root.path())
            .args(args)
            .output()
            .unwrap()
    }

    /// `quai runtime run` of this bundle.
    fn run(&self, id: &str) -> Output {
        let bundle = self.path().to_str().unwrap().to_string();
        self.quai("run", &["--bundle", &bundle, id])
    }
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The cgroup folders of container `id` on this host (v1, hybrid or v2).
fn cgroup_dirs(id: &str) -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::from(format!("/sys/fs/cgroup/quai/{id}"))];
    for ctrl in ["memory", "cpu", "pids"] {
        dirs.push(PathBuf::from(format!("/sys/fs/cgroup/{ctrl}/quai/{id}")));
    }
    dirs.into_iter().filter(|d| d.exists()).collect()
}

/// Polls `check` for up to five seconds.
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !check() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

impl Bundle {
    /// The OCI state of `id`, as JSON.
    fn state(&self, id: &str) -> serde_json::Value {
        let out = self.quai("state", &[id]);
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// `ps --json`, the entry of `id`.
    fn ps(&self, id: &str) -> serde_json::Value {
        let out = self.quai("ps", &["--json"]);
        let all: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
        all.into_iter().find(|c| c["id"] == id).expect("listed")
    }

    fn create(&self, id: &str) {
        let bundle = self.path().to_str().unwrap().to_string();
        let out = self.quai("create", &["--bundle", &bundle, id]);
        assert!(out.status.success(), "{}", stderr(&out));
    }

    fn ok(&self, verb: &str, args: &[&str]) -> String {
        let out = self.quai(verb, args);
        assert!(out.status.success(), "{verb} {args:?}: {}", stderr(&out));
        stdout(&out)
    }

    fn supervisor_pid(&self, id: &str) -> i32 {
        let record: serde_json::Value = serde_json::from_slice(
            &std::fs::read(self.root.path().join(id).join("state.json")).unwrap(),
        )
        .unwrap();
        record["supervisor"].as_i64().unwrap() as i32
    }
}

extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, signal: i32) -> i32;
}
