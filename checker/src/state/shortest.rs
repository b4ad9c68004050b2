//! `--shortest`: breadth-first search over scheduling decisions. Every execution replays the
//! decisions that reach one state (a path from the queue) and stops there; a state seen for
//! the first time puts one path per enabled actor on the queue. Paths leave the queue in
//! order of length, so the first violation found is reached by the fewest decisions any
//! schedule to a violation can take. No partial-order reduction: every transition is taken.

use super::engine::{Choice, Chooser, Decision};
use super::por::FxMap;
use super::search::{StateStats, Stop};
use crate::run::Budget;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Instant;

pub struct Bfs {
    visited: FxMap<u128, ()>,
    queue: VecDeque<Vec<u8>>,
    path: Vec<u8>,
    depth: usize,
    pub stats: StateStats,
    pub stopped: Option<Stop>,
    pub exhausted: bool,
    max_states: u64,
    max_executions: u64,
    deadline: Option<Instant>,
    shown: Arc<AtomicU64>,
    pub stop: Arc<AtomicBool>,
}

impl Bfs {
    pub fn new(budget: &Budget, shown: Arc<AtomicU64>) -> Self {
        Bfs {
            visited: FxMap::default(),
            queue: VecDeque::from([Vec::new()]),
            path: Vec::new(),
            depth: 0,
            stats: StateStats::default(),
            stopped: None,
            exhausted: false,
            max_states: budget.max_states,
            max_executions: budget.iterations,
            deadline: budget.time_limit.map(|t| Instant::now() + t),
            shown,
            stop: Arc::default(),
        }
    }
}

impl Chooser for Bfs {
    fn begin(&mut self) -> bool {
        self.shown.store(self.stats.states, SeqCst);
        if self.stop.load(SeqCst) {
            // The execution that just ended found the violation: its path is a shortest one.
            self.stats.counterexample_decisions = Some(self.path.len() as u64);
            self.stopped.get_or_insert(Stop::Requested);
            return false;
        }
        if self.stats.states >= self.max_states || self.stats.executions >= self.max_executions {
            self.stopped = Some(Stop::MaxStates);
            return false;
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            self.stopped = Some(Stop::TimeLimit);
            return false;
        }
        let Some(path) = self.queue.pop_front() else {
            self.exhausted = true;
            return false;
        };
        self.path = path;
        self.depth = 0;
        self.stats.executions += 1;
        true
    }

    fn wants_fingerprint(&self) -> bool {
        self.depth >= self.path.len()
    }

    fn choose(&mut self, d: &Decision<'_>) -> Choice {
        if let Some(&a) = self.path.get(self.depth) {
            self.depth += 1;
            return Choice::Run(a as usize);
        }
        let fp = d.fp.expect("wanted");
        self.stats.transitions += 1;
        if self.visited.insert(fp, ()).is_none() {
            self.stats.states += 1;
            self.stats.max_depth = self.stats.max_depth.max(self.path.len() as u64);
            for &a in d.enabled {
                let mut p = self.path.clone();
                p.push(a as u8);
                self.queue.push_back(p);
            }
        }
        Choice::Cut
    }
}
