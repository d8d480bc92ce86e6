//! Takes the lock of stack `blog` in the file store at the folder given as argument,
//! then sleeps until killed. The state store's tests run it as a child process and
//! SIGKILL it, to check that a lock left by a killed process is taken over.
//!
//! Usage: `hold_lock ROOT`

use std::time::Duration;

use quai_core::state::{file::FileStore, StateStore};

fn main() {
    let root = std::env::args().nth(1).expect("usage: hold_lock ROOT");
    let store = FileStore::new(root);
    let _lock = store.lock("blog", "apply", Duration::ZERO).expect("lock");
    std::thread::sleep(Duration::from_secs(60));
}
