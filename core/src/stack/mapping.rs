//! The short forms that map the host into a container: ports (`"8080:80/udp"`) and
//! volumes (`"data:/www"`, `"./static:/static:ro"`). A named volume must be declared
//! in `[volumes]`; a source starting with `.` or `/` is a host folder.

use crate::stack::container::unknown_name;
use crate::stack::document::{Located, Source};
use crate::stack::parse::Names;
use crate::stack::{Mount, MountSource, PortMapping, Protocol, StackError};

const PORT_FORMS: &str =
    "write \"HOST:CONTAINER\", optionally with /tcp or /udp, e.g. \"8080:80\" or \"5353:53/udp\"";

pub(crate) fn proto(p: Protocol) -> &'static str {
    match p {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
    }
}

pub(crate) fn port(src: &Source, p: &Located<&str>) -> Result<PortMapping, StackError> {
    let fail = |message: String| src.error(p.span.clone(), message, Some(PORT_FORMS.to_string()));
    let text = p.value;
    let (pair, protocol) = match text.rsplit_once('/') {
        Some((pair, "tcp")) => (pair, Protocol::Tcp),
        Some((pair, "udp")) => (pair, Protocol::Udp),
        Some((_, other)) => {
            return Err(fail(format!(
                "`{text}`: unknown protocol `{other}`, expected tcp or udp"
            )))
        }
        None => (text, Protocol::Tcp),
    };
    let parts: Vec<&str> = pair.split(':').collect();
    let (host, container) = match parts.as_slice() {
        [host, container] => (*host, *container),
        [_] => return Err(fail(format!("`{text}` gives one port; quai needs the host port and the container port"))),
        [_, _, _] => return Err(fail(format!("`{text}` names a host address; quai publishes on every address, give HOST:CONTAINER only"))),
        _ => return Err(fail(format!("`{text}` is not a port mapping"))),
    };
    let number = |s: &str, which: &str| -> Result<u16, StackError> {
        if s.contains('-') {
            return Err(fail(format!(
                "`{text}`: port ranges are not supported, publish each port"
            )));
        }
        match s.parse::<u16>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(fail(format!(
                "`{text}`: the {which} port `{s}` is not a number from 1 to 65535"
            ))),
        }
    };
    Ok(PortMapping {
        host: number(host, "host")?,
        container: number(container, "container")?,
        protocol,
    })
}

const MOUNT_FORMS: &str = "write VOLUME:/path or ./folder:/path, with :ro for read-only, e.g. \"data:/www\" or \"./static:/static:ro\"";

pub(crate) fn mount(src: &Source, v: &Located<&str>, names: &Names) -> Result<Mount, StackError> {
    let fail = |message: String| src.error(v.span.clone(), message, Some(MOUNT_FORMS.to_string()));
    let text = v.value;
    let parts: Vec<&str> = text.split(':').collect();
    let (source, target, read_only) = match parts.as_slice() {
        [s, t] => (*s, *t, false),
        [s, t, "ro"] => (*s, *t, true),
        [s, t, "rw"] => (*s, *t, false),
        [_, _, mode] => {
            return Err(fail(format!(
                "`{text}`: unknown mode `{mode}`, expected ro or rw"
            )))
        }
        [_] => return Err(fail(format!("`{text}` says where to mount but not what"))),
        _ => return Err(fail(format!("`{text}` has too many `:`"))),
    };
    if source.is_empty() {
        return Err(fail(format!("`{text}` has no source before `:`")));
    }
    if !target.starts_with('/') {
        let mut fixed: Vec<String> = parts.iter().map(|p| p.to_string()).collect();
        fixed[1] = format!("/{target}");
        return Err(src.error(
            v.span.clone(),
            format!(
                "`{text}`: the path in the container `{target}` must be absolute (start with /)"
            ),
            Some(format!("did you mean \"{}\"?", fixed.join(":"))),
        ));
    }
    let source = if source.starts_with('.') || source.starts_with('/') {
        MountSource::Bind(source.to_string())
    } else if source.starts_with('~') {
        return Err(fail(format!("`{text}`: `~` is not expanded; write the folder relative to the stack file (./…) or absolute")));
    } else if names.volumes.iter().any(|k| k == source) {
        MountSource::Volume(source.to_string())
    } else {
        let e = unknown_name(
            src,
            &Located {
                value: source,
                span: v.span.clone(),
            },
            "volume",
            &names.volumes,
        );
        let help = format!(
            "{}; a host folder starts with ./ or /, e.g. \"./{source}:{target}\"",
            e.help.unwrap_or_default()
        );
        return Err(src.error(v.span.clone(), e.message, Some(help)));
    };
    Ok(Mount {
        source,
        target: normal_target(target),
        read_only,
    })
}

/// `/` stays `/`; `/www/` is `/www`.
fn normal_target(target: &str) -> String {
    match target.trim_end_matches('/') {
        "" => "/".to_string(),
        t => t.to_string(),
    }
}
