//! `kexit check`: resolve scenarios, plan runs (and shards), run them, save schedule files
//! for violations, print a table or JSON, and choose the exit code.

mod args;
pub mod audit;
mod batch;
mod ci_report;
mod html_report;
mod table;

use crate::ended::Ended;
use crate::engine::{self, Budget, EngineKind, RunResult, LOOM_MAX_ACTORS};
use crate::outcome::{verdict, Verdict};
pub use args::{CheckArgs, EngineArg};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use kexit_model::Variant;
use kexit_scenarios::select::{expected, resolve};
use kexit_scenarios::Scenario;
use serde::Serialize;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

#[derive(Serialize)]
pub struct ResultJson {
    pub scenario: String,
    /// What `kexit check` takes to run the scenario again: its name for the catalogue, its
    /// path for a file of one's own.
    pub scenario_arg: String,
    pub variant: String,
    pub engine: EngineKind,
    pub verdict: Verdict,
    pub expected: Option<String>,
    pub executions: u64,
    pub exhaustive: bool,
    pub preemption_bound: Option<usize>,
    pub seeds: Option<(u64, u64)>,
    pub seconds: f64,
    pub executions_per_second: f64,
    pub violation: Option<crate::schedule::ViolationRecord>,
    pub seed: Option<u64>,
    pub schedule_file: Option<String>,
    pub error: Option<String>,
    /// The state engine's counts.
    pub state: Option<crate::engine::state::search::StateStats>,
    /// Why this result comes from another engine than the one planned.
    pub note: Option<String>,
    /// Why its exploration ended.
    pub ended: crate::ended::Ended,
}

struct Unit {
    scenario: usize,
    engine: EngineKind,
    budget: Budget,
    /// Run this engine instead when the state engine ends its budget without a verdict.
    fallback: Option<(EngineKind, Budget)>,
}

/// The state budget of the default run: scenarios with more states go to loom or PCT.
pub const AUTO_STATES: u64 = 1_000_000;

fn parse_shard(s: &str) -> Result<(u64, u64), String> {
    let err = || format!("--shard {s:?}: expected I/N with 1 <= I <= N");
    let (i, n) = s.split_once('/').ok_or_else(err)?;
    let (i, n): (u64, u64) = (i.parse().map_err(|_| err())?, n.parse().map_err(|_| err())?);
    if i == 0 || n == 0 || i > n {
        return Err(err());
    }
    Ok((i, n))
}

pub fn main(a: CheckArgs) -> Result<u8, String> {
    let variant = Variant::by_name(&a.variant)
        .ok_or_else(|| format!("unknown variant {:?} (see `kexit variants`)", a.variant))?;
    let scenarios = resolve(&a.scenarios)?;
    let shard = a.shard.as_deref().map(parse_shard).transpose()?;
    if a.audit {
        return audit::main(&a, &scenarios, &variant);
    }
    let jobs = a
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let units = plan(&a, &scenarios, jobs);
    let units = match shard {
        Some((i, n)) => take_shard(units, i, n),
        None => units,
    };
    let machine = a.json || a.json_lines;
    let interactive = std::io::stderr().is_terminal() && !machine;
    let mut results = Vec::new();
    // The trace of each result's violation, for --sarif.
    let mut traces = Vec::new();
    // The swimlane page of each result's violation, for --html, with the seed's lines when
    // KEXIT_SEED names a readable file (read once).
    let mut pages = Vec::new();
    let seed = a
        .html
        .as_ref()
        .and_then(|_| crate::report::env_seed().ok().flatten());
    let mut worst = 0u8;
    if !machine {
        println!(
            "{:<36} {:<24} {:<6} {:<9} {:>10}  {:<30} {:>8} {:>9}",
            "scenario",
            "variant",
            "engine",
            "verdict",
            "executions",
            "exploration",
            "time",
            "exec/s"
        );
    }
    let mut pre = batch::run_parallel(
        &units
            .iter()
            .map(|u| {
                (u.engine == EngineKind::State).then(|| (&scenarios[u.scenario].spec, &u.budget))
            })
            .collect::<Vec<_>>(),
        &variant,
        jobs,
        interactive,
    );
    for (ui, u) in units.iter().enumerate() {
        if crate::interrupt::requested() {
            break;
        }
        let s = &scenarios[u.scenario];
        let (rj, r, trace) = run_unit(&a, s, &variant, u, pre[ui].take(), interactive)?;
        traces.push(trace);
        if let Some(dir) = &a.html {
            pages.push(html_report::swimlane_page(dir, &rj, &r, seed.as_deref())?);
        }
        worst = worst.max(exit_code(&a, &rj));
        if a.json_lines {
            println!("{}", serde_json::to_string(&rj).expect("json"));
            let _ = std::io::Write::flush(&mut std::io::stdout());
        } else if !a.json {
            table::print_row(&rj, &r, a.engine.is_some());
        }
        results.push(rj);
    }
    ci_report::write_requested(&a, &results, traces)?;
    if let Some(dir) = &a.html {
        html_report::write(dir, &a, &results, &pages)?;
    }
    if crate::interrupt::requested() {
        worst = crate::interrupt::EXIT_INTERRUPTED;
    }
    if a.json_lines {
        let end = serde_json::json!({ "kexit": crate::schedule::KEXIT_VERSION, "exit_code": worst, "interrupted": crate::interrupt::requested(), "results": results.len(), "ended": crate::ended::tally(results.iter().map(|r| r.ended)) });
        println!("{end}");
    } else if a.json {
        let doc = serde_json::json!({ "kexit": crate::schedule::KEXIT_VERSION, "exit_code": worst, "interrupted": crate::interrupt::requested(), "min_executions": a.min_executions, "results": results });
        println!("{}", serde_json::to_string_pretty(&doc).expect("json"));
    } else {
        print_summary(&a, &results, worst, units.len());
    }
    Ok(worst)
}

/// One unit of work per scenario and engine: the state engine with a fallback by default.
fn plan(a: &CheckArgs, scenarios: &[Scenario], jobs: usize) -> Vec<Unit> {
    let mut units = Vec::new();
    let scale = if a.deep { 10 } else { 1 };
    for (si, s) in scenarios.iter().enumerate() {
        let fits = s.spec.actor_count() <= LOOM_MAX_ACTORS;
        let old_default = if fits {
            EngineKind::Loom
        } else {
            EngineKind::Pct
        };
        let budget_for = |engine: EngineKind| Budget {
            iterations: a
                .iterations
                .unwrap_or_else(|| engine.default_iterations(scale)),
            time_limit: a.time_limit.map(Duration::from_secs_f64),
            seed: a.seed,
            preemption_bound: if a.deep {
                a.preemption_bound
            } else {
                a.preemption_bound.or(s.spec.loom_bound)
            },
            jobs,
            state_workers: a.jobs.unwrap_or(1),
            max_states: a.max_states.unwrap_or(engine::DEFAULT_MAX_STATES * scale),
            shortest: a.shortest,
            ..Budget::default()
        };
        let engines: Vec<EngineKind> = match a.engine.map(|e| e.kind()) {
            None => {
                // The state engine first, within a state budget; the engine that was the
                // default before it where the state space is larger than that.
                let mut budget = budget_for(EngineKind::State);
                budget.max_states = a.max_states.unwrap_or(AUTO_STATES * scale);
                units.push(Unit {
                    scenario: si,
                    engine: EngineKind::State,
                    budget,
                    fallback: Some((old_default, budget_for(old_default))),
                });
                continue;
            }
            Some(None) => {
                let mut v = vec![
                    EngineKind::State,
                    EngineKind::Pct,
                    EngineKind::Random,
                    EngineKind::Urw,
                    EngineKind::Dfs,
                    EngineKind::Os,
                ];
                if fits {
                    v.insert(1, EngineKind::Loom);
                }
                v
            }
            Some(Some(e)) => vec![e],
        };
        for engine in engines {
            units.push(Unit {
                scenario: si,
                engine,
                budget: budget_for(engine),
                fallback: None,
            });
        }
    }
    units
}

/// Shard `i` of `n`: seeded engines split their executions, the others their units.
fn take_shard(units: Vec<Unit>, i: u64, n: u64) -> Vec<Unit> {
    let mut kept = Vec::new();
    for (k, mut u) in units.into_iter().enumerate() {
        if u.engine.seeded() && u.budget.iterations != u64::MAX {
            let slice = u.budget.iterations.div_ceil(n);
            u.budget.seed = u.budget.seed.wrapping_add((i - 1) * slice);
            u.budget.iterations = slice;
            kept.push(u);
        } else if k as u64 % n == i - 1 {
            kept.push(u);
        }
    }
    kept
}

/// Run one unit (its fallback engine too, where the state engine ends without a verdict),
/// save its schedule file, and say how it changes the exit code.
fn run_unit(
    a: &CheckArgs,
    s: &Scenario,
    variant: &Variant,
    u: &Unit,
    pre: Option<RunResult>,
    interactive: bool,
) -> Result<(ResultJson, RunResult, Vec<crate::report::StepJson>), String> {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} {pos} executions ({per_sec})")
            .expect("template"),
    );
    bar.set_message(format!("{} on {}", s.spec.name, u.engine.name()));
    let started = Instant::now();
    let shown = std::sync::atomic::AtomicBool::new(false);
    let progress = |n: u64| {
        if interactive
            && started.elapsed() > Duration::from_secs(1)
            && !shown.swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            bar.set_draw_target(ProgressDrawTarget::stderr());
        }
        bar.set_position(n);
    };
    let run_engine = |engine: EngineKind, budget: &Budget| {
        if engine == EngineKind::Loom && !a.in_process {
            progress(0);
            crate::engine::worker::run_loom(&s.cli_arg(), &s.spec, variant, budget)
        } else {
            engine::run(&s.spec, variant, engine, budget, &progress)
        }
    };
    let (mut engine, mut budget) = (u.engine, &u.budget);
    let mut r = pre.unwrap_or_else(|| run_engine(engine, budget));
    let mut note = None;
    if let Some((fb, fb_budget)) = &u.fallback {
        if !r.exhaustive && r.found.is_none() && r.error.is_none() {
            let states = r.state.as_ref().map_or(0, |st| st.states);
            note = Some(format!(
                "the state engine was not exhaustive within {states} states (--max-states): {} instead",
                fb.name()
            ));
            bar.set_message(format!("{} on {}", s.spec.name, fb.name()));
            (engine, budget) = (*fb, fb_budget);
            r = run_engine(engine, budget);
        }
    }
    bar.finish_and_clear();
    crate::ended::refuse_no_work(&mut r, budget);
    let ended = Ended::of(&r, budget);
    let want = expected(s, variant);
    let v = verdict(&r, &want);
    let mut schedule_file = None;
    let mut violation = None;
    let mut seed = None;
    if let Some(f) = &r.found {
        let viol = f.outcome.violation.as_ref().expect("found has a violation");
        // An aborted loom worker leaves no schedule to save.
        if !f.outcome.schedule.is_empty() {
            let file = f.schedule_file(&s.spec, &s.origin, variant.name(), engine.name());
            let path = file.save(&a.out).map_err(|e| {
                format!("cannot write schedule file under {}: {e}", a.out.display())
            })?;
            schedule_file = Some(path.display().to_string());
        }
        violation = Some(viol.into());
        seed = f.seed;
    }
    let trace = match (&r.found, &a.sarif) {
        (Some(f), Some(_)) => crate::report::steps_json(&f.outcome, None),
        _ => Vec::new(),
    };
    let secs = r.elapsed.as_secs_f64();
    let rj = ResultJson {
        scenario: s.spec.name.clone(),
        scenario_arg: s.cli_arg(),
        variant: variant.name().to_string(),
        engine,
        verdict: v,
        expected: (!want.is_empty()).then(|| {
            want.iter()
                .map(|k| k.slug())
                .collect::<Vec<_>>()
                .join(" or ")
        }),
        executions: r.executions,
        exhaustive: r.exhaustive,
        preemption_bound: (engine == EngineKind::Loom)
            .then_some(budget.preemption_bound)
            .flatten(),
        seeds: engine.seeded().then(|| {
            (
                budget.seed,
                budget.seed.wrapping_add(r.executions.saturating_sub(1)),
            )
        }),
        seconds: secs,
        executions_per_second: if secs > 0.0 {
            r.executions as f64 / secs
        } else {
            0.0
        },
        violation,
        seed,
        schedule_file,
        error: r.error.clone(),
        state: r.state.clone(),
        note,
        ended,
    };
    Ok((rj, r, trace))
}

/// The exit code one result asks for: 1 for a violation or a missed one, 2 for an error, and 1
/// for work left undone that --require-exhaustive or --min-executions asked for.
fn exit_code(a: &CheckArgs, rj: &ResultJson) -> u8 {
    let mut code = match rj.verdict {
        Verdict::Pass | Verdict::Caught => 0,
        Verdict::Violation | Verdict::Missed => 1,
        Verdict::Error => 2,
    };
    let unfinished = rj.ended.unfinished();
    let too_little = a
        .min_executions
        .is_some_and(|m| unfinished && rj.executions < m);
    if (a.require_exhaustive && unfinished) || too_little {
        code = code.max(1);
    }
    code
}

/// The closing lines of the table.
fn print_summary(a: &CheckArgs, results: &[ResultJson], worst: u8, planned: usize) {
    let bad = results.iter().filter(|r| !r.verdict.ok()).count();
    if let (true, Some(mib)) = (
        results.iter().any(|r| r.state.is_some()),
        crate::engine::state::search::peak_memory_mib(),
    ) {
        println!("peak memory of this run: {mib} MiB");
    }
    println!(
        "\n{}: {} result(s), {} as expected, {} not; {}",
        if worst == 0 { "OK" } else { "FAILED" },
        results.len(),
        results.len() - bad,
        bad,
        crate::ended::tally(results.iter().map(|r| r.ended))
    );
    let unfinished = results.iter().filter(|r| r.ended.unfinished()).count();
    if a.require_exhaustive && unfinished > 0 {
        println!("--require-exhaustive: {unfinished} result(s) not exhaustive");
    }
    if let Some(m) = a.min_executions {
        let short = results
            .iter()
            .filter(|r| r.ended.unfinished() && r.executions < m)
            .count();
        if short > 0 {
            println!("--min-executions {m}: {short} result(s) ran fewer executions");
        }
    }
    if crate::interrupt::requested() {
        println!(
            "INTERRUPTED: {} of {} planned result(s) shown; the last may be partial",
            results.len(),
            planned
        );
    }
}
