//! The reduction's race check (`por/mod.rs`): for a step that may follow the current path,
//! the latest dependent step on the path that does not happen before it gets a backtrack
//! point.

use super::por::Entry;
use super::search::{all_bits, Dfs, Shared};
use kexit_model::engine::ActorId;

impl Dfs {
    /// The race check of the reduction for `e`, a step that may follow the current path: the
    /// latest dependent step on the path by another actor that happens neither before the
    /// step's actor nor before the step's causal past gets a backtrack point.
    pub(super) fn race(&mut self, sh: &Shared, e: &Entry) {
        let p = sh.sigs.actor(e.sig);
        let past_actors = sh.pasts.actors(e);
        let mut candidates = std::mem::take(&mut self.candidates);
        self.path.candidates(sh.sigs.foot(e.sig), &mut candidates);
        self.race_among(sh, e, p, past_actors, &candidates);
        self.candidates = candidates;
    }

    /// `race` over the candidate steps (numbered from 1, latest first).
    fn race_among(
        &mut self,
        sh: &Shared,
        e: &Entry,
        p: ActorId,
        past_actors: u64,
        candidates: &[u32],
    ) {
        let fp = sh.sigs.foot(e.sig);
        for &idx in candidates {
            let i = idx as usize - 1;
            let f = &self.stack[i];
            let sig = f.sigs[f.chosen];
            let (q, fq) = (sh.sigs.actor(sig), sh.sigs.foot(sig));
            if q == p || !fq.conflicts(fp) {
                continue;
            }
            if self.clocks.before(idx, q, p)
                || (0..64)
                    .filter(|r| past_actors >> r & 1 == 1)
                    .any(|r| self.clocks.before(idx, q, r))
                || sh.pasts.ordered_before(e, q, fq)
            {
                continue;
            }
            // `p` cannot run there: an actor that can and whose later step happens before
            // `p`'s (the one that woke it, say) reverses the race as well; with none, every
            // actor enabled there is tried (Flanagan and Godefroid's rule).
            let f = &self.stack[i];
            let k = f.enabled.iter().position(|a| *a == p).or_else(|| {
                f.enabled.iter().position(|&r| {
                    self.clocks.after(idx, r, p) || r < 64 && past_actors >> r & 1 == 1
                })
            });
            let f = &mut self.stack[i];
            match k {
                Some(k) => f.backtrack |= 1 << k,
                None => {
                    self.limits.stats.fallbacks += 1;
                    f.backtrack |= all_bits(f.enabled.len())
                }
            }
            return;
        }
    }

    /// An actor enabled now that was not at the previous decision was enabled by the step
    /// taken in between: that step happens before the actor's next one (it cannot run
    /// before it), so the two are no race.
    pub(super) fn note_enabling(&mut self, enabled: &[ActorId]) {
        if let Some(by) = self.prev_actor {
            for &p in enabled {
                if p != by && !self.prev_enabled.contains(&p) {
                    self.clocks.enabled_by(p, by);
                }
            }
        }
        self.prev_enabled.clear();
        self.prev_enabled.extend_from_slice(enabled);
    }
}
