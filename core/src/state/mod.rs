//! The state: what was applied, per stack. Versioned JSON, written atomically by the
//! [`file`] store (temporary file, fsync, rename, fsync of the folder, backup kept),
//! kept in memory by the [`memory`] store. A lock (pid, host, time) keeps a second
//! apply out.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::address::Address;
use crate::resource::{ContainerResource, ResourceConfig};

#[cfg(not(target_arch = "wasm32"))]
pub mod file;
pub mod memory;

/// The version of the state's JSON schema this build writes. Older versions are
/// upgraded when read; newer ones are refused.
pub const SCHEMA_VERSION: u32 = 2;

/// What was applied to one stack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    pub stack: String,
    /// Counts the writes; a plan remembers the serial it was made against.
    pub serial: u64,
    #[serde(deserialize_with = "records_sharing_replicas")]
    pub resources: BTreeMap<Address, Recorded>,
}

/// Decodes the records; a container's configuration equal to the one of the record
/// before it (the next replica of a service) is shared with it, as the plan shares it
/// among a service's replicas. A decoded state then holds one configuration per service,
/// and the copy just decoded is let go at once: the next record is decoded into the
/// memory it had, so a large state lies compact, in the order the planner walks it.
fn records_sharing_replicas<'de, D: serde::Deserializer<'de>>(
    decoder: D,
) -> Result<BTreeMap<Address, Recorded>, D::Error> {
    struct Records;
    impl<'de> serde::de::Visitor<'de> for Records {
        type Value = BTreeMap<Address, Recorded>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a map of records by address")
        }
        fn visit_map<M: serde::de::MapAccess<'de>>(
            self,
            mut map: M,
        ) -> Result<Self::Value, M::Error> {
            let mut records = BTreeMap::new();
            let mut last: Option<Arc<ContainerResource>> = None;
            while let Some((address, mut record)) = map.next_entry::<Address, Recorded>()? {
                if let ResourceConfig::Container(config) = &mut record.config {
                    match &last {
                        Some(last) if *last == *config => *config = last.clone(),
                        _ => last = Some(config.clone()),
                    }
                }
                records.insert(address, record);
            }
            Ok(records)
        }
    }
    decoder.deserialize_map(Records)
}

impl State {
    pub fn new(stack: impl Into<String>) -> Self {
        State {
            version: SCHEMA_VERSION,
            stack: stack.into(),
            serial: 0,
            resources: BTreeMap::new(),
        }
    }
}

/// One applied resource: its configuration when applied and what the backend answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recorded {
    pub config: ResourceConfig,
    /// The backend's id (a container id, an image digest); empty for volumes and networks.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// What the backend allocated (`subnet`, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
}

/// Who holds a lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    pub pid: u32,
    pub host: String,
    /// Seconds since the Unix epoch.
    pub since: u64,
    /// `apply`, `destroy`, ...
    pub operation: String,
}

impl std::fmt::Display for LockInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} by pid {} on {} since {} (unix time)",
            self.operation, self.pid, self.host, self.since
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("the state of stack `{stack}` is locked: {holder}; waited {waited:?}")]
    Locked {
        stack: String,
        holder: LockInfo,
        waited: Duration,
    },
    #[error("cannot read state file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot write state file {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("state file {path} is not valid state JSON: {message}")]
    Corrupt { path: String, message: String },
    #[error("state file {path} has schema version {found}; this quai reads up to {SCHEMA_VERSION}: upgrade quai")]
    TooNew { path: String, found: u32 },
}

/// Reads a state from its JSON text, upgrading older schema versions. `path` names the
/// file in errors.
///
/// Version 0 (written before quai had schema versions) has no `version` field and keeps
/// `resources` as a list of objects that carry their `address`; it is upgraded to the
/// map of version 1.
pub fn decode(text: &str, path: &str) -> Result<State, StateError> {
    let corrupt = |message: String| StateError::Corrupt {
        path: path.to_string(),
        message,
    };
    // The common case, a state of this version, decodes straight into its types: no
    // JSON tree in between, and the records of a large state lie in memory in the
    // order the planner walks them.
    #[derive(Deserialize)]
    struct Version {
        version: Option<serde_json::Value>,
    }
    let version: Version = serde_json::from_str(text).map_err(|e| corrupt(e.to_string()))?;
    if version.version.as_ref().and_then(serde_json::Value::as_u64) == Some(SCHEMA_VERSION.into()) {
        return serde_json::from_str(text).map_err(|e| corrupt(e.to_string()));
    }
    let mut value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| corrupt(e.to_string()))?;
    let found = match value.get("version") {
        None => 0,
        Some(v) => v
            .as_u64()
            .and_then(|v| u32::try_from(v).ok())
            .ok_or_else(|| corrupt(format!("`version` is not a number: {v}")))?,
    };
    if found > SCHEMA_VERSION {
        return Err(StateError::TooNew {
            path: path.to_string(),
            found,
        });
    }
    if found == 0 {
        value = upgrade_from_v0(value).map_err(corrupt)?;
    }
    if found <= 1 {
        value = upgrade_from_v1(value);
    }
    serde_json::from_value(value).map_err(|e| corrupt(e.to_string()))
}

/// Version 1 → version 2: a container's configuration no longer holds its backend name
/// (`name`, derived from its address), so that the replicas of a service share one.
fn upgrade_from_v1(mut value: serde_json::Value) -> serde_json::Value {
    let records = value
        .get_mut("resources")
        .and_then(serde_json::Value::as_object_mut);
    for record in records.into_iter().flat_map(|r| r.values_mut()) {
        let config = record
            .get_mut("config")
            .and_then(serde_json::Value::as_object_mut);
        if let Some(config) = config.filter(|c| c.get("kind").is_some_and(|k| k == "container")) {
            config.remove("name");
        }
    }
    if let Some(object) = value.as_object_mut() {
        object.insert("version".into(), serde_json::Value::from(2u32));
    }
    value
}

/// Version 0 → version 1: `resources` from a list of `{address, ...}` to a map by
/// address, and the `version` field added.
fn upgrade_from_v0(mut value: serde_json::Value) -> Result<serde_json::Value, String> {
    let object = value
        .as_object_mut()
        .ok_or_else(|| "the state is not a JSON object".to_string())?;
    let mut resources = serde_json::Map::new();
    match object.remove("resources") {
        None => {}
        Some(serde_json::Value::Array(list)) => {
            for mut entry in list {
                let address = entry
                    .as_object_mut()
                    .and_then(|e| e.remove("address"))
                    .and_then(|a| a.as_str().map(str::to_string))
                    .ok_or_else(|| "a version 0 resource has no `address`".to_string())?;
                resources.insert(address, entry);
            }
        }
        Some(serde_json::Value::Object(map)) => resources = map,
        Some(other) => return Err(format!("`resources` is neither a list nor a map: {other}")),
    }
    object.insert("resources".into(), serde_json::Value::Object(resources));
    object
        .entry("serial")
        .or_insert(serde_json::Value::from(0u64));
    object.insert("version".into(), serde_json::Value::from(1u32));
    Ok(value)
}

/// The JSON text of a state, as the stores write it.
pub fn encode(state: &State) -> String {
    let mut text = serde_json::to_string_pretty(state).unwrap_or_else(|e| {
        // Every field of a state serialises; this cannot fail short of a serde bug.
        unreachable!("state serialisation failed: {e}")
    });
    text.push('\n');
    text
}

/// Who this process is, for a lock: pid, host, time. In the browser there is no pid,
/// host nor clock: zeros and `browser`.
pub fn lock_info(operation: &str) -> LockInfo {
    #[cfg(not(target_arch = "wasm32"))]
    {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        LockInfo {
            pid: std::process::id(),
            host: host_name(),
            since,
            operation: operation.to_string(),
        }
    }
    #[cfg(target_arch = "wasm32")]
    {
        LockInfo {
            pid: 0,
            host: "browser".to_string(),
            since: 0,
            operation: operation.to_string(),
        }
    }
}

/// This machine's name: `/etc/hostname`, else `$HOSTNAME`, else `localhost`.
#[cfg(not(target_arch = "wasm32"))]
fn host_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "localhost".to_string())
}

/// Where the states of stacks are kept.
pub trait StateStore: Send + Sync {
    /// Takes the stack's lock, waiting up to `timeout` for another holder to let go.
    fn lock(
        &self,
        stack: &str,
        operation: &str,
        timeout: Duration,
    ) -> Result<Box<dyn StateLock + '_>, StateError>;

    /// Reads a stack's state without locking (for `plan`, `state show`); an empty state
    /// when there is none.
    fn read(&self, stack: &str) -> Result<State, StateError>;
}

/// A held lock: the only way to write a state. Dropping it lets go of the lock.
pub trait StateLock: Send {
    fn load(&self) -> Result<State, StateError>;
    /// Writes the state (bumping its serial), atomically.
    fn save(&mut self, state: &mut State) -> Result<(), StateError>;
    /// Writes the state (bumping its serial) when it differs from the last one loaded
    /// or saved through this lock by the record of `address` alone (recorded anew, or
    /// forgotten). What apply calls after each step: a store may write that one record
    /// (the file store journals it) instead of the whole state, so that an apply of n
    /// steps writes O(n) bytes, not O(n²). By default, [`StateLock::save`].
    fn save_change(&mut self, state: &mut State, address: &Address) -> Result<(), StateError> {
        let _ = address;
        self.save(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::Digest;
    use crate::resource::VolumeResource;

    fn sample() -> State {
        let mut s = State::new("blog");
        s.serial = 3;
        s.resources.insert(
            Address::volume("data"),
            Recorded {
                config: ResourceConfig::Volume(VolumeResource {
                    name: "blog_data".into(),
                }),
                id: String::new(),
                attributes: BTreeMap::new(),
            },
        );
        s
    }

    #[test]
    fn a_state_round_trips_through_its_json() {
        let s = sample();
        assert_eq!(decode(&encode(&s), "state.json").unwrap(), s);
    }

    #[test]
    fn version_0_is_upgraded() {
        let v0 = r#"{"stack": "blog", "serial": 3, "resources": [
            {"address": "volume.data", "config": {"kind": "volume", "name": "blog_data"}}
        ]}"#;
        assert_eq!(decode(v0, "state.json").unwrap(), sample());
    }

    #[test]
    fn version_1_is_upgraded() {
        let v1 = r#"{"version": 1, "stack": "blog", "serial": 3, "resources": {
            "container.web": {"config": {"kind": "container", "name": "blog-web-1",
                "image": "busybox:1.36", "image_id": "sha256:REPLACE", "command": null,
                "entrypoint": null, "env": {}, "workdir": null, "user": null,
                "hostname": null, "ports": [], "mounts": [], "networks": [],
                "depends_on": {}, "restart": "no", "read_only": false,
                "resources": {}, "healthcheck": null}, "id": "c1"}
        }}"#
        .replace("REPLACE", Digest::of(b"busybox").hex());
        let state = decode(&v1, "state.json").unwrap();
        assert_eq!(state.version, SCHEMA_VERSION);
        let record = &state.resources[&Address::container("web", 0)];
        assert_eq!(record.id, "c1");
        let text = encode(&state);
        assert!(!text.contains("blog-web-1"), "{text}");
        assert_eq!(decode(&text, "state.json").unwrap(), state);
    }

    #[test]
    fn the_replicas_of_a_service_share_their_decoded_configuration() {
        let mut s = State::new("blog");
        let config = ResourceConfig::Container(Arc::new(ContainerResource {
            image: "busybox:1.36".into(),
            image_id: Digest::of(b"busybox"),
            command: Some(vec!["httpd".into(), "-f".into()]),
            entrypoint: None,
            env: BTreeMap::from([("MODE".to_string(), "prod".to_string())]),
            workdir: None,
            user: None,
            hostname: None,
            ports: Vec::new(),
            mounts: Vec::new(),
            networks: vec!["blog_back".into()],
            depends_on: BTreeMap::new(),
            restart: crate::stack::RestartPolicy::No,
            read_only: false,
            resources: Default::default(),
            healthcheck: None,
        }));
        for index in 0..3 {
            s.resources.insert(
                Address::container("web", index),
                Recorded {
                    config: config.clone(),
                    id: format!("c{index}"),
                    attributes: BTreeMap::new(),
                },
            );
        }
        let decoded = decode(&encode(&s), "state.json").unwrap();
        assert_eq!(decoded, s);
        let shared = |index| match &decoded.resources[&Address::container("web", index)].config {
            ResourceConfig::Container(c) => Arc::as_ptr(c),
            other => panic!("{other:?}"),
        };
        assert_eq!(shared(0), shared(1));
        assert_eq!(shared(1), shared(2));
    }

    #[test]
    fn a_newer_version_is_refused() {
        let text = r#"{"version": 99, "stack": "blog", "serial": 0, "resources": {}}"#;
        let err = decode(text, "/x/state.json").unwrap_err();
        assert!(matches!(err, StateError::TooNew { found: 99, .. }), "{err}");
        assert!(err.to_string().contains("/x/state.json"));
    }

    #[test]
    fn corrupt_json_names_the_file() {
        let err = decode("{\"version\": 2, ", "/x/state.json").unwrap_err();
        assert!(matches!(err, StateError::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains("/x/state.json"));
    }
}
