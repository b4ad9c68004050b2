//! Sleep sets (Godefroid, 1996) on top of the race-driven backtracking: after the search has
//! explored actor `r`'s step from a state, a sibling branch whose first step does not conflict
//! with it need not take `r`'s step first again. That order reaches the states the earlier
//! branch reached with the two steps swapped, and two steps that touch no object in
//! conflicting modes commute (the footprints declare it; the audit checks the fingerprint they
//! lead to). `r` stays asleep down the branch until a step conflicting with its own is taken.
//!
//! With a state cache, a state is only as explored as its sleep set let it be: the visited set
//! keeps the actors asleep at its exploration, and a path that reaches it with one of them
//! awake explores the state again for that actor (Godefroid, Holzmann and Pirottin, "State
//! space caching revisited", 1992).

use super::foot::{Sig, Sigs};
use kexit_model::engine::ActorId;

/// What the sleep set of a state's child needs from the state's decision.
pub struct Parent<'a> {
    pub enabled: &'a [ActorId],
    pub sigs: &'a [Sig],
    /// Index of the choice the path took to the child.
    pub chosen: usize,
    /// Choices explored there so far (including `chosen`), and the actors asleep there, as
    /// bits over `enabled`.
    pub done: u64,
    pub sleep: u64,
}

/// The sleep set of the state reached by the parent's chosen step, as bits over that state's
/// `enabled`: the parent's asleep and already explored actors whose next step does not
/// conflict with the step taken, still enabled and about to take that same step.
pub fn inherited(parent: Option<Parent<'_>>, enabled: &[ActorId], sigs: &[Sig], t: &Sigs) -> u64 {
    let Some(p) = parent else {
        return 0;
    };
    let taken = t.foot(p.sigs[p.chosen]);
    let carried = (p.sleep | p.done) & !(1 << p.chosen);
    let mut bits = 0;
    for j in (0..p.enabled.len().min(64)).filter(|j| carried >> j & 1 == 1) {
        let (r, sig) = (p.enabled[j], p.sigs[j]);
        if taken.conflicts(t.foot(sig)) {
            continue;
        }
        if let Some(k) = enabled.iter().position(|a| *a == r) {
            if k < 64 && sigs[k] == sig {
                bits |= 1 << k;
            }
        }
    }
    bits
}

/// Bits over `enabled` as bits over actor ids.
pub fn actors(bits: u64, enabled: &[ActorId]) -> u64 {
    enabled
        .iter()
        .enumerate()
        .filter(|(i, a)| *i < 64 && **a < 64 && bits >> i & 1 == 1)
        .fold(0, |m, (_, a)| m | 1 << a)
}

/// Bits over actor ids as bits over `enabled` (actors not enabled drop out).
pub fn bits_of(actors: u64, enabled: &[ActorId]) -> u64 {
    enabled
        .iter()
        .enumerate()
        .filter(|(i, a)| *i < 64 && **a < 64 && actors >> **a & 1 == 1)
        .fold(0, |m, (i, _)| m | 1 << i)
}
