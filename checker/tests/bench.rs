//! `kexit bench` end to end: the sections produce well-formed figures, the hand-written
//! baseline explores the same scenario, and bad options are refused. Speed itself is measured,
//! never asserted.

mod common;
use common::*;

use std::process::Output;

fn json(o: &Output) -> serde_json::Value {
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).expect("bench --json prints JSON")
}

#[test]
fn overhead_compares_the_model_with_the_hand_written_baseline() {
    let o = kexit(&[
        "bench",
        "--quick",
        "--only",
        "overhead",
        "--cell-limit",
        "1",
        "--json",
    ]);
    let v = json(&o);
    let rows = v["overhead"].as_array().expect("overhead rows");
    assert_eq!(rows.len(), 4, "two loom settings, pct and random");
    for r in rows {
        for side in ["kexit", "raw"] {
            let c = &r[side];
            assert!(c["error"].is_null(), "{side}: {}", c["error"]);
            assert!(
                c["violation"].is_null(),
                "{side} passes: {}",
                c["violation"]
            );
            assert!(c["executions"].as_u64().unwrap() > 0, "{side} ran");
            assert!(c["points"].as_u64().unwrap() > c["executions"].as_u64().unwrap());
        }
        assert!(r["ratio"].as_f64().unwrap() > 0.0);
    }
    // At bound 3 both explore their whole state space, and the figures show it.
    assert_eq!(rows[0]["kexit"]["exhaustive"], true);
    assert_eq!(rows[0]["raw"]["exhaustive"], true);
    // Same seeds, same executions on the shuttle engines.
    assert_eq!(rows[2]["kexit"]["executions"], rows[2]["raw"]["executions"]);
    assert!(v["machine"]["cores"].as_u64().unwrap() >= 1);
}

#[test]
fn scaling_and_state_space_sections_report_every_cell() {
    let o = kexit(&[
        "bench",
        "--quick",
        "--only",
        "scaling,state-space",
        "--cell-limit",
        "0.5",
        "--json",
    ]);
    let v = json(&o);
    let scaling = v["scaling"].as_array().unwrap();
    assert_eq!(scaling.len(), 3);
    for s in scaling {
        assert_eq!(s["single"]["executions"], s["parallel"]["executions"]);
        assert!(s["speedup"].as_f64().unwrap() > 0.0);
        assert!(s["ceiling"].as_f64().unwrap() > 0.0);
        assert!(s["independent_seconds"].as_f64().unwrap() > 0.0);
    }
    let states = v["state_space"].as_array().unwrap();
    assert_eq!(states.len(), 3, "the starters in --quick");
    for s in states {
        let cells = s["cells"].as_array().unwrap();
        assert_eq!(cells.len(), 4, "bounds 1-3 and unbounded");
        assert!(cells.iter().all(|c| c["violation"].is_null()));
        assert!(cells.iter().all(|c| c["executions"].as_u64().unwrap() > 0));
    }
    // exit-vs-wait at bound 1 is 15 executions: exhaustive within any limit.
    assert_eq!(states[0]["scenario"], "exit-vs-wait");
    assert_eq!(states[0]["cells"][0]["exhaustive"], true);
    assert_eq!(states[0]["cells"][0]["executions"], 15);
    assert!(v["engines"].as_array().unwrap().is_empty(), "--only");
}

#[test]
fn table_output_and_bad_options() {
    let o = kexit(&["bench", "--quick", "--only", "scaling"]);
    assert_eq!(o.status.code(), Some(0));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("## Parallel scaling"), "{out}");
    assert!(out.contains("| pct |"), "{out}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("scaling: pct"), "progress on stderr: {err}");

    for bad in [
        &["bench", "--cell-limit", "-1"][..],
        &["bench", "--cell-limit", "nan"][..],
        &["bench", "--only", "everything"][..],
    ] {
        let o = kexit(bad);
        assert_eq!(o.status.code(), Some(2), "{bad:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!err.contains("panicked"), "{err}");
        assert!(!err.is_empty());
    }
}
