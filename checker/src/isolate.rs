//! Loom explorations run in a child process (`kexit __loom-worker`): a loom deadlock or a
//! double panic aborts the whole process, and must become that scenario's report instead of
//! ending the run. The worker sends back counts and, for a violation, only its schedule; the
//! parent replays the schedule to rebuild the full outcome.

use crate::run::{self, Budget, EngineKind, Found, RunResult};
use crate::schedule::{decode, encode, ViolationRecord};
use kexit_model::trace::{Violation, ViolationKind};
use kexit_model::world::Outcome;
use kexit_model::{Spec, Variant};
use serde::{Deserialize, Serialize};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Serialize, Deserialize)]
pub struct WorkerReport {
    pub executions: u64,
    pub exhaustive: bool,
    pub error: Option<String>,
    pub violation: Option<ViolationRecord>,
    pub schedule: Option<String>,
    pub lines: Vec<u64>,
}

#[derive(clap::Args, Debug)]
pub struct WorkerArgs {
    /// Catalogue name or path of the scenario.
    #[arg(long)]
    pub scenario: String,
    #[arg(long)]
    pub variant: String,
    #[arg(long)]
    pub bound: Option<usize>,
    #[arg(long)]
    pub iterations: u64,
    #[arg(long)]
    pub time_limit: Option<f64>,
}

/// The worker side: run loom in this process and print one JSON report.
pub fn worker(a: WorkerArgs) -> Result<u8, String> {
    // Lets the end-to-end tests show that an aborting exploration is survived.
    if std::env::var_os("KEXIT_WORKER_SELFTEST_ABORT").is_some() {
        std::process::abort();
    }
    let scenarios = crate::check::resolve(std::slice::from_ref(&a.scenario))?;
    let s = scenarios.into_iter().next().ok_or("no scenario")?;
    let variant =
        Variant::by_name(&a.variant).ok_or_else(|| format!("unknown variant {:?}", a.variant))?;
    let budget = Budget {
        iterations: a.iterations,
        time_limit: a.time_limit.map(Duration::from_secs_f64),
        preemption_bound: a.bound,
        ..Budget::default()
    };
    let r = run::run(&s.spec, &variant, EngineKind::Loom, &budget, &|_| {});
    let report = WorkerReport {
        executions: r.executions,
        exhaustive: r.exhaustive,
        error: r.error,
        violation: r
            .found
            .as_ref()
            .and_then(|f| f.outcome.violation.as_ref())
            .map(Into::into),
        schedule: r.found.as_ref().map(|f| encode(&f.outcome.schedule)),
        lines: r.lines,
    };
    println!("{}", serde_json::to_string(&report).expect("json"));
    Ok(0)
}

/// The parent side: run the worker for `scenario` (a catalogue name or a path).
pub fn run_loom(scenario: &str, spec: &Spec, variant: &Variant, budget: &Budget) -> RunResult {
    let started = Instant::now();
    // /proc/self/exe still runs this binary if it was rebuilt or removed during a long run.
    let proc_exe = std::path::Path::new("/proc/self/exe");
    let exe = if proc_exe.exists() {
        proc_exe.to_path_buf()
    } else {
        std::env::current_exe().expect("own executable")
    };
    let mut cmd = Command::new(exe);
    cmd.args([
        "__loom-worker",
        "--scenario",
        scenario,
        "--variant",
        variant.name(),
    ]);
    cmd.args(["--iterations", &budget.iterations.to_string()]);
    if let Some(b) = budget.preemption_bound {
        cmd.args(["--bound", &b.to_string()]);
    }
    if let Some(t) = budget.time_limit {
        cmd.args(["--time-limit", &t.as_secs_f64().to_string()]);
    }
    die_with_parent(&mut cmd);
    let mut result = RunResult {
        engine: EngineKind::Loom,
        executions: 0,
        points: 0,
        exhaustive: false,
        elapsed: Duration::ZERO,
        found: None,
        lines: Vec::new(),
        error: None,
        state: None,
    };
    let out = match wait_interruptibly(&mut cmd) {
        Ok(o) => o,
        Err(e) => {
            result.error = Some(e);
            return result;
        }
    };
    result.elapsed = started.elapsed();
    let report: Option<WorkerReport> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .and_then(|l| serde_json::from_str(l).ok());
    let Some(rep) = report.filter(|_| out.status.success()) else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .take(3)
            .collect();
        let msg = format!(
            "loom aborted the exploration ({}): {}",
            out.status,
            tail.join(" | ")
        );
        let v = Violation {
            kind: ViolationKind::ModelError,
            actor: "loom".into(),
            func: "",
            line: 0,
            message: msg,
        };
        result.found = Some(Found {
            outcome: aborted(v),
            seed: None,
        });
        return result;
    };
    result.executions = rep.executions;
    result.exhaustive = rep.exhaustive;
    result.error = rep.error;
    result.lines = rep.lines;
    if let Some(sched) = rep.schedule.as_deref().and_then(decode) {
        let outcome = run::replay(spec, variant, &sched);
        let same = outcome.violation.as_ref().map(ViolationRecord::from) == rep.violation;
        if !same {
            result.error =
                Some("the loom worker's schedule does not replay to the same violation".into());
        }
        result.found = Some(Found {
            outcome,
            seed: None,
        });
    }
    result
}

fn aborted(v: Violation) -> Outcome {
    Outcome {
        violation: Some(v),
        trace: Vec::new(),
        labels: Vec::new(),
        schedule: Vec::new(),
        points: 0,
        lines: Vec::new(),
        kernel: None,
    }
}

/// The worker must not outlive kexit: a CI runner that kills kexit at its timeout would
/// otherwise leave the worker exploring until its own budget (forever with `--deep`). On Linux
/// the kernel kills it when its parent dies (PR_SET_PDEATHSIG); a parent that died before the
/// worker could ask for that is noticed at once.
fn die_with_parent(cmd: &mut Command) {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        let parent = std::process::id() as libc::pid_t;
        // SAFETY: between fork and exec the closure makes only async-signal-safe calls
        // (prctl, getppid, _exit) and allocates nothing.
        unsafe {
            cmd.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if libc::getppid() != parent {
                    libc::_exit(1);
                }
                Ok(())
            });
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = cmd;
}

/// Runs the worker to its end, or kills it when the run is interrupted (`interrupt.rs`): an
/// interrupted worker is no finding.
fn wait_interruptibly(cmd: &mut Command) -> Result<std::process::Output, String> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start the loom worker: {e}"))?;
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if crate::interrupt::requested() => {
                let _ = child.kill();
            }
            Ok(None) => {}
            Err(e) => return Err(format!("the loom worker: {e}")),
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = std::process::Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    };
    if crate::interrupt::requested() && !out.status.success() {
        return Err("interrupted".to_string());
    }
    Ok(out)
}

/// Reads a child's pipe to its end on a thread of its own (a full pipe would block the child).
fn drain<R: std::io::Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut buf);
        }
        buf
    })
}
