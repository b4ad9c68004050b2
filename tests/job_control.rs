//! Job control at exit (kern_exit.c:439, kern_proc.c fixjobc and orphanpg): the final
//! recount of pg_jobc catches a miscount nobody named, sessions are validated, and an
//! orphaned group with a stopped member is hung up.

#[path = "support/regression.rs"]
mod regression;

use kexit_checker::api::Check;
use kexit_checker::engine::EngineKind;
use kexit_model::trace::ViolationKind;

/// Group 10 = {pid 3, pid 5}, each qualified by its parent (pid 2, pid 4) in session 2. Pid 3
/// and pid 2 exit at once; pid 5 is stopped and ignores SIGHUP, so a wrong orphanpg only
/// continues it and nothing but the count itself shows the damage.
const COUNTED_TWICE: &str = r#"
name = "jobc-recount"
[[procs]]
pid = 2
lwps = [ { script = [ { op = "exit", code = 0 } ] } ]
[[procs]]
pid = 3
parent = 2
pgid = 10
session = 2
lwps = [ { script = [ { op = "exit", code = 1 } ] } ]
[[procs]]
pid = 4
session = 2
lwps = [ { script = [] } ]
[[procs]]
pid = 5
parent = 4
pgid = 10
session = 2
stopped = true
ignore = ["HUP"]
lwps = [ { script = [] } ]
"#;

#[test]
fn the_recount_of_pg_jobc_catches_a_count_taken_twice_and_the_fix_passes() {
    let seed = Check::toml(COUNTED_TWICE).run().expect("a valid scenario");
    let v = seed.violation.as_ref().expect("a violation on the seed");
    assert_eq!(v.kind, ViolationKind::JobControl, "{}", seed.summary());
    assert!(v.message.contains("pgrp 10's pg_jobc is 0, but 1"), "{v}");
    let fixed = Check::toml(COUNTED_TWICE)
        .variant("fix:fixjobc-once")
        .run()
        .expect("a valid scenario");
    assert!(fixed.ok() && fixed.exhaustive, "{}", fixed.summary());
}

#[test]
fn groups_alone_in_their_sessions_never_count_and_pass() {
    // The same processes without sessions: every group is alone in its own, so no parent
    // qualifies any and both exits leave pg_jobc at 0.
    let toml = COUNTED_TWICE.replace("session = 2\n", "");
    let checked = Check::toml(&toml).run().expect("a valid scenario");
    assert!(checked.ok() && checked.exhaustive, "{}", checked.summary());
}

#[test]
fn a_group_in_two_sessions_and_a_terminal_outside_its_session_are_rejected() {
    let split = COUNTED_TWICE.replacen("session = 2\n", "session = 4\n", 1);
    let err = Check::toml(&split).run().err().expect("rejected");
    assert!(err.contains("a group is in one session"), "{err}");
    let tty = r#"
name = "tty-outside"
[[procs]]
pid = 2
tty_pgrp = 3
lwps = [ { script = [ { op = "exit", code = 0 } ] } ]
[[procs]]
pid = 3
parent = 2
lwps = [ { script = [ { op = "exit", code = 0 } ] } ]
"#;
    let err = Check::toml(tty).run().err().expect("rejected");
    assert!(err.contains("foreground group"), "{err}");
    let init = COUNTED_TWICE.replace("session = 2\n", "session = 1\n");
    let err = Check::toml(&init).run().err().expect("rejected");
    assert!(err.contains("init's group and session"), "{err}");
}

#[test]
fn an_orphaned_group_with_a_stopped_member_is_hung_up() {
    let toml = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios/catalog/orphaned-group-hangup.toml"),
    )
    .expect("catalogue file");
    let checked = Check::toml(&toml)
        .engine(kexit_checker::engine::EngineKind::Loom)
        .run()
        .expect("a valid scenario");
    assert!(checked.ok() && checked.exhaustive, "{}", checked.summary());
    // Without the session, the parent does not qualify the group: no hangup, and the child
    // sleeps on stopped, which the scenario's expectation (signaled(1)) rejects.
    let alone = toml.replace("session = 2\n", "");
    let checked = Check::toml(&alone)
        .engine(kexit_checker::engine::EngineKind::Loom)
        .run()
        .expect("a valid scenario");
    assert!(!checked.ok(), "{}", checked.summary());
}

/// F11: exit1's fixjobc walk blocks for a child's token while PT_ATTACH moves the child to its
/// tracer, then steps along the tracer's p_children without the tracer's token. PCT finds it
/// and its schedule replays; F9's marking alone does not remove it, the restart does.
#[test]
fn finding_f11_fixjobc_walks_onto_the_tracers_list_and_the_restart_fixes_it() {
    let run = |variant: &str| {
        Check::scenario("fixjobc-vs-attach")
            .variant(variant)
            .engine(EngineKind::Pct)
            .iterations(10_000)
            .run()
            .expect("a catalogue scenario")
    };
    for variant in ["seed", "fix:fixjobc-once"] {
        let r = run(variant);
        let v = r.violation.as_ref().expect("the walk's race");
        assert_eq!(v.kind, ViolationKind::DataRace, "{}", r.summary());
        assert!(v.message.contains("p_token(pid 5)"), "{v}");
    }
    let fixed = run("fix:fixjobc-restart");
    assert!(
        fixed.ok() && fixed.executions == 10_000,
        "{}",
        fixed.summary()
    );

    let s = regression::scenario("fixjobc-vs-attach");
    let v = regression::replay_finding(&s, "F11-fixjobc-walks-tracer-list.schedule");
    assert_eq!(v.kind, ViolationKind::DataRace, "{v}");
}

/// F11 with another mover, found by the fuzzer: a child of a P_NOCLDWAIT process reparents
/// itself to init in its own exit1 (549-550) while its exiting parent's fixjobc waits for its
/// token; the walk then steps along init's p_children. Loom at the scenario's bound and PCT
/// catch it, its schedule replays, and the restart fixes it (loom exhaustive at that bound).
#[test]
fn finding_f11_also_when_a_nocldwait_child_moves_itself_to_init() {
    let run = |variant: &str, engine: EngineKind| {
        Check::scenario("fixjobc-vs-nocldwait-exit")
            .variant(variant)
            .engine(engine)
            .iterations(10_000)
            .run()
            .expect("a catalogue scenario")
    };
    for engine in [EngineKind::Loom, EngineKind::Pct] {
        let r = run("seed", engine);
        let v = r.violation.as_ref().expect("the walk's race");
        assert_eq!(v.kind, ViolationKind::DataRace, "{}", r.summary());
        assert!(v.message.contains("p_token(pid 1)"), "{v}");
        let fixed = run("fix:fixjobc-restart", engine);
        assert!(fixed.ok(), "{:?}: {}", engine, fixed.summary());
    }
    let s = regression::scenario("fixjobc-vs-nocldwait-exit");
    let v = regression::replay_finding(&s, "F11-fixjobc-walks-init-list.schedule");
    assert_eq!(v.kind, ViolationKind::DataRace, "{v}");
}
