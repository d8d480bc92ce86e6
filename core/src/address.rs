//! Addresses name every resource of a stack: `image.web`, `volume.data`,
//! `network.back`, `container.web`, and `container.web[1]` for the second replica.
//!
//! The first replica of a container is `container.web` (index 0), so that scaling from
//! one replica to three adds `container.web[1]` and `container.web[2]` and leaves the
//! running one alone. Addresses appear everywhere: plan, state, events, errors.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What kind of resource an address names. The order is the order of a plan listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Image,
    Volume,
    Network,
    Container,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Image, Kind::Volume, Kind::Network, Kind::Container];

    /// The word used in addresses and in the stack file's tables (`[images.x]` → `image`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Image => "image",
            Kind::Volume => "volume",
            Kind::Network => "network",
            Kind::Container => "container",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The name of one resource: kind, name in the stack file, replica index for containers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address {
    pub kind: Kind,
    pub name: String,
    /// Replica index; 0 is written without brackets.
    pub index: u32,
}

impl Address {
    pub fn new(kind: Kind, name: impl Into<String>) -> Self {
        Address {
            kind,
            name: name.into(),
            index: 0,
        }
    }
    pub fn image(name: impl Into<String>) -> Self {
        Self::new(Kind::Image, name)
    }
    pub fn volume(name: impl Into<String>) -> Self {
        Self::new(Kind::Volume, name)
    }
    pub fn network(name: impl Into<String>) -> Self {
        Self::new(Kind::Network, name)
    }
    pub fn container(name: impl Into<String>, index: u32) -> Self {
        Address {
            kind: Kind::Container,
            name: name.into(),
            index,
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.kind, self.name)?;
        if self.index > 0 {
            write!(f, "[{}]", self.index)?;
        }
        Ok(())
    }
}

/// Why a text is not an address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not an address: expected KIND.NAME or container.NAME[N], KIND one of image, volume, network, container")]
pub struct AddressError {
    pub text: String,
}

impl FromStr for Address {
    type Err = AddressError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || AddressError {
            text: s.to_string(),
        };
        let (kind, rest) = s.split_once('.').ok_or_else(err)?;
        let kind = Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == kind)
            .ok_or_else(err)?;
        let (name, index) = match rest.strip_suffix(']').and_then(|r| r.split_once('[')) {
            Some((name, index)) if kind == Kind::Container => {
                (name, index.parse::<u32>().map_err(|_| err())?)
            }
            Some(_) => return Err(err()),
            None => (rest, 0),
        };
        if name.is_empty() || name.contains(['[', ']', ' ']) {
            return Err(err());
        }
        Ok(Address {
            kind,
            name: name.to_string(),
            index,
        })
    }
}

serde_as_text!(Address);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_round_trip_through_text() {
        for text in [
            "image.web",
            "volume.data",
            "network.back",
            "container.web",
            "container.web[2]",
        ] {
            assert_eq!(text.parse::<Address>().unwrap().to_string(), text);
        }
        assert_eq!(
            "container.web[0]".parse::<Address>().unwrap().to_string(),
            "container.web"
        );
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for text in [
            "web",
            "pod.web",
            "image.",
            "image.web[1]",
            "container.web[x]",
            "container.web[1",
        ] {
            assert!(text.parse::<Address>().is_err(), "{text} should be refused");
        }
    }

    #[test]
    fn plan_order_is_images_volumes_networks_containers() {
        let mut v = [
            Address::container("a", 0),
            Address::network("n"),
            Address::image("z"),
        ];
        v.sort();
        assert_eq!(v[0].kind, Kind::Image);
        assert_eq!(v[2].kind, Kind::Container);
    }
}
