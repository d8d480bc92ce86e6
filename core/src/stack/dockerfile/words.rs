//! Words of a Dockerfile instruction: splitting with quotes and escapes, variable
//! substitution (`$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR:+alt}`), and quoting
//! back for the normalised text. Pure.

use std::collections::BTreeMap;

/// Variables in scope (ARG and ENV), by name.
pub(super) type Vars = BTreeMap<String, String>;

/// Splits into words: whitespace separates, `"…"` and `'…'` quote, `\` escapes.
/// With `vars`, `$VAR` and `${VAR…}` are substituted outside single quotes.
pub(super) fn split_words(s: &str, vars: Option<&Vars>) -> Result<Vec<String>, String> {
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
pub(super) fn expand(s: &str, vars: &Vars) -> Result<String, String> {
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
pub(super) fn quote(w: &str) -> String {
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
