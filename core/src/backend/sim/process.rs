//! What a program does when the simulated backend runs it. There is no real process:
//! a few well-known commands get a fixed, deterministic meaning, and every other program
//! is taken for a server that keeps running.
//!
//! - `true` exits 0, `false` exits 1, `exit N` exits N (inside `sh -c`);
//! - `echo X` prints X and goes on;
//! - a shell with no script (`sh`, `bash`) exits 0 at once, as it does without a terminal;
//! - `sleep`, `httpd`, `nginx` and anything else keep running.
//!
//! Pure: no clock, no I/O.

/// How a program behaves once started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Behaviour {
    /// It prints `output` then exits with `code`.
    Exits { code: i32, output: Vec<String> },
    /// It prints `output` then keeps running until stopped.
    Serves { output: Vec<String> },
}

impl Behaviour {
    /// The exit code, for a program that ends.
    pub(crate) fn exit_code(&self) -> Option<i32> {
        match self {
            Behaviour::Exits { code, .. } => Some(*code),
            Behaviour::Serves { .. } => None,
        }
    }

    pub(crate) fn output(&self) -> &[String] {
        match self {
            Behaviour::Exits { output, .. } | Behaviour::Serves { output } => output,
        }
    }
}

const SHELLS: [&str; 4] = ["sh", "bash", "ash", "dash"];
/// Entrypoints that set things up then run their arguments.
const WRAPPERS: [&str; 3] = ["/docker-entrypoint.sh", "docker-entrypoint.sh", "tini"];

fn base_name(program: &str) -> &str {
    program.rsplit('/').next().unwrap_or(program)
}

/// The behaviour of a program started with `argv` (entrypoint and command joined).
pub(crate) fn interpret(argv: &[String]) -> Behaviour {
    let mut argv = argv;
    while let Some(first) = argv.first() {
        if WRAPPERS.contains(&first.as_str()) || first == "--" {
            argv = &argv[1..];
        } else {
            break;
        }
    }
    let Some(program) = argv.first() else {
        return Behaviour::Exits {
            code: 0,
            output: Vec::new(),
        };
    };
    if SHELLS.contains(&base_name(program)) {
        return match (argv.get(1).map(String::as_str), argv.get(2)) {
            (Some("-c"), Some(script)) => script_behaviour(script),
            // A shell with no script and no terminal reads end-of-file and exits.
            (None, _) => Behaviour::Exits {
                code: 0,
                output: Vec::new(),
            },
            // A script file: the sim has none to read, take it for a server.
            _ => Behaviour::Serves { output: Vec::new() },
        };
    }
    let mut output = Vec::new();
    match simple_command(argv, &mut output) {
        Some(code) => Behaviour::Exits { code, output },
        None => Behaviour::Serves { output },
    }
}

/// Runs one simple command; `Some(code)` when it ends, `None` when it keeps running.
fn simple_command(words: &[String], output: &mut Vec<String>) -> Option<i32> {
    let program = words.first().map(|w| base_name(w)).unwrap_or("true");
    match program {
        "true" | ":" => Some(0),
        "false" => Some(1),
        "exit" => Some(words.get(1).and_then(|c| c.parse().ok()).unwrap_or(0)),
        "echo" => {
            output.push(words[1..].join(" "));
            Some(0)
        }
        _ => None,
    }
}

/// Splits a shell script into commands joined by `&&` (stop on failure) or `;`.
fn script_behaviour(script: &str) -> Behaviour {
    let mut output = Vec::new();
    let mut code = 0;
    let mut skip_until_semicolon = false;
    for (command, joined_by_and) in split_script(script) {
        if skip_until_semicolon {
            skip_until_semicolon = joined_by_and;
            continue;
        }
        let words = split_words(&command);
        if words.is_empty() {
            continue;
        }
        if words[0] == "exit" {
            let code = words.get(1).and_then(|c| c.parse().ok()).unwrap_or(code);
            return Behaviour::Exits { code, output };
        }
        match simple_command(&words, &mut output) {
            Some(c) => code = c,
            None => return Behaviour::Serves { output },
        }
        // `a && b`: b runs only when a succeeded.
        skip_until_semicolon = joined_by_and && code != 0;
    }
    Behaviour::Exits { code, output }
}

/// The commands of a script, each with whether the next is joined to it by `&&`.
fn split_script(script: &str) -> Vec<(String, bool)> {
    let mut commands = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let mut chars = script.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                current.push(c);
            }
            (Some(_), c) => current.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                current.push(c);
            }
            (None, ';') | (None, '\n') => commands.push((std::mem::take(&mut current), false)),
            (None, '&') if chars.peek() == Some(&'&') => {
                chars.next();
                commands.push((std::mem::take(&mut current), true));
            }
            (None, c) => current.push(c),
        }
    }
    commands.push((current, false));
    commands
}

/// Words of one command, quotes removed.
fn split_words(command: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current: Option<String> = None;
    let mut quote: Option<char> = None;
    for c in command.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => current.get_or_insert_with(String::new).push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                current.get_or_insert_with(String::new);
            }
            (None, c) if c.is_whitespace() => {
                if let Some(w) = current.take() {
                    words.push(w);
                }
            }
            (None, c) => current.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(current);
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(argv: &[&str]) -> Behaviour {
        interpret(&argv.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn well_known_commands_exit_as_they_do_for_real() {
        assert_eq!(run(&["true"]).exit_code(), Some(0));
        assert_eq!(run(&["/bin/false"]).exit_code(), Some(1));
        assert_eq!(run(&["sh", "-c", "exit 3"]).exit_code(), Some(3));
        assert_eq!(run(&["sh"]).exit_code(), Some(0));
        let echo = run(&["echo", "hello", "world"]);
        assert_eq!(echo.exit_code(), Some(0));
        assert_eq!(echo.output(), ["hello world"]);
    }

    #[test]
    fn servers_and_sleep_keep_running() {
        for argv in [
            &["httpd", "-f", "-p", "80"][..],
            &["sleep", "3600"],
            &["/docker-entrypoint.sh", "nginx", "-g", "daemon off;"],
            &["sh", "-c", "echo starting && sleep 1000"],
        ] {
            assert_eq!(run(argv).exit_code(), None, "{argv:?}");
        }
        assert_eq!(
            run(&["sh", "-c", "echo starting && sleep 1000"]).output(),
            ["starting"]
        );
    }

    #[test]
    fn scripts_follow_and_and_semicolons() {
        let b = run(&["sh", "-c", "false && echo no; echo 'yes sir'; exit 7"]);
        assert_eq!(b.exit_code(), Some(7));
        assert_eq!(b.output(), ["yes sir"]);
        assert_eq!(run(&["sh", "-c", "true && false"]).exit_code(), Some(1));
    }
}
