//! `quai runtime`: quai's own OCI container runtime on the command line. The verbs and
//! flags follow the OCI runtime command line, so a bundle runs under quai or runc alike.
//! Thin: it parses and calls `quai_core::backend::linux`.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use quai_core::backend::linux::{container_run, spec, state};

/// The runtime's verbs.
#[derive(Debug, Subcommand)]
pub enum RuntimeCommand {
    /// Create, start and wait for a container in the foreground, then delete it.
    Run {
        /// The bundle folder (config.json and rootfs).
        #[arg(long, short = 'b', default_value = ".")]
        bundle: PathBuf,
        /// Where container records live.
        #[arg(long, default_value = state::DEFAULT_ROOT)]
        root: PathBuf,
        id: String,
    },
    /// Write a config.json for quai's containers (five namespaces, Docker's default
    /// capabilities, the default masked paths) into the bundle folder.
    Spec {
        #[arg(long, short = 'b', default_value = ".")]
        bundle: PathBuf,
        #[arg(long, default_value = "quai")]
        hostname: String,
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
        RuntimeCommand::Run { bundle, root, id } => {
            let exit = container_run::run(&root, &id, &bundle)
                .with_context(|| format!("running container `{id}`"))?;
            if exit.oom_killed {
                eprintln!("quai: container `{id}` was killed: out of memory (OOM)");
            }
            Ok(exit.code)
        }
        RuntimeCommand::Spec {
            bundle,
            hostname,
            memory,
            cpus,
            pids,
            annotations,
            args,
        } => {
            let limits = spec::Limits { memory, cpus, pids };
            let mut config = spec::container_spec(&args, &hostname, limits)?;
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
