//! Mount options as the spec writes them (`nosuid`, `ro`, `rbind`, `mode=755`) turned
//! into mount flags and filesystem data. Pure.

use nix::mount::MsFlags;

/// A spec mount's options, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountOptions {
    /// Flags for the mount itself.
    pub flags: MsFlags,
    /// Propagation to set after mounting (`MS_PRIVATE`, `MS_SLAVE`... maybe with `MS_REC`).
    pub propagation: MsFlags,
    /// Whether it is a bind mount (`bind`, `rbind`, or type `bind`).
    pub bind: bool,
    /// Options the filesystem reads (`mode=755,size=65536k`).
    pub data: String,
}

impl MountOptions {
    /// Parses the spec's option list.
    pub fn parse<'a>(options: impl IntoIterator<Item = &'a str>) -> MountOptions {
        let mut out = MountOptions {
            flags: MsFlags::empty(),
            propagation: MsFlags::empty(),
            bind: false,
            data: String::new(),
        };
        let mut data = Vec::new();
        for option in options {
            let (set, clear) = match option {
                "ro" => (MsFlags::MS_RDONLY, MsFlags::empty()),
                "rw" => (MsFlags::empty(), MsFlags::MS_RDONLY),
                "nosuid" => (MsFlags::MS_NOSUID, MsFlags::empty()),
                "suid" => (MsFlags::empty(), MsFlags::MS_NOSUID),
                "nodev" => (MsFlags::MS_NODEV, MsFlags::empty()),
                "dev" => (MsFlags::empty(), MsFlags::MS_NODEV),
                "noexec" => (MsFlags::MS_NOEXEC, MsFlags::empty()),
                "exec" => (MsFlags::empty(), MsFlags::MS_NOEXEC),
                "sync" => (MsFlags::MS_SYNCHRONOUS, MsFlags::empty()),
                "async" => (MsFlags::empty(), MsFlags::MS_SYNCHRONOUS),
                "noatime" => (MsFlags::MS_NOATIME, MsFlags::empty()),
                "nodiratime" => (MsFlags::MS_NODIRATIME, MsFlags::empty()),
                "relatime" => (MsFlags::MS_RELATIME, MsFlags::empty()),
                "strictatime" => (MsFlags::MS_STRICTATIME, MsFlags::empty()),
                "bind" => {
                    out.bind = true;
                    (MsFlags::MS_BIND, MsFlags::empty())
                }
                "rbind" => {
                    out.bind = true;
                    (MsFlags::MS_BIND | MsFlags::MS_REC, MsFlags::empty())
                }
                "private" | "rprivate" | "shared" | "rshared" | "slave" | "rslave"
                | "unbindable" | "runbindable" => {
                    let kind = match option.trim_start_matches('r') {
                        "private" => MsFlags::MS_PRIVATE,
                        "shared" => MsFlags::MS_SHARED,
                        "slave" => MsFlags::MS_SLAVE,
                        _ => MsFlags::MS_UNBINDABLE,
                    };
                    let rec = if option.starts_with('r') {
                        MsFlags::MS_REC
                    } else {
                        MsFlags::empty()
                    };
                    out.propagation = kind | rec;
                    continue;
                }
                other => {
                    data.push(other);
                    continue;
                }
            };
            out.flags.insert(set);
            out.flags.remove(clear);
        }
        out.data = data.join(",");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_and_data_are_split() {
        let o = MountOptions::parse(["nosuid", "strictatime", "mode=755", "size=65536k"]);
        assert_eq!(o.flags, MsFlags::MS_NOSUID | MsFlags::MS_STRICTATIME);
        assert_eq!(o.data, "mode=755,size=65536k");
        assert!(!o.bind);
    }

    #[test]
    fn bind_read_only_and_propagation() {
        let o = MountOptions::parse(["rbind", "ro", "rslave"]);
        assert!(o.bind);
        assert_eq!(
            o.flags,
            MsFlags::MS_BIND | MsFlags::MS_REC | MsFlags::MS_RDONLY
        );
        assert_eq!(o.propagation, MsFlags::MS_SLAVE | MsFlags::MS_REC);
        let o = MountOptions::parse(["ro", "rw"]);
        assert_eq!(o.flags, MsFlags::empty());
    }
}
