//! Runs a scenario on an engine within a budget the harness enforces itself, stopping at the
//! first violation. Loom explores exhaustively (optionally preemption-bounded); the shuttle
//! engines run one seeded execution at a time, so every execution is reproducible from its
//! seed; the OS engine races real threads.

mod ctl;
mod loom;

use self::ctl::Ctl;
pub use self::loom::loom_builder;
use self::loom::run_loom;
use crate::engines::*;
use crate::pct::{Pct, PerExecution, Random};
use kexit_model::world::{execute, execute_keeping_kernel, Outcome};
use kexit_model::{Spec, Variant};
use serde::{Deserialize, Serialize};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum EngineKind {
    Loom,
    Pct,
    Random,
    Dfs,
    Urw,
    Os,
    /// Depth-first search with a visited-state set: exhaustive without a bound.
    State,
}

impl EngineKind {
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::Loom => "loom",
            EngineKind::Pct => "pct",
            EngineKind::Random => "random",
            EngineKind::Dfs => "dfs",
            EngineKind::Urw => "urw",
            EngineKind::Os => "os",
            EngineKind::State => "state",
        }
    }
    pub fn seeded(self) -> bool {
        matches!(self, EngineKind::Pct | EngineKind::Random | EngineKind::Urw)
    }
    /// Executions when none are asked for (`scale` 10 with `--deep`): the exhaustive engines
    /// run to their end, the others within a budget.
    pub fn default_iterations(self, scale: u64) -> u64 {
        match self {
            EngineKind::Loom | EngineKind::State => u64::MAX,
            EngineKind::Os => 1_000 * scale,
            EngineKind::Dfs => 100_000 * scale,
            _ => 10_000 * scale,
        }
    }
}

/// The state engine's default state budget (about 100 bytes of memory per state).
pub const DEFAULT_MAX_STATES: u64 = 20_000_000;

/// Loom allows 5 threads including the harness.
pub const LOOM_MAX_ACTORS: usize = 4;

#[derive(Clone, Debug)]
pub struct Budget {
    pub iterations: u64,
    pub time_limit: Option<Duration>,
    pub seed: u64,
    pub preemption_bound: Option<usize>,
    /// Explore only at `preemption_bound`, not at every bound up to it (the state-space size
    /// of one bound, for the benchmarks).
    pub single_bound: bool,
    pub jobs: usize,
    /// Workers sharing one state search (`state/parallel.rs`); only an explicit `--jobs`
    /// asks for more than one, since their counts vary from run to run.
    pub state_workers: usize,
    pub pct_depth: usize,
    /// The state engine stops (not exhaustive) after this many distinct states.
    pub max_states: u64,
    /// The state engine searches breadth-first for a shortest counterexample.
    pub shortest: bool,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            iterations: 10_000,
            time_limit: None,
            seed: 0,
            preemption_bound: None,
            single_bound: false,
            jobs: 1,
            state_workers: 1,
            pct_depth: 3,
            max_states: DEFAULT_MAX_STATES,
            shortest: false,
        }
    }
}

pub struct Found {
    pub outcome: Outcome,
    /// The seed that reproduces it on a seeded engine.
    pub seed: Option<u64>,
}

pub struct RunResult {
    pub engine: EngineKind,
    pub executions: u64,
    /// Scheduling points summed over every execution (0 when the run happened in a worker).
    pub points: u64,
    pub exhaustive: bool,
    pub elapsed: Duration,
    pub found: Option<Found>,
    pub lines: Vec<u64>,
    /// A model panic, or why the run could not start.
    pub error: Option<String>,
    /// What the state engine counted (states, transitions, depth).
    pub state: Option<crate::state::search::StateStats>,
}

/// Adds one execution's covered seed lines (a bit set) to `acc`.
pub fn merge_lines(acc: &mut Vec<u64>, lines: &[u64]) {
    if acc.len() < lines.len() {
        acc.resize(lines.len(), 0);
    }
    for (a, b) in acc.iter_mut().zip(lines) {
        *a |= *b;
    }
}

/// Payload of the panic that ends a loom exploration early.
struct StopExploration;

thread_local! {
    /// Set while this thread explores with loom, which unwinds its threads with panics.
    static IN_LOOM: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Keeps loom's internal panics and the panic that stops an exploration from printing,
/// while every other panic still reaches the previous hooks. Shuttle installs its own hook
/// once, wrapping whatever is there; ours must wrap shuttle's, so shuttle's goes in first.
pub fn install_quiet_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = catch_unwind(|| shuttle::Runner::new(Random::new(0), shuttle_config()).run(|| {}));
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().is::<StopExploration>() || IN_LOOM.with(|f| f.get()) {
                return;
            }
            prev(info)
        }));
    });
}

/// Runs a loom exploration on this thread with loom's own unwinding kept quiet; `f` may end
/// the exploration early with [`stop_exploration`], which is then not an error.
pub fn loom_quietly(f: impl FnOnce()) -> Result<(), String> {
    install_quiet_panic_hook();
    IN_LOOM.with(|x| x.set(true));
    let r = catch_unwind(AssertUnwindSafe(f));
    IN_LOOM.with(|x| x.set(false));
    match r {
        Ok(()) => Ok(()),
        Err(p) if p.is::<StopExploration>() => Ok(()),
        Err(p) => Err(panic_text(&p)),
    }
}

/// Ends the loom exploration running on this thread (inside [`loom_quietly`]).
pub fn stop_exploration() -> ! {
    std::panic::panic_any(StopExploration)
}

pub fn run(
    spec: &Spec,
    variant: &Variant,
    engine: EngineKind,
    budget: &Budget,
    progress: &(dyn Fn(u64) + Sync),
) -> RunResult {
    install_quiet_panic_hook();
    if engine == EngineKind::State {
        let opts = crate::state::Options {
            shortest: budget.shortest,
            ..Default::default()
        };
        return crate::state::run(spec, variant, budget, &opts, progress);
    }
    let ctl = Ctl::new(budget);
    let spec = Arc::new(spec.clone());
    let variant = Arc::new(variant.clone());
    let mut exhaustive = false;
    let error = match engine {
        EngineKind::Loom => run_loom(&spec, &variant, &ctl, &mut exhaustive),
        EngineKind::Dfs => run_dfs(&spec, &variant, &ctl, &mut exhaustive),
        EngineKind::Os => parallel(&ctl, progress, |_| {
            while ctl.claim().is_some() {
                ctl.done(execute(&spec, &variant, OsEngine, &*os_spawn()), None);
            }
            None
        }),
        EngineKind::State => unreachable!("handled above"),
        EngineKind::Pct | EngineKind::Random | EngineKind::Urw => {
            let estimate = calibrate(&spec, &variant);
            parallel(&ctl, progress, |_| {
                shuttle_seeds(&spec, &variant, engine, budget.pct_depth, estimate, &ctl)
            })
        }
    };
    progress(ctl.executions.load(SeqCst));
    ctl.result(engine, exhaustive, error)
}

/// Runs `work` on `jobs` OS threads while the calling thread reports progress.
fn parallel(
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

pub fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "model panicked".to_string()
    }
}

pub fn shuttle_config() -> shuttle::Config {
    let mut c = shuttle::Config::new();
    c.failure_persistence = shuttle::FailurePersistence::None;
    c.max_steps = shuttle::MaxSteps::FailAfter(5_000_000);
    c.silence_warnings = true;
    c
}

/// Execution length (scheduling decisions) under a fixed schedule, for PCT's change points.
fn calibrate(spec: &Arc<Spec>, variant: &Arc<Variant>) -> usize {
    let len = Arc::new(AtomicU64::new(0));
    let (s, v, l) = (spec.clone(), variant.clone(), len.clone());
    let r = catch_unwind(AssertUnwindSafe(|| {
        shuttle::Runner::new(Random::new(0), shuttle_config()).run(move || {
            let out = execute(&s, &v, ShuttleEngine::new(), &*shuttle_spawn());
            l.store(out.schedule.len() as u64, SeqCst);
        })
    }));
    if r.is_err() {
        return 100;
    }
    (len.load(SeqCst) as usize * 2).max(10)
}

/// The scheduler of one execution of a seeded engine (pct, random, urw).
pub fn seeded_scheduler(
    engine: EngineKind,
    seed: u64,
    pct_depth: usize,
    length_estimate: usize,
) -> Box<dyn shuttle::scheduler::Scheduler + Send> {
    match engine {
        EngineKind::Pct => Box::new(Pct::new(seed, pct_depth, length_estimate)),
        EngineKind::Random => Box::new(Random::new(seed)),
        _ => Box::new(shuttle::scheduler::UrwRandomScheduler::new_from_seed(
            seed, 1,
        )),
    }
}

fn shuttle_seeds(
    spec: &Arc<Spec>,
    variant: &Arc<Variant>,
    engine: EngineKind,
    depth: usize,
    estimate: usize,
    ctl: &Arc<Ctl>,
) -> Option<String> {
    // One scheduler per execution, each from its own seed (base + execution number), inside
    // one shuttle run so the run's thread stacks are reused between executions.
    let current = Arc::new(AtomicU64::new(0));
    let (c, cur) = (ctl.clone(), current.clone());
    let sched = PerExecution::new(move || {
        let seed = c.budget.seed.wrapping_add(c.claim()?);
        cur.store(seed, SeqCst);
        Some(seeded_scheduler(engine, seed, depth, estimate))
    });
    let (s, v, c, cur) = (spec.clone(), variant.clone(), ctl.clone(), current.clone());
    let body = move || {
        let out = execute(&s, &v, ShuttleEngine::new(), &*shuttle_spawn());
        c.done(out, Some(cur.load(SeqCst)));
    };
    let r = catch_unwind(AssertUnwindSafe(|| {
        shuttle::Runner::new(sched, shuttle_config()).run(body)
    }));
    r.err().map(|p| {
        ctl.stop.store(true, SeqCst);
        format!(
            "model panicked under {} seed {}: {}",
            engine.name(),
            current.load(SeqCst),
            panic_text(&p)
        )
    })
}

/// DFS with a wrapper that stops it when the harness says so; exhaustive when DFS itself ends.
struct Stoppable<S> {
    inner: S,
    ctl: Arc<Ctl>,
    exhausted: Arc<AtomicBool>,
}

impl<S: shuttle::scheduler::Scheduler> shuttle::scheduler::Scheduler for Stoppable<S> {
    fn new_execution(&mut self) -> Option<shuttle::scheduler::Schedule> {
        self.ctl.claim()?;
        let s = self.inner.new_execution();
        if s.is_none() {
            self.ctl.executions.fetch_sub(1, SeqCst);
            self.exhausted.store(true, SeqCst);
        }
        s
    }
    fn next_task(
        &mut self,
        runnable: &[&shuttle::scheduler::Task],
        current: Option<shuttle::scheduler::TaskId>,
        is_yielding: bool,
    ) -> Option<shuttle::scheduler::TaskId> {
        self.inner.next_task(runnable, current, is_yielding)
    }
    fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }
}

fn run_dfs(
    spec: &Arc<Spec>,
    variant: &Arc<Variant>,
    ctl: &Arc<Ctl>,
    exhaustive: &mut bool,
) -> Option<String> {
    let exhausted = Arc::new(AtomicBool::new(false));
    let sched = Stoppable {
        inner: shuttle::scheduler::DfsScheduler::new(None, false),
        ctl: ctl.clone(),
        exhausted: exhausted.clone(),
    };
    let (s, v, c) = (spec.clone(), variant.clone(), ctl.clone());
    let r = catch_unwind(AssertUnwindSafe(|| {
        shuttle::Runner::new(sched, shuttle_config()).run(move || {
            let out = execute(&s, &v, ShuttleEngine::new(), &*shuttle_spawn());
            c.done(out, None);
        })
    }));
    *exhaustive = exhausted.load(SeqCst);
    r.err()
        .map(|p| format!("model panicked under dfs: {}", panic_text(&p)))
}

/// Re-runs one execution from its recorded schedule.
pub fn replay(spec: &Spec, variant: &Variant, schedule: &[u8]) -> Outcome {
    let mut out = replay_keeping_kernel(spec, variant, schedule);
    out.kernel = None;
    out
}

/// `replay`, keeping the final kernel state in `Outcome::kernel`.
pub fn replay_keeping_kernel(spec: &Spec, variant: &Variant, schedule: &[u8]) -> Outcome {
    let engine = ReplayEngine::new(schedule.to_vec());
    let spawn = engine.spawner();
    execute_keeping_kernel(spec, variant, engine, &*spawn)
}

/// Runs a seeded shuttle engine (pct, random, urw) in the calling thread, with no worker or
/// progress thread: for callers that run many small budgets (`kexit fuzz`, property tests),
/// where starting threads would cost more than the executions themselves.
pub fn run_here(spec: &Spec, variant: &Variant, engine: EngineKind, budget: &Budget) -> RunResult {
    assert!(
        engine.seeded(),
        "run_here runs the seeded shuttle engines only"
    );
    install_quiet_panic_hook();
    let ctl = Ctl::new(budget);
    let spec = Arc::new(spec.clone());
    let variant = Arc::new(variant.clone());
    let estimate = calibrate(&spec, &variant);
    let error = shuttle_seeds(&spec, &variant, engine, budget.pct_depth, estimate, &ctl);
    ctl.result(engine, false, error)
}
