//! One benchmark measurement ("cell") runs in its own child process (`kexit __bench-cell`):
//! its peak memory is then its own, and a loom abort ends only that cell.

use super::raw;
use crate::engine::shuttle::pct::PerExecution;
use crate::engine::{self, child, Budget, EngineKind};
use kexit_model::Variant;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CellSpec {
    /// A catalogue scenario, or `raw` for the hand-written baseline of exit-vs-wait.
    pub scenario: String,
    pub variant: String,
    pub engine: EngineKind,
    pub bound: Option<usize>,
    /// Explore only at `bound` instead of every bound up to it.
    pub single_bound: bool,
    pub iterations: u64,
    pub time_limit: Option<f64>,
    pub seed: u64,
    pub jobs: usize,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CellResult {
    pub executions: u64,
    pub points: u64,
    pub seconds: f64,
    pub exhaustive: bool,
    /// The violation kind of the first violation found, if any.
    pub violation: Option<String>,
    pub peak_rss_kib: Option<u64>,
    pub error: Option<String>,
}

impl CellResult {
    pub fn executions_per_second(&self) -> f64 {
        self.executions as f64 / self.seconds.max(1e-9)
    }
    pub fn points_per_second(&self) -> f64 {
        self.points as f64 / self.seconds.max(1e-9)
    }
    pub fn points_per_execution(&self) -> f64 {
        self.points as f64 / self.executions.max(1) as f64
    }
}

/// The child side: run the cell and print its result as one JSON line.
pub fn worker(spec_json: &str) -> Result<u8, String> {
    let spec: CellSpec = child::request(spec_json)?;
    let mut r = if spec.scenario == "raw" {
        run_raw(&spec)
    } else {
        run_model(&spec)?
    };
    r.peak_rss_kib = peak_rss_kib();
    child::reply(&r)
}

fn run_model(spec: &CellSpec) -> Result<CellResult, String> {
    let scenario = kexit_scenarios::by_name(&spec.scenario)
        .ok_or_else(|| format!("no scenario {:?} in the catalogue", spec.scenario))?;
    let variant = Variant::by_name(&spec.variant)
        .ok_or_else(|| format!("unknown variant {:?}", spec.variant))?;
    let budget = Budget {
        iterations: spec.iterations,
        time_limit: spec.time_limit.map(Duration::from_secs_f64),
        seed: spec.seed,
        preemption_bound: spec.bound,
        single_bound: spec.single_bound,
        jobs: spec.jobs,
        ..Budget::default()
    };
    let r = engine::run(&scenario.spec, &variant, spec.engine, &budget, &|_| {});
    Ok(CellResult {
        executions: r.executions,
        points: r.points,
        seconds: r.elapsed.as_secs_f64(),
        exhaustive: r.exhaustive,
        violation: r
            .found
            .as_ref()
            .and_then(|f| f.outcome.violation.as_ref())
            .map(|v| v.kind.slug().to_string()),
        peak_rss_kib: None,
        error: r.error,
    })
}

fn run_raw(spec: &CellSpec) -> CellResult {
    raw::take_points();
    let start = Instant::now();
    let deadline = spec.time_limit.map(|t| start + Duration::from_secs_f64(t));
    let executions = Arc::new(AtomicU64::new(0));
    let mut result = CellResult::default();
    match spec.engine {
        EngineKind::Loom => {
            let mut b = loom::model::Builder::new();
            b.max_threads = 3;
            b.max_branches = 1_000_000;
            b.max_permutations = None;
            b.max_duration = None;
            b.preemption_bound = spec.bound;
            b.checkpoint_file = None;
            b.location = false;
            b.log = false;
            let (n, limit) = (executions.clone(), spec.iterations);
            let stopped = Arc::new(AtomicBool::new(false));
            let stop = stopped.clone();
            let r = engine::loom_quietly(|| {
                b.check(move || {
                    let k = n.fetch_add(1, SeqCst);
                    if k >= limit || deadline.is_some_and(|d| Instant::now() >= d) {
                        n.fetch_sub(1, SeqCst);
                        stop.store(true, SeqCst);
                        engine::stop_exploration();
                    }
                    raw::on_loom::execution();
                })
            });
            let stopped = stopped.load(SeqCst);
            result.exhaustive = r.is_ok() && !stopped;
            result.error = r.err();
        }
        EngineKind::Pct | EngineKind::Random | EngineKind::Urw => {
            // Execution k uses the scheduler kexit uses for seed S+k, so only the harness
            // differs between the two measurements.
            let (engine, n) = (spec.engine, executions.clone());
            let (first_seed, limit) = (spec.seed, spec.iterations);
            let sched = PerExecution::new(move || {
                let k = n.load(SeqCst);
                if k >= limit || deadline.is_some_and(|d| Instant::now() >= d) {
                    return None;
                }
                n.store(k + 1, SeqCst);
                let seed = first_seed.wrapping_add(k);
                Some(engine::seeded_scheduler(
                    engine,
                    seed,
                    3,
                    RAW_LENGTH_ESTIMATE,
                ))
            });
            let mut config = shuttle::Config::new();
            config.failure_persistence = shuttle::FailurePersistence::None;
            config.silence_warnings = true;
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                shuttle::Runner::new(sched, config).run(raw::on_shuttle::execution)
            }));
            result.error = r.err().map(|p| engine::panic_text(&p));
        }
        other => result.error = Some(format!("no baseline for the {} engine", other.name())),
    }
    result.seconds = start.elapsed().as_secs_f64();
    result.executions = executions.load(SeqCst);
    result.points = raw::take_points();
    result
}

/// PCT's change points are drawn over this many steps, about twice the baseline's length.
const RAW_LENGTH_ESTIMATE: usize = 60;

/// VmHWM: the resident-set high-water mark of this process.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The parent side: run one cell in a child process.
pub fn measure(spec: &CellSpec) -> CellResult {
    let started = Instant::now();
    let failed = |error: String| CellResult {
        seconds: started.elapsed().as_secs_f64(),
        error: Some(error),
        ..CellResult::default()
    };
    match child::run::<_, CellResult>("__bench-cell", spec) {
        Err(e) => failed(e),
        Ok(end) => match end.reply {
            Some(r) => r,
            None => failed(format!(
                "worker ended with {}: {}",
                end.status,
                end.stderr_lines(2, true)
            )),
        },
    }
}
