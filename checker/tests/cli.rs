//! End-to-end tests of the `kexit` binary, run as a real process: exit codes, schedule files
//! that replay byte for byte, and clear errors for bad input.

mod common;
use common::*;

use kexit_checker::schedule::ScheduleFile;
use std::path::{Path, PathBuf};
use std::process::Command;

fn schedules(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir.join("failures"))
        .map(|r| {
            r.map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "schedule"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn list_and_variants() {
    let o = kexit(&["list"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(text(&o).contains("exit-vs-wait"));
    let o = kexit(&["list", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert!(v.as_array().unwrap().len() >= 4);
    let o = kexit(&["variants", "--json"]);
    assert_eq!(code(&o), 0);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert!(v
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["name"] == "bug:wait-unlocked-sleep"));
}

#[test]
fn passing_check_exits_0_with_a_table_and_json() {
    let out = scratch("pass");
    let o = kexit(&[
        "check",
        "exit-vs-wait",
        "--engine",
        "pct",
        "--iterations",
        "300",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(text(&o).contains("pass") && text(&o).contains("budget reached"));
    let o = kexit(&[
        "check",
        "exit-vs-wait",
        "--engine",
        "pct",
        "--iterations",
        "300",
        "--json",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json on stdout");
    assert_eq!(v["results"][0]["verdict"], "pass");
    assert_eq!(v["results"][0]["executions"], 300);
    assert!(schedules(&out).is_empty());
}

#[test]
fn lost_wakeup_variant_is_saved_and_replays_identically_on_loom_and_pct() {
    for engine in ["loom", "pct"] {
        let out = scratch(&format!("variant-{engine}"));
        let o = kexit(&[
            "check",
            "exit-vs-wait",
            "--variant",
            "bug:wait-unlocked-sleep",
            "--engine",
            engine,
            "--out",
            out.to_str().unwrap(),
        ]);
        // The variant declares this violation, so catching it is the expected result.
        assert_eq!(code(&o), 0, "{}", text(&o));
        assert!(
            text(&o).contains("caught") && text(&o).contains("lost wakeup"),
            "{}",
            text(&o)
        );
        let files = schedules(&out);
        assert_eq!(files.len(), 1, "one schedule file for {engine}");
        let f = files[0].to_str().unwrap();
        let a = kexit(&["replay", f]);
        let b = kexit(&["replay", f]);
        assert_eq!(code(&a), 1, "replay reports the violation: {}", text(&a));
        assert_eq!(a.stdout, b.stdout, "two replays print identical bytes");
        let t = String::from_utf8_lossy(&a.stdout);
        assert!(
            t.contains("kern_exit.c:1124") && t.contains("reproduced"),
            "{t}"
        );
        let j = kexit(&["replay", f, "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&j.stdout).expect("json trace");
        assert_eq!(v["reproduced"], true);
        assert!(v["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["line"].as_u64().is_some()));
    }
}

#[test]
fn unexpected_violation_exits_1() {
    let dir = scratch("unexpected");
    let scn = dir.join("wrong-status.toml");
    std::fs::write(
        &scn,
        "name = \"wrong-status\"\n[[procs]]\npid = 2\nlwps = [ { script = [ { op = \"wait\", pid = -1, expect = { pid = 3, status = \"exited(5)\" } } ] } ]\n\
         [[procs]]\npid = 3\nparent = 2\nlwps = [ { script = [ { op = \"exit\", code = 7 } ] } ]\n",
    )
    .unwrap();
    let o = kexit(&[
        "check",
        scn.to_str().unwrap(),
        "--engine",
        "pct",
        "--iterations",
        "50",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 1, "{}", text(&o));
    assert!(
        text(&o).contains("VIOLATION") && text(&o).contains("exited(7)"),
        "{}",
        text(&o)
    );
}

#[test]
fn bad_inputs_exit_2_with_a_message() {
    let dir = scratch("bad");
    let d = dir.to_str().unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["check", "no-such-scenario"], "unknown scenario"),
        (
            vec!["check", "exit-vs-wait", "--engine", "spin"],
            "invalid value",
        ),
        (
            vec!["check", "exit-vs-wait", "--seed", "abc"],
            "invalid value",
        ),
        (
            vec!["check", "exit-vs-wait", "--variant", "bug:nope"],
            "unknown variant",
        ),
        (vec!["check", "exit-vs-wait", "--shard", "3/2"], "--shard"),
        (vec!["check", "exit-vs-wait", "--jobs", "0"], "--jobs"),
        (
            vec!["check", "exit-vs-wait", "--iterations", "0"],
            "--iterations",
        ),
        (
            vec!["check", "exit-vs-wait", "--time-limit", "0"],
            "--time-limit",
        ),
        (
            vec!["check", "/no/such/file.toml"],
            "cannot read scenario file",
        ),
        (vec!["replay", "/no/such.schedule"], "cannot read"),
        (vec!["frobnicate"], "unrecognized subcommand"),
    ];
    for (args, want) in cases {
        let mut a = args.clone();
        if a[0] == "check" {
            a.extend(["--out", d]);
        }
        let o = kexit(&a);
        assert_eq!(code(&o), 2, "{args:?}: {}", text(&o));
        assert!(
            text(&o).contains(want),
            "{args:?}: expected {want:?} in {}",
            text(&o)
        );
        assert!(
            !text(&o).contains("panicked"),
            "{args:?} panicked: {}",
            text(&o)
        );
    }
}

/// The file with its first scheduled actor changed, whichever actor it was.
fn tamper_first_step(body: &str) -> String {
    let key = "\"schedule\": \"";
    let i = body.find(key).expect("schedule field") + key.len();
    let other = if body[i..].starts_with('0') { "1" } else { "0" };
    format!("{}{other}{}", &body[..i], &body[i + 1..])
}

#[test]
fn damaged_or_mismatched_schedule_files_exit_2() {
    let dir = scratch("damaged");
    let o = kexit(&[
        "check",
        "exit-vs-wait",
        "--variant",
        "bug:wait-unlocked-sleep",
        "--engine",
        "pct",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let good = schedules(&dir).pop().expect("a schedule");
    let body = std::fs::read_to_string(&good).unwrap();
    let write = |name: &str, content: &str| {
        let p = dir.join(name);
        std::fs::write(&p, content).unwrap();
        p
    };
    let cases: Vec<(PathBuf, &str)> = vec![
        (
            write("truncated.schedule", &body[..body.len() / 2]),
            "truncated or corrupted",
        ),
        (
            write("text.schedule", "hello, world\n"),
            "not a kexit schedule file",
        ),
        (
            write("binary.schedule", "\u{0}\u{1}\u{2}"),
            "not a kexit schedule",
        ),
        (
            write("tampered.schedule", &tamper_first_step(&body)),
            "checksum",
        ),
        (
            write(
                "other-format.schedule",
                &body.replace("kexit-schedule/1", "kexit-schedule/9"),
            ),
            "format",
        ),
        (
            write(
                "old-kexit.schedule",
                &resigned(&body, |f| f.kexit = "0.0.1".into()),
            ),
            "recorded with kexit 0.0.1",
        ),
        (
            write(
                "old-loom.schedule",
                &resigned(&body, |f| f.loom = "0.6.0".into()),
            ),
            "recorded with loom 0.6.0",
        ),
        (
            write(
                "changed-scenario.schedule",
                &resigned(&body, |f| f.scenario_hash = "0000000000000000".into()),
            ),
            "has changed",
        ),
        (
            write(
                "unknown-variant.schedule",
                &resigned(&body, |f| f.variant = "bug:gone".into()),
            ),
            "unknown variant",
        ),
        (
            write(
                "unknown-scenario.schedule",
                &resigned(&body, |f| f.scenario = "gone".into()),
            ),
            "not in this catalogue",
        ),
    ];
    for (p, want) in cases {
        let o = kexit(&["replay", p.to_str().unwrap()]);
        assert_eq!(code(&o), 2, "{}: {}", p.display(), text(&o));
        assert!(
            text(&o).contains(want),
            "{}: expected {want:?} in {}",
            p.display(),
            text(&o)
        );
    }
}

/// The file with one field changed and its checksum recomputed, as a newer or older kexit
/// would have written it.
fn resigned(body: &str, mutate: impl Fn(&mut ScheduleFile)) -> String {
    let mut f: ScheduleFile = serde_json::from_str(body).unwrap();
    mutate(&mut f);
    f.resign();
    serde_json::to_string_pretty(&f).unwrap()
}

#[test]
fn finding_f1_schedule_in_docs_replays() {
    let f =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/findings/F1-wnohang-status.schedule");
    let o = kexit(&["replay", f.to_str().unwrap()]);
    assert_eq!(code(&o), 1, "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("copyout of a value the kernel never wrote") && t.contains("kern_exit.c:820"),
        "{t}"
    );
    assert!(t.contains("reproduced"), "{t}");
}

#[test]
fn an_aborting_loom_exploration_becomes_that_scenarios_report() {
    let dir = scratch("abort");
    let o = Command::new(env!("CARGO_BIN_EXE_kexit"))
        .args([
            "check",
            "exit-vs-wait",
            "wnohang-running-child",
            "--engine",
            "loom",
            "--out",
            dir.to_str().unwrap(),
        ])
        .env("KEXIT_WORKER_SELFTEST_ABORT", "1")
        .output()
        .unwrap();
    let t = text(&o);
    assert_eq!(code(&o), 1, "{t}");
    assert_eq!(
        t.matches("loom aborted the exploration").count(),
        2,
        "both scenarios report the abort: {t}"
    );
    assert!(t.contains("FAILED: 2 result(s)"), "{t}");
}

#[test]
fn finding_f2_schedules_in_docs_replay() {
    for (file, what) in [
        (
            "F2-nocldwait-kkassert.schedule",
            "KKASSERT((o & PLOCK_MASK) > 0) in PHOLDZOMB",
        ),
        (
            "F2-nocldwait-data-race.schedule",
            "p_children accessed without holding p_token(pid 1)",
        ),
    ] {
        let f = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../docs/findings")
            .join(file);
        let o = kexit(&["replay", f.to_str().unwrap()]);
        assert_eq!(code(&o), 1, "{}", text(&o));
        assert!(
            text(&o).contains(what) && text(&o).contains("reproduced"),
            "{}",
            text(&o)
        );
    }
}

#[test]
fn replay_shows_seed_source_and_focuses_on_one_pid() {
    let f = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../docs/findings/F2-nocldwait-data-race.schedule");
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/seed/kern_exit.c");
    if seed.exists() {
        let o = kexit(&[
            "replay",
            f.to_str().unwrap(),
            "--source",
            seed.to_str().unwrap(),
        ]);
        assert!(
            text(&o).contains("| lwkt_gettoken(&q->p_token);"),
            "{}",
            text(&o)
        );
    }
    let o = kexit(&["replay", f.to_str().unwrap(), "--focus", "3"]);
    let t = String::from_utf8_lossy(&o.stdout);
    let steps: Vec<&str> = t
        .lines()
        .filter(|l| {
            l.trim_start()
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit())
        })
        .collect();
    assert!(!steps.is_empty());
    assert!(steps.iter().all(|l| l.contains("pid 3 ")), "{t}");
    let o = kexit(&["replay", f.to_str().unwrap(), "--source", "/no/such/seed.c"]);
    assert_eq!(code(&o), 2);
}

#[test]
fn shards_split_seed_ranges_and_merge_to_the_whole() {
    let dir = scratch("shard");
    let run = |shard: &str| -> serde_json::Value {
        let o = kexit(&[
            "check",
            "exit-vs-wait",
            "threaded-exit",
            "--engine",
            "pct",
            "--iterations",
            "100",
            "--shard",
            shard,
            "--json",
            "--out",
            dir.to_str().unwrap(),
        ]);
        assert_eq!(code(&o), 0, "{}", text(&o));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let (a, b) = (run("1/2"), run("2/2"));
    let mut seen = std::collections::BTreeSet::new();
    let mut total = 0;
    for doc in [a, b] {
        for r in doc["results"].as_array().unwrap() {
            let (lo, hi) = (
                r["seeds"][0].as_u64().unwrap(),
                r["seeds"][1].as_u64().unwrap(),
            );
            for s in lo..=hi {
                assert!(
                    seen.insert((r["scenario"].as_str().unwrap().to_string(), s)),
                    "seed {s} run twice"
                );
            }
            total += r["executions"].as_u64().unwrap();
        }
    }
    assert_eq!(total, 200, "two shards of 2 scenarios x 100 executions");
}

/// `check --engine state` says how far its search went: a row marked exhaustive with its
/// states, then the counts (transitions, executions, depth, rate) and the run's peak memory;
/// the JSON carries the same counts.
#[test]
fn the_state_engine_reports_its_counts() {
    let out = scratch("state-counts");
    let o = kexit(&[
        "check",
        "exit-vs-wait",
        "--engine",
        "state",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("exhaustive ("), "{t}");
    for word in [
        "transitions",
        "executions",
        "max depth",
        "states/s",
        "peak memory",
    ] {
        assert!(t.contains(word), "{word} missing: {t}");
    }
    let o = kexit(&[
        "check",
        "exit-vs-wait",
        "--engine",
        "state",
        "--json",
        "--out",
        out.to_str().unwrap(),
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let st = &doc["results"][0]["state"];
    assert!(st["states"].as_u64().unwrap() > 0, "{doc}");
    assert!(st["transitions"].as_u64().unwrap() >= st["states"].as_u64().unwrap() - 1);
    assert!(st["max_depth"].as_u64().unwrap() > 0);
    assert_eq!(st["divergences"], 0);
}
