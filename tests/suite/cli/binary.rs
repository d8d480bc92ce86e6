//! The real `quai` binary: prompts, exit codes, help, the linux backend, completions.

use super::Quai;

// ---- the binary

#[test]
fn the_binary_asks_before_applying_and_only_yes_goes_on() {
    let q = Quai::new();
    let file = q.example("hello");
    let file_s = file.to_str().unwrap();

    let refused = q.spawn(&["apply", "-f", file_s], Some("no\n"));
    assert_eq!(refused.code, 1, "{refused:#?}");
    assert!(
        refused
            .out
            .contains("Apply these changes? Only 'yes' is accepted:"),
        "{}",
        refused.out
    );
    let closed = q.spawn(&["apply", "-f", file_s], None);
    assert_eq!(closed.code, 1, "{closed:#?}");
    assert!(closed.err.contains("-y"), "{}", closed.err);
    assert_eq!(
        q.spawn(&["plan", "-f", file_s, "--detailed-exitcode"], None)
            .code,
        2,
        "nothing was applied"
    );

    let accepted = q.spawn(&["apply", "-f", file_s], Some("yes\n"));
    assert_eq!(accepted.code, 0, "{accepted:#?}");
    assert!(
        accepted.out.contains("container.hello: creating…"),
        "{}",
        accepted.out
    );
    assert_eq!(
        q.spawn(&["plan", "-f", file_s, "--detailed-exitcode"], None)
            .code,
        0
    );
}

#[test]
fn the_binary_documents_its_exit_codes_and_refuses_bad_usage_with_1() {
    let q = Quai::new();
    let help = q.spawn(&["--help"], None);
    assert_eq!(help.code, 0);
    assert!(help.out.contains("Exit codes:"), "{}", help.out);
    assert!(help.out.contains("stale plan"), "{}", help.out);
    let bad = q.spawn(&["plan", "--no-such-flag"], None);
    assert_eq!(bad.code, 1, "usage errors must not look like `changes` (2)");
}

#[test]
fn the_linux_backend_points_to_the_sim_backend_when_unavailable() {
    let q = Quai::new();
    let file = q.example("hello");
    let run = q.run(&["--backend", "linux", "plan", "-f", file.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(run.err.contains("--backend sim"), "{}", run.err);
}

#[test]
fn completions_are_printed_for_a_shell() {
    let q = Quai::new();
    let run = q.expect(0, &["completions", "bash"]);
    assert!(run.out.contains("_quai()"), "{}", run.out);
}
