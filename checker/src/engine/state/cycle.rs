//! Livelocks as cycles of the state graph. When a path comes back to a state it is still
//! exploring, the steps since that state form a cycle the system can run forever. It is a
//! livelock when it is fair: every actor enabled in every state of the cycle takes a step in
//! it (an actor that could run throughout and never does would run on a real machine, so such
//! a cycle is only the search's choice, not the kernel's). A fair cycle never leaves its states
//! and every actor that can run keeps running: the kernel makes no progress ever again.
//!
//! The search reports one by going round the cycle until the model's step budget ends the
//! execution with its own livelock violation, so the saved schedule is an ordinary one (the
//! path into the cycle, then the cycle again and again) and `kexit replay` reproduces it on the
//! replay engine like any other.

use kexit_model::engine::ActorId;

/// A cycle found on the current path.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Cycle {
    /// Decisions from the initial state to the cycle's first state.
    pub entered_after: u64,
    /// The actors chosen round the cycle, in order.
    pub actors: Vec<ActorId>,
}

/// One state of a cycle: the actors enabled there and the one the cycle takes.
pub struct CycleStep<'a> {
    pub enabled: &'a [ActorId],
    pub chosen: ActorId,
}

/// The actors round the cycle when it is fair (see the module documentation), else None.
pub fn fair(steps: &[CycleStep<'_>]) -> Option<Vec<ActorId>> {
    let first = steps.first()?;
    let actors: Vec<ActorId> = steps.iter().map(|s| s.chosen).collect();
    // An actor enabled throughout (so in the first state) that the cycle never runs.
    let starved = first
        .enabled
        .iter()
        .any(|a| !actors.contains(a) && steps.iter().all(|s| s.enabled.contains(a)));
    (!starved).then_some(actors)
}

/// Goes round a fair cycle, decision after decision, until the execution ends.
pub struct GoingRound {
    actors: Vec<ActorId>,
    next: usize,
}

impl GoingRound {
    pub fn new(actors: Vec<ActorId>) -> Self {
        GoingRound { actors, next: 0 }
    }

    /// The next actor round the cycle, if it can run (the model is deterministic, so it
    /// always can; None would be a divergence, and the execution is cut).
    pub fn next(&mut self, enabled: &[ActorId]) -> Option<ActorId> {
        let a = self.actors[self.next % self.actors.len()];
        self.next += 1;
        enabled.contains(&a).then_some(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(enabled: &[ActorId], chosen: ActorId) -> CycleStep<'_> {
        CycleStep { enabled, chosen }
    }

    #[test]
    fn a_cycle_in_which_every_actor_that_can_run_runs_is_fair() {
        let one = [0];
        assert_eq!(fair(&[step(&one, 0), step(&one, 0)]), Some(vec![0, 0]));
        let two = [0, 1];
        assert_eq!(fair(&[step(&two, 0), step(&two, 1)]), Some(vec![0, 1]));
        // Actor 1 can run only in the second state: the cycle need not give it a step.
        assert_eq!(fair(&[step(&one, 0), step(&two, 0)]), Some(vec![0, 0]));
    }

    #[test]
    fn a_cycle_that_starves_an_actor_enabled_throughout_is_no_livelock() {
        let two = [0, 1];
        assert_eq!(fair(&[step(&two, 0), step(&two, 0)]), None);
        assert_eq!(fair(&[]), None);
    }

    #[test]
    fn going_round_repeats_the_cycle_and_stops_where_it_cannot() {
        let mut g = GoingRound::new(vec![1, 0]);
        let both = [0, 1];
        assert_eq!(g.next(&both), Some(1));
        assert_eq!(g.next(&both), Some(0));
        assert_eq!(g.next(&both), Some(1));
        assert_eq!(g.next(&[1]), None);
    }
}
