//! Depth-first search over scheduling decisions with a set of visited states. Every execution
//! re-runs the model from its initial state along the decisions of the current path (a thread
//! stack cannot be saved), takes the next untried choice at the deepest open decision, and
//! then goes on with first choices until it reaches a state it has seen: that state's subtree
//! is already explored (or is being explored further up the current path: a cycle), so the
//! execution is cut there.

use super::cycle::{self, Cycle, CycleStep, GoingRound};
use super::engine::{Choice, Chooser, Decision};
pub use super::limits::{peak_memory_mib, Limits, StateStats, Stop};
use super::por::{sleep, Clocks, Entry, FxMap, PathIndex, Sig, Summary};
use super::shared::Done;
pub use super::shared::{Shared, SharedTable};
use crate::engine::Budget;
use kexit_model::engine::ActorId;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

pub(super) struct Frame {
    pub(super) fp: u128,
    pub(super) enabled: Vec<ActorId>,
    /// The next step of each enabled actor.
    pub(super) sigs: Vec<Sig>,
    /// Index (into `enabled`) of the choice the current path takes.
    pub(super) chosen: usize,
    /// Choices to explore (the reduction's backtrack set) and choices explored, as bits over
    /// `enabled`.
    pub(super) backtrack: u64,
    pub(super) done: u64,
    /// Actors asleep here, as bits over `enabled` (`por/sleep.rs`): never chosen here.
    pub(super) sleep: u64,
    /// The actors this state's exploration leaves to others (the visited set keeps them).
    pub(super) asleep: u64,
    /// The steps that may follow any state below this one explored so far.
    pub(super) summary: Summary,
    pub(super) complete: bool,
    /// The clocks' undo mark before this decision's step (`Clocks::undo_to`).
    pub(super) clock_mark: usize,
}

/// What a worker knows of a state it reaches.
enum Seen {
    New,
    OnPath,
    Done(Done),
}

pub struct Dfs {
    pub(super) shared: SharedTable,
    /// The states on the current path (a path that reaches one again has closed a cycle).
    pub(super) on_path: FxMap<u128, ()>,
    /// Which worker of the search this is: worker 0 takes the lowest choice first, others
    /// start elsewhere so that their paths part (`pick`).
    pub(super) worker: usize,
    pub(super) clocks: Clocks,
    pub(super) path: PathIndex,
    /// A buffer for the race check's candidate steps.
    pub(super) candidates: Vec<u32>,
    pub(super) stack: Vec<Frame>,
    /// Decisions taken in the current execution.
    pub(super) depth: usize,
    /// The actors enabled at the previous decision of this execution, and the one chosen.
    pub(super) prev_enabled: Vec<ActorId>,
    pub(super) prev_actor: Option<ActorId>,
    pub(super) started: bool,
    /// Explore every enabled actor at every state (no reduction).
    pub(super) full: bool,
    /// A fair cycle this execution goes round until the model's step budget reports it.
    pub(super) going_round: Option<GoingRound>,
    pub limits: Limits,
}

/// The choice among `bits` worker `w` takes first: the lowest for worker 0, the w-th (round)
/// for the others.
fn pick(bits: u64, w: usize) -> usize {
    let n = bits.count_ones() as usize;
    let mut rest = bits;
    for _ in 0..w % n.max(1) {
        rest &= rest - 1;
    }
    rest.trailing_zeros() as usize
}

pub(super) fn all_bits(n: usize) -> u64 {
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
        Self::worker(budget, full, shown, SharedTable::default(), 0)
    }

    /// Worker `worker` of a search whose workers share `shared`.
    pub fn worker(
        budget: &Budget,
        full: bool,
        shown: Arc<AtomicU64>,
        shared: SharedTable,
        worker: usize,
    ) -> Self {
        Dfs {
            shared,
            on_path: FxMap::default(),
            worker,
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
    fn backtrack(&mut self, sh: &mut Shared) -> bool {
        while let Some(f) = self.stack.last_mut() {
            let pending = f.backtrack & !f.done & !f.sleep;
            if pending != 0 {
                let i = pick(pending, self.worker);
                f.chosen = i;
                f.done |= 1 << i;
                return true;
            }
            let f = self.stack.pop().expect("non-empty");
            self.on_path.remove(&f.fp);
            self.finish(sh, f.fp, &f.summary, f.complete, f.asleep);
        }
        false
    }

    /// A state off the path, explored: the visited set keeps what its exploration found, and
    /// the top of the path learns what may follow it.
    fn finish(
        &mut self,
        sh: &mut Shared,
        fp: u128,
        summary: &Summary,
        complete: bool,
        asleep: u64,
    ) {
        let id = sh.intern_summary(summary);
        let done = Done {
            summary: id,
            complete,
            asleep,
        };
        sh.visited.insert(fp, done);
        self.merge_into_top(sh, id, complete);
    }

    /// A state below the top of the path was explored (or cut) with `summary`: what may
    /// follow it may follow the top too, after the top's chosen step, which happens before
    /// an entry when it is ordered with the entry's step or with its causal past.
    fn merge_into_top(&mut self, sh: &mut Shared, summary: u32, complete: bool) {
        let Some(top) = self.stack.last_mut() else {
            return;
        };
        let mut merged = std::mem::take(&mut top.summary);
        let chosen = top.sigs[top.chosen];
        for e in sh.after_step(summary, chosen).to_vec() {
            merged.merge(e, &mut sh.pasts);
        }
        let top = self.stack.last_mut().expect("top");
        top.summary = merged;
        top.complete &= complete;
    }

    /// The race check for a visited state's explored subtree (`id`, its summary), which this
    /// path does not explore again; with `merge`, the summary goes to the top of the path too.
    fn cut_at(&mut self, sh: &mut Shared, id: u32, complete: bool, merge: bool) {
        if !complete {
            self.expand_path();
        }
        let summary = std::mem::take(&mut sh.summaries[id as usize]);
        if complete && !self.full {
            for e in &summary.0 {
                self.race(sh, e);
            }
        }
        sh.summaries[id as usize] = summary;
        if merge {
            self.merge_into_top(sh, id, complete);
        }
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

impl Dfs {
    /// The signatures of the enabled actors' next steps at a new decision, and its sleep set
    /// (as bits over the enabled actors).
    fn signatures_and_sleep(&self, sh: &mut Shared, d: &Decision<'_>) -> (Vec<Sig>, u64) {
        let sigs: Vec<Sig> = d
            .enabled
            .iter()
            .zip(d.next)
            .map(|(a, f)| sh.sigs.intern(*a, f))
            .collect();
        let parent = self.stack.last().map(|f| f.view());
        let sleep = if self.full {
            0
        } else {
            sleep::inherited(parent, d.enabled, &sigs, &sh.sigs)
        };
        (sigs, sleep)
    }

    /// The last decision of the path being replayed, which now takes its next choice: the
    /// decisions above it were taken by `replay_next`, and its enabling edges are still in
    /// the clocks (they are undone only down to its mark).
    fn replay_last(&mut self, d: &Decision<'_>) -> Choice {
        self.limits.stats.replayed += 1;
        let f = &self.stack[self.depth];
        if d.fp.is_some_and(|fp| fp != f.fp) {
            self.limits.stats.divergences += 1;
        }
        let (a, sig) = (f.enabled[f.chosen], f.sigs[f.chosen]);
        self.depth += 1;
        let foot = *self.shared.lock().sigs.foot(sig);
        self.clocks.step(self.depth as u32, a, &foot);
        self.path.push(self.depth as u32, &foot);
        self.prev_enabled.clear();
        self.prev_enabled.extend_from_slice(d.enabled);
        self.prev_actor = Some(a);
        Choice::Run(a)
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
        let shared = self.shared.clone();
        if self.started && !self.backtrack(&mut shared.lock()) {
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
            return self.replay_last(d);
        }
        self.note_enabling(d.enabled);
        let shared = self.shared.clone();
        let sh = &mut *shared.lock();
        self.limits.stats.transitions += 1;
        let fp = d.fp.expect("a new decision has its fingerprint");
        let (sigs, sleep) = self.signatures_and_sleep(sh, d);
        let asleep = sleep::actors(sleep, d.enabled);
        let seen = if self.on_path.contains_key(&fp) {
            Seen::OnPath
        } else {
            sh.visited.get(&fp).map_or(Seen::New, |d| Seen::Done(*d))
        };
        let (summary, reopened, complete, asleep) = match seen {
            Seen::OnPath => {
                self.limits.stats.cycles += 1;
                if let Some(a) = self.enter_fair_cycle(fp, d.enabled) {
                    return Choice::Run(a);
                }
                self.expand_path();
                return Choice::Cut;
            }
            Seen::Done(Done {
                summary: id,
                complete,
                asleep: left,
            }) => {
                // Actors left asleep there but awake here were never explored from the state:
                // it is explored again for them (Godefroid, Holzmann and Pirottin's rule for
                // sleep sets with a state cache).
                let wanted = sleep::bits_of(left & !asleep, d.enabled);
                self.cut_at(sh, id, complete, wanted == 0);
                if wanted == 0 {
                    return Choice::Cut;
                }
                self.limits.stats.reopened += 1;
                let summary = sh.summaries[id as usize].clone();
                (summary, Some(wanted), complete, left & asleep)
            }
            Seen::New => {
                self.limits.stats.states += 1;
                let mut summary = Summary::default();
                for s in &sigs {
                    let e = Entry::next(*s);
                    summary.merge(e, &mut sh.pasts);
                    if !self.full {
                        self.race(sh, &e);
                    }
                }
                (summary, None, true, asleep)
            }
        };
        let free = reopened.unwrap_or(all_bits(d.enabled.len())) & !sleep;
        if free == 0 {
            // Every enabled actor is asleep: what follows is explored elsewhere.
            self.limits.stats.sleep_blocked += 1;
            self.finish(sh, fp, &summary, complete, asleep);
            return Choice::Cut;
        }
        self.on_path.insert(fp, ());
        // Go on with the actor that took the last step when it can: fewer switches.
        let prev = self.depth.checked_sub(1).map(|i| {
            let f = &self.stack[i];
            f.enabled[f.chosen]
        });
        let chosen = prev
            .and_then(|p| d.enabled.iter().position(|a| *a == p))
            .filter(|i| free >> i & 1 == 1)
            .unwrap_or_else(|| pick(free, self.worker));
        let backtrack = match reopened {
            Some(wanted) => wanted,
            None if self.full => all_bits(d.enabled.len()),
            None => 1 << chosen,
        };
        let a = d.enabled[chosen];
        let foot = *sh.sigs.foot(sigs[chosen]);
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
