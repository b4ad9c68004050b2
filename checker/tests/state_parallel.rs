//! Several workers sharing one state search (`--jobs N` on one scenario): each worker's search
//! is complete by itself, so the shared search must reach every final outcome one worker
//! reaches, end exhaustively, and report the counterexample one worker reports.

use kexit_checker::engine::state::compare::{shared_search_finals, state_finals};
use kexit_checker::engine::state::{parallel, Options};
use kexit_checker::engine::{self, Budget, EngineKind};
use kexit_model::Variant;
use kexit_scenarios::by_name;
use std::sync::Arc;

fn spec(name: &str) -> kexit_scenarios::Spec {
    by_name(name).expect("catalogue scenario").spec
}

#[test]
fn two_workers_reach_every_final_outcome_one_worker_reaches() {
    for name in ["threaded-exit", "path-two-waiter-lwps", "ps-scan-vs-exit"] {
        let s = spec(name);
        let (one, r1) = state_finals(&s, &Variant::default(), false);
        let (two, r2) = shared_search_finals(&s, &Variant::default(), 2);
        assert!(
            r1.exhaustive && r2.exhaustive,
            "{name}: both searches finish"
        );
        assert_eq!(r2.stats.workers, 2, "{name}: two workers ran");
        assert_eq!(
            r2.stats.divergences, 0,
            "{name}: a replayed path went elsewhere"
        );
        assert!(!one.is_empty(), "{name}: the search reached final states");
        assert_eq!(
            one, two,
            "{name}: the shared search must reach the final outcomes of one worker's"
        );
        println!(
            "{name}: one worker {} states, {} executions; two workers {} states, {} executions",
            r1.stats.states, r1.stats.executions, r2.stats.states, r2.stats.executions
        );
    }
}

/// Past the first pass (which runs on one worker and finds this one at once): the workers'
/// depth-first search itself finds the violation, and reports one worker's counterexample.
#[test]
fn a_violation_the_workers_find_is_reported_as_one_worker_finds_it() {
    let s = spec("exit-vs-wait");
    let variant = Variant::by_name("bug:wait-unlocked-sleep").expect("variant");
    let budget = Budget {
        iterations: u64::MAX,
        ..Budget::default()
    };
    let found = |workers: usize| {
        let r = parallel::explore(
            &s,
            &variant,
            &budget,
            &Options::default(),
            &Arc::default(),
            workers,
        );
        let f = r.found.expect("the variant is caught");
        (f.schedule, format!("{:?}", f.violation))
    };
    let one = found(1);
    for _ in 0..3 {
        assert_eq!(
            found(2),
            one,
            "the counterexample does not depend on the workers"
        );
    }
}

#[test]
fn a_violation_is_reported_as_one_worker_reports_it() {
    let s = spec("threaded-exit");
    let variant = Variant::by_name("bug:exiting-flag-early").expect("variant");
    let found = |workers: usize| {
        let budget = Budget {
            iterations: u64::MAX,
            state_workers: workers,
            ..Budget::default()
        };
        let r = engine::run(&s, &variant, EngineKind::State, &budget, &|_| {});
        let f = r.found.expect("the variant is caught");
        (f.outcome.schedule, format!("{:?}", f.outcome.violation))
    };
    let one = found(1);
    for _ in 0..3 {
        assert_eq!(
            found(2),
            one,
            "the counterexample does not depend on --jobs"
        );
    }
}
