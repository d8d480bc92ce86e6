//! The plan as text for people.

use std::io;

use crate::plan::Plan;

/// Writes `plan` as text.
pub fn write(plan: &Plan, out: &mut dyn io::Write) -> io::Result<()> {
    let _ = (plan, out);
    todo!("plan::render::text")
}
