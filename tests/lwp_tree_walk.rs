//! A ps-like scan walks p_lwp_tree as sysctl_out_proc does (LWPHOLD, a copyout that can
//! block and release p_token, LWPRELE, then RB_NEXT from the LWP it has released). When
//! kern_wait takes the LWP off the tree (939) while the copyout blocks, RB_NEXT follows the
//! links RB_REMOVE left in it: for the master LWP, the only one still on the tree at 939, they
//! lead nowhere, and kern_wait cannot free it before the scan lets p_token go.

use kexit_checker::engine::shuttle::bytes::{execute_bytes, random_input};
use kexit_checker::engine::{self, Budget, EngineKind};
use kexit_model::trace::{Event, What};
use kexit_model::Variant;

fn steps_from_removed_lwp(trace: &[Event]) -> bool {
    trace.iter().any(|e| {
        matches!(&e.what, What::Text(t)
            if t.starts_with("RB_NEXT from pid 3 lwp 1, off p_lwp_tree")
                && t.ends_with("lead to nothing"))
    })
}

/// Some execution of ps-all-vs-reap has the scan's RB_NEXT just after kern_wait took pid 3's
/// LWP off p_lwp_tree: pseudo-random byte schedules (seed 1) find one (input 9,601 on
/// 2026-12-03), and its schedule replays to the same step.
#[test]
fn rb_next_from_a_removed_lwp_follows_its_stale_links() {
    let s = kexit_scenarios::by_name("ps-all-vs-reap").expect("catalogue scenario");
    let seed = Variant::default();
    let found = (0..100_000u64).find_map(|n| {
        let (out, _) = execute_bytes(&s.spec, &seed, &random_input(1, n, 150)).expect("runs");
        steps_from_removed_lwp(&out.trace).then_some(out)
    });
    let out = found.expect("some schedule steps from the removed LWP");
    assert!(out.violation.is_none(), "{:?}", out.violation);
    let again = engine::replay(&s.spec, &seed, &out.schedule);
    assert!(
        steps_from_removed_lwp(&again.trace),
        "the replay reaches the scan's step from the removed LWP"
    );
    assert!(again.violation.is_none(), "{:?}", again.violation);
}

#[test]
fn the_stale_step_is_harmless_on_every_interleaving() {
    let s = kexit_scenarios::by_name("ps-all-vs-reap").expect("catalogue scenario");
    let budget = Budget {
        iterations: 200_000,
        ..Budget::default()
    };
    let r = engine::run(
        &s.spec,
        &Variant::default(),
        EngineKind::State,
        &budget,
        &|_| {},
    );
    assert!(
        r.found.is_none(),
        "{:?}",
        r.found.map(|f| f.outcome.violation)
    );
    assert!(r.exhaustive, "the state engine explores every interleaving");
}
