//! The state engine's first pass: the schedules with at most one preemption, before the
//! unbounded search. Depth-first search explores the schedules that switch actors late on
//! the path first, and a violation that needs a switch early (a tracer that must run while
//! the parent is in the middle of exit1) can lie behind millions of states it explores before
//! it. Loom finds such violations first because it raises its preemption bound step by step;
//! this pass does the same with the state engine's own scheduler and fingerprints, cheaply:
//! without reduction, with a visited set that remembers the fewest preemptions each state was
//! explored with (a state reached again with as many or more has nothing new below it within
//! the bound). Any violation it finds is a real one, with an ordinary schedule; when it finds
//! none, the unbounded search runs as if the pass had not been there, and only that search
//! decides whether a scenario is explored exhaustively.
//!
//! A preemption is a decision that takes another actor while the one that took the previous
//! step could go on.

use super::engine::{Choice, Chooser, Decision};
use super::limits::Limits;
use super::por::FxMap;
use crate::engine::Budget;
use kexit_model::engine::ActorId;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

/// The preemption bound of the first pass. A second pass at bound 2 would cost more than the
/// unbounded search itself on threaded-exit (5.1 against 4.35 billion instructions); the pass
/// at bound 1 costs about a tenth of it (0.46 billion).
pub const BOUND: u32 = 1;

/// The most states the first pass explores (it is a quick look, not a proof).
pub const MAX_STATES: u64 = 100_000;

struct Frame {
    enabled: Vec<ActorId>,
    chosen: usize,
    /// Choices left to try, as bits over `enabled`.
    pending: u64,
    /// Preemptions on the path before this decision, and the actor of the step before it.
    preemptions: u32,
    prev: Option<ActorId>,
}

impl Frame {
    /// Preemptions on the path after taking choice `i` here.
    fn after(&self, i: usize) -> u32 {
        let a = self.enabled[i];
        let preempts = self
            .prev
            .is_some_and(|p| p != a && self.enabled.contains(&p));
        self.preemptions + preempts as u32
    }
}

/// Depth-first search over the schedules with at most `bound` preemptions.
pub struct Bounded {
    bound: u32,
    /// The fewest preemptions each state was explored with.
    visited: FxMap<u128, u32>,
    stack: Vec<Frame>,
    depth: usize,
    started: bool,
    pub limits: Limits,
}

impl Bounded {
    pub fn new(bound: u32, budget: &Budget, shown: Arc<AtomicU64>) -> Self {
        let budget = Budget {
            max_states: budget.max_states.min(MAX_STATES),
            ..budget.clone()
        };
        Bounded {
            bound,
            visited: FxMap::default(),
            stack: Vec::new(),
            depth: 0,
            started: false,
            limits: Limits::new(&budget, shown),
        }
    }

    fn backtrack(&mut self) -> bool {
        while let Some(f) = self.stack.last_mut() {
            if f.pending != 0 {
                let i = f.pending.trailing_zeros() as usize;
                f.pending &= !(1 << i);
                f.chosen = i;
                return true;
            }
            self.stack.pop();
        }
        false
    }
}

impl Chooser for Bounded {
    fn begin(&mut self) -> bool {
        if self.limits.requested() {
            return false;
        }
        if self.started && !self.backtrack() {
            self.limits.exhausted = true;
            return false;
        }
        if !self.limits.within_budget() {
            return false;
        }
        self.started = true;
        self.depth = 0;
        true
    }

    fn wants_footprints(&self) -> bool {
        false
    }

    fn wants_fingerprint(&self) -> bool {
        self.depth >= self.stack.len()
    }

    fn choose(&mut self, d: &Decision<'_>) -> Choice {
        if let Some(f) = self.stack.get(self.depth) {
            self.depth += 1;
            return Choice::Run(f.enabled[f.chosen]);
        }
        let fp = d.fp.expect("a new decision has its fingerprint");
        self.limits.stats.transitions += 1;
        let (preemptions, prev) = match self.stack.last() {
            Some(f) => (f.after(f.chosen), Some(f.enabled[f.chosen])),
            None => (0, None),
        };
        match self.visited.get(&fp) {
            Some(&explored) if explored <= preemptions => return Choice::Cut,
            Some(_) => {}
            None => self.limits.stats.states += 1,
        }
        self.visited.insert(fp, preemptions);
        let mut f = Frame {
            enabled: d.enabled.to_vec(),
            chosen: 0,
            pending: 0,
            preemptions,
            prev,
        };
        for i in 0..f.enabled.len() {
            if f.after(i) <= self.bound {
                f.pending |= 1 << i;
            }
        }
        // The actor that took the last step goes on when it can (no preemption).
        let chosen = prev
            .and_then(|p| f.enabled.iter().position(|a| *a == p))
            .filter(|i| f.pending >> i & 1 == 1)
            .unwrap_or(f.pending.trailing_zeros() as usize);
        f.pending &= !(1 << chosen);
        f.chosen = chosen;
        let a = f.enabled[chosen];
        self.stack.push(f);
        self.depth += 1;
        self.limits.stats.max_depth = self.limits.stats.max_depth.max(self.depth as u64);
        Choice::Run(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::state::por::foot::Footprint;

    /// Two actors of two steps each; a state is how far each has got (a 3x3 grid). Returns
    /// the states the pass decides in within `bound` preemptions (the final one, where
    /// nobody can run, has no decision).
    fn states_within(bound: u32) -> u64 {
        let mut b = Bounded::new(bound, &Budget::default(), Arc::default());
        while b.begin() {
            let mut done = [0u8; 2];
            loop {
                let enabled: Vec<ActorId> = (0..2).filter(|&a| done[a] < 2).collect();
                if enabled.is_empty() {
                    break;
                }
                let next: Vec<Footprint> = enabled.iter().map(|_| None).collect();
                let fp = u128::from(done[0]) * 3 + u128::from(done[1]);
                match b.choose(&Decision {
                    fp: Some(fp),
                    enabled: &enabled,
                    next: &next,
                    race: false,
                }) {
                    Choice::Run(a) => done[a] += 1,
                    Choice::Cut => break,
                }
            }
        }
        assert!(b.limits.exhausted);
        b.limits.stats.states
    }

    #[test]
    fn the_bound_counts_switches_away_from_an_actor_that_could_go_on() {
        // Without preemption: a a b b and b b a a, never one step of each (the grid's centre).
        assert_eq!(states_within(0), 7);
        // One preemption reaches it: a, then b while a could go on.
        assert_eq!(states_within(1), 8);
    }
}
