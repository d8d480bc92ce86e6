//! Image references: `[registry/]repository[:tag][@sha256:…]`, with Docker Hub's
//! defaults (`busybox` is `docker.io/library/busybox:latest`).

use crate::image::Digest;

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Reference {
    /// `docker.io` when none is written.
    pub registry: String,
    /// `library/busybox` for `busybox` on Docker Hub.
    pub repository: String,
    /// `latest` when neither tag nor digest is written.
    pub tag: Option<String>,
    pub digest: Option<Digest>,
}

/// Why a text is not an image reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not an image reference: {why}; expected [REGISTRY/]NAME[:TAG][@sha256:DIGEST], e.g. busybox:1.36")]
pub struct ReferenceError {
    pub text: String,
    pub why: String,
}

/// The registry of references that name none.
pub const DEFAULT_REGISTRY: &str = "docker.io";
/// The tag of references that name neither tag nor digest.
pub const DEFAULT_TAG: &str = "latest";

impl Reference {
    /// The tag, or `latest` when none is written (a reference pinned by digest alone).
    pub fn tag_or_latest(&self) -> &str {
        self.tag.as_deref().unwrap_or(DEFAULT_TAG)
    }

    /// The short form people write: `busybox:1.36`, `alice/app:2`,
    /// `ghcr.io/a/b:1@sha256:…`. Docker Hub's registry and `library/` are left out.
    pub fn familiar(&self) -> String {
        let mut out = if self.registry == DEFAULT_REGISTRY {
            self.repository
                .strip_prefix("library/")
                .unwrap_or(&self.repository)
                .to_string()
        } else {
            format!("{}/{}", self.registry, self.repository)
        };
        if let Some(t) = &self.tag {
            out.push(':');
            out.push_str(t);
        }
        if let Some(d) = &self.digest {
            out.push('@');
            out.push_str(&d.to_string());
        }
        out
    }
}

/// Longest repository name a registry accepts (with the registry's name).
const MAX_NAME: usize = 255;
/// Longest tag.
const MAX_TAG: usize = 128;

impl std::str::FromStr for Reference {
    type Err = ReferenceError;

    /// Parses `[REGISTRY/]NAME[:TAG][@sha256:DIGEST]`. The first `/`-separated part is a
    /// registry when there are several and it has a `.` or a `:`, or is `localhost`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let fail = |why: &str| ReferenceError {
            text: s.to_string(),
            why: why.to_string(),
        };
        if s.is_empty() {
            return Err(fail("it is empty"));
        }
        if s.chars().any(char::is_whitespace) {
            return Err(fail("it contains a space"));
        }
        let (name_tag, digest) = match s.split_once('@') {
            Some((n, d)) => {
                let digest: Digest = d.parse().map_err(|_| {
                    fail("the digest after `@` must be sha256: followed by 64 lowercase hex digits")
                })?;
                (n, Some(digest))
            }
            None => (s, None),
        };
        let last_slash = name_tag.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match name_tag[last_slash..].rfind(':') {
            Some(i) => (
                &name_tag[..last_slash + i],
                Some(&name_tag[last_slash + i + 1..]),
            ),
            None => (name_tag, None),
        };
        if let Some(tag) = tag {
            check_tag(tag).map_err(|why| fail(&why))?;
        }
        if name.is_empty() {
            return Err(fail("the image name is empty"));
        }
        let (registry, path) = match name.split_once('/') {
            Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => {
                check_registry(first).map_err(|why| fail(&why))?;
                (first, rest)
            }
            _ => (DEFAULT_REGISTRY, name),
        };
        let registry = if registry == "index.docker.io" || registry == "registry-1.docker.io" {
            DEFAULT_REGISTRY
        } else {
            registry
        };
        for component in path.split('/') {
            check_component(component).map_err(|why| fail(&why))?;
        }
        let repository = if registry == DEFAULT_REGISTRY && !path.contains('/') {
            format!("library/{path}")
        } else {
            path.to_string()
        };
        if registry.len() + 1 + repository.len() > MAX_NAME {
            return Err(fail(&format!(
                "the name is longer than {MAX_NAME} characters"
            )));
        }
        let tag = match (tag, &digest) {
            (Some(t), _) => Some(t.to_string()),
            (None, None) => Some(DEFAULT_TAG.to_string()),
            (None, Some(_)) => None,
        };
        Ok(Reference {
            registry: registry.to_string(),
            repository,
            tag,
            digest,
        })
    }
}

/// A tag: a letter, digit or `_`, then up to 127 of those, `.` and `-`.
fn check_tag(tag: &str) -> Result<(), String> {
    if tag.is_empty() {
        return Err("the tag after `:` is empty".into());
    }
    if tag.len() > MAX_TAG {
        return Err(format!("the tag is longer than {MAX_TAG} characters"));
    }
    let ok_first = |c: char| c.is_ascii_alphanumeric() || c == '_';
    if !tag.starts_with(ok_first) {
        return Err(format!(
            "the tag `{tag}` must start with a letter, a digit or `_`"
        ));
    }
    if let Some(c) = tag
        .chars()
        .find(|&c| !(ok_first(c) || c == '.' || c == '-'))
    {
        return Err(format!(
            "the tag `{tag}` has `{c}`; tags use letters, digits, `_`, `.` and `-`"
        ));
    }
    Ok(())
}

/// A registry: a host name (letters, digits, `.`, `-`) and an optional `:PORT`.
fn check_registry(registry: &str) -> Result<(), String> {
    let (host, port) = match registry.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (registry, None),
    };
    let host_ok = !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if !host_ok {
        return Err(format!("the registry `{registry}` is not a host name"));
    }
    if let Some(port) = port {
        if port.parse::<u16>().map_or(true, |p| p == 0) {
            return Err(format!(
                "the registry's port `{port}` is not a number from 1 to 65535"
            ));
        }
    }
    Ok(())
}

/// One part of a repository: lowercase letters and digits, parts of them joined by
/// one `.`, one or two `_`, or any number of `-`.
fn check_component(component: &str) -> Result<(), String> {
    if component.is_empty() {
        return Err("the name has an empty part (two `/` in a row, or one at an end)".into());
    }
    if component.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(format!(
            "`{component}` has uppercase letters; image names are lowercase"
        ));
    }
    if let Some(c) = component
        .chars()
        .find(|&c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c)))
    {
        return Err(format!(
            "`{component}` has `{c}`; names use lowercase letters, digits, `.`, `_` and `-`"
        ));
    }
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    if !component.starts_with(alnum) || !component.ends_with(alnum) {
        return Err(format!(
            "`{component}` must start and end with a lowercase letter or a digit"
        ));
    }
    let bytes = component.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i] as char) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i] as char) {
            i += 1;
        }
        let sep = &component[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.chars().all(|c| c == '-');
        if !ok {
            return Err(format!(
                "`{component}` has `{sep}` between letters; use one `.`, one or two `_`, or `-`"
            ));
        }
    }
    Ok(())
}

serde_as_text!(Reference);

impl std::fmt::Display for Reference {
    /// The full form: `docker.io/library/busybox:1.36`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> Reference {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn why(s: &str) -> String {
        s.parse::<Reference>().unwrap_err().why
    }

    const HEX: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn a_bare_name_is_an_official_docker_hub_image_at_latest() {
        let b = r("busybox");
        assert_eq!(b.registry, "docker.io");
        assert_eq!(b.repository, "library/busybox");
        assert_eq!(b.tag.as_deref(), Some("latest"));
        assert_eq!(b.digest, None);
        assert_eq!(b.to_string(), "docker.io/library/busybox:latest");
        assert_eq!(b.familiar(), "busybox:latest");
    }

    #[test]
    fn a_user_image_on_docker_hub_keeps_its_path() {
        let a = r("alice/app:2");
        assert_eq!(a.repository, "alice/app");
        assert_eq!(a.familiar(), "alice/app:2");
        assert_eq!(
            r("docker.io/library/busybox:1.36").familiar(),
            "busybox:1.36"
        );
        assert_eq!(r("index.docker.io/library/busybox").registry, "docker.io");
    }

    #[test]
    fn registry_tag_and_digest_are_all_read() {
        let g = r(&format!("ghcr.io/a/b:1@sha256:{HEX}"));
        assert_eq!(g.registry, "ghcr.io");
        assert_eq!(g.repository, "a/b");
        assert_eq!(g.tag.as_deref(), Some("1"));
        assert_eq!(g.digest.as_ref().unwrap().hex(), HEX);
        assert_eq!(g.familiar(), format!("ghcr.io/a/b:1@sha256:{HEX}"));
        assert_eq!(g.to_string().parse::<Reference>().unwrap(), g);
    }

    #[test]
    fn a_digest_alone_leaves_the_tag_unset() {
        let d = r(&format!("busybox@sha256:{HEX}"));
        assert_eq!(d.tag, None);
        assert_eq!(d.tag_or_latest(), "latest");
        assert_eq!(d.familiar(), format!("busybox@sha256:{HEX}"));
    }

    #[test]
    fn a_registry_is_recognised_by_a_dot_a_port_or_localhost() {
        let l = r("localhost:5000/x");
        assert_eq!(
            (l.registry.as_str(), l.repository.as_str()),
            ("localhost:5000", "x")
        );
        assert_eq!(l.familiar(), "localhost:5000/x:latest");
        assert_eq!(r("localhost/x").registry, "localhost");
        assert_eq!(
            r("registry.example.com/team/app:v1").registry,
            "registry.example.com"
        );
        // No dot, no port: a Docker Hub user.
        let u = r("myregistry/app");
        assert_eq!(
            (u.registry.as_str(), u.repository.as_str()),
            ("docker.io", "myregistry/app")
        );
        // A port in a registry is not a tag.
        assert_eq!(r("host:5000/app").tag.as_deref(), Some("latest"));
    }

    #[test]
    fn names_with_separators_are_accepted() {
        for ok in ["a.b", "a_b", "a__b", "a---b", "my-app/web_1.2", "0x"] {
            r(ok);
        }
    }

    #[test]
    fn malformed_references_say_why() {
        assert!(why("").contains("empty"));
        assert!(why("Busybox").contains("lowercase"));
        assert!(why("busybox:").contains("tag after `:` is empty"));
        assert!(why("busybox:-1").contains("must start"));
        assert!(why("busybox:1$").contains("`$`"));
        assert!(why(&format!("busybox:{}", "a".repeat(129))).contains("longer than 128"));
        assert!(why("busybox@sha256:abc").contains("64 lowercase hex"));
        assert!(why("a//b").contains("empty part"));
        assert!(why("-a").contains("start and end"));
        assert!(why("a...b").contains("`...`"));
        assert!(why("my app").contains("space"));
        assert!(why("host:0/app").contains("port"));
        assert!(why("bad_host.com/app").contains("not a host name"));
        assert!(why("host.com:99999/app").contains("1 to 65535"));
    }

    #[test]
    fn the_error_shows_the_accepted_form() {
        let e = "Busybox".parse::<Reference>().unwrap_err();
        assert!(e
            .to_string()
            .contains("expected [REGISTRY/]NAME[:TAG][@sha256:DIGEST]"));
    }
}
