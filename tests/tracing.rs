//! What tracing does to signals, stops and exec (kern_sig.c lwpsignal and issignal,
//! kern_exec.c, sys_process.c), and finding F13, which lies in it.

#[path = "support/regression.rs"]
mod regression;

use kexit_checker::engine::{Budget, EngineKind};
use kexit_model::ViolationKind;
use regression::*;

/// Every interleaving, as far as the state engine's default state budget.
fn state_budget() -> Budget {
    Budget {
        iterations: u64::MAX,
        ..Budget::default()
    }
}

/// Runs `toml` exhaustively on the state engine and returns the violation's kind, if any.
fn state_verdict(toml: &str) -> Option<ViolationKind> {
    let s = kexit_scenarios::parse("inline.toml", toml).unwrap();
    let r = go(&s, &variant("seed"), EngineKind::State, state_budget());
    match r.found {
        Some(f) => Some(f.outcome.violation.unwrap().kind),
        None => {
            assert!(r.exhaustive, "not exhaustive");
            None
        }
    }
}

/// A traced child stops for its tracer at SIGTERM, and exec stops a traced child with
/// SIGTRAP: the catalogue's scenarios pass every interleaving on loom, and their expectations
/// (stopped(15), stopped(5)) fail when a traced child acts on the signal as an untraced one.
#[test]
fn a_traced_child_stops_for_its_tracer_at_a_signal_and_at_exec() {
    for name in ["traced-signal-stops", "exec-traced-sigtrap"] {
        let s = scenario(name);
        passes_on_loom_and_pct(&s, &variant("seed"));
    }
    let untraced = scenario("traced-signal-stops")
        .text
        .replace("traced = true", "traced = false");
    assert_eq!(
        state_verdict(&untraced),
        Some(ViolationKind::UnexpectedResult)
    );
}

/// A stopped process does not run: a child declared stopped, whose script exits, is reported
/// stopped (WUNTRACED) and exits only once continued; without the continue its parent's
/// wait for the exit would block, which the model reports.
#[test]
fn a_stopped_process_runs_only_once_continued() {
    let toml = |cont: bool| {
        format!(
            r#"
name = "stopped-child-halts"
description = "d"
[[procs]]
pid = 2
parent = 1
lwps = [ {{ script = [ {{ op = "wait", pid = 3, options = ["WUNTRACED"], expect = {{ pid = 3, status = "stopped(17)" }} }},
                      {{ op = "{}", pid = 3 }},
                      {{ op = "wait", pid = 3, expect = {{ pid = 3, status = "exited(3)" }} }} ] }} ]
[[procs]]
pid = 3
parent = 2
stopped = true
lwps = [ {{ script = [ {{ op = "exit", code = 3 }} ] }} ]
"#,
            if cont { "cont" } else { "scan" }
        )
    };
    assert_eq!(state_verdict(&toml(true)), None);
    assert_eq!(state_verdict(&toml(false)), Some(ViolationKind::Deadlock));
}

/// F13 on the seed, on loom and PCT and through its saved schedule; its fix passes.
#[test]
fn finding_f13_a_stopped_traced_child_in_exit1_outlives_its_tracer() {
    let s = scenario("stopped-exit-tracer-exits");
    let kind = ViolationKind::Deadlock;
    let seed = variant("seed");
    assert_caught(&s, &seed, EngineKind::Loom, loom_budget(&s), kind);
    assert_caught(&s, &seed, EngineKind::Pct, shuttle_budget(10_000), kind);
    let v = replay_finding(&s, "F13-untraced-child-stays-stopped.schedule");
    assert_eq!(v.kind, kind);
    assert!(v.message.contains("killlwps"), "{v}");
    let fix = variant("fix:untrace-unstops");
    let r = go(&s, &fix, EngineKind::State, state_budget());
    assert!(
        r.found.is_none() && r.exhaustive,
        "fix:untrace-unstops on the state engine"
    );
    assert_passes(
        &go(&s, &fix, EngineKind::Pct, shuttle_budget(10_000)),
        "fix:untrace-unstops on PCT",
    );
}

/// A vfork parent declared stopped is in the kernel, in vfork's wait for its child: it does
/// not start halted (its hold on the child would then never go, and the child's exit would
/// wait in "reap1" for ever; `kexit fuzz --seed 1`, scenario 1822, found that). It finishes
/// the wait and halts on its way out; the child is left a zombie.
#[test]
fn a_stopped_vfork_parent_finishes_its_vfork_wait() {
    let toml = r#"
name = "stopped-vfork-parent"
description = "d"
expect_zombies = [3]
[[procs]]
pid = 2
parent = 1
stopped = true
lwps = [ { script = [ { op = "vfork_wait", pid = 3 } ] } ]
[[procs]]
pid = 3
parent = 2
ppwait = true
lwps = [ { script = [ { op = "exit", code = 0 } ] } ]
"#;
    assert_eq!(state_verdict(toml), None);
}

/// kern_ptrace's refusals (EBUSY before the tracer has waited for the stop, EPERM for an
/// untraced process, EINVAL for itself and for an ancestor of a traced caller), PT_CONTINUE's
/// signal taking the place of the one the process stopped for, PT_KILL, and the signal
/// PT_CONTINUE drops after PT_ATTACH's direct stop: the catalogue's scenarios pass every
/// interleaving, and each expectation fails when the behaviour it names is changed.
#[test]
fn ptrace_requests_check_permissions_and_hand_on_their_signal() {
    for name in [
        "ptrace-refusals",
        "ptrace-attach-ancestor",
        "ptrace-continue-kill",
        "ptrace-attach-continue",
    ] {
        assert_eq!(state_verdict(&scenario(name).text), None, "{name}");
    }
    let controls = [
        // After the wait, PT_KILL is allowed: the EBUSY expectation fails.
        (
            "ptrace-refusals",
            r#"{ op = "ptrace_kill", pid = 3, expect_errno = "EBUSY" },
                      { op = "ptrace_continue", pid = 1, expect_errno = "EPERM" },
                      { op = "attach", pid = 2, expect_errno = "EINVAL" },
                      { op = "wait", pid = 3, expect = { pid = 3, status = "stopped(17)" } },"#,
            r#"{ op = "ptrace_continue", pid = 1, expect_errno = "EPERM" },
                      { op = "attach", pid = 2, expect_errno = "EINVAL" },
                      { op = "wait", pid = 3, expect = { pid = 3, status = "stopped(17)" } },
                      { op = "ptrace_kill", pid = 3, expect_errno = "EBUSY" },"#,
        ),
        // An untraced caller may attach to its parent: the EINVAL expectation fails.
        (
            "ptrace-attach-ancestor",
            "parent = 2\ntraced = true",
            "parent = 2",
        ),
        // PT_CONTINUE's SIGINT replaces the SIGTERM the child stopped for.
        (
            "ptrace-continue-kill",
            r#"status = "signaled(2)" } },"#,
            r#"status = "signaled(15)" } },"#,
        ),
        // After PT_ATTACH's stop, PT_CONTINUE's SIGTERM is dropped, not taken.
        (
            "ptrace-attach-continue",
            r#"{ pid = 3, status = "stopped(9)" }"#,
            r#"{ pid = 3, status = "signaled(15)" }"#,
        ),
    ];
    for (name, from, to) in controls {
        let text = scenario(name).text;
        assert!(text.contains(from), "{name}: {from}");
        assert_eq!(
            state_verdict(&text.replacen(from, to, 1)),
            Some(ViolationKind::UnexpectedResult),
            "{name} with {to}"
        );
    }
}
