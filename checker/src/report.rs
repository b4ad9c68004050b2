//! Traces as a kernel developer reads them: one line per step with its actor, function and
//! `kern_exit.c:LINE`, what happened, and the violation explained at the end.

use kexit_model::trace::{render_what, Event, Violation};
use kexit_model::world::Outcome;
use serde::Serialize;
use std::fmt::Write;

#[derive(Serialize)]
pub struct StepJson {
    pub step: u32,
    pub actor: String,
    pub function: &'static str,
    pub file: &'static str,
    pub line: u32,
    pub what: String,
}

pub struct TraceOptions<'a> {
    /// The seed's lines, to print each step's source text.
    pub source: Option<&'a [String]>,
    /// Only steps of actors whose label names this pid.
    pub focus: Option<u32>,
}

fn keep(label: &str, focus: Option<u32>) -> bool {
    match focus {
        None => true,
        Some(pid) => {
            label == format!("pid {pid}")
                || label.starts_with(&format!("pid {pid} "))
                || (pid == 1 && label == "init")
        }
    }
}

/// Where a step is: its seed function, `kern_exit.c` and line; or, inside a stub, the stub's
/// function and file with the seed line it was called from.
pub fn where_(e: &Event) -> (&'static str, &'static str, u32) {
    if e.site.is_seed() {
        (e.site.func, "kern_exit.c", e.site.line)
    } else {
        (e.site.func, e.site.file, e.line)
    }
}

/// The seed's lines, from `path` (`what` names where the path came from, for the error).
pub fn seed_lines(path: &std::path::Path, what: &str) -> Result<Vec<String>, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("{what} {}: {e}", path.display()))?;
    Ok(text.lines().map(str::to_string).collect())
}

/// The seed's lines from the file KEXIT_SEED names, if it is set.
pub fn env_seed() -> Result<Option<Vec<String>>, String> {
    std::env::var_os("KEXIT_SEED")
        .map(|p| seed_lines(std::path::Path::new(&p), "KEXIT_SEED"))
        .transpose()
}

pub fn steps_json(out: &Outcome, focus: Option<u32>) -> Vec<StepJson> {
    out.trace
        .iter()
        .filter(|e| keep(&out.labels[e.actor], focus))
        .map(|e| {
            let (function, file, line) = where_(e);
            StepJson {
                step: e.step,
                actor: out.labels[e.actor].clone(),
                function,
                file,
                line,
                what: render_what(&e.what, &|a| out.labels.get(a).cloned().unwrap_or_default()),
            }
        })
        .collect()
}

pub fn render_trace(out: &Outcome, opt: &TraceOptions) -> String {
    let mut s = String::new();
    let width = out.labels.iter().map(|l| l.len()).max().unwrap_or(8);
    for e in &out.trace {
        let label = &out.labels[e.actor];
        if !keep(label, opt.focus) {
            continue;
        }
        let (func, file, line) = where_(e);
        let loc = if file == "kern_exit.c" {
            format!("{func} kern_exit.c:{line}")
        } else if line != 0 {
            format!("{func} ({file}) via kern_exit.c:{line}")
        } else {
            format!("{func} ({file})")
        };
        let what = render_what(&e.what, &|a| out.labels.get(a).cloned().unwrap_or_default());
        let _ = writeln!(s, "{:>5}  {:<width$}  {:<34} {}", e.step, label, loc, what);
        if let Some(src) = opt.source {
            if file == "kern_exit.c" && line as usize <= src.len() && line > 0 {
                let _ = writeln!(
                    s,
                    "{:>5}  {:<width$}  | {}",
                    "",
                    "",
                    src[line as usize - 1].trim()
                );
            }
        }
    }
    if let Some(v) = &out.violation {
        let _ = writeln!(s, "\n{}", explain(v));
    }
    s
}

pub fn explain(v: &Violation) -> String {
    use kexit_model::ViolationKind::*;
    let why = match v.kind {
        Deadlock => "A thread sleeps on an ident nobody will wake again: the wakeup it relies on already went by \
                     (or never comes). In the 2014 code kern_wait's sleep is closed by the parent's p_token, \
                     held from the p_waitgen snapshot until the sleep has switched out.",
        Livelock => "An actor polls without making progress within the step budget.",
        Kkassert => "A kernel assertion the seed makes does not hold on this interleaving.",
        UseAfterFree => "An object is used after the code that frees it ran: its hold count or interlock \
                         did not keep it alive across a blocking point.",
        DataRace => "Two cpus may touch the same state at the same time: a token-protected field is touched \
                     by a thread that does not hold the token (or lost it by blocking), or two accesses, one \
                     a write, have nothing ordering them (no token held across both, no atomic, no wakeup).",
        DoubleReap => "The same process was reaped (its status reported) twice.",
        ProcessLeftBehind => "When everything stopped, a process or LWP was neither running, a zombie, nor reaped.",
        ListCorruption => "The parent/child or LWP lists disagree with the p_pptr pointers.",
        CopyoutUnwritten => "copyout() sends user space a kernel variable that was never assigned on this path: \
                             kernel stack contents leak to user space.",
        JobControl => "pg_jobc decides when a process group is orphaned (orphanpg sends its stopped members \
                       SIGHUP and SIGCONT): a count off by one orphans a group whose job control still \
                       works, killing a stopped job, or never orphans one, leaving it stopped for good.",
        OrphanedStop => "An orphaned process group has no process outside it to continue a stopped job: \
                         lwpsignal discards SIGTSTP, SIGTTIN and SIGTTOU for its members, and orphanpg \
                         sends a group orphaned with a stopped member SIGHUP and SIGCONT. A member left \
                         stopped by a tty stop stays stopped for good.",
        InitExited => "exit1 panics when init exits.",
        UnexpectedResult => "A system call returned something the scenario does not expect.",
        ModelError => "The model itself failed; this is a kexit bug.",
    };
    format!("{v}\n  why it matters: {why}")
}
