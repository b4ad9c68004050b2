//! Whether a deadlock on a generated scenario shows only the scenario's own design (actors
//! that wait for something the scenario never does), judged on a replay of its schedule.

use super::*;

/// A blocked actor in tsleep with this wmesg (on a wait channel), at any line or at `line`.
fn in_tsleep(b: &Blocked, want: &str, at: Option<u32>) -> bool {
    matches!(&b.state, BlockedState::Asleep { wmesg, wchan: Some(_), line, .. }
        if *wmesg == want && at.is_none_or(|l| l == *line))
}

/// Whether a deadlock only shows the scenario's own design: every blocked actor is idle, in a
/// user-level PCATCH sleep ("usleep") of a process that was never sent SIGKILL (nothing in
/// the scenario ends that sleep), in kern_wait's "wait" sleep while no child has anything to
/// report to one of its waits (it waits for children that never exit), or in a vfork wait
/// for a child that still has P_PPWAIT (it never execs or exits). Judged on the final
/// kernel state of a replay of the schedule; anything else is a lost wakeup.
pub(super) fn blocks_by_construction(
    spec: &Spec,
    variant: &Variant,
    v: &Violation,
    schedule: &[u8],
) -> bool {
    let blocked = v.detail.blocked();
    if !blocked
        .iter()
        .any(|b| matches!(b.state, BlockedState::Asleep { .. }))
    {
        return false;
    }
    let out = engine::replay_keeping_kernel(spec, variant, schedule);
    let Some(k) = out.kernel else {
        return false;
    };
    blocked.iter().all(|b| {
        if b.state == BlockedState::Idle {
            return true;
        }
        let Some(p) = b.lwp.and_then(|(pid, _)| k.procs.get(&pid)) else {
            return false;
        };
        if in_tsleep(b, "usleep", None) {
            return !p.killed;
        }
        let ops = || {
            spec.procs
                .iter()
                .filter(|q| q.pid == p.pid)
                .flat_map(ops_of)
        };
        if in_tsleep(b, "wait", Some(1124)) {
            let waits: Vec<(i32, Vec<WaitOpt>)> = if p.pid == 1 {
                vec![(-1, Vec::new())]
            } else {
                current_wait(spec, &out.trace, b).into_iter().collect()
            };
            // What kern_wait's scan would report to one of these waits (zombies, stops,
            // continues): if anything, the wait missed it.
            let reportable = k.procs.values().any(|c| {
                c.pptr == Some(p.pid)
                    && waits.iter().any(|(sel, opts)| {
                        let selected = match *sel {
                            -1 => true,
                            0 => c.pgid == p.pgid,
                            s if s < -1 => c.pgid == s.unsigned_abs(),
                            s => s as u32 == c.pid,
                        };
                        let word = WaitOpt::word(opts);
                        let stopped = c.stat == SSTOP
                            && c.flags & P_WAITED == 0
                            && (c.flags & P_TRACED != 0 || word & WUNTRACED != 0);
                        let continued = word & WCONTINUED != 0 && c.flags & P_CONTINUED != 0;
                        selected && (c.stat == SZOMB || stopped || continued)
                    })
            });
            return !reportable;
        }
        // Exit waits for the process's other LWPs, and one of them is in a vfork wait, which
        // no signal interrupts (that wait is judged on its own), or the process is stopped
        // for its tracer, which has not set it running (a debugger holding it).
        if in_tsleep(b, "killlwps", None) {
            return p.stat == SSTOP && p.flags & P_TRACED != 0
                || blocked.iter().any(|o| {
                    o.lwp.map(|(pid, _)| pid) == Some(p.pid) && in_tsleep(o, "ppwait", None)
                });
        }
        // A vfork parent waits for a child that never execs or exits (P_PPWAIT still set).
        if in_tsleep(b, "ppwait", None) {
            return ops().any(|op| {
                matches!(op, Op::VforkWait { pid }
                    if k.procs.get(pid).is_some_and(|c| c.flags & P_PPWAIT != 0))
            });
        }
        false
    })
}

/// The wait(2) an LWP's actor is blocked in: the first of its script's waits that has not
/// returned yet (each return is the actor's note at libc's wait4 in the trace).
fn current_wait(
    spec: &Spec,
    trace: &[kexit_model::trace::Event],
    b: &Blocked,
) -> Option<(i32, Vec<WaitOpt>)> {
    let (pid, tid) = b.lwp?;
    let returned = trace
        .iter()
        .filter(|e| e.actor == b.actor && e.site.file == "libc" && e.site.func == "wait4")
        .count();
    let script = &spec
        .procs
        .iter()
        .find(|q| q.pid == pid)?
        .lwps
        .get(tid as usize - 1)?
        .script;
    script
        .iter()
        .filter_map(|op| match op {
            Op::Wait { pid, options, .. } => Some((*pid, options.clone())),
            _ => None,
        })
        .nth(returned)
}
