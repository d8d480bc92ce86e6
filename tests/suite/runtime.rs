//! quai's own container runtime, end to end, as root: busybox bundles run through the
//! `quai runtime` command (spawning the binary keeps forks out of this multithreaded
//! test harness). Without root these tests print a notice and pass, except under CI
//! (which runs as root), where they fail.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `quai` binary next to this test executable, built if missing.
fn quai() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let bin = dir.join("quai");
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-p", "quai"])
            .status()
            .unwrap();
        assert!(status.success(), "cannot build the quai binary");
    }
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

#[test]
fn runtime_run_prints_its_own_pid_1_and_hostname() {
    if !as_root("runtime_run_prints_its_own_pid_1_and_hostname") {
        return;
    }
    let b = Bundle::new(
        &[
            "sh",
            "-c",
            "echo pid=$$ host=$(hostname) user=$(id -u) cwd=$(pwd)",
        ],
        &["--hostname", "quai-box"],
    );
    let out = b.run("hello");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "pid=1 host=quai-box user=0 cwd=/\n");
    // The container's records are gone once it exited.
    assert!(!b.root.path().join("hello").exists());
}

#[test]
fn runtime_run_returns_the_programs_exit_code() {
    if !as_root("runtime_run_returns_the_programs_exit_code") {
        return;
    }
    let b = Bundle::new(&["sh", "-c", "exit 7"], &[]);
    assert_eq!(b.run("seven").status.code(), Some(7));
}

#[test]
fn runtime_run_applies_env_cwd_user_groups_and_rlimits() {
    if !as_root("runtime_run_applies_env_cwd_user_groups_and_rlimits") {
        return;
    }
    let b = Bundle::new(
        &[
            "sh",
            "-c",
            "echo $GREETING; pwd; id -u; id -g; id -G; ulimit -n; grep CapEff /proc/self/status",
        ],
        &[],
    );
    b.edit(|v| {
        let p = &mut v["process"];
        p["env"]
            .as_array_mut()
            .unwrap()
            .push("GREETING=bonjour".into());
        p["cwd"] = "/tmp".into();
        p["user"] = serde_json::json!({"uid": 1000, "gid": 1000, "additionalGids": [10, 20]});
        p["rlimits"] = serde_json::json!([{"type": "RLIMIT_NOFILE", "hard": 77, "soft": 77}]);
    });
    let out = b.run("env");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "bonjour\n/tmp\n1000\n1000\n1000 10 20\n77\nCapEff:\t0000000000000000\n"
    );
}

#[test]
fn runtime_same_bundle_same_output_under_runc() {
    if !as_root("runtime_same_bundle_same_output_under_runc") {
        return;
    }
    if Command::new("runc").arg("--version").output().is_err() {
        assert!(std::env::var_os("CI").is_none(), "runc is installed in CI");
        eprintln!("notice: runc not installed, comparison skipped");
        return;
    }
    let script = "echo pid=$$ host=$(hostname); ls /; ls /dev; grep Cap /proc/self/status; \
                  id; cat /proc/kcore 2>&1 | head -c 0; ls /proc/acpi 2>&1; mount | wc -l; \
                  touch /sys/x 2>&1; echo ok > /tmp/f; cat /tmp/f; ulimit -n";
    let b = Bundle::new(&["sh", "-c", script], &["--hostname", "same"]);
    let ours = b.run("same-quai");
    let runc_root = tempfile::tempdir().unwrap();
    let theirs = Command::new("runc")
        .arg("--root")
        .arg(runc_root.path())
        .args(["run", "--bundle"])
        .arg(b.path())
        .arg("same-runc")
        .output()
        .unwrap();
    assert_eq!(
        ours.status.code(),
        theirs.status.code(),
        "{}",
        stderr(&ours)
    );
    assert_eq!(stdout(&ours), stdout(&theirs));
    assert!(stdout(&ours).starts_with("pid=1 host=same\n"));
}
