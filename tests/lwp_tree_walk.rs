//! A ps-like scan walks p_lwp_tree as sysctl_out_proc does (LWPHOLD, a copyout that can
//! block and release p_token, LWPRELE, then RB_NEXT from the LWP it has released). When
//! kern_wait takes the LWP off the tree (939) while the copyout blocks, RB_NEXT follows the
//! links RB_REMOVE left in it: for the master LWP, the only one still on the tree at 939, they
//! lead nowhere, and kern_wait cannot free it before the scan lets p_token go.

use kexit_checker::run::{self, Budget, EngineKind};
use kexit_model::trace::What;
use kexit_model::Variant;

/// A schedule of ps-all-vs-reap that ends with the scan's RB_NEXT just after kern_wait took
/// pid 3's LWP off p_lwp_tree (found by loom when that step was first modelled).
const STALE_STEP: &str = "0000000000000111111111111111111111111111111111111111111111111111111100000222222222000000000222";

#[test]
fn rb_next_from_a_removed_lwp_follows_its_stale_links() {
    let s = kexit_scenarios::by_name("ps-all-vs-reap").expect("catalogue scenario");
    let schedule = kexit_checker::schedule::decode(STALE_STEP).unwrap();
    let out = run::replay(&s.spec, &Variant::default(), &schedule);
    // The schedule stops short of the end, so only the final checks may complain.
    assert!(
        out.violation.as_ref().is_none_or(|v| v.actor == "checker"),
        "{:?}",
        out.violation
    );
    let stale = out.trace.iter().any(|e| {
        matches!(&e.what, What::Text(t)
            if t.starts_with("RB_NEXT from pid 3 lwp 1, off p_lwp_tree")
                && t.ends_with("lead to nothing"))
    });
    assert!(
        stale,
        "the replay reaches the scan's step from the removed LWP"
    );
}

#[test]
fn the_stale_step_is_harmless_on_every_interleaving() {
    let s = kexit_scenarios::by_name("ps-all-vs-reap").expect("catalogue scenario");
    let budget = Budget {
        iterations: 200_000,
        ..Budget::default()
    };
    let r = run::run(
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
