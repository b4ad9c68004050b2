//! The text table of `kexit check`: one row per result, with the state engine's counts, the
//! violation, its schedule file and how to replay it.

use super::ResultJson;
use crate::ended::Ended;
use crate::engine::RunResult;

/// `detail`: an engine was asked for by name, so the state engine's counts get a line.
pub fn print_row(r: &ResultJson, run: &RunResult, detail: bool) {
    let exploration = if let (true, Some(st)) = (r.exhaustive, &r.state) {
        format!("exhaustive ({} states)", st.states)
    } else if r.exhaustive {
        match r.preemption_bound {
            Some(b) => format!("exhaustive (preemption bound {b})"),
            None => "exhaustive".to_string(),
        }
    } else if r.violation.is_some() {
        "stopped at first violation".to_string()
    } else if r.error.is_some() {
        "error".to_string()
    } else {
        let (limit, stop) = match r.ended {
            Ended::TimeLimit => ("time limit", "time limit reached"),
            Ended::Interrupted => ("interrupted", "interrupted"),
            _ => ("budget", "budget reached"),
        };
        match (r.seeds, &r.state) {
            (Some((a, b)), _) => format!("{stop} (seeds {a}..={b})"),
            (None, Some(st)) => format!("NOT exhaustive: {limit}, {} states", st.states),
            (None, None) => stop.to_string(),
        }
    };
    println!(
        "{:<36} {:<24} {:<6} {:<9} {:>10}  {:<30} {:>7.2}s {:>9.0}",
        r.scenario,
        r.variant,
        r.engine.name(),
        r.verdict.text(),
        r.executions,
        exploration,
        r.seconds,
        r.executions_per_second
    );
    if let (true, Some(st)) = (detail, &r.state) {
        println!("    {}", st.describe(r.seconds));
    }
    if let Some(e) = &r.error {
        println!("    error: {e}");
    }
    if let Some(n) = &r.note {
        println!("    {n}");
    }
    if let Some(f) = &run.found {
        let v = f.outcome.violation.as_ref().expect("violation");
        for l in v.to_string().lines() {
            println!("    {l}");
        }
    }
    if let Some(path) = &r.schedule_file {
        let steps = run.found.as_ref().map_or(0, |f| f.outcome.schedule.len());
        match r.state.as_ref().and_then(|s| s.counterexample_decisions) {
            Some(d) => println!(
                "    schedule: {path} ({steps} steps, {d} scheduling decisions: a shortest schedule)"
            ),
            None => println!("    schedule: {path} ({steps} steps)"),
        }
        println!("    replay:   kexit replay {path}");
        if let Some(seed) = r.seed {
            println!("    or:       kexit check {} --variant {} --engine {} --seed {seed} --iterations 1", r.scenario_arg, r.variant, r.engine.name());
        }
    }
}
