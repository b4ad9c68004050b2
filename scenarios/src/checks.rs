//! The state every execution must end in, and the scenario's expectations on it.

use crate::spec::*;
use kexit_model::blocked::Detail;
use kexit_model::flags::*;
use kexit_model::kern_exit::exit::INITPID;
use kexit_model::kernel::*;
use kexit_model::trace::*;

/// The state every execution must end in.
pub fn final_checks(k: &mut Kernel, spec: &Spec) {
    let mut problems: Vec<(ViolationKind, String)> = Vec::new();
    let mut undead = None;
    for e in &spec.expect_reaped {
        let got = k.reaps.iter().find(|r| r.child == e.pid);
        let ok = got.is_some_and(|r| r.waiter == e.by && status_meets(&e.status, e.raw, r.status));
        if !ok {
            let what = match got {
                None => "it was never reaped".to_string(),
                Some(r) => format!(
                    "it was reaped by pid {} with {} (raw {:#x})",
                    r.waiter,
                    r.status.map(decode_status).unwrap_or_default(),
                    r.status.unwrap_or_default()
                ),
            };
            problems.push((
                ViolationKind::UnexpectedResult,
                format!(
                    "the scenario expects pid {} reaped by pid {}, but {what}",
                    e.pid, e.by
                ),
            ));
        }
    }
    for z in &spec.expect_zombies {
        if !k.procs.get(z).is_some_and(|p| !p.freed && p.stat == SZOMB) {
            problems.push((
                ViolationKind::UnexpectedResult,
                format!("the scenario expects pid {z} left as a zombie"),
            ));
        }
    }
    let init_waits = k.actors.iter().any(|a| a.label == "init");
    for (pid, p) in &k.procs {
        if p.freed {
            continue;
        }
        for c in &p.children {
            match k.procs.get(c) {
                Some(cp) if cp.freed => problems.push((
                    ViolationKind::ListCorruption,
                    format!("freed pid {c} still on pid {pid}'s p_children"),
                )),
                Some(cp) if cp.pptr != Some(*pid) => problems.push((
                    ViolationKind::ListCorruption,
                    format!(
                        "pid {c} is on pid {pid}'s p_children but its p_pptr is {:?}",
                        cp.pptr
                    ),
                )),
                _ => {}
            }
        }
        if let Some(pp) = p.pptr {
            let n = k
                .procs
                .get(&pp)
                .map_or(0, |q| q.children.iter().filter(|c| **c == *pid).count());
            if n != 1 {
                problems.push((
                    ViolationKind::ListCorruption,
                    format!("pid {pid} has p_pptr {pp} but appears {n} times on its p_children"),
                ));
            }
        }
        if p.stat == SZOMB {
            if init_waits && p.pptr == Some(INITPID) {
                problems.push((
                    ViolationKind::Deadlock,
                    format!("zombie pid {pid} was never reaped although its parent init was waiting (lost wakeup)"),
                ));
            }
        } else if p.nthreads == 0 && *pid != INITPID {
            // Only the first problem is reported: its detail is kept when it is this one.
            if problems.is_empty() {
                undead = Some(*pid);
            }
            problems.push((
                ViolationKind::ProcessLeftBehind,
                format!(
                    "pid {pid} has no threads left but is not a zombie (p_stat {})",
                    p.stat
                ),
            ));
        }
    }
    check_pgrps(k, &mut problems);
    for (g, have, want) in kexit_model::jobc::jobc_mismatches(k) {
        problems.push((
            ViolationKind::JobControl,
            format!(
                "pgrp {g}'s pg_jobc is {have}, but {want} of its members have a parent in another \
                 group of the same session"
            ),
        ));
    }
    for (pid, sig, g) in kexit_model::jobc::orphaned_tty_stops(k) {
        problems.push((
            ViolationKind::OrphanedStop,
            format!(
                "pid {pid} is left stopped by {} in pgrp {g}, which is orphaned (pg_jobc 0)",
                kexit_model::flags::signal_name(sig)
            ),
        ));
    }
    for (cpu, list) in k.deadlwp_list.iter().enumerate() {
        if !list.is_empty() {
            problems.push((
                ViolationKind::ProcessLeftBehind,
                format!(
                    "{} LWP(s) left on deadlwp_list[cpu{cpu}], never reaped",
                    list.len()
                ),
            ));
        }
    }
    for l in &k.lwps {
        let exited = l.td_flags & TDF_EXITING != 0;
        if exited && !l.freed {
            let p = &k.procs[&l.pid];
            let master_of_zombie =
                !p.freed && p.stat == SZOMB && p.lwp_tree.iter().any(|x| k.lwps[*x].tid == l.tid);
            if !master_of_zombie {
                problems.push((
                    ViolationKind::ProcessLeftBehind,
                    format!("pid {} lwp {} exited but was never reaped", l.pid, l.tid),
                ));
            }
        }
    }
    if let Some((kind, msg)) = problems.into_iter().next() {
        let detail = undead.map_or(Detail::None, Detail::Undead);
        k.fail_with(None, kind, None, msg, detail);
    }
}

/// Every live process is on its group's `pg_members` exactly once; nothing else is.
fn check_pgrps(k: &Kernel, problems: &mut Vec<(ViolationKind, String)>) {
    let mut seen: Vec<Pid> = Vec::new();
    for (g, pg) in &k.pgrps {
        let mut cur = pg.first;
        while let Some(p) = cur {
            let pr = &k.procs[&p];
            if pr.freed || pr.pgrp != Some(*g) || seen.contains(&p) {
                problems.push((
                    ViolationKind::ListCorruption,
                    format!("pgrp {g}'s pg_members holds pid {p}, which is freed, in another group or listed twice"),
                ));
                return;
            }
            seen.push(p);
            cur = pr.pg_next;
        }
    }
    for (pid, p) in &k.procs {
        if !p.freed && p.pgrp.is_some() && !seen.contains(pid) {
            problems.push((
                ViolationKind::ListCorruption,
                format!(
                    "pid {pid} names pgrp {:?} but is not on its pg_members",
                    p.pgrp
                ),
            ));
        }
    }
}
