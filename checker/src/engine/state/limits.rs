//! What a state search counts and the budgets that may end it before it has explored
//! everything.

use crate::engine::Budget;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Instant;

/// Counts a state search reports.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct StateStats {
    /// Distinct states (fingerprints) reached.
    pub states: u64,
    /// Decisions taken into a state (edges of the state graph explored).
    pub transitions: u64,
    /// Decisions replayed to reach the point where an execution leaves the explored paths
    /// (each execution re-runs the model from the initial state).
    pub replayed: u64,
    pub executions: u64,
    /// The most decisions on one path from the initial state.
    pub max_depth: u64,
    /// Edges into a state already on the current path (cycles of the state graph).
    pub cycles: u64,
    /// The preemption bound of the first pass (`bounded.rs`) that found the violation; the
    /// other counts are then that pass's.
    pub first_pass_bound: Option<u32>,
    /// The preemption bound of the first pass that ran (meaningful when it ran).
    #[serde(skip)]
    pub first_pass_tried: u32,
    /// Executions of a first pass that found nothing, before the search these counts are of.
    pub first_pass_executions: u64,
    /// The fair cycle (a livelock) the search went round, if it found one (`cycle.rs`).
    pub livelock: Option<super::cycle::Cycle>,
    /// Replayed decisions that reached another state than the first time (nondeterminism:
    /// must stay 0; checked at the last replayed decision of each execution).
    pub divergences: u64,
    /// Races whose actor was not enabled where the race began, so that every actor enabled
    /// there was scheduled for exploration.
    pub fallbacks: u64,
    /// Visited states explored again because a path reached them with an actor awake that
    /// was asleep at their exploration (sleep sets).
    pub reopened: u64,
    /// States where every enabled actor was asleep (nothing left to explore from them).
    pub sleep_blocked: u64,
    /// Workers that searched together (`parallel.rs`); their work is summed in the counts
    /// above, and `states` counts each distinct state once.
    pub workers: u64,
    /// With `--shortest`: the decisions of the violating schedule, the fewest any schedule
    /// to a violation takes.
    pub counterexample_decisions: Option<u64>,
}

impl StateStats {
    /// One line of the counts for a report.
    pub fn describe(&self, seconds: f64) -> String {
        let rate = if seconds > 0.0 {
            self.states as f64 / seconds
        } else {
            0.0
        };
        let mut line = format!(
            "states {}, transitions {}, executions {}, max depth {}, {:.0} states/s",
            self.states, self.transitions, self.executions, self.max_depth, rate
        );
        if self.workers > 1 {
            line.push_str(&format!(", {} workers", self.workers));
        }
        if self.first_pass_executions > 0 {
            line.push_str(&format!(
                "\n    after a first pass over the schedules with {}: {} executions, nothing found",
                preemptions(self.first_pass_tried),
                self.first_pass_executions
            ));
        }
        if let Some(b) = self.first_pass_bound {
            line.push_str(&format!(
                "\n    found by the first pass, over the schedules with {}",
                preemptions(b)
            ));
        }
        if let Some(c) = &self.livelock {
            line.push_str(&format!(
                "\n    livelock: a fair cycle of {} decisions (actors {:?} in turn) entered after {} decisions; the schedule goes round it until the step budget",
                c.actors.len(),
                c.actors,
                c.entered_after
            ));
        }
        line
    }
}

fn preemptions(bound: u32) -> String {
    match bound {
        1 => "at most 1 preemption".to_string(),
        n => format!("at most {n} preemptions"),
    }
}

/// The peak resident memory of this process in MiB (Linux; None elsewhere).
pub fn peak_memory_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
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

/// The counts of a search and what may end it before it has explored everything.
pub struct Limits {
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

impl Limits {
    pub fn new(budget: &Budget, shown: Arc<AtomicU64>) -> Self {
        Limits {
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

    /// Whether the search was asked to stop (and records it).
    pub fn requested(&mut self) -> bool {
        self.shown.store(self.stats.states, SeqCst);
        let asked = self.stop.load(SeqCst) || crate::interrupt::requested();
        if asked {
            self.stopped.get_or_insert(Stop::Requested);
        }
        asked
    }

    /// Whether another execution fits the state, execution and time budgets (a search that
    /// stops here is not exhaustive).
    pub fn within_budget(&mut self) -> bool {
        if self.stats.states >= self.max_states || self.stats.executions >= self.max_executions {
            self.stopped = Some(Stop::MaxStates);
            return false;
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            self.stopped = Some(Stop::TimeLimit);
            return false;
        }
        self.stats.executions += 1;
        true
    }
}
