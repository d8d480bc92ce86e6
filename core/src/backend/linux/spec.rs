//! The OCI bundle: a folder with `config.json` (the runtime spec, read and written with
//! oci-spec) and a root filesystem. Also the spec quai writes for its own containers,
//! and the few annotations by which quai asks its runtime for more than the spec says.
//! Reads files only; never mounts or starts anything.

use std::path::{Path, PathBuf};

use oci_spec::runtime::{
    Capability, LinuxCapabilitiesBuilder, LinuxCpuBuilder, LinuxMemoryBuilder, LinuxPidsBuilder,
    LinuxResourcesBuilder, Mount, ProcessBuilder, RootBuilder, Spec,
};

use super::sys::capability;

/// Annotation: the image layers to stack under the rootfs, `:`-separated, top first.
/// With it, the runtime mounts an overlay on the bundle's rootfs folder inside the
/// container's mount namespace (the host never sees it).
pub const OVERLAY_LOWER: &str = "org.quai.overlay.lower";
/// Annotation: the container's writable layer (overlay upper directory).
pub const OVERLAY_UPPER: &str = "org.quai.overlay.upper";
/// Annotation: the overlay work directory (same filesystem as the upper one).
pub const OVERLAY_WORK: &str = "org.quai.overlay.work";
/// Annotation: the restart policy the supervisor applies (`no`, `on-failure`, `always`).
pub const RESTART: &str = "org.quai.restart";
/// Annotation: seconds between SIGTERM and SIGKILL when the supervisor stops it.
pub const STOP_GRACE: &str = "org.quai.stop-grace";

/// The capabilities a container keeps when its spec does not list any: Docker's
/// default set, which every course example expects.
pub const DEFAULT_CAPABILITIES: [Capability; 14] = [
    Capability::Chown,
    Capability::DacOverride,
    Capability::Fsetid,
    Capability::Fowner,
    Capability::Mknod,
    Capability::NetRaw,
    Capability::Setgid,
    Capability::Setuid,
    Capability::Setfcap,
    Capability::Setpcap,
    Capability::NetBindService,
    Capability::SysChroot,
    Capability::Kill,
    Capability::AuditWrite,
];

/// What went wrong reading or writing a bundle.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("cannot read the runtime spec {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("cannot write the runtime spec {path}: {message}")]
    Write { path: PathBuf, message: String },
    #[error("the spec of {path} has no {field}")]
    Missing { path: PathBuf, field: &'static str },
    #[error("the rootfs {path} is not a directory")]
    RootfsNotADirectory { path: PathBuf },
    #[error("cannot build the spec: {message}")]
    Build { message: String },
}

/// A bundle read from disk.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// The bundle folder, absolute.
    pub dir: PathBuf,
    /// Its `config.json`.
    pub spec: Spec,
    /// Its root filesystem folder, absolute.
    pub rootfs: PathBuf,
}

impl Bundle {
    /// Reads `dir/config.json` and checks the rootfs is a directory.
    pub fn load(dir: &Path) -> Result<Bundle, SpecError> {
        let dir = std::path::absolute(dir).map_err(|e| SpecError::Read {
            path: dir.to_path_buf(),
            message: e.to_string(),
        })?;
        let path = dir.join("config.json");
        let spec = Spec::load(&path).map_err(|e| SpecError::Read {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let root = spec.root().as_ref().ok_or(SpecError::Missing {
            path: path.clone(),
            field: "root",
        })?;
        let rootfs = dir.join(root.path());
        if !rootfs.is_dir() {
            return Err(SpecError::RootfsNotADirectory { path: rootfs });
        }
        if spec.process().is_none() {
            return Err(SpecError::Missing {
                path,
                field: "process",
            });
        }
        Ok(Bundle { dir, spec, rootfs })
    }

    /// An annotation of the spec.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.spec
            .annotations()
            .as_ref()?
            .get(key)
            .map(String::as_str)
    }
}

/// Writes `spec` as `dir/config.json`.
pub fn save(spec: &Spec, dir: &Path) -> Result<(), SpecError> {
    let path = dir.join("config.json");
    spec.save(&path).map_err(|e| SpecError::Write {
        path,
        message: e.to_string(),
    })
}

/// Limits a container may have, as quai's stack file says them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Limits {
    /// Bytes of memory.
    pub memory: Option<i64>,
    /// Fractional cpus (0.5 = half of one cpu).
    pub cpus: Option<f64>,
    /// Number of processes.
    pub pids: Option<i64>,
}

/// The CFS period quai uses, in microseconds.
pub const CPU_PERIOD_US: u64 = 100_000;

/// The CFS quota for `cpus` over [`CPU_PERIOD_US`] (at least 1 ms).
pub fn cpu_quota(cpus: f64) -> i64 {
    ((cpus * CPU_PERIOD_US as f64).round() as i64).max(1_000)
}

/// The spec quai writes for a container: `args` in `rootfs` (relative to the bundle),
/// the five namespaces (pid, mount, uts, ipc, net), /proc /dev /sys, Docker's default
/// capabilities, no_new_privs, the default masked and read-only paths. Runs under quai
/// or runc alike.
pub fn container_spec(args: &[String], hostname: &str, limits: Limits) -> Result<Spec, SpecError> {
    let build = |e: oci_spec::OciSpecError| SpecError::Build {
        message: e.to_string(),
    };
    let mut spec = Spec::default();
    let caps: oci_spec::runtime::Capabilities = DEFAULT_CAPABILITIES.into_iter().collect();
    let capabilities = LinuxCapabilitiesBuilder::default()
        .bounding(caps.clone())
        .effective(caps.clone())
        .permitted(caps)
        .inheritable(oci_spec::runtime::Capabilities::new())
        .ambient(oci_spec::runtime::Capabilities::new())
        .build()
        .map_err(build)?;
    let process = ProcessBuilder::default()
        .args(args.to_vec())
        .env(vec![
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_string(),
            format!("HOSTNAME={hostname}"),
        ])
        .cwd("/")
        .no_new_privileges(true)
        .capabilities(capabilities)
        .rlimits(
            spec.process()
                .as_ref()
                .and_then(|p| p.rlimits().clone())
                .unwrap_or_default(),
        )
        .build()
        .map_err(build)?;
    spec.set_process(Some(process));
    spec.set_hostname(Some(hostname.to_string()));
    spec.set_root(Some(
        RootBuilder::default()
            .path("rootfs")
            .readonly(false)
            .build()
            .map_err(build)?,
    ));
    // No cgroup filesystem inside: the container has no use for its limits' files.
    let mounts: Vec<Mount> = spec
        .mounts()
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter(|m| m.typ().as_deref() != Some("cgroup"))
        .collect();
    spec.set_mounts(Some(mounts));
    if let Some(linux) = spec.linux_mut() {
        // The five namespaces: pid, network, ipc, uts, mount.
        let five: Vec<_> = linux
            .namespaces()
            .clone()
            .unwrap_or_default()
            .into_iter()
            .filter(|n| n.typ() != oci_spec::runtime::LinuxNamespaceType::Cgroup)
            .collect();
        linux.set_namespaces(Some(five));
        let mut resources = LinuxResourcesBuilder::default();
        if let Some(bytes) = limits.memory {
            resources = resources.memory(
                LinuxMemoryBuilder::default()
                    .limit(bytes)
                    .build()
                    .map_err(build)?,
            );
        }
        if let Some(cpus) = limits.cpus {
            resources = resources.cpu(
                LinuxCpuBuilder::default()
                    .quota(cpu_quota(cpus))
                    .period(CPU_PERIOD_US)
                    .build()
                    .map_err(build)?,
            );
        }
        if let Some(pids) = limits.pids {
            resources = resources.pids(
                LinuxPidsBuilder::default()
                    .limit(pids)
                    .build()
                    .map_err(build)?,
            );
        }
        linux.set_resources(Some(resources.build().map_err(build)?));
    }
    Ok(spec)
}

/// The kernel numbers of a list of capabilities.
pub fn capability_numbers<'a>(caps: impl IntoIterator<Item = &'a Capability>) -> Vec<u32> {
    caps.into_iter()
        .filter_map(|c| {
            let name = serde_json::to_value(c).ok()?;
            capability::number(name.as_str()?)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractional_cpus_become_a_cfs_quota() {
        assert_eq!(cpu_quota(0.5), 50_000);
        assert_eq!(cpu_quota(2.0), 200_000);
        assert_eq!(cpu_quota(0.001), 1_000);
    }

    #[test]
    fn the_container_spec_keeps_dockers_capabilities_and_drops_the_cgroup_mount() {
        let spec = container_spec(&["sh".into()], "web", Limits::default()).unwrap();
        let caps = spec
            .process()
            .as_ref()
            .unwrap()
            .capabilities()
            .as_ref()
            .unwrap();
        let mut numbers = capability_numbers(caps.bounding().as_ref().unwrap());
        numbers.sort();
        assert_eq!(
            numbers,
            vec![0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 27, 29, 31]
        );
        let mounts = spec.mounts().as_ref().unwrap();
        assert!(mounts.iter().all(|m| m.typ().as_deref() != Some("cgroup")));
        assert!(mounts.iter().any(|m| m.destination() == Path::new("/proc")));
        assert_eq!(spec.hostname().as_deref(), Some("web"));
        let namespaces = spec
            .linux()
            .as_ref()
            .unwrap()
            .namespaces()
            .as_ref()
            .unwrap();
        assert_eq!(namespaces.len(), 5);
    }

    #[test]
    fn limits_land_in_the_spec_resources() {
        let limits = Limits {
            memory: Some(64 << 20),
            cpus: Some(0.25),
            pids: Some(20),
        };
        let spec = container_spec(&["true".into()], "h", limits).unwrap();
        let res = spec.linux().as_ref().unwrap().resources().as_ref().unwrap();
        assert_eq!(res.memory().as_ref().unwrap().limit(), Some(64 << 20));
        assert_eq!(res.cpu().as_ref().unwrap().quota(), Some(25_000));
        assert_eq!(res.pids().as_ref().unwrap().limit(), 20);
    }
}
