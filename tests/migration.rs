//! A thread's migration to another cpu and lwkt_switch_return in the 2014 order
//! (model/src/lwkt.rs): finding F10 on every engine with its schedule and the upstream fix,
//! and a migrated LWP's exit going to its new cpu's dead list.

#[path = "support/regression.rs"]
mod regression;

use kexit_checker::api::Check;
use kexit_checker::engine::{Budget, EngineKind};
use kexit_model::trace::ViolationKind;
use kexit_model::Variant;
use kexit_scenarios::select::expected;
use regression::*;

/// F10: the old cpu's switch-return tests TDF_EXITING after the migrated thread runs on its
/// new cpu: a use after free when the parent has reaped it by then, a race with the write of
/// TDF_EXITING otherwise. Every engine meets one of the two; the fix passes everywhere.
#[test]
fn finding_f10_a_migrations_switch_return_reads_a_thread_that_runs_elsewhere() {
    let s = scenario("migrate-exit-vs-wait");
    let seed = Variant::default();
    let kinds = vec![ViolationKind::UseAfterFree, ViolationKind::DataRace];
    assert_eq!(expected(&s, &seed), kinds);
    assert_caught(&s, &seed, EngineKind::Loom, loom_budget(&s), kinds[0]);
    assert_caught(&s, &seed, EngineKind::Pct, shuttle_budget(10_000), kinds[1]);
    let state = Budget {
        max_states: 100_000,
        ..Budget::default()
    };
    assert_caught(&s, &seed, EngineKind::State, state, kinds[0]);

    // The shortest: the old cpu reads TDF_EXITING (with TDF_RUNNING) of the thread whose
    // exit is under way on cpu 1. The state engine's first: it reads the freed thread.
    let v = replay_finding(&s, "F10-switch-return-reads-exiting.schedule");
    assert_eq!(
        (v.kind, v.func),
        (ViolationKind::DataRace, "lwkt_switch_return")
    );
    let v = replay_finding(&s, "F10-switch-return-after-free.schedule");
    assert_eq!(
        (v.kind, v.func),
        (ViolationKind::UseAfterFree, "lwkt_switch_return")
    );

    let fix = variant("fix:exiting-snapshot");
    assert!(expected(&s, &fix).is_empty());
    passes_on_loom_and_pct(&s, &fix);
    let r = go(&s, &fix, EngineKind::State, Budget::default());
    assert_passes(&r, "migrate-exit-vs-wait");
    assert!(
        r.exhaustive,
        "the state engine does not finish the fixed scenario"
    );
}

/// Pid 2's second LWP moves from cpu 0 to cpu 1 and sleeps there until exit1's killlwps
/// ends it: lwp_exit queues it on cpu 1's dead list (its td_gd is cpu 1 now), for cpu 1's
/// reaper. `REAPERS` names the cpus that run one.
const MIGRATED_LWP: &str = r#"
name = "migrated-lwp-reaped-on-its-new-cpu"
ncpus = 2
expect_zombies = [2]
reapers = REAPERS
[[procs]]
pid = 2
lwps = [ { cpu = 0, script = [ { op = "exit", code = 3 } ] },
         { cpu = 0, script = [ { op = "migrate", cpu = 1 }, { op = "sleep", pcatch = true } ] } ]
"#;

#[test]
fn a_migrated_lwp_is_reaped_by_its_new_cpus_reaper() {
    let run = |reapers: &str, variant: &str| {
        Check::toml(&MIGRATED_LWP.replace("REAPERS", reapers))
            .variant(variant)
            .engine(EngineKind::State)
            .run()
            .expect("a valid scenario")
    };
    let fixed = run("[0, 1]", "fix:exiting-snapshot");
    assert!(fixed.ok() && fixed.exhaustive, "{}", fixed.summary());
    // Without a reaper on cpu 1 nobody disposes of the migrated LWP, so the hold lwp_exit
    // took on its process (646) stays and exit1 waits in "reap1" (488) forever: cpu 0's
    // reaper did not get it.
    let unreaped = run("[0]", "fix:exiting-snapshot");
    let v = unreaped
        .violation
        .as_ref()
        .expect("an LWP left on cpu 1's dead list");
    assert_eq!(v.kind, ViolationKind::Deadlock, "{v}");
    assert!(v.message.contains("\"reap1\""), "{v}");
    // On the seed the same exit meets F10.
    let seed = run("[0, 1]", "seed");
    let v = seed.violation.as_ref().expect("F10 on the seed");
    assert!(
        matches!(
            v.kind,
            ViolationKind::UseAfterFree | ViolationKind::DataRace
        ),
        "{}",
        seed.summary()
    );
}
