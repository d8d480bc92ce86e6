//! What the views draw at one point of a replay: the events of an apply folded, one by
//! one, onto the scene before it. Stepping back is folding fewer events.
//!
//! Pure: built from core's [`Event`]s only, never from the backend.

use std::collections::{BTreeMap, BTreeSet};

use quai_core::address::Address;
use quai_core::event::{ContainerStatus, Event};
use quai_core::image::{Digest, MissReason};
use quai_core::plan::Action;

/// A container as the replay shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerView {
    pub id: String,
    pub status: ContainerStatus,
    pub exit_code: Option<i32>,
}

/// One change of state of a container, as played.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub address: Address,
    pub from: Option<ContainerStatus>,
    pub to: ContainerStatus,
}

/// How one build step went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepOutcome {
    Hit,
    Miss(MissReason),
}

/// One build step, as played.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltStep {
    pub step: usize,
    pub instruction: String,
    pub outcome: StepOutcome,
    /// The layer it produced, once built.
    pub layer: Option<(Digest, u64)>,
}

/// A layer fetched for a pull, or found in the store already.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PulledLayer {
    pub digest: Digest,
    pub bytes: u64,
    pub reused: bool,
}

/// Everything the views need from the events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scene {
    pub containers: BTreeMap<Address, ContainerView>,
    /// Transitions of this replay, in order.
    pub transitions: Vec<Transition>,
    /// Build steps of this replay, per image.
    pub builds: BTreeMap<Address, Vec<BuiltStep>>,
    /// Layers of pulls of this replay, per reference.
    pub pulls: BTreeMap<String, Vec<PulledLayer>>,
    /// Tags given in this replay, to the digest they name.
    pub tags: BTreeMap<String, Digest>,
    pub volumes: BTreeSet<Address>,
    pub networks: BTreeMap<Address, String>,
    /// The step under way, if one started and has not finished.
    pub current: Option<(Address, Action)>,
    /// Steps finished in this replay, with their error when they failed.
    pub finished: Vec<(Address, Action, Option<String>)>,
}

impl Scene {
    /// The scene a new replay starts from: what exists stays, what was played is cleared.
    pub fn carried(&self) -> Scene {
        Scene {
            containers: self.containers.clone(),
            volumes: self.volumes.clone(),
            networks: self.networks.clone(),
            ..Scene::default()
        }
    }

    /// This scene with `events` played on it.
    pub fn played(&self, events: &[Event]) -> Scene {
        let mut scene = self.clone();
        for e in events {
            scene.play(e);
        }
        scene
    }

    /// Plays one event.
    pub fn play(&mut self, event: &Event) {
        match event {
            Event::StepStarted { address, action } => {
                self.current = Some((address.clone(), *action));
            }
            Event::StepFinished {
                address,
                action,
                error,
            } => {
                if self.current.as_ref().is_some_and(|(a, _)| a == address) {
                    self.current = None;
                }
                self.finished
                    .push((address.clone(), *action, error.clone()));
            }
            Event::StepSkipped { .. } | Event::Note { .. } => {}
            Event::CacheHit {
                image,
                step,
                instruction,
            } => self.step(image, *step, instruction, StepOutcome::Hit),
            Event::CacheMiss {
                image,
                step,
                instruction,
                reason,
            } => self.step(image, *step, instruction, StepOutcome::Miss(reason.clone())),
            Event::LayerBuilt {
                image,
                step,
                digest,
                bytes,
            } => {
                if let Some(s) = self
                    .builds
                    .get_mut(image)
                    .and_then(|steps| steps.iter_mut().rev().find(|s| s.step == *step))
                {
                    s.layer = Some((digest.clone(), *bytes));
                }
            }
            Event::LayerPulled {
                reference,
                digest,
                bytes,
            } => self
                .pulls
                .entry(reference.clone())
                .or_default()
                .push(PulledLayer {
                    digest: digest.clone(),
                    bytes: *bytes,
                    reused: false,
                }),
            Event::LayerReused { reference, digest } => self
                .pulls
                .entry(reference.clone())
                .or_default()
                .push(PulledLayer {
                    digest: digest.clone(),
                    bytes: 0,
                    reused: true,
                }),
            Event::ImageTagged { tag, digest } => {
                self.tags.insert(tag.clone(), digest.clone());
            }
            Event::ContainerChanged {
                address,
                id,
                from,
                to,
                exit_code,
            } => {
                self.transitions.push(Transition {
                    address: address.clone(),
                    from: *from,
                    to: *to,
                });
                if *to == ContainerStatus::Removed {
                    // A replace removes the old container then creates the new one; only
                    // drop the entry if it still is the removed one.
                    if self.containers.get(address).is_some_and(|c| c.id == *id) {
                        self.containers.remove(address);
                    }
                } else {
                    self.containers.insert(
                        address.clone(),
                        ContainerView {
                            id: id.clone(),
                            status: *to,
                            exit_code: *exit_code,
                        },
                    );
                }
            }
            Event::VolumeCreated { address } => {
                self.volumes.insert(address.clone());
            }
            Event::VolumeRemoved { address } => {
                self.volumes.remove(address);
            }
            Event::NetworkCreated { address, subnet } => {
                self.networks.insert(address.clone(), subnet.clone());
            }
            Event::NetworkRemoved { address } => {
                self.networks.remove(address);
            }
        }
    }

    fn step(&mut self, image: &Address, step: usize, instruction: &str, outcome: StepOutcome) {
        self.builds
            .entry(image.clone())
            .or_default()
            .push(BuiltStep {
                step,
                instruction: instruction.to_string(),
                outcome,
                layer: None,
            });
    }

    /// The states a container went through in this replay, in order (its replacement
    /// included: a replace shows `running → exited → removed → created → running`).
    pub fn path(&self, address: &Address) -> Vec<ContainerStatus> {
        let mut path = Vec::new();
        for t in self.transitions.iter().filter(|t| &t.address == address) {
            if path.is_empty() {
                if let Some(from) = t.from {
                    path.push(from);
                }
            }
            path.push(t.to);
        }
        path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changed(name: &str, id: &str, from: Option<ContainerStatus>, to: ContainerStatus) -> Event {
        Event::ContainerChanged {
            address: Address::container(name, 0),
            id: id.into(),
            from,
            to,
            exit_code: None,
        }
    }

    #[test]
    fn containers_follow_their_transitions_and_a_replace_keeps_the_new_one() {
        use ContainerStatus::*;
        let events = [
            changed("web", "a", None, Created),
            changed("web", "a", Some(Created), Running),
        ];
        let scene = Scene::default().played(&events);
        assert_eq!(
            scene.containers[&Address::container("web", 0)].status,
            Running
        );
        assert_eq!(scene.transitions.len(), 2);

        // Replace: the new container is created before the old one's removal is told.
        let replace = [
            changed("web", "a", Some(Running), Exited),
            changed("web", "b", None, Created),
            changed("web", "a", Some(Exited), Removed),
            changed("web", "b", Some(Created), Running),
        ];
        let after = scene.carried().played(&replace);
        let web = &after.containers[&Address::container("web", 0)];
        assert_eq!((web.id.as_str(), web.status), ("b", Running));
        assert_eq!(
            after.transitions.len(),
            4,
            "the carried scene forgets old transitions"
        );
        assert_eq!(
            after.path(&Address::container("web", 0)),
            vec![Running, Exited, Created, Removed, Running]
        );

        let destroyed = after.played(&[changed("web", "b", Some(Running), Removed)]);
        assert!(destroyed.containers.is_empty());
    }

    #[test]
    fn build_steps_record_hits_misses_and_their_layers() {
        let image = Address::image("web");
        let digest = Digest::of(b"layer");
        let events = [
            Event::StepStarted {
                address: image.clone(),
                action: Action::Create,
            },
            Event::CacheHit {
                image: image.clone(),
                step: 1,
                instruction: "COPY package.json /app/".into(),
            },
            Event::CacheMiss {
                image: image.clone(),
                step: 2,
                instruction: "COPY . /app/".into(),
                reason: MissReason::ContentChanged {
                    files: vec!["server.js".into()],
                },
            },
            Event::LayerBuilt {
                image: image.clone(),
                step: 2,
                digest: digest.clone(),
                bytes: 300,
            },
        ];
        let scene = Scene::default().played(&events);
        let steps = &scene.builds[&image];
        assert_eq!(steps[0].outcome, StepOutcome::Hit);
        assert!(matches!(
            steps[1].outcome,
            StepOutcome::Miss(MissReason::ContentChanged { .. })
        ));
        assert_eq!(steps[1].layer, Some((digest, 300)));
        assert_eq!(scene.current, Some((image.clone(), Action::Create)));

        let done = scene.played(&[Event::StepFinished {
            address: image,
            action: Action::Create,
            error: None,
        }]);
        assert_eq!(done.current, None);
        assert_eq!(done.finished.len(), 1);
    }
}
