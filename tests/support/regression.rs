//! Helpers of the race-regression suite (tests/race_regression.rs, tests/migration.rs): run a scenario on an
//! engine, and assert that a variant passes or is caught with a schedule that replays.
// Each test file that includes this uses some of the helpers.
#![allow(dead_code)]

use kexit_checker::engine::{self, Budget, EngineKind, RunResult};
use kexit_checker::outcome::{verdict, Verdict};
use kexit_model::trace::ViolationKind;
use kexit_model::Variant;
use kexit_scenarios::select::expected;
use kexit_scenarios::{by_name, Scenario};

pub fn scenario(name: &str) -> Scenario {
    by_name(name).unwrap_or_else(|| panic!("scenario {name} in the catalogue"))
}

pub fn variant(name: &str) -> Variant {
    Variant::by_name(name).unwrap_or_else(|| panic!("variant {name}"))
}

pub fn go(s: &Scenario, v: &Variant, engine: EngineKind, budget: Budget) -> RunResult {
    let r = engine::run(&s.spec, v, engine, &budget, &|_| {});
    assert!(
        r.error.is_none(),
        "{} on {}: {:?}",
        s.spec.name,
        engine.name(),
        r.error
    );
    r
}

pub fn loom_budget(s: &Scenario) -> Budget {
    Budget {
        iterations: u64::MAX,
        preemption_bound: s.spec.loom_bound,
        ..Budget::default()
    }
}

pub fn shuttle_budget(iterations: u64) -> Budget {
    Budget {
        iterations,
        jobs: 2,
        ..Budget::default()
    }
}

pub fn assert_passes(r: &RunResult, name: &str) {
    if let Some(f) = &r.found {
        panic!(
            "{name} on {}: {}",
            r.engine.name(),
            f.outcome.violation.as_ref().unwrap()
        );
    }
}

/// The variant passes the scenario: loom exhaustively at the scenario's bound, and 10,000
/// PCT executions.
pub fn passes_on_loom_and_pct(s: &Scenario, v: &Variant) {
    let name = s.spec.name.as_str();
    let r = go(s, v, EngineKind::Loom, loom_budget(s));
    assert_passes(&r, name);
    assert!(r.exhaustive, "{name}: loom not exhaustive");
    assert_passes(&go(s, v, EngineKind::Pct, shuttle_budget(10_000)), name);
}

/// A variant caught on an engine: the right kind, the expected verdict, and a schedule that
/// replays to the same violation.
pub fn assert_caught(
    s: &Scenario,
    v: &Variant,
    engine: EngineKind,
    budget: Budget,
    kind: ViolationKind,
) -> u64 {
    let r = go(s, v, engine, budget);
    let f = r.found.as_ref().unwrap_or_else(|| {
        panic!(
            "{} not caught on {} in {} executions",
            v.name(),
            engine.name(),
            r.executions
        )
    });
    let viol = f.outcome.violation.as_ref().unwrap();
    assert_eq!(viol.kind, kind, "{viol}");
    assert_eq!(verdict(&r, &expected(s, v)), Verdict::Caught);
    let again = engine::replay(&s.spec, v, &f.outcome.schedule);
    let rv = again
        .violation
        .as_ref()
        .expect("replay reproduces a violation");
    assert_eq!(
        (rv.kind, &rv.message, rv.line),
        (viol.kind, &viol.message, viol.line)
    );
    assert_eq!(
        again.schedule, f.outcome.schedule,
        "replay follows the recorded schedule exactly"
    );
    r.executions
}

/// The variant is caught on loom (within the scenario's bound) and on PCT (from `pct_seed`,
/// 10,000 executions at most), each with the declared kind; the seed passes the scenario on
/// loom at the same bound.
pub fn caught_on_loom_and_pct(scenario_name: &str, variant_name: &str, pct_seed: u64) {
    let budget = Budget {
        seed: pct_seed,
        ..shuttle_budget(10_000)
    };
    caught_on_loom_and_pct_within(scenario_name, variant_name, budget);
}

/// `caught_on_loom_and_pct` with PCT's budget given (a rare interleaving needs more).
pub fn caught_on_loom_and_pct_within(scenario_name: &str, variant_name: &str, budget: Budget) {
    let s = scenario(scenario_name);
    let v = variant(variant_name);
    let declared = kexit_scenarios::exposure::exposure(variant_name).map_or("", |e| e.expect);
    let kind = ViolationKind::from_slug(declared).expect("declared kind");
    let loom = assert_caught(&s, &v, EngineKind::Loom, loom_budget(&s), kind);
    let pct = assert_caught(&s, &v, EngineKind::Pct, budget, kind);
    let seed = go(&s, &Variant::default(), EngineKind::Loom, loom_budget(&s));
    assert!(verdict(&seed, &expected(&s, &Variant::default())).ok());
    println!("{variant_name} on {scenario_name}: loom after {loom} executions, pct after {pct}");
}

/// The violation a schedule file of docs/findings replays to on the seed.
pub fn replay_finding(s: &kexit_scenarios::Scenario, schedule: &str) -> kexit_model::Violation {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/findings")
        .join(schedule);
    let f = kexit_checker::schedule::ScheduleFile::load(&file).expect("schedule in docs");
    let steps = kexit_checker::schedule::decode(&f.schedule).expect("schedule");
    kexit_checker::engine::replay(&s.spec, &Variant::default(), &steps)
        .violation
        .expect("the schedule replays to its violation")
}
