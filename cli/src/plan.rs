//! `quai plan`: reads the stack, observes the backend, prints what apply would change
//! and why; with `--out`, saves the plan for `quai apply FILE`. Changes nothing.

use std::path::Path;

use anyhow::Context as _;
use quai_core::backend::{Backend, Observed};
use quai_core::plan::{self, render, Plan};
use quai_core::resource::desired::references;
use quai_core::state::State;

use crate::planfile::{self, PlanFile};
use crate::stack_file::Loaded;
use crate::{colour, exit, Ctx};

pub(crate) fn plan(
    ctx: &mut Ctx<'_, '_>,
    file: &Path,
    detailed_exitcode: bool,
    json: bool,
    out: Option<&Path>,
) -> anyhow::Result<i32> {
    let loaded = Loaded::read(file)?;
    let place = ctx.place()?;
    let state = place.store.read(&loaded.stack.name)?;
    let plan = make(&*place.backend, &loaded, &state)?;
    if json {
        render::json(&plan, ctx.io.out)?;
    } else {
        show(ctx, &plan)?;
    }
    if let Some(out) = out {
        planfile::write(
            out,
            &PlanFile {
                format: PlanFile::FORMAT,
                stack_file: file.display().to_string(),
                fingerprint: loaded.fingerprint(),
                plan: plan.clone(),
            },
        )?;
        let note = format!(
            "Plan saved to {0}. Apply exactly this plan with: quai apply {0}",
            out.display()
        );
        if json {
            writeln!(ctx.io.err, "{note}")?;
        } else {
            writeln!(ctx.io.out, "\n{note}")?;
        }
    }
    Ok(if detailed_exitcode && plan.has_changes() {
        exit::CHANGES
    } else {
        exit::OK
    })
}

/// Observes the backend for the stack's images and containers.
pub(crate) fn observe(backend: &dyn Backend, loaded: &Loaded) -> anyhow::Result<Observed> {
    let images = references(&loaded.desired())?;
    backend
        .observe(&loaded.stack.name, &images)
        .with_context(|| format!("observing the {} backend", backend.name()))
}

/// The plan from `state` to the stack, as the backend is now.
pub(crate) fn make(backend: &dyn Backend, loaded: &Loaded, state: &State) -> anyhow::Result<Plan> {
    let observed = observe(backend, loaded)?;
    Ok(plan::diff(&loaded.desired(), state, &observed)?)
}

/// Prints a plan as text, coloured on a terminal.
pub(crate) fn show(ctx: &mut Ctx<'_, '_>, plan: &Plan) -> anyhow::Result<()> {
    let mut text = Vec::new();
    render::text::write(plan, &mut text)?;
    colour::write_text(ctx.io.out, &String::from_utf8_lossy(&text), ctx.colour)?;
    Ok(())
}
