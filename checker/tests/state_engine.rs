//! The state engine: exhaustive without a bound on the starters, every final outcome loom
//! reaches, a fingerprint the audit finds no fault in (on the starters and on generated
//! scenarios), shortest counterexamples that replay.

use kexit_checker::engine::state::audit::audit;
use kexit_checker::engine::state::compare::{loom_finals, state_finals};
use kexit_checker::engine::{self, Budget, EngineKind};
use kexit_model::Variant;
use kexit_scenarios::by_name;

fn spec(name: &str) -> kexit_scenarios::Spec {
    by_name(name).expect("catalogue scenario").spec
}

fn state_budget() -> Budget {
    Budget {
        iterations: u64::MAX,
        ..Budget::default()
    }
}

/// The three starters (the stateful reference has 1,009, 12,169 and 62,719 states
/// for them) and two small path scenarios; docs/performance.md has every scenario.
const STARTERS: [&str; 3] = ["exit-vs-wait", "threaded-exit", "orphan-exit"];
const SMALL: [&str; 2] = ["path-cldsigign-reparent", "path-exit1-ealready"];

#[test]
fn the_starters_and_small_scenarios_are_exhaustive_without_a_bound() {
    for name in STARTERS.iter().chain(&SMALL) {
        let r = engine::run(
            &spec(name),
            &Variant::default(),
            EngineKind::State,
            &state_budget(),
            &|_| {},
        );
        assert!(r.error.is_none(), "{name}: {:?}", r.error);
        assert!(
            r.found.is_none(),
            "{name}: {:?}",
            r.found.map(|f| f.outcome.violation)
        );
        assert!(r.exhaustive, "{name}: the search must finish");
        let st = r.state.expect("state counts");
        assert_eq!(st.divergences, 0, "{name}: a replayed path went elsewhere");
        // Work was done: more than one path, each state entered by at least one transition.
        assert!(
            st.executions > 1 && st.states > st.max_depth && st.transitions >= st.states,
            "{name}: {st:?}"
        );
        println!("{name}: {st:?} in {:.2?}", r.elapsed);
    }
}

#[test]
fn a_search_stopped_by_its_state_budget_says_it_is_not_exhaustive() {
    let name = "orphan-exit";
    let budget = Budget {
        max_states: 5_000,
        ..state_budget()
    };
    let r = engine::run(
        &spec(name),
        &Variant::default(),
        EngineKind::State,
        &budget,
        &|_| {},
    );
    assert!(r.error.is_none() && r.found.is_none(), "{name}");
    let st = r.state.expect("state counts");
    assert!(!r.exhaustive, "{name}: {st:?}");
    assert!(st.states >= 5_000, "{name}: stopped early: {st:?}");
}

#[test]
fn the_state_engine_reaches_every_final_outcome_loom_reaches() {
    // Loom at bound 3 on exit-vs-wait and the small ones, 2 on the larger starters (their own
    // bounds take minutes); every final state and verdict it sees must be among the state
    // engine's.
    let bounds = [("threaded-exit", 2), ("orphan-exit", 2)];
    for name in STARTERS.iter().chain(&SMALL) {
        let bound = bounds.iter().find(|b| b.0 == *name).map_or(3, |b| b.1);
        let s = spec(name);
        let from_loom = loom_finals(&s, &Variant::default(), Some(bound)).expect("loom runs");
        let (from_state, r) = state_finals(&s, &Variant::default(), false);
        assert!(r.exhaustive, "{name}: the state search must finish");
        let missing: Vec<_> = from_loom.difference(&from_state).collect();
        assert!(
            missing.is_empty(),
            "{name}: {} of loom's {} final outcomes never reached by the state engine: {missing:?}",
            missing.len(),
            from_loom.len()
        );
        println!(
            "{name}: loom (bound {bound}) {} final outcomes, the state engine {}",
            from_loom.len(),
            from_state.len()
        );
    }
}

#[test]
fn the_reduction_reaches_every_final_outcome_the_unreduced_search_reaches() {
    // Scenarios without a violation (a search stops at its first), small enough unreduced,
    // where the sleep sets put actors asleep and states are explored again for them.
    for name in [
        "exit-vs-wait",
        "path-exit1-ealready",
        "path-cldsigign-reparent",
        "oracle-16-wuntraced-stopped-once",
    ] {
        let s = spec(name);
        let (full, rf) = state_finals(&s, &Variant::default(), true);
        let (reduced, rr) = state_finals(&s, &Variant::default(), false);
        assert!(rf.exhaustive && rr.exhaustive, "{name}");
        assert!(
            rr.stats.states < rf.stats.states,
            "{name}: the reduction must reduce: {} against {}",
            rr.stats.states,
            rf.stats.states
        );
        assert_eq!(
            full, reduced,
            "{name}: final outcomes with and without the reduction"
        );
    }
}

fn assert_audit_clean(s: &kexit_scenarios::Spec, iterations: u64) -> u64 {
    let budget = Budget {
        iterations,
        ..Budget::default()
    };
    let r = audit(s, &Variant::default(), &budget).expect("audit runs");
    assert!(r.disagreement.is_none(), "{}: {:?}", s.name, r.disagreement);
    assert!(r.model_error.is_none(), "{}: {:?}", s.name, r.model_error);
    assert_eq!(r.executions, iterations);
    r.transitions
}

#[test]
fn the_audit_finds_the_fingerprint_complete_on_the_starters() {
    for name in ["exit-vs-wait", "threaded-exit", "orphan-exit"] {
        let checked = assert_audit_clean(&spec(name), 1_000);
        assert!(
            checked > 10_000,
            "{name}: only {checked} transitions compared"
        );
    }
}

#[test]
fn the_audit_leaves_out_only_the_steps_that_raise_a_data_race() {
    // F10's scenario races on td_flags along some paths into a state and not others; the
    // race-raising steps are counted, every other transition is still compared.
    let s = spec("migrate-exit-vs-wait");
    let budget = Budget {
        iterations: 500,
        ..Budget::default()
    };
    let r = audit(&s, &Variant::default(), &budget).expect("audit runs");
    assert!(r.disagreement.is_none(), "{:?}", r.disagreement);
    assert!(r.races_raised > 0, "the scenario raises a data race");
    assert!(
        r.races_raised < r.executions,
        "not every execution raises one: {} of {}",
        r.races_raised,
        r.executions
    );
    assert!(r.transitions > 10 * r.races_raised, "{r:?}");
}

#[test]
fn the_audit_finds_the_fingerprint_complete_on_generated_scenarios() {
    let mut checked = 0;
    for k in 0..24 {
        let s = kexit_checker::cmd::fuzz::generated(0, k);
        checked += assert_audit_clean(&s, 150);
    }
    assert!(checked > 10_000, "only {checked} transitions compared");
}

#[test]
fn a_shortest_counterexample_replays_and_is_no_longer_than_the_depth_first_one() {
    let s = spec("exit-vs-wait");
    let v = Variant::by_name("bug:wait-unlocked-sleep").expect("variant");
    let mut budget = state_budget();
    let dfs = engine::run(&s, &v, EngineKind::State, &budget, &|_| {});
    budget.shortest = true;
    let bfs = engine::run(&s, &v, EngineKind::State, &budget, &|_| {});
    let (d, b) = (
        dfs.found.expect("dfs finds it"),
        bfs.found.expect("bfs finds it"),
    );
    let decisions = bfs
        .state
        .and_then(|st| st.counterexample_decisions)
        .expect("length");
    assert!(b.outcome.schedule.len() <= d.outcome.schedule.len());
    assert!(decisions > 0 && decisions as usize <= b.outcome.schedule.len());
    let again = engine::replay(&s, &v, &b.outcome.schedule);
    assert_eq!(
        again.violation.map(|v| v.to_string()),
        b.outcome.violation.map(|v| v.to_string()),
        "the shortest schedule replays"
    );
    assert_eq!(again.schedule, b.outcome.schedule);
}
