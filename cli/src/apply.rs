//! `quai apply` and `quai destroy`: take the stack's lock, show the plan, ask (unless
//! `-y`), run it with progress lines drawn from events, and list every failure.
//! A saved plan (`apply PLANFILE`) is applied as it is, or refused when stale.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::mpsc;

use anyhow::bail;
use quai_core::apply::{self as engine, ApplyOptions, ApplyReport};
use quai_core::backend::Backend;
use quai_core::image::Context;
use quai_core::plan::{self, Plan};
use quai_core::state::StateLock;

use crate::args::RunOptions;
use crate::plan::{make, observe, show};
use crate::planfile;
use crate::progress::{Lines, Progress};
use crate::stack_file::Loaded;
use crate::{exit, Ctx, Io};

pub(crate) fn apply(
    ctx: &mut Ctx<'_, '_>,
    file: &Path,
    planfile: Option<&Path>,
    auto_approve: bool,
    run: &RunOptions,
) -> anyhow::Result<i32> {
    let loaded = Loaded::read(file)?;
    let place = ctx.place()?;
    let mut lock = place
        .store
        .lock(&loaded.stack.name, "apply", ctx.lock_timeout)?;
    let state = lock.load()?;
    let (plan, saved) = match planfile {
        Some(path) => {
            let saved = planfile::read(path)?;
            planfile::check(
                &saved,
                &loaded.stack.name,
                &loaded.fingerprint(),
                state.serial,
            )?;
            (saved.plan, true)
        }
        None => (make(&*place.backend, &loaded, &state)?, false),
    };
    show(ctx, &plan)?;
    if !plan.has_changes() {
        return Ok(exit::OK);
    }
    // A saved plan was reviewed when it was made: it is applied without asking again.
    if !saved && !auto_approve && !confirm(ctx.io, "Apply these changes?")? {
        writeln!(ctx.io.err, "Apply cancelled: nothing changed.")?;
        return Ok(exit::ERROR);
    }
    let report = execute(
        ctx,
        &plan,
        &*place.backend,
        &mut *lock,
        &loaded.contexts,
        run,
    )?;
    conclude(ctx, &plan, &report, "Apply")
}

pub(crate) fn destroy(
    ctx: &mut Ctx<'_, '_>,
    file: &Path,
    volumes: bool,
    auto_approve: bool,
    run: &RunOptions,
) -> anyhow::Result<i32> {
    let loaded = Loaded::read(file)?;
    let place = ctx.place()?;
    let mut lock = place
        .store
        .lock(&loaded.stack.name, "destroy", ctx.lock_timeout)?;
    let state = lock.load()?;
    let observed = observe(&*place.backend, &loaded)?;
    let plan = plan::destroy(&state, &observed, volumes);
    show(ctx, &plan)?;
    if !plan.has_changes() {
        return Ok(exit::OK);
    }
    if !auto_approve && !confirm(ctx.io, "Destroy these resources?")? {
        writeln!(ctx.io.err, "Destroy cancelled: nothing changed.")?;
        return Ok(exit::ERROR);
    }
    let report = execute(
        ctx,
        &plan,
        &*place.backend,
        &mut *lock,
        &loaded.contexts,
        run,
    )?;
    conclude(ctx, &plan, &report, "Destroy")
}

/// Asks `question`; only `yes` is accepted. A closed input is an error that says how
/// to go without the question.
fn confirm(io: &mut Io<'_>, question: &str) -> anyhow::Result<bool> {
    write!(io.out, "\n{question} Only 'yes' is accepted: ")?;
    io.out.flush()?;
    let mut answer = String::new();
    if io.input.read_line(&mut answer)? == 0 {
        writeln!(io.out)?;
        bail!(
            "no answer: standard input is closed. Pass -y (--auto-approve) to go on without asking"
        );
    }
    Ok(answer.trim() == "yes")
}

/// Runs the plan on a second thread while this one writes its progress lines.
fn execute(
    ctx: &mut Ctx<'_, '_>,
    plan: &Plan,
    backend: &dyn Backend,
    lock: &mut dyn StateLock,
    contexts: &BTreeMap<String, Context>,
    run: &RunOptions,
) -> anyhow::Result<ApplyReport> {
    writeln!(ctx.io.out)?;
    let (tx, rx) = mpsc::channel();
    let progress = Progress::new(Lines::for_plan(plan), tx);
    let mut options = ApplyOptions::default();
    if let Some(n) = run.parallelism {
        options.parallelism = usize::from(n);
    }
    let out = &mut *ctx.io.out;
    let result = std::thread::scope(|scope| {
        let worker = scope.spawn(move || {
            let result = engine::apply(plan, backend, lock, contexts, &progress, &options);
            drop(progress);
            result
        });
        // Ends when the worker drops the sender, that is when the apply returns.
        for line in rx {
            let _ = writeln!(out, "{line}");
        }
        worker
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    });
    Ok(result?)
}

/// Prints the outcome; every failed and skipped step is listed.
fn conclude(
    ctx: &mut Ctx<'_, '_>,
    plan: &Plan,
    report: &ApplyReport,
    verb: &str,
) -> anyhow::Result<i32> {
    let out = &mut *ctx.io.out;
    if report.succeeded() {
        let s = plan.summary();
        if verb == "Destroy" {
            writeln!(out, "\nDestroy complete: {} deleted.", s.delete)?;
        } else {
            writeln!(
                out,
                "\n{verb} complete: {} created, {} updated in place, {} replaced, {} deleted.",
                s.create, s.update, s.replace, s.delete
            )?;
        }
        return Ok(exit::OK);
    }
    writeln!(
        out,
        "\n{verb} failed: {} step(s) done, {} failed, {} skipped.",
        report.done.len(),
        report.failed.len(),
        report.skipped.len()
    )?;
    for (address, error) in &report.failed {
        writeln!(out, "  {address}: {error}")?;
    }
    for (address, because) in &report.skipped {
        writeln!(out, "  {address}: skipped, because {because} failed")?;
    }
    writeln!(
        out,
        "What was done is recorded; fix the cause and run `quai apply` again to converge."
    )?;
    Ok(exit::ERROR)
}
