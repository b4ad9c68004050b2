//! `kexit mutants`: every re-created bug against the scenarios that expose it, on loom and
//! PCT: caught or missed, executions and time to the first violation, kind, schedule file.

use crate::engine::{self, Budget, EngineKind, LOOM_MAX_ACTORS};
use crate::outcome::{verdict, Verdict};
use kexit_model::Variant;
use kexit_scenarios::select::expected;
use serde::Serialize;
use std::path::Path;

#[derive(Serialize)]
pub struct MutantRow {
    pub variant: &'static str,
    pub scenario: String,
    pub engine: EngineKind,
    pub caught: bool,
    /// The engine explored everything it was asked to (a miss is then no budget's doing).
    pub exhaustive: bool,
    pub executions: u64,
    pub seconds: f64,
    pub kind: Option<String>,
    pub schedule_file: Option<String>,
}

/// The state engine's budget per (variant, scenario).
pub const MUTANT_STATES: u64 = 150_000;

pub fn main(json: bool, out: &Path, iterations: u64, html: Option<&Path>) -> Result<u8, String> {
    let mut rows = Vec::new();
    let mut pages = Vec::new();
    // The seed's lines for the swimlane pages, read once (the pages go without them when
    // KEXIT_SEED is unset or unreadable).
    let seed = html.and_then(|_| crate::report::env_seed().ok().flatten());
    for info in kexit_scenarios::exposure::EXPOSURES
        .iter()
        .filter(|e| e.variant.starts_with("bug:"))
    {
        let variant = Variant::by_name(info.variant).expect("listed variant");
        for name in info.scenarios {
            let s = kexit_scenarios::by_name(name)
                .ok_or_else(|| format!("{}: no scenario {name}", info.variant))?;
            let mut engines = vec![EngineKind::State, EngineKind::Pct];
            if s.spec.actor_count() <= LOOM_MAX_ACTORS {
                engines.insert(0, EngineKind::Loom);
            }
            for engine in engines {
                let budget = Budget {
                    iterations: if matches!(engine, EngineKind::Loom | EngineKind::State) {
                        u64::MAX
                    } else {
                        iterations
                    },
                    preemption_bound: s.spec.loom_bound,
                    jobs: 1,
                    max_states: MUTANT_STATES,
                    ..Budget::default()
                };
                let r = if engine == EngineKind::Loom {
                    crate::engine::worker::run_loom(&s.spec.name, &s.spec, &variant, &budget)
                } else {
                    engine::run(&s.spec, &variant, engine, &budget, &|_| {})
                };
                let caught = verdict(&r, &expected(&s, &variant)) == Verdict::Caught;
                let mut schedule_file = None;
                let kind = r
                    .found
                    .as_ref()
                    .and_then(|f| f.outcome.violation.as_ref())
                    .map(|v| v.kind.slug().to_string());
                let mut page = None;
                if let Some(f) = &r.found {
                    let file = f.schedule_file(&s.spec, &s.origin, info.variant, engine.name());
                    schedule_file = file.save(out).ok().map(|p| p.display().to_string());
                    if let Some(dir) = html {
                        let stem = format!("{}-{}-{}", s.spec.name, info.variant, engine.name());
                        let title = format!(
                            "{} under {} (found by {})",
                            s.spec.name,
                            info.variant,
                            engine.name()
                        );
                        page = Some(crate::swimlane::write_page(
                            dir,
                            &stem,
                            title,
                            &f.outcome,
                            seed.as_deref(),
                        )?);
                    }
                }
                pages.push(page);
                rows.push(MutantRow {
                    variant: info.variant,
                    scenario: s.spec.name.clone(),
                    engine,
                    caught,
                    exhaustive: r.exhaustive,
                    executions: r.executions,
                    seconds: r.elapsed.as_secs_f64(),
                    kind,
                    schedule_file,
                });
            }
        }
    }
    let variants: std::collections::BTreeSet<&str> = rows.iter().map(|r| r.variant).collect();
    let caught: std::collections::BTreeSet<&str> = rows
        .iter()
        .filter(|r| r.caught)
        .map(|r| r.variant)
        .collect();
    // A re-created bug no engine catches is a failure of the checker (or of the model's
    // fidelity), reported, not hidden: exit code 1.
    let code = u8::from(caught.len() < variants.len());
    if let Some(dir) = html {
        write_report(dir, &rows, &pages, caught.len(), variants.len())?;
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&rows).expect("json"));
    } else {
        println!(
            "{:<26} {:<36} {:<6} {:<7} {:>10} {:>8}  kind",
            "variant", "scenario", "engine", "result", "executions", "time"
        );
        // "budget": not caught before the engine's budget ran out (not exhaustive).
        for r in &rows {
            println!(
                "{:<26} {:<36} {:<6} {:<7} {:>10} {:>7.2}s  {}",
                r.variant,
                r.scenario,
                r.engine.name(),
                match (r.caught, r.exhaustive) {
                    (true, _) => "caught",
                    (false, true) => "MISSED",
                    (false, false) => "budget",
                },
                r.executions,
                r.seconds,
                r.kind.as_deref().unwrap_or("-")
            );
        }
        println!(
            "\n{}: {} of {} variants caught by at least one engine",
            if code == 0 { "OK" } else { "FAILED" },
            caught.len(),
            variants.len()
        );
        for v in variants.difference(&caught) {
            println!("  missed: {v}");
        }
    }
    Ok(code)
}

/// DIR/report.html: one row per (bug, scenario, engine), each caught bug linked to its
/// swimlane page.
fn write_report(
    dir: &Path,
    rows: &[MutantRow],
    pages: &[Option<String>],
    caught: usize,
    variants: usize,
) -> Result<(), String> {
    use crate::swimlane::report::{write, ReportRow};
    let rows: Vec<ReportRow> = rows
        .iter()
        .zip(pages)
        .map(|(r, page)| ReportRow {
            scenario: r.scenario.clone(),
            variant: r.variant.to_string(),
            engine: r.engine.name().to_string(),
            verdict: if r.caught { "caught" } else { "missed" }.to_string(),
            ok: r.caught,
            exhaustive: r.exhaustive,
            executions: r.executions,
            seconds: r.seconds,
            violation: r.kind.clone(),
            page: page.clone(),
        })
        .collect();
    let summary = format!("{caught} of {variants} re-created bugs caught by at least one engine");
    write(dir, "kexit mutants", &summary, &rows)
}
