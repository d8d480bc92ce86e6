//! The keys each table of the stack file accepts, each with an example, and the words
//! people bring from elsewhere (`environment`, `services`) with where they go here.
//! Data only, and the closest-key search that unknown keys use. Never reads TOML.

/// One table's accepted keys, each with an example line.
pub(crate) struct Schema {
    /// How errors name the kind of table: `[containers.NAME]`.
    pub keys: &'static [(&'static str, &'static str)],
    /// Keys from other tools, with what to write instead.
    pub aliases: &'static [(&'static str, &'static str)],
}

impl Schema {
    /// The example of `key`, for "must be …, e.g. …" errors.
    pub fn example(&self, key: &str) -> &'static str {
        self.keys
            .iter()
            .find(|(k, _)| *k == key)
            .map_or("", |(_, e)| e)
    }

    pub fn accepts(&self, key: &str) -> bool {
        self.keys.iter().any(|(k, _)| *k == key)
    }

    /// The help for an unknown key: the closest accepted key or an alias, then the list.
    pub fn unknown_key_help(&self, key: &str) -> String {
        let mut names: Vec<&str> = self.keys.iter().map(|(k, _)| *k).collect();
        names.sort_unstable();
        let list = names.join(", ");
        if let Some((_, instead)) = self.aliases.iter().find(|(a, _)| *a == key) {
            let sep = if instead.ends_with('?') { " " } else { "; " };
            return format!("{instead}{sep}accepted keys: {list}");
        }
        match closest(key, names.iter().copied()) {
            Some(k) => format!("did you mean `{k}`? accepted keys: {list}"),
            None if names.is_empty() => "this table takes no keys".to_string(),
            None => format!("accepted keys: {list}"),
        }
    }
}

/// The candidate nearest to `word`, when near enough to be a typo.
pub(crate) fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|(d, c)| {
            *d <= limit
                || (c.len() > 3 && word.starts_with(c))
                || (word.len() > 3 && c.starts_with(word))
        })
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

pub(crate) const ROOT: Schema = Schema {
    keys: &[
        ("stack", "[stack] then name = \"blog\""),
        ("images", "[images.web] then context = \"web\""),
        ("volumes", "[volumes.data]"),
        ("networks", "[networks.back]"),
        ("containers", "[containers.web] then image = \"web\""),
    ],
    aliases: &[
        (
            "services",
            "quai calls them containers: write [containers.NAME]",
        ),
        (
            "service",
            "quai calls them containers: write [containers.NAME]",
        ),
        ("container", "write [containers.NAME], with an `s`"),
        ("image", "write [images.NAME], with an `s`"),
        ("volume", "write [volumes.NAME], with an `s`"),
        ("network", "write [networks.NAME], with an `s`"),
        ("version", "the stack file has no version: remove it"),
        (
            "name",
            "the name goes in its table: [stack] then name = \"...\"",
        ),
    ],
};

pub(crate) const STACK: Schema = Schema {
    keys: &[("name", "name = \"blog\"")],
    aliases: &[],
};

pub(crate) const IMAGE: Schema = Schema {
    keys: &[
        ("from", "from = \"busybox:1.36\""),
        ("context", "context = \"web\""),
        ("dockerfile", "dockerfile = \"Dockerfile\""),
        ("steps", "steps = [\"FROM busybox:1.36\", \"COPY . /app/\"]"),
    ],
    aliases: &[
        ("image", "to pull an image, write from = \"busybox:1.36\""),
        (
            "build",
            "write context = \"folder\" (and dockerfile or steps)",
        ),
    ],
};

pub(crate) const VOLUME: Schema = Schema {
    keys: &[],
    aliases: &[],
};

pub(crate) const NETWORK: Schema = Schema {
    keys: &[("subnet", "subnet = \"10.89.1.0/24\"")],
    aliases: &[],
};

pub(crate) const CONTAINER: Schema = Schema {
    keys: &[
        ("image", "image = \"web\" (a key of [images]) or image = \"busybox:1.36\""),
        ("command", "command = [\"httpd\", \"-f\", \"-p\", \"80\"]"),
        ("entrypoint", "entrypoint = [\"/bin/sh\", \"-c\"]"),
        ("env", "env = { MODE = \"prod\" } or env = [\"MODE=prod\"]"),
        ("workdir", "workdir = \"/app\""),
        ("user", "user = \"1000:1000\""),
        ("hostname", "hostname = \"web\""),
        ("ports", "ports = [\"8080:80\"]"),
        ("volumes", "volumes = [\"data:/www\", \"./static:/static:ro\"]"),
        ("networks", "networks = [\"back\"]"),
        ("depends_on", "depends_on = [\"db\"] or depends_on = { db = \"healthy\" }"),
        ("restart", "restart = \"on-failure\""),
        ("replicas", "replicas = 2"),
        ("read_only", "read_only = true"),
        ("resources", "resources = { memory = \"128MiB\", cpus = 0.5, pids = 100 }"),
        (
            "healthcheck",
            "healthcheck = { command = [\"wget\", \"-qO-\", \"http://localhost/\"], interval = \"2s\", retries = 3 }",
        ),
    ],
    aliases: &[
        ("environment", "did you mean `env`?"),
        ("working_dir", "did you mean `workdir`?"),
        ("container_name", "containers are named STACK-NAME-N: the key of [containers.NAME] is the name"),
        ("build", "declare the build as [images.NAME] with context = \"folder\", then image = \"NAME\""),
        ("mem_limit", "write resources = { memory = \"128MiB\" }"),
        ("memory", "write resources = { memory = \"128MiB\" }"),
        ("cpus", "write resources = { cpus = 0.5 }"),
        ("pids_limit", "write resources = { pids = 100 }"),
        ("deploy", "write replicas = 2 and resources = { ... } directly in the container"),
        ("expose", "only published ports exist here: ports = [\"8080:80\"]"),
        ("cmd", "did you mean `command`?"),
    ],
};

pub(crate) const RESOURCES: Schema = Schema {
    keys: &[
        ("memory", "memory = \"128MiB\""),
        ("cpus", "cpus = 0.5"),
        ("pids", "pids = 100"),
    ],
    aliases: &[
        ("cpu", "did you mean `cpus`?"),
        ("mem", "did you mean `memory`?"),
        ("pids_limit", "did you mean `pids`?"),
    ],
};

pub(crate) const HEALTHCHECK: Schema = Schema {
    keys: &[
        (
            "command",
            "command = [\"wget\", \"-qO-\", \"http://localhost/\"]",
        ),
        ("interval", "interval = \"2s\""),
        ("retries", "retries = 3"),
    ],
    aliases: &[("test", "quai calls it `command`")],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_the_closest_key() {
        assert_eq!(closest("port", ["ports", "image"]), Some("ports"));
        assert_eq!(closest("imgae", ["ports", "image"]), Some("image"));
        assert_eq!(
            closest("replica", ["replicas", "restart"]),
            Some("replicas")
        );
        assert_eq!(closest("zzz", ["ports", "image"]), None);
        assert_eq!(
            closest("depends", ["depends_on", "ports"]),
            Some("depends_on")
        );
    }

    #[test]
    fn unknown_key_help_lists_sorted_keys() {
        let h = RESOURCES.unknown_key_help("memroy");
        assert_eq!(
            h,
            "did you mean `memory`? accepted keys: cpus, memory, pids"
        );
        assert!(CONTAINER
            .unknown_key_help("environment")
            .starts_with("did you mean `env`?"));
        assert_eq!(VOLUME.unknown_key_help("size"), "this table takes no keys");
    }

    #[test]
    fn every_key_has_an_example() {
        for s in [
            &ROOT,
            &STACK,
            &IMAGE,
            &NETWORK,
            &CONTAINER,
            &RESOURCES,
            &HEALTHCHECK,
        ] {
            for (k, e) in s.keys {
                assert!(!e.is_empty(), "{k}");
            }
        }
    }
}
