//! IPv4 subnets in CIDR form (`10.89.1.0/24`): reading, alignment, overlap. Pure.

use std::str::FromStr;

use crate::stack::Subnet;

/// Shortest prefix accepted: a /8 is already 16 million addresses.
pub const MIN_PREFIX: u8 = 8;
/// Longest prefix accepted: a /30 leaves two addresses for containers.
pub const MAX_PREFIX: u8 = 30;

/// Why a text is not a usable subnet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubnetError {
    #[error("`{text}` is not a subnet in CIDR form")]
    NotCidr { text: String },
    #[error("`{text}`: the prefix /{prefix} is outside /{MIN_PREFIX}../{MAX_PREFIX}")]
    Prefix { text: String, prefix: u8 },
    #[error("`{text}`: the address is not the start of a /{} subnet", aligned.prefix)]
    NotAligned { text: String, aligned: Subnet },
    #[error("`{text}` is a {what} range, not for container networks")]
    Reserved { text: String, what: &'static str },
}

impl Subnet {
    /// The address as one number.
    pub fn base(&self) -> u32 {
        u32::from_be_bytes(self.addr)
    }

    /// The netmask as one number.
    pub fn mask(&self) -> u32 {
        if self.prefix == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(self.prefix))
        }
    }

    /// Whether the two subnets share an address.
    pub fn overlaps(&self, other: &Subnet) -> bool {
        let mask = self.mask() & other.mask();
        self.base() & mask == other.base() & mask
    }
}

impl FromStr for Subnet {
    type Err = SubnetError;

    /// Reads `A.B.C.D/N`, N from 8 to 30, the address aligned on the prefix, outside
    /// the loopback, multicast and reserved ranges.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let not_cidr = || SubnetError::NotCidr {
            text: s.to_string(),
        };
        let (addr, prefix) = s.trim().split_once('/').ok_or_else(not_cidr)?;
        let octets: Vec<&str> = addr.split('.').collect();
        if octets.len() != 4 {
            return Err(not_cidr());
        }
        let mut bytes = [0u8; 4];
        for (b, o) in bytes.iter_mut().zip(&octets) {
            if o.is_empty() || o.len() > 3 || !o.bytes().all(|c| c.is_ascii_digit()) {
                return Err(not_cidr());
            }
            *b = o.parse().map_err(|_| not_cidr())?;
        }
        if prefix.is_empty() || prefix.len() > 2 || !prefix.bytes().all(|c| c.is_ascii_digit()) {
            return Err(not_cidr());
        }
        let prefix: u8 = prefix.parse().map_err(|_| not_cidr())?;
        if prefix > 32 {
            return Err(not_cidr());
        }
        if !(MIN_PREFIX..=MAX_PREFIX).contains(&prefix) {
            return Err(SubnetError::Prefix {
                text: s.to_string(),
                prefix,
            });
        }
        let written = Subnet {
            addr: bytes,
            prefix,
        };
        let aligned = Subnet {
            addr: (written.base() & written.mask()).to_be_bytes(),
            prefix,
        };
        if aligned != written {
            return Err(SubnetError::NotAligned {
                text: s.to_string(),
                aligned,
            });
        }
        let what = match bytes[0] {
            0 => Some("reserved (0.0.0.0/8)"),
            127 => Some("loopback"),
            224..=239 => Some("multicast"),
            240..=255 => Some("reserved"),
            _ => None,
        };
        if let Some(what) = what {
            return Err(SubnetError::Reserved {
                text: s.to_string(),
                what,
            });
        }
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Subnet {
        text.parse().unwrap()
    }

    #[test]
    fn cidr_subnets_are_read() {
        assert_eq!(
            s("10.89.1.0/24"),
            Subnet {
                addr: [10, 89, 1, 0],
                prefix: 24
            }
        );
        assert_eq!(s("172.20.0.0/16").to_string(), "172.20.0.0/16");
    }

    #[test]
    fn a_misaligned_address_suggests_the_aligned_one() {
        let e = "10.89.1.5/24".parse::<Subnet>().unwrap_err();
        assert_eq!(
            e,
            SubnetError::NotAligned {
                text: "10.89.1.5/24".into(),
                aligned: s("10.89.1.0/24")
            }
        );
    }

    #[test]
    fn bad_subnets_are_refused() {
        for bad in [
            "10.89.1.0",
            "10.89.1/24",
            "10.89.1.256/24",
            "a.b.c.d/24",
            "10.0.0.0/33",
            "10.0.0.0/",
        ] {
            assert!(
                matches!(bad.parse::<Subnet>(), Err(SubnetError::NotCidr { .. })),
                "{bad}"
            );
        }
        assert!(matches!(
            "10.0.0.0/31".parse::<Subnet>(),
            Err(SubnetError::Prefix { prefix: 31, .. })
        ));
        assert!(matches!(
            "10.0.0.0/4".parse::<Subnet>(),
            Err(SubnetError::Prefix { .. })
        ));
        assert!(matches!(
            "127.0.0.0/8".parse::<Subnet>(),
            Err(SubnetError::Reserved { .. })
        ));
        assert!(matches!(
            "224.0.0.0/8".parse::<Subnet>(),
            Err(SubnetError::Reserved { .. })
        ));
    }

    #[test]
    fn overlap_is_symmetric_and_exact() {
        assert!(s("10.0.0.0/8").overlaps(&s("10.89.1.0/24")));
        assert!(s("10.89.1.0/24").overlaps(&s("10.0.0.0/8")));
        assert!(!s("10.89.1.0/24").overlaps(&s("10.89.2.0/24")));
        assert!(s("10.89.0.0/23").overlaps(&s("10.89.1.0/24")));
    }
}
