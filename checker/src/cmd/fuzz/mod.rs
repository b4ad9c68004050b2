//! `kexit fuzz`: generated scenarios (deterministic from a seed) run across worker threads
//! until a time limit, each with a small shuttle budget. Violations are deduplicated by kind
//! and the seed location where they were detected, classified against the recorded findings,
//! and each distinct one is saved as a schedule file with its scenario's TOML beside it, so
//! `kexit replay` reproduces it.

pub mod compare;

pub use crate::classify::{classify, location, Class};
use crate::engine::{self, Budget, EngineKind, RunResult};
use crate::schedule::ScheduleFile;
use arbitrary::{Arbitrary, Unstructured};
use kexit_model::trace::ViolationKind;
use kexit_model::Variant;
use kexit_scenarios::generate::{pseudo_random_bytes, Generated};
use kexit_scenarios::Spec;
use parking_lot::Mutex;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::time::{Duration, Instant};

/// The engines `kexit fuzz` runs a generated scenario on.
pub const FUZZ_ENGINES: [EngineKind; 4] = [
    EngineKind::Pct,
    EngineKind::Random,
    EngineKind::Bytes,
    EngineKind::State,
];

fn fuzz_engine(s: &str) -> Result<EngineKind, String> {
    FUZZ_ENGINES
        .into_iter()
        .find(|e| e.name() == s)
        .ok_or_else(|| format!("expected one of pct, random, bytes, state (not {s:?})"))
}

#[derive(clap::Args, Debug)]
pub struct FuzzArgs {
    /// Seconds to fuzz (the scenario running at the limit stops early); with --compare, the
    /// limit of each trial.
    #[arg(long, default_value_t = 60.0, value_parser = crate::limits_arg::seconds)]
    pub time_limit: f64,
    /// Worker threads, 1 to 256 (default: number of cores).
    #[arg(long, value_parser = crate::limits_arg::jobs)]
    pub jobs: Option<usize>,
    /// Model variant (see `kexit variants`).
    #[arg(long, default_value = "seed")]
    pub variant: String,
    /// Seed of the scenario generator and of the schedules: a run is reproducible from it.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Schedule source: pct, random (shuttle, seeded), bytes (pseudo-random byte schedules),
    /// or state (the state engine: every interleaving of each scenario whose search ends
    /// within the budget; `--budget` then counts executions of the search).
    #[arg(long, value_parser = fuzz_engine, default_value = "pct")]
    pub engine: EngineKind,
    /// Executions per generated scenario.
    #[arg(long, default_value_t = 200, value_parser = crate::limits_arg::count)]
    pub budget: u64,
    /// Stop after this many scenarios (a run then does not depend on the machine's speed).
    #[arg(long, value_parser = crate::limits_arg::count)]
    pub scenarios: Option<u64>,
    /// Where schedule files and scenario files go (DIR/failures/).
    #[arg(long, default_value = ".kexit")]
    pub out: PathBuf,
    /// Machine-readable report on stdout.
    #[arg(long)]
    pub json: bool,
    /// Instead of fuzzing: time and executions to the first violation of historical bug
    /// variants with byte schedules, PCT and random (docs/performance.md).
    #[arg(long)]
    pub compare: bool,
    /// With --compare: runs per engine and bug, from different seeds.
    #[arg(long, default_value_t = 5, value_parser = crate::limits_arg::count)]
    pub trials: u64,
}

/// Generated scenario number `k` of a run seeded with `seed`: the same on every machine.
pub fn generated(seed: u64, k: u64) -> Spec {
    let mut state =
        (seed ^ 0x9E37_79B9_7F4A_7C15).wrapping_add(k.wrapping_mul(0xBF58_476D_1CE4_E5B9)) | 1;
    let bytes = pseudo_random_bytes(&mut state, 64 + (k % 64) as usize);
    // arbitrary fills anything past the end of the bytes with zeros, so it cannot fail.
    let mut spec = Generated::arbitrary(&mut Unstructured::new(&bytes))
        .expect("generation never fails")
        .0;
    spec.name = format!("fuzz-s{seed}-{k}");
    spec.description = format!("generated scenario {k} of `kexit fuzz --seed {seed}`");
    spec
}

/// Seed of the schedules for scenario `k` (PCT and random runs start there).
fn schedule_seed(seed: u64, k: u64) -> u64 {
    seed.wrapping_mul(0x2545_F491_4F6C_DD1D)
        .wrapping_add(k.wrapping_mul(1_000_003))
}

/// One generated scenario on `engine` within `budget` executions: a seeded engine from
/// `seed` in the calling thread, or the state engine (exhaustive where its search ends within
/// the budget). A found violation keeps a seed only where it is a shuttle seed (pct, random).
pub fn run_scenario(
    spec: &Spec,
    variant: &Variant,
    engine: EngineKind,
    seed: u64,
    budget: u64,
    time_limit: Option<Duration>,
) -> RunResult {
    let mut r = if engine == EngineKind::State {
        let b = Budget {
            iterations: budget,
            time_limit,
            ..Budget::default()
        };
        crate::engine::state::run(spec, variant, &b, &Default::default(), &|_| {})
    } else {
        let b = Budget {
            iterations: budget,
            time_limit,
            seed,
            jobs: 1,
            ..Budget::default()
        };
        engine::run_here(spec, variant, engine, &b)
    };
    if !matches!(engine, EngineKind::Pct | EngineKind::Random) {
        if let Some(f) = &mut r.found {
            f.seed = None;
        }
    }
    r
}

type Key = (String, String, Class);

#[derive(Serialize, Clone, Debug)]
pub struct Distinct {
    pub kind: String,
    pub function: String,
    pub line: u32,
    /// The deduplication key with the kind: `function:line`, or for a deadlock the sleeps
    /// every blocked actor is in.
    pub location: String,
    #[serde(flatten)]
    pub class: Class,
    /// Scenarios that showed it.
    pub count: u64,
    pub scenario: String,
    pub message: String,
    pub scenario_file: String,
    pub schedule_file: String,
    pub seed: Option<u64>,
}

#[derive(Serialize, Debug)]
pub struct ScenarioError {
    pub scenario: String,
    pub scenario_file: String,
    pub error: String,
}

#[derive(Serialize, Debug)]
pub struct Report {
    pub kexit: &'static str,
    pub seed: u64,
    pub engine: EngineKind,
    pub variant: String,
    pub jobs: usize,
    pub budget: u64,
    pub seconds: f64,
    pub scenarios: u64,
    pub executions: u64,
    /// Scenarios whose every interleaving was explored (`--engine state`).
    pub exhaustive: u64,
    pub violations: Vec<Distinct>,
    pub errors: Vec<ScenarioError>,
    pub schedule_files: Vec<String>,
    pub exit_code: u8,
}

/// Writes the scenario's TOML to DIR/failures/NAME.toml (the path replay reads it from).
pub fn save_scenario(spec: &Spec, out: &Path) -> Result<String, String> {
    let dir = out.join("failures");
    let path = dir.join(format!("{}.toml", spec.name));
    let text = format!(
        "# {}\n{}",
        spec.description,
        toml::to_string(spec).map_err(|e| format!("cannot write {}: {e}", spec.name))?
    );
    std::fs::create_dir_all(&dir)
        .and_then(|_| std::fs::write(&path, text))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path.display().to_string())
}

pub fn validate(a: &FuzzArgs) -> Result<(Variant, usize), String> {
    let variant = Variant::by_name(&a.variant)
        .ok_or_else(|| format!("unknown variant {:?} (see `kexit variants`)", a.variant))?;
    // Numeric options are range-checked by their parsers (`limits_arg.rs`).
    let jobs = a
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    Ok((variant, jobs))
}

pub fn main(a: crate::cmd::fuzz::FuzzArgs) -> Result<u8, String> {
    let (variant, jobs) = validate(&a)?;
    if a.compare {
        return compare::main(&a);
    }
    let start = Instant::now();
    let limit = Duration::from_secs_f64(a.time_limit);
    let next = AtomicU64::new(0);
    let done = AtomicU64::new(0);
    let executions = AtomicU64::new(0);
    let proven = AtomicU64::new(0);
    let distinct: Mutex<BTreeMap<Key, Distinct>> = Mutex::new(BTreeMap::new());
    let errors: Mutex<Vec<ScenarioError>> = Mutex::new(Vec::new());
    let failure: Mutex<Option<String>> = Mutex::new(None);
    let worker = || loop {
        let elapsed = start.elapsed();
        if elapsed >= limit || failure.lock().is_some() {
            return;
        }
        let k = next.fetch_add(1, SeqCst);
        if a.scenarios.is_some_and(|n| k >= n) {
            return;
        }
        let spec = generated(a.seed, k);
        let seed = schedule_seed(a.seed, k);
        let r = run_scenario(
            &spec,
            &variant,
            a.engine,
            seed,
            a.budget,
            Some(limit - elapsed),
        );
        executions.fetch_add(r.executions, SeqCst);
        proven.fetch_add(r.exhaustive as u64, SeqCst);
        done.fetch_add(1, SeqCst);
        if let Err(e) = record(&a, &variant, &spec, r, &distinct, &errors) {
            *failure.lock() = Some(e);
        }
    };
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..jobs).map(|_| s.spawn(worker)).collect();
        let mut last = Instant::now();
        while !handles.iter().all(|h| h.is_finished()) {
            std::thread::sleep(Duration::from_millis(20));
            if last.elapsed() >= Duration::from_secs(5) {
                last = Instant::now();
                eprintln!(
                    "kexit fuzz: {:.0}s, {} scenarios, {} executions, {} distinct violation(s)",
                    start.elapsed().as_secs_f64(),
                    done.load(SeqCst),
                    executions.load(SeqCst),
                    distinct.lock().len()
                );
            }
        }
    });
    if let Some(e) = failure.into_inner() {
        return Err(e);
    }
    let violations: Vec<Distinct> = distinct.into_inner().into_values().collect();
    let errors = errors.into_inner();
    let exit_code = if !errors.is_empty() {
        2
    } else if violations.iter().any(|d| d.class == Class::Unrecorded) {
        1
    } else {
        0
    };
    let report = Report {
        kexit: crate::schedule::KEXIT_VERSION,
        seed: a.seed,
        engine: a.engine,
        variant: variant.name().to_string(),
        jobs,
        budget: a.budget,
        seconds: start.elapsed().as_secs_f64(),
        scenarios: done.load(SeqCst),
        executions: executions.load(SeqCst),
        exhaustive: proven.load(SeqCst),
        schedule_files: violations.iter().map(|d| d.schedule_file.clone()).collect(),
        violations,
        errors,
        exit_code,
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report).expect("json"));
    } else {
        print_report(&report);
    }
    Ok(exit_code)
}

/// Adds one scenario's result to the report, saving files for a new distinct violation.
fn record(
    a: &FuzzArgs,
    variant: &Variant,
    spec: &Spec,
    r: RunResult,
    distinct: &Mutex<BTreeMap<Key, Distinct>>,
    errors: &Mutex<Vec<ScenarioError>>,
) -> Result<(), String> {
    let model_error = r.found.as_ref().and_then(|f| {
        let o = &f.outcome;
        let v = o.violation.as_ref()?;
        (v.kind == ViolationKind::ModelError).then(|| v.to_string())
    });
    if let Some(error) = r.error.or(model_error) {
        let scenario_file = save_scenario(spec, &a.out)?;
        errors.lock().push(ScenarioError {
            scenario: spec.name.clone(),
            scenario_file,
            error,
        });
        return Ok(());
    }
    let Some(engine::Found { outcome, seed }) = r.found else {
        return Ok(());
    };
    let v = outcome.violation.as_ref().expect("found has a violation");
    let class = classify(spec, variant, v, &outcome.schedule);
    let key = (v.kind.slug().to_string(), location(v), class.clone());
    let mut map = distinct.lock();
    if let Some(d) = map.get_mut(&key) {
        d.count += 1;
        return Ok(());
    }
    let scenario_file = save_scenario(spec, &a.out)?;
    let file = ScheduleFile::new(
        spec,
        &scenario_file,
        variant.name(),
        a.engine.name(),
        seed,
        v,
        &outcome.schedule,
    );
    let path = file
        .save(&a.out)
        .map_err(|e| format!("cannot write schedule file under {}: {e}", a.out.display()))?;
    map.insert(
        key.clone(),
        Distinct {
            kind: v.kind.slug().to_string(),
            function: v.func.to_string(),
            line: v.line,
            location: key.1.clone(),
            class,
            count: 1,
            scenario: spec.name.clone(),
            message: v.message.clone(),
            scenario_file,
            schedule_file: path.display().to_string(),
            seed,
        },
    );
    Ok(())
}

fn print_report(r: &Report) {
    println!(
        "kexit fuzz: {} scenarios, {} executions in {:.1}s ({} engine, budget {} per scenario, {} job(s), variant {}, seed {})",
        r.scenarios, r.executions, r.seconds, r.engine.name(), r.budget, r.jobs, r.variant, r.seed
    );
    if r.engine == EngineKind::State {
        println!(
            "{} of {} scenarios explored exhaustively (every interleaving); the others reached the budget",
            r.exhaustive, r.scenarios
        );
    }
    if r.violations.is_empty() {
        println!("no violation");
    }
    for d in &r.violations {
        let class = match &d.class {
            Class::Recorded(id) => {
                let title = kexit_scenarios::findings::finding(id).map_or("", |f| f.title);
                format!("recorded finding {id} ({title})")
            }
            Class::ScenarioBlocks => "the scenario blocks by construction".to_string(),
            Class::Starved => "PCT starved a runnable actor (not a kernel livelock)".to_string(),
            Class::Unrecorded => "UNRECORDED: a potential finding".to_string(),
        };
        println!(
            "\n{} {} ({} scenario(s)): {class}",
            d.kind, d.location, d.count
        );
        println!("    first in {}: {}", d.scenario, d.message);
        println!("    scenario: {}", d.scenario_file);
        println!("    replay:   kexit replay {}", d.schedule_file);
    }
    for e in &r.errors {
        println!(
            "\nMODEL ERROR in {} ({}): {}",
            e.scenario, e.scenario_file, e.error
        );
    }
}
