//! The runtime on a cgroup v2 tree. On a pure v2 host every runtime test already runs on
//! v2; on a hybrid host (the CI machine: v1 controllers beside an empty v2 tree at
//! /sys/fs/cgroup/unified) these tests run quai in a private mount namespace where that
//! v2 tree is bind-mounted on /sys/fs/cgroup, so the runtime takes it for a pure v2
//! host: the container is put in its v2 cgroup and the cgroup removed after, and a
//! limit whose controller the tree lacks is refused by name.

use std::path::PathBuf;
use std::process::{Command, Output};

use super::*;

/// Where the host has its v2 tree, and whether quai must be shown it in a mount
/// namespace of its own.
struct V2Tree {
    /// The tree as seen from this process.
    root: PathBuf,
    /// Hybrid host: bind it on /sys/fs/cgroup for quai.
    bind: bool,
}

impl V2Tree {
    /// The host's v2 tree; none on a pure v1 host (a notice, and a failure under CI,
    /// whose machine is hybrid).
    fn find(test: &str) -> Option<V2Tree> {
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        let v2_at = |point: &str| {
            mountinfo.lines().any(|l| {
                let fields: Vec<&str> = l.split(' ').collect();
                let fs = l.split(" - ").nth(1).and_then(|r| r.split(' ').next());
                fields.get(4) == Some(&point) && fs == Some("cgroup2")
            })
        };
        if v2_at("/sys/fs/cgroup") {
            return Some(V2Tree {
                root: "/sys/fs/cgroup".into(),
                bind: false,
            });
        }
        if v2_at("/sys/fs/cgroup/unified") {
            return Some(V2Tree {
                root: "/sys/fs/cgroup/unified".into(),
                bind: true,
            });
        }
        assert!(
            std::env::var_os("CI").is_none(),
            "{test}: the CI machine has a cgroup v2 tree (hybrid), none was found"
        );
        eprintln!("notice: {test} skipped (this host has no cgroup v2 tree)");
        None
    }

    /// The controllers the tree offers.
    fn controllers(&self) -> String {
        std::fs::read_to_string(self.root.join("cgroup.controllers")).unwrap()
    }

    /// `quai runtime run` of `bundle` as `id`, on this tree.
    fn run(&self, bundle: &Bundle, id: &str) -> Output {
        let quai_args = [
            "runtime".into(),
            "--root".into(),
            bundle.root.path().to_path_buf().into_os_string(),
            "run".into(),
            "--bundle".into(),
            bundle.path().to_path_buf().into_os_string(),
            id.into(),
        ];
        let mut cmd = if self.bind {
            let mut c = Command::new("unshare");
            c.args(["--mount", "--propagation", "private", "sh", "-c"])
                .arg("mount --bind /sys/fs/cgroup/unified /sys/fs/cgroup && exec \"$0\" \"$@\"")
                .arg(quai());
            c
        } else {
            Command::new(quai())
        };
        cmd.args(quai_args).output().unwrap()
    }
}

#[test]
fn runtime_puts_the_container_in_its_v2_cgroup_and_removes_it() {
    let test = "runtime_puts_the_container_in_its_v2_cgroup_and_removes_it";
    if !as_root(test) {
        return;
    }
    let Some(tree) = V2Tree::find(test) else {
        return;
    };
    let b = Bundle::new(&["sh", "-c", "cat /proc/self/cgroup; exit 3"], &[]);
    let out = tree.run(&b, "v2box");
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    // The init moved itself into quai/v2box of the v2 tree before running the program.
    assert!(
        stdout(&out).lines().any(|l| l == "0::/quai/v2box"),
        "{}",
        stdout(&out)
    );
    assert!(!tree.root.join("quai/v2box").exists());
    assert!(!b.root.path().join("v2box").exists());
}

#[test]
fn runtime_on_v2_limits_with_the_controller_or_refuses_by_name() {
    let test = "runtime_on_v2_limits_with_the_controller_or_refuses_by_name";
    if !as_root(test) {
        return;
    }
    let Some(tree) = V2Tree::find(test) else {
        return;
    };
    let b = Bundle::new(&["true"], &["--pids", "42"]);
    let out = tree.run(&b, "v2limit");
    if tree.controllers().split_whitespace().any(|c| c == "pids") {
        // A v2 tree with the controller (a pure v2 host): the limit is set; that it
        // holds is the fork bomb test of `limits`, which runs on this tree there.
        assert!(out.status.success(), "{}", stderr(&out));
    } else {
        // The hybrid CI machine: its v2 tree has no pids controller (v1 holds it).
        assert_eq!(out.status.code(), Some(1));
        let err = stderr(&out);
        assert!(
            err.contains(
                "the spec asks a pids limit, but this host's cgroups have no `pids` controller"
            ),
            "{err}"
        );
        assert!(err.contains("/sys/fs/cgroup/cgroup.controllers"), "{err}");
    }
    assert!(!tree.root.join("quai/v2limit").exists());
    assert!(!b.root.path().join("v2limit").exists());
}
