//! The container's filesystem, set up inside its new mount namespace: propagation made
//! private, the rootfs bound (or overlaid) on itself, the spec's mounts (/proc, /dev,
//! /sys...), pivot_root into it, then masked and read-only paths. Runs in the container's
//! init before exec; it must never touch a mount outside that namespace.

pub mod dev;
pub mod options;
pub mod target;

use std::path::{Path, PathBuf};

use nix::mount::MsFlags;
use oci_spec::runtime::{Mount, Spec};

use super::sys::mount::{fd_path, mount, open_path, pivot_into, set_propagation};
use super::sys::SysError;
use options::MountOptions;
use target::TargetError;

/// What went wrong building the container's filesystem.
#[derive(Debug, thiserror::Error)]
pub enum RootfsError {
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error("mount of {destination}: {source}")]
    Mount {
        destination: PathBuf,
        source: SysError,
    },
    #[error("cannot prepare {path}: {message}")]
    Prepare { path: PathBuf, message: String },
    #[error(transparent)]
    Sys(#[from] SysError),
}

/// The overlay quai stacks on a rootfs folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overlay {
    /// Read-only layers, top first, `:`-separated as overlayfs wants them.
    pub lower: String,
    /// The container's writable layer.
    pub upper: PathBuf,
    /// overlayfs's work folder.
    pub work: PathBuf,
}

/// Builds the container's filesystem at `rootfs` and makes it `/`.
pub fn prepare(
    spec: &Spec,
    bundle: &Path,
    rootfs: &Path,
    overlay: Option<&Overlay>,
    in_user_ns: bool,
) -> Result<(), RootfsError> {
    let linux = spec.linux().as_ref();
    let propagation = match linux.and_then(|l| l.rootfs_propagation().as_deref()) {
        Some("shared") | Some("rshared") => MsFlags::MS_SHARED,
        Some("slave") | Some("rslave") => MsFlags::MS_SLAVE,
        _ => MsFlags::MS_PRIVATE,
    };
    // Nothing mounted from now on may leak back to the host.
    set_propagation(Path::new("/"), propagation)?;
    match overlay {
        Some(o) => {
            let data = format!(
                "lowerdir={},upperdir={},workdir={}",
                o.lower,
                o.upper.display(),
                o.work.display()
            );
            mount(
                Some(Path::new("overlay")),
                rootfs,
                Some("overlay"),
                MsFlags::empty(),
                Some(&data),
            )?
        }
        None => mount(
            Some(rootfs),
            rootfs,
            None,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            None,
        )?,
    }

    let mut dev_is_fresh = false;
    for m in spec.mounts().as_deref().unwrap_or_default() {
        mount_one(m, bundle, rootfs)?;
        dev_is_fresh |= m.destination() == Path::new("/dev") && m.typ().as_deref() == Some("tmpfs");
    }
    if dev_is_fresh {
        let extra: Vec<(String, u64, u64, u32)> = linux
            .and_then(|l| l.devices().clone())
            .unwrap_or_default()
            .iter()
            .map(|d| {
                (
                    d.path().to_string_lossy().into_owned(),
                    d.major() as u64,
                    d.minor() as u64,
                    d.file_mode().unwrap_or(0o666),
                )
            })
            .collect();
        dev::populate(&rootfs.join("dev"), &extra, in_user_ns)?;
    }

    pivot_into(rootfs)?;

    for path in linux
        .and_then(|l| l.masked_paths().clone())
        .unwrap_or_default()
    {
        mask(Path::new(&path))?;
    }
    for path in linux
        .and_then(|l| l.readonly_paths().clone())
        .unwrap_or_default()
    {
        make_read_only(Path::new(&path))?;
    }
    if spec.root().as_ref().and_then(|r| r.readonly()) == Some(true) {
        make_read_only(Path::new("/"))?;
    }
    Ok(())
}

/// Mounts one of the spec's mounts under `rootfs`.
fn mount_one(m: &Mount, bundle: &Path, rootfs: &Path) -> Result<(), RootfsError> {
    let destination = m.destination();
    let opts = MountOptions::parse(m.options().iter().flatten().map(String::as_str));
    let typ = m.typ().as_deref().unwrap_or("none");
    let bind = opts.bind || typ == "bind";
    let source = m.source().as_ref().map(|s| {
        if bind && s.is_relative() {
            bundle.join(s)
        } else {
            s.clone()
        }
    });
    let target = target::resolve(rootfs, destination)?;
    let prepare_err = |e: std::io::Error| RootfsError::Prepare {
        path: target.clone(),
        message: e.to_string(),
    };
    let source_is_file = bind && source.as_ref().is_some_and(|s| s.is_file());
    if !target.exists() {
        if source_is_file {
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(prepare_err)?;
            }
            std::fs::File::create(&target).map_err(prepare_err)?;
        } else {
            std::fs::create_dir_all(&target).map_err(prepare_err)?;
        }
    }
    // Mount on the handle we resolved, not on a path that could change meanwhile.
    let handle = open_path(&target)?;
    let at = fd_path(&handle);
    let fail = |source: SysError| RootfsError::Mount {
        destination: destination.clone(),
        source,
    };
    let data = (!opts.data.is_empty()).then_some(opts.data.as_str());
    if typ == "cgroup" {
        // The container sees no cgroup tree of the host: an empty read-only folder.
        let flags =
            MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
        return mount(
            Some(Path::new("tmpfs")),
            &at,
            Some("tmpfs"),
            flags,
            Some("mode=755"),
        )
        .map_err(fail);
    }
    if bind {
        let source = source.unwrap_or_default();
        let bind_flags = MsFlags::MS_BIND | (opts.flags & MsFlags::MS_REC);
        mount(Some(&source), &at, None, bind_flags, None).map_err(fail)?;
        // A bind mount takes its other flags (ro, nosuid...) only on a remount.
        let rest = opts.flags - (MsFlags::MS_BIND | MsFlags::MS_REC);
        if !rest.is_empty() {
            let flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | rest;
            mount(None, &at, None, flags, None).map_err(fail)?;
        }
    } else {
        let src = source.unwrap_or_else(|| PathBuf::from(typ));
        let result = mount(Some(&src), &at, Some(typ), opts.flags, data);
        match result {
            // sysfs cannot be mounted in a user namespace that does not own the network
            // namespace: bind the host's, read-only.
            Err(e) if typ == "sysfs" && e.errno == nix::errno::Errno::EPERM => {
                let flags = MsFlags::MS_BIND | MsFlags::MS_REC;
                mount(Some(Path::new("/sys")), &at, None, flags, None).map_err(fail)?;
                mount(
                    None,
                    &at,
                    None,
                    flags | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY,
                    None,
                )
                .map_err(fail)?;
            }
            other => other.map_err(fail)?,
        }
    }
    if !opts.propagation.is_empty() {
        set_propagation(&at, opts.propagation).map_err(fail)?;
    }
    Ok(())
}

/// Hides `path`: a file gets /dev/null bound over it, a folder an empty read-only tmpfs.
fn mask(path: &Path) -> Result<(), RootfsError> {
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(());
    };
    let fail = |source: SysError| RootfsError::Mount {
        destination: path.to_path_buf(),
        source,
    };
    if meta.is_dir() {
        mount(
            Some(Path::new("tmpfs")),
            path,
            Some("tmpfs"),
            MsFlags::MS_RDONLY,
            None,
        )
        .map_err(fail)
    } else {
        mount(
            Some(Path::new("/dev/null")),
            path,
            None,
            MsFlags::MS_BIND,
            None,
        )
        .map_err(fail)
    }
}

/// Makes `path` (and what is mounted under it) read-only.
fn make_read_only(path: &Path) -> Result<(), RootfsError> {
    if !path.exists() {
        return Ok(());
    }
    let fail = |source: SysError| RootfsError::Mount {
        destination: path.to_path_buf(),
        source,
    };
    let rec = MsFlags::MS_BIND | MsFlags::MS_REC;
    if path != Path::new("/") {
        mount(Some(path), path, None, rec, None).map_err(fail)?;
    }
    mount(
        None,
        path,
        None,
        rec | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY,
        None,
    )
    .map_err(fail)
}
