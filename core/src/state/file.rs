//! The state store on disk: one folder per stack under the quai root, the state written
//! atomically (temporary file, fsync, rename, fsync of the folder) with a backup of the
//! previous version, and a lock file naming pid, host and time.
//!
//! Layout: `ROOT/stacks/NAME/state.json`, `state.json.backup` (the version before the
//! last save) and `lock`. The lock file is created whole (written under a temporary
//! name, then hard-linked into place, which fails when it exists) and its holder keeps
//! an OS advisory lock on it. A lock file whose advisory lock is free was left by a
//! process that died (SIGKILL, power loss): it is stale and taken over.
//!
//! Never leaves a half-written `state.json`: at every instant the file is a complete
//! version, the old one or the new one.
//!
//! Apply saves after every step the one record that changed ([`StateLock::save_change`]):
//! a line appended to `state.json.journal` and synced, not the whole state rewritten
//! (which made an apply of n steps write O(n²) bytes). Reading a state replays the lines
//! of its journal newer than its serial; a last line cut short by a crash is ignored
//! (its step is then found again as an orphan, as after a kill between a step and its
//! record). The journal is folded into `state.json` (written whole, as above) when the
//! lock is let go, and by any whole save.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::address::Address;
use crate::state::{
    decode, encode, lock_info, LockInfo, Recorded, State, StateError, StateLock, StateStore,
};

/// How often a waiting lock looks again.
const POLL: Duration = Duration::from_millis(25);

/// Distinguishes temporary files of several locks taken by one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// States of stacks kept under a root folder.
#[derive(Debug, Clone)]
pub struct FileStore {
    root: PathBuf,
}

impl FileStore {
    /// A store under `root` (the quai root); folders are created when first written.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        FileStore { root: root.into() }
    }

    /// `ROOT/stacks/NAME`.
    pub fn stack_dir(&self, stack: &str) -> PathBuf {
        self.root.join("stacks").join(stack)
    }

    /// `ROOT/stacks/NAME/state.json`.
    pub fn state_path(&self, stack: &str) -> PathBuf {
        self.stack_dir(stack).join("state.json")
    }

    /// Who holds the lock of `stack` now, if anyone (a stale lock file counts as free).
    pub fn holder(&self, stack: &str) -> Option<LockInfo> {
        let path = self.stack_dir(stack).join("lock");
        let file = File::open(&path).ok()?;
        match file.try_lock() {
            Ok(()) => None,
            Err(_) => read_lock_info(&path),
        }
    }
}

fn show(path: &Path) -> String {
    path.display().to_string()
}

fn write_err(path: &Path) -> impl FnOnce(io::Error) -> StateError + '_ {
    move |source| StateError::Write {
        path: show(path),
        source,
    }
}

fn read_lock_info(path: &Path) -> Option<LockInfo> {
    let text = fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

/// Whether `file` (opened earlier) is still the file at `path`, not one removed since.
fn still_at(file: &File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (file.metadata(), fs::metadata(path)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        path.exists()
    }
}

/// Makes a rename or a link in `dir` durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

impl StateStore for FileStore {
    fn lock(
        &self,
        stack: &str,
        operation: &str,
        timeout: Duration,
    ) -> Result<Box<dyn StateLock + '_>, StateError> {
        let dir = self.stack_dir(stack);
        fs::create_dir_all(&dir).map_err(write_err(&dir))?;
        let path = dir.join("lock");
        let info = lock_info(operation);
        let start = Instant::now();
        loop {
            if let Some(file) = try_take(&dir, &path, &info)? {
                return Ok(Box::new(FileLock {
                    store: self,
                    stack: stack.to_string(),
                    lock_path: path,
                    _file: file,
                    journal: None,
                    journal_broken: false,
                }));
            }
            let waited = start.elapsed();
            if waited >= timeout {
                let holder = read_lock_info(&path).unwrap_or(LockInfo {
                    pid: 0,
                    host: "unknown (unreadable lock file)".to_string(),
                    since: 0,
                    operation: "unknown".to_string(),
                });
                return Err(StateError::Locked {
                    stack: stack.to_string(),
                    holder,
                    waited,
                });
            }
            std::thread::sleep(POLL.min(timeout - waited));
        }
    }

    fn read(&self, stack: &str) -> Result<State, StateError> {
        let path = self.state_path(stack);
        let mut text = String::new();
        let mut state = match File::open(&path) {
            Ok(mut f) => {
                f.read_to_string(&mut text)
                    .map_err(|source| StateError::Read {
                        path: show(&path),
                        source,
                    })?;
                decode(&text, &show(&path))?
            }
            // None yet; a first apply may have journaled changes already.
            Err(e) if e.kind() == io::ErrorKind::NotFound => State::new(stack),
            Err(source) => {
                return Err(StateError::Read {
                    path: show(&path),
                    source,
                })
            }
        };
        replay_journal(&mut state, &path.with_extension("json.journal"))?;
        Ok(state)
    }
}

/// One line of `state.json.journal`: the record of `address` after the save that gave
/// the state `serial` (none: forgotten).
#[derive(Serialize)]
struct JournalLine<'a> {
    serial: u64,
    address: &'a Address,
    recorded: Option<&'a Recorded>,
}

#[derive(Deserialize)]
struct JournalEntry {
    serial: u64,
    address: Address,
    recorded: Option<Recorded>,
}

/// Applies to `state` the lines of the journal at `path` newer than its serial. A last
/// line without its newline was cut short by a crash: ignored. Any other line that does
/// not read is a corrupt journal.
fn replay_journal(state: &mut State, path: &Path) -> Result<(), StateError> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(StateError::Read {
                path: show(path),
                source,
            })
        }
    };
    let complete = text.rfind('\n').map_or("", |end| &text[..end]);
    for (n, line) in complete.lines().enumerate() {
        let entry: JournalEntry = serde_json::from_str(line).map_err(|e| StateError::Corrupt {
            path: format!("{}:{}", show(path), n + 1),
            message: e.to_string(),
        })?;
        if entry.serial <= state.serial {
            continue;
        }
        state.serial = entry.serial;
        match entry.recorded {
            Some(recorded) => {
                state.resources.insert(entry.address, recorded);
            }
            None => {
                state.resources.remove(&entry.address);
            }
        }
    }
    Ok(())
}

/// One attempt at the lock: `Some(file)` holding the advisory lock when taken, `None`
/// when a live process holds it.
fn try_take(dir: &Path, path: &Path, info: &LockInfo) -> Result<Option<File>, StateError> {
    let text = serde_json::to_string(info).unwrap_or_default();
    // A fresh lock file, complete and already locked before anyone can see it.
    let temp = dir.join(format!(
        "lock.{}.{}.tmp",
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temp)
        .map_err(write_err(&temp))?;
    let fresh = (|| {
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        file.try_lock().map_err(io::Error::from)?;
        fs::hard_link(&temp, path)
    })();
    let _ = fs::remove_file(&temp);
    match fresh {
        Ok(()) => {
            sync_dir(dir).map_err(write_err(dir))?;
            return Ok(Some(file));
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => drop(file),
        Err(e) => return Err(write_err(path)(e)),
    }
    // A lock file exists: is its holder alive?
    let mut existing = match OpenOptions::new().read(true).write(true).open(path) {
        Ok(f) => f,
        // Let go between our link and our open: try again at the next poll.
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(write_err(path)(e)),
    };
    match existing.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => return Ok(None),
        Err(TryLockError::Error(e)) => return Err(write_err(path)(e)),
    }
    if !still_at(&existing, path) {
        // We locked a file its holder had just removed; the next poll finds the new one.
        return Ok(None);
    }
    // Stale: its holder died without letting go. Take it over, naming ourselves.
    existing.set_len(0).map_err(write_err(path))?;
    existing
        .write_all(text.as_bytes())
        .map_err(write_err(path))?;
    existing.sync_all().map_err(write_err(path))?;
    Ok(Some(existing))
}

/// The held lock of one stack in a [`FileStore`].
struct FileLock<'a> {
    store: &'a FileStore,
    stack: String,
    lock_path: PathBuf,
    /// Holds the advisory lock for as long as this value lives.
    _file: File,
    /// `state.json.journal`, open for appending once this lock wrote to it.
    journal: Option<File>,
    /// An append failed midway: the next saves are whole (and remove the journal), so
    /// that no line is ever written after a cut one.
    journal_broken: bool,
}

impl FileLock<'_> {
    fn journal_path(&self) -> PathBuf {
        self.store.stack_dir(&self.stack).join("state.json.journal")
    }

    /// Writes `state` whole and atomically, with the previous version as backup, then
    /// removes the journal it now contains.
    fn write_whole(&mut self, state: &State) -> Result<(), StateError> {
        let dir = self.store.stack_dir(&self.stack);
        let path = dir.join("state.json");
        let backup = dir.join("state.json.backup");
        let temp = dir.join(format!("state.json.{}.tmp", std::process::id()));
        let write = || -> io::Result<()> {
            let mut f = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .open(&temp)?;
            f.write_all(encode(state).as_bytes())?;
            f.sync_all()
        };
        if let Err(e) = write() {
            let _ = fs::remove_file(&temp);
            return Err(write_err(&temp)(e));
        }
        // The previous version becomes the backup: a second name for its file, so that
        // `state.json` itself is never missing.
        if path.exists() {
            match fs::remove_file(&backup) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(write_err(&backup)(e)),
            }
            fs::hard_link(&path, &backup).map_err(write_err(&backup))?;
        }
        fs::rename(&temp, &path).map_err(write_err(&path))?;
        sync_dir(&dir).map_err(write_err(&dir))?;
        // Every line of the journal is in `state.json` now (and a reader skips lines
        // as old as its serial, should the removal not reach the disk).
        self.journal = None;
        self.journal_broken = false;
        let journal = self.journal_path();
        match fs::remove_file(&journal) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(write_err(&journal)(e)),
        }
    }

    /// Appends one line to the journal and syncs it.
    fn append(&mut self, line: &[u8]) -> io::Result<()> {
        let journal = match &mut self.journal {
            Some(file) => file,
            None => {
                let path = self.journal_path();
                let file = OpenOptions::new().create(true).append(true).open(&path)?;
                // The journal's name must survive a crash as its lines do.
                sync_dir(&self.store.stack_dir(&self.stack))?;
                self.journal.insert(file)
            }
        };
        journal.write_all(line)?;
        journal.sync_data()
    }
}

impl StateLock for FileLock<'_> {
    fn load(&self) -> Result<State, StateError> {
        self.store.read(&self.stack)
    }

    fn save(&mut self, state: &mut State) -> Result<(), StateError> {
        state.serial += 1;
        self.write_whole(state)
    }

    fn save_change(&mut self, state: &mut State, address: &Address) -> Result<(), StateError> {
        if self.journal_broken {
            return self.save(state);
        }
        if self.journal.is_none() && self.journal_path().exists() {
            // Left by a holder that died (its last line may be cut): folded first, so
            // that this lock's lines never follow a cut one.
            let left = self.load()?;
            self.write_whole(&left)?;
        }
        state.serial += 1;
        let mut line = serde_json::to_string(&JournalLine {
            serial: state.serial,
            address,
            recorded: state.resources.get(address),
        })
        .unwrap_or_else(|e| unreachable!("a state record serialises: {e}"));
        line.push('\n');
        if let Err(e) = self.append(line.as_bytes()) {
            self.journal = None;
            self.journal_broken = true;
            return Err(write_err(&self.journal_path())(e));
        }
        Ok(())
    }
}

impl Drop for FileLock<'_> {
    fn drop(&mut self) {
        // Fold the journal into `state.json` (as it is: the serial stays). Should this
        // fail, the journal stays and is replayed by the next reader.
        if self.journal_path().exists() {
            if let Ok(state) = self.load() {
                let _ = self.write_whole(&state);
            }
        }
        // Remove the file while still holding the advisory lock; a waiter that opened
        // it meanwhile sees it is no longer at the path and looks again.
        let _ = fs::remove_file(&self.lock_path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::Address;
    use crate::resource::{ResourceConfig, VolumeResource};
    use crate::state::Recorded;

    fn volume_state(store: &FileStore) -> State {
        let mut lock = store.lock("blog", "apply", Duration::ZERO).unwrap();
        let mut state = lock.load().unwrap();
        state.resources.insert(
            Address::volume("data"),
            Recorded {
                config: ResourceConfig::Volume(VolumeResource {
                    name: "blog_data".into(),
                }),
                id: String::new(),
                attributes: Default::default(),
            },
        );
        lock.save(&mut state).unwrap();
        state
    }

    #[test]
    fn missing_state_reads_as_empty() {
        let root = tempfile::tempdir().unwrap();
        let store = FileStore::new(root.path());
        assert_eq!(store.read("blog").unwrap(), State::new("blog"));
    }

    #[test]
    fn save_writes_atomically_and_keeps_a_backup() {
        let root = tempfile::tempdir().unwrap();
        let store = FileStore::new(root.path());
        let first = volume_state(&store);
        assert_eq!(first.serial, 1);
        assert_eq!(store.read("blog").unwrap(), first);
        assert!(!store.stack_dir("blog").join("state.json.backup").exists());

        let mut lock = store.lock("blog", "apply", Duration::ZERO).unwrap();
        let mut second = lock.load().unwrap();
        second.resources.clear();
        lock.save(&mut second).unwrap();
        drop(lock);
        assert_eq!(store.read("blog").unwrap().serial, 2);
        let backup = fs::read_to_string(store.stack_dir("blog").join("state.json.backup")).unwrap();
        assert_eq!(decode(&backup, "backup").unwrap(), first);
        // No temporary file and no lock file are left behind.
        let mut names: Vec<_> = fs::read_dir(store.stack_dir("blog"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["state.json", "state.json.backup"]);
    }

    fn volume(name: &str) -> Recorded {
        Recorded {
            config: ResourceConfig::Volume(VolumeResource {
                name: format!("blog_{name}"),
            }),
            id: String::new(),
            attributes: Default::default(),
        }
    }

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn changes_are_journaled_read_back_and_folded_when_the_lock_is_let_go() {
        let root = tempfile::tempdir().unwrap();
        let store = FileStore::new(root.path());
        let dir = store.stack_dir("blog");
        let mut lock = store.lock("blog", "apply", Duration::ZERO).unwrap();
        let mut state = lock.load().unwrap();
        let (a, b) = (Address::volume("a"), Address::volume("b"));
        state.resources.insert(a.clone(), volume("a"));
        lock.save_change(&mut state, &a).unwrap();
        state.resources.insert(b.clone(), volume("b"));
        lock.save_change(&mut state, &b).unwrap();
        state.resources.remove(&a);
        lock.save_change(&mut state, &a).unwrap();
        assert_eq!(state.serial, 3);
        // One line per change, no state.json yet; a reader sees every change.
        assert_eq!(names_in(&dir), ["lock", "state.json.journal"]);
        let journal = fs::read_to_string(dir.join("state.json.journal")).unwrap();
        assert_eq!(journal.lines().count(), 3);
        assert_eq!(store.read("blog").unwrap(), state);
        drop(lock);
        // Folded into state.json, the serial kept; the journal is gone.
        assert_eq!(names_in(&dir), ["state.json"]);
        let text = fs::read_to_string(dir.join("state.json")).unwrap();
        assert_eq!(decode(&text, "state.json").unwrap(), state);
        assert_eq!(store.read("blog").unwrap(), state);
    }

    #[test]
    fn a_journal_line_cut_short_is_ignored_and_old_lines_are_skipped() {
        let root = tempfile::tempdir().unwrap();
        let store = FileStore::new(root.path());
        let first = volume_state(&store); // serial 1, volume.data
        let journal = store.stack_dir("blog").join("state.json.journal");
        let line = |serial: u64, name: &str| {
            let address = Address::volume(name);
            let recorded = volume(name);
            serde_json::to_string(&JournalLine {
                serial,
                address: &address,
                recorded: Some(&recorded),
            })
            .unwrap()
        };
        // A line as old as the state (already in it), one newer, one cut by a crash.
        let cut = line(3, "cut");
        let text = format!(
            "{}\n{}\n{}",
            line(1, "old"),
            line(2, "new"),
            &cut[..cut.len() / 2]
        );
        fs::write(&journal, text).unwrap();
        let state = store.read("blog").unwrap();
        assert_eq!(state.serial, 2);
        let names: Vec<String> = state.resources.keys().map(|a| a.to_string()).collect();
        assert_eq!(names, ["volume.data", "volume.new"]);
        assert_eq!(first.resources.len() + 1, state.resources.len());

        // The next holder folds what was left before journaling its own changes.
        {
            let mut lock = store.lock("blog", "apply", Duration::ZERO).unwrap();
            let mut state = lock.load().unwrap();
            let next = Address::volume("next");
            state.resources.insert(next.clone(), volume("next"));
            lock.save_change(&mut state, &next).unwrap();
            assert_eq!(state.serial, 3);
            let journal_text = fs::read_to_string(&journal).unwrap();
            assert_eq!(journal_text.lines().count(), 1, "{journal_text}");
            assert_eq!(store.read("blog").unwrap(), state);
        }
        assert!(!journal.exists());

        // A cut line followed by others is not a crash's: the journal is corrupt.
        fs::write(&journal, format!("{}\n{}\n", &cut[..10], line(2, "new"))).unwrap();
        let err = store.read("blog").unwrap_err().to_string();
        assert!(err.contains("state.json.journal:1"), "{err}");
    }

    #[test]
    fn corrupt_state_names_its_path() {
        let root = tempfile::tempdir().unwrap();
        let store = FileStore::new(root.path());
        fs::create_dir_all(store.stack_dir("blog")).unwrap();
        fs::write(store.state_path("blog"), "{ not json").unwrap();
        let err = store.read("blog").unwrap_err();
        assert!(matches!(err, StateError::Corrupt { .. }), "{err}");
        assert!(err
            .to_string()
            .contains(&store.state_path("blog").display().to_string()));
    }

    #[test]
    fn a_held_lock_makes_the_second_wait_then_fail_naming_the_holder() {
        let root = tempfile::tempdir().unwrap();
        let store = FileStore::new(root.path());
        let _held = store.lock("blog", "apply", Duration::ZERO).unwrap();
        let start = Instant::now();
        let err = match store.lock("blog", "destroy", Duration::from_millis(100)) {
            Err(e) => e,
            Ok(_) => panic!("a second lock was granted"),
        };
        assert!(start.elapsed() >= Duration::from_millis(100));
        match &err {
            StateError::Locked { holder, stack, .. } => {
                assert_eq!(stack, "blog");
                assert_eq!(holder.pid, std::process::id());
                assert_eq!(holder.operation, "apply");
            }
            other => panic!("unexpected {other}"),
        }
        assert!(err.to_string().contains("apply by pid"));
        assert_eq!(store.holder("blog").unwrap().operation, "apply");
    }

    #[test]
    fn a_waiter_gets_the_lock_once_it_is_let_go() {
        let root = tempfile::tempdir().unwrap();
        let store = FileStore::new(root.path());
        let held = store.lock("blog", "apply", Duration::ZERO).unwrap();
        std::thread::scope(|s| {
            let waiter = s.spawn(|| store.lock("blog", "apply", Duration::from_secs(10)).is_ok());
            std::thread::sleep(Duration::from_millis(60));
            drop(held);
            assert!(waiter.join().unwrap());
        });
        assert!(store.holder("blog").is_none());
    }

    #[test]
    fn a_lock_file_left_by_a_dead_process_is_taken_over() {
        let root = tempfile::tempdir().unwrap();
        let store = FileStore::new(root.path());
        fs::create_dir_all(store.stack_dir("blog")).unwrap();
        let dead = LockInfo {
            pid: 999_999,
            host: "gone".into(),
            since: 1,
            operation: "apply".into(),
        };
        // A lock file with nobody holding its advisory lock: its writer was killed.
        fs::write(
            store.stack_dir("blog").join("lock"),
            serde_json::to_string(&dead).unwrap(),
        )
        .unwrap();
        assert!(store.holder("blog").is_none());
        let lock = store.lock("blog", "apply", Duration::ZERO).unwrap();
        let now = store.holder("blog").unwrap();
        assert_eq!(now.pid, std::process::id());
        drop(lock);
        assert!(!store.stack_dir("blog").join("lock").exists());
    }

    #[test]
    fn a_lock_held_by_a_killed_process_is_taken_over() {
        let root = tempfile::tempdir().unwrap();
        let store = FileStore::new(root.path());
        // The example `hold_lock` holds the lock in a child process. `cargo test` builds it
        // beside the tests (target/debug/examples/); `cargo test --lib` does not, so then
        // it is built here with the cargo that runs this test.
        let exe = std::env::current_exe().unwrap();
        let examples = exe
            .parent()
            .and_then(|deps| deps.parent())
            .unwrap()
            .join("examples");
        let hold_lock = examples.join("hold_lock");
        if !hold_lock.exists() {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let built = std::process::Command::new(cargo)
                .args(["build", "-p", "quai-core", "--example", "hold_lock"])
                .status()
                .unwrap();
            assert!(built.success(), "cannot build the example hold_lock");
        }
        let mut child = std::process::Command::new(&hold_lock)
            .arg(root.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("the example hold_lock, built by `cargo test`");
        let start = Instant::now();
        let holder = loop {
            if let Some(h) = store.holder("blog") {
                break h;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the child never locked"
            );
            std::thread::sleep(Duration::from_millis(10));
        };
        assert_eq!(holder.pid, child.id());
        assert!(store.lock("blog", "apply", Duration::ZERO).is_err());
        // SIGKILL: no destructor runs, the lock file stays.
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(store.stack_dir("blog").join("lock").exists());
        let lock = store.lock("blog", "apply", Duration::from_secs(5)).unwrap();
        assert_eq!(store.holder("blog").unwrap().pid, std::process::id());
        drop(lock);
    }
}
