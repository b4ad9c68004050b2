//! Loom explorations run in a child process (`kexit __loom-worker`): a loom deadlock or a
//! double panic aborts the whole process, and must become that scenario's report instead of
//! ending the run. The worker sends back counts and, for a violation, only its schedule; the
//! parent replays the schedule to rebuild the full outcome.

use crate::engine::{self, child, Budget, EngineKind, Found, RunResult};
use crate::schedule::{decode, encode, ViolationRecord};
use kexit_model::trace::{Violation, ViolationKind};
use kexit_model::world::Outcome;
use kexit_model::Variant;
use kexit_scenarios::Spec;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

#[derive(Serialize, Deserialize)]
pub struct WorkerReport {
    pub executions: u64,
    pub exhaustive: bool,
    pub error: Option<String>,
    pub violation: Option<ViolationRecord>,
    pub schedule: Option<String>,
    pub lines: Vec<u64>,
}

/// What the parent asks the worker to explore.
#[derive(Serialize, Deserialize)]
pub struct WorkerRequest {
    /// Catalogue name or path of the scenario.
    pub scenario: String,
    pub variant: String,
    pub bound: Option<usize>,
    pub iterations: u64,
    pub time_limit: Option<f64>,
}

/// The worker side: run loom in this process and print one JSON report.
pub fn worker(request_json: &str) -> Result<u8, String> {
    // Lets the end-to-end tests show that an aborting exploration is survived.
    if std::env::var_os("KEXIT_WORKER_SELFTEST_ABORT").is_some() {
        std::process::abort();
    }
    let a: WorkerRequest = child::request(request_json)?;
    let scenarios = kexit_scenarios::select::resolve(std::slice::from_ref(&a.scenario))?;
    let s = scenarios.into_iter().next().ok_or("no scenario")?;
    let variant =
        Variant::by_name(&a.variant).ok_or_else(|| format!("unknown variant {:?}", a.variant))?;
    let budget = Budget {
        iterations: a.iterations,
        time_limit: a.time_limit.map(Duration::from_secs_f64),
        preemption_bound: a.bound,
        ..Budget::default()
    };
    let r = engine::run(&s.spec, &variant, EngineKind::Loom, &budget, &|_| {});
    let report = WorkerReport {
        executions: r.executions,
        exhaustive: r.exhaustive,
        error: r.error,
        violation: r
            .found
            .as_ref()
            .and_then(|f| f.outcome.violation.as_ref())
            .map(Into::into),
        schedule: r.found.as_ref().map(|f| encode(&f.outcome.schedule)),
        lines: r.lines,
    };
    child::reply(&report)
}

/// The parent side: run the worker for `scenario` (a catalogue name or a path).
pub fn run_loom(scenario: &str, spec: &Spec, variant: &Variant, budget: &Budget) -> RunResult {
    let started = Instant::now();
    let request = WorkerRequest {
        scenario: scenario.to_string(),
        variant: variant.name().to_string(),
        bound: budget.preemption_bound,
        iterations: budget.iterations,
        time_limit: budget.time_limit.map(|t| t.as_secs_f64()),
    };
    let mut result = RunResult {
        engine: EngineKind::Loom,
        executions: 0,
        points: 0,
        exhaustive: false,
        elapsed: Duration::ZERO,
        found: None,
        lines: Vec::new(),
        error: None,
        state: None,
    };
    let end = match child::run::<_, WorkerReport>("__loom-worker", &request) {
        Ok(end) => end,
        Err(e) => {
            result.error = Some(e);
            return result;
        }
    };
    result.elapsed = started.elapsed();
    let Some(rep) = end.reply.as_ref() else {
        let msg = format!(
            "loom aborted the exploration ({}): {}",
            end.status,
            end.stderr_lines(3, false)
        );
        let v = Violation {
            kind: ViolationKind::ModelError,
            actor: "loom".into(),
            func: "",
            line: 0,
            message: msg,
            detail: Default::default(),
        };
        result.found = Some(Found {
            outcome: aborted(v),
            seed: None,
        });
        return result;
    };
    result.executions = rep.executions;
    result.exhaustive = rep.exhaustive;
    result.error = rep.error.clone();
    result.lines = rep.lines.clone();
    if let Some(sched) = rep.schedule.as_deref().and_then(decode) {
        let outcome = engine::replay(spec, variant, &sched);
        let same = outcome.violation.as_ref().map(ViolationRecord::from) == rep.violation;
        if !same {
            result.error =
                Some("the loom worker's schedule does not replay to the same violation".into());
        }
        result.found = Some(Found {
            outcome,
            seed: None,
        });
    }
    result
}

fn aborted(v: Violation) -> Outcome {
    Outcome {
        violation: Some(v),
        trace: Vec::new(),
        labels: Vec::new(),
        schedule: Vec::new(),
        points: 0,
        lines: Vec::new(),
        kernel: None,
    }
}
