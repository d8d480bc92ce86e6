//! What the runtime keeps about a container, under its root folder (`--root`, default
//! `/run/quai`): `ID/state.json` (who and where), `ID/exit.json` (how it ended, written
//! by whoever reaped it), `ID/exec.fifo` (present between create and start), `ID/log`.
//! The status is never stored: it is derived from these files and from the kernel
//! (is the recorded pid alive, with the recorded start time?), so it stays true after
//! the CLI or the supervisor died. The lifecycle checks are pure functions.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The default root folder.
pub const DEFAULT_ROOT: &str = "/run/quai";

/// What went wrong with a container's records.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("no container `{id}` under {root}")]
    NotFound { id: String, root: PathBuf },
    #[error("a container `{id}` exists already under {root}")]
    Exists { id: String, root: PathBuf },
    #[error("`{id}` is not a valid container id (letters, digits, `-`, `_`, `.`)")]
    BadId { id: String },
    #[error("cannot {verb} {path}: {message}")]
    Io {
        verb: &'static str,
        path: PathBuf,
        message: String,
    },
    #[error("container `{id}` cannot {verb}: it is {status}")]
    BadStatus {
        id: String,
        verb: &'static str,
        status: Status,
    },
}

/// A container's status, as the OCI runtime spec names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Creating,
    Created,
    Running,
    Stopped,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Status::Creating => "creating",
            Status::Created => "created",
            Status::Running => "running",
            Status::Stopped => "stopped",
        })
    }
}

/// `state.json`: written once the init exists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    /// The init's pid, as the host sees it.
    pub pid: i32,
    /// The init's start time (field 22 of /proc/PID/stat), to tell it from a reused pid.
    pub pid_start: u64,
    /// The supervisor's pid, when one holds the container.
    pub supervisor: Option<i32>,
    /// The supervisor's start time.
    #[serde(default)]
    pub supervisor_start: u64,
    pub bundle: PathBuf,
    /// The cgroup path, relative to each hierarchy.
    pub cgroup: String,
    /// Milliseconds since the epoch.
    pub created_ms: u64,
    #[serde(default)]
    pub annotations: std::collections::HashMap<String, String>,
}

/// `exit.json`: how the last run of the container ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitRecord {
    /// The exit code, or 128 + signal when killed.
    pub code: i32,
    /// The signal that killed it, if any.
    pub signal: Option<i32>,
    /// Whether the kernel killed it for lack of memory.
    pub oom_killed: bool,
    /// Milliseconds since the epoch.
    pub time_ms: u64,
    /// How many times the supervisor restarted it.
    #[serde(default)]
    pub restarts: u32,
}

/// The state JSON of the OCI runtime spec, as `state ID` prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OciState {
    pub oci_version: String,
    pub id: String,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<i32>,
    pub bundle: PathBuf,
    #[serde(skip_serializing_if = "std::collections::HashMap::is_empty", default)]
    pub annotations: std::collections::HashMap<String, String>,
}

/// The status from the facts: is there an exit record, is the init alive, does the
/// exec fifo still wait for `start`.
pub fn status(init_alive: bool, fifo_present: bool, exited: bool) -> Status {
    match (init_alive, fifo_present, exited) {
        (true, true, _) => Status::Created,
        (true, false, _) => Status::Running,
        (false, _, _) => Status::Stopped,
    }
}

/// Whether `start` may run.
pub fn can_start(status: Status) -> bool {
    status == Status::Created
}

/// Whether a signal may be sent.
pub fn can_kill(status: Status) -> bool {
    matches!(status, Status::Created | Status::Running)
}

/// Whether `delete` may run (`force` kills a live container first).
pub fn can_delete(status: Status, force: bool) -> bool {
    force || status == Status::Stopped
}

/// A container's folder under the root.
#[derive(Debug, Clone)]
pub struct ContainerDir {
    pub id: String,
    pub root: PathBuf,
    pub dir: PathBuf,
}

impl ContainerDir {
    /// The folder of `id` (checked to be a plain name).
    pub fn new(root: &Path, id: &str) -> Result<Self, StateError> {
        let valid = !id.is_empty()
            && id != "."
            && id != ".."
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if !valid {
            return Err(StateError::BadId { id: id.to_string() });
        }
        Ok(ContainerDir {
            id: id.to_string(),
            root: root.to_path_buf(),
            dir: root.join(id),
        })
    }

    /// Creates the folder; fails if the id is taken.
    pub fn create(&self) -> Result<(), StateError> {
        std::fs::create_dir_all(&self.root).map_err(|e| self.io("create", &self.root, e))?;
        match std::fs::create_dir(&self.dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(StateError::Exists {
                id: self.id.clone(),
                root: self.root.clone(),
            }),
            Err(e) => Err(self.io("create", &self.dir, e)),
        }
    }

    /// Fails unless the folder exists.
    pub fn must_exist(&self) -> Result<(), StateError> {
        if self.dir.is_dir() {
            Ok(())
        } else {
            Err(StateError::NotFound {
                id: self.id.clone(),
                root: self.root.clone(),
            })
        }
    }

    pub fn state_file(&self) -> PathBuf {
        self.dir.join("state.json")
    }
    pub fn exit_file(&self) -> PathBuf {
        self.dir.join("exit.json")
    }
    pub fn fifo(&self) -> PathBuf {
        self.dir.join("exec.fifo")
    }
    pub fn log_file(&self) -> PathBuf {
        self.dir.join("log")
    }
    /// Written by `stop`: the grace period in seconds, read by the supervisor.
    pub fn stop_file(&self) -> PathBuf {
        self.dir.join("stop")
    }

    fn io(&self, verb: &'static str, path: &Path, e: std::io::Error) -> StateError {
        StateError::Io {
            verb,
            path: path.to_path_buf(),
            message: e.to_string(),
        }
    }

    /// Writes `value` as JSON at `path`, atomically (temporary file, rename).
    pub fn write_json<T: Serialize>(&self, path: &Path, value: &T) -> Result<(), StateError> {
        let tmp = path.with_extension("tmp");
        let text = serde_json::to_vec(value).map_err(|e| StateError::Io {
            verb: "encode",
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        std::fs::write(&tmp, text).map_err(|e| self.io("write", &tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| self.io("rename", path, e))
    }

    fn read_json<T: for<'de> Deserialize<'de>>(&self, path: &Path) -> Result<T, StateError> {
        let text = std::fs::read(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound && !self.dir.exists() {
                StateError::NotFound {
                    id: self.id.clone(),
                    root: self.root.clone(),
                }
            } else {
                self.io("read", path, e)
            }
        })?;
        serde_json::from_slice(&text).map_err(|e| StateError::Io {
            verb: "decode",
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }

    pub fn record(&self) -> Result<Record, StateError> {
        self.read_json(&self.state_file())
    }

    pub fn save_record(&self, record: &Record) -> Result<(), StateError> {
        self.write_json(&self.state_file(), record)
    }

    pub fn exit(&self) -> Option<ExitRecord> {
        self.read_json(&self.exit_file()).ok()
    }

    pub fn save_exit(&self, exit: &ExitRecord) -> Result<(), StateError> {
        self.write_json(&self.exit_file(), exit)
    }

    /// The status now, from the records and the kernel.
    pub fn status(&self) -> Result<(Record, Status), StateError> {
        let record = self.record()?;
        let alive = process_alive(record.pid, record.pid_start);
        let status = status(alive, self.fifo().exists(), self.exit_file().exists());
        Ok((record, status))
    }

    /// The OCI state of the container.
    pub fn oci_state(&self) -> Result<OciState, StateError> {
        let (record, status) = self.status()?;
        Ok(OciState {
            oci_version: "1.0.2".to_string(),
            id: record.id.clone(),
            status,
            pid: (status != Status::Stopped).then_some(record.pid),
            bundle: record.bundle.clone(),
            annotations: record.annotations.clone(),
        })
    }

    /// Removes the folder and everything in it.
    pub fn remove(&self) -> Result<(), StateError> {
        match std::fs::remove_dir_all(&self.dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(self.io("remove", &self.dir, e)),
        }
    }
}

/// Every container id under `root`.
pub fn list(root: &Path) -> Vec<String> {
    let mut ids: Vec<String> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("state.json").exists())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    ids.sort();
    ids
}

/// The start time of `pid` (clock ticks since boot), if it runs and is not a zombie.
pub fn process_start(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    // rest starts at field 3 (state); starttime is field 22.
    if fields.first() == Some(&"Z") || fields.first() == Some(&"X") {
        return None;
    }
    fields.get(19)?.parse().ok()
}

/// Whether `pid` is alive and is the process that started at `start`.
pub fn process_alive(pid: i32, start: u64) -> bool {
    pid > 0 && process_start(pid) == Some(start)
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_follows_the_facts() {
        assert_eq!(status(true, true, false), Status::Created);
        assert_eq!(status(true, false, false), Status::Running);
        assert_eq!(status(false, false, true), Status::Stopped);
        // A pid that died without anyone writing its exit is stopped, not running.
        assert_eq!(status(false, false, false), Status::Stopped);
        assert_eq!(status(false, true, false), Status::Stopped);
    }

    #[test]
    fn lifecycle_checks() {
        assert!(can_start(Status::Created));
        assert!(!can_start(Status::Running));
        assert!(can_kill(Status::Running));
        assert!(!can_kill(Status::Stopped));
        assert!(can_delete(Status::Stopped, false));
        assert!(!can_delete(Status::Running, false));
        assert!(can_delete(Status::Running, true));
    }

    #[test]
    fn ids_are_plain_names() {
        let root = Path::new("/run/quai");
        assert!(ContainerDir::new(root, "web-1.a_b").is_ok());
        for bad in ["", "..", "a/b", "a b"] {
            assert!(matches!(
                ContainerDir::new(root, bad),
                Err(StateError::BadId { .. })
            ));
        }
    }

    #[test]
    fn our_own_process_is_alive_and_a_wrong_start_is_not() {
        let me = std::process::id() as i32;
        let start = process_start(me).unwrap();
        assert!(process_alive(me, start));
        assert!(!process_alive(me, start + 1));
    }

    #[test]
    fn oci_state_json_uses_the_spec_names() {
        let state = OciState {
            oci_version: "1.0.2".into(),
            id: "a".into(),
            status: Status::Running,
            pid: Some(42),
            bundle: "/b".into(),
            annotations: Default::default(),
        };
        let json = serde_json::to_string(&state).unwrap();
        assert_eq!(
            json,
            r#"{"ociVersion":"1.0.2","id":"a","status":"running","pid":42,"bundle":"/b"}"#
        );
    }
}
