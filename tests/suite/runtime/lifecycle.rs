//! The OCI verbs and the supervisor: create, start, state, exec, kill, stop, delete, ps,
//! logs, restarts with backoff, signals passed on by run.

use std::process::Command;

use super::*;

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
    // The supervisor writes the exit record just after reaping.
    eventually("the exit record", || !b.ps("life")["exit_code"].is_null());
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
