//! Every engine, behind one entry: `run(spec, variant, kind, budget)` explores a scenario
//! within a budget the harness enforces itself, stopping at the first violation, and returns
//! one `RunResult`. Loom explores exhaustively (optionally preemption-bounded, `loom.rs`); the
//! shuttle engines run one seeded execution at a time, each reproducible from its seed
//! (`shuttle/`); the OS engine races real threads (`os.rs`); the state engine explores every
//! interleaving without a bound (`state/`); `replay.rs` re-runs a recorded schedule. Each
//! implements the model's seam, `kexit_model::Engine`. `worker.rs` runs loom in a child process
//! over the protocol of `child.rs`.

pub mod child;
mod ctl;
pub mod loom;
pub mod os;
pub mod replay;
pub mod shuttle;
pub mod state;
pub mod worker;

use self::ctl::Ctl;
pub use self::loom::{loom_builder, loom_quietly, stop_exploration};
pub use self::replay::{replay, replay_keeping_kernel};
pub use self::shuttle::{run_here, seeded_scheduler, shuttle_config};
use crate::schedule::ScheduleFile;
use kexit_model::world::Outcome;
use kexit_model::Variant;
use kexit_scenarios::Spec;
use serde::{Deserialize, Serialize};
use std::panic::catch_unwind;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
    /// Shuttle under pseudo-random byte schedules, one thread (`kexit fuzz`).
    Bytes,
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
            EngineKind::Bytes => "bytes",
        }
    }
    pub fn seeded(self) -> bool {
        matches!(
            self,
            EngineKind::Pct | EngineKind::Random | EngineKind::Urw | EngineKind::Bytes
        )
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

impl Found {
    /// The schedule file that replays this violation.
    pub fn schedule_file(
        &self,
        spec: &Spec,
        origin: &str,
        variant: &str,
        engine: &str,
    ) -> ScheduleFile {
        let v = self
            .outcome
            .violation
            .as_ref()
            .expect("a found outcome has its violation");
        ScheduleFile::new(
            spec,
            origin,
            variant,
            engine,
            self.seed,
            v,
            &self.outcome.schedule,
        )
    }
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
    pub state: Option<crate::engine::state::search::StateStats>,
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

/// Keeps loom's internal panics and the panic that stops an exploration from printing,
/// while every other panic still reaches the previous hooks. Shuttle installs its own hook
/// once, wrapping whatever is there; ours must wrap shuttle's, so shuttle's goes in first.
pub fn install_quiet_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = catch_unwind(|| {
            ::shuttle::Runner::new(shuttle::pct::Random::new(0), shuttle_config()).run(|| {})
        });
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if loom::quiet(info.payload()) {
                return;
            }
            prev(info)
        }));
    });
}

pub fn run(
    spec: &Spec,
    variant: &Variant,
    engine: EngineKind,
    budget: &Budget,
    progress: &(dyn Fn(u64) + Sync),
) -> RunResult {
    install_quiet_panic_hook();
    if engine == EngineKind::Bytes {
        return shuttle::bytes::run_random(spec, variant, budget);
    }
    if engine == EngineKind::State {
        let opts = crate::engine::state::Options {
            shortest: budget.shortest,
            ..Default::default()
        };
        return crate::engine::state::run(spec, variant, budget, &opts, progress);
    }
    let ctl = Ctl::new(budget);
    let spec = Arc::new(spec.clone());
    let variant = Arc::new(variant.clone());
    let mut exhaustive = false;
    let error = match engine {
        EngineKind::Loom => loom::run_loom(&spec, &variant, &ctl, &mut exhaustive),
        EngineKind::Dfs => shuttle::run_dfs(&spec, &variant, &ctl, &mut exhaustive),
        EngineKind::Os => os::run_os(&spec, &variant, &ctl, progress),
        EngineKind::State | EngineKind::Bytes => unreachable!("handled above"),
        EngineKind::Pct | EngineKind::Random | EngineKind::Urw => {
            shuttle::run_seeded(&spec, &variant, engine, &ctl, progress)
        }
    };
    progress(ctl.executions.load(SeqCst));
    ctl.result(engine, exhaustive, error)
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
