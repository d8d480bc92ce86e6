//! The `quai` command: thin, it hands the process's arguments and streams to
//! [`quai::run`] and exits with the code it returns.

use std::io::IsTerminal;

fn main() {
    let stdout = std::io::stdout();
    let colour = stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let mut out = stdout.lock();
    let mut err = std::io::stderr();
    let mut input = std::io::stdin().lock();
    let code = quai::run(
        std::env::args_os(),
        &mut quai::Io {
            out: &mut out,
            err: &mut err,
            input: &mut input,
            colour,
        },
    );
    std::process::exit(code);
}
