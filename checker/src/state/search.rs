//! Depth-first search over scheduling decisions with a set of visited states. Every execution
//! re-runs the model from its initial state along the decisions of the current path (a thread
//! stack cannot be saved), takes the next untried choice at the deepest open decision, and
//! then goes on with first choices until it reaches a state it has seen: that state's subtree
//! is already explored (or is being explored further up the current path: a cycle), so the
//! execution is cut there.

use super::cycle::{self, Cycle, CycleStep, GoingRound};
use super::engine::{Choice, Chooser, Decision};
pub use super::limits::{peak_memory_mib, Limits, StateStats, Stop};
use super::por::{sleep, Clocks, Entry, FxMap, Pasts, PathIndex, Sig, Sigs, Summary};
use crate::run::Budget;
use kexit_model::engine::ActorId;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

struct Frame {
    fp: u128,
    enabled: Vec<ActorId>,
    /// The next step of each enabled actor.
    sigs: Vec<Sig>,
    /// Index (into `enabled`) of the choice the current path takes.
    chosen: usize,
    /// Choices to explore (the reduction's backtrack set) and choices explored, as bits over
    /// `enabled`.
    backtrack: u64,
    done: u64,
    /// Actors asleep here, as bits over `enabled` (`por/sleep.rs`): never chosen here.
    sleep: u64,
    /// The actors this state's exploration leaves to others (the visited set keeps them).
    asleep: u64,
    /// The steps that may follow any state below this one explored so far.
    summary: Summary,
    complete: bool,
    /// The clocks' undo mark before this decision's step (`Clocks::undo_to`).
    clock_mark: usize,
}

/// What the visited set knows of a state.
#[derive(Clone, Copy)]
enum Seen {
    OnPath,
    /// Explored: its summary (an index into `summaries`), whether that is complete, and the
    /// actors (as bits over actor ids) whose steps from it were left asleep.
    Done(u32, bool, u64),
}

pub struct Dfs {
    visited: FxMap<u128, Seen>,
    summaries: Vec<Summary>,
    summary_ids: FxMap<Summary, u32>,
    sigs: Sigs,
    pasts: Pasts,
    clocks: Clocks,
    path: PathIndex,
    /// A buffer for the race check's candidate steps.
    candidates: Vec<u32>,
    stack: Vec<Frame>,
    /// Decisions taken in the current execution.
    depth: usize,
    /// The actors enabled at the previous decision of this execution, and the one chosen.
    prev_enabled: Vec<ActorId>,
    prev_actor: Option<ActorId>,
    started: bool,
    /// Explore every enabled actor at every state (no reduction).
    full: bool,
    /// A fair cycle this execution goes round until the model's step budget reports it.
    going_round: Option<GoingRound>,
    pub limits: Limits,
}

fn all_bits(n: usize) -> u64 {
    if n >= 64 {
        u64::MAX
    } else {
        (1u64 << n) - 1
    }
}

impl Frame {
    fn view(&self) -> sleep::Parent<'_> {
        sleep::Parent {
            enabled: &self.enabled,
            sigs: &self.sigs,
            chosen: self.chosen,
            done: self.done,
            sleep: self.sleep,
        }
    }
}

impl Dfs {
    pub fn new(budget: &Budget, full: bool, shown: Arc<AtomicU64>) -> Self {
        Dfs {
            visited: FxMap::default(),
            summaries: Vec::new(),
            summary_ids: FxMap::default(),
            sigs: Sigs::default(),
            pasts: Pasts::default(),
            clocks: Clocks::new(0),
            path: PathIndex::default(),
            candidates: Vec::new(),
            stack: Vec::new(),
            depth: 0,
            prev_enabled: Vec::new(),
            prev_actor: None,
            started: false,
            full,
            going_round: None,
            limits: Limits::new(budget, shown),
        }
    }

    /// Moves to the next choice left in the deepest decision that has one; false when none
    /// is left. Finished states leave the path with their summary.
    fn backtrack(&mut self) -> bool {
        while let Some(f) = self.stack.last_mut() {
            let pending = f.backtrack & !f.done & !f.sleep;
            if pending != 0 {
                let i = pending.trailing_zeros() as usize;
                f.chosen = i;
                f.done |= 1 << i;
                return true;
            }
            let f = self.stack.pop().expect("non-empty");
            self.finish(f.fp, &f.summary, f.complete, f.asleep);
        }
        false
    }

    /// A state off the path, explored: the visited set keeps what its exploration found, and
    /// the top of the path learns what may follow it.
    fn finish(&mut self, fp: u128, summary: &Summary, complete: bool, asleep: u64) {
        let id = self.intern_summary(summary);
        self.visited.insert(fp, Seen::Done(id, complete, asleep));
        self.merge_into_top(summary, complete);
    }

    /// A state below the top of the path was explored (or cut) with `summary`: what may
    /// follow it may follow the top too, after the top's chosen step, which happens before
    /// an entry when it is ordered with the entry's step or with its causal past.
    fn merge_into_top(&mut self, summary: &Summary, complete: bool) {
        let Some(top) = self.stack.last_mut() else {
            return;
        };
        let mut merged = std::mem::take(&mut top.summary);
        let chosen = top.sigs[top.chosen];
        let q = self.sigs.actor(chosen);
        let f = *self.sigs.foot(chosen);
        for e in &summary.0 {
            let p = self.sigs.actor(e.sig);
            let ordered =
                q == p || f.conflicts(self.sigs.foot(e.sig)) || self.pasts.ordered_before(e, q, &f);
            let e = if ordered {
                self.pasts.with_step(*e, chosen, q, &f)
            } else {
                *e
            };
            // Such an entry can race with no step on any path: keeping it would only make the
            // intersection with another occurrence of its signature claim fewer orderings.
            if self.pasts.orders_everything(&e) {
                continue;
            }
            merged.merge(e, &mut self.pasts);
        }
        let top = self.stack.last_mut().expect("top");
        top.summary = merged;
        top.complete &= complete;
    }

    fn intern_summary(&mut self, s: &Summary) -> u32 {
        if let Some(id) = self.summary_ids.get(s) {
            return *id;
        }
        let id = self.summaries.len() as u32;
        self.summaries.push(s.clone());
        self.summary_ids.insert(s.clone(), id);
        id
    }

    /// The race check of the reduction for `e`, a step that may follow the current path: the
    /// latest dependent step on the path by another actor that happens neither before the
    /// step's actor nor before the step's causal past gets a backtrack point.
    fn race(&mut self, e: &Entry) {
        let p = self.sigs.actor(e.sig);
        let past_actors = self.pasts.actors(e);
        let mut candidates = std::mem::take(&mut self.candidates);
        self.path.candidates(self.sigs.foot(e.sig), &mut candidates);
        self.race_among(e, p, past_actors, &candidates);
        self.candidates = candidates;
    }

    /// `race` over the candidate steps (numbered from 1, latest first).
    fn race_among(&mut self, e: &Entry, p: ActorId, past_actors: u64, candidates: &[u32]) {
        let fp = self.sigs.foot(e.sig);
        for &idx in candidates {
            let i = idx as usize - 1;
            let f = &self.stack[i];
            let sig = f.sigs[f.chosen];
            let (q, fq) = (self.sigs.actor(sig), self.sigs.foot(sig));
            if q == p || !fq.conflicts(fp) {
                continue;
            }
            if self.clocks.before(idx, q, p)
                || (0..64)
                    .filter(|r| past_actors >> r & 1 == 1)
                    .any(|r| self.clocks.before(idx, q, r))
                || self.pasts.ordered_before(e, q, fq)
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
    fn note_enabling(&mut self, enabled: &[ActorId]) {
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

    /// The race check for a visited state's explored subtree (`id`, its summary), which this
    /// path does not explore again; with `merge`, the summary goes to the top of the path too.
    fn cut_at(&mut self, id: u32, complete: bool, merge: bool) {
        if !complete {
            self.expand_path();
        }
        let summary = std::mem::take(&mut self.summaries[id as usize]);
        if complete && !self.full {
            for e in &summary.0 {
                self.race(e);
            }
        }
        if merge {
            self.merge_into_top(&summary, complete);
        }
        self.summaries[id as usize] = summary;
    }

    /// At a state already on the path (`fp`): when the steps since it form a fair cycle
    /// (`cycle.rs`), this execution goes round it from now on and the first actor round it
    /// is returned.
    fn enter_fair_cycle(&mut self, fp: u128, enabled: &[ActorId]) -> Option<ActorId> {
        let start = self.stack.iter().rposition(|f| f.fp == fp)?;
        let steps: Vec<CycleStep<'_>> = self.stack[start..]
            .iter()
            .map(|f| CycleStep {
                enabled: &f.enabled,
                chosen: f.enabled[f.chosen],
            })
            .collect();
        let actors = cycle::fair(&steps)?;
        let mut round = GoingRound::new(actors.clone());
        let first = round.next(enabled)?;
        self.limits.stats.livelock = Some(Cycle {
            entered_after: start as u64,
            actors,
        });
        self.going_round = Some(round);
        Some(first)
    }

    /// A summary that cannot be trusted: every decision on the path explores everything.
    fn expand_path(&mut self) {
        for f in &mut self.stack {
            f.backtrack |= all_bits(f.enabled.len());
            f.sleep = 0;
            f.asleep = 0;
        }
        if let Some(parent) = self.stack.last_mut() {
            parent.complete = false;
        }
    }
}

impl Chooser for Dfs {
    fn replay_next(&mut self, ready: &[ActorId]) -> Option<Choice> {
        if self.going_round.is_some() || self.depth + 1 >= self.stack.len() {
            return None;
        }
        self.limits.stats.replayed += 1;
        let f = &self.stack[self.depth];
        let a = f.enabled[f.chosen];
        self.depth += 1;
        if ready.contains(&a) {
            Some(Choice::Run(a))
        } else {
            self.limits.stats.divergences += 1;
            Some(Choice::Cut)
        }
    }

    /// A replayed decision needs no fingerprint, except the last one (a check that the model
    /// is deterministic: the path leads where it led before), and neither does a decision
    /// round a fair cycle.
    fn wants_fingerprint(&self) -> bool {
        self.going_round.is_none() && self.depth + 1 >= self.stack.len()
    }

    fn wants_footprints(&self) -> bool {
        self.depth >= self.stack.len() && self.going_round.is_none()
    }

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
        // The path's clocks and index go back to just before the step of the decision that
        // now takes its next choice; the decisions above it replay without bookkeeping.
        match self.stack.last() {
            Some(top) if self.started => {
                self.clocks.undo_to(top.clock_mark);
                self.path.truncate(self.stack.len() as u32 - 1);
            }
            _ => {
                self.clocks.reset();
                self.path.clear();
            }
        }
        self.started = true;
        self.depth = 0;
        self.prev_enabled.clear();
        self.prev_actor = None;
        self.going_round = None;
        true
    }

    fn choose(&mut self, d: &Decision<'_>) -> Choice {
        if let Some(round) = &mut self.going_round {
            return match round.next(d.enabled) {
                Some(a) => Choice::Run(a),
                None => {
                    self.limits.stats.divergences += 1;
                    Choice::Cut
                }
            };
        }
        if self.depth < self.stack.len() {
            // Replaying the current path: the decisions above the last one were taken by
            // `replay_next`; this is the last, which takes a new choice. Its enabling edges
            // are still in the clocks (they are undone only down to its mark).
            self.limits.stats.replayed += 1;
            let f = &self.stack[self.depth];
            if d.fp.is_some_and(|fp| fp != f.fp) {
                self.limits.stats.divergences += 1;
            }
            let (a, sig) = (f.enabled[f.chosen], f.sigs[f.chosen]);
            self.depth += 1;
            self.clocks.step(self.depth as u32, a, self.sigs.foot(sig));
            self.path.push(self.depth as u32, self.sigs.foot(sig));
            self.prev_enabled.clear();
            self.prev_enabled.extend_from_slice(d.enabled);
            self.prev_actor = Some(a);
            return Choice::Run(a);
        }
        self.note_enabling(d.enabled);
        self.limits.stats.transitions += 1;
        let fp = d.fp.expect("a new decision has its fingerprint");
        let sigs: Vec<Sig> = d
            .enabled
            .iter()
            .zip(d.next)
            .map(|(a, f)| self.sigs.intern(*a, f))
            .collect();
        let sleep = if self.full {
            0
        } else {
            sleep::inherited(
                self.stack.last().map(|f| f.view()),
                d.enabled,
                &sigs,
                &self.sigs,
            )
        };
        let asleep = sleep::actors(sleep, d.enabled);
        let (summary, reopened, complete, asleep) = match self.visited.get(&fp).copied() {
            Some(Seen::OnPath) => {
                self.limits.stats.cycles += 1;
                if let Some(a) = self.enter_fair_cycle(fp, d.enabled) {
                    return Choice::Run(a);
                }
                self.expand_path();
                return Choice::Cut;
            }
            Some(Seen::Done(id, complete, left)) => {
                // Actors left asleep there but awake here were never explored from the state:
                // it is explored again for them (Godefroid, Holzmann and Pirottin's rule for
                // sleep sets with a state cache).
                let wanted = sleep::bits_of(left & !asleep, d.enabled);
                self.cut_at(id, complete, wanted == 0);
                if wanted == 0 {
                    return Choice::Cut;
                }
                self.limits.stats.reopened += 1;
                let summary = self.summaries[id as usize].clone();
                (summary, Some(wanted), complete, left & asleep)
            }
            None => {
                self.limits.stats.states += 1;
                let mut summary = Summary::default();
                for s in &sigs {
                    let e = Entry::next(*s);
                    summary.merge(e, &mut self.pasts);
                    if !self.full {
                        self.race(&e);
                    }
                }
                (summary, None, true, asleep)
            }
        };
        let free = reopened.unwrap_or(all_bits(d.enabled.len())) & !sleep;
        if free == 0 {
            // Every enabled actor is asleep: what follows is explored elsewhere.
            self.limits.stats.sleep_blocked += 1;
            self.finish(fp, &summary, complete, asleep);
            return Choice::Cut;
        }
        self.visited.insert(fp, Seen::OnPath);
        // Go on with the actor that took the last step when it can: fewer switches.
        let prev = self.depth.checked_sub(1).map(|i| {
            let f = &self.stack[i];
            f.enabled[f.chosen]
        });
        let chosen = prev
            .and_then(|p| d.enabled.iter().position(|a| *a == p))
            .filter(|i| free >> i & 1 == 1)
            .unwrap_or(free.trailing_zeros() as usize);
        let backtrack = match reopened {
            Some(wanted) => wanted,
            None if self.full => all_bits(d.enabled.len()),
            None => 1 << chosen,
        };
        let a = d.enabled[chosen];
        let foot = *self.sigs.foot(sigs[chosen]);
        let clock_mark = self.clocks.mark();
        self.stack.push(Frame {
            fp,
            enabled: d.enabled.to_vec(),
            sigs,
            chosen,
            backtrack,
            done: 1 << chosen,
            sleep,
            asleep,
            summary,
            complete,
            clock_mark,
        });
        self.depth += 1;
        self.limits.stats.max_depth = self.limits.stats.max_depth.max(self.depth as u64);
        self.clocks.step(self.depth as u32, a, &foot);
        self.path.push(self.depth as u32, &foot);
        self.prev_actor = Some(a);
        Choice::Run(a)
    }
}
