//! The build cache as a backend sees it, through quai-core's public API: the steps a
//! plan records parse back, the files a COPY step copies make a reproducible layer,
//! and a change to `package.json` moves exactly the keys from `COPY package.json` on.

use quai_core::image::build::{plan_steps, step_files};
use quai_core::image::{layer, Context, Digest};
use quai_core::stack::dockerfile::{Dockerfile, Instruction};

const DOCKERFILE: &str = "FROM node:20\nWORKDIR /app\nCOPY package.json .\nRUN npm install\nCOPY . .\nCMD [\"node\", \"server.js\"]\n";

fn context(package: &str) -> Context {
    let mut c = Context::new();
    c.insert("Dockerfile", DOCKERFILE);
    c.insert("package.json", package);
    c.insert("server.js", "listen(80)");
    c.insert_with_mode("start.sh", "#!/bin/sh\nnode server.js\n", 0o755);
    c
}

#[test]
fn copy_layers_are_reproducible_and_keys_move_only_after_the_changed_copy() {
    let base = Digest::of(b"node:20 manifest");
    let dockerfile = Dockerfile::parse(DOCKERFILE, "Dockerfile").unwrap();
    let before = plan_steps(&dockerfile, &context("{}"), &base).unwrap();
    let after = plan_steps(&dockerfile, &context("{\"a\":1}"), &base).unwrap();
    let moved: Vec<bool> = before
        .iter()
        .zip(&after)
        .map(|(b, a)| b.key != a.key)
        .collect();
    assert_eq!(moved, [false, true, true, true, true]);

    // A backend replays each recorded step from its normalised text.
    let layers: Vec<(Digest, u64)> = before
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let instruction = Instruction::parse(&step.instruction).unwrap();
            let files = step_files(i + 1, &instruction, &context("{}")).unwrap();
            layer::digest(&files)
        })
        .collect();
    let again = {
        let instruction = Instruction::parse(&before[3].instruction).unwrap();
        layer::digest(&step_files(4, &instruction, &context("{}")).unwrap())
    };
    assert_eq!(layers[3], again, "same files, same layer digest");
    let copy_all = Instruction::parse(&before[3].instruction).unwrap();
    let files = step_files(4, &copy_all, &context("{}")).unwrap();
    let paths: Vec<(&str, u32)> = files.iter().map(|f| (f.path.as_str(), f.mode)).collect();
    assert_eq!(
        paths,
        [
            ("/app/Dockerfile", 0o644),
            ("/app/package.json", 0o644),
            ("/app/server.js", 0o644),
            ("/app/start.sh", 0o755)
        ]
    );
    // The tar is a whole number of 512-byte blocks, with the folder `app/` first.
    let tar = layer::tar(&files);
    assert_eq!(tar.len() % 512, 0);
    assert_eq!(&tar[..4], b"app/");
}
