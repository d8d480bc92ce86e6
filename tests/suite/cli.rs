//! The `quai` command line end to end on the sim backend, each test in its own quai
//! root: the book's examples (apply, plan again: nothing to do, destroy keeps volumes),
//! the layer cache scenario, plan files, bad input, locks, prompts and exit codes.
//! Most tests run quai in-process (`quai::run`); a few spawn the real binary.

mod binary;
mod commands;
mod examples;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// What one run of quai printed and returned.
#[derive(Debug)]
pub(super) struct Run {
    pub code: i32,
    pub out: String,
    pub err: String,
}

/// A quai root of its own, and the folder the examples are copied into.
pub(super) struct Quai {
    pub root: tempfile::TempDir,
    pub work: tempfile::TempDir,
}

impl Quai {
    pub(super) fn new() -> Quai {
        Quai {
            root: tempfile::tempdir().unwrap(),
            work: tempfile::tempdir().unwrap(),
        }
    }

    /// Copies `book/examples/NAME` into the work folder; returns its stack file.
    pub(super) fn example(&self, name: &str) -> PathBuf {
        let from = repo().join("book/examples").join(name);
        let to = self.work.path().join(name);
        copy_dir(&from, &to);
        to.join("stack.toml")
    }

    pub(super) fn args<'a>(&'a self, args: &[&'a str]) -> Vec<String> {
        let mut all = vec![
            "quai".to_string(),
            "--backend".into(),
            "sim".into(),
            "--root".into(),
            self.root.path().display().to_string(),
        ];
        all.extend(args.iter().map(|a| a.to_string()));
        all
    }

    /// Runs quai in-process with `input` on its standard input.
    pub(super) fn run_with(&self, args: &[&str], input: &str) -> Run {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut input = input.as_bytes();
        let code = quai::run(
            self.args(args),
            &mut quai::Io {
                out: &mut out,
                err: &mut err,
                input: &mut input,
                colour: false,
            },
        );
        Run {
            code,
            out: String::from_utf8(out).unwrap(),
            err: String::from_utf8(err).unwrap(),
        }
    }

    pub(super) fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, "")
    }

    /// Runs quai, expecting exit code `code`.
    pub(super) fn expect(&self, code: i32, args: &[&str]) -> Run {
        let run = self.run(args);
        assert_eq!(run.code, code, "quai {args:?}\n{run:#?}");
        run
    }

    /// Runs the real binary, with `input` on its standard input.
    pub(super) fn spawn(&self, args: &[&str], input: Option<&str>) -> Run {
        let mut child = Command::new(binary())
            .args(&self.args(args)[1..])
            .env_remove("QUAI_BACKEND")
            .env_remove("QUAI_ROOT")
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(input) = input {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        let output = child.wait_with_output().unwrap();
        Run {
            code: output.status.code().unwrap_or(-1),
            out: String::from_utf8(output.stdout).unwrap(),
            err: String::from_utf8(output.stderr).unwrap(),
        }
    }

    pub(super) fn world(&self) -> String {
        fs::read_to_string(self.root.path().join("sim/world.json")).unwrap_or_default()
    }
}

pub(super) fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

pub(super) fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The `quai` binary, built once (fresh) for the tests that spawn it.
pub(super) fn binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        // The test executable is target/PROFILE/deps/suite-…; the binary target/PROFILE/quai.
        let exe = std::env::current_exe().unwrap();
        let dir = exe.parent().unwrap().parent().unwrap();
        let mut build = Command::new(env!("CARGO"));
        build.args(["build", "--quiet", "-p", "quai", "--bin", "quai"]);
        if dir.file_name().is_some_and(|p| p == "release") {
            build.arg("--release");
        }
        let status = build.current_dir(repo()).status().expect("cargo runs");
        assert!(status.success(), "cargo build -p quai failed");
        let binary = dir.join(format!("quai{}", std::env::consts::EXE_SUFFIX));
        assert!(binary.exists(), "{} is missing", binary.display());
        binary
    })
}
