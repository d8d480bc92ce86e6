//! The budget's measure: plan and apply of a stack of many containers in the page.
//! The stack and the run are plain Rust (tested natively); the clock is the page's
//! (`performance.now`), read in [`time_plan_apply`] on wasm32 only.

use std::collections::BTreeMap;

use quai_core::resource::desired::Desired;
use quai_core::stack;

use crate::sandbox::Sandbox;

/// A stack of `n` containers of one pulled image, on one network.
pub fn stack_of(n: usize) -> String {
    let mut text = String::from("[stack]\nname = \"bench\"\n\n[networks.back]\n");
    for i in 0..n {
        text.push_str(&format!(
            "\n[containers.c{i:03}]\nimage = \"busybox:1.36\"\ncommand = [\"httpd\", \"-f\"]\nnetworks = [\"back\"]\n"
        ));
    }
    text
}

/// Parses, plans and applies a stack of `n` containers in a fresh sandbox; returns how
/// many steps the plan had.
pub fn plan_and_apply(n: usize) -> Result<usize, String> {
    let stack = stack::parse(&stack_of(n), "bench.toml", "bench").map_err(|e| e.to_string())?;
    let desired = Desired {
        stack,
        contexts: BTreeMap::new(),
    };
    let mut sandbox = Sandbox::new();
    let plan = sandbox.plan(&desired).map_err(|e| e.to_string())?;
    let run = sandbox
        .apply(&plan, &desired.contexts)
        .map_err(|e| e.to_string())?;
    if !run.report.succeeded() {
        return Err(format!("apply failed: {:?}", run.report.failed));
    }
    Ok(plan.changes.len())
}

/// Milliseconds that parse, plan and apply of `n` containers take in this page
/// (negative when the run fails).
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn time_plan_apply(n: u32) -> f64 {
    let now = || {
        web_sys::window()
            .and_then(|w| w.performance())
            .map(|p| p.now())
            .unwrap_or(0.0)
    };
    let start = now();
    match plan_and_apply(n as usize) {
        Ok(_) => now() - start,
        Err(_) => -1.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_hundred_containers_plan_and_apply_in_the_sandbox() {
        // 200 containers and their network (an image named by reference has no address).
        assert_eq!(plan_and_apply(200), Ok(201));
    }
}
