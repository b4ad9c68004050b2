//! The race-regression suite on the state engine, beside loom's runs (race_regression.rs): the
//! re-created bugs it catches within its budget, each with its declared kind; the seed passes
//! the same scenarios; the findings on the seed reproduce.

use kexit_checker::engine::{self, Budget, EngineKind, RunResult};
use kexit_checker::outcome::{verdict, Verdict};
use kexit_model::Variant;
use kexit_scenarios::by_name;
use kexit_scenarios::select::expected;

/// The state budget of these runs (as `kexit mutants` uses).
const STATES: u64 = kexit_checker::cmd::mutants::MUTANT_STATES;

/// Re-created bugs the state engine does not catch: not observable in the 2014 code on any
/// engine (docs/variants.md).
const BEYOND_BUDGET: [&str; 1] = ["bug:lwp-wait-no-recheck"];

/// Bugs in scenarios of millions of states that the depth-first search would reach only after
/// more than `STATES` of them: the first pass over the schedules with few preemptions
/// (`checker/src/engine/state/bounded.rs`) must find them.
const FOUND_BY_THE_FIRST_PASS: [&str; 2] = ["bug:reparent-single-shot", "bug:reparent-no-wakeup"];

fn state(scenario: &str, variant: &Variant, states: u64) -> (RunResult, Verdict) {
    let s = by_name(scenario).expect("catalogue scenario");
    let budget = Budget {
        iterations: u64::MAX,
        max_states: states,
        ..Budget::default()
    };
    let r = engine::run(&s.spec, variant, EngineKind::State, &budget, &|_| {});
    assert!(r.error.is_none(), "{scenario}: {:?}", r.error);
    let v = verdict(&r, &expected(&s, variant));
    (r, v)
}

#[test]
fn the_state_engine_catches_the_recreated_bugs_and_the_seed_passes_their_scenarios() {
    let mut caught = Vec::new();
    for info in kexit_scenarios::exposure::EXPOSURES
        .iter()
        .filter(|e| e.variant.starts_with("bug:"))
    {
        let v = Variant::by_name(info.variant).expect("variant");
        for name in info.scenarios {
            // The seed shows nothing in its first states but the finding the scenario records.
            let (_, seed) = state(name, &Variant::default(), STATES / 5);
            assert!(seed.ok(), "seed on {name}: {seed:?}");
            let (r, verdict) = state(name, &v, STATES);
            if BEYOND_BUDGET.contains(&info.variant) {
                // No wrong violation on the way.
                assert!(
                    verdict.ok() || r.found.is_none(),
                    "{} on {name}: {verdict:?}",
                    info.variant
                );
                continue;
            }
            assert_eq!(verdict, Verdict::Caught, "{} on {name}", info.variant);
            let first_pass = r.state.as_ref().and_then(|st| st.first_pass_bound);
            if FOUND_BY_THE_FIRST_PASS.contains(&info.variant) {
                assert!(first_pass.is_some(), "{} on {name}", info.variant);
            }
            let f = r.found.expect("caught");
            let again = engine::replay(&by_name(name).unwrap().spec, &v, &f.outcome.schedule);
            assert_eq!(
                again.schedule, f.outcome.schedule,
                "{} replays",
                info.variant
            );
            caught.push(info.variant);
        }
    }
    caught.dedup();
    // Every re-created bug some engine catches (docs/variants.md).
    assert!(caught.len() >= 15, "caught: {caught:?}");
}

#[test]
fn the_findings_on_the_seed_are_found_by_the_state_engine() {
    // F2, F3 (twice), F4, F5, F6.
    for name in [
        "nocldwait-reparent-race",
        "nocldwait-wait-race",
        "two-waiters-reap-race",
        "two-waiters-vs-kill",
        "pgsignal-vs-reap",
        "vfork-child-attached",
        "extexit-lwps-vs-scan",
    ] {
        let (r, v) = state(name, &Variant::default(), STATES);
        assert_eq!(
            v,
            Verdict::Caught,
            "{name}: {:?}",
            r.found.map(|f| f.outcome.violation)
        );
    }
}
