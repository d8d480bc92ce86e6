//! cgroups: memory (OOM kill reported), pids (fork bomb held), cpu quota; removed after.

use std::process::Command;

use super::*;

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
fn runtime_supervisor_records_an_oom_kill() {
    if !as_root("runtime_supervisor_records_an_oom_kill") {
        return;
    }
    let hog = r#"x=$(head -c 200000000 /dev/zero | tr "\0" a)"#;
    let b = Bundle::new(&["sh", "-c", hog], &["--memory", "33554432"]);
    b.create("hog2");
    b.ok("start", &["hog2"]);
    eventually("the OOM kill", || !b.ps("hog2")["exit_code"].is_null());
    let entry = b.ps("hog2");
    assert_eq!(entry["oom_killed"], true, "{entry}");
    assert_eq!(entry["exit_code"], 137);
    b.ok("delete", &["hog2"]);
    assert!(cgroup_dirs("hog2").is_empty());
}
