//! Reading one `[containers.NAME]` table: every key in file order, short forms
//! expanded (a string command is split into words, `env` as a table or as `K=V`
//! lines, `depends_on` as a list or a table), references to images, volumes,
//! networks and containers checked against the names the file declares.
//! Rules across containers (cycles, ports) are [`super::validate`]'s.

use std::collections::BTreeMap;
use std::ops::Range;

use crate::image::Reference;
use crate::stack::document::{Field, Located, Source, Table};
use crate::stack::mapping::{mount, port, proto};
use crate::stack::parse::{near, Names};
use crate::stack::process::{check_words, command, env};
use crate::stack::schema;
use crate::stack::units;
use crate::stack::{
    ContainerSpec, DependsOn, Healthcheck, ImageRef, PortMapping, Resources, RestartPolicy,
    StackError,
};

/// Where the parts of a container that later rules look at are written.
#[derive(Debug, Clone, Default)]
pub(crate) struct ContainerSpans {
    /// Each published port and where it is written.
    pub ports: Vec<(PortMapping, Option<Range<usize>>)>,
    /// Each dependency, where its name is, and where its condition is (table form).
    pub depends_on: Vec<DependencySpans>,
}

/// A dependency's target, where its name is, and where its condition is.
pub(crate) type DependencySpans = (String, Option<Range<usize>>, Option<Range<usize>>);

/// Reads `[containers.NAME]`.
pub(crate) fn read(
    src: &Source,
    t: &Table,
    names: &Names,
) -> Result<(ContainerSpec, ContainerSpans), StackError> {
    t.check_keys(src)?;
    let mut spans = ContainerSpans::default();
    let mut image = None;
    let mut spec = ContainerSpec {
        image: ImageRef::Stack(String::new()),
        command: None,
        entrypoint: None,
        env: BTreeMap::new(),
        workdir: None,
        user: None,
        hostname: None,
        ports: Vec::new(),
        volumes: Vec::new(),
        networks: Vec::new(),
        depends_on: BTreeMap::new(),
        restart: RestartPolicy::No,
        replicas: 1,
        read_only: false,
        resources: Resources::default(),
        healthcheck: None,
    };
    for (key, _, _) in t.entries() {
        let Some(f) = t.get(key) else { continue };
        match key {
            "image" => image = Some(read_image(src, &f, names)?),
            "command" => spec.command = Some(command(src, &f)?),
            "entrypoint" => spec.entrypoint = Some(command(src, &f)?),
            "env" => spec.env = env(src, &f)?,
            "workdir" => {
                let dir = f.str(src)?;
                if !dir.starts_with('/') {
                    return Err(f.invalid(
                        src,
                        format!("`workdir` in {} must be an absolute path in the container, not `{dir}`", t.name),
                    ));
                }
                spec.workdir = Some(dir.to_string());
            }
            "user" => {
                let user = match f.item.as_integer() {
                    Some(uid) if uid >= 0 => uid.to_string(),
                    _ => f.str(src)?.to_string(),
                };
                if user.trim().is_empty() || user.contains(char::is_whitespace) {
                    return Err(f.invalid(
                        src,
                        format!("`user` in {} must be a user name or USER:GROUP ids", t.name),
                    ));
                }
                spec.user = Some(user);
            }
            "hostname" => {
                let h = f.str(src)?;
                if !is_hostname(h) {
                    return Err(f.invalid(
                        src,
                        format!("`{h}` is not a host name: use letters, digits and `-`, up to 63 per part"),
                    ));
                }
                spec.hostname = Some(h.to_string());
            }
            "ports" => {
                for p in f.strings(src)? {
                    let port = port(src, &p)?;
                    if let Some((_, first)) = spans
                        .ports
                        .iter()
                        .find(|(q, _)| q.host == port.host && q.protocol == port.protocol)
                    {
                        let line = first
                            .clone()
                            .map(|r| crate::stack::Span::of(src.text, r).line);
                        return Err(src.error(
                            p.span.clone(),
                            format!(
                                "host port {}/{} is published twice by {}",
                                port.host,
                                proto(port.protocol),
                                t.name
                            ),
                            line.map(|l| {
                                format!(
                                    "the first is on line {l}; a host port can be published once"
                                )
                            }),
                        ));
                    }
                    spans.ports.push((port, p.span.clone()));
                    spec.ports.push(port);
                }
            }
            "volumes" => {
                for v in f.strings(src)? {
                    let m = mount(src, &v, names)?;
                    if spec.volumes.iter().any(|o| o.target == m.target) {
                        return Err(src.error(
                            v.span.clone(),
                            format!("two volumes of {} are mounted at `{}`", t.name, m.target),
                            Some("each path in the container takes one volume".into()),
                        ));
                    }
                    spec.volumes.push(m);
                }
            }
            "networks" => {
                for n in f.strings(src)? {
                    if !names.networks.iter().any(|k| k == n.value) {
                        return Err(unknown_name(src, &n, "network", &names.networks));
                    }
                    if spec.networks.iter().any(|k| k == n.value) {
                        return Err(src.error(
                            n.span.clone(),
                            format!("network `{}` is listed twice", n.value),
                            None,
                        ));
                    }
                    spec.networks.push(n.value.to_string());
                }
            }
            "depends_on" => {
                for (target, condition, name_span, cond_span) in depends_on(src, &f)? {
                    if !names.containers.contains(&target.value) {
                        return Err(unknown_name(src, &target, "container", &names.containers));
                    }
                    if spec
                        .depends_on
                        .insert(target.value.clone(), condition)
                        .is_some()
                    {
                        return Err(src.error(
                            name_span,
                            format!("`{}` is listed twice in `depends_on`", target.value),
                            None,
                        ));
                    }
                    spans.depends_on.push((target.value, name_span, cond_span));
                }
            }
            "restart" => spec.restart = restart(src, &f)?,
            "replicas" => {
                let n = f.integer(src)?;
                if n < 1 {
                    return Err(src.error(
                        f.span(),
                        format!("`replicas` in {} must be at least 1", t.name),
                        Some(format!("to run no {}, remove its table", t.name)),
                    ));
                }
                spec.replicas = u32::try_from(n)
                    .map_err(|_| f.invalid(src, format!("{n} replicas is too many")))?;
            }
            "read_only" => spec.read_only = f.bool(src)?,
            "resources" => spec.resources = resources(src, &f)?,
            "healthcheck" => spec.healthcheck = Some(healthcheck(src, &f)?),
            _ => {}
        }
    }
    spec.image = image.ok_or_else(|| {
        src.error(
            t.span.clone(),
            format!("{} has no `image`", t.name),
            Some(match names.images.as_slice() {
                [] => "add image = \"busybox:1.36\" (an image reference)".to_string(),
                keys => format!(
                    "add image = \"{}\" (a key of [images]: {}), or an image reference like \"busybox:1.36\"",
                    keys[0],
                    keys.join(", ")
                ),
            }),
        )
    })?;
    Ok((spec, spans))
}

/// The error for a name that the file does not declare.
pub(crate) fn unknown_name(
    src: &Source,
    name: &Located<impl AsRef<str>>,
    kind: &str,
    declared: &[String],
) -> StackError {
    let word = name.value.as_ref();
    let mut help = match near(word, declared) {
        Some(n) => format!("did you mean `{n}`? "),
        None => String::new(),
    };
    if declared.is_empty() {
        help.push_str(&format!(
            "the file declares no {kind}: add [{kind}s.{word}]"
        ));
    } else {
        help.push_str(&format!("declared {kind}s: {}", declared.join(", ")));
    }
    src.error(
        name.span.clone(),
        format!("no {kind} `{word}` in [{kind}s]"),
        Some(help),
    )
}

fn read_image(src: &Source, f: &Field, names: &Names) -> Result<ImageRef, StackError> {
    let text = f.str(src)?;
    if names.images.iter().any(|k| k == text) {
        return Ok(ImageRef::Stack(text.to_string()));
    }
    let near_key = names
        .images
        .iter()
        .find(|k| strsim::damerau_levenshtein(k, text) <= 1 || k.eq_ignore_ascii_case(text));
    // `web:1` or `web@sha256:…` while the stack builds `web`: the tag would make it a
    // Docker Hub image, which is surely not what is meant.
    let bare = text.split(['@', ':']).next().unwrap_or(text);
    if !text.contains('/') && bare != text && names.images.iter().any(|k| k == bare) {
        return Err(src.error(
            f.span(),
            format!("`{text}` names the Docker Hub image `{bare}`, but this stack builds an image `{bare}`"),
            Some(format!(
                "write image = \"{bare}\" to run the image this stack builds; to pull from Docker Hub, write \"docker.io/library/{text}\""
            )),
        ));
    }
    match text.parse::<Reference>() {
        Ok(r) => match near_key {
            Some(k) if !text.contains(['/', ':', '@']) => Err(src.error(
                f.span(),
                format!("`{text}` is not an image of this stack"),
                Some(format!("did you mean the stack image `{k}`? to pull `{text}` from Docker Hub, write \"{text}:latest\"")),
            )),
            _ => Ok(ImageRef::Reference(r)),
        },
        Err(e) => {
            let help = match (near_key, names.images.as_slice()) {
                (Some(k), _) => format!("did you mean the stack image `{k}`?"),
                (None, []) => "e.g. image = \"busybox:1.36\"".to_string(),
                (None, keys) => format!("a key of [images] ({}), or a reference like \"busybox:1.36\"", keys.join(", ")),
            };
            Err(src.error(f.span(), format!("`{text}` is not an image of this stack nor an image reference: {}", e.why), Some(help)))
        }
    }
}

type Dependency = (
    Located<String>,
    DependsOn,
    Option<Range<usize>>,
    Option<Range<usize>>,
);

fn depends_on(src: &Source, f: &Field) -> Result<Vec<Dependency>, StackError> {
    let mut out = Vec::new();
    if let Some(table) = f.item.as_table_like() {
        for (k, item) in table.iter() {
            let key_span = table.get_key_value(k).and_then(|(key, _)| key.span());
            let value_span = item.span().or_else(|| key_span.clone());
            let condition = match item.as_str() {
                Some("started" | "service_started") => DependsOn::Started,
                Some("healthy" | "service_healthy") => DependsOn::Healthy,
                Some("completed_successfully" | "service_completed_successfully") => DependsOn::CompletedSuccessfully,
                Some(other) => {
                    return Err(src.error(
                        value_span,
                        format!("`{other}` is not a condition of `depends_on`"),
                        Some("accepted: \"started\", \"healthy\", \"completed_successfully\"".into()),
                    ))
                }
                None => {
                    return Err(src.error(
                        value_span,
                        format!("the condition for `{k}` in `depends_on` must be a string"),
                        Some(format!("e.g. depends_on = {{ {k} = \"healthy\" }}; accepted: \"started\", \"healthy\", \"completed_successfully\"")),
                    ))
                }
            };
            out.push((
                Located {
                    value: k.to_string(),
                    span: key_span.clone(),
                },
                condition,
                key_span,
                Some(value_span).flatten(),
            ));
        }
        return Ok(out);
    }
    if f.item.as_array().is_none() {
        return Err(f.wrong_type(src, "an array of container names or a table"));
    }
    for name in f.strings(src)? {
        out.push((
            Located {
                value: name.value.to_string(),
                span: name.span.clone(),
            },
            DependsOn::Started,
            name.span,
            None,
        ));
    }
    Ok(out)
}

fn restart(src: &Source, f: &Field) -> Result<RestartPolicy, StackError> {
    let accepted = "accepted: \"no\", \"on-failure\", \"always\"";
    if let Some(false) = f.item.as_bool() {
        return Err(src.error(
            f.span(),
            format!("`restart` in {} must be a string, not a boolean", f.table),
            Some(format!("write restart = \"no\"; {accepted}")),
        ));
    }
    match f.str(src)? {
        "no" => Ok(RestartPolicy::No),
        "on-failure" => Ok(RestartPolicy::OnFailure),
        "always" => Ok(RestartPolicy::Always),
        other => {
            let hint = match other {
                "unless-stopped" => {
                    "quai has no unless-stopped: `always` restarts until quai stops it; "
                        .to_string()
                }
                o if o.starts_with("on-failure:") => "a retry count is not supported; ".to_string(),
                o => match schema::closest(o, ["no", "on-failure", "always"]) {
                    Some(c) => format!("did you mean \"{c}\"? "),
                    None => String::new(),
                },
            };
            Err(src.error(
                f.span(),
                format!("`{other}` is not a restart policy"),
                Some(format!("{hint}{accepted}")),
            ))
        }
    }
}

fn resources(src: &Source, f: &Field) -> Result<Resources, StackError> {
    let t = f.table(src, &schema::RESOURCES)?;
    t.check_keys(src)?;
    let mut r = Resources::default();
    if let Some(m) = t.get("memory") {
        let (bytes, bare) = match (m.item.as_integer(), m.item.as_str()) {
            (Some(n), _) => (u64::try_from(n).ok(), true),
            (_, Some(s)) => {
                let bytes = units::parse_size(s).map_err(|e| {
                    src.error(
                        m.span(),
                        format!("{e} (`memory` in {})", t.name),
                        Some(units::SIZE_HELP.to_string()),
                    )
                })?;
                (Some(bytes), s.trim().bytes().all(|b| b.is_ascii_digit()))
            }
            _ => return Err(m.wrong_type(src, "a size like \"128MiB\"")),
        };
        match bytes {
            Some(0) | None => {
                return Err(src.error(
                    m.span(),
                    format!("`memory` in {} must be more than 0", t.name),
                    Some(units::SIZE_HELP.to_string()),
                ))
            }
            Some(b) if bare && b < 1 << 20 => {
                return Err(src.error(
                    m.span(),
                    format!("{b} bytes is too little memory for a container"),
                    Some(format!(
                        "a number alone counts bytes: did you mean \"{b}MiB\"?"
                    )),
                ))
            }
            Some(b) => r.memory = Some(b),
        }
    }
    if let Some(c) = t.get("cpus") {
        let cpus = match (c.item.as_float(), c.item.as_integer()) {
            (Some(x), _) => x,
            (_, Some(n)) => n as f64,
            _ => return Err(c.wrong_type(src, "a number like 0.5")),
        };
        if !(cpus.is_finite() && cpus > 0.0) {
            return Err(c.invalid(
                src,
                format!(
                    "`cpus` in {} must be more than 0 (0.5 is half a CPU)",
                    t.name
                ),
            ));
        }
        r.cpus = Some(cpus);
    }
    if let Some(p) = t.get("pids") {
        let n = p.integer(src)?;
        if n < 1 {
            return Err(p.invalid(src, format!("`pids` in {} must be at least 1", t.name)));
        }
        r.pids = Some(n as u64);
    }
    Ok(r)
}

/// Default interval between health checks.
const DEFAULT_INTERVAL_MS: u64 = 30_000;
/// Default number of failed checks before a container is unhealthy.
const DEFAULT_RETRIES: u32 = 3;

fn healthcheck(src: &Source, f: &Field) -> Result<Healthcheck, StackError> {
    let t = f.table(src, &schema::HEALTHCHECK)?;
    t.check_keys(src)?;
    let Some(c) = t.get("command") else {
        return Err(src.error(
            t.span.clone(),
            format!("`healthcheck` of {} has no `command`", f.table),
            Some(format!("e.g. {}", schema::CONTAINER.example("healthcheck"))),
        ));
    };
    let command = match c.item.as_str() {
        Some(s) => vec!["/bin/sh".to_string(), "-c".to_string(), s.to_string()],
        None => {
            if c.item.as_array().is_none() {
                return Err(c.wrong_type(src, "an array of strings or a string"));
            }
            let words: Vec<String> = c
                .strings(src)?
                .into_iter()
                .map(|s| s.value.to_string())
                .collect();
            match words.first().map(String::as_str) {
                Some("CMD") => words[1..].to_vec(),
                Some("CMD-SHELL") => vec!["/bin/sh".into(), "-c".into(), words[1..].join(" ")],
                _ => words,
            }
        }
    };
    check_words(src, &c, &command)?;
    let interval_ms = match t.get("interval") {
        None => DEFAULT_INTERVAL_MS,
        Some(i) => {
            let text = match i.item.as_str() {
                Some(s) => s,
                None => return Err(i.wrong_type(src, "a duration like \"2s\"")),
            };
            let ms = units::parse_duration(text).map_err(|e| {
                src.error(
                    i.span(),
                    format!("{e} (`interval` in {})", t.name),
                    Some(units::DURATION_HELP.to_string()),
                )
            })?;
            if ms == 0 {
                return Err(i.invalid(src, format!("`interval` in {} must be more than 0", t.name)));
            }
            ms
        }
    };
    let retries = match t.get("retries") {
        None => DEFAULT_RETRIES,
        Some(r) => {
            let n = r.integer(src)?;
            u32::try_from(n).ok().filter(|n| *n >= 1).ok_or_else(|| {
                r.invalid(src, format!("`retries` in {} must be at least 1", t.name))
            })?
        }
    };
    Ok(Healthcheck {
        command,
        interval_ms,
        retries,
    })
}

fn is_hostname(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 253
        && h.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_follow_the_rules_of_dns() {
        assert!(is_hostname("web"));
        assert!(is_hostname("web-1.local"));
        assert!(!is_hostname("-web"));
        assert!(!is_hostname("we_b"));
        assert!(!is_hostname(""));
    }
}
