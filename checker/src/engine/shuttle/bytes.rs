//! Byte-driven schedules: a shuttle scheduler whose every choice is read from a byte string,
//! normally a fuzzer's input. A coverage-guided fuzzer then steers the interleaving itself:
//! its mutations are edits of the schedule, and inputs that reach new model code are kept.
//!
//! Encoding: at each scheduling decision with more than one runnable task, one byte picks
//! `byte % n` among the candidates, the current task first (unless it yields) and then the
//! others in shuttle's order. A zero byte therefore means "no preemption", and when the bytes
//! run out every later decision takes the first candidate: the current task runs on until it
//! blocks. Short inputs are short schedules (a few preemptions early on), which is what
//! libFuzzer starts from and what bolero's exhaustive mode can enumerate. Decisions with a
//! single runnable task consume nothing.

use super::{shuttle_spawn, ShuttleEngine};
use crate::engine::shuttle::pct::{PerExecution, Rng};
use crate::engine::{panic_text, Budget, EngineKind, Found, RunResult};
use kexit_model::world::Outcome;
use kexit_model::Variant;
use kexit_scenarios::world::execute;
use kexit_scenarios::Spec;
use parking_lot::Mutex;
use shuttle::scheduler::{Schedule, Scheduler, Task, TaskId};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Instant;

/// One execution's scheduler, reading its choices from `bytes`.
#[derive(Debug)]
pub struct ByteScheduler {
    bytes: Vec<u8>,
    pos: usize,
    started: bool,
    /// Decisions with a real choice, shared so the caller can read it after the run.
    decisions: Arc<AtomicU64>,
}

impl ByteScheduler {
    pub fn new(bytes: Vec<u8>) -> Self {
        ByteScheduler {
            bytes,
            pos: 0,
            started: false,
            decisions: Arc::new(AtomicU64::new(0)),
        }
    }

    fn take(&mut self) -> Option<u8> {
        let b = self.bytes.get(self.pos).copied();
        self.pos += b.is_some() as usize;
        b
    }

    fn choose(&mut self, runnable: &[&Task], current: Option<TaskId>, yielding: bool) -> TaskId {
        let cur = current.filter(|c| !yielding && runnable.iter().any(|t| t.id() == *c));
        let n = runnable.len();
        if n == 1 {
            return runnable[0].id();
        }
        self.decisions.fetch_add(1, SeqCst);
        let pick = self.take().map_or(0, |b| b as usize % n);
        match cur {
            Some(c) if pick == 0 => c,
            Some(c) => runnable
                .iter()
                .map(|t| t.id())
                .filter(|id| *id != c)
                .nth(pick - 1)
                .expect("pick < n"),
            None => runnable[pick].id(),
        }
    }
}

impl Scheduler for ByteScheduler {
    fn new_execution(&mut self) -> Option<Schedule> {
        if std::mem::replace(&mut self.started, true) {
            return None;
        }
        Some(Schedule::new(0))
    }
    fn next_task(
        &mut self,
        runnable: &[&Task],
        current: Option<TaskId>,
        is_yielding: bool,
    ) -> Option<TaskId> {
        (!runnable.is_empty()).then(|| self.choose(runnable, current, is_yielding))
    }
    fn next_u64(&mut self) -> u64 {
        // Little-endian from up to 8 bytes; missing bytes are 0, like every other fallback.
        (0..8).fold(0u64, |acc, i| {
            acc | (self.take().unwrap_or(0) as u64) << (8 * i)
        })
    }
}

/// One execution of `spec` under the schedule `bytes`; also returns the number of real
/// decisions the execution made. An `Err` is a model panic, never a kernel violation.
pub fn execute_bytes(
    spec: &Spec,
    variant: &Variant,
    bytes: &[u8],
) -> Result<(Outcome, u64), String> {
    crate::engine::install_quiet_panic_hook();
    let sched = ByteScheduler::new(bytes.to_vec());
    let decisions = sched.decisions.clone();
    let slot: Arc<Mutex<Option<Outcome>>> = Arc::new(Mutex::new(None));
    let (s, v, o) = (
        Arc::new(spec.clone()),
        Arc::new(variant.clone()),
        slot.clone(),
    );
    catch_unwind(AssertUnwindSafe(|| {
        shuttle::Runner::new(sched, super::shuttle_config()).run(move || {
            *o.lock() = Some(execute(&s, &v, ShuttleEngine::new(), &*shuttle_spawn()));
        })
    }))
    .map_err(|p| format!("model panicked under a byte schedule: {}", panic_text(&p)))?;
    let out = slot.lock().take().ok_or("the execution did not finish")?;
    Ok((out, decisions.load(SeqCst)))
}

/// Pseudo-random schedule bytes for input `n` of a run seeded with `seed`: a random length
/// up to twice the decisions of an unpreempted execution, so some inputs preempt throughout
/// and others only early (then run on without preemption).
pub fn random_input(seed: u64, n: u64, decisions: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed ^ n.wrapping_mul(0xA24B_AED4_963E_E407));
    let len = rng.below(2 * decisions as usize + 2);
    (0..len).map(|_| rng.next_u64() as u8).collect()
}

/// Runs pseudo-random byte schedules (`random_input(seed, k, ..)` for k = 0, 1, ...) in the
/// calling thread until a violation, `iterations` executions or the time limit. One shuttle
/// runner serves all executions, so thread stacks are reused (as `shuttle_seeds` does for the seeded engines).
pub fn run_random(spec: &Spec, variant: &Variant, budget: &Budget) -> RunResult {
    let (seed, iterations, time_limit) = (budget.seed, budget.iterations, budget.time_limit);
    let start = Instant::now();
    let decisions = match execute_bytes(spec, variant, &[]) {
        Ok((_, d)) => d,
        Err(e) => {
            return result(1, start, None, Some(e));
        }
    };
    let shared = Arc::new(Shared {
        executions: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        found: Mutex::new(None),
    });
    // A fresh ByteScheduler per execution, fed the next pseudo-random input.
    let (sh, deadline) = (shared.clone(), time_limit.map(|t| start + t));
    let sched = PerExecution::new(move || {
        let n = sh.executions.load(SeqCst);
        if sh.stop.load(SeqCst) || n >= iterations || deadline.is_some_and(|d| Instant::now() >= d)
        {
            return None;
        }
        sh.executions.store(n + 1, SeqCst);
        let input = random_input(seed, n, decisions);
        Some(Box::new(ByteScheduler::new(input)) as Box<dyn Scheduler + Send>)
    });
    let (s, v, sh) = (
        Arc::new(spec.clone()),
        Arc::new(variant.clone()),
        shared.clone(),
    );
    let r = catch_unwind(AssertUnwindSafe(|| {
        shuttle::Runner::new(sched, super::shuttle_config()).run(move || {
            let out = execute(&s, &v, ShuttleEngine::new(), &*shuttle_spawn());
            if out.violation.is_some() {
                let index = sh.executions.load(SeqCst) - 1;

                *sh.found.lock() = Some(Found {
                    outcome: out,
                    seed: Some(index),
                });
                sh.stop.store(true, SeqCst);
            }
        })
    }));
    let found = shared.found.lock().take();
    let executions = shared.executions.load(SeqCst);
    let error = r.err().map(|p| {
        format!(
            "model panicked under byte input {} of seed {seed}: {}",
            executions.saturating_sub(1),
            panic_text(&p)
        )
    });
    result(executions, start, found, error)
}

fn result(
    executions: u64,
    start: Instant,
    found: Option<Found>,
    error: Option<String>,
) -> RunResult {
    RunResult {
        engine: EngineKind::Bytes,
        executions,
        points: 0,
        exhaustive: false,
        elapsed: start.elapsed(),
        found,
        lines: Vec::new(),
        error,
        state: None,
    }
}

/// The byte input that `run_random` ran as input `index` of `seed` (a found violation's
/// `Found::seed`): executing it alone reproduces that execution.
pub fn input_of(spec: &Spec, variant: &Variant, seed: u64, index: u64) -> Result<Vec<u8>, String> {
    let (_, decisions) = execute_bytes(spec, variant, &[])?;
    Ok(random_input(seed, index, decisions))
}

struct Shared {
    executions: AtomicU64,
    stop: AtomicBool,
    found: Mutex<Option<Found>>,
}
