//! What was recorded: `quai state list`, `quai state show ADDRESS`, and
//! `quai inspect ADDRESS` (the record with what the backend observes now, as JSON, or
//! only the paths of a `-f` template).

use std::path::Path;

use anyhow::anyhow;
use quai_core::address::{Address, Kind};
use quai_core::state::{Recorded, State};
use serde_json::{json, Value};

use crate::stack_file::Loaded;
use crate::{exit, ps, template, Ctx};

pub(crate) fn list(ctx: &mut Ctx<'_, '_>, file: &Path) -> anyhow::Result<i32> {
    let (_, state) = read(ctx, file)?;
    for address in state.resources.keys() {
        writeln!(ctx.io.out, "{address}")?;
    }
    Ok(exit::OK)
}

pub(crate) fn show(ctx: &mut Ctx<'_, '_>, file: &Path, address: &str) -> anyhow::Result<i32> {
    let address: Address = address.parse()?;
    let (_, state) = read(ctx, file)?;
    let recorded = find(&state, &address)?;
    let value = record(&address, recorded)?;
    writeln!(ctx.io.out, "{}", serde_json::to_string_pretty(&value)?)?;
    Ok(exit::OK)
}

pub(crate) fn inspect(
    ctx: &mut Ctx<'_, '_>,
    file: &Path,
    address: &str,
    format: Option<&str>,
) -> anyhow::Result<i32> {
    let address: Address = address.parse()?;
    let loaded = Loaded::read(file)?;
    let place = ctx.place()?;
    let state = place.store.read(&loaded.stack.name)?;
    let recorded = find(&state, &address)?;
    let mut value = record(&address, recorded)?;
    let observed = match address.kind {
        Kind::Container => {
            let seen = place.backend.observe(&loaded.stack.name, &[])?;
            let container = seen.containers.get(&recorded.id);
            let mut v = match container {
                Some(c) => serde_json::to_value(c)?,
                None => json!({ "status": "missing" }),
            };
            if let Value::Object(map) = &mut v {
                map.insert("summary".into(), ps::status(container).into());
            }
            v
        }
        Kind::Image => {
            let images = place.backend.images()?;
            let found = images.iter().find(|i| i.digest.to_string() == recorded.id);
            serde_json::to_value(found)?
        }
        Kind::Volume | Kind::Network => {
            let seen = place.backend.observe(&loaded.stack.name, &[])?;
            let name = recorded_name(recorded);
            match address.kind {
                Kind::Volume => json!({ "exists": seen.volumes.contains(name) }),
                _ => serde_json::to_value(seen.networks.get(name))?,
            }
        }
    };
    if let Value::Object(map) = &mut value {
        map.insert("observed".into(), observed);
    }
    match format {
        Some(format) => writeln!(ctx.io.out, "{}", template::render(format, &value)?)?,
        None => writeln!(ctx.io.out, "{}", serde_json::to_string_pretty(&value)?)?,
    }
    Ok(exit::OK)
}

fn read(ctx: &Ctx<'_, '_>, file: &Path) -> anyhow::Result<(Loaded, State)> {
    let loaded = Loaded::read(file)?;
    let place = ctx.place()?;
    let state = place.store.read(&loaded.stack.name)?;
    Ok((loaded, state))
}

fn find<'a>(state: &'a State, address: &Address) -> anyhow::Result<&'a Recorded> {
    state.resources.get(address).ok_or_else(|| {
        anyhow!(
            "`{address}` is not in the state of stack `{}`; recorded: {}",
            state.stack,
            if state.resources.is_empty() {
                "nothing (apply first)".to_string()
            } else {
                state
                    .resources
                    .keys()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        )
    })
}

/// `{"address": ..., "id": ..., "config": ..., "attributes": ...}`.
fn record(address: &Address, recorded: &Recorded) -> anyhow::Result<Value> {
    let mut value = serde_json::to_value(recorded)?;
    if let Value::Object(map) = &mut value {
        map.insert("address".into(), address.to_string().into());
        map.entry("id").or_insert_with(|| "".into());
    }
    Ok(value)
}

/// The backend name of a recorded volume or network (a container's is derived from its
/// address, an image has its digest).
fn recorded_name(recorded: &Recorded) -> &str {
    use quai_core::resource::ResourceConfig;
    match &recorded.config {
        ResourceConfig::Volume(v) => &v.name,
        ResourceConfig::Network(n) => &n.name,
        ResourceConfig::Container(_) | ResourceConfig::Image(_) => &recorded.id,
    }
}
