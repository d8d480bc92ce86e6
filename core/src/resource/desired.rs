//! From a validated stack, the build contexts and what the backend observed, the
//! desired configuration of every address. Pure.
//!
//! Pulled images take the digest their reference resolves to in the observation; built
//! images get their steps' cache keys from [`crate::image::build`]. A FROM that names
//! another image of the stack (`FROM base`, or its tag `STACK/base:latest`) builds on
//! that image: its identity is the base digest.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::address::Address;
use crate::backend::{Observed, ObservedImage};
use crate::graph::Cycle;
use crate::image::build::{build_key, plan_steps, BuildError};
use crate::image::{Context, Reference, ReferenceError};
use crate::resource::{
    backend_name, ContainerResource, ImageResource, NetworkResource, ResolvedMount, ResourceConfig,
    VolumeResource,
};
use crate::stack::dockerfile::Dockerfile;
use crate::stack::{BuildSource, ImageRef, ImageSpec, MountSource, Stack};

/// What the user asked for: the stack, and the files of each build context, by image
/// name.
#[derive(Debug, Clone)]
pub struct Desired {
    pub stack: Stack,
    pub contexts: BTreeMap<String, Context>,
}

/// Why the desired configuration cannot be derived (a Dockerfile that does not parse,
/// a COPY of a file the context lacks, a base image that no registry knows).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DesiredError {
    #[error("{address}: {source}")]
    Build {
        address: Address,
        source: crate::image::build::BuildError,
    },
    #[error("{address}: image `{reference}` is neither in the local store nor in the registry")]
    UnknownImage { address: Address, reference: String },
    #[error("{address}: FROM `{from}`: {source}")]
    BadBase {
        address: Address,
        from: String,
        source: ReferenceError,
    },
    #[error("images build on each other in a loop: {0}")]
    Cycle(Cycle),
}

/// Every address of the stack with its desired configuration.
pub fn resolve(
    desired: &Desired,
    observed: &Observed,
) -> Result<BTreeMap<Address, ResourceConfig>, DesiredError> {
    Ok(resolve_in_order(desired, observed)?.into_iter().collect())
}

/// Every address of the stack with its desired configuration, in address order (images,
/// volumes, networks, containers; by name, then replica).
pub fn resolve_in_order(
    desired: &Desired,
    observed: &Observed,
) -> Result<Vec<(Address, ResourceConfig)>, DesiredError> {
    let mut out = Vec::with_capacity(address_count(&desired.stack));
    resolve_each(desired, observed, |address, config| {
        out.push((address, config.clone()))
    })?;
    Ok(out)
}

/// How many addresses the stack has (each replica counts).
pub fn address_count(stack: &Stack) -> usize {
    let replicas: usize = stack
        .containers
        .values()
        .map(|c| c.replicas.max(1) as usize)
        .sum();
    stack.images.len() + stack.volumes.len() + stack.networks.len() + replicas
}

/// Gives every address of the stack with its desired configuration to `each`, in
/// address order, as it is resolved: the planner compares each with its record while
/// both are in the cache, and no list of every configuration is built. On an error it
/// stops; what `each` was given is then to be dropped. The replicas of a container are
/// given the same configuration (`each` clones what it keeps, an `Arc`).
pub fn resolve_each(
    desired: &Desired,
    observed: &Observed,
    mut each: impl FnMut(Address, &ResourceConfig),
) -> Result<(), DesiredError> {
    let stack = &desired.stack;
    let images = resolve_images(desired, observed)?;
    for (name, image) in &images {
        each(
            Address::image(name),
            &ResourceConfig::Image(Arc::new(image.clone())),
        );
    }
    for name in stack.volumes.keys() {
        each(
            Address::volume(name),
            &ResourceConfig::Volume(VolumeResource {
                name: backend_name(&stack.name, name),
            }),
        );
    }
    for (name, spec) in &stack.networks {
        each(
            Address::network(name),
            &ResourceConfig::Network(NetworkResource {
                name: backend_name(&stack.name, name),
                subnet: spec.subnet,
            }),
        );
    }
    for (name, spec) in &stack.containers {
        let (image, image_id) = match &spec.image {
            ImageRef::Stack(key) => match images.get(key) {
                Some(i) => (i.run_reference().to_string(), i.identity().clone()),
                None => {
                    return Err(DesiredError::UnknownImage {
                        address: Address::container(name, 0),
                        reference: key.clone(),
                    })
                }
            },
            ImageRef::Reference(r) => {
                let written = r.to_string();
                match observed.images.get(&written) {
                    Some(o) => (written, o.info.digest.clone()),
                    None => {
                        return Err(DesiredError::UnknownImage {
                            address: Address::container(name, 0),
                            reference: written,
                        })
                    }
                }
            }
        };
        let mounts: Vec<ResolvedMount> = spec
            .volumes
            .iter()
            .map(|m| match &m.source {
                MountSource::Volume(v) => ResolvedMount::Volume {
                    volume: backend_name(&stack.name, v),
                    target: m.target.clone(),
                    read_only: m.read_only,
                },
                MountSource::Bind(path) => ResolvedMount::Bind {
                    source: path.clone(),
                    target: m.target.clone(),
                    read_only: m.read_only,
                },
            })
            .collect();
        let networks: Vec<String> = spec
            .networks
            .iter()
            .map(|n| backend_name(&stack.name, n))
            .collect();
        // One configuration for every replica: they differ only by their address.
        let config = ResourceConfig::Container(Arc::new(ContainerResource {
            image,
            image_id,
            command: spec.command.clone(),
            entrypoint: spec.entrypoint.clone(),
            env: spec.env.clone(),
            workdir: spec.workdir.clone(),
            user: spec.user.clone(),
            hostname: spec.hostname.clone(),
            ports: spec.ports.clone(),
            mounts,
            networks,
            depends_on: spec.depends_on.clone(),
            restart: spec.restart,
            read_only: spec.read_only,
            resources: spec.resources,
            healthcheck: spec.healthcheck.clone(),
        }));
        for index in 0..spec.replicas.max(1) {
            each(Address::container(name, index), &config);
        }
    }
    Ok(())
}

/// The references the backend must be asked about ([`crate::backend::Backend::observe`])
/// before [`resolve`]: pulled images, containers' references, and the bases of builds
/// that are not images of the stack. Sorted, without duplicates.
pub fn references(desired: &Desired) -> Result<Vec<Reference>, DesiredError> {
    let stack = &desired.stack;
    let mut out = std::collections::BTreeSet::new();
    for (name, spec) in &stack.images {
        match spec {
            ImageSpec::Pull { reference } => {
                out.insert(reference.clone());
            }
            ImageSpec::Build { context, source } => {
                let dockerfile = dockerfile(desired, name, context, source)?;
                if stack_image(stack, &dockerfile.from).is_none() {
                    let r = dockerfile.from.parse::<Reference>().map_err(|source| {
                        DesiredError::BadBase {
                            address: Address::image(name),
                            from: dockerfile.from.clone(),
                            source,
                        }
                    })?;
                    out.insert(r);
                }
            }
        }
    }
    for spec in stack.containers.values() {
        if let ImageRef::Reference(r) = &spec.image {
            out.insert(r.clone());
        }
    }
    Ok(out.into_iter().collect())
}

/// The image of the stack that a FROM names, if any: its key (`FROM base`) or its tag
/// (`FROM blog/base:latest`, `FROM blog/base`).
pub fn stack_image<'s>(stack: &'s Stack, from: &str) -> Option<&'s str> {
    if let Some((key, _)) = stack.images.get_key_value(from) {
        return Some(key);
    }
    let rest = from.strip_prefix(&stack.name)?.strip_prefix('/')?;
    let key = rest.strip_suffix(":latest").unwrap_or(rest);
    stack.images.get_key_value(key).map(|(k, _)| k.as_str())
}

/// The image a reference as written resolves to in the observation: by its text, else
/// by its full form (`docker.io/library/busybox:1.36`).
fn lookup<'o>(observed: &'o Observed, written: &str) -> Option<&'o ObservedImage> {
    if let Some(found) = observed.images.get(written) {
        return Some(found);
    }
    let full = written.parse::<Reference>().ok()?.to_string();
    observed.images.get(&full)
}

fn dockerfile(
    desired: &Desired,
    name: &str,
    context: &str,
    source: &BuildSource,
) -> Result<Dockerfile, DesiredError> {
    let build = |source: BuildError| DesiredError::Build {
        address: Address::image(name),
        source,
    };
    match source {
        BuildSource::Dockerfile(path) => {
            let shown = match context.trim_end_matches('/') {
                "" | "." => path.clone(),
                c => format!("{c}/{path}"),
            };
            let text = desired
                .contexts
                .get(name)
                .and_then(|c| c.get(path))
                .ok_or_else(|| {
                    build(BuildError::NoDockerfile {
                        path: shown.clone(),
                    })
                })?;
            Dockerfile::parse(&String::from_utf8_lossy(text), &shown).map_err(build)
        }
        BuildSource::Steps(steps) => {
            Dockerfile::parse(&steps.join("\n"), &format!("images.{name}.steps")).map_err(build)
        }
    }
}

fn resolve_images(
    desired: &Desired,
    observed: &Observed,
) -> Result<BTreeMap<String, ImageResource>, DesiredError> {
    let mut done = BTreeMap::new();
    let mut visiting = Vec::new();
    for name in desired.stack.images.keys() {
        resolve_image(desired, observed, name, &mut done, &mut visiting)?;
    }
    Ok(done)
}

fn resolve_image(
    desired: &Desired,
    observed: &Observed,
    name: &str,
    done: &mut BTreeMap<String, ImageResource>,
    visiting: &mut Vec<String>,
) -> Result<(), DesiredError> {
    if done.contains_key(name) {
        return Ok(());
    }
    if let Some(at) = visiting.iter().position(|v| v == name) {
        return Err(DesiredError::Cycle(Cycle(
            visiting[at..].iter().map(Address::image).collect(),
        )));
    }
    let stack = &desired.stack;
    let Some(spec) = stack.images.get(name) else {
        return Ok(());
    };
    let address = Address::image(name);
    visiting.push(name.to_string());
    let image = match spec {
        ImageSpec::Pull { reference } => {
            let written = reference.to_string();
            let found =
                observed
                    .images
                    .get(&written)
                    .ok_or_else(|| DesiredError::UnknownImage {
                        address: address.clone(),
                        reference: written.clone(),
                    })?;
            ImageResource::Pull {
                reference: written,
                digest: found.info.digest.clone(),
            }
        }
        ImageSpec::Build { context, source } => {
            let dockerfile = dockerfile(desired, name, context, source)?;
            let base_digest = match stack_image(stack, &dockerfile.from) {
                Some(base) => {
                    resolve_image(desired, observed, base, done, visiting)?;
                    done.get(base)
                        .ok_or_else(|| DesiredError::UnknownImage {
                            address: address.clone(),
                            reference: dockerfile.from.clone(),
                        })?
                        .identity()
                        .clone()
                }
                None => lookup(observed, &dockerfile.from)
                    .ok_or_else(|| DesiredError::UnknownImage {
                        address: address.clone(),
                        reference: dockerfile.from.clone(),
                    })?
                    .info
                    .digest
                    .clone(),
            };
            let empty = Context::new();
            let files = desired.contexts.get(name).unwrap_or(&empty);
            let steps = plan_steps(&dockerfile, files, &base_digest).map_err(|source| {
                DesiredError::Build {
                    address: address.clone(),
                    source,
                }
            })?;
            ImageResource::Build {
                name: name.to_string(),
                tag: format!("{}/{name}:latest", stack.name),
                base: dockerfile.from,
                key: build_key(&base_digest, &steps),
                base_digest,
                steps,
            }
        }
    };
    visiting.pop();
    done.insert(name.to_string(), image);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::testing::{blog, fresh, postgres};
    use crate::stack::ImageSpec;

    fn container<'c>(
        configs: &'c BTreeMap<Address, ResourceConfig>,
        address: &str,
    ) -> &'c crate::resource::ContainerResource {
        match &configs[&address.parse::<Address>().unwrap()] {
            ResourceConfig::Container(c) => c,
            other => panic!("not a container: {other:?}"),
        }
    }

    #[test]
    fn every_address_gets_its_configuration() {
        let configs = resolve(&blog(), &fresh()).unwrap();
        let in_order = resolve_in_order(&blog(), &fresh()).unwrap();
        assert!(in_order.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(in_order.iter().map(|(a, c)| (a, c)).eq(configs.iter()));
        let addresses: Vec<String> = configs.keys().map(ToString::to_string).collect();
        assert_eq!(
            addresses,
            [
                "image.web",
                "volume.data",
                "network.back",
                "container.db",
                "container.web",
                "container.web[1]"
            ]
        );
        let ResourceConfig::Image(web) = &configs[&Address::image("web")] else {
            panic!()
        };
        let ImageResource::Build {
            tag,
            base,
            base_digest,
            steps,
            key,
            ..
        } = &**web
        else {
            panic!("web is built")
        };
        assert_eq!(tag, "blog/web:latest");
        assert_eq!(base, "node:20");
        assert_eq!(base_digest, &fresh().images["node:20"].info.digest);
        assert_eq!(steps.len(), 5);
        assert_eq!(key, &steps[4].key);
        let web1 = container(&configs, "container.web[1]");
        let web0 = container(&configs, "container.web");
        assert!(
            std::ptr::eq(web0, web1),
            "the replicas share one configuration"
        );
        let address = "container.web[1]".parse::<Address>().unwrap();
        assert_eq!(
            crate::resource::container_name("blog", &address),
            "blog-web-2"
        );
        assert_eq!(web1.image, "blog/web:latest");
        assert_eq!(&web1.image_id, key);
        assert_eq!(web1.networks, ["blog_back"]);
        let db = container(&configs, "container.db");
        assert_eq!(db.image, "docker.io/library/postgres:16");
        assert_eq!(
            db.image_id,
            fresh().images[&postgres().to_string()].info.digest
        );
        assert_eq!(
            db.mounts,
            [ResolvedMount::Volume {
                volume: "blog_data".into(),
                target: "/var/lib/postgresql/data".into(),
                read_only: false
            }]
        );
    }

    #[test]
    fn an_image_built_on_another_stack_image_takes_its_identity_as_base() {
        let mut desired = blog();
        desired.stack.images.insert(
            "tools".into(),
            ImageSpec::Build {
                context: "tools".into(),
                source: BuildSource::Steps(vec![
                    "FROM blog/web:latest".into(),
                    "RUN ./lint".into(),
                ]),
            },
        );
        let configs = resolve(&desired, &fresh()).unwrap();
        let web_key = match &configs[&Address::image("web")] {
            ResourceConfig::Image(i) => i.identity().clone(),
            _ => panic!(),
        };
        match &configs[&Address::image("tools")] {
            ResourceConfig::Image(image) => match &**image {
                ImageResource::Build { base_digest, .. } => assert_eq!(base_digest, &web_key),
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
        assert_eq!(stack_image(&desired.stack, "web"), Some("web"));
        assert_eq!(stack_image(&desired.stack, "blog/web"), Some("web"));
        assert_eq!(stack_image(&desired.stack, "node:20"), None);
    }

    #[test]
    fn images_building_on_each_other_in_a_loop_are_refused() {
        let mut desired = blog();
        for (name, from) in [("a", "FROM b"), ("b", "FROM a")] {
            desired.stack.images.insert(
                name.into(),
                ImageSpec::Build {
                    context: name.into(),
                    source: BuildSource::Steps(vec![from.into()]),
                },
            );
        }
        let err = resolve(&desired, &fresh()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "images build on each other in a loop: dependency cycle: image.a → image.b → image.a"
        );
    }

    #[test]
    fn build_errors_name_the_image_and_the_spot() {
        let mut desired = blog();
        desired
            .contexts
            .get_mut("web")
            .unwrap()
            .insert("Dockerfile", "FROM node:20\nCOPY missing.txt /app/\n");
        let err = resolve(&desired, &fresh()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "image.web: step 1 `COPY missing.txt /app/`: no file matches `missing.txt` in the build context"
        );
        desired
            .contexts
            .get_mut("web")
            .unwrap()
            .files
            .remove("Dockerfile");
        let err = resolve(&desired, &fresh()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "image.web: the Dockerfile `web/Dockerfile` is not in the build context"
        );
        desired
            .contexts
            .get_mut("web")
            .unwrap()
            .insert("Dockerfile", "FROM node:20\nRUN\n");
        let err = resolve(&desired, &fresh()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("image.web: web/Dockerfile:2: RUN needs"),
            "{err}"
        );
    }

    #[test]
    fn an_image_the_backend_cannot_find_is_named() {
        let mut observed = fresh();
        observed.images.remove(&postgres().to_string());
        let err = resolve(&blog(), &observed).unwrap_err();
        assert_eq!(
            err,
            DesiredError::UnknownImage {
                address: Address::container("db", 0),
                reference: "docker.io/library/postgres:16".into()
            }
        );
    }
}
