//! The `quai` command line as a library: [`run`] parses arguments, calls quai-core and
//! writes to the [`Io`] it is given, so that tests run it in-process and compare output.
//! Only this crate uses `anyhow`; everything it calls reports typed errors.

pub mod args;
pub mod colour;
pub mod place;
pub mod planfile;
pub mod progress;
#[cfg(target_os = "linux")]
pub mod runtime;
pub mod sim_file;
pub mod stack_file;
pub mod table;
pub mod template;

mod apply;
mod graph;
mod images;
mod plan;
mod ps;
mod records;

use std::ffi::OsString;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::{CommandFactory, Parser};

use crate::args::{BackendKind, Cli, Command, StateCommand};

/// Exit codes, as `quai --help` and the README list them.
pub mod exit {
    /// Success; for `plan --detailed-exitcode`, nothing to change.
    pub const OK: i32 = 0;
    /// An error: bad input, a failed step, a held lock, an answer other than `yes`.
    pub const ERROR: i32 = 1;
    /// `plan --detailed-exitcode`: the plan has changes.
    pub const CHANGES: i32 = 2;
    /// `apply PLANFILE` refused a stale plan.
    pub const STALE: i32 = 3;
}

/// Where a run reads and writes.
pub struct Io<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
    pub input: &'a mut dyn BufRead,
    /// Whether colour may be used at all: `out` is a terminal and NO_COLOR is unset.
    /// `--no-color` can still turn it off.
    pub colour: bool,
}

/// What every command may use: the output, the options shared by all commands.
pub(crate) struct Ctx<'a, 'io> {
    pub io: &'a mut Io<'io>,
    pub colour: bool,
    pub backend: BackendKind,
    pub root: PathBuf,
    pub lock_timeout: Duration,
}

impl Ctx<'_, '_> {
    /// Opens the chosen backend and its state store.
    pub fn place(&self) -> anyhow::Result<place::Place> {
        Ok(place::open(self.backend, &self.root)?)
    }
}

/// Runs quai with `args` (the first is the program's name); returns the exit code.
pub fn run<I, T>(args: I, io: &mut Io<'_>) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let text = e.render().to_string();
            return if e.use_stderr() {
                let _ = write!(io.err, "{text}");
                exit::ERROR
            } else {
                let _ = write!(io.out, "{text}");
                exit::OK
            };
        }
    };
    let mut ctx = Ctx {
        colour: io.colour && !cli.no_color,
        io,
        backend: cli.backend,
        root: cli.root.clone().unwrap_or_else(place::default_root),
        lock_timeout: cli.lock_timeout,
    };
    match dispatch(cli.command, &mut ctx) {
        Ok(code) => code,
        // The reader went away (`quai inspect … | head`): nothing more to say.
        Err(e) if is_broken_pipe(&e) => exit::ERROR,
        Err(e) => {
            let _ = ctx.io.out.flush();
            report(&e, ctx.io.err);
            if let Some(help) = help(&e, ctx.backend) {
                let _ = writeln!(ctx.io.err, "  = help: {help}");
            }
            if is_stale(&e) {
                exit::STALE
            } else {
                exit::ERROR
            }
        }
    }
}

fn dispatch(command: Command, ctx: &mut Ctx<'_, '_>) -> anyhow::Result<i32> {
    match command {
        Command::Plan {
            stack,
            detailed_exitcode,
            json,
            out,
        } => plan::plan(ctx, &stack.file, detailed_exitcode, json, out.as_deref()),
        Command::Apply {
            stack,
            planfile,
            auto_approve,
            run,
        } => apply::apply(ctx, &stack.file, planfile.as_deref(), auto_approve, &run),
        Command::Destroy {
            stack,
            volumes,
            auto_approve,
            run,
        } => apply::destroy(ctx, &stack.file, volumes, auto_approve, &run),
        Command::Ps { stack, json } => ps::ps(ctx, &stack.file, json),
        Command::Logs {
            stack,
            address,
            follow,
        } => ps::logs(ctx, &stack.file, &address, follow),
        Command::Images { no_trunc, json } => images::images(ctx, no_trunc, json),
        Command::History { image, no_trunc } => images::history(ctx, &image, no_trunc),
        Command::Inspect {
            stack,
            address,
            format,
        } => records::inspect(ctx, &stack.file, &address, format.as_deref()),
        Command::State { command } => match command {
            StateCommand::List { stack } => records::list(ctx, &stack.file),
            StateCommand::Show { stack, address } => records::show(ctx, &stack.file, &address),
        },
        Command::Graph { stack } => graph::graph(ctx, &stack.file),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "quai", ctx.io.out);
            Ok(exit::OK)
        }
        #[cfg(target_os = "linux")]
        Command::Runtime(command) => runtime::run(command),
    }
}

/// Prints an error: a stack file error as core renders it (it names file, line and
/// column itself), anything else as `error: ` and its causes.
fn report(e: &anyhow::Error, err: &mut dyn Write) {
    if let Some(stack_file::LoadError::Stack(stack_error)) = e.downcast_ref() {
        let _ = writeln!(err, "{stack_error}");
        return;
    }
    // Typed errors name their cause in their own message; a cause is added only when
    // the text so far does not say it already.
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    let _ = writeln!(err, "error: {text}");
}

/// What to try, for an error a newcomer meets: an image the sim backend's registry does
/// not hold gets the list of those it does.
fn help(e: &anyhow::Error, backend: BackendKind) -> Option<String> {
    use quai_core::plan::PlanError;
    use quai_core::resource::desired::DesiredError;
    let unknown_image = e.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<PlanError>(),
            Some(PlanError::Desired(DesiredError::UnknownImage { .. }))
        ) || matches!(
            cause.downcast_ref::<DesiredError>(),
            Some(DesiredError::UnknownImage { .. })
        )
    });
    if !unknown_image || backend != BackendKind::Sim {
        return None;
    }
    let registry = quai_core::backend::sim::Registry::seeded();
    let held: Vec<&str> = registry
        .references()
        .map(|r| r.strip_prefix("docker.io/library/").unwrap_or(r))
        .collect();
    Some(format!(
        "the sim backend's registry holds {} (or build an image with [images.NAME])",
        held.join(", ")
    ))
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn is_stale(e: &anyhow::Error) -> bool {
    e.downcast_ref::<planfile::Stale>().is_some()
        || matches!(
            e.downcast_ref::<quai_core::apply::ApplyError>(),
            Some(quai_core::apply::ApplyError::StalePlan { .. })
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_says_its_cause_once() {
        let e = anyhow::Error::new(stack_file::LoadError::Read {
            path: "stack.toml".into(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "gone"),
        });
        let mut err = Vec::new();
        report(&e, &mut err);
        let text = String::from_utf8(err).unwrap();
        assert_eq!(text.matches("gone").count(), 1, "{text}");
        assert!(
            text.starts_with("error: cannot read stack file stack.toml"),
            "{text}"
        );

        let e = anyhow::Error::new(std::io::Error::other("disk full")).context("saving");
        let mut err = Vec::new();
        report(&e, &mut err);
        assert_eq!(
            String::from_utf8(err).unwrap(),
            "error: saving: disk full\n"
        );
    }

    #[test]
    fn a_stale_plan_and_a_closed_pipe_are_told_apart() {
        let stale = anyhow::Error::new(planfile::Stale::StackFile);
        assert!(is_stale(&stale));
        let pipe = anyhow::Error::new(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert!(is_broken_pipe(&pipe) && !is_stale(&pipe));
    }
}
