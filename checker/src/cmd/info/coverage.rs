//! `kexit coverage`: which modeled seed lines the catalogue reaches, per function.

use crate::engine::{self, Budget, EngineKind};
use kexit_model::site::MODELED_LINES;
use kexit_model::Variant;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Seed functions in seed order.
pub const FUNCTIONS: &[&str] = &[
    "sys_exit",
    "sys_extexit",
    "killalllwps",
    "killlwps",
    "exit1",
    "lwp_exit",
    "lwp_wait",
    "lwp_dispose",
    "sys_wait4",
    "kern_wait",
    "proc_reparent",
    "at_exit",
    "rm_at_exit",
    "reaplwps",
    "reaplwp",
    "deadlwp_init",
];

#[derive(Serialize)]
pub struct FunctionCoverage {
    pub function: &'static str,
    pub modeled: usize,
    pub reached: usize,
    pub percent: f64,
    pub never_reached: Vec<u32>,
}

pub fn main(iterations: u64, json: bool) -> Result<u8, String> {
    let cat =
        kexit_scenarios::try_catalogue().map_err(|e| format!("invalid catalogue file: {e}"))?;
    let mut hit: BTreeSet<u32> = BTreeSet::new();
    let budget = Budget {
        iterations,
        jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
        ..Budget::default()
    };
    for s in &cat {
        let variant = Variant::default();
        let r = engine::run(&s.spec, &variant, EngineKind::Pct, &budget, &|_| {});
        let mut lines = r.lines.clone();
        if let Some(f) = &r.found {
            for (a, b) in lines.iter_mut().zip(&f.outcome.lines) {
                *a |= *b;
            }
        }
        for (w, bits) in lines.iter().enumerate() {
            for b in 0..64 {
                if bits & (1u64 << b) != 0 {
                    hit.insert((w * 64 + b) as u32);
                }
            }
        }
    }
    let mut by_fn: BTreeMap<&str, BTreeSet<u32>> = BTreeMap::new();
    for (f, l) in MODELED_LINES {
        by_fn.entry(f).or_default().insert(*l);
    }
    let mut rows = Vec::new();
    for f in FUNCTIONS {
        let lines = by_fn.get(f).cloned().unwrap_or_default();
        let reached = lines.iter().filter(|l| hit.contains(l)).count();
        rows.push(FunctionCoverage {
            function: f,
            modeled: lines.len(),
            reached,
            percent: if lines.is_empty() {
                100.0
            } else {
                100.0 * reached as f64 / lines.len() as f64
            },
            never_reached: lines.iter().filter(|l| !hit.contains(l)).copied().collect(),
        });
    }
    let total: usize = rows.iter().map(|r| r.modeled).sum();
    let reached: usize = rows.iter().map(|r| r.reached).sum();
    if json {
        let doc = serde_json::json!({ "scenarios": cat.len(), "iterations": iterations, "modeled": total, "reached": reached, "functions": rows });
        println!("{}", serde_json::to_string_pretty(&doc).expect("json"));
    } else {
        println!("seed lines reached by the catalogue ({} scenarios, {iterations} PCT executions each, seed variant)\n", cat.len());
        println!(
            "{:<14} {:>7} {:>7} {:>7}  never reached (kern_exit.c lines)",
            "function", "modeled", "reached", "%"
        );
        for r in &rows {
            let missing: Vec<String> = r.never_reached.iter().map(|l| l.to_string()).collect();
            println!(
                "{:<14} {:>7} {:>7} {:>6.1}%  {}",
                r.function,
                r.modeled,
                r.reached,
                r.percent,
                missing.join(" ")
            );
        }
        println!(
            "\ntotal: {reached} of {total} modeled lines reached ({:.1}%)",
            100.0 * reached as f64 / total.max(1) as f64
        );
        println!("Lines of the seed that the model does not cite are stubs or constant in every scenario: see docs/model.md.");
    }
    Ok(0)
}
