//! Mounts: mount, bind, remount, pivot_root, device nodes. No policy: the caller says
//! what to mount where.

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

use nix::fcntl::{open, OFlag};
use nix::mount::{umount2, MntFlags, MsFlags};
use nix::sys::stat::{makedev, mknod, Mode, SFlag};

use super::{SysError, SysResult};

/// mount(2).
pub fn mount(
    source: Option<&Path>,
    target: &Path,
    fstype: Option<&str>,
    flags: MsFlags,
    data: Option<&str>,
) -> SysResult<()> {
    nix::mount::mount(source, target, fstype, flags, data)
        .map_err(|e| SysError::new("mount", target.display(), e))
}

/// Changes the propagation of every mount under `target` (`MS_PRIVATE`, `MS_SLAVE`...).
pub fn set_propagation(target: &Path, propagation: MsFlags) -> SysResult<()> {
    mount(None, target, None, propagation | MsFlags::MS_REC, None)
}

/// Opens `path` as a handle that can be mounted on (`O_PATH`, not following a final symlink).
pub fn open_path(path: &Path) -> SysResult<OwnedFd> {
    open(
        path,
        OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map(|fd| {
        // SAFETY: `open` returned a fresh descriptor that nothing else owns.
        unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) }
    })
    .map_err(|e| SysError::new("open", path.display(), e))
}

/// The `/proc/self/fd/N` path of a handle, to mount on exactly what was opened.
pub fn fd_path(fd: &OwnedFd) -> std::path::PathBuf {
    std::path::PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

/// pivot_root(2) with the old root stacked on the new one, then detached: after it,
/// `/` is `new_root` and nothing of the old root stays reachable.
pub fn pivot_into(new_root: &Path) -> SysResult<()> {
    nix::unistd::chdir(new_root).map_err(|e| SysError::new("chdir", new_root.display(), e))?;
    nix::unistd::pivot_root(".", ".").map_err(|e| SysError::new("pivot_root", ".", e))?;
    // The old root is now mounted over the new one: make it private, then drop it.
    mount(
        None,
        Path::new("."),
        None,
        MsFlags::MS_SLAVE | MsFlags::MS_REC,
        None,
    )?;
    umount2(".", MntFlags::MNT_DETACH).map_err(|e| SysError::new("umount2", "old root", e))?;
    nix::unistd::chdir("/").map_err(|e| SysError::new("chdir", "/", e))
}

/// Creates a character device node.
pub fn make_char_device(path: &Path, major: u64, minor: u64, mode: u32) -> SysResult<()> {
    mknod(
        path,
        SFlag::S_IFCHR,
        Mode::from_bits_truncate(mode),
        makedev(major, minor),
    )
    .map_err(|e| SysError::new("mknod", path.display(), e))
}

/// Detaches the mount at `target`.
pub fn unmount(target: &Path) -> SysResult<()> {
    umount2(target, MntFlags::MNT_DETACH).map_err(|e| SysError::new("umount2", target.display(), e))
}

/// Opens `path` for reading, following symlinks (namespace files are magic links).
pub fn open_path_follow(path: &Path) -> SysResult<OwnedFd> {
    open(path, OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty())
        .map(|fd| {
            // SAFETY: `open` returned a fresh descriptor that nothing else owns.
            unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) }
        })
        .map_err(|e| SysError::new("open", path.display(), e))
}
