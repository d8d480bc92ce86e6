//! Containers of the simulated backend: their life (created → running → exited →
//! removed, restarts by policy), what their program does (see `process`), their logs,
//! and the files they write: under a volume mount into the volume, elsewhere into the
//! writable layer that is dropped on remove.

use crate::address::Address;
use crate::backend::sim::process::{interpret, Behaviour};
use crate::backend::sim::world::{SimContainer, World};
use crate::backend::sim::{network, pull_into, registry::Registry, world::canonical};
use crate::backend::{BackendError, LogLine, LogStream};
use crate::event::{ContainerStatus, Event, EventSink};
use crate::resource::{container_name, ContainerResource, ResolvedMount};
use crate::stack::RestartPolicy;

/// Exit code of a process ended by SIGTERM.
const SIGTERM_EXIT: i32 = 143;
/// Exit code of a process ended by SIGKILL (the OOM killer's signal too).
pub(crate) const SIGKILL_EXIT: i32 = 137;

fn container<'w>(world: &'w mut World, id: &str) -> Result<&'w mut SimContainer, BackendError> {
    world
        .containers
        .get_mut(id)
        .ok_or_else(|| BackendError::NoSuchContainer { id: id.to_string() })
}

fn change(
    c: &mut SimContainer,
    to: ContainerStatus,
    exit_code: Option<i32>,
    events: &dyn EventSink,
) {
    let from = c.status;
    c.status = to;
    if to == ContainerStatus::Exited {
        c.exit_code = exit_code;
    }
    events.emit(Event::ContainerChanged {
        address: c.address.clone(),
        id: c.id.clone(),
        from: Some(from),
        to,
        exit_code: if to == ContainerStatus::Exited {
            exit_code
        } else {
            None
        },
    });
}

/// Creates a container (pulling its image from the registry when the store lacks it).
pub(crate) fn create(
    world: &mut World,
    registry: &Registry,
    stack: &str,
    address: &Address,
    config: &ContainerResource,
    events: &dyn EventSink,
) -> Result<String, BackendError> {
    let name = container_name(stack, address);
    if world.containers.values().any(|c| c.name == name) {
        return Err(BackendError::NameTaken { name });
    }
    let reference = canonical(&config.image);
    let image = match world.local_image(&reference) {
        Some(info) => info.digest.clone(),
        None => pull_into(registry, world, &reference, events)?.digest,
    };
    for mount in &config.mounts {
        if let ResolvedMount::Volume { volume, .. } = mount {
            if !world.volumes.contains_key(volume) {
                return Err(BackendError::NoSuchVolume {
                    name: volume.clone(),
                });
            }
        }
    }
    // One address per network; networks allocate independently of each other.
    let addresses = config
        .networks
        .iter()
        .map(|net| Ok((net.clone(), network::allocate(world, net)?)))
        .collect::<Result<_, BackendError>>()?;
    let id = world.next_id("container", &name);
    let c = SimContainer {
        id: id.clone(),
        name,
        stack: stack.to_string(),
        address: address.clone(),
        config: config.clone(),
        image,
        status: ContainerStatus::Created,
        exit_code: None,
        oom_killed: false,
        restarts: 0,
        stopped: false,
        logs: Vec::new(),
        files: Default::default(),
        addresses,
    };
    events.emit(Event::ContainerChanged {
        address: address.clone(),
        id: id.clone(),
        from: None,
        to: ContainerStatus::Created,
        exit_code: None,
    });
    world.containers.insert(id.clone(), c);
    Ok(id)
}

/// The program a container runs: entrypoint and command, from its config or its image.
fn argv(world: &World, c: &SimContainer) -> Vec<String> {
    let image = world.images.get(&c.image).map(|i| &i.config);
    let (entrypoint, cmd) = match &c.config.entrypoint {
        Some(e) => (e.clone(), c.config.command.clone().unwrap_or_default()),
        None => (
            image.map(|i| i.entrypoint.clone()).unwrap_or_default(),
            c.config
                .command
                .clone()
                .or_else(|| image.map(|i| i.cmd.clone()))
                .unwrap_or_default(),
        ),
    };
    entrypoint.into_iter().chain(cmd).collect()
}

/// Starts a container: its host ports must be free; then its program runs, and when it
/// ends the restart policy decides whether it restarts.
pub(crate) fn start(
    world: &mut World,
    id: &str,
    events: &dyn EventSink,
) -> Result<(), BackendError> {
    let c = container(world, id)?;
    match c.status {
        ContainerStatus::Running | ContainerStatus::Restarting => return Ok(()),
        ContainerStatus::Created | ContainerStatus::Exited => {}
        ContainerStatus::Removed => {
            return Err(BackendError::BadContainerState {
                name: c.name.clone(),
                verb: "start",
                status: "removed",
            })
        }
    }
    let ports = c.config.ports.clone();
    for other in world.containers.values() {
        if other.id == id
            || !matches!(
                other.status,
                ContainerStatus::Running | ContainerStatus::Restarting
            )
        {
            continue;
        }
        if let Some(p) = ports.iter().find(|p| {
            other
                .config
                .ports
                .iter()
                .any(|o| o.host == p.host && o.protocol == p.protocol)
        }) {
            return Err(BackendError::PortTaken {
                port: p.host,
                holder: other.name.clone(),
            });
        }
    }
    let behaviour = {
        let c = &world.containers[id];
        interpret(&argv(world, c))
    };
    let mut times = Vec::new();
    for _ in behaviour.output() {
        times.push(world.next_time());
    }
    let c = container(world, id)?;
    c.stopped = false;
    c.oom_killed = false;
    c.exit_code = None;
    change(c, ContainerStatus::Running, None, events);
    for (line, time_ms) in behaviour.output().iter().zip(times) {
        c.logs.push(LogLine {
            time_ms,
            stream: LogStream::Stdout,
            text: line.clone(),
        });
    }
    if let Behaviour::Exits { code, .. } = behaviour {
        exited(c, code, events);
    }
    Ok(())
}

/// The program ended by itself with `code`: the restart policy may restart it.
fn exited(c: &mut SimContainer, code: i32, events: &dyn EventSink) {
    change(c, ContainerStatus::Exited, Some(code), events);
    let restart = match c.config.restart {
        RestartPolicy::No => false,
        RestartPolicy::OnFailure => code != 0,
        RestartPolicy::Always => true,
    };
    if restart && !c.stopped {
        c.restarts += 1;
        change(c, ContainerStatus::Restarting, None, events);
    }
}

/// Stops a running container (SIGTERM); the restart policy leaves it stopped.
pub(crate) fn stop(
    world: &mut World,
    id: &str,
    events: &dyn EventSink,
) -> Result<(), BackendError> {
    let c = container(world, id)?;
    c.stopped = true;
    if matches!(
        c.status,
        ContainerStatus::Running | ContainerStatus::Restarting
    ) {
        change(c, ContainerStatus::Exited, Some(SIGTERM_EXIT), events);
    }
    Ok(())
}

/// Removes a container, stopping it first; its writable layer and addresses go too.
pub(crate) fn remove(
    world: &mut World,
    id: &str,
    events: &dyn EventSink,
) -> Result<(), BackendError> {
    stop(world, id, events)?;
    let mut c = world
        .containers
        .remove(id)
        .ok_or_else(|| BackendError::NoSuchContainer { id: id.to_string() })?;
    change(&mut c, ContainerStatus::Removed, None, events);
    Ok(())
}

/// The process of a running container dies with `exit_code`, as if killed from outside
/// quai (or crashed); the restart policy applies.
pub(crate) fn kill(
    world: &mut World,
    id: &str,
    exit_code: i32,
    oom: bool,
    events: &dyn EventSink,
) -> Result<(), BackendError> {
    let c = container(world, id)?;
    if c.status != ContainerStatus::Running {
        return Err(BackendError::BadContainerState {
            name: c.name.clone(),
            verb: "be killed",
            status: c.status.as_str(),
        });
    }
    c.oom_killed = oom;
    exited(c, exit_code, events);
    Ok(())
}

/// Whether its healthcheck passes: it must run, and its check command must succeed.
pub(crate) fn wait_healthy(world: &World, id: &str) -> Result<(), BackendError> {
    let c = world
        .containers
        .get(id)
        .ok_or_else(|| BackendError::NoSuchContainer { id: id.to_string() })?;
    let Some(check) = &c.config.healthcheck else {
        return Ok(());
    };
    if c.status != ContainerStatus::Running {
        return Err(BackendError::Unhealthy {
            name: c.name.clone(),
            message: format!("it is {}", c.status.as_str()),
        });
    }
    let argv: Vec<String> = match check.command.first().map(String::as_str) {
        Some("CMD") => check.command[1..].to_vec(),
        Some("CMD-SHELL") => vec!["sh".into(), "-c".into(), check.command[1..].join(" ")],
        _ => check.command.clone(),
    };
    match interpret(&argv).exit_code() {
        Some(code) if code != 0 => Err(BackendError::Unhealthy {
            name: c.name.clone(),
            message: format!(
                "the check `{}` exited with code {code} {} times",
                check.command.join(" "),
                check.retries.max(1)
            ),
        }),
        _ => Ok(()),
    }
}

/// Where a path of a container lands: a volume (name, path inside it, read-only) or
/// the writable layer.
fn locate<'c>(c: &'c SimContainer, path: &str) -> Option<(&'c str, String, bool)> {
    c.config
        .mounts
        .iter()
        .filter_map(|m| match m {
            ResolvedMount::Volume {
                volume,
                target,
                read_only,
            } => {
                let target = target.trim_end_matches('/');
                let rest = path.strip_prefix(target)?;
                if !(rest.is_empty() || rest.starts_with('/')) {
                    return None;
                }
                Some((
                    target.len(),
                    volume.as_str(),
                    rest.trim_start_matches('/'),
                    *read_only,
                ))
            }
            ResolvedMount::Bind { .. } => None,
        })
        .max_by_key(|(len, ..)| *len)
        .map(|(_, v, rest, ro)| (v, rest.to_string(), ro))
}

/// Writes a file as the container's program would.
pub(crate) fn write_file(
    world: &mut World,
    id: &str,
    path: &str,
    bytes: &[u8],
) -> Result<(), BackendError> {
    let c = container(world, id)?;
    let refused = |why: &str| BackendError::Io {
        operation: format!("write {path} in container `{}`", c.name),
        message: why.to_string(),
    };
    match locate(c, path) {
        Some((_, _, true)) => Err(refused("read-only volume")),
        Some((volume, inner, false)) => {
            let volume = volume.to_string();
            world
                .volumes
                .get_mut(&volume)
                .ok_or(BackendError::NoSuchVolume { name: volume })?
                .files
                .insert(inner, bytes.to_vec());
            Ok(())
        }
        None if c.config.read_only => Err(refused("read-only root filesystem")),
        None => {
            c.files.insert(path.to_string(), bytes.to_vec());
            Ok(())
        }
    }
}

/// Reads a file as the container sees it: volume, writable layer, then image layers.
pub(crate) fn read_file(
    world: &World,
    id: &str,
    path: &str,
) -> Result<Option<Vec<u8>>, BackendError> {
    let c = world
        .containers
        .get(id)
        .ok_or_else(|| BackendError::NoSuchContainer { id: id.to_string() })?;
    if let Some((volume, inner, _)) = locate(c, path) {
        return Ok(world
            .volumes
            .get(volume)
            .and_then(|v| v.files.get(&inner).cloned()));
    }
    if let Some(bytes) = c.files.get(path) {
        return Ok(Some(bytes.clone()));
    }
    let layers = world
        .images
        .get(&c.image)
        .map(|i| i.layers.as_slice())
        .unwrap_or(&[]);
    Ok(layers
        .iter()
        .rev()
        .find_map(|l| world.layers.get(&l.digest)?.files.get(path).cloned()))
}
