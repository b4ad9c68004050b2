//! The race check (model/src/race.rs) on real scenarios: it reports finding F8 at its cause,
//! flags the list when the lock a fix holds on it is taken away again, sees a variant that
//! drops the atomic handshake ordering two plain accesses, and its list of the seed's
//! deliberate unlocked reads names modeled seed lines.

use kexit_checker::api::{Check, Checked};
use kexit_checker::engine::EngineKind;
use kexit_model::race::DELIBERATE;
use kexit_model::ViolationKind;

fn on_state_engine(scenario: &str, variant: &str) -> Checked {
    Check::scenario(scenario)
        .variant(variant)
        .engine(EngineKind::State)
        .run()
        .expect("a catalogue scenario and variant")
}

fn race(c: &Checked) -> (&'static str, u32, String) {
    let v = c.violation.as_ref().expect("a violation");
    assert_eq!(v.kind, ViolationKind::DataRace, "{}", c.summary());
    (v.func, v.line, v.message.clone())
}

#[test]
fn exit_list_without_its_lock_is_a_race_finding_f8() {
    // fix:exit-list-lock holds proc_token on exit_list in exit1, at_exit and rm_at_exit;
    // the seed, which takes it away, is flagged where the second access happens.
    let fixed = on_state_engine("exit-vs-rm-at-exit", "fix:exit-list-lock");
    assert!(fixed.ok() && fixed.exhaustive, "{}", fixed.summary());
    assert!(fixed.violation.is_none(), "{}", fixed.summary());
    let seed = on_state_engine("exit-vs-rm-at-exit", "seed");
    let (func, line, msg) = race(&seed);
    assert!(
        matches!(
            (func, line),
            ("rm_at_exit", 1220 | 1222) | ("exit1", 333 | 334)
        ),
        "{func}:{line}"
    );
    assert!(msg.contains("exit_list"), "{msg}");
    assert!(
        msg.contains("kern_exit.c:1222"),
        "both accesses are named: {msg}"
    );
    assert!(
        msg.contains("kern_exit.c:333"),
        "both accesses are named: {msg}"
    );
    assert!(
        seed.ok(),
        "the scenario records F8 as a data race: {}",
        seed.summary()
    );
}

#[test]
fn without_the_exit_handshake_td_flags_is_read_unordered() {
    let c = on_state_engine("threaded-exit", "bug:exiting-flag-early");
    let (func, line, msg) = race(&c);
    assert_eq!((func, line), ("lwp_wait", 768), "{msg}");
    assert!(msg.contains("td_flags"), "{msg}");
    assert!(msg.contains("lwp_exit at kern_exit.c:702"), "{msg}");
    // The seed's TDF_MP_EXITSIG atomic orders the same two accesses.
    let seed = on_state_engine("threaded-exit", "seed");
    assert!(
        seed.violation.is_none() && seed.exhaustive,
        "{}",
        seed.summary()
    );
}

#[test]
fn a_list_touched_without_its_token_is_flagged() {
    // bug:init-no-token moves exit1's children onto init's p_children without init's token:
    // the token-protected lists are checked on every access (ASSERT_LWKT_TOKEN_HELD).
    let c = on_state_engine("orphan-exit", "bug:init-no-token");
    let (_, _, msg) = race(&c);
    assert!(msg.contains("p_children"), "{msg}");
}

#[test]
fn every_deliberate_unlocked_read_is_a_modeled_step_with_a_reason() {
    let cited: Vec<u32> = kexit_model::site::CITATIONS
        .iter()
        .map(|(_, _, n, _)| *n)
        .collect();
    for (func, line, why) in DELIBERATE {
        assert!(why.len() > 40, "{func}:{line} says why it is safe");
        if *line != 0 {
            assert!(
                cited.contains(line),
                "{func}:{line} is no modeled seed line"
            );
        }
    }
}
