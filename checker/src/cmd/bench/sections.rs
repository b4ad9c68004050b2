//! The benchmark set: which cells each section measures, with which budgets.

use super::cell::{measure, CellResult, CellSpec};
use crate::engine::{EngineKind, LOOM_MAX_ACTORS};
use serde::Serialize;

pub const STARTERS: [&str; 3] = ["exit-vs-wait", "threaded-exit", "orphan-exit"];

/// Budgets of one benchmark run; `--quick` scales them down.
#[derive(Clone, Debug, Serialize)]
pub struct Budgets {
    /// Seconds per loom cell.
    pub loom_seconds: f64,
    /// Executions per shuttle cell.
    pub shuttle_iterations: u64,
    pub os_iterations: u64,
    /// Seeds per random-engine cell in the time-to-first-violation section.
    pub seeds: u64,
    pub scaling_iterations: u64,
    /// Seconds per cell of the state-space section.
    pub state_seconds: f64,
    /// Cells of the state-space section run side by side (loom is single-threaded).
    pub state_jobs: usize,
    /// Runs of each side of an overhead comparison; the median rate is reported.
    pub overhead_repeats: usize,
}

impl Budgets {
    pub fn new(quick: bool, cell_limit: Option<f64>) -> Budgets {
        let mut b = if quick {
            Budgets {
                loom_seconds: 3.0,
                shuttle_iterations: 2_000,
                os_iterations: 300,
                seeds: 3,
                scaling_iterations: 10_000,
                state_seconds: 2.0,
                state_jobs: 2,
                overhead_repeats: 1,
            }
        } else {
            Budgets {
                loom_seconds: 60.0,
                shuttle_iterations: 10_000,
                os_iterations: 2_000,
                seeds: 10,
                scaling_iterations: 40_000,
                state_seconds: 20.0,
                state_jobs: 2,
                overhead_repeats: 3,
            }
        };
        if let Some(t) = cell_limit {
            b.loom_seconds = t;
            b.state_seconds = t;
        }
        b
    }
}

pub fn cell(scenario: &str, variant: &str, engine: EngineKind) -> CellSpec {
    CellSpec {
        scenario: scenario.to_string(),
        variant: variant.to_string(),
        engine,
        bound: None,
        single_bound: false,
        iterations: u64::MAX,
        time_limit: None,
        seed: 0,
        jobs: 1,
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct EngineRow {
    pub scenario: String,
    /// The engine and its setting, as shown: `loom`, `loom bound 2`, `pct`, ...
    pub label: String,
    pub result: CellResult,
}

/// Every starter scenario on every engine.
pub fn engines(b: &Budgets, progress: &mut dyn FnMut(&str)) -> Vec<EngineRow> {
    let mut rows = Vec::new();
    for s in STARTERS {
        let mut cells: Vec<(String, CellSpec)> = Vec::new();
        for bound in [None, Some(2), Some(3)] {
            let mut c = cell(s, "seed", EngineKind::Loom);
            c.bound = bound;
            c.single_bound = true;
            c.time_limit = Some(b.loom_seconds);
            let label = bound.map_or("loom (unbounded)".to_string(), |k| {
                format!("loom bound {k}")
            });
            cells.push((label, c));
        }
        for engine in [EngineKind::Pct, EngineKind::Random, EngineKind::Dfs] {
            let mut c = cell(s, "seed", engine);
            c.iterations = b.shuttle_iterations;
            c.time_limit = Some(b.loom_seconds);
            cells.push((engine.name().to_string(), c));
        }
        let mut c = cell(s, "seed", EngineKind::Os);
        c.iterations = b.os_iterations;
        c.jobs = 2;
        cells.push(("os (2 threads)".to_string(), c));
        for (label, c) in cells {
            progress(&format!("engines: {s} on {label}"));
            rows.push(EngineRow {
                scenario: s.to_string(),
                label,
                result: measure(&c),
            });
        }
    }
    rows
}

#[derive(Clone, Debug, Serialize)]
pub struct OverheadRow {
    pub setting: String,
    pub kexit: CellResult,
    pub raw: CellResult,
    /// Scheduling points per second, kexit's over the baseline's.
    pub ratio: f64,
}

/// kexit's model of exit-vs-wait against the hand-written baseline, same engine and budget.
pub fn overhead(b: &Budgets, progress: &mut dyn FnMut(&str)) -> Vec<OverheadRow> {
    let mut settings: Vec<(String, CellSpec)> = Vec::new();
    for bound in [Some(3), None] {
        let mut c = cell("exit-vs-wait", "seed", EngineKind::Loom);
        c.bound = bound;
        c.single_bound = true;
        c.time_limit = Some(b.loom_seconds.min(20.0));
        let label = bound.map_or("loom, unbounded (time-limited)".to_string(), |k| {
            format!("loom, bound {k}")
        });
        settings.push((label, c));
    }
    for engine in [EngineKind::Pct, EngineKind::Random] {
        let mut c = cell("exit-vs-wait", "seed", engine);
        c.iterations = b.shuttle_iterations * 2;
        settings.push((format!("{}, {} executions", engine.name(), c.iterations), c));
    }
    settings
        .into_iter()
        .map(|(setting, c)| {
            progress(&format!("overhead: {setting}"));
            let raw_cell = CellSpec {
                scenario: "raw".into(),
                ..c.clone()
            };
            // Alternating runs, each side's median kept: the machine's speed drifts by tens
            // of percent between minutes, which one pair of runs would take for overhead.
            let (mut kexit, mut raw) = (Vec::new(), Vec::new());
            for _ in 0..b.overhead_repeats.max(1) {
                kexit.push(measure(&c));
                raw.push(measure(&raw_cell));
            }
            let (kexit, raw) = (median_rate(kexit), median_rate(raw));
            let ratio = kexit.points_per_second() / raw.points_per_second().max(1e-9);
            OverheadRow {
                setting,
                kexit,
                raw,
                ratio,
            }
        })
        .collect()
}

/// The run with the median scheduling points per second.
fn median_rate(mut runs: Vec<CellResult>) -> CellResult {
    runs.sort_by(|a, b| a.points_per_second().total_cmp(&b.points_per_second()));
    runs.swap_remove(runs.len() / 2)
}

#[derive(Clone, Debug, Serialize)]
pub struct FirstViolationRow {
    pub variant: &'static str,
    pub scenario: String,
    pub engine: EngineKind,
    /// Runs made (seeds for the seeded engines) and how many found a violation.
    pub runs: u64,
    pub caught: u64,
    /// Medians over the runs; a run that found nothing counts as slower than any that did,
    /// so the median is None when at most half the runs found the bug.
    pub median_executions: Option<u64>,
    pub median_seconds: Option<f64>,
    pub kinds: Vec<String>,
}

/// Every re-created bug on every engine: executions and time to the first violation.
pub fn first_violation(b: &Budgets, progress: &mut dyn FnMut(&str)) -> Vec<FirstViolationRow> {
    let mut rows = Vec::new();
    for info in kexit_scenarios::exposure::EXPOSURES
        .iter()
        .filter(|e| e.variant.starts_with("bug:") && !e.expect.is_empty())
    {
        let scenario = info.scenarios[0];
        let Some(s) = kexit_scenarios::by_name(scenario) else {
            continue;
        };
        let fits_loom = s.spec.actor_count() <= LOOM_MAX_ACTORS;
        for engine in [
            EngineKind::Loom,
            EngineKind::Pct,
            EngineKind::Random,
            EngineKind::Urw,
            EngineKind::Dfs,
            EngineKind::Os,
        ] {
            if engine == EngineKind::Loom && !fits_loom {
                continue;
            }
            progress(&format!(
                "first violation: {} on {}",
                info.variant,
                engine.name()
            ));
            let mut c = cell(scenario, info.variant, engine);
            let runs = match engine {
                EngineKind::Loom => {
                    c.bound = s.spec.loom_bound;
                    c.time_limit = Some(b.loom_seconds);
                    1
                }
                EngineKind::Os => {
                    c.iterations = b.os_iterations;
                    1
                }
                EngineKind::Dfs => {
                    c.iterations = b.shuttle_iterations;
                    1
                }
                _ => {
                    c.iterations = b.shuttle_iterations;
                    b.seeds
                }
            };
            let results: Vec<CellResult> = (0..runs)
                .map(|i| {
                    measure(&CellSpec {
                        seed: i * 1_000_000,
                        ..c.clone()
                    })
                })
                .collect();
            rows.push(summarize(info.variant, scenario, engine, &results));
        }
    }
    rows
}

fn summarize(
    variant: &'static str,
    scenario: &str,
    engine: EngineKind,
    results: &[CellResult],
) -> FirstViolationRow {
    let found: Vec<&CellResult> = results.iter().filter(|r| r.violation.is_some()).collect();
    let mut kinds: Vec<String> = found.iter().filter_map(|r| r.violation.clone()).collect();
    kinds.sort();
    kinds.dedup();
    let median_index = results.len() / 2;
    let (median_executions, median_seconds) = if found.len() > median_index {
        let mut e: Vec<u64> = found.iter().map(|r| r.executions).collect();
        let mut t: Vec<f64> = found.iter().map(|r| r.seconds).collect();
        e.sort_unstable();
        t.sort_by(f64::total_cmp);
        (Some(e[median_index]), Some(t[median_index]))
    } else {
        (None, None)
    };
    FirstViolationRow {
        variant,
        scenario: scenario.to_string(),
        engine,
        runs: results.len() as u64,
        caught: found.len() as u64,
        median_executions,
        median_seconds,
        kinds,
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct ScalingRow {
    pub engine: EngineKind,
    pub jobs: usize,
    pub single: CellResult,
    pub parallel: CellResult,
    pub speedup: f64,
    /// Wall-clock seconds of `jobs` independent one-job processes sharing the same executions:
    /// what the machine itself gives, with nothing shared between the workers.
    pub independent_seconds: f64,
    /// The machine's own speed-up: `single` against the independent processes.
    pub ceiling: f64,
}

/// The seeded engines with one worker against one worker per core, on threaded-exit, and
/// against as many independent processes (the ceiling the machine allows).
pub fn scaling(b: &Budgets, progress: &mut dyn FnMut(&str)) -> Vec<ScalingRow> {
    let jobs = std::thread::available_parallelism().map_or(2, |n| n.get().max(2));
    [EngineKind::Pct, EngineKind::Random, EngineKind::Urw]
        .into_iter()
        .map(|engine| {
            progress(&format!(
                "scaling: {} with 1 and {jobs} jobs",
                engine.name()
            ));
            let mut c = cell("threaded-exit", "seed", engine);
            c.iterations = b.scaling_iterations;
            let single = measure(&c);
            let share = CellSpec {
                iterations: b.scaling_iterations / jobs as u64,
                ..c.clone()
            };
            let started = std::time::Instant::now();
            std::thread::scope(|s| {
                for k in 0..jobs as u64 {
                    let cell = CellSpec {
                        seed: k * share.iterations,
                        ..share.clone()
                    };
                    s.spawn(move || measure(&cell));
                }
            });
            let independent_seconds = started.elapsed().as_secs_f64();
            c.jobs = jobs;
            let parallel = measure(&c);
            ScalingRow {
                engine,
                jobs,
                speedup: single.seconds / parallel.seconds.max(1e-9),
                ceiling: single.seconds / independent_seconds.max(1e-9),
                single,
                parallel,
                independent_seconds,
            }
        })
        .collect()
}

#[derive(Clone, Debug, Serialize)]
pub struct StateSpaceRow {
    pub scenario: String,
    pub actors: usize,
    /// Bounds 1, 2, 3 (each alone) and unbounded.
    pub cells: Vec<CellResult>,
}

pub const STATE_BOUNDS: [Option<usize>; 4] = [Some(1), Some(2), Some(3), None];

/// Loom's execution counts per preemption bound for every scenario that fits in loom.
pub fn state_space(
    b: &Budgets,
    quick: bool,
    progress: &mut (dyn FnMut(&str) + Send),
) -> Vec<StateSpaceRow> {
    let scenarios: Vec<_> = kexit_scenarios::catalogue()
        .into_iter()
        .filter(|s| s.spec.actor_count() <= LOOM_MAX_ACTORS)
        .filter(|s| !quick || STARTERS.contains(&s.spec.name.as_str()))
        .collect();
    let mut specs = Vec::new();
    for s in &scenarios {
        for bound in STATE_BOUNDS {
            let mut c = cell(&s.spec.name, "seed", EngineKind::Loom);
            c.bound = bound;
            c.single_bound = true;
            c.time_limit = Some(b.state_seconds);
            specs.push(c);
        }
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = parking_lot::Mutex::new(vec![CellResult::default(); specs.len()]);
    let progress = parking_lot::Mutex::new(progress);
    std::thread::scope(|scope| {
        for _ in 0..b.state_jobs.max(1) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some(c) = specs.get(i) else { break };
                let bound = c
                    .bound
                    .map_or("unbounded".to_string(), |k| format!("bound {k}"));
                (progress.lock())(&format!("state space: {} {bound}", c.scenario));
                let r = measure(c);
                results.lock()[i] = r;
            });
        }
    });
    let results = results.into_inner();
    scenarios
        .iter()
        .zip(results.chunks(STATE_BOUNDS.len()))
        .map(|(s, cells)| StateSpaceRow {
            scenario: s.spec.name.clone(),
            actors: s.spec.actor_count(),
            cells: cells.to_vec(),
        })
        .collect()
}
