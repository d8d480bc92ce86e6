//! The plan as text for people: one block per change (symbol, address, verb, then the
//! reasons field by field and, for built images, each build step with its predicted
//! cache hit or miss), then a summary line. No colour: the CLI colours by symbol.
//! Draws only from the plan's data, the same data `--json` prints.

use std::io;

use crate::image::{CachePrediction, Digest};
use crate::plan::{Action, Change, Plan, Reason};

/// Writes `plan` as text.
pub fn write(plan: &Plan, out: &mut dyn io::Write) -> io::Result<()> {
    let mut shown = 0;
    for change in &plan.changes {
        if change.action == Action::NoOp && change.reasons.is_empty() {
            continue;
        }
        if shown > 0 {
            writeln!(out)?;
        }
        shown += 1;
        block(change, out)?;
    }
    if shown > 0 {
        writeln!(out)?;
    }
    writeln!(out, "{}", summary(plan))
}

/// The last line: `Plan: 2 to create, 1 to update, 1 to replace, 0 to delete.`, or
/// that nothing changes.
pub fn summary(plan: &Plan) -> String {
    if !plan.has_changes() {
        return "No changes. The stack matches the configuration.".into();
    }
    let s = plan.summary();
    format!(
        "Plan: {} to create, {} to update, {} to replace, {} to delete.",
        s.create, s.update, s.replace, s.delete
    )
}

fn block(change: &Change, out: &mut dyn io::Write) -> io::Result<()> {
    let verb = match change.action {
        Action::NoOp if change.reasons.contains(&Reason::Kept) => "kept",
        action => action.verb(),
    };
    writeln!(
        out,
        "{:>3} {}: {verb}",
        change.action.symbol(),
        change.address
    )?;
    for reason in &change.reasons {
        if let Some(line) = reason_line(reason) {
            writeln!(out, "      {line}")?;
        }
    }
    if let (Some(build), true) = (&change.build, change.action != Action::NoOp) {
        writeln!(out, "      build from {}:", build.base)?;
        for step in &build.steps {
            match &step.prediction {
                CachePrediction::Hit => writeln!(out, "        CACHED {}", step.step.instruction)?,
                CachePrediction::Miss { reason } => {
                    writeln!(out, "        BUILD  {}: {reason}", step.step.instruction)?
                }
            }
        }
    }
    Ok(())
}

fn reason_line(reason: &Reason) -> Option<String> {
    Some(match reason {
        Reason::New | Reason::Destroy => return None,
        Reason::NotInStack => "no longer in the stack".into(),
        Reason::Field {
            field,
            before,
            after,
            replaces,
        } => {
            let effect = if *replaces {
                "forces replacement"
            } else {
                "in place"
            };
            format!("{field}: {} → {} ({effect})", value(before), value(after))
        }
        Reason::Drift { observed } => format!("drift: {observed}"),
        Reason::Orphan { id } => format!(
            "orphan: container {} has the stack's label but is not in the state",
            short_id(id)
        ),
        Reason::Dependency { address } => format!("{address} is replaced (forces replacement)"),
        Reason::Kept => "volumes are deleted only when asked (destroy --volumes)".into(),
        Reason::WritableLayerDropped => {
            "writable layer dropped: files written outside volumes are lost".into()
        }
    })
}

/// Digests shortened to `sha256:` and 12 hex digits with an ellipsis.
fn value(text: &str) -> String {
    match text.parse::<Digest>() {
        Ok(d) => format!("{}…", d.short()),
        Err(_) => text.to_string(),
    }
}

fn short_id(id: &str) -> &str {
    if id.len() > 12 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        &id[..12]
    } else {
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::Address;
    use crate::backend::ObservedContainer;
    use crate::event::ContainerStatus;
    use crate::plan::testing::{applied, blog, fresh, id};
    use crate::plan::{destroy, diff};
    use crate::state::State;

    fn text(plan: &Plan) -> String {
        let mut out = Vec::new();
        write(plan, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn create_from_empty() {
        let plan = diff(&blog(), &State::new("blog"), &fresh()).unwrap();
        insta::assert_snapshot!(text(&plan));
    }

    #[test]
    fn no_changes() {
        let desired = blog();
        let (state, observed) = applied(&desired, &fresh());
        let plan = diff(&desired, &state, &observed).unwrap();
        assert_eq!(
            text(&plan),
            "No changes. The stack matches the configuration.\n"
        );
    }

    #[test]
    fn in_place_update() {
        let mut desired = blog();
        let (state, observed) = applied(&desired, &fresh());
        let web = desired.stack.containers.get_mut("web").unwrap();
        web.resources.memory = Some(128 << 20);
        web.resources.cpus = Some(0.5);
        let plan = diff(&desired, &state, &observed).unwrap();
        insta::assert_snapshot!(text(&plan));
        let mut json = Vec::new();
        crate::plan::render::json(&plan, &mut json).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
        let updates: Vec<&serde_json::Value> = value["changes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["action"] == "update")
            .collect();
        insta::assert_json_snapshot!(updates);
    }

    #[test]
    fn replace_for_an_image_whose_package_json_changed() {
        let mut desired = blog();
        let (state, observed) = applied(&desired, &fresh());
        desired.contexts.get_mut("web").unwrap().insert(
            "package.json",
            r#"{"name":"blog","dependencies":{"express":"5"}}"#,
        );
        let plan = diff(&desired, &state, &observed).unwrap();
        let text = text(&plan);
        insta::assert_snapshot!(text);
        assert!(text.contains("BUILD  COPY package.json /app/: content changed (package.json)"));
        assert!(text.contains("CACHED WORKDIR /app"));
    }

    #[test]
    fn drift_and_orphan() {
        let desired = blog();
        let (state, mut observed) = applied(&desired, &fresh());
        let db: Address = "container.db".parse().unwrap();
        let seen = observed.containers.get_mut(&id(&db)).unwrap();
        seen.status = ContainerStatus::Exited;
        seen.exit_code = Some(137);
        observed
            .containers
            .remove(&id(&"container.web[1]".parse().unwrap()));
        observed.containers.insert(
            "4f1c2a9be07d55aa".into(),
            ObservedContainer {
                name: "blog-worker-1".into(),
                address: Address::container("worker", 0),
                status: ContainerStatus::Running,
                exit_code: None,
                image_id: crate::image::Digest::of(b"old"),
                oom_killed: false,
            },
        );
        let plan = diff(&desired, &state, &observed).unwrap();
        insta::assert_snapshot!(text(&plan));
    }

    #[test]
    fn destroy_without_and_with_volumes() {
        let desired = blog();
        let (state, observed) = applied(&desired, &fresh());
        insta::assert_snapshot!(
            "destroy_keeps_volumes",
            text(&destroy(&state, &observed, false))
        );
        insta::assert_snapshot!(
            "destroy_with_volumes",
            text(&destroy(&state, &observed, true))
        );
    }
}
