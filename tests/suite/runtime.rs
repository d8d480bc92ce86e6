//! quai's own container runtime, end to end, as root: busybox bundles run through the
//! `quai runtime` command (spawning the binary keeps forks out of this multithreaded
//! test harness). Without root these tests print a notice and pass, except under CI
//! (which runs as root), where they fail.

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

/// The cgroup folders of container `id` on this host (v1, hybrid or v2).
fn cgroup_dirs(id: &str) -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::from(format!("/sys/fs/cgroup/quai/{id}"))];
    for ctrl in ["memory", "cpu", "pids"] {
        dirs.push(PathBuf::from(format!("/sys/fs/cgroup/{ctrl}/quai/{id}")));
    }
    dirs.into_iter().filter(|d| d.exists()).collect()
}

#[test]
fn runtime_memory_hog_is_oom_killed_and_reported() {
    if !as_root("runtime_memory_hog_is_oom_killed_and_reported") {
        return;
    }
    let hog = r#"x=$(head -c 200000000 /dev/zero | tr "\0" a); echo survived"#;
    let b = Bundle::new(&["sh", "-c", hog], &["--memory", "33554432"]);
    let out = b.run("hog");
    assert_eq!(out.status.code(), Some(137), "{}", stderr(&out));
    assert!(!stdout(&out).contains("survived"));
    assert!(
        stderr(&out).contains("out of memory (OOM)"),
        "{}",
        stderr(&out)
    );
    assert!(cgroup_dirs("hog").is_empty());
}

#[test]
fn runtime_fork_bomb_is_held_by_the_pids_limit() {
    if !as_root("runtime_fork_bomb_is_held_by_the_pids_limit") {
        return;
    }
    // A bomb forks sleepers without end in the background; ten processes are allowed.
    // The count is taken with shell builtins only, which need no fork.
    let bomb = "(while true; do sleep 3 & done) 2>/dev/null & sleep 1; \
                set -- /proc/[0-9]*; echo procs=$#";
    let b = Bundle::new(&["sh", "-c", bomb], &["--pids", "10"]);
    let out = b.run("bomb");
    assert!(out.status.success(), "{}", stderr(&out));
    let procs: usize = stdout(&out)
        .trim()
        .strip_prefix("procs=")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{}", stdout(&out)));
    assert!((5..=10).contains(&procs), "{procs} processes");
    assert!(cgroup_dirs("bomb").is_empty());
}

#[test]
fn runtime_limits_land_in_the_cgroup_which_is_removed_after() {
    if !as_root("runtime_limits_land_in_the_cgroup_which_is_removed_after") {
        return;
    }
    let b = Bundle::new(
        &["sh", "-c", "cat /proc/self/cgroup; sleep 1"],
        &["--cpus", "0.5", "--pids", "30", "--memory", "67108864"],
    );
    let bundle = b.path().to_str().unwrap().to_string();
    let child = Command::new(quai())
        .args(["runtime", "run", "--root"])
        .arg(b.root.path())
        .args(["--bundle", &bundle, "limits"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while cgroup_dirs("limits").is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let v2 = Path::new("/sys/fs/cgroup/quai/limits/cgroup.procs").exists();
    let read = |v1: &str, v2file: &str| {
        let path = if v2 {
            format!("/sys/fs/cgroup/quai/limits/{v2file}")
        } else {
            format!("/sys/fs/cgroup/{v1}")
        };
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    };
    // The folders appear before the limits are written: wait for the last one.
    eventually("the pids limit", || {
        let path = if v2 {
            "/sys/fs/cgroup/quai/limits/pids.max"
        } else {
            "/sys/fs/cgroup/pids/quai/limits/pids.max"
        };
        std::fs::read_to_string(path).is_ok_and(|s| s == "30\n")
    });
    if v2 {
        assert_eq!(read("", "cpu.max"), "50000 100000\n");
        assert_eq!(read("", "pids.max"), "30\n");
        assert_eq!(read("", "memory.max"), "67108864\n");
    } else {
        assert_eq!(read("cpu/quai/limits/cpu.cfs_quota_us", ""), "50000\n");
        assert_eq!(read("pids/quai/limits/pids.max", ""), "30\n");
        assert_eq!(
            read("memory/quai/limits/memory.limit_in_bytes", ""),
            "67108864\n"
        );
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(stdout(&out).contains("/quai/limits"), "{}", stdout(&out));
    assert!(
        cgroup_dirs("limits").is_empty(),
        "{:?}",
        cgroup_dirs("limits")
    );
}

#[test]
fn runtime_container_cannot_see_host_processes_or_files() {
    if !as_root("runtime_container_cannot_see_host_processes_or_files") {
        return;
    }
    let marker = tempfile::NamedTempFile::new_in("/tmp").unwrap();
    let script = format!(
        "set -- /proc/[0-9]*; echo procs=$#; ls {} 2>&1 >/dev/null | wc -l; ls /proc/1/root/",
        marker.path().display()
    );
    let b = Bundle::new(&["sh", "-c", &script], &[]);
    let out = b.run("see");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "procs=1\n1\nbin\ndev\netc\nproc\nroot\nsys\ntmp\n"
    );
}

#[test]
fn runtime_refuses_to_run_its_own_binary_inside() {
    if !as_root("runtime_refuses_to_run_its_own_binary_inside") {
        return;
    }
    // CVE-2019-5736: /proc/self/exe in the init is the runtime; executing it would hand
    // the container a handle on the host's binary.
    let before = std::fs::read(quai()).unwrap();
    let b = Bundle::new(&["/proc/self/exe"], &[]);
    let out = b.run("selfexe");
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("runtime's own binary"),
        "{}",
        stderr(&out)
    );
    assert!(std::fs::read(quai()).unwrap() == before);
    // And a runtime process in the container is not dumpable: its exe link cannot be
    // opened from inside. The init is the runtime until exec; a program exec'd by it
    // sees only itself.
    let b = Bundle::new(&["sh", "-c", "readlink /proc/1/exe"], &[]);
    let out = b.run("exe");
    assert_eq!(stdout(&out), "/bin/busybox\n");
    // While `exec` works in the container, no process inside can reach the runtime's
    // binary through /proc: every exe link seen from inside is the container's own.
    b.spec(&["sleep", "30"], &[]);
    b.create("exe2");
    b.ok("start", &["exe2"]);
    let out = b.quai(
        "exec",
        &[
            "exe2",
            "--",
            "sh",
            "-c",
            "for p in /proc/[0-9]*; do readlink $p/exe; done",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let links = stdout(&out);
    assert!(!links.is_empty());
    assert!(links.lines().all(|l| l == "/bin/busybox"), "{links}");
    b.ok("delete", &["--force", "exe2"]);
}

#[test]
fn runtime_closes_host_fds_and_refuses_a_cwd_in_proc_fd() {
    if !as_root("runtime_closes_host_fds_and_refuses_a_cwd_in_proc_fd") {
        return;
    }
    // CVE-2024-21626: a host descriptor left open, then reached through the cwd.
    let b = Bundle::new(&["ls", "/proc/self/fd"], &[]);
    let bundle = b.path().to_str().unwrap().to_string();
    let leak = |id: &str| {
        Command::new("sh")
            .arg("-c")
            .arg(r#"exec 7</etc/hostname 8</sys/fs/cgroup; exec "$@""#)
            .arg("sh")
            .arg(quai())
            .args(["runtime", "run", "--root"])
            .arg(b.root.path())
            .args(["--bundle", &bundle, id])
            .output()
            .unwrap()
    };
    let out = leak("fds");
    assert!(out.status.success(), "{}", stderr(&out));
    // ls sees its stdio and the folder it reads, nothing of the host.
    assert_eq!(stdout(&out), "0\n1\n2\n3\n");
    for cwd in ["/proc/self/fd/8", "/proc/1/fd/7", "/proc/thread-self/fd/8"] {
        b.edit(|v| v["process"]["cwd"] = cwd.into());
        let out = leak("cwd");
        assert_ne!(out.status.code(), Some(0), "cwd {cwd} accepted");
        assert!(stderr(&out).contains("refused"), "{}", stderr(&out));
    }
}

#[test]
fn runtime_masks_and_protects_the_specs_paths() {
    if !as_root("runtime_masks_and_protects_the_specs_paths") {
        return;
    }
    let script = "ls /sys/firmware | wc -l; wc -c < /proc/timer_list; \
                  echo x > /proc/sysrq-trigger 2>/dev/null || echo ro; \
                  echo q > /proc/sys/kernel/domainname 2>/dev/null || echo ro2; \
                  touch /sys/x 2>/dev/null || echo ro3";
    let b = Bundle::new(&["sh", "-c", script], &[]);
    let out = b.run("masked");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "0\n0\nro\nro2\nro3\n");
}

#[test]
fn runtime_refuses_a_mount_through_a_symlink_out_of_the_rootfs() {
    if !as_root("runtime_refuses_a_mount_through_a_symlink_out_of_the_rootfs") {
        return;
    }
    let host = tempfile::tempdir().unwrap();
    let b = Bundle::new(&["true"], &[]);
    std::os::unix::fs::symlink(host.path(), b.path().join("rootfs/evil")).unwrap();
    std::os::unix::fs::symlink("../../..", b.path().join("rootfs/tmp/up")).unwrap();
    for destination in ["/evil", "/tmp/up/x"] {
        b.edit(|v| {
            v["mounts"].as_array_mut().unwrap().push(
                serde_json::json!({"destination": destination, "type": "tmpfs", "source": "tmpfs"}),
            );
        });
        let out = b.run("evil");
        assert_ne!(out.status.code(), Some(0), "{destination} accepted");
        assert!(
            stderr(&out).contains("out of the rootfs"),
            "{}",
            stderr(&out)
        );
        b.edit(|v| {
            v["mounts"].as_array_mut().unwrap().pop();
        });
    }
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains(host.path().to_str().unwrap()));
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

#[test]
fn runtime_create_start_exec_kill_delete() {
    if !as_root("runtime_create_start_exec_kill_delete") {
        return;
    }
    let b = Bundle::new(
        &["sh", "-c", "echo hello; echo oops >&2; exec sleep 30"],
        &["--hostname", "life", "--pids", "50"],
    );
    let pid_file = b.path().join("pid");
    let bundle = b.path().to_str().unwrap().to_string();
    let out = b.quai(
        "create",
        &[
            "--bundle",
            &bundle,
            "--pid-file",
            pid_file.to_str().unwrap(),
            "life",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let state = b.state("life");
    assert_eq!(state["status"], "created");
    assert_eq!(state["ociVersion"], "1.0.2");
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    assert_eq!(state["pid"].to_string(), pid);
    // Created: nothing ran yet.
    assert_eq!(b.ok("logs", &["life"]), "");
    b.ok("start", &["life"]);
    assert_eq!(b.state("life")["status"], "running");
    eventually("the first lines", || b.ok("logs", &["life"]) == "hello\n");
    let out = b.quai("logs", &["--timestamps", "life"]);
    assert!(stderr(&out).contains("Z oops\n"), "{}", stderr(&out));
    // exec joins its namespaces: same hostname, sees its pid 1, its cgroup.
    let out = b.quai(
        "exec",
        &[
            "life",
            "--",
            "sh",
            "-c",
            "hostname; cat /proc/1/cmdline; echo; exit 4",
        ],
    );
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert_eq!(stdout(&out), "life\nsleep\u{0}30\u{0}\n");
    // A second start is refused; a running container is not deleted without --force.
    assert!(!b.quai("start", &["life"]).status.success());
    assert!(!b.quai("delete", &["life"]).status.success());
    b.ok("kill", &["life", "KILL"]);
    eventually("stopped", || b.state("life")["status"] == "stopped");
    let entry = b.ps("life");
    assert_eq!(entry["exit_code"], 137);
    assert!(!b
        .quai("kill", &["life", "--signal", "TERM"])
        .status
        .success());
    b.ok("delete", &["life"]);
    assert!(!b.root.path().join("life").exists());
    assert!(cgroup_dirs("life").is_empty());
    assert!(!b.quai("state", &["life"]).status.success());
}

#[test]
fn runtime_supervisor_restarts_on_failure_with_backoff() {
    if !as_root("runtime_supervisor_restarts_on_failure_with_backoff") {
        return;
    }
    let b = Bundle::new(
        &["sh", "-c", "echo run; exit 3"],
        &["--annotation", "org.quai.restart=on-failure"],
    );
    b.create("again");
    b.ok("start", &["again"]);
    // Backoff 100, 200, 400 ms: four runs within a second and a half, not forty.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let runs = b.ok("logs", &["again"]).lines().count();
    assert!((3..=6).contains(&runs), "{runs} runs");
    let entry = b.ps("again");
    assert_eq!(entry["exit_code"], 3);
    assert!(entry["restarts"].as_u64().unwrap() >= 2, "{entry}");
    b.ok("stop", &["again"]);
    b.ok("delete", &["again"]);
}

#[test]
fn runtime_stop_sends_sigterm_then_sigkill_after_the_grace_period() {
    if !as_root("runtime_stop_sends_sigterm_then_sigkill_after_the_grace_period") {
        return;
    }
    let polite = "trap 'echo bye; exit 0' TERM; while true; do sleep 0.1; done";
    let b = Bundle::new(
        &["sh", "-c", polite],
        &["--annotation", "org.quai.restart=always"],
    );
    b.create("polite");
    b.ok("start", &["polite"]);
    std::thread::sleep(std::time::Duration::from_millis(200));
    let started = std::time::Instant::now();
    b.ok("stop", &["--time", "5", "polite"]);
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
    assert_eq!(b.ps("polite")["exit_code"], 0);
    assert_eq!(b.ps("polite")["status"], "stopped");
    assert_eq!(b.ok("logs", &["polite"]), "bye\n");
    b.ok("delete", &["polite"]);

    // pid 1 ignores SIGTERM without a handler: SIGKILL after the grace period.
    b.spec(&["sleep", "60"], &[]);
    b.create("stubborn");
    b.ok("start", &["stubborn"]);
    let started = std::time::Instant::now();
    b.ok("stop", &["-t", "1", "stubborn"]);
    let took = started.elapsed();
    assert!(took >= std::time::Duration::from_millis(900), "{took:?}");
    assert_eq!(b.ps("stubborn")["exit_code"], 137);
    b.ok("delete", &["stubborn"]);
}

#[test]
fn runtime_ps_tells_the_truth_when_the_supervisor_died() {
    if !as_root("runtime_ps_tells_the_truth_when_the_supervisor_died") {
        return;
    }
    let b = Bundle::new(&["sleep", "60"], &[]);
    b.create("orphan");
    b.ok("start", &["orphan"]);
    assert_eq!(b.ps("orphan")["status"], "running");
    let supervisor = b.supervisor_pid("orphan");
    // SAFETY: kill(2) on a pid we created.
    unsafe { libc_kill(supervisor, 9) };
    eventually("stopped", || b.ps("orphan")["status"] == "stopped");
    b.ok("delete", &["orphan"]);
    assert!(cgroup_dirs("orphan").is_empty());
}

extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, signal: i32) -> i32;
}

#[test]
fn runtime_delete_force_kills_a_running_container() {
    if !as_root("runtime_delete_force_kills_a_running_container") {
        return;
    }
    let b = Bundle::new(
        &["sleep", "60"],
        &["--annotation", "org.quai.restart=always"],
    );
    b.create("forced");
    b.ok("start", &["forced"]);
    let pid = b.state("forced")["pid"].as_i64().unwrap();
    b.ok("delete", &["--force", "forced"]);
    // Gone, or a zombie waiting for whoever inherited it to reap it.
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    assert!(stat.is_empty() || stat.contains(") Z "), "{stat}");
    assert!(cgroup_dirs("forced").is_empty());
}

#[test]
fn runtime_overlay_rootfs_writes_only_to_the_containers_layer() {
    if !as_root("runtime_overlay_rootfs_writes_only_to_the_containers_layer") {
        return;
    }
    // The busybox tree becomes the read-only image layer; the rootfs folder is only
    // the mount point of the overlay.
    let b = Bundle::new(
        &[
            "sh",
            "-c",
            "echo new > /etc/motd; rm /bin/vi; ls /etc; ls /bin/vi 2>&1 | wc -l",
        ],
        &[],
    );
    let layer = b.path().join("layer");
    std::fs::rename(b.path().join("rootfs"), &layer).unwrap();
    for d in ["rootfs", "upper", "work"] {
        std::fs::create_dir(b.path().join(d)).unwrap();
    }
    let p = |d: &str| b.path().join(d).to_str().unwrap().to_string();
    b.edit(|v| {
        v["annotations"] = serde_json::json!({
            "org.quai.overlay.lower": p("layer"),
            "org.quai.overlay.upper": p("upper"),
            "org.quai.overlay.work": p("work"),
        });
    });
    let out = b.run("layered");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "motd\n1\n");
    assert_eq!(
        std::fs::read_to_string(b.path().join("upper/etc/motd")).unwrap(),
        "new\n"
    );
    assert!(layer.join("bin/vi").exists(), "the image layer was changed");
    assert!(!layer.join("etc/motd").exists());
    // The overlay lived in the container's mount namespace only.
    assert_eq!(
        std::fs::read_dir(b.path().join("rootfs")).unwrap().count(),
        0
    );
}

#[test]
fn runtime_user_namespace_maps_root_to_an_unprivileged_host_user() {
    if !as_root("runtime_user_namespace_maps_root_to_an_unprivileged_host_user") {
        return;
    }
    let b = Bundle::new(&["sh", "-c", "id -u; cat /proc/self/uid_map"], &[]);
    b.edit(|v| {
        let linux = &mut v["linux"];
        linux["namespaces"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({"type": "user"}));
        linux["uidMappings"] =
            serde_json::json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
        linux["gidMappings"] =
            serde_json::json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    });
    // The rootfs must belong to the mapped root.
    let status = Command::new("chown")
        .args(["-R", "-h", "100000:100000"])
        .arg(b.path().join("rootfs"))
        .status()
        .unwrap();
    assert!(status.success());
    let out = b.run("userns");
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("0"));
    let map: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(map, ["0", "100000", "65536"]);
}

#[test]
fn runtime_run_passes_signals_on_and_cleans_up() {
    if !as_root("runtime_run_passes_signals_on_and_cleans_up") {
        return;
    }
    let b = Bundle::new(
        &[
            "sh",
            "-c",
            "trap 'echo got TERM; exit 3' TERM; echo ready; while true; do sleep 0.05; done",
        ],
        &[],
    );
    let bundle = b.path().to_str().unwrap().to_string();
    let mut child = Command::new(quai())
        .args(["runtime", "run", "--root"])
        .arg(b.root.path())
        .args(["--bundle", &bundle, "signalled"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut first = [0u8; 6];
    std::io::Read::read_exact(&mut out, &mut first).unwrap();
    assert_eq!(&first, b"ready\n");
    // SAFETY: kill(2) on our own child.
    unsafe { libc_kill(child.id() as i32, 15) };
    let status = child.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    assert_eq!(rest, "got TERM\n");
    assert_eq!(status.code(), Some(3));
    assert!(!b.root.path().join("signalled").exists());
    assert!(cgroup_dirs("signalled").is_empty());
}

#[test]
fn runtime_logs_follow_until_the_container_stops() {
    if !as_root("runtime_logs_follow_until_the_container_stops") {
        return;
    }
    let b = Bundle::new(
        &["sh", "-c", "for i in 1 2 3; do echo n$i; sleep 0.2; done"],
        &[],
    );
    b.create("follow");
    b.ok("start", &["follow"]);
    let started = std::time::Instant::now();
    let out = b.ok("logs", &["-f", "follow"]);
    assert_eq!(out, "n1\nn2\nn3\n");
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
    b.ok("delete", &["follow"]);
}
