//! Several workers on one scenario's search (`--jobs N`, one scenario): each runs the
//! depth-first search from the initial state in its own order of choices, and all of them
//! share one visited set of states explored to the end (`search::Shared`). A worker cuts at a
//! state another worker has finished exactly as at one it finished itself (the state's
//! summary says what may follow it), and explores a state another worker is still exploring
//! on its own. So each worker's search is complete by itself, whatever the others did; the
//! others only spare it work, and the first worker to finish ends the search, exhaustively.
//!
//! Which worker explores what depends on timing, so the counts vary from run to run; the
//! verdict does not. When a worker finds a violation, the search stops and runs again on one
//! worker, so that the counterexample is the one `--jobs 1` reports.

use super::search::{Dfs, SharedTable, StateStats};
use super::{explore_with, Options, StateRun};
use crate::engine::Budget;
use kexit_model::Variant;
use kexit_scenarios::Spec;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

/// The depth-first search on `workers` threads; `states` follows the number of states the
/// workers have explored together (states two workers both explored count twice there, not in
/// the result).
pub fn explore(
    spec: &Spec,
    variant: &Variant,
    budget: &Budget,
    opts: &Options,
    states: &Arc<AtomicU64>,
    workers: usize,
) -> StateRun {
    let shared = SharedTable::default();
    let stop = Arc::new(AtomicBool::new(false));
    let counts: Vec<Arc<AtomicU64>> = (0..workers).map(|_| Arc::default()).collect();
    let runs: Vec<StateRun> = std::thread::scope(|s| {
        let handles: Vec<_> = counts
            .iter()
            .enumerate()
            .map(|(w, count)| {
                let (shared, stop, count) = (shared.clone(), stop.clone(), count.clone());
                s.spawn(move || {
                    let mut dfs = Dfs::worker(budget, false, count, shared, w);
                    dfs.limits.stop = stop.clone();
                    let r = explore_with(dfs, spec, variant, opts);
                    // Finished (or found something): the others have nothing left to do.
                    if r.exhaustive || r.found.is_some() || r.error.is_some() {
                        stop.store(true, SeqCst);
                    }
                    r
                })
            })
            .collect();
        while !handles.iter().all(|h| h.is_finished()) {
            states.store(counts.iter().map(|c| c.load(SeqCst)).sum(), SeqCst);
            std::thread::park_timeout(Duration::from_millis(50));
        }
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|p| StateRun {
                    error: Some(crate::engine::panic_text(&p)),
                    ..StateRun::default()
                })
            })
            .collect()
    });
    if runs.iter().any(|r| r.found.is_some()) {
        let dfs = Dfs::new(budget, false, states.clone());
        return explore_with(dfs, spec, variant, opts);
    }
    let explored = shared.lock().explored();
    merge(runs, explored)
}

/// One result for the whole search: exhaustive when a worker finished; the work of all of
/// them (executions, transitions, ...), and the distinct states explored to the end.
fn merge(runs: Vec<StateRun>, explored: u64) -> StateRun {
    let mut out = StateRun::default();
    let mut stats = StateStats::default();
    for r in &runs {
        let s = &r.stats;
        stats.transitions += s.transitions;
        stats.replayed += s.replayed;
        stats.executions += s.executions;
        stats.cycles += s.cycles;
        stats.divergences += s.divergences;
        stats.fallbacks += s.fallbacks;
        stats.reopened += s.reopened;
        stats.sleep_blocked += s.sleep_blocked;
        stats.max_depth = stats.max_depth.max(s.max_depth);
        crate::engine::merge_lines(&mut out.lines, &r.lines);
    }
    stats.states = explored;
    stats.workers = runs.len() as u64;
    out.error = runs.iter().find_map(|r| r.error.clone());
    out.exhaustive = out.error.is_none() && runs.iter().any(|r| r.exhaustive);
    if !out.exhaustive {
        // Why the search ended: a budget or an interruption, not another worker's end.
        out.stopped = runs.iter().find_map(|r| r.stopped);
    }
    out.stats = stats;
    out
}
