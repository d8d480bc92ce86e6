//! `quai ps` (the stack's containers, as recorded and as the backend sees them now) and
//! `quai logs` (what one of them wrote).

use std::path::Path;

use anyhow::{anyhow, Context as _};
use quai_core::address::{Address, Kind};
use quai_core::backend::{LogStream, ObservedContainer};
use quai_core::resource::{container_name, ResourceConfig};
use quai_core::stack::{PortMapping, Protocol};

use crate::stack_file::Loaded;
use crate::{exit, table, Ctx};

pub(crate) fn ps(ctx: &mut Ctx<'_, '_>, file: &Path, json: bool) -> anyhow::Result<i32> {
    let loaded = Loaded::read(file)?;
    let place = ctx.place()?;
    let state = place.store.read(&loaded.stack.name)?;
    let observed = place.backend.observe(&loaded.stack.name, &[])?;
    let mut rows = Vec::new();
    for (address, recorded) in &state.resources {
        let ResourceConfig::Container(container) = &recorded.config else {
            continue;
        };
        rows.push(vec![
            address.to_string(),
            container_name(&loaded.stack.name, address),
            status(observed.containers.get(&recorded.id)),
            container.image.clone(),
            ports(&container.ports),
        ]);
    }
    // Containers of the stack that the state does not know (left by an interrupted
    // apply): the next apply deletes them.
    let recorded: std::collections::BTreeSet<&str> =
        state.resources.values().map(|r| r.id.as_str()).collect();
    for (id, seen) in &observed.containers {
        if !recorded.contains(id.as_str()) {
            rows.push(vec![
                seen.address.to_string(),
                seen.name.clone(),
                format!("{} (not in the state)", status(Some(seen))),
                seen.image_id.hex()[..12].to_string(),
                String::new(),
            ]);
        }
    }
    const HEADER: [&str; 5] = ["ADDRESS", "NAME", "STATUS", "IMAGE", "PORTS"];
    if json {
        let objects: Vec<serde_json::Map<String, serde_json::Value>> = rows
            .into_iter()
            .map(|row| {
                HEADER
                    .iter()
                    .map(|h| h.to_lowercase())
                    .zip(row.into_iter().map(serde_json::Value::from))
                    .collect()
            })
            .collect();
        writeln!(ctx.io.out, "{}", serde_json::to_string_pretty(&objects)?)?;
    } else {
        table::write(ctx.io.out, &HEADER, &rows)?;
    }
    Ok(exit::OK)
}

/// `running`, `exited (137, out of memory)`, or `missing` when the backend has no such
/// container any more.
pub(crate) fn status(observed: Option<&ObservedContainer>) -> String {
    let Some(c) = observed else {
        return "missing".to_string();
    };
    match (c.exit_code, c.oom_killed) {
        (Some(code), true) => format!("{} ({code}, out of memory)", c.status.as_str()),
        (Some(code), false) => format!("{} ({code})", c.status.as_str()),
        (None, _) => c.status.as_str().to_string(),
    }
}

/// `8080->80/tcp, 5353->53/udp`.
fn ports(ports: &[PortMapping]) -> String {
    ports
        .iter()
        .map(|p| {
            let protocol = match p.protocol {
                Protocol::Tcp => "tcp",
                Protocol::Udp => "udp",
            };
            format!("{}->{}/{protocol}", p.host, p.container)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn logs(
    ctx: &mut Ctx<'_, '_>,
    file: &Path,
    address: &str,
    follow: bool,
) -> anyhow::Result<i32> {
    let address: Address = address.parse()?;
    if address.kind != Kind::Container {
        return Err(anyhow!(
            "`{address}` is not a container: logs are a container's (container.NAME or container.NAME[N])"
        ));
    }
    let loaded = Loaded::read(file)?;
    let place = ctx.place()?;
    let state = place.store.read(&loaded.stack.name)?;
    let recorded = state.resources.get(&address).ok_or_else(|| {
        anyhow!(
            "`{address}` is not in the state of stack `{}`: see `quai ps`",
            loaded.stack.name
        )
    })?;
    let lines = place
        .backend
        .logs(&recorded.id)
        .with_context(|| format!("reading the logs of {address}"))?;
    for line in lines {
        match line.stream {
            LogStream::Stdout => writeln!(ctx.io.out, "{}", line.text)?,
            LogStream::Stderr => writeln!(ctx.io.err, "{}", line.text)?,
        }
    }
    // The simulated backend's containers write everything at once: nothing to follow.
    let _ = follow;
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;
    use quai_core::event::ContainerStatus;
    use quai_core::image::Digest;

    #[test]
    fn status_says_how_a_container_ended() {
        let mut c = ObservedContainer {
            name: "app-web-1".into(),
            address: Address::container("web", 0),
            status: ContainerStatus::Running,
            exit_code: None,
            image_id: Digest::of(b""),
            oom_killed: false,
        };
        assert_eq!(status(Some(&c)), "running");
        c.status = ContainerStatus::Exited;
        c.exit_code = Some(137);
        c.oom_killed = true;
        assert_eq!(status(Some(&c)), "exited (137, out of memory)");
        assert_eq!(status(None), "missing");
    }

    #[test]
    fn ports_read_host_to_container() {
        let p = [
            PortMapping {
                host: 8080,
                container: 80,
                protocol: Protocol::Tcp,
            },
            PortMapping {
                host: 5353,
                container: 53,
                protocol: Protocol::Udp,
            },
        ];
        assert_eq!(ports(&p), "8080->80/tcp, 5353->53/udp");
    }
}
