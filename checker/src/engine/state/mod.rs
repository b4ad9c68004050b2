//! `--engine state`: exhaustive exploration without a preemption bound, by remembering the
//! states it has explored (docs/model.md, "The state engine").

pub mod audit;
pub mod bounded;
pub mod compare;
pub mod cycle;
pub mod engine;
pub mod limits;
pub mod parallel;
pub mod por;
pub mod race;
pub mod search;
pub mod shared;
pub mod shortest;

use crate::engine::{Budget, EngineKind, Found, RunResult};
use engine::{SharedLink, StateEngine, StateScheduler};
use kexit_model::world::Outcome;
use kexit_model::Variant;
use kexit_scenarios::world::execute_keeping_kernel;
use kexit_scenarios::Spec;
use parking_lot::Mutex;
use search::{Dfs, StateStats, Stop};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Default)]
pub struct StateRun {
    pub stats: StateStats,
    pub exhaustive: bool,
    pub stopped: Option<Stop>,
    pub found: Option<Outcome>,
    pub lines: Vec<u64>,
    pub error: Option<String>,
}

/// `kexit check --engine state`: the search on a worker thread while this one reports the
/// number of states to `progress`.
pub fn run(
    spec: &Spec,
    variant: &Variant,
    budget: &Budget,
    opts: &Options,
    progress: &(dyn Fn(u64) + Sync),
) -> RunResult {
    let started = Instant::now();
    let states = Arc::new(AtomicU64::new(0));
    let r = std::thread::scope(|s| {
        let worker = s.spawn(|| explore(spec, variant, budget, opts, &states));
        while !worker.is_finished() {
            progress(states.load(SeqCst));
            std::thread::park_timeout(Duration::from_millis(50));
        }
        worker.join()
    });
    let mut r = r.unwrap_or_else(|p| StateRun {
        error: Some(crate::engine::panic_text(&p)),
        ..StateRun::default()
    });
    r.stats.workers = r.stats.workers.max(1);
    progress(r.stats.states);
    RunResult {
        engine: EngineKind::State,
        executions: r.stats.executions,
        points: 0,
        exhaustive: r.exhaustive,
        elapsed: started.elapsed(),
        found: r.found.map(|outcome| Found {
            outcome,
            seed: None,
        }),
        lines: r.lines,
        error: r.error,
        state: Some(r.stats),
    }
}

/// How the state engine searches.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Breadth-first, for a shortest counterexample (no reduction).
    pub shortest: bool,
    /// Depth-first without partial-order reduction (every enabled actor at every state).
    pub full: bool,
    /// Collect the final state (fingerprint and violation kind) of every execution that ran
    /// to its end, for comparisons with other engines.
    pub finals: Option<Arc<Mutex<Finals>>>,
}

/// Final outcomes: the final kernel's fingerprint and the violation, if any.
pub type Finals = std::collections::BTreeSet<(u128, Option<kexit_model::ViolationKind>)>;

/// A search strategy `explore` can run: a chooser that keeps its counts and limits.
pub trait Search: engine::Chooser + Send + 'static {
    fn limits(&self) -> &search::Limits;
}

impl Search for Dfs {
    fn limits(&self) -> &search::Limits {
        &self.limits
    }
}

impl Search for bounded::Bounded {
    fn limits(&self) -> &search::Limits {
        &self.limits
    }
}

impl Search for shortest::Bfs {
    fn limits(&self) -> &search::Limits {
        &self.limits
    }
}

/// Runs the state search on `spec` in the calling thread; `states` follows the count.
pub fn explore(
    spec: &Spec,
    variant: &Variant,
    budget: &Budget,
    opts: &Options,
    states: &Arc<AtomicU64>,
) -> StateRun {
    if opts.shortest {
        let bfs = shortest::Bfs::new(budget, states.clone());
        explore_with(bfs, spec, variant, opts)
    } else {
        // The first pass only looks for violations: not before a search whose final states
        // are compared, nor before the search without reduction.
        let mut first = 0;
        if !opts.full && opts.finals.is_none() {
            match first_pass(spec, variant, budget, states) {
                Ok(found) => return found,
                Err(executions) => first = executions,
            }
        }
        let mut r = if budget.state_workers > 1 && !opts.full {
            parallel::explore(spec, variant, budget, opts, states, budget.state_workers)
        } else {
            let dfs = Dfs::new(budget, opts.full, states.clone());
            explore_with(dfs, spec, variant, opts)
        };
        r.stats.first_pass_executions = first;
        r.stats.first_pass_tried = bounded::BOUND;
        r
    }
}

/// The schedules with few preemptions first (`bounded.rs`): the run that found a violation
/// (or failed), if it did; else the executions it took.
fn first_pass(
    spec: &Spec,
    variant: &Variant,
    budget: &Budget,
    states: &Arc<AtomicU64>,
) -> Result<StateRun, u64> {
    let pass = bounded::Bounded::new(bounded::BOUND, budget, states.clone());
    let mut r = explore_with(pass, spec, variant, &Options::default());
    if r.found.is_none() && r.error.is_none() {
        return Err(r.stats.executions);
    }
    r.exhaustive = false;
    r.stats.first_pass_bound = Some(bounded::BOUND);
    Ok(r)
}

pub(crate) fn explore_with<S: Search>(
    search: S,
    spec: &Spec,
    variant: &Variant,
    opts: &Options,
) -> StateRun {
    crate::engine::install_quiet_panic_hook();
    let link: SharedLink = Arc::default();
    let stop = search.limits().stop.clone();
    let search = Arc::new(Mutex::new(search));
    let finals = opts.finals.clone();
    let found: Arc<Mutex<Option<Outcome>>> = Arc::default();
    let lines: Arc<Mutex<Vec<u64>>> = Arc::default();
    let sched = StateScheduler::new(search.clone(), link.clone());
    let (s, v, f, ln, st) = (
        Arc::new(spec.clone()),
        Arc::new(variant.clone()),
        found.clone(),
        lines.clone(),
        stop.clone(),
    );
    let body = move || {
        let mut out = execute_keeping_kernel(
            &s,
            &v,
            StateEngine::new(link.clone()),
            &*crate::engine::shuttle::shuttle_spawn(),
        );
        let kernel = out.kernel.take().expect("kept");
        crate::engine::merge_lines(&mut ln.lock(), &out.lines);
        // A cut execution stopped half-way: its final state is no final state.
        let cut = link.lock().is_cut();
        if let (Some(fin), false) = (&finals, cut) {
            let kind = out.violation.as_ref().map(|v| v.kind);
            fin.lock().insert((kernel.fingerprint(), kind));
        }
        if out.violation.is_some() && !cut {
            let mut f = f.lock();
            if f.is_none() {
                *f = Some(out);
            }
            st.store(true, SeqCst);
        }
    };
    let r = catch_unwind(AssertUnwindSafe(|| {
        shuttle::Runner::new(sched, crate::engine::shuttle_config()).run(body)
    }));
    let search = search.lock();
    let (stats, exhausted, stopped) = {
        let l = search.limits();
        (l.stats.clone(), l.exhausted, l.stopped)
    };
    let found = found.lock().take();
    let error = r.err().map(|p| {
        format!(
            "model panicked under the state engine: {}",
            crate::engine::panic_text(&p)
        )
    });
    let lines = std::mem::take(&mut *lines.lock());
    StateRun {
        stats,
        exhaustive: exhausted && found.is_none() && error.is_none(),
        stopped,
        found,
        lines,
        error,
    }
}
