//! The safety tests of the runtime: host processes and files hidden, the runtime's binary
//! out of reach (CVE-2019-5736), host fds closed and cwd in /proc refused (CVE-2024-21626),
//! masked paths, escaping mount symlinks refused.

use std::process::Command;

use super::*;

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
