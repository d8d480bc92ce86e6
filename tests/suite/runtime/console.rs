//! A container's terminal (process.terminal): its master reaches the caller over a
//! console socket (SCM_RIGHTS), the program's stdio and /dev/console are its pty, and
//! `run` relays it without a socket. Without a terminal there is no /dev/console.

use std::io::{IoSliceMut, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags, UnixAddr};

use super::*;

/// What the terminal bundle prints, through its pty (which turns \n into \r\n).
const TERMINAL_SCRIPT: &str =
    "tty; test -c /dev/console && echo console-ok; echo to-console > /dev/console";
const TERMINAL_OUTPUT: &str = "/dev/pts/0\r\nconsole-ok\r\nto-console\r\n";

/// A unix socket the test listens on, as a caller of `--console-socket` does.
struct ConsoleSocket {
    dir: tempfile::TempDir,
    listener: UnixListener,
}

impl ConsoleSocket {
    fn new() -> ConsoleSocket {
        let dir = tempfile::tempdir().unwrap();
        let listener = UnixListener::bind(dir.path().join("console.sock")).unwrap();
        listener.set_nonblocking(true).unwrap();
        ConsoleSocket { dir, listener }
    }

    fn path(&self) -> String {
        self.dir
            .path()
            .join("console.sock")
            .to_str()
            .unwrap()
            .to_string()
    }

    /// Accepts the runtime's connection and receives the master it sends.
    fn receive(&self, child: &mut Child) -> OwnedFd {
        let deadline = Instant::now() + Duration::from_secs(10);
        let stream = loop {
            match self.listener.accept() {
                Ok((stream, _)) => break stream,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    if let Some(status) = child.try_wait().unwrap() {
                        let mut err = String::new();
                        let _ =
                            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err);
                        panic!("the runtime ended ({status}) without connecting: {err}");
                    }
                    assert!(Instant::now() < deadline, "no connection on the socket");
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(e) => panic!("accept: {e}"),
            }
        };
        stream.set_nonblocking(false).unwrap();
        let mut bytes = [0u8; 256];
        let mut payload = [IoSliceMut::new(&mut bytes)];
        let mut space = nix::cmsg_space!([RawFd; 1]);
        let msg = recvmsg::<UnixAddr>(
            stream.as_raw_fd(),
            &mut payload,
            Some(&mut space),
            MsgFlags::MSG_CMSG_CLOEXEC,
        )
        .unwrap();
        let fd = msg
            .cmsgs()
            .unwrap()
            .find_map(|c| match c {
                ControlMessageOwned::ScmRights(fds) => fds.first().copied(),
                _ => None,
            })
            .expect("a descriptor sent with SCM_RIGHTS");
        // SAFETY: the kernel installed this descriptor for this process alone.
        unsafe { OwnedFd::from_raw_fd(fd) }
    }
}

/// Everything the terminal prints until its last slave closes (the master reads EIO).
fn read_terminal(master: OwnedFd) -> String {
    let mut text = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let mut fds = [nix::poll::PollFd::new(
            std::os::fd::AsFd::as_fd(&master),
            nix::poll::PollFlags::POLLIN,
        )];
        let ready = nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(10_000u16)).unwrap();
        assert!(
            ready > 0,
            "the terminal stayed open: {}",
            String::from_utf8_lossy(&text)
        );
        match nix::unistd::read(master.as_raw_fd(), &mut buf) {
            Ok(0) | Err(nix::errno::Errno::EIO) => break,
            Ok(n) => text.extend_from_slice(&buf[..n]),
            Err(e) => panic!("read of the master: {e}"),
        }
    }
    String::from_utf8_lossy(&text).into_owned()
}

fn runc_installed() -> bool {
    if Command::new("runc").arg("--version").output().is_ok() {
        return true;
    }
    assert!(std::env::var_os("CI").is_none(), "runc is installed in CI");
    eprintln!("notice: runc not installed, comparison skipped");
    false
}

#[test]
fn runtime_terminal_master_reaches_the_console_socket_at_create() {
    if !as_root("runtime_terminal_master_reaches_the_console_socket_at_create") {
        return;
    }
    let b = Bundle::new(&["sh", "-c", TERMINAL_SCRIPT], &["--tty"]);
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(b.path().join("config.json")).unwrap()).unwrap();
    assert_eq!(config["process"]["terminal"], true);
    let socket = ConsoleSocket::new();
    let bundle = b.path().to_str().unwrap().to_string();
    let mut create = Command::new(quai())
        .args(["runtime", "create", "--root"])
        .arg(b.root.path())
        .args([
            "--bundle",
            &bundle,
            "--console-socket",
            &socket.path(),
            "tty",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let master = socket.receive(&mut create);
    let out = create.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(b.state("tty")["status"], "created");
    b.ok("start", &["tty"]);
    assert_eq!(read_terminal(master), TERMINAL_OUTPUT);
    eventually("stopped", || b.state("tty")["status"] == "stopped");
    eventually("the exit record", || b.ps("tty")["exit_code"] == 0);
    // What the program wrote went to its terminal, none to the log.
    assert_eq!(b.ok("logs", &["tty"]), "");
    b.ok("delete", &["tty"]);
}

#[test]
fn runtime_terminal_bundle_runs_the_same_under_runc() {
    if !as_root("runtime_terminal_bundle_runs_the_same_under_runc") {
        return;
    }
    let b = Bundle::new(&["sh", "-c", TERMINAL_SCRIPT], &["--tty"]);
    // `run --console-socket`: quai's run stays in the foreground and gives the master away.
    let socket = ConsoleSocket::new();
    let bundle = b.path().to_str().unwrap().to_string();
    let mut run = Command::new(quai())
        .args(["runtime", "run", "--root"])
        .arg(b.root.path())
        .args([
            "--bundle",
            &bundle,
            "--console-socket",
            &socket.path(),
            "tty-run",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let master = socket.receive(&mut run);
    let ours = read_terminal(master);
    let out = run.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    assert_eq!(ours, TERMINAL_OUTPUT);
    if !runc_installed() {
        return;
    }
    // The same bundle under runc (which takes a console socket only when detached).
    let runc_root = tempfile::tempdir().unwrap();
    let runc = |args: &[&str]| {
        let mut c = Command::new("runc");
        c.arg("--root").arg(runc_root.path()).args(args);
        c
    };
    let socket = ConsoleSocket::new();
    let mut create = runc(&[
        "create",
        "--bundle",
        &bundle,
        "--console-socket",
        &socket.path(),
        "tty-runc",
    ])
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let master = socket.receive(&mut create);
    let out = create.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let started = runc(&["start", "tty-runc"]).output().unwrap();
    assert!(started.status.success(), "{}", stderr(&started));
    let theirs = read_terminal(master);
    let _ = runc(&["delete", "--force", "tty-runc"]).output();
    assert_eq!(ours, theirs);
}

#[test]
fn runtime_run_relays_a_terminal_to_its_own_stdio() {
    if !as_root("runtime_run_relays_a_terminal_to_its_own_stdio") {
        return;
    }
    let b = Bundle::new(
        &["sh", "-c", "tty; read line; echo got-$line; exit 3"],
        &["--tty"],
    );
    let bundle = b.path().to_str().unwrap().to_string();
    let mut run = Command::new(quai())
        .args(["runtime", "run", "--root"])
        .arg(b.root.path())
        .args(["--bundle", &bundle, "relay"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    run.stdin.take().unwrap().write_all(b"bonjour\n").unwrap();
    let out = run.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let text = stdout(&out);
    // The terminal echoes the input line whenever it arrives, so only the program's own
    // lines have an order.
    assert!(text.contains("bonjour\r\n"), "{text:?}");
    let tty = text.find("/dev/pts/0\r\n").expect("the pty's name");
    let got = text
        .find("got-bonjour\r\n")
        .expect("the line read through the pty");
    assert!(tty < got, "{text:?}");
}

#[test]
fn runtime_terminal_and_console_socket_go_together() {
    if !as_root("runtime_terminal_and_console_socket_go_together") {
        return;
    }
    let b = Bundle::new(&["true"], &["--tty"]);
    let bundle = b.path().to_str().unwrap().to_string();
    let out = b.quai("create", &["--bundle", &bundle, "lonely"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("--console-socket"),
        "{}",
        stderr(&out)
    );
    assert!(!b.root.path().join("lonely").exists());
    // A socket without a terminal is refused too.
    b.spec(&["true"], &[]);
    let socket = ConsoleSocket::new();
    let out = b.quai(
        "create",
        &[
            "--bundle",
            &bundle,
            "--console-socket",
            &socket.path(),
            "lonely",
        ],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("no terminal"), "{}", stderr(&out));
    assert!(!b.root.path().join("lonely").exists());
}

#[test]
fn runtime_without_a_terminal_has_no_dev_console_as_under_runc() {
    if !as_root("runtime_without_a_terminal_has_no_dev_console_as_under_runc") {
        return;
    }
    let script = "ls /dev; test -e /dev/console && echo console || echo no-console; \
                  tty || true";
    let b = Bundle::new(&["sh", "-c", script], &[]);
    let ours = b.run("no-tty");
    assert!(ours.status.success(), "{}", stderr(&ours));
    assert!(
        stdout(&ours).ends_with("no-console\nnot a tty\n"),
        "{}",
        stdout(&ours)
    );
    if !runc_installed() {
        return;
    }
    let runc_root = tempfile::tempdir().unwrap();
    let theirs = Command::new("runc")
        .arg("--root")
        .arg(runc_root.path())
        .args(["run", "--bundle"])
        .arg(b.path())
        .arg("no-tty-runc")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(stdout(&ours), stdout(&theirs));
}
