//! VMs vs containers: what the apps of a stack would cost as one VM each, and as
//! containers on one kernel, with the figures the course gives (a kernel ≈ 100 MB, a
//! distribution ≥ 500 MB, Alpine < 5 MB, boot in minutes vs seconds).
//!
//! Pure arithmetic over the stack's apps; never touches the backend.

/// A kernel, as the course counts it.
pub const KERNEL_BYTES: u64 = 100_000_000;
/// A full distribution (the guest OS of a VM), at least.
pub const DISTRIBUTION_BYTES: u64 = 500_000_000;
/// An Alpine base image, at most.
pub const ALPINE_BYTES: u64 = 5_000_000;
/// A VM boots in minutes: we count two.
pub const VM_BOOT_SECONDS: u64 = 120;
/// A container starts in about a second.
pub const CONTAINER_BOOT_SECONDS: u64 = 1;

/// One app of the stack: a container replica and the image it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    /// `container.web[1]`.
    pub address: String,
    /// The image as the stack names it (`web`, `busybox:1.36`).
    pub image: String,
    /// The image's layers in the simulated store (digest, size); empty when the image
    /// is not there yet.
    pub layers: Vec<(String, u64)>,
}

impl App {
    /// The image's size, or an Alpine base when the image is not in the store yet.
    pub fn bytes(&self) -> u64 {
        if self.layers.is_empty() {
            ALPINE_BYTES
        } else {
            self.layers.iter().map(|(_, b)| b).sum()
        }
    }
}

/// The cost of running the apps one way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cost {
    pub kernels: usize,
    pub disk_bytes: u64,
    /// Time to bring every app up, one after the other.
    pub boot_seconds: u64,
}

/// Both ways side by side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Footprint {
    pub vms: Cost,
    pub containers: Cost,
}

/// Adds up the costs for `apps`.
///
/// VMs: the host's kernel, then per app a guest kernel, a distribution and the app.
/// Containers: the host's kernel, then each distinct layer once (containers of one
/// image share its layers, and images share their common base layers).
pub fn footprint(apps: &[App]) -> Footprint {
    let n = apps.len() as u64;
    let vms = Cost {
        kernels: 1 + apps.len(),
        disk_bytes: KERNEL_BYTES
            + n * (KERNEL_BYTES + DISTRIBUTION_BYTES)
            + apps.iter().map(App::bytes).sum::<u64>(),
        boot_seconds: n * VM_BOOT_SECONDS,
    };
    // Each layer once; an image not in the store yet counts as one Alpine-sized layer.
    let mut layers: Vec<(String, u64)> = apps
        .iter()
        .flat_map(|a| {
            if a.layers.is_empty() {
                vec![(format!("image {}", a.image), ALPINE_BYTES)]
            } else {
                a.layers.clone()
            }
        })
        .collect();
    layers.sort();
    layers.dedup_by(|a, b| a.0 == b.0);
    let containers = Cost {
        kernels: 1,
        disk_bytes: KERNEL_BYTES + layers.iter().map(|(_, b)| b).sum::<u64>(),
        boot_seconds: n * CONTAINER_BOOT_SECONDS,
    };
    Footprint { vms, containers }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(address: &str, image: &str, layers: &[(&str, u64)]) -> App {
        App {
            address: address.into(),
            image: image.into(),
            layers: layers.iter().map(|(d, b)| (d.to_string(), *b)).collect(),
        }
    }

    #[test]
    fn each_vm_carries_its_own_kernel_and_distribution() {
        let apps = [
            app(
                "container.web",
                "web",
                &[("base", 4_000_000), ("web", 6_000_000)],
            ),
            app("container.db", "db", &[("db", 20_000_000)]),
        ];
        let f = footprint(&apps);
        assert_eq!(f.vms.kernels, 3);
        assert_eq!(f.vms.disk_bytes, 100_000_000 + 2 * 600_000_000 + 30_000_000);
        assert_eq!(f.vms.boot_seconds, 240);
        assert_eq!(f.containers.kernels, 1);
        assert_eq!(f.containers.disk_bytes, 100_000_000 + 30_000_000);
        assert_eq!(f.containers.boot_seconds, 2);
    }

    #[test]
    fn replicas_of_one_image_share_it_but_not_a_vm() {
        let apps = [
            app("container.web", "web", &[]),
            app("container.web[1]", "web", &[]),
            app("container.web[2]", "web", &[]),
        ];
        let f = footprint(&apps);
        assert_eq!(f.containers.disk_bytes, KERNEL_BYTES + ALPINE_BYTES);
        assert_eq!(f.vms.kernels, 4);
        assert!(f.vms.disk_bytes > 10 * f.containers.disk_bytes);
    }

    #[test]
    fn images_sharing_a_base_layer_store_it_once() {
        let apps = [
            app(
                "container.old",
                "nginx:1.25",
                &[("debian", 50), ("nginx125", 40)],
            ),
            app(
                "container.new",
                "nginx:1.27",
                &[("debian", 50), ("nginx127", 43)],
            ),
        ];
        let f = footprint(&apps);
        assert_eq!(f.containers.disk_bytes, KERNEL_BYTES + 50 + 40 + 43);
        assert_eq!(f.vms.disk_bytes, KERNEL_BYTES + 2 * 600_000_000 + 90 + 93);
    }

    #[test]
    fn no_app_costs_one_kernel_either_way() {
        let f = footprint(&[]);
        assert_eq!(f.vms.disk_bytes, KERNEL_BYTES);
        assert_eq!(f.containers.disk_bytes, KERNEL_BYTES);
        assert_eq!(f.vms.boot_seconds, 0);
    }
}
