//! The book's examples end to end: apply, nothing left to do, destroy; the layer cache
//! scenario; the transcripts the book shows.

use std::fs;

use serde_json::Value;

use super::Quai;

// ---- the examples

/// apply -y, then nothing left to do, then destroy keeps the volumes.
fn round_trip(example: &str, volumes: &[&str]) {
    let q = Quai::new();
    let file = q.example(example);
    let file = file.to_str().unwrap();
    q.expect(2, &["plan", "-f", file, "--detailed-exitcode"]);
    let apply = q.expect(0, &["apply", "-f", file, "-y"]);
    assert!(apply.out.contains("Apply complete"), "{}", apply.out);
    q.expect(0, &["plan", "-f", file, "--detailed-exitcode"]);
    let destroy = q.expect(0, &["destroy", "-f", file, "-y"]);
    assert!(destroy.out.contains("Destroy complete"), "{}", destroy.out);
    let world = q.world();
    for volume in volumes {
        assert!(
            world.contains(volume),
            "volume {volume} should survive destroy"
        );
    }
    let ps = q.expect(0, &["ps", "-f", file]);
    assert_eq!(
        ps.out.lines().count(),
        1,
        "only the header is left:\n{}",
        ps.out
    );
}

#[test]
fn example_hello_applies_converges_and_destroys() {
    round_trip("hello", &[]);
}

#[test]
fn example_app_applies_converges_and_destroys_keeping_its_volume() {
    round_trip("app", &["app_data"]);
}

#[test]
fn example_cache_applies_converges_and_destroys() {
    round_trip("cache", &[]);
}

#[test]
fn destroy_with_volumes_deletes_them() {
    let q = Quai::new();
    let file = q.example("app");
    let file = file.to_str().unwrap();
    q.expect(0, &["apply", "-f", file, "-y"]);
    assert!(q.world().contains("app_data"));
    q.expect(0, &["destroy", "-f", file, "-y", "--volumes"]);
    assert!(!q.world().contains("app_data"), "{}", q.world());
}

// ---- the layer cache

/// The course's scenario: change package.json and exactly the steps from
/// `COPY package.json` on are rebuilt, the first because its content changed.
#[test]
fn editing_package_json_rebuilds_from_its_copy_on() {
    let q = Quai::new();
    let file = q.example("cache");
    let file_s = file.to_str().unwrap();
    q.expect(0, &["apply", "-f", file_s, "-y"]);
    let package = file.parent().unwrap().join("app/package.json");
    let text = fs::read_to_string(&package).unwrap();
    fs::write(&package, text.replace("^4.19.2", "^4.21.0")).unwrap();

    let plan = q.expect(0, &["plan", "-f", file_s, "--json"]);
    let plan: Value = serde_json::from_str(&plan.out).unwrap();
    let image = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "image.app")
        .expect("image.app in the plan");
    let steps: Vec<(String, String, Value)> = image["build"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["step"]["instruction"].as_str().unwrap().to_string(),
                s["prediction"]["cache"].as_str().unwrap().to_string(),
                s["prediction"]["reason"].clone(),
            )
        })
        .collect();
    let first_miss = steps.iter().position(|s| s.1 == "miss").expect("a miss");
    assert!(
        steps[first_miss].0.starts_with("COPY package.json"),
        "{steps:#?}"
    );
    assert!(
        steps[..first_miss].iter().all(|s| s.1 == "hit"),
        "{steps:#?}"
    );
    assert!(
        steps[first_miss..].iter().all(|s| s.1 == "miss"),
        "{steps:#?}"
    );
    assert_eq!(
        steps[first_miss].2,
        serde_json::json!({"why": "content_changed", "files": ["package.json"]})
    );

    let text = q.expect(2, &["plan", "-f", file_s, "--detailed-exitcode"]);
    assert!(
        text.out.contains("content changed (package.json)"),
        "{}",
        text.out
    );
}

// ---- transcripts

/// What the book shows: the plan, the apply's progress, ps and images, for `app`.
#[test]
fn transcript_of_the_app_example() {
    let q = Quai::new();
    let file = q.example("app");
    let file_s = file.to_str().unwrap();
    insta::assert_snapshot!("app_plan", q.expect(0, &["plan", "-f", file_s]).out);
    insta::assert_snapshot!(
        "app_apply",
        q.expect(0, &["apply", "-f", file_s, "-y", "--parallelism", "1"])
            .out
    );
    insta::assert_snapshot!("app_ps", q.expect(0, &["ps", "-f", file_s]).out);
    insta::assert_snapshot!("app_images", q.expect(0, &["images"]).out);
    insta::assert_snapshot!(
        "app_destroy",
        q.expect(0, &["destroy", "-f", file_s, "-y", "--parallelism", "1"])
            .out
    );
}

/// What the book shows for the cache: the plan after package.json changed.
#[test]
fn transcript_of_the_cache_example_after_editing_package_json() {
    let q = Quai::new();
    let file = q.example("cache");
    let file_s = file.to_str().unwrap();
    q.expect(0, &["apply", "-f", file_s, "-y"]);
    let package = file.parent().unwrap().join("app/package.json");
    let text = fs::read_to_string(&package).unwrap();
    fs::write(&package, text.replace("^4.19.2", "^4.21.0")).unwrap();
    insta::assert_snapshot!(
        "cache_plan_after_package_json",
        q.expect(0, &["plan", "-f", file_s]).out
    );
    insta::assert_snapshot!(
        "cache_apply_after_package_json",
        q.expect(0, &["apply", "-f", file_s, "-y", "--parallelism", "1"])
            .out
    );
}

/// What the book shows for `hello`: plan, apply, ps, logs.
#[test]
fn transcript_of_the_hello_example() {
    let q = Quai::new();
    let file = q.example("hello");
    let file_s = file.to_str().unwrap();
    insta::assert_snapshot!("hello_plan", q.expect(0, &["plan", "-f", file_s]).out);
    insta::assert_snapshot!(
        "hello_apply",
        q.expect(0, &["apply", "-f", file_s, "-y", "--parallelism", "1"])
            .out
    );
    insta::assert_snapshot!("hello_ps", q.expect(0, &["ps", "-f", file_s]).out);
    insta::assert_snapshot!(
        "hello_logs",
        q.expect(0, &["logs", "--file", file_s, "container.hello"])
            .out
    );
}
