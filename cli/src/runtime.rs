//! `quai runtime`: quai's own OCI container runtime on the command line. The verbs and
//! flags follow the OCI runtime command line (`create --bundle B [--pid-file F]
//! [--console-socket S] ID`,
//! `start ID`, `state ID`, `kill ID [SIGNAL]`, `delete [--force] ID`, `run`), so a
//! bundle runs under quai or runc alike; `exec`, `ps`, `logs`, `stop` and `spec` are
//! quai's own. Thin: it parses and calls `quai_core::backend::linux`.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};
use quai_core::backend::linux::{
    container_create, container_delete, container_exec, container_kill, container_run,
    container_start, container_state, log, spec, state,
};
use quai_core::backend::LogStream;

/// Where container records live.
#[derive(Debug, Args)]
pub struct Root {
    /// The folder of container records.
    #[arg(long, default_value = state::DEFAULT_ROOT)]
    root: PathBuf,
}

/// The runtime's verbs.
#[derive(Debug, Subcommand)]
pub enum RuntimeCommand {
    /// Create a container from a bundle; its program waits for `start`.
    Create {
        #[command(flatten)]
        root: Root,
        /// The bundle folder (config.json and rootfs).
        #[arg(long, short = 'b', default_value = ".")]
        bundle: PathBuf,
        /// Write the init's pid here.
        #[arg(long)]
        pid_file: Option<PathBuf>,
        /// A listening unix socket that receives the terminal's master (SCM_RIGHTS);
        /// required when the spec asks for a terminal.
        #[arg(long)]
        console_socket: Option<PathBuf>,
        id: String,
    },
    /// Start the program of a created container.
    Start {
        #[command(flatten)]
        root: Root,
        id: String,
    },
    /// Print a container's state (the OCI state JSON).
    State {
        #[command(flatten)]
        root: Root,
        id: String,
    },
    /// Send a signal to a container's init (default SIGTERM).
    Kill {
        #[command(flatten)]
        root: Root,
        id: String,
        /// The signal: TERM, SIGTERM or 15.
        signal: Option<String>,
        #[arg(long = "signal", short = 's', conflicts_with = "signal")]
        signal_flag: Option<String>,
    },
    /// Delete a stopped container (with --force, kill it first).
    Delete {
        #[command(flatten)]
        root: Root,
        #[arg(long, short = 'f')]
        force: bool,
        id: String,
    },
    /// Create, start and wait for a container in the foreground, then delete it.
    Run {
        #[command(flatten)]
        root: Root,
        /// The bundle folder (config.json and rootfs).
        #[arg(long, short = 'b', default_value = ".")]
        bundle: PathBuf,
        /// A listening unix socket that receives the terminal's master; without it, a
        /// terminal is relayed to this command's stdin and stdout.
        #[arg(long)]
        console_socket: Option<PathBuf>,
        id: String,
    },
    /// Run another program in a running container's namespaces.
    Exec {
        #[command(flatten)]
        root: Root,
        id: String,
        #[arg(last = true, required = true)]
        args: Vec<String>,
    },
    /// Stop a container: SIGTERM, then SIGKILL after the grace period.
    Stop {
        #[command(flatten)]
        root: Root,
        /// Seconds between SIGTERM and SIGKILL.
        #[arg(long, short = 't')]
        time: Option<u64>,
        id: String,
    },
    /// List containers with their status, as the kernel sees it now.
    Ps {
        #[command(flatten)]
        root: Root,
        #[arg(long)]
        json: bool,
    },
    /// Print what a container's program wrote.
    Logs {
        #[command(flatten)]
        root: Root,
        /// Keep printing until the container stops.
        #[arg(long, short = 'f')]
        follow: bool,
        /// Prefix each line with its time.
        #[arg(long, short = 't')]
        timestamps: bool,
        id: String,
    },
    /// Write a config.json for quai's containers (five namespaces, Docker's default
    /// capabilities, the default masked paths) into the bundle folder.
    Spec {
        #[arg(long, short = 'b', default_value = ".")]
        bundle: PathBuf,
        #[arg(long, default_value = "quai")]
        hostname: String,
        /// Give the program a terminal (process.terminal): /dev/console and a pty.
        #[arg(long, short = 't')]
        tty: bool,
        /// Memory limit in bytes.
        #[arg(long)]
        memory: Option<i64>,
        /// Fractional cpus (0.5 is half of one).
        #[arg(long)]
        cpus: Option<f64>,
        /// Maximum number of processes.
        #[arg(long)]
        pids: Option<i64>,
        /// Annotations, KEY=VALUE.
        #[arg(long = "annotation")]
        annotations: Vec<String>,
        /// The program and its arguments.
        #[arg(last = true, default_value = "sh")]
        args: Vec<String>,
    },
}

/// Runs a runtime verb; returns the process exit code.
pub fn run(cmd: RuntimeCommand) -> anyhow::Result<i32> {
    match cmd {
        RuntimeCommand::Create {
            root,
            bundle,
            pid_file,
            console_socket,
            id,
        } => {
            container_create::create(
                &root.root,
                &id,
                &bundle,
                pid_file.as_deref(),
                console_socket.as_deref(),
            )
            .with_context(|| format!("creating container `{id}`"))?;
            Ok(0)
        }
        RuntimeCommand::Start { root, id } => {
            container_start::start(&root.root, &id)
                .with_context(|| format!("starting container `{id}`"))?;
            Ok(0)
        }
        RuntimeCommand::State { root, id } => {
            let state = container_state::state(&root.root, &id)?;
            println!("{}", serde_json::to_string_pretty(&state)?);
            Ok(0)
        }
        RuntimeCommand::Kill {
            root,
            id,
            signal,
            signal_flag,
        } => {
            let name = signal.or(signal_flag).unwrap_or_else(|| "SIGTERM".into());
            let signal = container_kill::parse_signal(&name)?;
            container_kill::kill(&root.root, &id, signal)?;
            Ok(0)
        }
        RuntimeCommand::Delete { root, force, id } => {
            container_delete::delete(&root.root, &id, force)
                .with_context(|| format!("deleting container `{id}`"))?;
            Ok(0)
        }
        RuntimeCommand::Run {
            bundle,
            root,
            console_socket,
            id,
        } => {
            let exit = container_run::run(&root.root, &id, &bundle, console_socket.as_deref())
                .with_context(|| format!("running container `{id}`"))?;
            if exit.oom_killed {
                eprintln!("quai: container `{id}` was killed: out of memory (OOM)");
            }
            Ok(exit.code)
        }
        RuntimeCommand::Exec { root, id, args } => Ok(container_exec::exec(&root.root, &id, &args)
            .with_context(|| format!("exec in container `{id}`"))?),
        RuntimeCommand::Stop { root, time, id } => {
            container_kill::stop(&root.root, &id, time.map(Duration::from_secs))
                .with_context(|| format!("stopping container `{id}`"))?;
            Ok(0)
        }
        RuntimeCommand::Ps { root, json } => {
            let all = container_state::ps(&root.root);
            if json {
                println!("{}", serde_json::to_string_pretty(&all)?);
                return Ok(0);
            }
            println!(
                "{:<24} {:<8} {:>8} {:>5} {:>8}  CREATED",
                "ID", "STATUS", "PID", "EXIT", "RESTARTS"
            );
            for c in all {
                let exit = match (c.exit_code, c.oom_killed) {
                    (Some(code), true) => format!("{code}!"),
                    (Some(code), false) => code.to_string(),
                    (None, _) => "-".into(),
                };
                println!(
                    "{:<24} {:<8} {:>8} {:>5} {:>8}  {}",
                    c.id,
                    c.status.to_string(),
                    c.pid.map_or("-".into(), |p| p.to_string()),
                    exit,
                    c.restarts,
                    log::rfc3339(c.created_ms)
                );
            }
            Ok(0)
        }
        RuntimeCommand::Logs {
            root,
            follow,
            timestamps,
            id,
        } => {
            let dir = state::ContainerDir::new(&root.root, &id)?;
            dir.must_exist()?;
            let mut offset = 0;
            loop {
                let (lines, next) = log::read_from(&dir.log_file(), offset);
                offset = next;
                for line in lines {
                    let text = if timestamps {
                        format!("{} {}\n", log::rfc3339(line.time_ms), line.text)
                    } else {
                        format!("{}\n", line.text)
                    };
                    let _ = match line.stream {
                        LogStream::Stdout => std::io::stdout().write_all(text.as_bytes()),
                        LogStream::Stderr => std::io::stderr().write_all(text.as_bytes()),
                    };
                }
                let _ = std::io::stdout().flush();
                if !follow {
                    return Ok(0);
                }
                let running = dir
                    .status()
                    .map(|(r, s)| {
                        s != state::Status::Stopped
                            || r.supervisor
                                .is_some_and(|p| state::process_alive(p, r.supervisor_start))
                    })
                    .unwrap_or(false);
                if !running {
                    let (rest, _) = log::read_from(&dir.log_file(), offset);
                    if rest.is_empty() {
                        return Ok(0);
                    }
                    continue;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        RuntimeCommand::Spec {
            bundle,
            hostname,
            tty,
            memory,
            cpus,
            pids,
            annotations,
            args,
        } => {
            let limits = spec::Limits { memory, cpus, pids };
            let mut config = spec::container_spec(&args, &hostname, limits)?;
            if tty {
                if let Some(mut process) = config.process().clone() {
                    process.set_terminal(Some(true));
                    config.set_process(Some(process));
                }
            }
            let mut notes = config.annotations().clone().unwrap_or_default();
            for a in annotations {
                let (k, v) = a
                    .split_once('=')
                    .with_context(|| format!("annotation `{a}` is not KEY=VALUE"))?;
                notes.insert(k.to_string(), v.to_string());
            }
            config.set_annotations(Some(notes));
            spec::save(&config, &bundle)?;
            Ok(0)
        }
    }
}
