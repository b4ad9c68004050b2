//! `kexit fuzz` end to end, byte-driven schedules saved as schedule files that `kexit replay`
//! reproduces, and a replay that cannot go on ending instead of hanging.

mod common;
use common::*;

use kexit_checker::engine::shuttle::bytes;
use kexit_checker::engine::{self, Budget};
use kexit_checker::schedule::ScheduleFile;
use kexit_model::Variant;
use kexit_scenarios::select::expected;
use std::path::Path;

fn assert_replays(file: &Path) {
    let o = kexit(&["replay", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("reproduced: the recorded violation"),
        "{}",
        text(&o)
    );
}

/// A historical bug found by pseudo-random byte schedules is saved as a schedule file (engine
/// "bytes") that `kexit replay` reproduces step for step.
#[test]
fn byte_schedule_violations_replay_with_kexit_replay() {
    let out = scratch("bytes");
    for (variant, scenario) in [
        ("bug:no-ealready", "path-exit1-ealready"),
        ("bug:wait-unlocked-sleep", "exit-vs-wait"),
    ] {
        let v = Variant::by_name(variant).unwrap();
        let s = kexit_scenarios::by_name(scenario).unwrap();
        let budget = Budget {
            iterations: 200_000,
            ..Budget::default()
        };
        let r = bytes::run_random(&s.spec, &v, &budget);
        assert!(r.error.is_none(), "{:?}", r.error);
        let f = r.found.unwrap_or_else(|| panic!("{variant} not found"));
        let viol = f.outcome.violation.as_ref().unwrap();
        assert!(expected(&s, &v).contains(&viol.kind), "{viol}");
        // The byte input alone reproduces the execution.
        let input = bytes::input_of(&s.spec, &v, 0, f.seed.unwrap()).unwrap();
        let (again, _) = bytes::execute_bytes(&s.spec, &v, &input).unwrap();
        assert_eq!(again.schedule, f.outcome.schedule);
        let file = ScheduleFile::new(
            &s.spec,
            &s.origin,
            v.name(),
            "bytes",
            None,
            viol,
            &f.outcome.schedule,
        );
        assert_replays(&file.save(&out).unwrap());
    }
}

/// A schedule that names an actor whose thread has ended (here: the child, after its exit)
/// or one that does not exist ends the replay early instead of leaving the others waiting.
#[test]
fn replay_stops_when_the_scheduled_actor_can_never_run() {
    let s = kexit_scenarios::by_name("oracle-01-exit-status").unwrap();
    let v = Variant::default();
    let out = engine::replay(&s.spec, &v, &[1; 5000]);
    assert!(out.schedule.len() < 5000, "{}", out.schedule.len());
    let out = engine::replay(&s.spec, &v, &[7; 10]);
    assert!(out.schedule.is_empty());
}

fn fuzz_json(args: &[&str]) -> serde_json::Value {
    let o = kexit(args);
    let code = o.status.code().unwrap();
    assert!(code == 0 || code == 1, "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json report");
    assert_eq!(v["exit_code"], code);
    v
}

#[test]
fn fuzz_reports_distinct_violations_whose_schedules_replay() {
    let out = scratch("run");
    let v = fuzz_json(&[
        "fuzz",
        "--time-limit",
        "3",
        "--jobs",
        "2",
        "--json",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(v["scenarios"].as_u64().unwrap() >= 10, "{v}");
    assert!(v["executions"].as_u64().unwrap() >= v["scenarios"].as_u64().unwrap());
    let violations = v["violations"].as_array().unwrap();
    let files = v["schedule_files"].as_array().unwrap();
    assert_eq!(files.len(), violations.len());
    // The generator meets the F1 status copyout within seconds.
    assert!(
        violations.iter().any(|d| d["finding"] == "F1"),
        "{violations:?}"
    );
    let mut keys = std::collections::BTreeSet::new();
    for d in violations {
        for field in ["kind", "location", "class", "scenario", "message"] {
            assert!(d[field].is_string(), "{field} in {d}");
        }
        let key = format!(
            "{} {} {} {}",
            d["kind"], d["location"], d["class"], d["finding"]
        );
        assert!(keys.insert(key), "deduplicated by kind, location and class");
        assert!(Path::new(d["scenario_file"].as_str().unwrap()).is_file());
        assert_replays(Path::new(d["schedule_file"].as_str().unwrap()));
    }
}

/// With `--scenarios`, a run is the same whatever the number of workers.
#[test]
fn fuzz_with_a_scenario_count_is_deterministic() {
    let summary = |jobs: &str, engine: &str| {
        let out = scratch(&format!("det-{jobs}-{engine}"));
        let v = fuzz_json(&[
            "fuzz",
            "--scenarios",
            "40",
            "--budget",
            "50",
            "--jobs",
            jobs,
            "--engine",
            engine,
            "--seed",
            "7",
            "--json",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(v["scenarios"], 40);
        let keys: Vec<String> = v["violations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                format!(
                    "{} {} {} {}",
                    d["kind"], d["location"], d["class"], d["count"]
                )
            })
            .collect();
        (keys, v["executions"].clone())
    };
    for engine in ["pct", "bytes"] {
        assert_eq!(summary("1", engine), summary("2", engine), "{engine}");
    }
}

#[test]
fn fuzz_bad_input_exits_2_without_panicking() {
    for args in [
        &["fuzz", "--time-limit", "0"][..],
        &["fuzz", "--time-limit", "nan"],
        &["fuzz", "--jobs", "0"],
        &["fuzz", "--budget", "0"],
        &["fuzz", "--variant", "bug:nope"],
        &["fuzz", "--engine", "loom"],
        &["fuzz", "--compare", "--variant", "fix:wait4-init-status"],
    ] {
        let o = kexit(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(!text(&o).contains("panicked"), "{args:?}: {}", text(&o));
    }
}

/// `kexit fuzz --engine state` explores generated scenarios with the state engine and says how
/// many it explored exhaustively (the first four of seed 0 include one that ends within 5,000
/// executions).
#[test]
fn fuzzing_with_the_state_engine_proves_small_generated_scenarios() {
    let out = scratch("fuzz-state");
    let o = kexit(&[
        "fuzz",
        "--engine",
        "state",
        "--scenarios",
        "4",
        "--budget",
        "5000",
        "--jobs",
        "1",
        "--json",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json report");
    assert_eq!(r["engine"], "state");
    assert_eq!(r["scenarios"], 4);
    let proven = r["exhaustive"].as_u64().expect("exhaustive count");
    assert!((1..=4).contains(&proven), "{r}");
    assert!(r["executions"].as_u64().unwrap() > 0);
}
