//! kexit from a kernel developer's own test: the Rust API (`kexit_checker::api::Check`) runs a
//! scenario, inline or from the catalogue, and hands back the verdict, the violation and the
//! schedule file to replay.

use kexit_checker::api::Check;
use kexit_checker::engine::EngineKind;
use kexit_checker::outcome::Verdict;

/// A parent that waits for its two children, written inline: every interleaving passes.
const TWO_CHILDREN: &str = r#"
name = "my-two-children"
[[procs]]
pid = 2
lwps = [ { script = [ { op = "wait", pid = -1 }, { op = "wait", pid = -1 },
                      { op = "wait", pid = -1, expect = { errno = "ECHILD" } } ] } ]
[[procs]]
pid = 3
parent = 2
lwps = [ { script = [ { op = "exit", code = 1 } ] } ]
[[procs]]
pid = 4
parent = 2
lwps = [ { script = [ { op = "exit", code = 2 } ] } ]
"#;

#[test]
fn an_inline_scenario_passes_exhaustively_on_the_state_engine() {
    let checked = Check::toml(TWO_CHILDREN).run().expect("a valid scenario");
    assert!(checked.ok(), "{}", checked.summary());
    assert!(checked.exhaustive, "{}", checked.summary());
    assert!(checked.violation.is_none());
}

#[test]
fn a_recreated_bug_is_caught_with_a_schedule_to_replay() {
    let out = std::env::temp_dir().join(format!("kexit-api-{}", std::process::id()));
    let checked = Check::scenario("exit-vs-wait")
        .engine(EngineKind::State)
        .variant("bug:wait-unlocked-sleep")
        .save_schedules_to(&out)
        .run()
        .expect("the scenario and the variant exist");
    assert_eq!(checked.verdict, Verdict::Caught, "{}", checked.summary());
    let file = checked.schedule_file.clone().expect("saved");
    assert!(file.exists() && checked.summary().contains("kexit replay"));
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn bad_input_is_an_error_not_a_verdict() {
    assert!(Check::scenario("no-such-scenario").run().is_err());
    assert!(Check::scenario("exit-vs-wait")
        .variant("bug:nope")
        .run()
        .is_err());
    let err = Check::toml("name = \"x\"\n[[procs]]\npid = 0\n")
        .run()
        .err()
        .expect("refused");
    assert!(err.contains("pid 0"), "{err}");
}
