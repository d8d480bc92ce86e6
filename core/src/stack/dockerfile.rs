//! The Dockerfile parser: FROM, RUN, COPY, ADD, ENV, ARG, WORKDIR, USER, CMD,
//! ENTRYPOINT, EXPOSE, LABEL, VOLUME; shell and JSON forms; `\` continuations;
//! comments. Errors name the line.
//!
//! One build stage only: a second FROM, `FROM x AS y` and `COPY --from` are refused
//! with a clear message. ARG and ENV values are substituted (`$VAR`, `${VAR}`,
//! `${VAR:-default}`, `${VAR:+alt}`) in the arguments of FROM, COPY, ADD, ENV, ARG,
//! WORKDIR, USER, EXPOSE, LABEL and VOLUME; RUN, CMD and ENTRYPOINT keep their text,
//! as their shell expands it when they run. Parser directives (`# syntax=`,
//! `# escape=`) are read as comments: the escape character is always `\`.
//!
//! Every instruction has a normalised text ([`Instruction`]'s `Display`), used for
//! display and in the build cache key. It parses back to the same instruction with
//! [`Instruction::parse`], so backends can replay the steps a plan recorded.
//! Does no I/O.

use std::collections::BTreeMap;
use std::fmt;

use crate::image::build::BuildError;

/// A parsed Dockerfile: its base image and the instructions after FROM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerfile {
    /// The image after FROM, variables substituted (`node:20`).
    pub from: String,
    /// The line of FROM.
    pub from_line: usize,
    /// Every instruction after FROM, in order.
    pub instructions: Vec<Instruction>,
}

/// One instruction, with the line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    pub line: usize,
    pub kind: InstructionKind,
}

/// What an instruction does, its arguments parsed and substituted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstructionKind {
    Run(Command),
    Copy(Copy),
    /// ADD of local files: copies like COPY (archives are not unpacked).
    Add(Copy),
    /// `ENV K=V ...`, in order.
    Env(Vec<(String, String)>),
    Arg {
        name: String,
        default: Option<String>,
    },
    /// Absolute: a relative WORKDIR is joined to the one before.
    Workdir(String),
    User(String),
    Cmd(Command),
    Entrypoint(Command),
    /// `80/tcp`, `53/udp`: the protocol is always written.
    Expose(Vec<String>),
    Label(Vec<(String, String)>),
    Volume(Vec<String>),
}

impl InstructionKind {
    /// The keyword, upper case.
    pub fn keyword(&self) -> &'static str {
        match self {
            InstructionKind::Run(_) => "RUN",
            InstructionKind::Copy(_) => "COPY",
            InstructionKind::Add(_) => "ADD",
            InstructionKind::Env(_) => "ENV",
            InstructionKind::Arg { .. } => "ARG",
            InstructionKind::Workdir(_) => "WORKDIR",
            InstructionKind::User(_) => "USER",
            InstructionKind::Cmd(_) => "CMD",
            InstructionKind::Entrypoint(_) => "ENTRYPOINT",
            InstructionKind::Expose(_) => "EXPOSE",
            InstructionKind::Label(_) => "LABEL",
            InstructionKind::Volume(_) => "VOLUME",
        }
    }
}

/// RUN, CMD and ENTRYPOINT: a shell command line or an exec array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Run by `/bin/sh -c`.
    Shell(String),
    /// `["executable", "arg", ...]`.
    Exec(Vec<String>),
}

impl Command {
    /// The argv to run: `/bin/sh -c TEXT` for the shell form.
    pub fn argv(&self) -> Vec<String> {
        match self {
            Command::Shell(text) => vec!["/bin/sh".into(), "-c".into(), text.clone()],
            Command::Exec(args) => args.clone(),
        }
    }
}

/// The arguments of COPY and ADD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copy {
    /// Paths or globs in the build context, as written (variables substituted).
    pub sources: Vec<String>,
    /// Absolute destination in the image; a trailing `/` means a folder.
    pub dest: String,
    /// `--chown=UID[:GID]`.
    pub chown: Option<String>,
}

impl Copy {
    /// Whether `dest` names a folder (trailing `/`, or several sources).
    pub fn dest_is_folder(&self) -> bool {
        self.dest.ends_with('/') || self.sources.len() > 1
    }
}

const SUPPORTED: &str =
    "FROM, RUN, COPY, ADD, ENV, ARG, WORKDIR, USER, CMD, ENTRYPOINT, EXPOSE, LABEL, VOLUME";

type Vars = BTreeMap<String, String>;

impl Dockerfile {
    /// Parses a Dockerfile. `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Dockerfile, BuildError> {
        let err = |line: usize, message: String| BuildError::Dockerfile {
            file: file.to_string(),
            line,
            message,
        };
        // Variables: ARG before FROM (usable in FROM only), then ARG and ENV after.
        let mut global_args: Vars = BTreeMap::new();
        let mut vars: Vars = BTreeMap::new();
        let mut from: Option<(String, usize)> = None;
        let mut workdir = String::from("/");
        let mut instructions = Vec::new();

        for (line, logical) in logical_lines(text) {
            let (keyword, rest) = match logical.split_once(char::is_whitespace) {
                Some((k, r)) => (k, r.trim()),
                None => (logical.as_str(), ""),
            };
            let upper = keyword.to_ascii_uppercase();
            if upper == "FROM" {
                if from.is_some() {
                    return Err(err(line, "a second FROM: quai builds one stage only (multi-stage builds are not supported)".into()));
                }
                let words = split_words(rest, Some(&global_args)).map_err(|m| err(line, m))?;
                match words.as_slice() {
                    [image] if image.starts_with("--") => {
                        return Err(err(line, format!("FROM option `{image}` is not supported; write FROM IMAGE")))
                    }
                    [image] => from = Some((image.clone(), line)),
                    [_, as_, _] if as_.eq_ignore_ascii_case("as") => {
                        return Err(err(line, "`FROM IMAGE AS NAME` names a build stage; quai builds one stage only: remove `AS NAME`".into()))
                    }
                    [] => return Err(err(line, "FROM needs an image, e.g. FROM busybox:1.36".into())),
                    _ => return Err(err(line, "FROM takes one image, e.g. FROM busybox:1.36".into())),
                }
                continue;
            }
            if from.is_none() {
                if upper == "ARG" {
                    let (name, default) =
                        parse_arg(rest, &global_args).map_err(|m| err(line, m))?;
                    if let Some(value) = default {
                        global_args.insert(name, value);
                    } else {
                        global_args.entry(name).or_default();
                    }
                    continue;
                }
                return Err(err(
                    line,
                    format!("`{keyword}` before FROM: a Dockerfile starts with FROM (only ARG may come before it)"),
                ));
            }
            let kind = parse_kind(&upper, keyword, rest, &mut vars, &global_args, &mut workdir)
                .map_err(|m| err(line, m))?;
            instructions.push(Instruction { line, kind });
        }
        let (from, from_line) =
            from.ok_or_else(|| err(1, "no FROM: a Dockerfile starts with FROM IMAGE".into()))?;
        Ok(Dockerfile {
            from,
            from_line,
            instructions,
        })
    }
}

impl Instruction {
    /// Parses one instruction after FROM, without variables and with WORKDIR `/`: the
    /// inverse of `Display` for normalised texts (those recorded in a plan's steps).
    pub fn parse(text: &str) -> Result<Instruction, BuildError> {
        let file = Dockerfile::parse(&format!("FROM scratch\n{text}"), "step")?;
        let mut instructions = file.instructions;
        match (instructions.pop(), instructions.is_empty()) {
            (Some(mut i), true) => {
                i.line = 1;
                Ok(i)
            }
            _ => Err(BuildError::Dockerfile {
                file: "step".into(),
                line: 1,
                message: format!("`{text}` is not one instruction"),
            }),
        }
    }
}

/// Joins continued lines, drops comments and blank lines: (first line, text).
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let trimmed = raw.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_some()) {
            continue;
        }
        if trimmed.is_empty() {
            continue;
        }
        let (body, continues) = match raw.trim_end().strip_suffix('\\') {
            Some(body) => (body, true),
            None => (raw.trim_end(), false),
        };
        match &mut current {
            Some((_, buf)) => {
                let ends_blank = buf.ends_with(char::is_whitespace);
                let starts_blank = body.starts_with(char::is_whitespace);
                if ends_blank || starts_blank {
                    buf.truncate(buf.trim_end().len());
                    buf.push(' ');
                    buf.push_str(body.trim_start());
                } else {
                    buf.push_str(body);
                }
            }
            None => current = Some((i + 1, body.trim_start().to_string())),
        }
        if !continues {
            if let Some((line, buf)) = current.take() {
                out.push((line, buf.trim().to_string()));
            }
        }
    }
    if let Some((line, buf)) = current {
        if !buf.trim().is_empty() {
            out.push((line, buf.trim().to_string()));
        }
    }
    out
}

fn parse_kind(
    upper: &str,
    keyword: &str,
    rest: &str,
    vars: &mut Vars,
    global_args: &Vars,
    workdir: &mut String,
) -> Result<InstructionKind, String> {
    let needs = |what: &str| -> Result<(), String> {
        if rest.is_empty() {
            Err(format!("{upper} needs {what}"))
        } else {
            Ok(())
        }
    };
    Ok(match upper {
        "RUN" => {
            needs("a command, e.g. RUN ./install or RUN [\"./install\"]")?;
            InstructionKind::Run(command(rest))
        }
        "CMD" => {
            needs("a command")?;
            InstructionKind::Cmd(command(rest))
        }
        "ENTRYPOINT" => {
            needs("a command")?;
            InstructionKind::Entrypoint(command(rest))
        }
        "COPY" | "ADD" => {
            let copy = parse_copy(upper, rest, vars, workdir)?;
            if upper == "ADD" {
                if let Some(url) = copy.sources.iter().find(|s| is_remote(s)) {
                    return Err(format!(
                        "ADD of `{url}`: quai adds local files only; download it in a RUN step or put it in the build context"
                    ));
                }
                InstructionKind::Add(copy)
            } else {
                InstructionKind::Copy(copy)
            }
        }
        "ENV" => {
            needs("a variable, e.g. ENV MODE=prod")?;
            let pairs = parse_pairs("ENV", rest, vars)?;
            for (k, v) in &pairs {
                vars.insert(k.clone(), v.clone());
            }
            InstructionKind::Env(pairs)
        }
        "LABEL" => {
            needs("a label, e.g. LABEL version=1")?;
            let pairs = parse_pairs("LABEL", rest, vars)?;
            InstructionKind::Label(pairs)
        }
        "ARG" => {
            let (name, mut default) = parse_arg(rest, vars)?;
            if default.is_none() {
                default = global_args.get(&name).filter(|v| !v.is_empty()).cloned();
            }
            // An ENV of the same name wins over the ARG, as it is set later in the image.
            if !vars.contains_key(&name) || default.is_some() {
                vars.insert(name.clone(), default.clone().unwrap_or_default());
            }
            InstructionKind::Arg { name, default }
        }
        "WORKDIR" => {
            // The whole rest is the path, blanks included.
            let dir = split_words(rest, Some(vars))?.join(" ");
            if dir.is_empty() {
                return Err("WORKDIR takes one path, e.g. WORKDIR /app".into());
            }
            let dir = join_path(workdir, &dir);
            *workdir = dir.clone();
            InstructionKind::Workdir(dir)
        }
        "USER" => {
            let words = split_words(rest, Some(vars))?;
            let [user] = words.as_slice() else {
                return Err("USER takes one user, e.g. USER 1000:1000".into());
            };
            InstructionKind::User(user.clone())
        }
        "EXPOSE" => {
            let words = split_words(rest, Some(vars))?;
            if words.is_empty() {
                return Err("EXPOSE needs a port, e.g. EXPOSE 80 or EXPOSE 53/udp".into());
            }
            let mut ports = Vec::new();
            for w in words {
                let (port, proto) = w.split_once('/').unwrap_or((&w, "tcp"));
                let proto = proto.to_ascii_lowercase();
                if port.parse::<u16>().map_or(true, |p| p == 0)
                    || !matches!(proto.as_str(), "tcp" | "udp")
                {
                    return Err(format!(
                        "EXPOSE `{w}`: expected PORT or PORT/tcp or PORT/udp, PORT from 1 to 65535"
                    ));
                }
                ports.push(format!("{port}/{proto}"));
            }
            InstructionKind::Expose(ports)
        }
        "VOLUME" => {
            let paths = match json_array(rest) {
                Some(items) => items
                    .iter()
                    .map(|i| expand(i, vars))
                    .collect::<Result<Vec<_>, _>>()?,
                None => split_words(rest, Some(vars))?,
            };
            if paths.is_empty() {
                return Err("VOLUME needs a path, e.g. VOLUME /data".into());
            }
            InstructionKind::Volume(paths)
        }
        "FROM" => unreachable!("FROM is handled by the caller"),
        "HEALTHCHECK" | "SHELL" | "ONBUILD" | "STOPSIGNAL" | "MAINTAINER" => {
            return Err(format!(
                "`{keyword}` is not supported by quai; supported instructions: {SUPPORTED}"
            ))
        }
        _ => {
            return Err(format!(
                "unknown instruction `{keyword}`; supported instructions: {SUPPORTED}"
            ))
        }
    })
}

fn is_remote(source: &str) -> bool {
    let lower = source.to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("git@")
}

fn command(rest: &str) -> Command {
    match json_array(rest) {
        Some(args) => Command::Exec(args),
        // Not a JSON array: the shell form, as Dockerfiles read it.
        None => Command::Shell(rest.to_string()),
    }
}

fn json_array(rest: &str) -> Option<Vec<String>> {
    if !rest.starts_with('[') {
        return None;
    }
    serde_json::from_str::<Vec<String>>(rest).ok()
}

fn parse_copy(upper: &str, rest: &str, vars: &Vars, workdir: &str) -> Result<Copy, String> {
    let mut rest = rest;
    let mut chown = None;
    while let Some(flag) = rest.strip_prefix("--") {
        let (word, after) = flag.split_once(char::is_whitespace).unwrap_or((flag, ""));
        let (name, value) = word.split_once('=').unwrap_or((word, ""));
        match name {
            "chown" if !value.is_empty() => chown = Some(expand(value, vars)?),
            "from" => {
                return Err(format!(
                    "{upper} --from copies from another build stage or image; quai builds one stage only: copy from the build context"
                ))
            }
            _ => {
                return Err(format!(
                    "{upper} option `--{word}` is not supported; accepted: --chown=UID[:GID]"
                ))
            }
        }
        rest = after.trim_start();
    }
    let words = match json_array(rest) {
        Some(items) => items
            .iter()
            .map(|i| expand(i, vars))
            .collect::<Result<Vec<_>, _>>()?,
        None => split_words(rest, Some(vars))?,
    };
    let Some((dest, sources)) = words.split_last().filter(|(_, s)| !s.is_empty()) else {
        return Err(format!(
            "{upper} needs a source and a destination, e.g. {upper} package.json /app/"
        ));
    };
    let folder = dest.ends_with('/') || dest == "." || sources.len() > 1;
    let mut dest = join_path(workdir, dest);
    if folder && !dest.ends_with('/') {
        dest.push('/');
    }
    Ok(Copy {
        sources: sources.to_vec(),
        dest,
        chown,
    })
}

/// `dir` joined to `base` when relative; `.` and `..` resolved; no trailing `/`
/// except for the root.
fn join_path(base: &str, path: &str) -> String {
    let full = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("{base}/{path}")
    };
    let mut parts: Vec<&str> = Vec::new();
    for p in full.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

fn parse_arg(rest: &str, vars: &Vars) -> Result<(String, Option<String>), String> {
    let words = split_words(rest, Some(vars))?;
    let [word] = words.as_slice() else {
        return Err("ARG takes one variable, e.g. ARG VERSION or ARG VERSION=1.0".into());
    };
    let (name, default) = match word.split_once('=') {
        Some((n, v)) => (n, Some(v.to_string())),
        None => (word.as_str(), None),
    };
    check_name("ARG", name)?;
    Ok((name.to_string(), default))
}

fn check_name(what: &str, name: &str) -> Result<(), String> {
    if name.is_empty() || name.contains(char::is_whitespace) {
        return Err(format!("{what}: `{name}` is not a variable name"));
    }
    Ok(())
}

/// `K=V K2="v 2"`, or the legacy `K V W` (the rest of the line is the value).
fn parse_pairs(what: &str, rest: &str, vars: &Vars) -> Result<Vec<(String, String)>, String> {
    let words = split_words(rest, Some(vars))?;
    let first_has_eq = words.first().is_some_and(|w| w.contains('='));
    if !first_has_eq {
        let (key, value) = rest
            .split_once(char::is_whitespace)
            .ok_or_else(|| format!("{what} needs KEY=VALUE, e.g. {what} MODE=prod"))?;
        check_name(what, key)?;
        let value = split_words(value.trim(), Some(vars))?.join(" ");
        return Ok(vec![(key.to_string(), value)]);
    }
    let mut pairs = Vec::new();
    // Substitution sees the values set earlier on the same line only after it (as the
    // Dockerfile reference has it): the whole line is expanded with the vars before.
    for w in words {
        let (k, v) = w
            .split_once('=')
            .ok_or_else(|| format!("{what} `{w}`: expected KEY=VALUE"))?;
        check_name(what, k)?;
        pairs.push((k.to_string(), v.to_string()));
    }
    Ok(pairs)
}

/// Splits into words: whitespace separates, `"…"` and `'…'` quote, `\` escapes.
/// With `vars`, `$VAR` and `${VAR…}` are substituted outside single quotes.
fn split_words(s: &str, vars: Option<&Vars>) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\\' => {
                in_word = true;
                cur.push(it.next().unwrap_or('\\'));
            }
            '\'' => {
                in_word = true;
                loop {
                    match it.next() {
                        Some('\'') => break,
                        Some(ch) => cur.push(ch),
                        None => return Err(format!("unterminated single quote in `{s}`")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match it.next() {
                        Some('"') => break,
                        Some('\\') => match it.peek() {
                            Some(&n @ ('"' | '\\' | '$')) => {
                                it.next();
                                cur.push(n);
                            }
                            _ => cur.push('\\'),
                        },
                        Some('$') if vars.is_some() => substitute(&mut it, vars, &mut cur)?,
                        Some(ch) => cur.push(ch),
                        None => return Err(format!("unterminated double quote in `{s}`")),
                    }
                }
            }
            '$' if vars.is_some() => {
                in_word = true;
                substitute(&mut it, vars, &mut cur)?;
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

/// Substitutes variables in a string that is not split (an item of a JSON array).
fn expand(s: &str, vars: &Vars) -> Result<String, String> {
    let mut out = String::new();
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\\' if it.peek() == Some(&'$') => {
                it.next();
                out.push('$');
            }
            '$' => substitute(&mut it, Some(vars), &mut out)?,
            c => out.push(c),
        }
    }
    Ok(out)
}

/// After a `$`: reads the variable and pushes its value (empty when unset).
fn substitute(
    it: &mut std::iter::Peekable<std::str::Chars<'_>>,
    vars: Option<&Vars>,
    out: &mut String,
) -> Result<(), String> {
    let empty = Vars::new();
    let vars = vars.unwrap_or(&empty);
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
    match it.peek() {
        Some('{') => {
            it.next();
            let mut name = String::new();
            let mut op = None;
            let mut word = String::new();
            loop {
                match it.next() {
                    Some('}') => break,
                    Some(':') if op.is_none() => match it.next() {
                        Some(o @ ('-' | '+')) => op = Some(o),
                        _ => return Err(format!("`${{{name}:…}}`: expected :- or :+")),
                    },
                    Some(c) if op.is_some() => word.push(c),
                    Some(c) if is_name(c) => name.push(c),
                    Some(c) => return Err(format!("`${{{name}{c}…`: not a variable name")),
                    None => return Err(format!("`${{{name}`: missing }}")),
                }
            }
            let value = vars.get(&name).filter(|v| !v.is_empty());
            match (op, value) {
                (None, v) => out.push_str(v.map_or("", String::as_str)),
                (Some('-'), Some(v)) => out.push_str(v),
                (Some('-'), None) => out.push_str(&expand(&word, vars)?),
                (Some(_), Some(_)) => out.push_str(&expand(&word, vars)?),
                (Some(_), None) => {}
            }
        }
        Some(&c) if is_name(c) => {
            let mut name = String::new();
            while let Some(&c) = it.peek().filter(|c| is_name(**c)) {
                name.push(c);
                it.next();
            }
            out.push_str(vars.get(&name).map_or("", String::as_str));
        }
        _ => out.push('$'),
    }
    Ok(())
}

/// A word as the parser reads it back: quoted when it holds blanks, quotes, `\` or `$`.
fn quote(w: &str) -> String {
    let plain = !w.is_empty()
        && !w
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '"' | '\'' | '\\' | '$'));
    if plain {
        return w.to_string();
    }
    let mut out = String::from("\"");
    for c in w.chars() {
        if matches!(c, '"' | '\\' | '$') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

fn json(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_default()
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::Shell(text) => f.write_str(text),
            Command::Exec(args) => f.write_str(&json(args)),
        }
    }
}

impl fmt::Display for Instruction {
    /// The normalised text: keyword upper case, variables substituted, paths absolute,
    /// one space between words (`COPY package.json /app/`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.kind, f)
    }
}

impl fmt::Display for InstructionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kw = self.keyword();
        let pairs = |p: &[(String, String)]| {
            p.iter()
                .map(|(k, v)| format!("{k}={}", quote(v)))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let words = |w: &[String]| w.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ");
        match self {
            InstructionKind::Run(c) | InstructionKind::Cmd(c) | InstructionKind::Entrypoint(c) => {
                write!(f, "{kw} {c}")
            }
            InstructionKind::Copy(c) | InstructionKind::Add(c) => {
                write!(f, "{kw} ")?;
                if let Some(chown) = &c.chown {
                    write!(f, "--chown={} ", quote(chown))?;
                }
                write!(f, "{} {}", words(&c.sources), quote(&c.dest))
            }
            InstructionKind::Env(p) | InstructionKind::Label(p) => write!(f, "{kw} {}", pairs(p)),
            InstructionKind::Arg { name, default } => match default {
                Some(d) => write!(f, "{kw} {name}={}", quote(d)),
                None => write!(f, "{kw} {name}"),
            },
            InstructionKind::Workdir(w) | InstructionKind::User(w) => {
                write!(f, "{kw} {}", quote(w))
            }
            InstructionKind::Expose(w) | InstructionKind::Volume(w) => {
                write!(f, "{kw} {}", words(w))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Dockerfile {
        Dockerfile::parse(text, "Dockerfile").unwrap()
    }

    fn texts(d: &Dockerfile) -> Vec<String> {
        d.instructions.iter().map(ToString::to_string).collect()
    }

    fn error(text: &str) -> (usize, String) {
        match Dockerfile::parse(text, "Dockerfile").unwrap_err() {
            BuildError::Dockerfile { line, message, .. } => (line, message),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_node_dockerfile_parses_and_normalises() {
        let d = parse(
            "# syntax=docker/dockerfile:1\nfrom node:20\n\nworkdir /app\n# deps first\nCOPY package.json .\nRUN npm install \\\n    --production\nCOPY . .\nCMD [\"node\", \"server.js\"]\n",
        );
        assert_eq!(d.from, "node:20");
        assert_eq!(d.from_line, 2);
        assert_eq!(
            texts(&d),
            [
                "WORKDIR /app",
                "COPY package.json /app/",
                "RUN npm install --production",
                "COPY . /app/",
                "CMD [\"node\",\"server.js\"]",
            ]
        );
        assert_eq!(d.instructions[2].line, 7);
        assert_eq!(d.instructions[3].line, 9);
    }

    #[test]
    fn args_and_env_are_substituted_in_later_arguments() {
        let d = parse(
            "ARG TAG=1.36\nFROM busybox:$TAG\nARG DIR=/srv\nENV APP=${DIR}/app NAME=\"my app\"\nWORKDIR $APP\nCOPY ${MISSING:-site} ${APP}/\nRUN echo $APP\nLABEL title=\"$NAME\" empty=${NOPE:+x}\n",
        );
        assert_eq!(d.from, "busybox:1.36");
        assert_eq!(
            texts(&d),
            [
                "ARG DIR=/srv",
                "ENV APP=/srv/app NAME=\"my app\"",
                "WORKDIR /srv/app",
                "COPY site /srv/app/",
                "RUN echo $APP",
                "LABEL title=\"my app\" empty=\"\"",
            ]
        );
    }

    #[test]
    fn legacy_env_form_takes_the_rest_of_the_line() {
        let d = parse("FROM x\nENV GREETING hello world\n");
        assert_eq!(
            d.instructions[0].kind,
            InstructionKind::Env(vec![("GREETING".into(), "hello world".into())])
        );
    }

    #[test]
    fn exec_and_shell_forms_are_told_apart() {
        let d =
            parse("FROM x\nRUN [\"/bin/echo\", \"hi\"]\nENTRYPOINT /bin/sh -c\nRUN [not json\n");
        assert_eq!(
            d.instructions[0].kind,
            InstructionKind::Run(Command::Exec(vec!["/bin/echo".into(), "hi".into()]))
        );
        assert_eq!(
            d.instructions[1].kind,
            InstructionKind::Entrypoint(Command::Shell("/bin/sh -c".into()))
        );
        assert_eq!(
            d.instructions[2].kind,
            InstructionKind::Run(Command::Shell("[not json".into()))
        );
        assert_eq!(
            Command::Shell("echo hi".into()).argv(),
            ["/bin/sh", "-c", "echo hi"]
        );
    }

    #[test]
    fn copy_flags_destinations_and_json_form() {
        let d = parse("FROM x\nWORKDIR /app\nCOPY --chown=1000:1000 a b lib/\nCOPY [\"my file\", \"conf\"]\nADD site.tar ../srv\n");
        let InstructionKind::Copy(c) = &d.instructions[1].kind else {
            panic!()
        };
        assert_eq!(c.sources, ["a", "b"]);
        assert_eq!(c.dest, "/app/lib/");
        assert_eq!(c.chown.as_deref(), Some("1000:1000"));
        assert_eq!(
            texts(&d)[1..],
            [
                "COPY --chown=1000:1000 a b /app/lib/",
                "COPY \"my file\" /app/conf",
                "ADD site.tar /srv",
            ]
        );
    }

    #[test]
    fn expose_volume_user_are_parsed() {
        let d = parse("FROM x\nEXPOSE 80 53/UDP\nVOLUME [\"/data\", \"/logs\"]\nVOLUME /cache\nUSER 1000:1000\n");
        assert_eq!(
            texts(&d),
            [
                "EXPOSE 80/tcp 53/udp",
                "VOLUME /data /logs",
                "VOLUME /cache",
                "USER 1000:1000"
            ]
        );
    }

    #[test]
    fn normalised_texts_parse_back_to_the_same_instruction() {
        let d = parse(
            "FROM x\nENV A=\"a b\" B='$x' C=\\\"q\nLABEL k=v\nARG V=\"1 2\"\nARG W\nWORKDIR /a b\nCOPY --chown=1:2 [\"x y\", \"/d/\"]\nRUN echo \"$HOME\" && ls\nCMD [\"a\"]\nEXPOSE 80\nVOLUME /v\nUSER u\nADD a /b\nENTRYPOINT [\"sh\"]\n",
        );
        for i in &d.instructions {
            let back = Instruction::parse(&i.to_string()).unwrap();
            assert_eq!(back.kind, i.kind, "round trip of `{i}`");
        }
        assert_eq!(texts(&d)[0], "ENV A=\"a b\" B=\"\\$x\" C=\"\\\"q\"");
    }

    #[test]
    fn errors_name_the_line_and_say_what_is_accepted() {
        let (line, msg) = error("FROM x\n\nCOPY --from=build /a /b\n");
        assert_eq!(line, 3);
        assert!(msg.contains("--from"), "{msg}");
        let (line, msg) = error("FROM x\nADD https://example.com/a.tgz /a\n");
        assert_eq!(line, 2);
        assert!(msg.contains("local files only"), "{msg}");
        let (line, msg) = error("FROM node AS build\n");
        assert_eq!(line, 1);
        assert!(msg.contains("one stage"), "{msg}");
        let (line, msg) = error("FROM a\nRUN x\nFROM b\n");
        assert_eq!(line, 3);
        assert!(msg.contains("second FROM"), "{msg}");
        let (line, msg) = error("RUN x\nFROM a\n");
        assert_eq!(line, 1);
        assert!(msg.contains("starts with FROM"), "{msg}");
        let (line, msg) = error("FROM a\n  frobnicate x\n");
        assert_eq!(line, 2);
        assert!(
            msg.contains("unknown instruction `frobnicate`") && msg.contains("WORKDIR"),
            "{msg}"
        );
        let (_, msg) = error("FROM a\nHEALTHCHECK CMD true\n");
        assert!(msg.contains("not supported"), "{msg}");
        let (line, msg) = error("FROM a\nCOPY onlyone\n");
        assert_eq!(line, 2);
        assert!(msg.contains("source and a destination"), "{msg}");
        let (_, msg) = error("FROM a\nEXPOSE 99999\n");
        assert!(msg.contains("65535"), "{msg}");
        let (_, msg) = error("# nothing\n");
        assert!(msg.contains("no FROM"), "{msg}");
        let (line, msg) = error("FROM a\nENV X=\"open\n");
        assert_eq!(line, 2);
        assert!(msg.contains("unterminated"), "{msg}");
        let full = Dockerfile::parse("FROM a\nCOPY --chmod=755 a b\n", "web/Dockerfile")
            .unwrap_err()
            .to_string();
        assert!(full.starts_with("web/Dockerfile:2: "), "{full}");
    }

    #[test]
    fn comments_and_blank_lines_inside_continuations_are_skipped() {
        let d = parse("FROM x\nRUN a \\\n# note\n\n  && b\n");
        assert_eq!(texts(&d), ["RUN a && b"]);
        let d = parse("FROM x\nRUN echo a\\\nb\n");
        assert_eq!(texts(&d), ["RUN echo ab"]);
    }
}
