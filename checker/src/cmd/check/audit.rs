//! `kexit check --audit`: the fingerprint audit over the chosen scenarios, one row each.

use crate::cmd::check::CheckArgs;
use crate::engine::state::audit::{audit, AuditReport};
use crate::engine::Budget;
use kexit_model::Variant;
use kexit_scenarios::Scenario;
use std::time::Duration;

/// Executions per scenario when `--iterations` is not given.
pub const AUDIT_EXECUTIONS: u64 = 2_000;

/// Runs the audit; exit code 1 when any scenario's fingerprint disagrees with itself.
pub fn main(a: &CheckArgs, scenarios: &[Scenario], variant: &Variant) -> Result<u8, String> {
    let budget = Budget {
        iterations: a.iterations.unwrap_or(AUDIT_EXECUTIONS),
        seed: a.seed,
        time_limit: a.time_limit.map(Duration::from_secs_f64),
        ..Budget::default()
    };
    let mut rows = Vec::new();
    let mut worst = 0u8;
    if !a.json {
        println!(
            "{:<36} {:>10} {:>12} {:>10} {:>10}  {:<8} {:>8}",
            "scenario", "executions", "transitions", "pairs", "states", "audit", "time"
        );
    }
    for s in scenarios {
        let r: AuditReport = audit(&s.spec, variant, &budget)?;
        if r.failed() {
            worst = 1;
        }
        if !a.json {
            println!(
                "{:<36} {:>10} {:>12} {:>10} {:>10}  {:<8} {:>7.2}s",
                s.spec.name,
                r.executions,
                r.transitions,
                r.pairs,
                r.states,
                if r.failed() { "FAILED" } else { "ok" },
                r.seconds
            );
            if let Some(e) = &r.model_error {
                println!(
                    "    model error in the execution with seed {}: {} at kern_exit.c:{} ({}): {}",
                    e.seed,
                    e.violation.actor,
                    e.violation.line,
                    e.violation.function,
                    e.violation.message
                );
                println!(
                    "    reproduce: kexit check {} --variant {} --audit --seed {} --iterations 1",
                    s.spec.name,
                    variant.name(),
                    e.seed
                );
            }
            if let Some(d) = &r.disagreement {
                println!(
                    "    the state {} with actor {} chosen led to two different states:",
                    d.fingerprint, d.actor
                );
                for (which, seen) in [("first", d.first), ("then", d.second)] {
                    println!(
                        "      {which}: execution with seed {} at decision {} -> {:032x}",
                        seen.seed, seen.decision, seen.next
                    );
                }
                println!(
                    "    reproduce: kexit check {} --variant {} --audit --seed {} --iterations {}",
                    s.spec.name,
                    variant.name(),
                    d.first.seed.min(d.second.seed),
                    d.first.seed.abs_diff(d.second.seed) + 1
                );
            }
        }
        rows.push(serde_json::json!({ "scenario": s.spec.name, "audit": r }));
    }
    if a.json {
        let doc = serde_json::json!({ "kexit": crate::schedule::KEXIT_VERSION, "exit_code": worst, "audits": rows });
        println!("{}", serde_json::to_string_pretty(&doc).expect("json"));
    } else {
        println!(
            "\n{}: {} scenario(s) audited, {} with a fingerprint that misses state, {} with a model error",
            if worst == 0 { "OK" } else { "FAILED" },
            rows.len(),
            rows.iter()
                .filter(|r| !r["audit"]["disagreement"].is_null())
                .count(),
            rows.iter()
                .filter(|r| !r["audit"]["model_error"].is_null())
                .count()
        );
    }
    Ok(worst)
}
