//! Scenario files (TOML) and the catalogue embedded from `scenarios/catalog/`.
//! A scenario is read with serde into the model's `Spec`, then validated; every error names
//! the file, line and column.

use kexit_model::spec::{Op, Spec};
use std::collections::BTreeMap;
use std::fmt;

pub mod generate;
pub mod paths;
pub mod status;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/catalog.rs"));
}

#[derive(Clone, Debug)]
pub struct Scenario {
    pub spec: Spec,
    /// `scenarios/catalog/NAME.toml` for the embedded catalogue, the path otherwise.
    pub origin: String,
    pub text: String,
}

/// Whether a scenario's origin is the embedded catalogue rather than a file of one's own.
pub fn is_catalogue_origin(origin: &str) -> bool {
    origin.starts_with("scenarios/catalog/")
}

impl Scenario {
    /// What `kexit check` takes to find it again: its name for the catalogue, its path for a
    /// file of one's own.
    pub fn cli_arg(&self) -> String {
        if is_catalogue_origin(&self.origin) {
            self.spec.name.clone()
        } else {
            self.origin.clone()
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

impl std::error::Error for ScenarioError {}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

/// Where `needle` first appears (1-based line and column), or the top of the file.
fn locate(text: &str, needles: &[String]) -> (usize, usize) {
    for n in needles {
        if let Some(i) = text.find(n.as_str()) {
            return line_col(text, i);
        }
    }
    (1, 1)
}

pub fn parse(file: &str, text: &str) -> Result<Scenario, ScenarioError> {
    let spec: Spec = toml::from_str(text).map_err(|e| {
        let (line, column) = e.span().map_or((1, 1), |s| line_col(text, s.start));
        ScenarioError {
            file: file.to_string(),
            line,
            column,
            message: e.message().trim().to_string(),
        }
    })?;
    validate(&spec).map_err(|(needles, message)| {
        let (line, column) = locate(text, &needles);
        ScenarioError {
            file: file.to_string(),
            line,
            column,
            message,
        }
    })?;
    Ok(Scenario {
        spec,
        origin: file.to_string(),
        text: text.to_string(),
    })
}

type Invalid = (Vec<String>, String);

fn pid_needles(pid: u32) -> Vec<String> {
    vec![format!("pid = {pid}"), format!("pid={pid}")]
}

/// A process catches or ignores signals that can be (sigaction refuses SIGKILL and SIGSTOP
/// with EINVAL), and not one signal both ways.
fn check_dispositions(p: &kexit_model::spec::ProcSpec) -> Result<(), Invalid> {
    use kexit_model::flags::{signal_name, SIGKILL, SIGSTOP};
    for s in p.catch.iter().chain(&p.ignore) {
        if s.0 == SIGKILL || s.0 == SIGSTOP || s.0 == 0 {
            let what = if s.0 == 0 {
                "signal 0".to_string()
            } else {
                signal_name(s.0)
            };
            return Err((
                vec!["catch".into(), "ignore".into()],
                format!("pid {}: {what} cannot be caught or ignored", p.pid),
            ));
        }
        if p.catch.contains(s) && p.ignore.contains(s) {
            return Err((
                vec!["catch".into(), "ignore".into()],
                format!(
                    "pid {}: {} is both caught and ignored",
                    p.pid,
                    signal_name(s.0)
                ),
            ));
        }
    }
    Ok(())
}

/// Some declared process is in process group `g`.
fn has_group(procs: &BTreeMap<u32, &kexit_model::spec::ProcSpec>, g: u32) -> bool {
    procs.values().any(|q| q.pgid.unwrap_or(q.pid) == g)
}

/// Semantic checks serde cannot do. Errors carry text to locate in the file.
pub fn validate(spec: &Spec) -> Result<(), Invalid> {
    if spec.name.is_empty() {
        return Err((vec!["name".into()], "scenario name is empty".into()));
    }
    let mut procs = BTreeMap::new();
    for p in &spec.procs {
        if p.pid == 0 {
            return Err((
                pid_needles(0),
                "pid 0 is the kernel; use pids from 1".into(),
            ));
        }
        if procs.insert(p.pid, p).is_some() {
            return Err((
                pid_needles(p.pid),
                format!("pid {} is declared twice", p.pid),
            ));
        }
        check_dispositions(p)?;
    }
    for p in &spec.procs {
        if let Some(g) = p.tty_pgrp {
            if !has_group(&procs, g) {
                return Err((
                    vec!["tty_pgrp".into()],
                    format!("pid {}: tty_pgrp {g} is no declared process's group", p.pid),
                ));
            }
        }
    }
    for p in &spec.procs {
        if p.pid == 1 {
            if p.parent != 0 {
                return Err((pid_needles(1), "init (pid 1) has no parent".into()));
            }
            if !p.lwps.is_empty() && spec.init_waits {
                return Err((
                    pid_needles(1),
                    "init (pid 1) either reaps (init_waits = true) or runs a script, not both"
                        .into(),
                ));
            }
            continue;
        }
        let parent = if p.parent == 0 { 1 } else { p.parent };
        if parent != 1 && !procs.contains_key(&parent) {
            let n = vec![format!("parent = {}", p.parent)];
            return Err((
                n,
                format!(
                    "pid {} names parent {}, which is not declared",
                    p.pid, p.parent
                ),
            ));
        }
        // parent cycle
        let mut seen = vec![p.pid];
        let mut cur = parent;
        while cur != 1 {
            if seen.contains(&cur) {
                return Err((
                    pid_needles(p.pid),
                    format!("parent cycle through pid {cur}"),
                ));
            }
            seen.push(cur);
            cur = procs
                .get(&cur)
                .map_or(1, |q| if q.parent == 0 { 1 } else { q.parent });
        }
        if p.oppid != 0 && p.oppid != 1 && !procs.contains_key(&p.oppid) {
            let n = vec![format!("oppid = {}", p.oppid)];
            return Err((
                n,
                format!(
                    "pid {} names original parent {}, which is not declared",
                    p.pid, p.oppid
                ),
            ));
        }
        for l in &p.lwps {
            if l.cpu >= spec.ncpus.max(1) {
                let n = vec![format!("cpu = {}", l.cpu)];
                return Err((
                    n,
                    format!(
                        "pid {} has an LWP on cpu {}, but ncpus = {}",
                        p.pid, l.cpu, spec.ncpus
                    ),
                ));
            }
            for op in &l.script {
                if let Op::Wait {
                    expect: Some(e), ..
                } = op
                {
                    if let Some(ep) = e.pid {
                        if ep > 0 && !procs.contains_key(&(ep as u32)) {
                            let n = vec![
                                format!("pid = {ep} ,"),
                                format!("pid = {ep},"),
                                format!("pid = {ep} }}"),
                            ];
                            return Err((
                                n,
                                format!("expectation names pid {ep}, which is not declared"),
                            ));
                        }
                    }
                    if let Some(bad) = e.status.as_ref().and_then(status::first_malformed) {
                        return Err((vec![format!("\"{bad}\"")], status::complaint(bad)));
                    }
                    if e.errno.is_some() && (e.raw.is_some() || e.status.is_some()) {
                        return Err((
                            vec!["errno".to_string()],
                            "an expectation gives an errno and a status: a wait that fails \
                             stores no status"
                                .to_string(),
                        ));
                    }
                    if let Some(name) = &e.errno {
                        if kexit_model::flags::errno_from_name(name).is_none() {
                            let n = vec![format!("\"{name}\"")];
                            return Err((
                                n,
                                format!("unknown errno {name:?} (ECHILD, EINVAL, EINTR, ...)"),
                            ));
                        }
                    }
                }
                let target = match op {
                    Op::Kill { pid, .. } => Some(("kill", pid)),
                    Op::Stop { pid } => Some(("stop", pid)),
                    Op::Cont { pid } => Some(("cont", pid)),
                    Op::Scan { pid, .. } => Some(("scan", pid)),
                    Op::Attach { pid } => Some(("attach", pid)),
                    Op::VforkWait { pid } => Some(("vfork_wait", pid)),
                    Op::Detach { pid } => Some(("detach", pid)),
                    _ => None,
                };
                if let Some((name, pid)) = target {
                    if *pid != 1 && !procs.contains_key(pid) {
                        let n = vec![format!("\"{name}\"")];
                        return Err((n, format!("{name} names pid {pid}, which is not declared")));
                    }
                }
                if let Op::VforkWait { pid } = op {
                    let child = procs.get(pid);
                    let vforked = child.is_some_and(|c| c.ppwait && c.parent == p.pid);
                    let first = p.lwps.len() == 1 && p.lwps[0].script.first() == Some(op);
                    if !vforked || !first {
                        let n = vec!["\"vfork_wait\"".to_string()];
                        let msg = format!(
                            "vfork_wait names pid {pid}: it must be the first operation of a \
                             single-LWP process waiting for its own child with ppwait = true"
                        );
                        return Err((n, msg));
                    }
                }
                let group = match op {
                    Op::Pgsignal { pgid, .. } => Some(("pgsignal", *pgid)),
                    Op::Killpg { pgid, .. } if *pgid != 0 => Some(("killpg", *pgid)),
                    _ => None,
                };
                if let Some((name, pgid)) = group {
                    if !has_group(&procs, pgid) {
                        let n = vec![format!("\"{name}\"")];
                        let msg =
                            format!("{name} names pgrp {pgid}, which no declared process is in");
                        return Err((n, msg));
                    }
                }
                if let Op::Killpg {
                    expect_errno: Some(name),
                    ..
                } = op
                {
                    if kexit_model::flags::errno_from_name(name).is_none() {
                        let n = vec![format!("\"{name}\"")];
                        return Err((n, format!("unknown errno {name:?} (ESRCH, ...)")));
                    }
                }
            }
        }
    }
    for e in &spec.expect_reaped {
        if let Some(bad) = e.status.as_ref().and_then(status::first_malformed) {
            return Err((vec![format!("\"{bad}\"")], status::complaint(bad)));
        }
        for pid in [e.by, e.pid] {
            if pid != 1 && !procs.contains_key(&pid) {
                let n = vec![format!("pid = {}", e.pid), "expect_reaped".to_string()];
                return Err((
                    n,
                    format!("expect_reaped names pid {pid}, which is not declared"),
                ));
            }
        }
    }
    for z in &spec.expect_zombies {
        if !procs.contains_key(z) {
            return Err((
                vec!["expect_zombies".into()],
                format!("expect_zombies names pid {z}, which is not declared"),
            ));
        }
    }
    if let Some(r) = &spec.reapers {
        if let Some(c) = r.iter().find(|c| **c >= spec.ncpus.max(1)) {
            return Err((
                vec!["reapers".into()],
                format!("reaper on cpu {c}, but ncpus = {}", spec.ncpus),
            ));
        }
    }
    if spec.actor_count() == 0 {
        return Err((
            vec!["[[procs]]".into()],
            "no LWP runs a script: nothing to explore".into(),
        ));
    }
    Ok(())
}

/// The embedded catalogue, parsed; the first invalid file is an error.
pub fn try_catalogue() -> Result<Vec<Scenario>, ScenarioError> {
    let mut v: Vec<Scenario> = Vec::new();
    for (name, text) in embedded::FILES {
        let s = parse(&format!("scenarios/catalog/{name}"), text)?;
        if let Some(other) = v.iter().find(|o| o.spec.name == s.spec.name) {
            return Err(ScenarioError {
                file: s.origin.clone(),
                line: 1,
                column: 1,
                message: format!(
                    "scenario name {:?} is also used by {}",
                    s.spec.name, other.origin
                ),
            });
        }
        v.push(s);
    }
    Ok(v)
}

/// The embedded catalogue (valid files only; `try_catalogue` reports the invalid ones).
pub fn catalogue() -> Vec<Scenario> {
    embedded::FILES
        .iter()
        .filter_map(|(name, text)| parse(&format!("scenarios/catalog/{name}"), text).ok())
        .collect()
}

pub fn by_name(name: &str) -> Option<Scenario> {
    catalogue().into_iter().find(|s| s.spec.name == name)
}

/// Every embedded file with its parse result (for the catalogue test).
pub fn embedded_files() -> Vec<(&'static str, &'static str)> {
    embedded::FILES.to_vec()
}
