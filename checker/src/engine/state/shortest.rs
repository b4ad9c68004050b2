//! `--shortest`: breadth-first search over scheduling decisions. Every execution replays the
//! decisions that reach one state (a path from the queue) and stops there; a state seen for
//! the first time puts one path per enabled actor on the queue. Paths leave the queue in
//! order of length, so the first violation found is reached by the fewest decisions any
//! schedule to a violation can take. No partial-order reduction: every transition is taken.

use super::engine::{Choice, Chooser, Decision};
use super::limits::Limits;
use super::por::FxMap;
use crate::engine::Budget;
use std::collections::VecDeque;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

pub struct Bfs {
    visited: FxMap<u128, ()>,
    queue: VecDeque<Vec<u8>>,
    path: Vec<u8>,
    depth: usize,
    pub limits: Limits,
}

impl Bfs {
    pub fn new(budget: &Budget, shown: Arc<AtomicU64>) -> Self {
        Bfs {
            visited: FxMap::default(),
            queue: VecDeque::from([Vec::new()]),
            path: Vec::new(),
            depth: 0,
            limits: Limits::new(budget, shown),
        }
    }
}

impl Chooser for Bfs {
    fn begin(&mut self) -> bool {
        if self.limits.requested() {
            // The execution that just ended found the violation: its path is a shortest one.
            self.limits.stats.counterexample_decisions = Some(self.path.len() as u64);
            return false;
        }
        if self.queue.is_empty() {
            self.limits.exhausted = true;
            return false;
        }
        if !self.limits.within_budget() {
            return false;
        }
        self.path = self.queue.pop_front().expect("not empty");
        self.depth = 0;
        true
    }

    fn wants_footprints(&self) -> bool {
        false
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
        self.limits.stats.transitions += 1;
        if self.visited.insert(fp, ()).is_none() {
            self.limits.stats.states += 1;
            self.limits.stats.max_depth = self.limits.stats.max_depth.max(self.path.len() as u64);
            for &a in d.enabled {
                let mut p = self.path.clone();
                p.push(a as u8);
                self.queue.push_back(p);
            }
        }
        Choice::Cut
    }
}
