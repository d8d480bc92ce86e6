//! Every malformed stack file under `stack_errors/` is refused with a clear error:
//! file, line and column, a caret under the spot, and what is accepted. The rendered
//! errors are kept as snapshots beside the files; each file's first line says which
//! mistake it makes.

use std::path::{Path, PathBuf};

use quai_core::stack::{parse, ContainerSpec, ImageRef};

fn cases() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("suite/stack_errors");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn stack_errors_every_malformed_file_is_refused_with_its_spot() {
    let files = cases();
    assert!(files.len() >= 30, "only {} malformed files", files.len());
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("stack_errors/snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for path in &files {
            let name = path.file_stem().unwrap().to_str().unwrap();
            let text = std::fs::read_to_string(path).unwrap();
            let error = match parse(&text, "stack.toml", "demo") {
                Ok(stack) => panic!("{name}: parsed, but should be refused: {stack:?}"),
                Err(e) => e,
            };
            let rendered = error.to_string();
            assert!(rendered.starts_with("error: "), "{name}: {rendered}");
            assert!(error.help.is_some(), "{name} has no help: {rendered}");
            insta::assert_snapshot!(name, rendered);
        }
    });
}

#[test]
fn stack_errors_point_inside_the_file() {
    for path in cases() {
        let text = std::fs::read_to_string(&path).unwrap();
        let error = parse(&text, "stack.toml", "demo").unwrap_err();
        let span = error
            .span
            .unwrap_or_else(|| panic!("{}: no span", path.display()));
        assert!(span.end <= text.len(), "{}", path.display());
        let line = text.lines().nth(span.line - 1).unwrap_or("");
        assert!(
            !line.starts_with('#'),
            "{}: points at the comment",
            path.display()
        );
    }
}

#[test]
fn stack_errors_a_good_stack_still_parses() {
    let text = r#"
[stack]
name = "shop"

[images.api]
context = "api"

[volumes.pg]

[networks.back]
subnet = "10.90.0.0/24"

[containers.db]
image = "postgres:16"
volumes = ["pg:/var/lib/postgresql/data"]
networks = ["back"]
healthcheck = { command = ["pg_isready"], interval = "500ms", retries = 5 }

[containers.api]
image = "api"
command = "node server.js --port 3000"
env = ["DATABASE_URL=postgres://db/shop"]
ports = ["3000:3000"]
networks = ["back"]
depends_on = { db = "healthy" }
restart = "always"
resources = { memory = "256MiB", cpus = 1 }
"#;
    let stack = parse(text, "stack.toml", "demo").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stack.name, "shop");
    let api: &ContainerSpec = &stack.containers["api"];
    assert_eq!(api.image, ImageRef::Stack("api".into()));
    assert_eq!(
        api.command.as_deref().unwrap(),
        ["node", "server.js", "--port", "3000"]
    );
    assert_eq!(api.resources.cpus, Some(1.0));
    let ImageRef::Reference(pg) = &stack.containers["db"].image else {
        panic!("postgres is a reference")
    };
    assert_eq!(pg.familiar(), "postgres:16");
    assert_eq!(
        stack.containers["db"]
            .healthcheck
            .as_ref()
            .unwrap()
            .interval_ms,
        500
    );
}
