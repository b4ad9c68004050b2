//! What a CI system reads natively: `kexit check --junit FILE` (one test case per scenario,
//! variant and engine; a violation or a miss is a failure whose body has the violation and
//! the replay command) and `--sarif FILE` (SARIF 2.1.0: one result per violation, located at
//! `sys/kern/kern_exit.c:LINE`, with the trace as a code flow of one thread flow per actor, so
//! code-scanning views annotate the kernel source). Both are built with their crates' types
//! (`quick-junit`, `serde-sarif`), never by hand.

use super::ResultJson;
use crate::outcome::Verdict;
use crate::report::StepJson;
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use serde_sarif::sarif;
use std::time::Duration;

/// Where the seed lives in a DragonFly source tree: SARIF locations are relative to it.
pub const SEED_URI: &str = "sys/kern/kern_exit.c";

/// One result of a run, with the trace of its violation (if any).
pub struct CiEntry<'a> {
    pub result: &'a ResultJson,
    pub steps: Vec<StepJson>,
}

fn case_name(r: &ResultJson) -> String {
    format!("{} [{}, {}]", r.scenario, r.variant, r.engine.name())
}

fn violation_text(r: &ResultJson) -> Option<String> {
    let v = r.violation.as_ref()?;
    Some(format!(
        "{} by {} in {} at kern_exit.c:{}: {}",
        v.kind, v.actor, v.function, v.line, v.message
    ))
}

/// The JUnit XML of a run; with `require_exhaustive`, a result that is not exhaustive fails.
pub fn junit(entries: &[CiEntry<'_>], require_exhaustive: bool) -> Result<String, String> {
    let mut suite = TestSuite::new("kexit check");
    for e in entries {
        let r = e.result;
        let mut body = Vec::new();
        body.extend(violation_text(r));
        if let Some(err) = &r.error {
            body.push(format!("error: {err}"));
        }
        if let Some(path) = &r.schedule_file {
            body.push(format!("replay: kexit replay {path}"));
        }
        let (kind, message) = match r.verdict {
            Verdict::Violation => (Some(NonSuccessKind::Failure), "unexpected violation".into()),
            Verdict::Missed => (
                Some(NonSuccessKind::Failure),
                format!(
                    "expected {} was not found",
                    r.expected.as_deref().unwrap_or("a violation")
                ),
            ),
            Verdict::Error => (Some(NonSuccessKind::Error), "the run failed".to_string()),
            _ if require_exhaustive && r.ended.unfinished() => (
                Some(NonSuccessKind::Failure),
                format!("not exhaustive ({:?}) with --require-exhaustive", r.ended),
            ),
            _ => (None, String::new()),
        };
        let status = match kind {
            Some(kind) => {
                let mut s = TestCaseStatus::non_success(kind);
                s.set_message(message);
                s.set_description(body.join("\n"));
                s
            }
            None => TestCaseStatus::success(),
        };
        let mut case = TestCase::new(case_name(r), status);
        case.set_classname(r.scenario.clone());
        case.set_time(Duration::from_secs_f64(r.seconds.max(0.0)));
        if r.verdict == Verdict::Caught {
            case.set_system_out(body.join("\n"));
        }
        suite.add_test_case(case);
    }
    let mut report = Report::new("kexit");
    report.add_test_suite(suite);
    report.to_string().map_err(|e| format!("JUnit: {e}"))
}

fn location(line: u32, text: Option<String>) -> sarif::Location {
    let region = sarif::Region::builder()
        .start_line(i64::from(line.max(1)))
        .build();
    let physical = sarif::PhysicalLocation::builder()
        .artifact_location(sarif::ArtifactLocation::builder().uri(SEED_URI).build())
        .region(region)
        .build();
    match text {
        Some(t) => sarif::Location::builder()
            .physical_location(physical)
            .message(sarif::Message::builder().text(t).build())
            .build(),
        None => sarif::Location::builder()
            .physical_location(physical)
            .build(),
    }
}

/// The trace as one thread flow per actor, each step with its place in the whole order.
fn code_flow(steps: &[StepJson]) -> sarif::CodeFlow {
    let mut actors: Vec<&str> = Vec::new();
    for s in steps {
        if !actors.contains(&s.actor.as_str()) {
            actors.push(&s.actor);
        }
    }
    let flows = actors
        .iter()
        .map(|a| {
            let locations: Vec<sarif::ThreadFlowLocation> = steps
                .iter()
                .filter(|s| s.actor == *a)
                .map(|s| {
                    let text = format!(
                        "{} in {} ({}:{}): {}",
                        s.actor, s.function, s.file, s.line, s.what
                    );
                    sarif::ThreadFlowLocation::builder()
                        .location(location(s.line, Some(text)))
                        .execution_order(i64::from(s.step))
                        .build()
                })
                .collect();
            sarif::ThreadFlow::builder()
                .id(a.to_string())
                .locations(locations)
                .build()
        })
        .collect::<Vec<_>>();
    sarif::CodeFlow::builder().thread_flows(flows).build()
}

/// The SARIF 2.1.0 log of a run: every violation found, an unexpected one as an error, one
/// a scenario or a re-created bug expects as a note.
pub fn sarif(entries: &[CiEntry<'_>]) -> Result<String, String> {
    let results: Vec<sarif::Result> = entries
        .iter()
        .filter_map(|e| {
            let r = e.result;
            let v = r.violation.as_ref()?;
            let level = if r.verdict == Verdict::Caught {
                "note"
            } else {
                "error"
            };
            let mut text = format!(
                "{} ({}, {}): {}",
                r.scenario,
                r.variant,
                r.engine.name(),
                violation_text(r).unwrap_or_default()
            );
            if let Some(path) = &r.schedule_file {
                text.push_str(&format!(" Replay: kexit replay {path}"));
            }
            let result = sarif::Result::builder()
                .rule_id(v.kind.clone())
                .level(serde_json::json!(level))
                .message(sarif::Message::builder().text(text).build())
                .locations(vec![location(v.line, None)]);
            Some(if e.steps.is_empty() {
                result.build()
            } else {
                result.code_flows(vec![code_flow(&e.steps)]).build()
            })
        })
        .collect();
    let driver = sarif::ToolComponent::builder()
        .name("kexit")
        .version(crate::schedule::KEXIT_VERSION)
        .build();
    let run = sarif::Run::builder()
        .tool(sarif::Tool::builder().driver(driver).build())
        .results(results)
        .build();
    let log = sarif::Sarif::builder()
        .schema(sarif::SCHEMA_URL)
        .version(serde_json::json!("2.1.0"))
        .runs(vec![run])
        .build();
    serde_json::to_string_pretty(&log).map_err(|e| format!("SARIF: {e}"))
}

/// Writes what `--junit` and `--sarif` asked for.
pub fn write_requested(
    a: &crate::cmd::check::CheckArgs,
    results: &[ResultJson],
    traces: Vec<Vec<StepJson>>,
) -> Result<(), String> {
    let entries: Vec<CiEntry<'_>> = results
        .iter()
        .zip(traces)
        .map(|(result, steps)| CiEntry { result, steps })
        .collect();
    let write = |path: &std::path::Path, text: String| {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    if let Some(path) = &a.junit {
        write(path, junit(&entries, a.require_exhaustive)?)?;
    }
    if let Some(path) = &a.sarif {
        write(path, sarif(&entries)?)?;
    }
    Ok(())
}
