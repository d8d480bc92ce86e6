//! The container's /dev: the device nodes every program expects (null, zero, full,
//! random, urandom, tty), the spec's own devices, and the usual links (fd, stdin,
//! stdout, stderr, ptmx). In a user namespace nodes cannot be made: the host's are
//! bind-mounted instead.

use std::os::unix::fs::symlink;
use std::path::Path;

use nix::mount::MsFlags;

use super::super::sys::mount::{make_char_device, mount};
use super::super::sys::SysResult;

/// A character device: name under /dev, major, minor.
const DEVICES: [(&str, u64, u64); 6] = [
    ("null", 1, 3),
    ("zero", 1, 5),
    ("full", 1, 7),
    ("random", 1, 8),
    ("urandom", 1, 9),
    ("tty", 5, 0),
];

const LINKS: [(&str, &str); 5] = [
    ("fd", "/proc/self/fd"),
    ("stdin", "/proc/self/fd/0"),
    ("stdout", "/proc/self/fd/1"),
    ("stderr", "/proc/self/fd/2"),
    ("ptmx", "pts/ptmx"),
];

/// Fills `dev` (the rootfs's /dev, a fresh tmpfs) with the default devices, `extra`
/// devices (name relative to /dev, major, minor, mode) and links.
pub fn populate(dev: &Path, extra: &[(String, u64, u64, u32)], in_user_ns: bool) -> SysResult<()> {
    let defaults = DEVICES
        .iter()
        .map(|(n, ma, mi)| (n.to_string(), *ma, *mi, 0o666));
    for (name, major, minor, mode) in defaults.chain(extra.iter().cloned()) {
        let path = dev.join(name.trim_start_matches("/dev/"));
        if path.exists() {
            continue;
        }
        if in_user_ns {
            let _ = std::fs::File::create(&path);
            let host = Path::new("/dev").join(name.trim_start_matches("/dev/"));
            mount(Some(&host), &path, None, MsFlags::MS_BIND, None)?;
        } else {
            make_char_device(&path, major, minor, mode)?;
            // mknod is subject to the umask: set the mode the spec asked for.
            let _ = nix::sys::stat::fchmodat(
                None,
                &path,
                nix::sys::stat::Mode::from_bits_truncate(mode),
                nix::sys::stat::FchmodatFlags::FollowSymlink,
            );
        }
    }
    for (name, target) in LINKS {
        let _ = symlink(target, dev.join(name));
    }
    Ok(())
}
