//! The container's console, when its spec asks for a terminal (`process.terminal`).
//! Inside, the init opens a new pseudo-terminal pair from the container's own devpts
//! (`/dev/ptmx` → `pts/ptmx`), binds the slave on `/dev/console` and makes it its
//! controlling terminal and its stdin, stdout and stderr; the master goes to the caller
//! over a unix socket (the console socket, SCM_RIGHTS). Outside, `run` relays a master
//! to its own stdin and stdout.
//! The master must never stay in the container, and no host terminal is ever opened
//! inside it. Containers without a terminal never reach this module.

use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::Path;

use nix::mount::MsFlags;
use oci_spec::runtime::Spec;

use super::sys::mount::{fd_path, mount, open_path};
use super::sys::{terminal, SysError};

/// What went wrong setting up or passing on a container's terminal.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("the spec asks for a terminal (process.terminal is true): give a --console-socket to receive it")]
    NoSocket,
    #[error(
        "a --console-socket is given but the spec asks for no terminal (process.terminal is false)"
    )]
    NoTerminal,
    #[error("cannot connect to the console socket {path}: {source}")]
    Connect {
        path: std::path::PathBuf,
        source: SysError,
    },
    #[error("cannot prepare /dev/console: {message}")]
    Prepare { message: String },
    #[error(transparent)]
    Sys(#[from] SysError),
}

/// The path of the container's console.
pub const CONSOLE: &str = "/dev/console";

/// Whether the spec's process asks for a terminal.
pub fn wants_terminal(spec: &Spec) -> bool {
    spec.process()
        .as_ref()
        .and_then(|p| p.terminal())
        .unwrap_or(false)
}

/// Host side, before the launch: checks that a console socket comes with a terminal
/// and a terminal with a console socket, and connects to the socket.
pub fn connect(terminal: bool, socket: Option<&Path>) -> Result<Option<OwnedFd>, ConsoleError> {
    match (terminal, socket) {
        (false, None) => Ok(None),
        (false, Some(_)) => Err(ConsoleError::NoTerminal),
        (true, None) => Err(ConsoleError::NoSocket),
        (true, Some(path)) => {
            terminal::connect_unix(path)
                .map(Some)
                .map_err(|source| ConsoleError::Connect {
                    path: path.to_path_buf(),
                    source,
                })
        }
    }
}

/// Container side, after pivot_root: opens a pair from the container's devpts, binds
/// the slave on /dev/console, sends the master over `socket` and closes it here, then
/// makes the slave the controlling terminal of a new session and descriptors 0, 1, 2.
pub fn attach(socket: RawFd) -> Result<(), ConsoleError> {
    let (master, name) = terminal::open_pair()?;
    let slave = terminal::open_terminal(Path::new(&name))?;
    bind_console(Path::new(&name))?;
    terminal::send_fd(socket, master.as_raw_fd(), &name)?;
    drop(master);
    terminal::set_controlling(slave.as_raw_fd())?;
    for target in 0..3 {
        nix::unistd::dup2(slave.as_raw_fd(), target)
            .map_err(|e| SysError::new("dup2", &name, e))?;
    }
    if slave.as_raw_fd() <= 2 {
        // It is one of 0, 1, 2 now: keep it open.
        std::mem::forget(slave);
    }
    Ok(())
}

/// Binds the terminal at `slave` on /dev/console, made as an empty file if missing (a
/// symlink there is replaced: the mount must land in the container's /dev).
fn bind_console(slave: &Path) -> Result<(), ConsoleError> {
    let console = Path::new(CONSOLE);
    let prepare = |e: std::io::Error| ConsoleError::Prepare {
        message: e.to_string(),
    };
    if console.symlink_metadata().is_ok_and(|m| m.is_symlink()) {
        std::fs::remove_file(console).map_err(prepare)?;
    }
    if console.symlink_metadata().is_err() {
        std::fs::File::create(console).map_err(prepare)?;
    }
    let handle = open_path(console)?;
    mount(Some(slave), &fd_path(&handle), None, MsFlags::MS_BIND, None)?;
    Ok(())
}

/// Receives a terminal master sent over `socket`.
pub fn receive_master(socket: BorrowedFd<'_>) -> Result<OwnedFd, ConsoleError> {
    Ok(terminal::receive_fd(socket.as_raw_fd())?)
}

/// Copies between this process's stdin and stdout and a container's terminal master.
/// The caller polls [`Relay::master`] and [`Relay::stdin`] while they are open.
pub struct Relay {
    master: OwnedFd,
    master_open: bool,
    stdin_open: bool,
    eof: u8,
}

impl Relay {
    /// Relays `master`; gives it the window size of stdin when stdin is a terminal.
    pub fn new(master: OwnedFd) -> Relay {
        let stdin = std::io::stdin();
        if terminal::is_terminal(stdin.as_fd()) {
            let _ = terminal::copy_window_size(0, master.as_raw_fd());
        }
        let eof = terminal::eof_char(master.as_fd());
        Relay {
            master,
            master_open: true,
            stdin_open: true,
            eof,
        }
    }

    /// The master, while it may still have output.
    pub fn master(&self) -> Option<BorrowedFd<'_>> {
        self.master_open.then(|| self.master.as_fd())
    }

    /// Stdin, until its end.
    pub fn stdin(&self) -> Option<BorrowedFd<'static>> {
        // SAFETY: descriptor 0 stays open for the whole process.
        self.stdin_open
            .then(|| unsafe { BorrowedFd::borrow_raw(0) })
    }

    /// Copies what the master has to stdout. At the end of the container's output (every
    /// slave closed), stops watching the master.
    pub fn master_ready(&mut self) {
        let mut buf = [0u8; 8192];
        match nix::unistd::read(self.master.as_raw_fd(), &mut buf) {
            Ok(0) | Err(_) => self.master_open = false,
            Ok(n) => {
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(&buf[..n]).and_then(|()| out.flush());
            }
        }
    }

    /// Copies what stdin has to the master; at the end of stdin, types the terminal's
    /// end-of-file character for the program and stops watching stdin.
    pub fn stdin_ready(&mut self) {
        let mut buf = [0u8; 8192];
        match nix::unistd::read(0, &mut buf) {
            Ok(0) | Err(_) => {
                self.stdin_open = false;
                let _ = write_all(self.master.as_fd(), &[self.eof]);
            }
            Ok(n) => {
                let _ = write_all(self.master.as_fd(), &buf[..n]);
            }
        }
    }

    /// Gives the master the window size of stdin (on SIGWINCH).
    pub fn resize(&self) {
        let _ = terminal::copy_window_size(0, self.master.as_raw_fd());
    }

    /// Copies what output is left, without waiting for more.
    pub fn drain(&mut self) {
        while self.master_open {
            let mut probe = [nix::poll::PollFd::new(
                self.master.as_fd(),
                nix::poll::PollFlags::POLLIN,
            )];
            match nix::poll::poll(&mut probe, nix::poll::PollTimeout::ZERO) {
                Ok(n) if n > 0 => self.master_ready(),
                _ => break,
            }
        }
    }
}

fn write_all(fd: BorrowedFd<'_>, mut bytes: &[u8]) -> nix::Result<()> {
    while !bytes.is_empty() {
        match nix::unistd::write(fd, bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Puts stdin in raw mode when it is a terminal (keys go to the container as typed);
/// the settings come back when the guard drops.
pub fn raw_stdin() -> Option<terminal::RawMode<'static>> {
    // SAFETY: descriptor 0 stays open for the whole process.
    let stdin = unsafe { BorrowedFd::borrow_raw(0) };
    if !terminal::is_terminal(stdin) {
        return None;
    }
    terminal::RawMode::enter(stdin).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_terminal_needs_a_socket_and_a_socket_needs_a_terminal() {
        assert!(matches!(connect(false, None), Ok(None)));
        assert!(matches!(connect(true, None), Err(ConsoleError::NoSocket)));
        assert!(matches!(
            connect(false, Some(Path::new("/nonexistent"))),
            Err(ConsoleError::NoTerminal)
        ));
        assert!(matches!(
            connect(true, Some(Path::new("/nonexistent/console.sock"))),
            Err(ConsoleError::Connect { .. })
        ));
    }

    #[test]
    fn a_master_sent_over_a_socket_arrives_and_carries_the_terminal() {
        let (ours, theirs) = terminal::socket_pair().unwrap();
        let (master, name) = terminal::open_pair().unwrap();
        assert!(name.starts_with("/dev/pts/"), "{name}");
        terminal::send_fd(theirs.as_raw_fd(), master.as_raw_fd(), &name).unwrap();
        let received = receive_master(ours.as_fd()).unwrap();
        assert_ne!(received.as_raw_fd(), master.as_raw_fd());
        drop(master);
        // What the slave writes arrives on the received master.
        let slave = terminal::open_terminal(Path::new(&name)).unwrap();
        write_all(slave.as_fd(), b"bonjour\n").unwrap();
        let mut buf = [0u8; 64];
        let n = nix::unistd::read(received.as_raw_fd(), &mut buf).unwrap();
        assert_eq!(&buf[..n], b"bonjour\r\n");
    }

    #[test]
    fn the_spec_says_whether_a_terminal_is_wanted() {
        let mut spec = Spec::default();
        assert!(!wants_terminal(&spec));
        let mut process = spec.process().clone().unwrap();
        process.set_terminal(Some(true));
        spec.set_process(Some(process));
        assert!(wants_terminal(&spec));
    }
}
