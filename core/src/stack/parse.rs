//! From TOML text to a validated [`Stack`].
//!
//! Three passes, each stopping at the first error: the sections and the names they
//! declare; then every table in file order (keys, types, values, references to
//! names); then the rules across tables (`validate`: cycles, ports, health).
//! Does no I/O.

use std::collections::BTreeMap;
use std::ops::Range;

use toml_edit::{ImDocument, Item};

use crate::image::build::BuildError;
use crate::image::Reference;
use crate::stack::container::{self, ContainerSpans};
use crate::stack::document::{Located, Source, Table};
use crate::stack::schema::{self, closest};
use crate::stack::{
    BuildSource, Dockerfile, ImageSpec, NetworkSpec, Stack, StackError, Subnet, VolumeSpec,
};

/// Parses and validates a stack file. `file` is its name as shown in errors;
/// `folder_name` gives the stack its default name.
pub fn parse(text: &str, file: &str, folder_name: &str) -> Result<Stack, StackError> {
    let src = Source { file, text };
    let doc = ImDocument::parse(text).map_err(|e| syntax_error(&src, &e))?;
    let root = Table {
        inner: doc.as_table(),
        name: "the stack file".to_string(),
        span: None,
        schema: &schema::ROOT,
    };
    root.check_keys(&src)?;

    let mut sections = Sections::default();
    for (key, key_span, item) in root.entries() {
        let list = match key {
            "images" => &mut sections.images,
            "volumes" => &mut sections.volumes,
            "networks" => &mut sections.networks,
            "containers" => &mut sections.containers,
            _ => continue,
        };
        *list = entries_of(&src, key, key_span, item)?;
    }
    let names = Names {
        images: sections.images.iter().map(|e| e.name.clone()).collect(),
        volumes: sections.volumes.iter().map(|e| e.name.clone()).collect(),
        networks: sections.networks.iter().map(|e| e.name.clone()).collect(),
        containers: sections.containers.iter().map(|e| e.name.clone()).collect(),
    };

    let name = match root.get("stack") {
        Some(field) => {
            let table = Table::of(
                &src,
                field.item,
                "[stack]".into(),
                field.key_span.clone(),
                &schema::STACK,
            )?;
            table.check_keys(&src)?;
            match table.get("name") {
                Some(f) => {
                    let name = f.str(&src)?;
                    check_name(&src, "stack", name, f.span())?;
                    Some(name.to_string())
                }
                None => None,
            }
        }
        None => None,
    };
    let name = match name {
        Some(n) => n,
        None => {
            if !is_valid_name(folder_name) {
                return Err(src.error(
                    None,
                    format!("the folder's name `{folder_name}` cannot name the stack"),
                    Some(format!(
                        "add [stack] with name = \"{}\" to the file; {NAME_RULE}",
                        sanitize(folder_name)
                    )),
                ));
            }
            folder_name.to_string()
        }
    };

    let mut stack = Stack {
        name,
        images: BTreeMap::new(),
        volumes: BTreeMap::new(),
        networks: BTreeMap::new(),
        containers: BTreeMap::new(),
    };
    for e in &sections.images {
        let t = Table::of(
            &src,
            e.item,
            e.title("images"),
            e.span.clone(),
            &schema::IMAGE,
        )?;
        stack.images.insert(e.name.clone(), read_image(&src, &t)?);
    }
    for e in &sections.volumes {
        let t = Table::of(
            &src,
            e.item,
            e.title("volumes"),
            e.span.clone(),
            &schema::VOLUME,
        )?;
        t.check_keys(&src)?;
        stack.volumes.insert(e.name.clone(), VolumeSpec {});
    }
    let mut subnets: Vec<(String, Subnet, Option<Range<usize>>)> = Vec::new();
    for e in &sections.networks {
        let t = Table::of(
            &src,
            e.item,
            e.title("networks"),
            e.span.clone(),
            &schema::NETWORK,
        )?;
        let spec = read_network(&src, &t, &e.name, &mut subnets)?;
        stack.networks.insert(e.name.clone(), spec);
    }
    let mut spans: Vec<(String, ContainerSpans)> = Vec::new();
    for e in &sections.containers {
        let t = Table::of(
            &src,
            e.item,
            e.title("containers"),
            e.span.clone(),
            &schema::CONTAINER,
        )?;
        let (spec, s) = container::read(&src, &t, &names)?;
        stack.containers.insert(e.name.clone(), spec);
        spans.push((e.name.clone(), s));
    }
    crate::stack::validate::check(&src, &stack, &spans)?;
    Ok(stack)
}

/// The names each section declares, for checking references.
#[derive(Debug, Default)]
pub(crate) struct Names {
    pub images: Vec<String>,
    pub volumes: Vec<String>,
    pub networks: Vec<String>,
    pub containers: Vec<String>,
}

#[derive(Default)]
struct Sections<'a> {
    images: Vec<Entry<'a>>,
    volumes: Vec<Entry<'a>>,
    networks: Vec<Entry<'a>>,
    containers: Vec<Entry<'a>>,
}

/// `[SECTION.NAME]`: its name, where the name is, and its table.
struct Entry<'a> {
    name: String,
    span: Option<Range<usize>>,
    item: &'a Item,
}

impl Entry<'_> {
    fn title(&self, section: &str) -> String {
        format!("[{section}.{}]", self.name)
    }
}

/// The entries of a section, each name checked.
fn entries_of<'a>(
    src: &Source,
    section: &str,
    span: Option<Range<usize>>,
    item: &'a Item,
) -> Result<Vec<Entry<'a>>, StackError> {
    let Some(table) = item.as_table_like() else {
        let singular = section.trim_end_matches('s');
        return Err(src.error(
            item.span().or(span),
            format!("`{section}` must be a table of {section}, one per name"),
            Some(format!(
                "write [{section}.NAME] for each {singular}, e.g. {}",
                schema::ROOT.example(section)
            )),
        ));
    };
    let kind = section.trim_end_matches('s');
    let mut out = Vec::new();
    for (name, item) in table.iter() {
        let key_span = table.get_key_value(name).and_then(|(k, _)| k.span());
        check_name(src, kind, name, key_span.clone())?;
        out.push(Entry {
            name: name.to_string(),
            span: key_span,
            item,
        });
    }
    Ok(out)
}

const NAME_RULE: &str = "names use lowercase letters, digits, `_`, `.` and `-`, \
start with a letter or a digit, and have at most 63 characters";

fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c))
        && name.len() <= 63
}

/// A valid name close to `name`: lowercase, other characters as `-`.
fn sanitize(name: &str) -> String {
    let s: String = name
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_start_matches(['_', '.', '-']);
    let s: String = s.chars().take(63).collect();
    if s.is_empty() {
        "stack".to_string()
    } else {
        s
    }
}

fn check_name(
    src: &Source,
    kind: &str,
    name: &str,
    span: Option<Range<usize>>,
) -> Result<(), StackError> {
    if is_valid_name(name) {
        return Ok(());
    }
    let mut help = NAME_RULE.to_string();
    let fixed = sanitize(name);
    if is_valid_name(&fixed) {
        help = format!("try `{fixed}`; {help}");
    }
    Err(src.error(
        span,
        format!("`{name}` is not a valid {kind} name"),
        Some(help),
    ))
}

/// A TOML syntax error, drawn like every other error.
fn syntax_error(src: &Source, e: &toml_edit::TomlError) -> StackError {
    let mut lines = e.message().lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("syntax error");
    let rest: Vec<&str> = lines.collect();
    let help = if first.contains("duplicate key") {
        "a key is written once per table: remove one of them".to_string()
    } else if first.contains("string") {
        "close a string with the quote that opens it, on the same line, e.g. image = \"busybox\""
            .to_string()
    } else if !rest.is_empty() {
        rest.join("; ")
    } else if first.contains('=') {
        "write key = value, e.g. image = \"busybox\"".to_string()
    } else {
        "see the TOML syntax: key = \"value\", [table] headers, arrays in [ ]".to_string()
    };
    // A one-character spot at the start of a key underlines the whole key.
    let span = e.span().map(|r| {
        if r.end <= r.start + 1 {
            let word = src.text[r.start..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                .map_or(src.text.len(), |i| r.start + i);
            r.start..word.max(r.end)
        } else {
            r
        }
    });
    src.error(span, format!("TOML syntax: {first}"), Some(help))
}

const IMAGE_FORMS: &str = "an image is pulled (from = \"busybox:1.36\") or built \
(context = \"folder\", with dockerfile = \"Dockerfile\" or steps = [...])";

fn read_image(src: &Source, t: &Table) -> Result<ImageSpec, StackError> {
    t.check_keys(src)?;
    let from = t.get("from");
    let context = t.get("context");
    let dockerfile = t.get("dockerfile");
    let steps = t.get("steps");
    if let Some(from) = &from {
        if let Some(other) = [&context, &dockerfile, &steps].into_iter().flatten().next() {
            return Err(src.error(
                other.key_span.clone(),
                format!("{} has both `from` and `{}`", t.name, other.key),
                Some(IMAGE_FORMS.to_string()),
            ));
        }
        let text = from.str(src)?;
        let reference: Reference = text.parse().map_err(|e: crate::image::ReferenceError| {
            from.invalid(
                src,
                format!("`{text}` is not an image reference: {}", e.why),
            )
        })?;
        return Ok(ImageSpec::Pull { reference });
    }
    let Some(context) = context else {
        let first = dockerfile.as_ref().or(steps.as_ref());
        let message = match first {
            Some(f) => format!("{} has `{}` but no `context`", t.name, f.key),
            None => format!(
                "{} says neither where to pull it from nor how to build it",
                t.name
            ),
        };
        let span = first.and_then(|f| f.key_span.clone()).or(t.span.clone());
        return Err(src.error(span, message, Some(IMAGE_FORMS.to_string())));
    };
    let dir = context.str(src)?;
    if dir.trim().is_empty() {
        return Err(context.invalid(src, format!("`context` in {} is empty", t.name)));
    }
    if dir.starts_with('/') || dir.starts_with('~') {
        return Err(src.error(
            context.span(),
            format!(
                "`context` in {} must be a folder relative to the stack file",
                t.name
            ),
            Some("e.g. context = \"web\", or \".\" for the stack file's folder".into()),
        ));
    }
    let dir = dir.trim_end_matches('/');
    let dir = if dir.is_empty() { "." } else { dir };
    let source = match (dockerfile, steps) {
        (Some(_), Some(s)) => {
            return Err(src.error(
                s.key_span.clone(),
                format!("{} has both `dockerfile` and `steps`", t.name),
                Some("build from a Dockerfile or from inline steps, not both".into()),
            ))
        }
        (Some(d), None) => {
            let path = d.str(src)?;
            if path.trim().is_empty() || path.starts_with('/') {
                return Err(d.invalid(
                    src,
                    format!(
                        "`dockerfile` in {} must be a file inside the context",
                        t.name
                    ),
                ));
            }
            BuildSource::Dockerfile(path.to_string())
        }
        (None, Some(s)) => {
            let list = s.strings(src)?;
            let Some(first) = list.first() else {
                return Err(s.invalid(src, format!("`steps` in {} is empty", t.name)));
            };
            let word = first.value.split_whitespace().next().unwrap_or("");
            if !word.eq_ignore_ascii_case("FROM") && !word.eq_ignore_ascii_case("ARG") {
                return Err(src.error(
                    first.span.clone(),
                    format!("the first step of {} must be FROM", t.name),
                    Some("start from an image, e.g. steps = [\"FROM busybox:1.36\", ...]".into()),
                ));
            }
            for step in &list {
                if step.value.trim().is_empty() {
                    return Err(src.error(
                        step.span.clone(),
                        format!("a step of {} is empty", t.name),
                        Some("each step is one Dockerfile instruction, e.g. \"RUN make\"".into()),
                    ));
                }
            }
            check_steps(src, &t.name, &list)?;
            BuildSource::Steps(list.iter().map(|s| s.value.to_string()).collect())
        }
        (None, None) => BuildSource::Dockerfile("Dockerfile".into()),
    };
    Ok(ImageSpec::Build {
        context: dir.to_string(),
        source,
    })
}

/// Reads the steps as the Dockerfile they make, and puts an error on its step.
fn check_steps(src: &Source, image: &str, steps: &[Located<&str>]) -> Result<(), StackError> {
    let text: Vec<&str> = steps.iter().map(|s| s.value).collect();
    let Err(e) = Dockerfile::parse(&text.join("\n"), "steps") else {
        return Ok(());
    };
    let BuildError::Dockerfile { line, message, .. } = &e else {
        return Err(src.error(
            steps[0].span.clone(),
            format!("the steps of {image}: {e}"),
            None,
        ));
    };
    // Step i starts on the line after all the lines of the steps before it.
    let mut first_line = 1;
    let mut at = steps.len() - 1;
    for (i, step) in steps.iter().enumerate() {
        let lines = step.value.split('\n').count();
        if *line < first_line + lines {
            at = i;
            break;
        }
        first_line += lines;
    }
    const KEYWORDS: [&str; 13] = [
        "FROM",
        "RUN",
        "COPY",
        "ADD",
        "ENV",
        "ARG",
        "WORKDIR",
        "USER",
        "CMD",
        "ENTRYPOINT",
        "EXPOSE",
        "LABEL",
        "VOLUME",
    ];
    let word = steps[at]
        .value
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_uppercase();
    let help = match closest(&word, KEYWORDS) {
        Some(k) if k != word => format!("did you mean `{k}`?"),
        _ => "the steps are read as the lines of a Dockerfile, one instruction each".to_string(),
    };
    Err(src.error(
        steps[at].span.clone(),
        format!("step {} of {image}: {message}", at + 1),
        Some(help),
    ))
}

fn read_network(
    src: &Source,
    t: &Table,
    name: &str,
    seen: &mut Vec<(String, Subnet, Option<Range<usize>>)>,
) -> Result<NetworkSpec, StackError> {
    t.check_keys(src)?;
    let Some(f) = t.get("subnet") else {
        return Ok(NetworkSpec { subnet: None });
    };
    let text = f.str(src)?;
    let subnet: Subnet = text.parse().map_err(|e| {
        use crate::stack::subnet::SubnetError;
        let help = match &e {
            SubnetError::NotAligned { aligned, .. } => {
                format!("did you mean \"{aligned}\"? the host bits of the address must be 0")
            }
            SubnetError::Prefix { .. } => format!(
                "the prefix must be from /{} to /{}, e.g. subnet = \"10.89.1.0/24\"",
                crate::stack::subnet::MIN_PREFIX,
                crate::stack::subnet::MAX_PREFIX
            ),
            _ => "write ADDRESS/PREFIX in a private range, e.g. subnet = \"10.89.1.0/24\"".into(),
        };
        src.error(
            f.span(),
            format!("{e} (`subnet` in {})", t.name),
            Some(help),
        )
    })?;
    if let Some((other, o, o_span)) = seen.iter().find(|(_, o, _)| o.overlaps(&subnet)) {
        let line = o_span
            .clone()
            .map(|r| crate::stack::Span::of(src.text, r).line);
        return Err(src.error(
            f.span(),
            format!("the subnet {subnet} of [networks.{name}] overlaps {o} of [networks.{other}]"),
            Some(format!(
                "give each network its own range{}, e.g. {}",
                line.map_or(String::new(), |l| format!(
                    " ([networks.{other}] is on line {l})"
                )),
                free_neighbour(&subnet, seen).map_or("another /24".into(), |s| format!("\"{s}\""))
            )),
        ));
    }
    seen.push((name.to_string(), subnet, f.span()));
    Ok(NetworkSpec {
        subnet: Some(subnet),
    })
}

/// The next subnet of the same size that overlaps none of `seen`.
fn free_neighbour(
    subnet: &Subnet,
    seen: &[(String, Subnet, Option<Range<usize>>)],
) -> Option<Subnet> {
    let size = 1u64 << (32 - u32::from(subnet.prefix));
    (1..=1u64 << 16).find_map(|i| {
        let base = u64::from(subnet.base()) + i * size;
        let candidate = Subnet {
            addr: u32::try_from(base).ok()?.to_be_bytes(),
            prefix: subnet.prefix,
        };
        (!seen.iter().any(|(_, o, _)| o.overlaps(&candidate))).then_some(candidate)
    })
}

/// The name in `names` one edit from `word`, if any.
pub(crate) fn near<'a>(word: &str, names: &'a [String]) -> Option<&'a str> {
    closest(word, names.iter().map(String::as_str))
}
