//! The control block one run's workers share: they claim executions from it within the
//! budget, report each execution's outcome to it, and it makes the run's result. The first
//! violation is the one with the smallest seed, whatever the number of workers.

use super::{merge_lines, panic_text, Budget, EngineKind, Found, RunResult};
use kexit_model::world::Outcome;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(super) struct Ctl {
    pub(super) executions: AtomicU64,
    pub(super) points: AtomicU64,
    pub(super) stop: AtomicBool,
    pub(super) budget_hit: AtomicBool,
    /// The number of the earliest execution (from the first seed) that found a violation:
    /// no later one is claimed, and earlier ones still running finish, so the reported
    /// violation is the one with the smallest seed whatever `--jobs` is.
    pub(super) first_found: AtomicU64,
    pub(super) found: Mutex<Option<Found>>,
    pub(super) lines: Mutex<Vec<u64>>,
    pub(super) start: Instant,
    pub(super) budget: Budget,
}

impl Ctl {
    pub(super) fn new(budget: &Budget) -> Arc<Ctl> {
        Arc::new(Ctl {
            executions: AtomicU64::new(0),
            points: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            budget_hit: AtomicBool::new(false),
            first_found: AtomicU64::new(u64::MAX),
            found: Mutex::new(None),
            lines: Mutex::new(Vec::new()),
            start: Instant::now(),
            budget: budget.clone(),
        })
    }

    /// Claims the next execution, or says the budget is spent.
    pub(super) fn claim(&self) -> Option<u64> {
        if self.stop.load(SeqCst) {
            return None;
        }
        if crate::interrupt::requested() {
            // Stopped from outside: not exhaustive, like a budget that ran out.
            self.budget_hit.store(true, SeqCst);
            return None;
        }
        let over_time = self
            .budget
            .time_limit
            .is_some_and(|t| self.start.elapsed() >= t);
        let n = self.executions.fetch_add(1, SeqCst);
        if n > self.first_found.load(SeqCst) {
            self.executions.fetch_sub(1, SeqCst);
            return None;
        }
        if n >= self.budget.iterations || over_time {
            self.executions.fetch_sub(1, SeqCst);
            self.budget_hit.store(true, SeqCst);
            return None;
        }
        Some(n)
    }

    /// The run's result; exhaustive only if the engine finished its exploration without a
    /// violation, an error or the budget stopping it.
    pub(super) fn result(
        &self,
        engine: EngineKind,
        explored_all: bool,
        error: Option<String>,
    ) -> RunResult {
        let found = self.found.lock().take();
        // With a seeded violation, the executions up to it, as one worker would have run them.
        let executions = match self.first_found.load(SeqCst) {
            u64::MAX => self.executions.load(SeqCst),
            n => n + 1,
        };
        RunResult {
            engine,
            executions,
            points: self.points.load(SeqCst),
            exhaustive: explored_all
                && found.is_none()
                && error.is_none()
                && !self.budget_hit.load(SeqCst),
            elapsed: self.start.elapsed(),
            found,
            lines: std::mem::take(&mut *self.lines.lock()),
            error,
            state: None,
        }
    }

    pub(super) fn done(&self, out: Outcome, seed: Option<u64>) {
        self.points.fetch_add(out.points as u64, SeqCst);
        merge_lines(&mut self.lines.lock(), &out.lines);
        if out.violation.is_none() {
            return;
        }
        let mut f = self.found.lock();
        match seed {
            // The earliest seeded execution wins; later ones are no longer claimed.
            Some(s) => {
                let n = s.wrapping_sub(self.budget.seed);
                if n < self.first_found.load(SeqCst) {
                    self.first_found.store(n, SeqCst);
                    *f = Some(Found { outcome: out, seed });
                }
            }
            None => {
                if f.is_none() {
                    *f = Some(Found { outcome: out, seed });
                }
                self.stop.store(true, SeqCst);
            }
        }
    }
}

/// Runs `work` on `jobs` OS threads while the calling thread reports progress.
/// Runs `work` on `jobs` OS threads while the calling thread reports progress.
pub(super) fn parallel(
    ctl: &Arc<Ctl>,
    progress: &(dyn Fn(u64) + Sync),
    work: impl Fn(usize) -> Option<String> + Sync,
) -> Option<String> {
    let jobs = ctl.budget.jobs.max(1);
    let reporter = std::thread::current();
    let finished = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..jobs)
            .map(|j| {
                let (work, reporter, finished) = (&work, reporter.clone(), &finished);
                s.spawn(move || {
                    let r = work(j);
                    // The run ends when its last worker does, not at the next progress tick.
                    finished.fetch_add(1, SeqCst);
                    reporter.unpark();
                    r
                })
            })
            .collect();
        while finished.load(SeqCst) < jobs {
            progress(ctl.executions.load(SeqCst));
            std::thread::park_timeout(Duration::from_millis(50));
        }
        handles.into_iter().find_map(|h| match h.join() {
            Ok(r) => r,
            Err(p) => Some(panic_text(&p)),
        })
    })
}
