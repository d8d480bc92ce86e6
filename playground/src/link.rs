//! A scenario as a link: the stack, the files of the build contexts, the lesson and the
//! language, carried in the URL's fragment (`#s=…`, JSON in unpadded base64url), so a
//! teacher can send a class exactly what is on the screen.
//!
//! Pure text in, text out; reading and writing the address bar is the app's job.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::i18n::Lang;

/// What a link carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scenario {
    /// The lesson's id, when the scenario is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lesson: Option<String>,
    pub lang: Lang,
    /// The stack file's text.
    pub stack: String,
    /// Files of the build contexts, by path from the stack's folder (`web/Dockerfile`).
    pub files: BTreeMap<String, String>,
}

/// Why a fragment is not a scenario.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("the link has no scenario (expected `#s=`)")]
    NoScenario,
    #[error("the scenario is not valid base64url at byte {at}")]
    Base64 { at: usize },
    #[error("the scenario is not a valid description: {message}")]
    Json { message: String },
}

const PREFIX: &str = "s=";
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The fragment (without `#`) that carries `scenario`.
pub fn encode(scenario: &Scenario) -> String {
    let json = serde_json::to_vec(scenario).expect("a scenario is always serialisable");
    format!("{PREFIX}{}", base64url(&json))
}

/// The scenario a fragment carries (with or without its leading `#`).
pub fn decode(fragment: &str) -> Result<Scenario, LinkError> {
    let data = fragment
        .trim_start_matches('#')
        .strip_prefix(PREFIX)
        .ok_or(LinkError::NoScenario)?;
    let bytes = from_base64url(data)?;
    serde_json::from_slice(&bytes).map_err(|e| LinkError::Json {
        message: e.to_string(),
    })
}

fn base64url(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 4 / 3 + 3);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

fn from_base64url(text: &str) -> Result<Vec<u8>, LinkError> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for (at, c) in text.bytes().enumerate() {
        let v = ALPHABET
            .iter()
            .position(|&a| a == c)
            .ok_or(LinkError::Base64 { at })? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    if bits >= 6 {
        return Err(LinkError::Base64 { at: text.len() });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_matches_the_standard_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
            ("\u{ff}\u{fe}", "w7_Dvg"),
        ] {
            assert_eq!(base64url(plain.as_bytes()), encoded);
            assert_eq!(from_base64url(encoded).unwrap(), plain.as_bytes());
        }
    }

    #[test]
    fn a_scenario_survives_the_round_trip_through_a_link() {
        let scenario = Scenario {
            lesson: Some("cache".into()),
            lang: Lang::En,
            stack: "[stack]\nname = \"démo\"\n".into(),
            files: BTreeMap::from([("web/Dockerfile".into(), "FROM alpine:3.20\n".into())]),
        };
        let fragment = encode(&scenario);
        assert!(fragment.starts_with("s="));
        assert!(fragment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"=-_".contains(&b)));
        assert_eq!(decode(&format!("#{fragment}")).unwrap(), scenario);
    }

    #[test]
    fn broken_links_say_what_is_wrong() {
        assert_eq!(decode("#x=1"), Err(LinkError::NoScenario));
        assert_eq!(decode("#s=ab*c"), Err(LinkError::Base64 { at: 2 }));
        assert!(matches!(decode("#s=Zm9v"), Err(LinkError::Json { .. })));
    }
}
