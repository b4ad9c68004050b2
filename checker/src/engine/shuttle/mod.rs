//! The shuttle engines: seeded executions under PCT, random and uniform-random-walk schedulers
//! (each reproducible from its seed), shuttle's DFS, and the model's seam on shuttle.

pub mod bytes;
pub mod pct;

use super::ctl::{parallel, Ctl};
use super::{install_quiet_panic_hook, panic_text, Budget, EngineKind, RunResult};
use kexit_model::engine::{ActorId, Engine, Obj};
use kexit_model::world::Spawner;
use kexit_model::Variant;
use kexit_scenarios::world::execute;
use kexit_scenarios::Spec;
use pct::{Pct, PerExecution, Random};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::Arc;

/// Runs a seeded engine (pct, random, urw) on `budget.jobs` threads.
pub(super) fn run_seeded(
    spec: &Arc<Spec>,
    variant: &Arc<Variant>,
    engine: EngineKind,
    ctl: &Arc<Ctl>,
    progress: &(dyn Fn(u64) + Sync),
) -> Option<String> {
    let estimate = calibrate(spec, variant);
    parallel(ctl, progress, |_| {
        shuttle_seeds(spec, variant, engine, ctl.budget.pct_depth, estimate, ctl)
    })
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

pub(super) fn run_dfs(
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

/// Runs a seeded shuttle engine (pct, random, urw) in the calling thread, with no worker or
/// progress thread: for callers that run many small budgets (`kexit fuzz`, property tests),
/// where starting threads would cost more than the executions themselves.
pub fn run_here(spec: &Spec, variant: &Variant, engine: EngineKind, budget: &Budget) -> RunResult {
    assert!(
        engine.seeded(),
        "run_here runs the seeded shuttle engines only"
    );
    if engine == EngineKind::Bytes {
        return bytes::run_random(spec, variant, budget);
    }
    install_quiet_panic_hook();
    let ctl = Ctl::new(budget);
    let spec = Arc::new(spec.clone());
    let variant = Arc::new(variant.clone());
    let estimate = calibrate(&spec, &variant);
    let error = shuttle_seeds(&spec, &variant, engine, budget.pct_depth, estimate, &ctl);
    ctl.result(engine, false, error)
}
/// Shuttle's `park` may wake spuriously, which multiplies executions and makes DFS spin;
/// actors block on a channel of their own instead (no spurious wakeups).
pub struct ShuttleEngine {
    point: shuttle::sync::atomic::AtomicUsize,
    wake: Vec<shuttle::sync::mpsc::Sender<()>>,
    // Each receiver is only ever used by its own actor.
    wait: Vec<std::sync::Mutex<shuttle::sync::mpsc::Receiver<()>>>,
}

impl Default for ShuttleEngine {
    fn default() -> Self {
        Self::new()
    }
}

impl ShuttleEngine {
    pub fn new() -> Self {
        ShuttleEngine {
            point: shuttle::sync::atomic::AtomicUsize::new(0),
            wake: Vec::new(),
            wait: Vec::new(),
        }
    }
}

impl Engine for ShuttleEngine {
    type Thread = ActorId;
    fn switch_point(&self, _me: ActorId, _objs: &[Obj]) -> bool {
        self.point.fetch_add(1, SeqCst);
        true
    }
    fn prepare(&mut self, _objs: &[Obj], actors: usize) {
        for _ in 0..actors {
            let (tx, rx) = shuttle::sync::mpsc::channel();
            self.wake.push(tx);
            self.wait.push(std::sync::Mutex::new(rx));
        }
    }
    fn current(&self, me: ActorId) -> Self::Thread {
        me
    }
    fn park(&self, me: ActorId) {
        let _ = self.wait[me].lock().expect("own receiver").recv();
    }
    fn unpark(&self, t: &Self::Thread) {
        let _ = self.wake[*t].send(());
    }
}

pub fn shuttle_spawn() -> Box<Spawner> {
    Box::new(|f| {
        let h = shuttle::thread::spawn(f);
        Box::new(move || h.join().expect("model thread panicked"))
    })
}
