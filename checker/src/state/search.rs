//! Depth-first search over scheduling decisions with a set of visited states. Every execution
//! re-runs the model from its initial state along the decisions of the current path (a thread
//! stack cannot be saved), takes the next untried choice at the deepest open decision, and
//! then goes on with first choices until it reaches a state it has seen: that state's subtree
//! is already explored (or is being explored further up the current path: a cycle), so the
//! execution is cut there.

use super::engine::{Choice, Chooser};
use crate::run::Budget;
use kexit_model::engine::ActorId;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Instant;

/// Fingerprints are already uniform hashes: a map keyed by them needs no second hash.
#[derive(Default)]
pub struct PassThrough(u64);

impl Hasher for PassThrough {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes.iter().take(8) {
            self.0 = self.0 << 8 | *b as u64;
        }
    }
    fn write_u128(&mut self, v: u128) {
        self.0 = v as u64;
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

pub type FpMap<V> = HashMap<u128, V, BuildHasherDefault<PassThrough>>;

/// Counts a state search reports.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct StateStats {
    /// Distinct states (fingerprints) reached.
    pub states: u64,
    /// Decisions taken into a state (edges of the state graph explored).
    pub transitions: u64,
    pub executions: u64,
    /// The most decisions on one path from the initial state.
    pub max_depth: u64,
    /// Edges into a state already on the current path (cycles of the state graph).
    pub cycles: u64,
    /// Replayed decisions that reached another state than the first time (nondeterminism:
    /// must stay 0).
    pub divergences: u64,
}

/// Why a search ended before it had explored everything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The state or execution budget.
    MaxStates,
    TimeLimit,
    /// A violation or an outside request.
    Requested,
}

struct Frame {
    fp: u128,
    enabled: Vec<ActorId>,
    next: usize,
}

pub struct Dfs {
    visited: FpMap<bool>,
    stack: Vec<Frame>,
    /// Decisions taken in the current execution.
    depth: usize,
    started: bool,
    pub stats: StateStats,
    pub stopped: Option<Stop>,
    pub exhausted: bool,
    max_states: u64,
    max_executions: u64,
    deadline: Option<Instant>,
    /// The number of states, for a progress display on another thread.
    shown: Arc<AtomicU64>,
    /// Set from outside (a violation was found).
    pub stop: Arc<std::sync::atomic::AtomicBool>,
}

impl Dfs {
    pub fn new(budget: &Budget, shown: Arc<AtomicU64>) -> Self {
        Dfs {
            visited: FpMap::default(),
            stack: Vec::new(),
            depth: 0,
            started: false,
            stats: StateStats::default(),
            stopped: None,
            exhausted: false,
            max_states: budget.max_states,
            max_executions: budget.iterations,
            deadline: budget.time_limit.map(|t| Instant::now() + t),
            shown,
            stop: Default::default(),
        }
    }

    /// Moves to the next untried choice of the deepest open decision; false when none is left.
    fn backtrack(&mut self) -> bool {
        while let Some(f) = self.stack.last_mut() {
            f.next += 1;
            if f.next < f.enabled.len() {
                return true;
            }
            let f = self.stack.pop().expect("non-empty");
            self.visited.insert(f.fp, false);
        }
        false
    }
}

impl Chooser for Dfs {
    fn begin(&mut self) -> bool {
        if self.stop.load(SeqCst) {
            self.stopped.get_or_insert(Stop::Requested);
            return false;
        }
        if self.started && !self.backtrack() {
            self.exhausted = true;
            return false;
        }
        self.shown.store(self.stats.states, SeqCst);
        if self.stats.states >= self.max_states || self.stats.executions >= self.max_executions {
            self.stopped = Some(Stop::MaxStates);
            return false;
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            self.stopped = Some(Stop::TimeLimit);
            return false;
        }
        self.started = true;
        self.depth = 0;
        self.stats.executions += 1;
        true
    }

    fn choose(&mut self, fp: u128, enabled: &[ActorId]) -> Choice {
        if let Some(f) = self.stack.get(self.depth) {
            // Replaying the current path.
            if f.fp != fp {
                self.stats.divergences += 1;
            }
            self.depth += 1;
            return Choice::Run(f.enabled[f.next]);
        }
        self.stats.transitions += 1;
        if let Some(on_path) = self.visited.get(&fp) {
            if *on_path {
                self.stats.cycles += 1;
            }
            return Choice::Cut;
        }
        self.visited.insert(fp, true);
        self.stats.states += 1;
        self.stack.push(Frame {
            fp,
            enabled: enabled.to_vec(),
            next: 0,
        });
        self.depth += 1;
        self.stats.max_depth = self.stats.max_depth.max(self.depth as u64);
        Choice::Run(enabled[0])
    }
}
