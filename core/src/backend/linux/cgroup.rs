//! A container's control group, with cgroups-rs: memory, cpu and pids limits, on cgroup
//! v1 (and hybrid hosts, whose controllers are v1 beside an empty v2 tree) and on pure
//! v2 hosts. The runtime creates it before the container's init runs; the init moves
//! itself in, first thing, so nothing it forks escapes the limits. Removed on delete.
//! Never kills anything by itself except when asked (`kill_all`).

use std::path::{Path, PathBuf};

use cgroups_rs::cpu::CpuController;
use cgroups_rs::memory::MemController;
use cgroups_rs::pid::PidController;
use cgroups_rs::{Cgroup, Controller, MaxValue};
use oci_spec::runtime::LinuxResources;

/// The controllers quai uses.
const CONTROLLERS: [&str; 3] = ["memory", "cpu", "pids"];

/// Where the v2 hierarchy is mounted on a v2 host (where cgroups-rs looks for it).
const V2_ROOT: &str = "/sys/fs/cgroup";

/// What went wrong with a cgroup.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error("cannot create cgroup {path}: {message}")]
    Create { path: String, message: String },
    #[error("cannot set {what} of cgroup {path}: {message}")]
    Limit {
        path: String,
        what: &'static str,
        message: String,
    },
    #[error("cannot remove cgroup {path}: {message}")]
    Remove { path: String, message: String },
    #[error(
        "the spec asks a {what}, but this host's cgroups have no `{controller}` controller \
         (available: {}; on cgroup v2 they are listed in /sys/fs/cgroup/cgroup.controllers)",
        if available.is_empty() { "none of memory, cpu, pids".to_string() } else { available.join(", ") }
    )]
    Unavailable {
        what: &'static str,
        controller: &'static str,
        available: Vec<String>,
    },
}

/// Which of [`CONTROLLERS`] this host has: mounted v1 hierarchies, or on v2 the root's
/// `cgroup.controllers`.
fn available_controllers() -> Vec<String> {
    cgroups_rs::hierarchies::auto()
        .subsystems()
        .iter()
        .map(|s| s.controller_name())
        .filter(|name| CONTROLLERS.contains(&name.as_str()))
        .collect()
}

/// The controllers the limits of `resources` need, with what each limit is called.
fn asked_controllers(resources: &LinuxResources) -> Vec<(&'static str, &'static str)> {
    let mut asked = Vec::new();
    if resources
        .memory()
        .as_ref()
        .and_then(|m| m.limit())
        .is_some()
    {
        asked.push(("memory", "memory limit"));
    }
    if resources
        .cpu()
        .as_ref()
        .is_some_and(|c| c.quota().is_some() || c.period().is_some())
    {
        asked.push(("cpu", "cpu quota"));
    }
    if resources.pids().is_some() {
        asked.push(("pids", "pids limit"));
    }
    asked
}

/// A container's cgroup.
pub struct ContainerCgroup {
    path: String,
    cgroup: Cgroup,
}

impl ContainerCgroup {
    /// The cgroup path for a container: the spec's `cgroupsPath`, or `quai/ID`.
    pub fn path_for(spec_path: Option<&Path>, id: &str) -> String {
        match spec_path {
            Some(p) => p.to_string_lossy().trim_start_matches('/').to_string(),
            None => format!("quai/{id}"),
        }
    }

    /// Its path, relative to each hierarchy.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Creates the cgroup at `path` and applies `resources`. It lives in the controllers
    /// of [`CONTROLLERS`] this host has; a limit whose controller it lacks is an error,
    /// never silently dropped.
    pub fn create(path: &str, resources: Option<&LinuxResources>) -> Result<Self, CgroupError> {
        let available = available_controllers();
        if let Some(resources) = resources {
            for (controller, what) in asked_controllers(resources) {
                if !available.iter().any(|a| a == controller) {
                    return Err(CgroupError::Unavailable {
                        what,
                        controller,
                        available: available.clone(),
                    });
                }
            }
        }
        let created = Cgroup::new_with_specified_controllers(
            cgroups_rs::hierarchies::auto(),
            path,
            Some(available.clone()),
        )
        .or_else(|_| {
            // cgroups-rs checks the list against `cgroup.controllers` split on spaces,
            // the last name with its newline: when the last one is ours, let it take
            // every controller the host has.
            Cgroup::new_with_specified_controllers(cgroups_rs::hierarchies::auto(), path, None)
        });
        let cgroup = created.map_err(|e| CgroupError::Create {
            path: path.to_string(),
            message: e.to_string(),
        })?;
        let this = ContainerCgroup {
            path: path.to_string(),
            cgroup,
        };
        if let Some(resources) = resources {
            this.apply(resources)?;
        }
        Ok(this)
    }

    /// The cgroup at `path`, which may or may not exist.
    pub fn load(path: &str) -> Self {
        ContainerCgroup {
            path: path.to_string(),
            cgroup: Cgroup::load_with_specified_controllers(
                cgroups_rs::hierarchies::auto(),
                path,
                available_controllers(),
            ),
        }
    }

    /// Applies memory, cpu and pids limits (others in the spec are ignored).
    pub fn apply(&self, resources: &LinuxResources) -> Result<(), CgroupError> {
        let fail = |what: &'static str| {
            let path = self.path.clone();
            move |e: cgroups_rs::error::Error| CgroupError::Limit {
                path,
                what,
                message: e.to_string(),
            }
        };
        if let Some(limit) = resources.memory().as_ref().and_then(|m| m.limit()) {
            if let Some(mem) = self.cgroup.controller_of::<MemController>() {
                mem.set_limit(limit).map_err(fail("memory limit"))?;
            }
        }
        if let Some(cpu) = resources.cpu() {
            if let Some(ctl) = self.cgroup.controller_of::<CpuController>() {
                if cpu.quota().is_some() || cpu.period().is_some() {
                    ctl.set_cfs_quota_and_period(cpu.quota(), cpu.period())
                        .map_err(fail("cpu quota"))?;
                }
            }
        }
        if let Some(pids) = resources.pids() {
            if let Some(ctl) = self.cgroup.controller_of::<PidController>() {
                let max = if pids.limit() > 0 {
                    MaxValue::Value(pids.limit())
                } else {
                    MaxValue::Max
                };
                ctl.set_pid_max(max).map_err(fail("pids limit"))?;
            }
        }
        Ok(())
    }

    /// On cgroup v2, the cgroup's one directory: the same for every controller, and
    /// there even when the host delegates none of ours (cgroups-rs then knows no
    /// subsystem of it, so its files are read here).
    fn v2_dir(&self) -> Option<PathBuf> {
        self.cgroup
            .v2()
            .then(|| Path::new(V2_ROOT).join(&self.path))
    }

    /// The `cgroup.procs` files a pid is written into to move a process in: one per v1
    /// hierarchy, one on v2.
    pub fn procs_files(&self) -> Vec<PathBuf> {
        if let Some(dir) = self.v2_dir() {
            return vec![dir.join("cgroup.procs")];
        }
        let mut files: Vec<PathBuf> = self
            .cgroup
            .subsystems()
            .iter()
            .map(|s| s.to_controller().path().join("cgroup.procs"))
            .collect();
        files.sort();
        files.dedup();
        files
    }

    /// Whether the kernel killed a process of this cgroup for lack of memory.
    pub fn oom_killed(&self) -> bool {
        let Some(mem) = self.cgroup.controller_of::<MemController>() else {
            return false;
        };
        let file = if self.cgroup.v2() {
            "memory.events"
        } else {
            "memory.oom_control"
        };
        std::fs::read_to_string(mem.path().join(file))
            .map(|text| oom_kills(&text) > 0)
            .unwrap_or(false)
    }

    /// The processes in it.
    pub fn pids(&self) -> Vec<u64> {
        if let Some(dir) = self.v2_dir() {
            let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
            return procs
                .lines()
                .filter_map(|l| l.trim().parse().ok())
                .collect();
        }
        self.cgroup.procs().into_iter().map(|p| p.pid).collect()
    }

    /// Sends SIGKILL to every process in it.
    pub fn kill_all(&self) {
        for pid in self.pids() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }

    /// Removes it (its processes must have exited); a cgroup already gone is fine.
    pub fn delete(&self) -> Result<(), CgroupError> {
        if !self.exists() {
            return Ok(());
        }
        // The kernel may take a moment to release a cgroup whose last task just died.
        let mut last = None;
        for _ in 0..100 {
            match self.cgroup.delete() {
                Ok(()) => return Ok(()),
                Err(e) => last = Some(e.to_string()),
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        Err(CgroupError::Remove {
            path: self.path.clone(),
            message: last.unwrap_or_default(),
        })
    }

    /// Whether any of its directories exists.
    pub fn exists(&self) -> bool {
        if let Some(dir) = self.v2_dir() {
            return dir.is_dir();
        }
        self.cgroup.exists()
    }
}

/// The `oom_kill` count of a `memory.oom_control` (v1) or `memory.events` (v2) file.
pub fn oom_kills(text: &str) -> u64 {
    text.lines()
        .filter_map(|line| line.strip_prefix("oom_kill "))
        .filter_map(|n| n.trim().parse().ok())
        .next()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oom_kills_are_read_from_v1_and_v2_files() {
        assert_eq!(
            oom_kills("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n"),
            2
        );
        assert_eq!(oom_kills("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n"), 1);
        assert_eq!(oom_kills("oom_kill_disable 0\nunder_oom 0\n"), 0);
    }

    #[test]
    fn cgroup_paths_default_under_quai() {
        assert_eq!(ContainerCgroup::path_for(None, "web"), "quai/web");
        assert_eq!(
            ContainerCgroup::path_for(Some(Path::new("/a/b")), "web"),
            "a/b"
        );
    }
}
