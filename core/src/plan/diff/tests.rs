use super::*;
use crate::backend::ObservedContainer;
use crate::event::ContainerStatus;
use crate::image::Digest;
use crate::image::{CachePrediction, MissReason};
use crate::plan::testing::{applied, blog, fresh, id};
use crate::stack::{ImageRef, ImageSpec, RestartPolicy};

fn get<'p>(plan: &'p Plan, address: &str) -> &'p Change {
    let address: Address = address.parse().unwrap();
    plan.changes
        .iter()
        .find(|c| c.address == address)
        .unwrap_or_else(|| panic!("no change for {address}"))
}

fn actions(plan: &Plan) -> Vec<(String, Action)> {
    plan.changes
        .iter()
        .map(|c| (c.address.to_string(), c.action))
        .collect()
}

fn position(plan: &Plan, address: &str) -> usize {
    plan.changes
        .iter()
        .position(|c| c.address.to_string() == address)
        .unwrap()
}

#[test]
fn from_an_empty_state_everything_is_created_dependencies_first() {
    let desired = blog();
    let plan = diff(&desired, &State::new("blog"), &fresh()).unwrap();
    assert!(plan.changes.iter().all(|c| c.action == Action::Create));
    assert_eq!(plan.changes.len(), 6);
    assert!(position(&plan, "container.db") < position(&plan, "container.web"));
    assert!(position(&plan, "network.back") < position(&plan, "container.db"));
    assert!(position(&plan, "image.web") < position(&plan, "container.web[1]"));
    let web = get(&plan, "container.web[1]");
    let deps: Vec<String> = web.depends_on.iter().map(ToString::to_string).collect();
    assert_eq!(deps, ["image.web", "network.back", "container.db"]);
    let db = get(&plan, "container.db");
    let deps: Vec<String> = db.depends_on.iter().map(ToString::to_string).collect();
    assert_eq!(deps, ["volume.data", "network.back"]);
    let build = get(&plan, "image.web").build.as_ref().unwrap();
    assert_eq!(build.steps.len(), 5);
    assert!(build.steps.iter().all(|s| s.prediction
        == CachePrediction::Miss {
            reason: if s.step.instruction == "WORKDIR /app" {
                MissReason::NotBuilt
            } else {
                MissReason::ParentRebuilt
            }
        }));
    assert_eq!(plan.serial, 0);
}

#[test]
fn a_plan_after_apply_has_no_changes_and_is_deterministic() {
    let desired = blog();
    let (state, observed) = applied(&desired, &fresh());
    let plan = diff(&desired, &state, &observed).unwrap();
    assert!(!plan.has_changes(), "{:#?}", actions(&plan));
    assert_eq!(plan.serial, 7);
    assert_eq!(plan, diff(&desired, &state, &observed).unwrap());
    let build = get(&plan, "image.web").build.as_ref().unwrap();
    assert!(build
        .steps
        .iter()
        .all(|s| s.prediction == CachePrediction::Hit));
}

#[test]
fn a_no_op_carries_the_desired_configuration_once() {
    let mut desired = blog();
    let (state, observed) = applied(&desired, &fresh());
    let plan = diff(&desired, &state, &observed).unwrap();
    for c in &plan.changes {
        let recorded = &state.resources[&c.address].config;
        assert_eq!(c.action, Action::NoOp);
        assert_eq!(c.after.as_ref(), Some(recorded), "{}", c.address);
        assert_eq!(c.before, None, "{}", c.address);
        assert_eq!(c.id, state.resources[&c.address].id, "{}", c.address);
    }
    desired
        .stack
        .containers
        .get_mut("db")
        .unwrap()
        .resources
        .pids = Some(7);
    let plan = diff(&desired, &state, &observed).unwrap();
    let db = get(&plan, "container.db");
    assert_eq!(db.action, Action::Update);
    let recorded = &state.resources[&"container.db".parse().unwrap()].config;
    assert_eq!(db.before.as_ref(), Some(recorded));
    assert_ne!(db.after.as_ref(), Some(recorded));
    assert_eq!(get(&plan, "container.web").before, None);
}

#[test]
fn memory_and_restart_change_in_place() {
    let mut desired = blog();
    let (state, observed) = applied(&desired, &fresh());
    let web = desired.stack.containers.get_mut("web").unwrap();
    web.resources.memory = Some(128 << 20);
    web.restart = RestartPolicy::Always;
    let plan = diff(&desired, &state, &observed).unwrap();
    let c = get(&plan, "container.web");
    assert_eq!(c.action, Action::Update);
    assert_eq!(c.id, id(&c.address));
    assert_eq!(
        c.reasons,
        [
            Reason::Field {
                field: "restart".into(),
                before: "on-failure".into(),
                after: "always".into(),
                replaces: false
            },
            Reason::Field {
                field: "memory".into(),
                before: "64MiB".into(),
                after: "128MiB".into(),
                replaces: false
            },
        ]
    );
    assert_eq!(get(&plan, "container.db").action, Action::NoOp);
}

#[test]
fn any_other_field_replaces_and_says_the_writable_layer_is_dropped() {
    let mut desired = blog();
    let (state, observed) = applied(&desired, &fresh());
    let web = desired.stack.containers.get_mut("web").unwrap();
    web.env.insert("MODE".into(), "dev".into());
    web.resources.memory = Some(128 << 20);
    let plan = diff(&desired, &state, &observed).unwrap();
    let c = get(&plan, "container.web");
    assert_eq!(c.action, Action::Replace);
    assert!(c.reasons.contains(&Reason::Field {
        field: "env.MODE".into(),
        before: "prod".into(),
        after: "dev".into(),
        replaces: true
    }));
    assert_eq!(c.reasons.last(), Some(&Reason::WritableLayerDropped));
    // db keeps its data in a volume: replacing it drops nothing that matters.
    let db = desired.stack.containers.get_mut("db").unwrap();
    db.user = Some("postgres".into());
    let plan = diff(&desired, &state, &observed).unwrap();
    let c = get(&plan, "container.db");
    assert_eq!(c.action, Action::Replace);
    assert!(!c.reasons.contains(&Reason::WritableLayerDropped));
}

#[test]
fn changed_package_json_rebuilds_from_its_copy_and_replaces_the_containers() {
    let mut desired = blog();
    let (state, observed) = applied(&desired, &fresh());
    desired.contexts.get_mut("web").unwrap().insert(
        "package.json",
        r#"{"name":"blog","dependencies":{"express":"5"}}"#,
    );
    let plan = diff(&desired, &state, &observed).unwrap();
    let image = get(&plan, "image.web");
    assert_eq!(image.action, Action::Replace);
    let predictions: Vec<_> = image
        .build
        .as_ref()
        .unwrap()
        .steps
        .iter()
        .map(|s| s.prediction.clone())
        .collect();
    let miss = |reason| CachePrediction::Miss { reason };
    assert_eq!(
        predictions,
        [
            CachePrediction::Hit,
            miss(MissReason::ContentChanged {
                files: vec!["package.json".into()]
            }),
            miss(MissReason::ParentRebuilt),
            miss(MissReason::ParentRebuilt),
            miss(MissReason::ParentRebuilt),
        ]
    );
    for web in ["container.web", "container.web[1]"] {
        let c = get(&plan, web);
        assert_eq!(c.action, Action::Replace);
        assert!(
            matches!(&c.reasons[0], Reason::Field { field, replaces: true, .. } if field == "image")
        );
    }
    assert_eq!(get(&plan, "container.db").action, Action::NoOp);
    assert_eq!(plan.summary().replace, 3);
}

#[test]
fn a_tag_that_moved_replaces_the_pulled_image_and_its_containers() {
    let mut desired = blog();
    desired.stack.images.insert(
        "pg".into(),
        ImageSpec::Pull {
            reference: crate::plan::testing::postgres(),
        },
    );
    desired.stack.containers.get_mut("db").unwrap().image = ImageRef::Stack("pg".into());
    let (state, mut observed) = applied(&desired, &fresh());
    observed.images.insert(
        crate::plan::testing::postgres().to_string(),
        crate::plan::testing::image("postgres:16.1"),
    );
    let plan = diff(&desired, &state, &observed).unwrap();
    let pg = get(&plan, "image.pg");
    assert_eq!(pg.action, Action::Replace);
    assert!(matches!(&pg.reasons[0], Reason::Field { field, .. } if field == "digest"));
    assert_eq!(get(&plan, "container.db").action, Action::Replace);
    assert!(position(&plan, "image.pg") < position(&plan, "container.db"));
}

#[test]
fn drift_recreates_removed_and_dead_containers() {
    let desired = blog();
    let (state, mut observed) = applied(&desired, &fresh());
    observed
        .containers
        .remove(&id(&"container.web[1]".parse().unwrap()));
    let db = observed
        .containers
        .get_mut(&id(&"container.db".parse().unwrap()))
        .unwrap();
    db.status = ContainerStatus::Exited;
    db.exit_code = Some(137);
    db.oom_killed = true;
    let web = observed
        .containers
        .get_mut(&id(&"container.web".parse().unwrap()))
        .unwrap();
    web.status = ContainerStatus::Exited;
    web.exit_code = Some(0);
    let plan = diff(&desired, &state, &observed).unwrap();
    let removed = get(&plan, "container.web[1]");
    assert_eq!(removed.action, Action::Replace);
    assert_eq!(
        removed.reasons[0],
        Reason::Drift {
            observed: Drift::Removed
        }
    );
    let db = get(&plan, "container.db");
    assert_eq!(db.action, Action::Replace);
    assert_eq!(
        db.reasons,
        [Reason::Drift {
            observed: Drift::Exited {
                code: Some(137),
                oom_killed: true
            }
        }]
    );
    // Exited 0 with restart on-failure: it finished, nothing to recreate.
    assert_eq!(get(&plan, "container.web").action, Action::NoOp);
}

#[test]
fn orphans_are_deleted_or_take_the_place_of_a_lost_container() {
    let desired = blog();
    let (state, mut observed) = applied(&desired, &fresh());
    let orphan = |address: &str| ObservedContainer {
        name: "x".into(),
        address: address.parse().unwrap(),
        status: ContainerStatus::Running,
        exit_code: None,
        image_id: Digest::of(b"x"),
        oom_killed: false,
    };
    observed
        .containers
        .insert("stray".into(), orphan("container.old"));
    observed
        .containers
        .remove(&id(&"container.web[1]".parse().unwrap()));
    observed
        .containers
        .insert("half-done".into(), orphan("container.web[1]"));
    let plan = diff(&desired, &state, &observed).unwrap();
    let old = get(&plan, "container.old");
    assert_eq!(old.action, Action::Delete);
    assert_eq!(old.id, "stray");
    assert_eq!(old.reasons, [Reason::Orphan { id: "stray".into() }]);
    let web1 = get(&plan, "container.web[1]");
    assert_eq!(web1.action, Action::Replace);
    assert_eq!(web1.id, "half-done");
    assert!(web1.reasons.contains(&Reason::Orphan {
        id: "half-done".into()
    }));
}

#[test]
fn volumes_left_out_of_the_stack_are_kept_and_the_rest_deleted_after_users() {
    let mut desired = blog();
    let (state, observed) = applied(&desired, &fresh());
    desired.stack.containers.remove("db");
    desired.stack.volumes.clear();
    desired
        .stack
        .containers
        .get_mut("web")
        .unwrap()
        .depends_on
        .clear();
    desired.stack.networks.clear();
    desired
        .stack
        .containers
        .get_mut("web")
        .unwrap()
        .networks
        .clear();
    let plan = diff(&desired, &state, &observed).unwrap();
    let data = get(&plan, "volume.data");
    assert_eq!(data.action, Action::NoOp);
    assert_eq!(data.reasons, [Reason::NotInStack, Reason::Kept]);
    assert_eq!(get(&plan, "container.db").action, Action::Delete);
    let back = get(&plan, "network.back");
    assert_eq!(back.action, Action::Delete);
    assert!(back.depends_on.contains(&"container.db".parse().unwrap()));
    assert!(back.depends_on.contains(&"container.web".parse().unwrap()));
    assert!(position(&plan, "container.db") < position(&plan, "network.back"));
}

#[test]
fn a_replaced_network_replaces_its_containers() {
    let mut desired = blog();
    let (state, observed) = applied(&desired, &fresh());
    desired.stack.networks.get_mut("back").unwrap().subnet = Some(crate::stack::Subnet {
        addr: [10, 90, 0, 0],
        prefix: 24,
    });
    let plan = diff(&desired, &state, &observed).unwrap();
    assert_eq!(get(&plan, "network.back").action, Action::Replace);
    let db = get(&plan, "container.db");
    assert_eq!(db.action, Action::Replace);
    assert_eq!(
        db.reasons,
        [Reason::Dependency {
            address: Address::network("back")
        }]
    );
}

#[test]
fn destroy_keeps_volumes_unless_asked_and_deletes_in_reverse() {
    let desired = blog();
    let (state, observed) = applied(&desired, &fresh());
    let plan = destroy(&state, &observed, false);
    let data = get(&plan, "volume.data");
    assert_eq!(
        (data.action, data.reasons.clone()),
        (Action::NoOp, vec![Reason::Kept])
    );
    assert_eq!(plan.summary().delete, 5);
    assert!(position(&plan, "container.web") < position(&plan, "container.db"));
    assert!(position(&plan, "container.db") < position(&plan, "network.back"));
    assert!(position(&plan, "container.web") < position(&plan, "image.web"));
    let plan = destroy(&state, &observed, true);
    assert_eq!(get(&plan, "volume.data").action, Action::Delete);
    assert!(position(&plan, "container.db") < position(&plan, "volume.data"));
}

#[test]
fn a_state_of_another_stack_is_refused() {
    let err = diff(&blog(), &State::new("shop"), &fresh()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the state is of stack `shop`, the stack file names `blog`"
    );
}

#[test]
fn sizes_are_written_for_people() {
    assert_eq!(bytes(Some(64 << 20)), "64MiB");
    assert_eq!(bytes(Some(1536 << 20)), "1.5GiB");
    assert_eq!(bytes(Some(512)), "512B");
    assert_eq!(bytes(None), "unlimited");
}

#[test]
fn scaling_adds_or_removes_replicas_and_leaves_the_first_alone() {
    let mut desired = blog();
    let (state, observed) = applied(&desired, &fresh());
    desired.stack.containers.get_mut("web").unwrap().replicas = 3;
    let plan = diff(&desired, &state, &observed).unwrap();
    assert_eq!(get(&plan, "container.web[2]").action, Action::Create);
    assert_eq!(get(&plan, "container.web").action, Action::NoOp);
    assert_eq!(plan.summary().create, 1);
    desired.stack.containers.get_mut("web").unwrap().replicas = 1;
    let plan = diff(&desired, &state, &observed).unwrap();
    let gone = get(&plan, "container.web[1]");
    assert_eq!(
        (gone.action, gone.reasons.clone()),
        (Action::Delete, vec![Reason::NotInStack])
    );
    assert_eq!(gone.id, id(&gone.address));
    assert_eq!(plan.summary().delete, 1);
}
