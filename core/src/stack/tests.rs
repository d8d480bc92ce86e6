//! Good stack files parse into the expected model.

use std::collections::BTreeMap;

use crate::image::Reference;
use crate::stack::*;

/// The full example of the design document.
pub(crate) const DESIGN_EXAMPLE: &str = r#"
[stack]
name = "blog"                      # default: the folder's name

[images.web]                       # built from a Dockerfile
context = "web"                    # relative to this file
dockerfile = "Dockerfile"          # default

[images.tools]                     # built from inline steps: Dockerfile instructions
context = "tools"
steps = ["FROM busybox", "WORKDIR /app", "COPY package.json /app/", "RUN ./install", "COPY . /app/"]

[images.base]                      # pulled (or found in the local store)
from = "busybox:1.36"

[volumes.data]                     # named volume: survives replace and destroy

[networks.back]
subnet = "10.89.1.0/24"            # optional: allocated when absent

[containers.web]
image = "web"                      # a key of [images], else an image reference
command = ["httpd", "-f", "-p", "80", "-h", "/www"]
entrypoint = ["/bin/sh", "-c"]     # optional
env = { MODE = "prod" }
workdir = "/www"
user = "1000:1000"
hostname = "web"
ports = ["8080:80"]                # host:container[/tcp]
volumes = ["data:/www", "./static:/static:ro"]
networks = ["back"]
depends_on = ["db"]                # or { db = "healthy" }
restart = "on-failure"             # "no" | "on-failure" | "always"
replicas = 2
read_only = false
resources = { memory = "128MiB", cpus = 0.5, pids = 100 }
healthcheck = { command = ["wget", "-qO-", "http://localhost/"], interval = "2s", retries = 3 }
"#;

fn parse_ok(text: &str) -> Stack {
    parse(text, "stack.toml", "demo").unwrap_or_else(|e| panic!("{e}"))
}

fn r(s: &str) -> Reference {
    s.parse().unwrap()
}

#[test]
fn the_design_example_needs_its_db_container() {
    let e = parse(DESIGN_EXAMPLE, "stack.toml", "demo").unwrap_err();
    assert_eq!(e.message, "no container `db` in [containers]");
    let at = DESIGN_EXAMPLE.find("\"db\"]").unwrap();
    assert_eq!(e.span.map(|s| s.start), Some(at));
}

#[test]
fn the_design_example_with_its_db_still_refuses_two_replicas_on_one_host_port() {
    let text = DESIGN_EXAMPLE.to_string() + "\n[containers.db]\nimage = \"base\"\n";
    let e = parse(&text, "stack.toml", "demo").unwrap_err();
    assert_eq!(
        e.message,
        "[containers.web] has 2 replicas, and they cannot all publish host port 8080/tcp"
    );
}

#[test]
fn the_design_example_parses_into_the_model() {
    // The example publishes 8080 with two replicas; with its `db` declared and one
    // replica it is a whole stack.
    let text = DESIGN_EXAMPLE.replace("replicas = 2", "replicas = 1")
        + "\n[containers.db]\nimage = \"base\"\n";
    let stack = parse_ok(&text);
    assert_eq!(stack.name, "blog");
    assert_eq!(
        stack.images["web"],
        ImageSpec::Build {
            context: "web".into(),
            source: BuildSource::Dockerfile("Dockerfile".into())
        }
    );
    assert_eq!(
        stack.images["tools"],
        ImageSpec::Build {
            context: "tools".into(),
            source: BuildSource::Steps(vec![
                "FROM busybox".into(),
                "WORKDIR /app".into(),
                "COPY package.json /app/".into(),
                "RUN ./install".into(),
                "COPY . /app/".into()
            ])
        }
    );
    assert_eq!(
        stack.images["base"],
        ImageSpec::Pull {
            reference: r("busybox:1.36")
        }
    );
    assert_eq!(stack.volumes.keys().collect::<Vec<_>>(), ["data"]);
    assert_eq!(
        stack.networks["back"].subnet,
        Some(Subnet {
            addr: [10, 89, 1, 0],
            prefix: 24
        })
    );
    let web = &stack.containers["web"];
    let expected = ContainerSpec {
        image: ImageRef::Stack("web".into()),
        command: Some(
            ["httpd", "-f", "-p", "80", "-h", "/www"]
                .map(String::from)
                .to_vec(),
        ),
        entrypoint: Some(vec!["/bin/sh".into(), "-c".into()]),
        env: BTreeMap::from([("MODE".to_string(), "prod".to_string())]),
        workdir: Some("/www".into()),
        user: Some("1000:1000".into()),
        hostname: Some("web".into()),
        ports: vec![PortMapping {
            host: 8080,
            container: 80,
            protocol: Protocol::Tcp,
        }],
        volumes: vec![
            Mount {
                source: MountSource::Volume("data".into()),
                target: "/www".into(),
                read_only: false,
            },
            Mount {
                source: MountSource::Bind("./static".into()),
                target: "/static".into(),
                read_only: true,
            },
        ],
        networks: vec!["back".into()],
        depends_on: BTreeMap::from([("db".to_string(), DependsOn::Started)]),
        restart: RestartPolicy::OnFailure,
        replicas: 1,
        read_only: false,
        resources: Resources {
            memory: Some(128 << 20),
            cpus: Some(0.5),
            pids: Some(100),
        },
        healthcheck: Some(Healthcheck {
            command: ["wget", "-qO-", "http://localhost/"]
                .map(String::from)
                .to_vec(),
            interval_ms: 2_000,
            retries: 3,
        }),
    };
    assert_eq!(web, &expected);
    assert_eq!(stack.containers["db"].image, ImageRef::Stack("base".into()));
}

#[test]
fn an_empty_file_is_an_empty_stack_named_after_its_folder() {
    let stack = parse_ok("");
    assert_eq!(stack.name, "demo");
    assert!(stack.containers.is_empty());
}

#[test]
fn defaults_and_short_forms_are_filled_in() {
    let stack = parse_ok(
        r#"
[containers.app]
image = "nginx"
command = "sh -c 'echo hello; sleep 1'"
env = ["A=1", "B=x=y"]
depends_on = { db = "healthy", init = "completed_successfully" }

[containers.db]
image = "postgres:16"
healthcheck = { command = "pg_isready" }

[containers.init]
image = "localhost:5000/tools/migrate@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
"#,
    );
    let app = &stack.containers["app"];
    assert_eq!(
        app.image,
        ImageRef::Reference(r("docker.io/library/nginx:latest"))
    );
    assert_eq!(
        app.command.as_deref().unwrap(),
        ["sh", "-c", "echo hello; sleep 1"]
    );
    assert_eq!(app.env["B"], "x=y");
    assert_eq!(app.depends_on["db"], DependsOn::Healthy);
    assert_eq!(app.depends_on["init"], DependsOn::CompletedSuccessfully);
    assert_eq!(
        (app.replicas, app.restart, app.read_only),
        (1, RestartPolicy::No, false)
    );
    let hc = stack.containers["db"].healthcheck.clone().unwrap();
    assert_eq!(hc.command, ["/bin/sh", "-c", "pg_isready"]);
    assert_eq!((hc.interval_ms, hc.retries), (30_000, 3));
    let ImageRef::Reference(init) = &stack.containers["init"].image else {
        panic!("a reference")
    };
    assert_eq!(init.registry, "localhost:5000");
    assert_eq!(init.tag, None);
}

#[test]
fn tables_may_be_written_as_headers_or_dotted_keys() {
    let stack = parse_ok(
        r#"
volumes.data = {}
[stack]
name = "x"

[containers.web]
image = "busybox"
ports = ["53:53/udp", "53:53/tcp"]
resources.memory = 1048576

[containers.web.healthcheck]
command = ["CMD", "true"]
interval = "1m30s"
"#,
    );
    let web = &stack.containers["web"];
    assert_eq!(web.resources.memory, Some(1 << 20));
    assert_eq!(web.healthcheck.as_ref().unwrap().command, ["true"]);
    assert_eq!(web.healthcheck.as_ref().unwrap().interval_ms, 90_000);
    assert_eq!(web.ports.len(), 2);
}

#[test]
fn a_folder_name_that_is_not_a_name_asks_for_one() {
    let e = parse("", "stack.toml", "My Blog").unwrap_err();
    assert_eq!(e.span, None);
    assert!(e.help.unwrap().contains("name = \"my-blog\""));
}

#[test]
fn any_cut_or_deleted_character_gives_a_stack_or_an_error_inside_the_file() {
    let text = DESIGN_EXAMPLE.replace("replicas = 2", "replicas = 1")
        + "\n[containers.db]\nimage = \"base\"\n\tdepends_on = { web = \"héalthy\" }\n";
    let mut variants: Vec<String> = Vec::new();
    for (i, c) in text.char_indices() {
        variants.push(text[..i].to_string());
        variants.push(format!("{}{}", &text[..i], &text[i + c.len_utf8()..]));
    }
    for v in &variants {
        if let Err(e) = parse(v, "stack.toml", "demo") {
            let rendered = e.to_string();
            assert!(rendered.starts_with("error: "), "{rendered}");
            if let Some(span) = e.span {
                assert!(span.start <= v.len() && span.end <= v.len(), "{rendered}");
                assert!(span.line >= 1 && span.col >= 1);
            }
        }
    }
}
