//! The registry the simulated backend pulls from: a few well-known images, seeded, so
//! that pulls work offline and always give the same digests. Sizes are close to the real
//! ones; versions share base layers where the real images do (both nginx versions sit on
//! one Debian layer, and their entrypoint scripts are the same layers).
//!
//! Never reaches the network.

use std::collections::BTreeMap;

use crate::image::{Digest, ImageConfig, ImageInfo, Layer};

const PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Images by canonical reference (`docker.io/library/busybox:1.36`).
#[derive(Debug, Clone)]
pub struct Registry {
    images: BTreeMap<String, ImageInfo>,
}

fn layer(description: &str, size: u64) -> Layer {
    Layer {
        digest: Digest::of(format!("quai sim registry layer: {description}").as_bytes()),
        size,
        created_by: description.to_string(),
    }
}

/// The manifest digest of an image made of `layers` and `config`.
pub(crate) fn manifest_digest(layers: &[Layer], config: &ImageConfig) -> Digest {
    let config = serde_json::to_vec(config).unwrap_or_default();
    let mut parts: Vec<&[u8]> = vec![b"quai sim manifest"];
    parts.extend(layers.iter().map(|l| l.digest.hex().as_bytes()));
    parts.push(&config);
    Digest::of_parts(parts)
}

fn image(layers: Vec<Layer>, config: ImageConfig) -> ImageInfo {
    ImageInfo {
        digest: manifest_digest(&layers, &config),
        layers,
        config,
        tags: Vec::new(),
    }
}

fn strings(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

impl Registry {
    /// The seeded registry: busybox 1.36 and 1.37, alpine 3.19 and 3.20, debian 12.5
    /// and 12.6 (bookworm), nginx 1.25 and 1.27; `latest` names the newest of each.
    pub fn seeded() -> Registry {
        let mut images = BTreeMap::new();
        let mut add = |repo: &str, tags: &[&str], info: ImageInfo| {
            for tag in tags {
                let mut info = info.clone();
                info.tags = tags.iter().map(|t| format!("{repo}:{t}")).collect();
                images.insert(format!("docker.io/library/{repo}:{tag}"), info);
            }
        };
        let shell = |cmd: &[&str]| ImageConfig {
            env: vec![PATH.to_string()],
            cmd: strings(cmd),
            ..ImageConfig::default()
        };
        add(
            "busybox",
            &["1.36", "1.36.1"],
            image(
                vec![layer("busybox 1.36.1 rootfs", 2_152_262)],
                shell(&["sh"]),
            ),
        );
        add(
            "busybox",
            &["1.37", "1.37.0", "latest"],
            image(
                vec![layer("busybox 1.37.0 rootfs", 2_166_996)],
                shell(&["sh"]),
            ),
        );
        add(
            "alpine",
            &["3.19", "3.19.4"],
            image(
                vec![layer("alpine 3.19.4 rootfs", 3_419_706)],
                shell(&["/bin/sh"]),
            ),
        );
        add(
            "alpine",
            &["3.20", "3.20.3", "latest"],
            image(
                vec![layer("alpine 3.20.3 rootfs", 3_623_844)],
                shell(&["/bin/sh"]),
            ),
        );
        let bookworm_old = layer("debian bookworm 12.5 rootfs", 49_557_601);
        let bookworm = layer("debian bookworm 12.6 rootfs", 49_581_255);
        add(
            "debian",
            &["12.5", "bookworm-20240311"],
            image(vec![bookworm_old], shell(&["bash"])),
        );
        add(
            "debian",
            &["12.6", "12", "bookworm", "latest"],
            image(vec![bookworm.clone()], shell(&["bash"])),
        );
        // The entrypoint scripts are the same files in both versions: the same layers.
        let scripts = [
            layer("nginx COPY docker-entrypoint.sh /", 628),
            layer("nginx COPY 10-listen-on-ipv6-by-default.sh", 956),
            layer("nginx COPY 15-local-resolvers.envsh", 404),
            layer("nginx COPY 20-envsubst-on-templates.sh", 1_209),
            layer("nginx COPY 30-tune-worker-processes.sh", 1_398),
        ];
        let nginx = |version: &str, packages: u64| {
            let mut layers = vec![
                bookworm.clone(),
                layer(&format!("nginx {version} packages"), packages),
            ];
            layers.extend(scripts.iter().cloned());
            image(
                layers,
                ImageConfig {
                    env: vec![PATH.to_string(), format!("NGINX_VERSION={version}")],
                    entrypoint: strings(&["/docker-entrypoint.sh"]),
                    cmd: strings(&["nginx", "-g", "daemon off;"]),
                    exposed_ports: strings(&["80/tcp"]),
                    ..ImageConfig::default()
                },
            )
        };
        add("nginx", &["1.25", "1.25.5"], nginx("1.25.5", 41_834_117));
        add(
            "nginx",
            &["1.27", "1.27.2", "mainline", "latest"],
            nginx("1.27.2", 43_121_830),
        );
        Registry { images }
    }

    /// The image a canonical reference names (a tag or `@sha256:` digest).
    pub fn get(&self, canonical: &str) -> Option<&ImageInfo> {
        if let Some((_, digest)) = canonical.split_once('@') {
            return self
                .images
                .values()
                .find(|i| i.digest.to_string() == digest);
        }
        self.images.get(canonical)
    }

    /// Every canonical reference the registry knows.
    pub fn references(&self) -> impl Iterator<Item = &str> {
        self.images.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_share_base_layers_where_real_ones_do() {
        let r = Registry::seeded();
        let a = r.get("docker.io/library/nginx:1.25").unwrap();
        let b = r.get("docker.io/library/nginx:1.27").unwrap();
        let debian = r.get("docker.io/library/debian:12.6").unwrap();
        assert_ne!(a.digest, b.digest);
        assert_eq!(a.layers[0], debian.layers[0]);
        assert_eq!(b.layers[0], debian.layers[0]);
        assert_eq!(a.layers.len(), 7);
        let shared = a.layers.iter().filter(|l| b.layers.contains(l)).count();
        assert_eq!(shared, 6, "only the nginx packages layer differs");
    }

    #[test]
    fn latest_names_the_newest_and_sizes_are_realistic() {
        let r = Registry::seeded();
        let latest = r.get("docker.io/library/busybox:latest").unwrap();
        assert_eq!(latest, r.get("docker.io/library/busybox:1.37").unwrap());
        assert!((2_000_000..2_300_000).contains(&latest.size()));
        let alpine = r.get("docker.io/library/alpine:3.19").unwrap();
        assert!((3_300_000..3_500_000).contains(&alpine.size()));
        let pinned = format!("docker.io/library/alpine@{}", alpine.digest);
        assert_eq!(r.get(&pinned), Some(alpine));
        assert!(r.get("docker.io/library/redis:7").is_none());
    }
}
