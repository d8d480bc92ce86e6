//! `inspect -f '{{ .Config.Resources.Memory }}'`: a template whose `{{ .A.B }}` parts are
//! paths into a JSON value, looked up with keys compared without regard to case.
//! Text outside `{{ }}` is copied as is. Only paths are understood: no functions, no
//! pipelines, so a template either prints fields or says which field is missing.

use serde_json::Value;

/// Why a template cannot be filled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("template: `{{{{` at byte {at} is never closed by `}}}}`")]
    Unclosed { at: usize },
    #[error("template: `{{{{ {text} }}}}` is not a path: write it as {{{{ .Field.Sub }}}} (or {{{{ . }}}} for everything)")]
    NotAPath { text: String },
    #[error("template: no field `{field}` at `{path}`; fields there: {known}")]
    NoField {
        field: String,
        path: String,
        known: String,
    },
    #[error("template: `{path}` is {kind}, it has no field `{field}`")]
    NotAnObject {
        field: String,
        path: String,
        kind: &'static str,
    },
}

/// Fills `template` from `value`.
pub fn render(template: &str, value: &Value) -> Result<String, TemplateError> {
    let mut out = String::new();
    let mut rest = template;
    let mut offset = 0;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let inner_start = start + 2;
        let end = rest[inner_start..]
            .find("}}")
            .ok_or(TemplateError::Unclosed { at: offset + start })?;
        let expr = rest[inner_start..inner_start + end].trim();
        out.push_str(&lookup(expr, value)?);
        let consumed = inner_start + end + 2;
        rest = &rest[consumed..];
        offset += consumed;
    }
    out.push_str(rest);
    Ok(out)
}

/// The text of the value at path `expr` (`.A.B`).
fn lookup(expr: &str, value: &Value) -> Result<String, TemplateError> {
    let not_a_path = || TemplateError::NotAPath {
        text: expr.to_string(),
    };
    let path = expr.strip_prefix('.').ok_or_else(not_a_path)?;
    let mut current = value;
    let mut walked = String::new();
    if !path.is_empty() {
        for field in path.split('.') {
            if field.is_empty() || field.contains(char::is_whitespace) {
                return Err(not_a_path());
            }
            let shown = if walked.is_empty() { "." } else { &walked };
            current = match current {
                Value::Object(map) => map
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(field))
                    .map(|(_, v)| v)
                    .ok_or_else(|| TemplateError::NoField {
                        field: field.to_string(),
                        path: shown.to_string(),
                        known: map.keys().cloned().collect::<Vec<_>>().join(", "),
                    })?,
                other => {
                    return Err(TemplateError::NotAnObject {
                        field: field.to_string(),
                        path: shown.to_string(),
                        kind: kind(other),
                    })
                }
            };
            walked.push('.');
            walked.push_str(field);
        }
    }
    Ok(match current {
        Value::String(s) => s.clone(),
        Value::Null => "<none>".to_string(),
        other => other.to_string(),
    })
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Value {
        json!({
            "address": "container.web",
            "config": { "kind": "container", "resources": { "memory": 134217728, "cpus": null } },
            "observed": { "status": "running" }
        })
    }

    #[test]
    fn paths_are_looked_up_without_regard_to_case() {
        let v = sample();
        assert_eq!(
            render("{{ .Config.Resources.Memory }}", &v).unwrap(),
            "134217728"
        );
        assert_eq!(
            render("{{.address}} is {{ .Observed.Status }}!", &v).unwrap(),
            "container.web is running!"
        );
        assert_eq!(
            render("{{ .config.resources.cpus }}", &v).unwrap(),
            "<none>"
        );
    }

    #[test]
    fn a_dot_alone_prints_the_whole_value_and_objects_print_as_json() {
        let v = json!({"a": {"b": 1}});
        assert_eq!(render("{{ . }}", &v).unwrap(), r#"{"a":{"b":1}}"#);
        assert_eq!(render("{{ .A }}", &v).unwrap(), r#"{"b":1}"#);
    }

    #[test]
    fn a_missing_field_is_named_with_what_exists_there() {
        let err = render("{{ .Config.Resources.Memroy }}", &sample()).unwrap_err();
        assert_eq!(
            err,
            TemplateError::NoField {
                field: "Memroy".into(),
                path: ".Config.Resources".into(),
                known: "cpus, memory".into(),
            }
        );
        assert_eq!(
            err.to_string(),
            "template: no field `Memroy` at `.Config.Resources`; fields there: cpus, memory"
        );
    }

    #[test]
    fn malformed_templates_are_refused() {
        let v = sample();
        assert_eq!(
            render("x {{ .Address", &v).unwrap_err(),
            TemplateError::Unclosed { at: 2 }
        );
        assert!(matches!(
            render("{{ Address }}", &v).unwrap_err(),
            TemplateError::NotAPath { .. }
        ));
        assert!(matches!(
            render("{{ .Address.Name }}", &v).unwrap_err(),
            TemplateError::NotAnObject {
                kind: "a string",
                ..
            }
        ));
    }
}
