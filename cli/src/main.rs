//! The `quai` command: thin, it parses arguments, calls quai-core and renders.

fn main() {
    println!("quai");
}
