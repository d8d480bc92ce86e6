//! Terminals and descriptor passing: pseudo-terminal pairs, the controlling terminal,
//! window sizes, raw mode, and sending a descriptor over a unix socket (SCM_RIGHTS).
//! No policy: the caller says which terminal goes where.

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::path::Path;

use nix::fcntl::OFlag;
use nix::sys::socket::{
    connect, recvmsg, sendmsg, socket, AddressFamily, ControlMessage, ControlMessageOwned,
    MsgFlags, SockFlag, SockType, UnixAddr,
};
use nix::sys::termios::{self, SetArg, SpecialCharacterIndices, Termios};

use super::{SysError, SysResult};

/// Opens a new pseudo-terminal pair through `/dev/ptmx` (in a container, its own
/// devpts instance): the master, and the slave's path.
pub fn open_pair() -> SysResult<(OwnedFd, String)> {
    let master = nix::pty::posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC)
        .map_err(|e| SysError::new("open", "/dev/ptmx", e))?;
    nix::pty::grantpt(&master).map_err(|e| SysError::new("grantpt", "/dev/ptmx", e))?;
    nix::pty::unlockpt(&master).map_err(|e| SysError::new("unlockpt", "/dev/ptmx", e))?;
    let name =
        nix::pty::ptsname_r(&master).map_err(|e| SysError::new("ptsname", "/dev/ptmx", e))?;
    // SAFETY: the master's descriptor is handed over whole to the OwnedFd.
    let master = unsafe { OwnedFd::from_raw_fd(master.into_raw_fd()) };
    Ok((master, name))
}

/// Opens a terminal by path without making it the controlling terminal.
pub fn open_terminal(path: &Path) -> SysResult<OwnedFd> {
    nix::fcntl::open(
        path,
        OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    // SAFETY: `open` returned a fresh descriptor that nothing else owns.
    .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) })
    .map_err(|e| SysError::new("open", path.display(), e))
}

/// Starts a new session and makes `terminal` its controlling terminal.
pub fn set_controlling(terminal: RawFd) -> SysResult<()> {
    nix::unistd::setsid().map_err(|e| SysError::new("setsid", "init", e))?;
    // SAFETY: TIOCSCTTY takes an int argument; 0 means "do not steal".
    if unsafe { libc::ioctl(terminal, libc::TIOCSCTTY, 0) } == -1 {
        return Err(SysError::last("ioctl(TIOCSCTTY)", terminal));
    }
    Ok(())
}

/// Connects a unix stream socket to `path`.
pub fn connect_unix(path: &Path) -> SysResult<OwnedFd> {
    let fd = socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(|e| SysError::new("socket", path.display(), e))?;
    let addr = UnixAddr::new(path).map_err(|e| SysError::new("connect", path.display(), e))?;
    connect(fd.as_raw_fd(), &addr).map_err(|e| SysError::new("connect", path.display(), e))?;
    Ok(fd)
}

/// A connected pair of unix stream sockets.
pub fn socket_pair() -> SysResult<(OwnedFd, OwnedFd)> {
    nix::sys::socket::socketpair(
        AddressFamily::Unix,
        SockType::Stream,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(|e| SysError::new("socketpair", "console", e))
}

/// Sends `fd` over `socket` (SCM_RIGHTS), with `name` as the message's bytes.
pub fn send_fd(socket: RawFd, fd: RawFd, name: &str) -> SysResult<()> {
    let payload = [IoSlice::new(name.as_bytes())];
    let fds = [fd];
    sendmsg::<UnixAddr>(
        socket,
        &payload,
        &[ControlMessage::ScmRights(&fds)],
        MsgFlags::empty(),
        None,
    )
    .map(|_| ())
    .map_err(|e| SysError::new("sendmsg", name, e))
}

/// Receives one descriptor sent over `socket` (SCM_RIGHTS), close-on-exec.
pub fn receive_fd(socket: RawFd) -> SysResult<OwnedFd> {
    let mut bytes = [0u8; 4096];
    let mut payload = [IoSliceMut::new(&mut bytes)];
    let mut space = nix::cmsg_space!([RawFd; 1]);
    let msg = recvmsg::<UnixAddr>(
        socket,
        &mut payload,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )
    .map_err(|e| SysError::new("recvmsg", "console socket", e))?;
    let cmsgs = msg
        .cmsgs()
        .map_err(|e| SysError::new("recvmsg", "console socket", e))?;
    for cmsg in cmsgs {
        if let ControlMessageOwned::ScmRights(fds) = cmsg {
            if let Some(fd) = fds.first() {
                // SAFETY: the kernel installed this descriptor for us alone.
                return Ok(unsafe { OwnedFd::from_raw_fd(*fd) });
            }
        }
    }
    Err(SysError::new(
        "recvmsg",
        "console socket",
        nix::errno::Errno::ENOMSG,
    ))
}

/// Whether `fd` is a terminal.
pub fn is_terminal(fd: BorrowedFd<'_>) -> bool {
    nix::unistd::isatty(fd.as_raw_fd()).unwrap_or(false)
}

/// Gives `to` the window size of `from` (both terminals).
pub fn copy_window_size(from: RawFd, to: RawFd) -> SysResult<()> {
    let mut size = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ fills the winsize it is given.
    if unsafe { libc::ioctl(from, libc::TIOCGWINSZ, &mut size) } == -1 {
        return Err(SysError::last("ioctl(TIOCGWINSZ)", from));
    }
    // SAFETY: TIOCSWINSZ reads the winsize it is given.
    if unsafe { libc::ioctl(to, libc::TIOCSWINSZ, &size) } == -1 {
        return Err(SysError::last("ioctl(TIOCSWINSZ)", to));
    }
    Ok(())
}

/// The end-of-file character of a terminal (Ctrl-D unless changed).
pub fn eof_char(terminal: BorrowedFd<'_>) -> u8 {
    termios::tcgetattr(terminal)
        .map(|t| t.control_chars[SpecialCharacterIndices::VEOF as usize])
        .unwrap_or(4)
}

/// A terminal switched to raw mode; dropping it restores the old settings.
pub struct RawMode<'a> {
    terminal: BorrowedFd<'a>,
    saved: Termios,
}

impl<'a> RawMode<'a> {
    /// Puts `terminal` in raw mode.
    pub fn enter(terminal: BorrowedFd<'a>) -> SysResult<RawMode<'a>> {
        let saved = termios::tcgetattr(terminal.as_fd())
            .map_err(|e| SysError::new("tcgetattr", terminal.as_raw_fd(), e))?;
        let mut raw = saved.clone();
        termios::cfmakeraw(&mut raw);
        termios::tcsetattr(terminal.as_fd(), SetArg::TCSANOW, &raw)
            .map_err(|e| SysError::new("tcsetattr", terminal.as_raw_fd(), e))?;
        Ok(RawMode { terminal, saved })
    }
}

impl Drop for RawMode<'_> {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(self.terminal, SetArg::TCSANOW, &self.saved);
    }
}
