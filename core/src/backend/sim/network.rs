//! Networks of the simulated backend: subnets allocated from 10.89.0.0/16 in /24s when
//! none is asked, overlaps refused, and an address per attached container (`.1` is the
//! gateway). Pure functions over the world.

use crate::backend::sim::world::{SimNetwork, World};
use crate::backend::BackendError;
use crate::resource::NetworkResource;
use crate::stack::Subnet;

fn as_u32(addr: [u8; 4]) -> u32 {
    u32::from_be_bytes(addr)
}

fn mask(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix.min(32)))
    }
}

/// Whether two subnets share an address.
pub(crate) fn overlaps(a: &Subnet, b: &Subnet) -> bool {
    let m = mask(a.prefix.min(b.prefix));
    as_u32(a.addr) & m == as_u32(b.addr) & m
}

/// Creates network `network.name` for `stack`, or returns the subnet of the one that
/// exists already under that name.
pub(crate) fn create(
    world: &mut World,
    stack: &str,
    network: &NetworkResource,
) -> Result<Subnet, BackendError> {
    if let Some(existing) = world.networks.get(&network.name) {
        return Ok(existing.subnet);
    }
    let taken = |subnet: &Subnet| {
        world
            .networks
            .iter()
            .find(|(_, n)| overlaps(&n.subnet, subnet))
            .map(|(name, _)| name.clone())
    };
    let subnet = match network.subnet {
        Some(asked) => {
            if let Some(other) = taken(&asked) {
                return Err(BackendError::SubnetTaken {
                    subnet: asked.to_string(),
                    other,
                });
            }
            asked
        }
        None => (0..=255u8)
            .map(|third| Subnet {
                addr: [10, 89, third, 0],
                prefix: 24,
            })
            .find(|candidate| taken(candidate).is_none())
            .ok_or_else(|| BackendError::NoFreeSubnet {
                name: network.name.clone(),
            })?,
    };
    world.networks.insert(
        network.name.clone(),
        SimNetwork {
            stack: stack.to_string(),
            subnet,
        },
    );
    Ok(subnet)
}

/// The lowest free host address of `network` (from `.2`; `.1` is the gateway).
pub(crate) fn allocate(world: &World, network: &str) -> Result<[u8; 4], BackendError> {
    let Some(net) = world.networks.get(network) else {
        return Err(BackendError::NoSuchNetwork {
            name: network.to_string(),
        });
    };
    let used: Vec<[u8; 4]> = world
        .containers
        .values()
        .filter_map(|c| c.addresses.get(network).copied())
        .collect();
    let base = as_u32(net.subnet.addr);
    let hosts = if net.subnet.prefix >= 31 {
        0
    } else {
        (1u32 << (32 - u32::from(net.subnet.prefix))) - 2
    };
    (2..=hosts)
        .map(|h| (base + h).to_be_bytes())
        .find(|a| !used.contains(a))
        .ok_or_else(|| BackendError::NoFreeAddress {
            name: network.to_string(),
            subnet: net.subnet.to_string(),
            hosts: hosts.saturating_sub(1),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(name: &str, subnet: Option<Subnet>) -> NetworkResource {
        NetworkResource {
            name: name.into(),
            subnet,
        }
    }

    #[test]
    fn subnets_are_allocated_in_order_skipping_taken_ones() {
        let mut w = World::default();
        let asked = Subnet {
            addr: [10, 89, 0, 0],
            prefix: 24,
        };
        assert_eq!(
            create(&mut w, "s", &net("s_a", Some(asked))).unwrap(),
            asked
        );
        let b = create(&mut w, "s", &net("s_b", None)).unwrap();
        assert_eq!(b.to_string(), "10.89.1.0/24");
        // Asking again for the same name gives the same subnet.
        assert_eq!(create(&mut w, "s", &net("s_b", None)).unwrap(), b);
        let err = create(
            &mut w,
            "s",
            &net(
                "s_c",
                Some(Subnet {
                    addr: [10, 89, 0, 0],
                    prefix: 16,
                }),
            ),
        )
        .unwrap_err();
        assert!(matches!(err, BackendError::SubnetTaken { .. }), "{err}");
        assert_eq!(allocate(&w, "s_a").unwrap(), [10, 89, 0, 2]);
        assert!(allocate(&w, "nope").is_err());
    }
}
