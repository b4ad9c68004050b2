//! Shared cpus (`shared_cpus = true`, model/src/lwkt.rs): the actors of one cpu take turns as
//! LWKT threads do. The state engine's reduction stays sound there (loom's final outcomes are
//! all reached, and the reduced search reaches what the unreduced one does), and one cpu
//! leaves far fewer interleavings than a cpu per actor.

use kexit_checker::engine::state::audit::audit;
use kexit_checker::engine::state::compare::{loom_finals, state_finals};
use kexit_checker::engine::Budget;
use kexit_model::Variant;

/// A catalogue scenario whose actors share their cpus (cpu 0 for all, in most).
fn on_one_shared_cpu(name: &str) -> kexit_scenarios::Spec {
    let mut spec = kexit_scenarios::by_name(name).expect("catalogue").spec;
    spec.shared_cpus = true;
    spec.name = format!("{name}-one-cpu");
    spec
}

#[test]
fn the_reduction_is_sound_on_shared_cpus() {
    for name in [
        "exit-vs-wait",
        "threaded-exit",
        "killlwps-vs-lwp-exit",
        "path-killlwps-pcatch-sleep",
    ] {
        let spec = on_one_shared_cpu(name);
        let seed = Variant::default();
        let from_loom = loom_finals(&spec, &seed, spec.loom_bound).expect("loom runs");
        let (full, rf) = state_finals(&spec, &seed, true);
        let (reduced, rr) = state_finals(&spec, &seed, false);
        assert!(rf.exhaustive && rr.exhaustive, "{name}");
        let missing: Vec<_> = from_loom.difference(&reduced).collect();
        assert!(
            missing.is_empty(),
            "{name}: loom's outcomes {missing:?} not reached"
        );
        assert_eq!(
            full, reduced,
            "{name}: outcomes with and without the reduction"
        );
        println!(
            "{name} on one shared cpu: {} states ({} unreduced), {} final outcomes, loom {}",
            rr.stats.states,
            rf.stats.states,
            reduced.len(),
            from_loom.len()
        );
    }
}

#[test]
fn one_shared_cpu_leaves_fewer_interleavings_and_a_complete_fingerprint() {
    let seed = Variant::default();
    for name in ["exit-vs-wait", "threaded-exit"] {
        let spec = on_one_shared_cpu(name);
        let own = kexit_scenarios::by_name(name).expect("catalogue").spec;
        let (shared_finals, shared) = state_finals(&spec, &seed, false);
        let (own_finals, alone) = state_finals(&own, &seed, false);
        assert!(shared.exhaustive && alone.exhaustive, "{name}");
        assert!(
            shared.stats.states < alone.stats.states,
            "{name}: {} states sharing a cpu against {} with a cpu each",
            shared.stats.states,
            alone.stats.states
        );
        // Turn-taking only removes interleavings: every outcome it reaches is one of them.
        let extra: Vec<_> = shared_finals.difference(&own_finals).collect();
        assert!(
            extra.is_empty(),
            "{name}: outcomes only on a shared cpu: {extra:?}"
        );
        let budget = Budget {
            iterations: 300,
            ..Budget::default()
        };
        let r = audit(&spec, &seed, &budget).expect("audit runs");
        assert!(r.disagreement.is_none(), "{name}: {:?}", r.disagreement);
        assert!(r.model_error.is_none(), "{name}: {:?}", r.model_error);
    }
}

/// Violations found on shared cpus, by the state engine and by PCT, replay step for step
/// (the replay engine takes a turn for every acquisition: a thread's last switch-out on a
/// shared cpu must be exactly one).
#[test]
fn violations_on_shared_cpus_replay_exactly() {
    use kexit_checker::engine::{self, EngineKind};
    let seed = Variant::default();
    // F10 on two shared cpus, F5 (a deadlock) and an extexit deadlock on one.
    for name in [
        "migrate-exit-vs-wait",
        "vfork-child-attached",
        "path-extexit-lwp-both",
    ] {
        let spec = on_one_shared_cpu(name);
        for kind in [EngineKind::State, EngineKind::Pct] {
            let budget = Budget {
                iterations: 10_000,
                ..Budget::default()
            };
            let r = engine::run(&spec, &seed, kind, &budget, &|_| {});
            let found = r
                .found
                .unwrap_or_else(|| panic!("{name}: {kind:?} finds the violation"));
            let again = engine::replay(&spec, &seed, &found.outcome.schedule);
            assert_eq!(
                again.violation.map(|v| v.to_string()),
                found.outcome.violation.map(|v| v.to_string()),
                "{name}: {kind:?}'s schedule replays to its violation"
            );
            assert_eq!(again.schedule, found.outcome.schedule, "{name}: {kind:?}");
        }
    }
}
