//! The `quai` command: thin, it parses arguments, calls quai-core and renders.

#[cfg(target_os = "linux")]
mod runtime;

use clap::Parser;

#[derive(Parser)]
#[command(name = "quai")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// quai's own OCI container runtime.
    #[cfg(target_os = "linux")]
    #[command(subcommand)]
    Runtime(runtime::RuntimeCommand),
}

fn main() {
    let code = match Cli::parse().command {
        #[cfg(target_os = "linux")]
        Command::Runtime(cmd) => runtime::run(cmd).unwrap_or_else(|e| {
            eprintln!("quai: {e:#}");
            1
        }),
    };
    std::process::exit(code);
}
