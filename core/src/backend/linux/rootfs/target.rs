//! Where a mount lands inside a rootfs. A destination is walked component by component;
//! a symlink on the way is followed only if it stays inside the rootfs (a relative link
//! whose `..` do not climb out). An absolute symlink, or one that climbs out, would make
//! the kernel mount on a host path: it is refused. Reads the filesystem, never mounts.

use std::path::{Component, Path, PathBuf};

/// Why a mount destination was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("mount destination {destination} goes through the symlink {link} -> {points_to}, which points out of the rootfs")]
    EscapingSymlink {
        destination: PathBuf,
        link: PathBuf,
        points_to: PathBuf,
    },
    #[error("mount destination {destination} climbs out of the rootfs")]
    Escapes { destination: PathBuf },
    #[error("mount destination {destination} has too many symlinks")]
    TooManyLinks { destination: PathBuf },
}

/// The host path of `destination` (a path inside the container) under `rootfs`, with
/// every symlink on the way resolved inside the rootfs, or refused.
pub fn resolve(rootfs: &Path, destination: &Path) -> Result<PathBuf, TargetError> {
    // Components still to walk, and the ones already resolved (relative to rootfs).
    let mut pending: Vec<PathBuf> = destination
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(PathBuf::from(n)),
            Component::ParentDir => Some(PathBuf::from("..")),
            _ => None,
        })
        .rev()
        .collect();
    let mut done: Vec<PathBuf> = Vec::new();
    let mut links = 0;
    while let Some(part) = pending.pop() {
        if part.as_os_str() == ".." {
            if done.pop().is_none() {
                return Err(TargetError::Escapes {
                    destination: destination.to_path_buf(),
                });
            }
            continue;
        }
        let inside: PathBuf = done.iter().chain(std::iter::once(&part)).collect();
        let host = rootfs.join(&inside);
        match std::fs::symlink_metadata(&host) {
            Ok(meta) if meta.file_type().is_symlink() => {
                links += 1;
                if links > 40 {
                    return Err(TargetError::TooManyLinks {
                        destination: destination.to_path_buf(),
                    });
                }
                let points_to = std::fs::read_link(&host).unwrap_or_default();
                let escaping = || TargetError::EscapingSymlink {
                    destination: destination.to_path_buf(),
                    link: PathBuf::from("/").join(&inside),
                    points_to: points_to.clone(),
                };
                if points_to.is_absolute() {
                    return Err(escaping());
                }
                // Check the link alone stays inside, then walk its parts in place.
                let mut depth = done.len() as isize;
                for c in points_to.components() {
                    match c {
                        Component::ParentDir => depth -= 1,
                        Component::Normal(_) => depth += 1,
                        _ => {}
                    }
                    if depth < 0 {
                        return Err(escaping());
                    }
                }
                for c in points_to.components().rev() {
                    match c {
                        Component::Normal(n) => pending.push(PathBuf::from(n)),
                        Component::ParentDir => pending.push(PathBuf::from("..")),
                        _ => {}
                    }
                }
            }
            _ => done.push(part),
        }
    }
    Ok(rootfs.join(done.iter().collect::<PathBuf>()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn plain_paths_land_under_the_rootfs() {
        let root = tempfile::tempdir().unwrap();
        let got = resolve(root.path(), Path::new("/dev/shm")).unwrap();
        assert_eq!(got, root.path().join("dev/shm"));
    }

    #[test]
    fn symlinks_inside_the_rootfs_are_followed() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("run")).unwrap();
        std::fs::create_dir_all(root.path().join("var")).unwrap();
        symlink("../run", root.path().join("var/run")).unwrap();
        let got = resolve(root.path(), Path::new("/var/run/x")).unwrap();
        assert_eq!(got, root.path().join("run/x"));
    }

    #[test]
    fn absolute_symlinks_are_refused() {
        let root = tempfile::tempdir().unwrap();
        symlink("/etc", root.path().join("evil")).unwrap();
        let err = resolve(root.path(), Path::new("/evil/passwd")).unwrap_err();
        assert!(matches!(err, TargetError::EscapingSymlink { .. }), "{err}");
    }

    #[test]
    fn relative_symlinks_that_climb_out_are_refused() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("a")).unwrap();
        symlink("../../../tmp", root.path().join("a/out")).unwrap();
        let err = resolve(root.path(), Path::new("/a/out")).unwrap_err();
        assert!(matches!(err, TargetError::EscapingSymlink { .. }), "{err}");
        let err = resolve(root.path(), Path::new("/../x")).unwrap_err();
        assert!(matches!(err, TargetError::Escapes { .. }), "{err}");
    }
}
