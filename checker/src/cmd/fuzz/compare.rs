//! `kexit fuzz --compare`: for every re-created bug and each scenario that exposes it, the
//! time and executions to the first violation with pseudo-random byte schedules, PCT and
//! random, one after the other in one process and one thread each, so the figures compare.
//! Each engine runs `--trials` times from different seeds (one execution's luck says little);
//! the table shows the median executions and time over the trials that caught the bug.

use super::{run_scenario, FuzzArgs};
use crate::engine::EngineKind;
use kexit_model::Variant;
use kexit_scenarios::exposure::{Exposure, EXPOSURES};
use kexit_scenarios::select::expected;
use serde::Serialize;
use std::time::{Duration, Instant};

#[derive(Serialize)]
pub struct Trial {
    pub seed: u64,
    /// Whether the first violation was the variant's expected one.
    pub caught: bool,
    pub violation: Option<String>,
    pub executions: u64,
    pub seconds: f64,
    pub error: Option<String>,
}

#[derive(Serialize)]
pub struct Cell {
    pub engine: EngineKind,
    pub caught: usize,
    pub trials: Vec<Trial>,
    /// Median over the trials that caught it.
    pub median_executions: Option<u64>,
    pub median_seconds: Option<f64>,
}

fn median<T: Copy + PartialOrd>(mut v: Vec<T>) -> Option<T> {
    v.sort_by(|a, b| a.partial_cmp(b).expect("comparable"));
    v.get(v.len().saturating_sub(1) / 2).copied()
}

#[derive(Serialize)]
pub struct Row {
    pub variant: String,
    pub scenario: String,
    pub cells: Vec<Cell>,
}

pub fn main(a: &FuzzArgs) -> Result<u8, String> {
    let limit = Duration::from_secs_f64(a.time_limit);
    let mut rows = Vec::new();
    let exposures: Vec<&Exposure> = EXPOSURES
        .iter()
        .filter(|e| e.variant.starts_with("bug:"))
        .filter(|e| a.variant == "seed" || e.variant == a.variant)
        .collect();
    if !a.json {
        println!(
            "{:<26} {:<28} {:>26} {:>26} {:>26}",
            "variant", "scenario", "bytes", "pct", "random"
        );
    }
    for exposure in exposures {
        let Some(variant) = Variant::by_name(exposure.variant) else {
            continue;
        };
        for name in exposure.scenarios {
            let s = kexit_scenarios::by_name(name).ok_or_else(|| {
                format!("variant {} names unknown scenario {name}", variant.name())
            })?;
            let want = expected(&s, &variant);
            let mut cells = Vec::new();
            for engine in [EngineKind::Bytes, EngineKind::Pct, EngineKind::Random] {
                let mut trials = Vec::new();
                for t in 0..a.trials {
                    let seed = a.seed.wrapping_add(t.wrapping_mul(1_000_000_007));
                    let start = Instant::now();
                    let r = run_scenario(&s.spec, &variant, engine, seed, u64::MAX, Some(limit));
                    let v = r.found.as_ref().and_then(|f| f.outcome.violation.as_ref());
                    trials.push(Trial {
                        seed,
                        caught: v.is_some_and(|v| want.contains(&v.kind)),
                        violation: v
                            .map(|v| format!("{} in {} at {}", v.kind.slug(), v.func, v.line)),
                        executions: r.executions,
                        seconds: start.elapsed().as_secs_f64(),
                        error: r.error,
                    });
                }
                let caught: Vec<&Trial> = trials.iter().filter(|t| t.caught).collect();
                cells.push(Cell {
                    engine,
                    caught: caught.len(),
                    median_executions: median(caught.iter().map(|t| t.executions).collect()),
                    median_seconds: median(caught.iter().map(|t| t.seconds).collect()),
                    trials,
                });
            }
            if !a.json {
                let text = |c: &Cell| match (c.median_executions, c.median_seconds) {
                    (Some(n), Some(t)) => {
                        format!(
                            "{n} / {:.1}ms ({}/{})",
                            t * 1000.0,
                            c.caught,
                            c.trials.len()
                        )
                    }
                    _ => format!("missed (0/{})", c.trials.len()),
                };
                println!(
                    "{:<26} {:<28} {:>26} {:>26} {:>26}",
                    variant.name(),
                    name,
                    text(&cells[0]),
                    text(&cells[1]),
                    text(&cells[2])
                );
            }
            rows.push(Row {
                variant: variant.name().to_string(),
                scenario: name.to_string(),
                cells,
            });
        }
    }
    if rows.is_empty() {
        return Err(format!(
            "--compare: {} is not a re-created bug with an exposing scenario (see `kexit variants`)",
            a.variant
        ));
    }
    if a.json {
        let doc = serde_json::json!({
            "kexit": crate::schedule::KEXIT_VERSION, "seed": a.seed, "trials": a.trials,
            "time_limit": a.time_limit, "rows": rows,
        });
        println!("{}", serde_json::to_string_pretty(&doc).expect("json"));
    } else {
        println!(
            "\nmedian executions / time to the first violation over the trials that caught it \
             (caught/trials); one thread each, at most {}s per trial, seed {}",
            a.time_limit, a.seed
        );
    }
    Ok(0)
}
