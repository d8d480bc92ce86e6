//! The state store on disk: one folder per stack under the quai root, the state written
//! atomically (temporary file, fsync, rename, fsync of the folder) with a backup of the
//! previous version, and a lock file naming pid, host and time.
