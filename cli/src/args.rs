//! The command line's grammar (clap derive): global options, commands and their
//! arguments. Parsing only: what each command does lives in its own module.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Printed at the end of `quai --help`.
pub const EXIT_CODES: &str = "\
Exit codes:
  0  success (for `plan --detailed-exitcode`: nothing to change)
  1  error: bad stack file, backend failure, a step of apply failed, lock held, answer not `yes`
  2  `plan --detailed-exitcode` only: the plan has changes
  3  `apply PLANFILE` refused a stale plan: the state, the stack file or a build context changed since it was made

Environment:
  QUAI_BACKEND  default for --backend
  QUAI_ROOT     where quai keeps states and the sim world (default /var/lib/quai as root,
                else $XDG_STATE_HOME/quai or ~/.local/state/quai)
  NO_COLOR      set and not empty: no colour (colour is only ever used on a terminal)";

/// quai: declarative containers. A TOML stack file declares images, containers,
/// volumes and networks; `plan` shows what would change and why, `apply` makes it so,
/// `destroy` tears it down.
#[derive(Debug, Parser)]
#[command(name = "quai", version, after_help = EXIT_CODES, args_override_self = true)]
pub struct Cli {
    /// Where containers run. `sim` (the default for now) is quai's simulated backend,
    /// kept in QUAI_ROOT/sim/world.json so that it lasts across commands; `linux` is the
    /// real one (Linux, as root).
    #[arg(long, global = true, env = "QUAI_BACKEND", value_enum, default_value_t = BackendKind::Sim)]
    pub backend: BackendKind,

    /// Where quai keeps its states (and the sim backend its world).
    #[arg(long, global = true, env = "QUAI_ROOT", value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// How long to wait for another quai that holds the stack's lock (`0s`: fail at
    /// once, naming the holder; `30s`, `2m`, `500ms`).
    #[arg(long, global = true, value_name = "DURATION", default_value = "0s", value_parser = parse_duration)]
    pub lock_timeout: Duration,

    /// No colour, even on a terminal (also: NO_COLOR set and not empty).
    #[arg(long, global = true)]
    pub no_color: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendKind {
    /// Simulated: deterministic, no root needed.
    Sim,
    /// quai's Linux runtime (as root).
    Linux,
}

/// The stack file a command reads.
#[derive(Debug, Clone, Args)]
pub struct StackFile {
    /// The stack file.
    #[arg(
        short = 'f',
        long = "file",
        value_name = "FILE",
        default_value = "stack.toml"
    )]
    pub file: PathBuf,
}

/// The stack file, for commands whose `-f` means something else (`--format`, `--follow`).
#[derive(Debug, Clone, Args)]
pub struct StackFileLong {
    /// The stack file (`-f` is taken by this command).
    #[arg(long = "file", value_name = "FILE", default_value = "stack.toml")]
    pub file: PathBuf,
}

/// How apply and destroy run their steps.
#[derive(Debug, Clone, Args)]
pub struct RunOptions {
    /// Steps run at once at most (default: the number of CPUs, up to 8). `1` runs them
    /// one after the other, so that the progress lines come in the same order every time.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub parallelism: Option<u16>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Shows what apply would change, and why.
    Plan {
        #[command(flatten)]
        stack: StackFile,
        /// Exit 0 when there is nothing to change, 2 when there is, 1 on error.
        #[arg(long)]
        detailed_exitcode: bool,
        /// The plan as JSON.
        #[arg(long)]
        json: bool,
        /// Also writes the plan to FILE, for `quai apply FILE`.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Makes it so: shows the plan, asks, applies it.
    Apply {
        #[command(flatten)]
        stack: StackFile,
        /// A plan written by `plan --out`: applied as it is, refused when stale.
        planfile: Option<PathBuf>,
        /// Do not ask.
        #[arg(short = 'y', long)]
        auto_approve: bool,
        #[command(flatten)]
        run: RunOptions,
    },
    /// Deletes the stack's containers, networks and images (volumes only with --volumes).
    Destroy {
        #[command(flatten)]
        stack: StackFile,
        /// Also deletes the volumes and their data.
        #[arg(long)]
        volumes: bool,
        /// Do not ask.
        #[arg(short = 'y', long)]
        auto_approve: bool,
        #[command(flatten)]
        run: RunOptions,
    },
    /// Lists the stack's containers.
    Ps {
        #[command(flatten)]
        stack: StackFile,
        /// The rows as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Lists the images of the backend's store, one row per tag.
    Images {
        /// Full image ids.
        #[arg(long)]
        no_trunc: bool,
        /// The images as JSON (id, layers, config, tags).
        #[arg(long)]
        json: bool,
    },
    /// Shows an image's layers.
    History {
        /// A tag (`busybox:1.36`, `app/api:latest`) or an image id (or its start).
        image: String,
        /// Full layer digests.
        #[arg(long)]
        no_trunc: bool,
    },
    /// Shows a resource as recorded, with what the backend observes now (JSON).
    Inspect {
        #[command(flatten)]
        stack: StackFileLong,
        /// `container.web`, `image.api`, `volume.data`, ...
        address: String,
        /// Prints only the paths given, e.g. '{{ .Config.Resources.Memory }}'.
        #[arg(short = 'f', long = "format", value_name = "TEMPLATE")]
        format: Option<String>,
    },
    /// Prints what a container wrote.
    Logs {
        #[command(flatten)]
        stack: StackFileLong,
        /// `container.web`, `container.web[1]`.
        address: String,
        /// Keeps printing new lines (the linux backend; the sim backend prints and returns).
        #[arg(short = 'f', long)]
        follow: bool,
    },
    /// Reads the recorded state.
    State {
        #[command(subcommand)]
        command: StateCommand,
    },
    /// The stack's dependency graph, in DOT (`quai graph | dot -Tsvg > graph.svg`).
    Graph {
        #[command(flatten)]
        stack: StackFile,
    },
    /// Prints a completion script for SHELL.
    Completions { shell: clap_complete::Shell },
    /// quai's own OCI container runtime: runs a bundle (config.json and rootfs) as runc
    /// does, with namespaces, overlayfs and cgroups (Linux, as root).
    #[cfg(target_os = "linux")]
    #[command(subcommand)]
    Runtime(crate::runtime::RuntimeCommand),
}

#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// Lists the recorded addresses.
    List {
        #[command(flatten)]
        stack: StackFile,
    },
    /// Shows one recorded resource (JSON).
    Show {
        #[command(flatten)]
        stack: StackFile,
        address: String,
    },
}

/// Why a duration is not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a duration: write a number and a unit, e.g. 0s, 500ms, 30s, 2m, 1h")]
pub struct DurationError {
    pub text: String,
}

/// `500ms`, `30s`, `2m`, `1h`, or `0`.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let err = || DurationError {
        text: text.to_string(),
    };
    let t = text.trim();
    if t == "0" {
        return Ok(Duration::ZERO);
    }
    let split = t.find(|c: char| !c.is_ascii_digit()).ok_or_else(err)?;
    let (number, unit) = t.split_at(split);
    let n: u64 = number.parse().map_err(|_| err())?;
    Ok(match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n * 60),
        "h" => Duration::from_secs(n * 3600),
        _ => return Err(err()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use std::path::Path;

    #[test]
    fn the_grammar_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations_take_a_unit() {
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        assert_eq!(parse_duration("0s").unwrap(), Duration::ZERO);
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        for bad in ["", "30", "s", "1.5s", "3d", "-1s"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn dash_f_is_the_stack_file_except_for_format_and_follow() {
        let cli = Cli::try_parse_from(["quai", "plan", "-f", "x.toml"]).unwrap();
        assert!(
            matches!(cli.command, Command::Plan { stack, .. } if stack.file == Path::new("x.toml"))
        );
        let cli = Cli::try_parse_from([
            "quai",
            "inspect",
            "--file",
            "y.toml",
            "container.web",
            "-f",
            "{{ .Id }}",
        ])
        .unwrap();
        assert!(
            matches!(cli.command, Command::Inspect { stack, format: Some(f), .. }
            if stack.file == Path::new("y.toml") && f == "{{ .Id }}")
        );
        let cli = Cli::try_parse_from(["quai", "logs", "-f", "container.web"]).unwrap();
        assert!(matches!(cli.command, Command::Logs { follow: true, .. }));
    }
}
