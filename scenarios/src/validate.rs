//! The semantic checks of a scenario that serde cannot do: every pid, group and CPU a
//! scenario names exists, parents form a tree under init, expectations are well-formed.

use crate::spec::{Expect, Op, ProcSpec, Spec};
use crate::{findings, status, Invalid};
use std::collections::BTreeMap;

/// Semantic checks serde cannot do. Errors carry text to locate in the file.
pub fn validate(spec: &Spec) -> Result<(), Invalid> {
    if spec.name.is_empty() {
        return Err((vec!["name".into()], "scenario name is empty".into()));
    }
    findings::check_known_finding(spec)?;
    let procs = declared(spec)?;
    check_sessions(&procs)?;
    for p in &spec.procs {
        if p.pid == 1 {
            check_init(spec, p)?;
            continue;
        }
        check_parents(&procs, p)?;
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
                check_op(&procs, p, op)?;
                if let Op::Migrate { cpu } = op {
                    if *cpu >= spec.ncpus.max(1) {
                        let n = vec!["\"migrate\"".to_string()];
                        let msg = format!(
                            "pid {} migrates to cpu {cpu}, but ncpus = {}",
                            p.pid, spec.ncpus
                        );
                        return Err((n, msg));
                    }
                }
            }
        }
    }
    check_final_expectations(spec, &procs)?;
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

type Procs<'a> = BTreeMap<u32, &'a ProcSpec>;

/// The declared processes by pid: no pid 0, none twice, sane signal dispositions.
fn declared(spec: &Spec) -> Result<Procs<'_>, Invalid> {
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
    Ok(procs)
}

/// init has no parent, and either reaps or runs a script.
fn check_init(spec: &Spec, p: &ProcSpec) -> Result<(), Invalid> {
    if p.parent != 0 {
        return Err((pid_needles(1), "init (pid 1) has no parent".into()));
    }
    if !p.lwps.is_empty() && spec.init_waits {
        return Err((
            pid_needles(1),
            "init (pid 1) either reaps (init_waits = true) or runs a script, not both".into(),
        ));
    }
    Ok(())
}

/// A process's parent and original parent are declared, with no cycle up to init.
fn check_parents(procs: &Procs<'_>, p: &ProcSpec) -> Result<(), Invalid> {
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
    Ok(())
}

/// One operation of process `p`'s script names what exists and expects what can be.
fn check_op(procs: &Procs<'_>, p: &ProcSpec, op: &Op) -> Result<(), Invalid> {
    if let Op::Wait {
        expect: Some(e), ..
    } = op
    {
        check_wait_expect(procs, e)?;
    }
    let target = match op {
        Op::Kill { pid, .. } => Some(("kill", pid)),
        Op::Stop { pid } => Some(("stop", pid)),
        Op::Cont { pid } => Some(("cont", pid)),
        Op::Scan { pid, .. } => Some(("scan", pid)),
        Op::Attach { pid, .. } => Some(("attach", pid)),
        Op::VforkWait { pid } => Some(("vfork_wait", pid)),
        Op::Detach { pid, .. } => Some(("detach", pid)),
        Op::PtraceContinue { pid, .. } => Some(("ptrace_continue", pid)),
        Op::PtraceKill { pid, .. } => Some(("ptrace_kill", pid)),
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
        if !has_group(procs, pgid) {
            let n = vec![format!("\"{name}\"")];
            let msg = format!("{name} names pgrp {pgid}, which no declared process is in");
            return Err((n, msg));
        }
    }
    let errno = match op {
        Op::Killpg { expect_errno, .. }
        | Op::Attach { expect_errno, .. }
        | Op::Detach { expect_errno, .. }
        | Op::PtraceContinue { expect_errno, .. }
        | Op::PtraceKill { expect_errno, .. } => expect_errno.as_ref(),
        _ => None,
    };
    if let Some(name) = errno {
        if kexit_model::flags::errno_from_name(name).is_none() {
            let n = vec![format!("\"{name}\"")];
            return Err((n, format!("unknown errno {name:?} (ESRCH, ...)")));
        }
    }
    Ok(())
}

/// A wait's expectation names a declared pid, a well-formed status, and not both an errno
/// and a status.
fn check_wait_expect(procs: &Procs<'_>, e: &Expect) -> Result<(), Invalid> {
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
            "an expectation gives an errno and a status: a wait that fails stores no status"
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
    Ok(())
}

/// `expect_reaped` and `expect_zombies` name declared processes and well-formed statuses.
fn check_final_expectations(spec: &Spec, procs: &Procs<'_>) -> Result<(), Invalid> {
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
    Ok(())
}

fn pid_needles(pid: u32) -> Vec<String> {
    vec![format!("pid = {pid}"), format!("pid={pid}")]
}

/// A process catches or ignores signals that can be (sigaction refuses SIGKILL and SIGSTOP
/// with EINVAL), and not one signal both ways.
fn check_dispositions(p: &ProcSpec) -> Result<(), Invalid> {
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
fn has_group(procs: &Procs<'_>, g: u32) -> bool {
    procs.values().any(|q| q.group() == g)
}

/// Sessions as the kernel keeps them: one per group; init's alone (exit1 moves children to
/// init without recounting job control, which is exact only when init's session holds no
/// one else); a terminal's foreground group in its leader's session, led by that leader.
fn check_sessions(procs: &Procs<'_>) -> Result<(), Invalid> {
    let mut of_group: BTreeMap<u32, u32> = BTreeMap::new();
    of_group.insert(1, 1);
    for p in procs.values() {
        let (g, sid) = (p.group(), p.session_id());
        if p.pid != 1 && (g == 1 || sid == 1) {
            return Err((
                pid_needles(p.pid),
                format!("pid {}: init's group and session hold init alone", p.pid),
            ));
        }
        if let Some(other) = of_group.insert(g, sid).filter(|o| *o != sid) {
            return Err((
                vec!["session".into()],
                format!(
                    "pgrp {g} is in session {other} and session {sid}: a group is in one session"
                ),
            ));
        }
    }
    for p in procs.values() {
        let Some(g) = p.tty_pgrp else { continue };
        if !has_group(procs, g) {
            return Err((
                vec!["tty_pgrp".into()],
                format!("pid {}: tty_pgrp {g} is no declared process's group", p.pid),
            ));
        }
        if p.session_id() != p.pid || of_group[&g] != p.pid {
            return Err((
                vec!["tty_pgrp".into()],
                format!(
                    "pid {}: a terminal's foreground group is in the session its caller leads \
                     (session = {} for pid {} and for pgrp {g})",
                    p.pid, p.pid, p.pid
                ),
            ));
        }
    }
    Ok(())
}
