//! A container's own world: pid 1, hostname, env, user, rootfs (bind or overlay), user
//! namespaces, and the same output under runc.

use std::process::Command;

use super::*;

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
