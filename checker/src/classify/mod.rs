//! Classifying a violation found on a generated scenario: a recorded finding (F1-F12), a
//! scenario that blocks by construction, PCT starving a runnable actor, or unrecorded (a
//! potential finding). The judgments that depend on state replay the schedule and read the
//! final kernel state or the trace.

use crate::engine;
use kexit_model::blocked::{Blocked, BlockedState, Detail};
use kexit_model::flags::{
    EXTEXIT_LWP, P_CONTINUED, P_PPWAIT, P_TRACED, P_WAITED, P_WEXIT, SSTOP, SZOMB, WCONTINUED,
    WNOHANG, WUNTRACED,
};
use kexit_model::kernel::ActorKind;
use kexit_model::signals::is_tty_stop;
use kexit_model::trace::{Violation, ViolationKind, What};
use kexit_model::Variant;
use kexit_scenarios::findings::finding;
use kexit_scenarios::spec::{Op, ProcSpec, SigchldAction, WaitOpt};
use kexit_scenarios::Spec;
use serde::Serialize;
use std::collections::BTreeMap;

mod construction;
use construction::blocks_by_construction;

/// What a violation on a generated scenario is, judged by its kind, where it was detected and
/// the scenario's shape.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case", tag = "class", content = "finding")]
pub enum Class {
    /// A finding of the registry (`kexit_scenarios::findings`, docs/findings.md).
    Recorded(&'static str),
    /// A deadlock in which every blocked actor waits for something the scenario never does
    /// (a signal nobody sends, a child that never exits): the scenario blocks by
    /// construction, not the kernel.
    ScenarioBlocks,
    /// A livelock in which the polling actor was the only one scheduled while another actor
    /// could run: PCT's fixed priorities starved it, which no real scheduler does.
    Starved,
    /// Anything else: a potential finding.
    Unrecorded,
}

/// A finding of the registry (`kexit_scenarios::findings`), by id.
fn recorded(id: &str) -> Class {
    Class::Recorded(finding(id).expect("a registered finding").id)
}

fn waits(spec: &Spec, pid: u32) -> impl Iterator<Item = (&Vec<WaitOpt>, bool)> {
    spec.procs
        .iter()
        .filter(move |p| p.pid == pid)
        .flat_map(ops_of)
        .filter_map(|op| match op {
            Op::Wait {
                options, rusage, ..
            } => Some((options, *rusage)),
            _ => None,
        })
}

/// Every operation of a process's LWPs.
fn ops_of(p: &ProcSpec) -> impl Iterator<Item = &Op> {
    p.lwps.iter().flat_map(|l| &l.script)
}

/// Every operation of the scenario.
fn all_ops(spec: &Spec) -> impl Iterator<Item = &Op> {
    spec.procs.iter().flat_map(ops_of)
}

/// The process sets SIGCHLD to SIG_IGN (PS_CLDSIGIGN) in its script.
fn ignores_sigchld(p: &ProcSpec) -> bool {
    ops_of(p).any(|op| {
        matches!(
            op,
            Op::Sigchld {
                action: SigchldAction::Ignore
            }
        )
    })
}

/// The process wants no zombies (PS_NOCLDWAIT, or SIGCHLD set to SIG_IGN): its exiting
/// children are moved to init (exit1 549-550).
fn wants_no_zombies(p: &ProcSpec) -> bool {
    p.nocldwait || p.cldsigign || ignores_sigchld(p)
}

/// Some group shares its session with another group (so a parent can qualify it).
fn shares_sessions(spec: &Spec) -> bool {
    spec.procs.iter().any(|p| p.session_id() != p.group())
}

/// Some operation sends a tty stop signal (SIGTSTP, SIGTTIN, SIGTTOU).
fn sends_tty_stop(spec: &Spec) -> bool {
    all_ops(spec).any(|op| match op {
        Op::Kill { sig, .. } | Op::Killpg { sig, .. } => is_tty_stop(sig.0),
        Op::Pgsignal { sig, .. } => is_tty_stop(*sig),
        _ => false,
    })
}

/// The process has children: declared ones, or ones it attaches to as a tracer.
fn has_children(spec: &Spec, p: &ProcSpec) -> bool {
    spec.procs.iter().any(|c| c.parent == p.pid)
        || ops_of(p).any(|op| matches!(op, Op::Attach { .. }))
}

/// Judges a violation on `spec` (found under `variant` with `schedule`).
pub fn classify(spec: &Spec, variant: &Variant, v: &Violation, schedule: &[u8]) -> Class {
    let all_pids = || spec.procs.iter().map(|p| p.pid);
    match (v.kind, v.func, v.line) {
        // F1: wait4 returning 0 (WNOHANG) or reporting a continue leaves `status` (and, with
        // WCONTINUED, the rusage) unwritten and copies it out.
        (ViolationKind::CopyoutUnwritten, "sys_wait4", 819..=822)
            if all_pids().any(|p| {
                waits(spec, p).any(|(o, ru)| {
                    let word = WaitOpt::word(o);
                    word & WNOHANG != 0 || (ru && word & WCONTINUED != 0)
                })
            }) =>
        {
            recorded("F1")
        }
        // F2: a PS_NOCLDWAIT / SIGCHLD-ignoring parent waits while its child is moved to init:
        // init's PHOLDZOMB KKASSERT (918) or the unlink from init's list without its token (990).
        (ViolationKind::Kkassert, "kern_wait", 918)
        | (ViolationKind::DataRace, "kern_wait", 990)
            if spec.procs.iter().any(|p| {
                wants_no_zombies(p) && has_children(spec, p) && waits(spec, p.pid).next().is_some()
            }) =>
        {
            recorded("F2")
        }
        // F3: two LWPs of one process wait for the same zombie; the second one's PHOLDZOMB
        // finds ZOMB set with the first reaper's count already released (956).
        (ViolationKind::Kkassert, "kern_wait", 918)
            if all_pids().any(|p| {
                spec.procs.iter().filter(|q| q.pid == p).any(|q| {
                    q.lwps
                        .iter()
                        .filter(|l| l.script.iter().any(|op| matches!(op, Op::Wait { .. })))
                        .count()
                        >= 2
                })
            }) =>
        {
            recorded("F3")
        }
        // F7: a parent that traces its own child (PT_TRACE_ME, or PT_ATTACH by the parent)
        // is told of its exit by the p_oppid branch (971-982) and then again by the reap.
        (ViolationKind::DoubleReap, "kern_wait", 960)
            if all_ops(spec).any(|op| matches!(op, Op::TraceMe | Op::Attach { .. })) =>
        {
            recorded("F7")
        }
        // F8: exit1 walks exit_list (333-334) while rm_at_exit frees an entry of it: the race
        // check sees the unordered accesses (either side may come second; at_exit's insertion
        // is the same unlocked list), or exit1 steps on the freed entry.
        (ViolationKind::UseAfterFree, "exit1", 333 | 334)
        | (ViolationKind::DataRace, "exit1", 333 | 334)
        | (ViolationKind::DataRace, "rm_at_exit", 1220 | 1222)
        | (ViolationKind::DataRace, "at_exit", 1207)
            if all_ops(spec).any(|op| matches!(op, Op::RmAtExit { .. } | Op::AtExit { .. })) =>
        {
            recorded("F8")
        }
        // F4: a walk of pg_members without pg_token (pgsignal: a terminal's signal or exit1's
        // SIGHUP at 420; dokillpg), or the signal it sends, touches a member that its parent
        // reaped and freed meanwhile (leavepgrp at 993, kfree at 1045).
        (ViolationKind::UseAfterFree, "pgsignal" | "dokillpg" | "lwpsignal", 0)
        | (ViolationKind::UseAfterFree, "exit1", 420)
            if spec.procs.iter().any(|p| p.tty_pgrp.is_some())
                || all_ops(spec)
                    .any(|op| matches!(op, Op::Pgsignal { .. } | Op::Killpg { .. })) =>
        {
            recorded("F4")
        }
        // F9: with job control (a group in another group's session), a child's qualification
        // of its group is taken away twice, by its own exit and its parent's (fixjobc at
        // 439): the final recount sees it, or a stopped member wrongly hung up, which a wait
        // reports as killed by SIGHUP.
        (ViolationKind::JobControl, ..) if shares_sessions(spec) => recorded("F9"),
        (ViolationKind::UnexpectedResult, "sys_wait4", _)
            if shares_sessions(spec) && spec.procs.iter().any(|p| p.stopped) =>
        {
            recorded("F9")
        }
        // F10: an LWP that migrated exits while the old cpu's lwkt_switch_return, which reads
        // TDF_EXITING after clearing TDF_RUNNING, has yet to read it: the read is unordered
        // with cpu_lwp_exit's write of TDF_EXITING (702), or comes after the free.
        (ViolationKind::DataRace | ViolationKind::UseAfterFree, "lwkt_switch_return", _)
        | (ViolationKind::DataRace, "lwp_exit", 702)
            if all_ops(spec).any(|op| matches!(op, Op::Migrate { .. })) =>
        {
            recorded("F10")
        }
        // F15: exit1's fixjobc (439) orphans a job's group while a tty stop of a member is
        // under way, decided before and made after orphanpg looked for stopped members: the
        // member is left stopped in the orphaned group.
        (ViolationKind::OrphanedStop, ..) if shares_sessions(spec) && sends_tty_stop(spec) => {
            recorded("F15")
        }
        // F11: exit1's fixjobc walk (439) blocked for a child's token while the child was
        // moved, and stepped onto its new parent's p_children: a tracer's PT_ATTACH moved
        // it, or its own exit1 moved it to init (549-550: the parent wants no zombies).
        (ViolationKind::DataRace, "exit1", 439)
            if all_ops(spec).any(|op| matches!(op, Op::Attach { .. }))
                || spec.procs.iter().any(wants_no_zombies) =>
        {
            recorded("F11")
        }
        // F12: a scan (sysctl_out_proc) held an exiting LWP after lwp_exit's lwp_lock poll
        // (the sleep at 653 lets it), and its RB_NEXT stepped from the LWP once freed.
        (ViolationKind::UseAfterFree, "sysctl_out_proc", _)
            if all_ops(spec).any(|op| matches!(op, Op::Scan { .. })) =>
        {
            recorded("F12")
        }
        // F13: exit waits for an LWP of a process stopped while it was traced; its tracer
        // exited, which untraced it, and the SIGKILL of 521 was dropped (P_WEXIT).
        (ViolationKind::Deadlock, ..)
            if sleeps_in(v, "killlwps") && untraced_stopped_in_exit(spec, variant, schedule) =>
        {
            recorded("F13")
        }
        // F14: a parent asleep in kern_wait while a child of it is stopped, every LWP of the
        // child counted stopped or asleep, and the parent never told: an LWP completed the
        // stop by leaving (lwp_exit) or by going to sleep after proc_stop.
        (ViolationKind::Deadlock, ..)
            if sleeps_in(v, "wait") && stop_never_told(spec, variant, schedule) =>
        {
            recorded("F14")
        }
        // F5: a tracer attached a vfork child, so exit1's wakeup of p_pptr (472) went to the
        // tracer: the vfork parent sleeps on with its hold, the child waits for it in "reap1".
        (ViolationKind::Deadlock, ..)
            if sleeps_in(v, "ppwait")
                && sleeps_in(v, "reap1")
                && all_ops(spec).any(|op| {
                    matches!(op, Op::Attach { pid, .. }
                        if spec.procs.iter().any(|c| c.pid == *pid && c.ppwait))
                }) =>
        {
            recorded("F5")
        }
        // F6: two LWPs of one process left with extexit(EXTEXIT_LWP), each counting the other
        // (163) while it was still in lwp_exit, which can block before 671 (the lwp_lock
        // poll at 636, kqueue_terminate's pool token): nobody did exit1. Seen at the end, or
        // as the deadlock of a parent waiting for that process.
        (ViolationKind::ProcessLeftBehind, ..)
            if matches!(v.detail, Detail::Undead(_)) && two_lwps_extexit(spec) =>
        {
            recorded("F6")
        }
        (ViolationKind::Deadlock, ..)
            if two_lwps_extexit(spec) && left_undead(spec, variant, schedule) =>
        {
            recorded("F6")
        }
        (ViolationKind::Deadlock, ..) if blocks_by_construction(spec, variant, v, schedule) => {
            Class::ScenarioBlocks
        }
        (ViolationKind::Livelock, ..) if starved(spec, variant, schedule) => Class::Starved,
        _ => Class::Unrecorded,
    }
}

/// Whether the schedule leaves an exiting process stopped and no longer traced (F13).
fn untraced_stopped_in_exit(spec: &Spec, variant: &Variant, schedule: &[u8]) -> bool {
    let out = engine::replay_keeping_kernel(spec, variant, schedule);
    out.kernel.is_some_and(|k| {
        k.procs.values().any(|p| {
            !p.freed && p.stat == SSTOP && p.flags & P_WEXIT != 0 && p.flags & P_TRACED == 0
        })
    })
}

/// Whether the schedule ends with a stopped process whose stop its parent would report
/// (P_WAITED clear; traced, or a wait with WUNTRACED in the parent's script) but sleeps in
/// kern_wait instead: it was never told (F14).
fn stop_never_told(spec: &Spec, variant: &Variant, schedule: &[u8]) -> bool {
    let out = engine::replay_keeping_kernel(spec, variant, schedule);
    out.kernel.is_some_and(|k| {
        k.procs.values().any(|p| {
            let Some(q) = p.pptr else { return false };
            let untraced_wait =
                waits(spec, q).any(|(o, _)| o.iter().any(|w| w.bits() & WUNTRACED != 0));
            let asleep_in_wait = k.actors.iter().any(|a| {
                a.wmesg == "wait"
                    && a.wchan.is_some()
                    && matches!(a.kind, ActorKind::Lwp(l) if k.lwps[l].pid == q)
            });
            !p.freed
                && p.stat == SSTOP
                && p.flags & P_WAITED == 0
                && (p.flags & P_TRACED != 0 || untraced_wait)
                && asleep_in_wait
        })
    })
}

/// Some process has two LWPs that each call extexit(EXTEXIT_LWP).
fn two_lwps_extexit(spec: &Spec) -> bool {
    spec.procs.iter().any(|p| {
        p.lwps
            .iter()
            .filter(|l| {
                l.script
                    .iter()
                    .any(|op| matches!(op, Op::Extexit { who, .. } if *who == EXTEXIT_LWP))
            })
            .count()
            >= 2
    })
}

/// Whether the schedule leaves a process with no threads that is not a zombie (F6's undead
/// process), which a parent waiting for it waits for forever.
fn left_undead(spec: &Spec, variant: &Variant, schedule: &[u8]) -> bool {
    let out = engine::replay_keeping_kernel(spec, variant, schedule);
    out.kernel.is_some_and(|k| {
        k.procs
            .iter()
            .any(|(pid, p)| *pid != 1 && !p.freed && p.nthreads == 0 && p.stat != SZOMB)
    })
}

/// Whether a livelock's poller starved someone: another actor was left in a timed sleep,
/// which may return once anyone has taken a step (docs/model.md, deviation 1), so it was
/// runnable all along while the schedule kept choosing the poller.
fn starved(spec: &Spec, variant: &Variant, schedule: &[u8]) -> bool {
    let out = engine::replay(spec, variant, schedule);
    let Some(poller) = out.trace.last().map(|e| e.actor) else {
        return false;
    };
    // Each actor's sleep state at the end: in a timed sleep from its tsleep until it wakes.
    let mut timed_asleep = BTreeMap::new();
    for e in &out.trace {
        match &e.what {
            What::Sleep { timed, .. } => {
                timed_asleep.insert(e.actor, *timed);
            }
            What::Woke { .. } => {
                timed_asleep.insert(e.actor, false);
            }
            _ => {}
        }
    }
    timed_asleep.iter().any(|(a, timed)| *a != poller && *timed)
}

/// Whether some blocked actor of a deadlock sleeps with this wmesg.
fn sleeps_in(v: &Violation, wmesg: &str) -> bool {
    v.detail
        .blocked()
        .iter()
        .any(|b| b.state.wmesg() == Some(wmesg))
}

/// Where a violation was detected, for deduplication. A deadlock is detected wherever the
/// last actor happened to block, so its location is the set of sleeps everyone is stuck in.
pub fn location(v: &Violation) -> String {
    if let Detail::Blocked(blocked) = &v.detail {
        let mut sleeps: Vec<String> = blocked
            .iter()
            .filter_map(|b| match &b.state {
                BlockedState::Idle => None,
                BlockedState::Asleep {
                    wmesg,
                    wchan: Some(_),
                    line,
                    ..
                } if *line != 0 => Some(format!("{wmesg}@{line}")),
                BlockedState::Asleep { wmesg, .. } | BlockedState::TimedSleep { wmesg } => {
                    Some(wmesg.to_string())
                }
                BlockedState::TokenWait { line, .. } => Some(format!("{}@{line}", b.state)),
                BlockedState::Running => Some(b.state.to_string()),
            })
            .collect();
        sleeps.sort();
        sleeps.dedup();
        return format!("blocked in {}", sleeps.join(", "));
    }
    format!("{}:{}", v.func, v.line)
}
