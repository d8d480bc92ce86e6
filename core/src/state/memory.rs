//! A state store in memory (tests, the playground), with the same semantics as the file
//! store: an empty state for an unknown stack, a serial bumped by each save, and one lock
//! per stack that a second taker waits for, up to its timeout.
//!
//! Never touches the disk. In the browser (wasm32) it never blocks: there is only one
//! thread there, so a held lock fails at once instead of waiting.

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

use crate::address::Address;
use crate::state::{lock_info, LockInfo, State, StateError, StateLock, StateStore};

/// States and locks, by stack name, in memory.
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
    released: Condvar,
}

#[derive(Default)]
struct Inner {
    states: BTreeMap<String, State>,
    locks: BTreeMap<String, LockInfo>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Who holds the lock of `stack`, if anyone.
    pub fn holder(&self, stack: &str) -> Option<LockInfo> {
        self.inner().locks.get(stack).cloned()
    }

    /// Waits for the lock of `stack` to be free; returns the guard with the lock free,
    /// or the holder and the time waited.
    #[cfg(not(target_arch = "wasm32"))]
    fn wait_free<'a>(
        &'a self,
        mut inner: MutexGuard<'a, Inner>,
        stack: &str,
        timeout: Duration,
    ) -> Result<MutexGuard<'a, Inner>, (LockInfo, Duration)> {
        let start = std::time::Instant::now();
        loop {
            let Some(holder) = inner.locks.get(stack).cloned() else {
                return Ok(inner);
            };
            let waited = start.elapsed();
            if waited >= timeout {
                return Err((holder, waited));
            }
            inner = self
                .released
                .wait_timeout(inner, timeout - waited)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    #[cfg(target_arch = "wasm32")]
    fn wait_free<'a>(
        &'a self,
        inner: MutexGuard<'a, Inner>,
        stack: &str,
        _timeout: Duration,
    ) -> Result<MutexGuard<'a, Inner>, (LockInfo, Duration)> {
        match inner.locks.get(stack).cloned() {
            Some(holder) => Err((holder, Duration::ZERO)),
            None => Ok(inner),
        }
    }
}

impl StateStore for MemoryStore {
    fn lock(
        &self,
        stack: &str,
        operation: &str,
        timeout: Duration,
    ) -> Result<Box<dyn StateLock + '_>, StateError> {
        let inner = self.inner();
        let mut inner = self
            .wait_free(inner, stack, timeout)
            .map_err(|(holder, waited)| StateError::Locked {
                stack: stack.to_string(),
                holder,
                waited,
            })?;
        inner.locks.insert(stack.to_string(), lock_info(operation));
        Ok(Box::new(MemoryLock {
            store: self,
            stack: stack.to_string(),
        }))
    }

    fn read(&self, stack: &str) -> Result<State, StateError> {
        Ok(self
            .inner()
            .states
            .get(stack)
            .cloned()
            .unwrap_or_else(|| State::new(stack)))
    }
}

/// The held lock of one stack in a [`MemoryStore`].
struct MemoryLock<'a> {
    store: &'a MemoryStore,
    stack: String,
}

impl StateLock for MemoryLock<'_> {
    fn load(&self) -> Result<State, StateError> {
        self.store.read(&self.stack)
    }

    fn save(&mut self, state: &mut State) -> Result<(), StateError> {
        state.serial += 1;
        self.store
            .inner()
            .states
            .insert(self.stack.clone(), state.clone());
        Ok(())
    }

    /// Copies the one record that changed, not the whole state.
    fn save_change(&mut self, state: &mut State, address: &Address) -> Result<(), StateError> {
        state.serial += 1;
        let mut inner = self.store.inner();
        let Some(kept) = inner.states.get_mut(&self.stack) else {
            inner.states.insert(self.stack.clone(), state.clone());
            return Ok(());
        };
        kept.serial = state.serial;
        match state.resources.get(address) {
            Some(recorded) => {
                kept.resources.insert(address.clone(), recorded.clone());
            }
            None => {
                kept.resources.remove(address);
            }
        }
        Ok(())
    }
}

impl Drop for MemoryLock<'_> {
    fn drop(&mut self) {
        self.store.inner().locks.remove(&self.stack);
        self.store.released.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_stack_reads_as_empty() {
        let store = MemoryStore::new();
        assert_eq!(store.read("blog").unwrap(), State::new("blog"));
    }

    #[test]
    fn save_bumps_the_serial_and_is_read_back() {
        let store = MemoryStore::new();
        let mut lock = store.lock("blog", "apply", Duration::ZERO).unwrap();
        let mut state = lock.load().unwrap();
        lock.save(&mut state).unwrap();
        lock.save(&mut state).unwrap();
        assert_eq!(state.serial, 2);
        drop(lock);
        assert_eq!(store.read("blog").unwrap().serial, 2);
    }

    #[test]
    fn a_change_saved_alone_is_read_back_like_a_whole_save() {
        use crate::resource::{ResourceConfig, VolumeResource};
        use crate::state::Recorded;
        let store = MemoryStore::new();
        let mut lock = store.lock("blog", "apply", Duration::ZERO).unwrap();
        let mut state = lock.load().unwrap();
        let (a, b) = (Address::volume("a"), Address::volume("b"));
        for address in [&a, &b] {
            let recorded = Recorded {
                config: ResourceConfig::Volume(VolumeResource {
                    name: address.name.clone(),
                }),
                id: String::new(),
                attributes: Default::default(),
            };
            state.resources.insert(address.clone(), recorded);
            lock.save_change(&mut state, address).unwrap();
        }
        state.resources.remove(&a);
        lock.save_change(&mut state, &a).unwrap();
        assert_eq!(state.serial, 3);
        assert_eq!(store.read("blog").unwrap(), state);
        drop(lock);
        assert_eq!(store.read("blog").unwrap(), state);
    }

    #[test]
    fn a_second_lock_names_the_holder() {
        let store = MemoryStore::new();
        let _held = store.lock("blog", "apply", Duration::ZERO).unwrap();
        let err = match store.lock("blog", "destroy", Duration::from_millis(20)) {
            Err(e) => e,
            Ok(_) => panic!("a second lock was granted"),
        };
        match err {
            StateError::Locked { holder, waited, .. } => {
                assert_eq!(holder.operation, "apply");
                assert_eq!(holder.pid, std::process::id());
                assert!(waited >= Duration::from_millis(20));
            }
            other => panic!("unexpected error {other}"),
        }
        // Another stack is not locked.
        assert!(store.lock("shop", "apply", Duration::ZERO).is_ok());
    }

    #[test]
    fn a_waiter_gets_the_lock_when_it_is_let_go() {
        let store = MemoryStore::new();
        let held = store.lock("blog", "apply", Duration::ZERO).unwrap();
        std::thread::scope(|s| {
            let waiter = s.spawn(|| {
                store
                    .lock("blog", "apply", Duration::from_secs(10))
                    .map(|_| ())
            });
            std::thread::sleep(Duration::from_millis(30));
            drop(held);
            assert!(waiter.join().unwrap().is_ok());
        });
        assert!(store.holder("blog").is_none());
    }
}
