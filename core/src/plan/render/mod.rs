//! Writes a plan for people (text, in the spirit of `terraform plan`) and for programs
//! (JSON, from serde). Both are drawn from the same data. Text has no colour here; the
//! CLI colours it in one place.

pub mod text;

use std::io;

use crate::plan::Plan;

/// The plan as JSON.
pub fn json(plan: &Plan, out: &mut dyn io::Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, plan)?;
    writeln!(out)
}
