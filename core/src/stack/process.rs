//! What a container runs: `command` and `entrypoint` as arrays or as one string
//! split into words (quotes group, `\` escapes, no shell runs), and `env` as a table
//! or as `KEY=value` lines. Reads values; never looks at other tables.

use std::collections::BTreeMap;
use std::ops::Range;

use crate::stack::document::{Field, Source};
use crate::stack::StackError;

/// Splits a command written as one string into words, as a shell would without
/// running one: spaces separate, quotes group, `\` escapes.
pub(crate) fn split_words(s: &str) -> Result<Vec<String>, &'static str> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err("a ' quote is not closed"),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err("a \" quote is not closed"),
                        },
                        Some(c) => word.push(c),
                        None => return Err("a \" quote is not closed"),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(c) => word.push(c),
                    None => return Err("the command ends with a lone \\"),
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// `command` and `entrypoint`: an array of strings, or one string split into words.
pub(crate) fn command(src: &Source, f: &Field) -> Result<Vec<String>, StackError> {
    let words = match f.item.as_str() {
        Some(s) => split_words(s).map_err(|why| {
            f.invalid(
                src,
                format!("`{}` cannot be split into words: {why}", f.key),
            )
        })?,
        None => {
            if f.item.as_array().is_none() {
                return Err(f.wrong_type(src, "an array of strings or a string"));
            }
            f.strings(src)?
                .into_iter()
                .map(|s| s.value.to_string())
                .collect()
        }
    };
    check_words(src, f, &words)?;
    Ok(words)
}

pub(crate) fn check_words(src: &Source, f: &Field, words: &[String]) -> Result<(), StackError> {
    match words.first() {
        None => Err(src.error(
            f.span(),
            format!("`{}` in {} is empty", f.key, f.table),
            Some(format!(
                "give the program and its arguments, e.g. {}; or remove `{}` to keep the image's",
                f.example, f.key
            )),
        )),
        Some(p) if p.trim().is_empty() => Err(f.invalid(
            src,
            format!(
                "the program of `{}` in {} is an empty string",
                f.key, f.table
            ),
        )),
        Some(_) => Ok(()),
    }
}

pub(crate) fn env(src: &Source, f: &Field) -> Result<BTreeMap<String, String>, StackError> {
    let mut out = BTreeMap::new();
    if let Some(table) = f.item.as_table_like() {
        for (k, item) in table.iter() {
            let span = item
                .span()
                .or_else(|| table.get_key_value(k).and_then(|(key, _)| key.span()));
            let value = match item.as_value() {
                Some(toml_edit::Value::String(s)) => s.value().clone(),
                Some(toml_edit::Value::Integer(i)) => i.value().to_string(),
                Some(toml_edit::Value::Float(x)) => x.value().to_string(),
                Some(toml_edit::Value::Boolean(b)) => b.value().to_string(),
                _ => {
                    return Err(src.error(
                        span,
                        format!(
                            "the value of `{k}` in `env` of {} must be a string",
                            f.table
                        ),
                        Some(format!("e.g. {k} = \"value\"")),
                    ))
                }
            };
            check_env_name(src, k, span)?;
            out.insert(k.to_string(), value);
        }
        return Ok(out);
    }
    if f.item.as_array().is_none() {
        return Err(f.wrong_type(src, "a table or an array of \"KEY=value\" strings"));
    }
    for line in f.strings(src)? {
        let Some((k, v)) = line.value.split_once('=') else {
            return Err(src.error(
                line.span.clone(),
                format!("`{}` in `env` of {} has no `=`", line.value, f.table),
                Some(format!("write KEY=value, e.g. \"{}=value\"", line.value)),
            ));
        };
        check_env_name(src, k, line.span.clone())?;
        if out.insert(k.to_string(), v.to_string()).is_some() {
            return Err(src.error(
                line.span.clone(),
                format!("`{k}` is set twice in `env` of {}", f.table),
                None,
            ));
        }
    }
    Ok(out)
}

fn check_env_name(src: &Source, k: &str, span: Option<Range<usize>>) -> Result<(), StackError> {
    if k.is_empty() || k.contains(|c: char| c.is_whitespace() || c == '=' || c == '\0') {
        return Err(src.error(
            span,
            format!("`{k}` is not an environment variable name"),
            Some("names have no spaces and no `=`, e.g. MODE".into()),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_split_like_a_shell_would() {
        assert_eq!(
            split_words("httpd -f -p 80").unwrap(),
            ["httpd", "-f", "-p", "80"]
        );
        assert_eq!(
            split_words("sh -c 'echo hi; ls'").unwrap(),
            ["sh", "-c", "echo hi; ls"]
        );
        assert_eq!(
            split_words(r#"echo "a \"b\"" c\ d"#).unwrap(),
            ["echo", "a \"b\"", "c d"]
        );
        assert_eq!(split_words("  a   b  ").unwrap(), ["a", "b"]);
        assert_eq!(split_words("x ''").unwrap(), ["x", ""]);
        assert!(split_words("echo 'oops").is_err());
        assert!(split_words("echo \"oops").is_err());
        assert!(split_words("").unwrap().is_empty());
    }
}
