//! The audit can fail: with every actor's local state left out of the fingerprint (a
//! deliberately broken fingerprint), two states that differ only in where an actor is in
//! its code get one fingerprint, and the audit sees one (state, actor) lead to two states.
//! A test binary of its own: the switch is process-wide.

use kexit_checker::engine::state::audit::audit;
use kexit_checker::engine::Budget;
use kexit_model::fingerprint::OMIT_LOCAL_STATE;
use kexit_model::Variant;
use std::sync::atomic::Ordering::SeqCst;

#[test]
fn a_fingerprint_without_local_state_fails_the_audit() {
    let s = kexit_scenarios::by_name("exit-vs-wait")
        .expect("scenario")
        .spec;
    let budget = Budget {
        iterations: 200,
        ..Budget::default()
    };
    let clean = audit(&s, &Variant::default(), &budget).expect("audit runs");
    assert!(clean.disagreement.is_none(), "{:?}", clean.disagreement);
    OMIT_LOCAL_STATE.store(true, SeqCst);
    let broken = audit(&s, &Variant::default(), &budget).expect("audit runs");
    OMIT_LOCAL_STATE.store(false, SeqCst);
    let d = broken
        .disagreement
        .expect("the audit must see the missing state");
    assert_ne!(d.first.next, d.second.next);
}
