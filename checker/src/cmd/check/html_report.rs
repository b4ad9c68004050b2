//! `kexit check --html DIR`: a swimlane page per violation and DIR/report.html linking them.

use super::{CheckArgs, ResultJson};
use crate::engine::RunResult;
use crate::swimlane::report::{self, ReportRow};
use std::path::Path;

/// Writes the swimlane page of `r`'s violation into `dir`; its file name, if there is one.
pub fn swimlane_page(
    dir: &Path,
    rj: &ResultJson,
    r: &RunResult,
    source: Option<&[String]>,
) -> Result<Option<String>, String> {
    let Some(f) = &r.found else {
        return Ok(None);
    };
    let stem = rj
        .schedule_file
        .as_deref()
        .and_then(|p| Path::new(p).file_stem())
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| format!("{}-{}-{}", rj.scenario, rj.variant, rj.engine.name()));
    let title = format!(
        "{} under {} (found by {})",
        rj.scenario,
        rj.variant,
        rj.engine.name()
    );
    let name = crate::swimlane::write_page(dir, &stem, title, &f.outcome, source)?;
    Ok(Some(name))
}

/// Writes DIR/report.html: one row per result.
pub fn write(
    dir: &Path,
    a: &CheckArgs,
    results: &[ResultJson],
    pages: &[Option<String>],
) -> Result<(), String> {
    let rows: Vec<ReportRow> = results
        .iter()
        .zip(pages.iter().chain(std::iter::repeat(&None)))
        .map(|(r, page)| ReportRow {
            scenario: r.scenario.clone(),
            variant: r.variant.clone(),
            engine: r.engine.name().to_string(),
            verdict: r.verdict.text().to_string(),
            ok: r.verdict.ok(),
            exhaustive: r.exhaustive,
            executions: r.executions,
            seconds: r.seconds,
            violation: r
                .violation
                .as_ref()
                .map(|v| format!("{} at {}:{}", v.kind, v.function, v.line)),
            page: page.clone(),
        })
        .collect();
    let bad = rows.iter().filter(|r| !r.ok).count();
    let summary = format!(
        "kexit check {}: {} result(s), {} as expected, {bad} not",
        a.scenarios.join(" "),
        rows.len(),
        rows.len() - bad
    );
    report::write(dir, "kexit check", &summary, &rows)
}
