//! Schedulers for shuttle that are reproducible from one seed per execution: a PCT scheduler
//! (probabilistic concurrency testing, depth d: random priorities plus d-1 priority change
//! points) and a wrapper that records nothing but stops the run when told to.
//! Shuttle's own PCT learns the execution length across iterations, so its k-th execution
//! cannot be reproduced from a seed alone; this one takes the length estimate as input.

use shuttle::scheduler::{Schedule, Scheduler, Task, TaskId};

/// splitmix64: small, fast, and enough for choosing schedules.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

#[derive(Debug)]
pub struct Pct {
    rng: Rng,
    seed: u64,
    started: bool,
    /// priorities[task] (higher runs first)
    priorities: Vec<u64>,
    change_points: Vec<usize>,
    steps: usize,
    low: u64,
}

impl Pct {
    pub fn new(seed: u64, depth: usize, length_estimate: usize) -> Self {
        let mut rng = Rng::new(seed);
        let n = length_estimate.max(2);
        let mut change_points: Vec<usize> = (0..depth.saturating_sub(1))
            .map(|_| 1 + rng.below(n - 1))
            .collect();
        change_points.sort_unstable();
        Pct {
            rng,
            seed,
            started: false,
            priorities: Vec::new(),
            change_points,
            steps: 0,
            low: 0,
        }
    }

    fn priority(&mut self, t: usize) -> u64 {
        while self.priorities.len() <= t {
            let p = 1_000_000 + (self.rng.next_u64() >> 16);
            self.priorities.push(p);
        }
        self.priorities[t]
    }

    fn lower(&mut self, t: usize) {
        self.priority(t);
        self.low += 1;
        self.priorities[t] = 1_000_000u64.saturating_sub(self.low * 1000);
    }
}

impl Scheduler for Pct {
    fn new_execution(&mut self) -> Option<Schedule> {
        if self.started {
            return None;
        }
        self.started = true;
        Some(Schedule::new(self.seed))
    }

    fn next_task(
        &mut self,
        runnable: &[&Task],
        current: Option<TaskId>,
        is_yielding: bool,
    ) -> Option<TaskId> {
        self.steps += 1;
        if let Some(cur) = current {
            let cur = usize::from(cur);
            if is_yielding || self.change_points.binary_search(&self.steps).is_ok() {
                self.lower(cur);
            }
        }
        let mut best: Option<(u64, TaskId)> = None;
        for t in runnable {
            let id = t.id();
            let p = self.priority(usize::from(id));
            if best.is_none_or(|(bp, _)| p > bp) {
                best = Some((p, id));
            }
        }
        best.map(|(_, id)| id)
    }

    fn next_u64(&mut self) -> u64 {
        self.rng.next_u64()
    }
}

/// Uniformly random choice at every scheduling point, one seed per execution.
#[derive(Debug)]
pub struct Random {
    rng: Rng,
    seed: u64,
    started: bool,
}

impl Random {
    pub fn new(seed: u64) -> Self {
        Random {
            rng: Rng::new(seed),
            seed,
            started: false,
        }
    }
}

impl Scheduler for Random {
    fn new_execution(&mut self) -> Option<Schedule> {
        if self.started {
            return None;
        }
        self.started = true;
        Some(Schedule::new(self.seed))
    }
    fn next_task(
        &mut self,
        runnable: &[&Task],
        _current: Option<TaskId>,
        _is_yielding: bool,
    ) -> Option<TaskId> {
        Some(runnable[self.rng.below(runnable.len())].id())
    }
    fn next_u64(&mut self) -> u64 {
        self.rng.next_u64()
    }
}

/// Runs every execution under a fresh scheduler from `next`, so each is reproducible from its
/// own input (a seed, a byte string); the run ends when `next` gives None.
pub struct PerExecution<F> {
    next: F,
    inner: Option<Box<dyn Scheduler + Send>>,
}

impl<F> PerExecution<F>
where
    F: FnMut() -> Option<Box<dyn Scheduler + Send>>,
{
    pub fn new(next: F) -> Self {
        PerExecution { next, inner: None }
    }
}

impl<F> Scheduler for PerExecution<F>
where
    F: FnMut() -> Option<Box<dyn Scheduler + Send>>,
{
    fn new_execution(&mut self) -> Option<Schedule> {
        let mut inner = (self.next)()?;
        let s = inner.new_execution();
        self.inner = Some(inner);
        s
    }
    fn next_task(
        &mut self,
        runnable: &[&Task],
        current: Option<TaskId>,
        is_yielding: bool,
    ) -> Option<TaskId> {
        self.inner
            .as_mut()?
            .next_task(runnable, current, is_yielding)
    }
    fn next_u64(&mut self) -> u64 {
        self.inner.as_mut().map_or(0, |s| s.next_u64())
    }
}
