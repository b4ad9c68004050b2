//! Kernel objects and the state they live in: processes, LWPs with their threads, tokens,
//! sleep queues (each actor's wait channel), the per-cpu dead-LWP lists and the exit list.

use crate::engine::ActorId;
use crate::flags::*;
use crate::site::Site;
use crate::trace::*;
use crate::variant::Variant;
use std::collections::BTreeMap;

#[derive(Hash)]
pub struct Proc {
    pub pid: Pid,
    pub pptr: Option<Pid>,
    /// LIST_HEAD p_children: LIST_INSERT_HEAD order (newest first).
    pub children: Vec<Pid>,
    pub stat: u64,
    pub flags: u64,
    pub xstat: i32,
    pub lock: u64,
    pub waitgen: WaitGen,
    pub nthreads: i32,
    /// p_nstopped under p_token: the LWPs counted as stopped (LWP_MP_WSTOP). proc_stop counts
    /// those asleep, tstop the others as they halt; the one that makes it p_nthreads tells the
    /// parent (kern_sig.c 1537-1551, kern_synch.c 1148-1170).
    pub nstopped: i32,
    pub lwp_tree: Vec<LwpId>,
    pub pgid: Pid,
    /// p_pgrp: the process group (its pgid) until leavepgrp; written under both the
    /// process's token and the group's pg_token.
    pub pgrp: Option<Pid>,
    /// p_pglist.le_next: the next member of the group. LIST_REMOVE leaves it as it was, so
    /// a walker standing on a removed member still follows it.
    pub pg_next: Option<Pid>,
    pub sigparent: i32,
    /// A session leader's controlling terminal's foreground group (exit1's SIGHUP, 420).
    pub tty_pgrp: Option<Pid>,
    pub oppid: Pid,
    pub ps_flag: u64,
    /// SIGCHLD has a handler (so it is posted and interrupts PCATCH sleeps).
    pub sigchld_caught: bool,
    /// A process-directed SIGKILL is pending (sigexit at the next user return).
    pub killed: bool,
    /// Other pending signals whose default action terminates the process (bit n: signal n).
    pub fatal: u64,
    /// Pending caught signals other than SIGCHLD (a handler runs at the next user return).
    pub caught: u64,
    /// p_sigcatch and p_sigignore for signals other than SIGCHLD (bit n: signal n).
    pub sigcatch: u64,
    pub sigignore: u64,
    /// A caught SIGCHLD is pending.
    pub sigchld: bool,
    /// Signals posted while the process was traced (bit n: signal n): lwpsignal gives each
    /// the default action (1118-1120) and issignal stops the process at the next user
    /// return for its tracer to see (1891-1931), or applies the disposition once untraced.
    pub tsig: u64,
    pub in_allproc: bool,
    pub freed: bool,
    /// fix:fixjobc-once's P_JOBCGONE, under p_token: the process's qualification of its
    /// group through its parent has been taken away (never set in the seed).
    pub jobc_gone: bool,
}

/// p_waitgen. kern_wait adds 0x80000000 (881, 1122) and compares only `& 0x7FFFFFFF`
/// (1120, 1123); nothing reads the bits above, so states that differ only there are one
/// state: the fingerprint hashes the low 31 bits (and the code's copies are masked alike).
#[derive(Clone, Copy, Debug, Default)]
pub struct WaitGen(pub u64);

impl std::hash::Hash for WaitGen {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        (self.0 & WAITGEN_MASK).hash(h);
    }
}

/// The bits of p_waitgen kern_wait compares.
pub const WAITGEN_MASK: u64 = 0x7FFF_FFFF;

/// A process group: LIST_HEAD pg_members under pg_token, and pg_lock, the lockmgr lock that
/// pgsignal holds across its walk (it excludes fork and other signallers, not leavepgrp).
#[derive(Default, Hash)]
pub struct Pgrp {
    pub first: Option<Pid>,
    pub lock_holder: Option<ActorId>,
    /// pg_session, as its leader's pid: fixed for the group's life (no setsid here).
    pub session: Pid,
    /// pg_jobc under pg_token: how many members have a parent in another group of the same
    /// session (fixjobc, kern_proc.c 864-910); the group is orphaned when it reaches 0.
    pub jobc: i32,
}

#[derive(Hash)]
pub struct Lwp {
    pub tid: u32,
    pub pid: Pid,
    pub cpu: u8,
    pub actor: ActorId,
    pub mpflags: u64,
    pub lock: u64,
    pub sigkill: bool,
    /// LWP_MP_WSTOP: counted in its process's p_nstopped.
    pub wstop: bool,
    pub td_flags: u64,
    pub td_mpflags: u64,
    pub td_refs: u64,
    pub freed: bool,
    pub td_freed: bool,
    /// td_migrate_gd: the cpu lwkt_setcpu_self is moving the thread to, until the old cpu's
    /// lwkt_switch_return sends it there (`lwkt.rs`). `cpu` is its td_gd.
    pub migrate_gd: Option<u8>,
    /// Once off p_lwp_tree: its successor there at the moment of RB_REMOVE, where the links
    /// RB_REMOVE leaves in the removed node still lead (`remove_lwp`).
    pub stale_next: Option<LwpId>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Run {
    Running,
    /// Blocked in a contended lwkt_gettoken (or re-acquiring after a sleep).
    TokenWait,
    /// Descheduled in tsleep without timeout.
    Sleeping,
    /// In a timed tsleep begun at step `began`. It may time out once another actor has taken
    /// a step since (the sleeper itself records nothing while it sleeps), unless an earlier
    /// sleep may time out too or an actor ready since before `began` has not run yet (a tick
    /// ends the sleeps that began before it, earliest first, after the threads that were
    /// ready); and whenever no other actor can run.
    Timed {
        began: u32,
    },
    /// Waiting for work it may never get (idle reaper, init without children, an LWP whose
    /// script is done): not a deadlock when everyone else is done.
    Idle,
    Finished,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ActorKind {
    Lwp(LwpId),
    Reaper(u8),
    /// A cpu's idle thread: what the next thread on that cpu does after a migrating thread
    /// switched out (`lwkt.rs`).
    Idle(u8),
}

pub struct Actor {
    pub kind: ActorKind,
    pub label: String,
    /// Tokens in acquisition order with recursion counts; `live` is false while blocked.
    pub toks: Vec<(Tok, u32, bool)>,
    pub toks_live: bool,
    pub run: Run,
    pub wchan: Option<Ident>,
    pub wpcatch: bool,
    pub wmesg: &'static str,
    /// Untimed sleeps on these idents are the actor's idle state (daemons, finished scripts).
    pub idle_on: Vec<Ident>,
    /// Current seed line (for steps inside stubs).
    pub line: u32,
    pub func: &'static str,
    /// The step of its last trace event (for the timed-sleep rule).
    pub last: u32,
    /// What the actor has seen so far: a running digest of the site and result of each of
    /// its steps (its local state, for the state engine's fingerprint).
    pub digest: u128,
    /// The local-state scopes the actor is in, innermost last (`local.rs`).
    pub frames: Vec<Frame>,
    /// What the scheduling point of its current step declared (`stepcheck.rs`; kept only
    /// while `Kernel::check_steps`).
    pub declared: crate::stepcheck::Declared,
}

/// One local-state scope: the caller's digest, and the digest the scope started from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Frame {
    pub caller: u128,
    pub base: u128,
}

#[derive(Default, Hash)]
pub struct TokState {
    pub excl: Option<ActorId>,
    pub shared: Vec<ActorId>,
}

/// What a finished wait(2) reported, for exactly-once checks and expectations.
#[derive(Clone, Debug, Hash)]
pub struct Reap {
    pub waiter: Pid,
    pub child: Pid,
    pub status: Option<i32>,
}

/// The kernel state one execution runs on, with the harness's scheduler state (`sched`) and
/// recorder (`rec`) beside it.
pub struct Kernel {
    pub procs: BTreeMap<Pid, Proc>,
    pub pgrps: BTreeMap<Pid, Pgrp>,
    pub lwps: Vec<Lwp>,
    pub tokens: BTreeMap<Tok, TokState>,
    pub actors: Vec<Actor>,
    pub ncpus: u8,
    pub deadlwp_list: Vec<Vec<LwpId>>,
    pub task_pending: Vec<bool>,
    /// Per cpu, the threads that switched out there whose lwkt_switch_return the cpu's next
    /// thread has yet to run (migrations only; `lwkt.rs`).
    pub switch_pending: Vec<Vec<LwpId>>,
    /// exit_list: (entry, function) in list order; an entry is its kmalloc's number (those
    /// of the scenario's initial callouts count down from u32::MAX).
    pub exit_list: Vec<(u32, u32)>,
    /// Entries rm_at_exit took off the list and freed (kfree(ep)).
    pub exit_freed: Vec<u32>,
    /// kmalloc(M_NOWAIT) calls, counted from 1, that fail.
    pub alloc_fail: Vec<u32>,
    pub allocs: u32,
    pub variant: Variant,
    pub reaps: Vec<Reap>,
    /// Every exit kern_wait reported: (waiter, child), reaped or not (`Cx::record_report`).
    pub reports: Vec<(Pid, Pid)>,
    /// The happens-before race check (`race.rs`).
    pub race: crate::race::RaceCheck,
    pub sched: Sched,
    pub rec: Recorder,
}

/// The harness's side of scheduling: who holds the kernel lock, the steps taken, the order
/// of acquisitions (the schedule), and the end of an execution.
pub struct Sched {
    pub schedule: Vec<u8>,
    pub schedule_cut: Option<usize>,
    pub step: u32,
    /// Scheduling points taken (engine-visible steps), for the benchmarks.
    pub points: u32,
    pub max_steps: u32,
    pub abort: bool,
    /// The actor holding the kernel lock.
    pub holder: ActorId,
    pub shutdown: bool,
    pub pending_unpark: Vec<ActorId>,
    /// Actors keep local-state digests (`Engine::local_state`).
    pub local_state: bool,
    /// Every hold of the kernel lock is checked against its step's declaration
    /// (`Engine::check_steps`).
    pub check_steps: bool,
}

/// What an execution records: its trace, the seed lines it covered, its violation.
pub struct Recorder {
    pub trace: Vec<Event>,
    pub lines: Vec<u64>,
    pub violation: Option<Violation>,
}

pub type KR<T> = Result<T, Unwind>;

/// Why an actor stops running its code early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unwind {
    /// A violation was found or a replay stopped: every actor returns.
    Abort,
    /// The LWP's thread switched out for the last time (lwp_exit never returns).
    ThreadGone,
    /// Idle daemons stop at the end of the execution.
    Shutdown,
}

impl Kernel {
    pub fn proc(&mut self, me: ActorId, pid: Pid, site: &'static Site) -> KR<&mut Proc> {
        self.cover(site);
        match self.procs.get(&pid) {
            None => Err(self.fail(
                Some(me),
                ViolationKind::ModelError,
                Some(site),
                format!("no process with pid {pid}"),
            )),
            Some(p) if p.freed => Err(self.fail(
                Some(me),
                ViolationKind::UseAfterFree,
                Some(site),
                format!(
                    "struct proc of pid {pid} used after kfree(p, M_PROC) in {}",
                    site.func
                ),
            )),
            Some(_) => Ok(self.procs.get_mut(&pid).unwrap()),
        }
    }

    pub fn lwp(&mut self, me: ActorId, l: LwpId, site: &'static Site) -> KR<&mut Lwp> {
        self.cover(site);
        if self.lwps[l].freed {
            let (pid, tid) = (self.lwps[l].pid, self.lwps[l].tid);
            return Err(self.fail(
                Some(me),
                ViolationKind::UseAfterFree,
                Some(site),
                format!(
                    "struct lwp (pid {pid} lwp {tid}) used after lwp_dispose freed it, in {}",
                    site.func
                ),
            ));
        }
        Ok(&mut self.lwps[l])
    }

    /// The cpu `me` runs on, in a scenario whose actors share cpus (held or to take back).
    pub fn cpu_of(&self, me: ActorId) -> Option<u8> {
        self.actors[me].toks.iter().find_map(|(t, _, _)| match t {
            Tok::Cpu(c) => Some(*c),
            _ => None,
        })
    }

    /// The cpu `me` holds now (it is running on a shared cpu).
    pub fn cpu_held(&self, me: ActorId) -> Option<u8> {
        self.cpu_of(me).filter(|_| self.actors[me].toks_live)
    }

    pub fn holds(&self, me: ActorId, t: Tok) -> bool {
        let a = &self.actors[me];
        a.toks_live && a.toks.iter().any(|(x, _, _)| *x == t)
    }

    /// ASSERT_LWKT_TOKEN_HELD for a token-protected field.
    pub(crate) fn need(&mut self, me: ActorId, t: Tok, field: &str, site: &'static Site) -> KR<()> {
        self.cover(site);
        if self.holds(me, t) {
            return Ok(());
        }
        let msg = format!("{field} accessed without holding {t} (ASSERT_LWKT_TOKEN_HELD)");
        Err(self.fail(Some(me), ViolationKind::DataRace, Some(site), msg))
    }

    pub(crate) fn kkassert(
        &mut self,
        me: ActorId,
        ok: bool,
        site: &'static Site,
        what: &str,
    ) -> KR<()> {
        self.cover(site);
        if ok {
            return Ok(());
        }
        let msg = format!("KKASSERT({what}) failed");
        Err(self.fail(Some(me), ViolationKind::Kkassert, Some(site), msg))
    }

    pub(crate) fn word(&mut self, me: ActorId, f: Field, site: &'static Site) -> KR<&mut u64> {
        Ok(match f {
            Field::PFlags(p) => &mut self.proc(me, p, site)?.flags,
            Field::PStat(p) => &mut self.proc(me, p, site)?.stat,
            Field::PWaitgen(p) => &mut self.proc(me, p, site)?.waitgen.0,
            Field::PLock(p) => &mut self.proc(me, p, site)?.lock,
            Field::LwpMpflags(l) => &mut self.lwp(me, l, site)?.mpflags,
            Field::LwpLock(l) => &mut self.lwp(me, l, site)?.lock,
            Field::TdFlags(l) => &mut self.td(me, l, site)?.td_flags,
            Field::TdMpflags(l) => &mut self.td(me, l, site)?.td_mpflags,
            Field::TdRefs(l) => &mut self.td(me, l, site)?.td_refs,
        })
    }

    /// The thread part of an LWP (freed by lwkt_free_thread in lwp_dispose).
    pub(crate) fn td(&mut self, me: ActorId, l: LwpId, site: &'static Site) -> KR<&mut Lwp> {
        self.cover(site);
        if self.lwps[l].td_freed {
            let (pid, tid) = (self.lwps[l].pid, self.lwps[l].tid);
            return Err(self.fail(
                Some(me),
                ViolationKind::UseAfterFree,
                Some(site),
                format!(
                    "thread of pid {pid} lwp {tid} used after lwkt_free_thread, in {}",
                    site.func
                ),
            ));
        }
        Ok(&mut self.lwps[l])
    }

    pub fn lwp_label(&self, l: LwpId) -> String {
        format!("pid {} lwp {}", self.lwps[l].pid, self.lwps[l].tid)
    }

    /// Token-checked accessors for the lists the seed protects with tokens.
    pub fn children(&mut self, me: ActorId, pid: Pid, site: &'static Site) -> KR<&mut Vec<Pid>> {
        self.need(me, Tok::Proc(pid), "p_children", site)?;
        Ok(&mut self.proc(me, pid, site)?.children)
    }
    pub fn lwp_tree(&mut self, me: ActorId, pid: Pid, site: &'static Site) -> KR<&mut Vec<LwpId>> {
        self.need(me, Tok::Proc(pid), "p_lwp_tree", site)?;
        Ok(&mut self.proc(me, pid, site)?.lwp_tree)
    }
    /// RB_REMOVE(lwp_rb_tree, &p->p_lwp_tree, lp): the removed node keeps its links, so a
    /// walker standing on it still finds the successor it had then.
    pub(crate) fn remove_lwp(
        &mut self,
        me: ActorId,
        pid: Pid,
        lp: LwpId,
        site: &'static Site,
    ) -> KR<()> {
        let tree = self.lwp_tree(me, pid, site)?;
        let Some(i) = tree.iter().position(|x| *x == lp) else {
            return Ok(());
        };
        tree.remove(i);
        let next = tree.get(i).copied();
        self.lwps[lp].stale_next = next;
        Ok(())
    }
    /// RB_NEXT(lp) in p_lwp_tree: `Ok` with the successor while lp is on the tree, `Err` with
    /// where the links RB_REMOVE left in it lead once it is not (`remove_lwp`).
    pub fn rb_next(
        &mut self,
        me: ActorId,
        pid: Pid,
        lp: LwpId,
        site: &'static Site,
    ) -> KR<Result<Option<LwpId>, Option<LwpId>>> {
        let tree = self.lwp_tree(me, pid, site)?;
        Ok(match tree.iter().position(|x| *x == lp) {
            Some(i) => Ok(tree.get(i + 1).copied()),
            None => Err(self.lwps[lp].stale_next),
        })
    }
    pub(crate) fn nthreads(&mut self, me: ActorId, pid: Pid, site: &'static Site) -> KR<&mut i32> {
        self.need(me, Tok::Proc(pid), "p_nthreads", site)?;
        Ok(&mut self.proc(me, pid, site)?.nthreads)
    }
    pub fn pptr(&mut self, me: ActorId, pid: Pid, site: &'static Site) -> KR<&mut Option<Pid>> {
        self.need(me, Tok::Proc(pid), "p_pptr", site)?;
        Ok(&mut self.proc(me, pid, site)?.pptr)
    }
    /// p_pgrp under the process's token (leavepgrp changes it under that and pg_token).
    pub(crate) fn pgrp_of(
        &mut self,
        me: ActorId,
        pid: Pid,
        site: &'static Site,
    ) -> KR<Option<Pid>> {
        self.need(me, Tok::Proc(pid), "p_pgrp", site)?;
        Ok(self.proc(me, pid, site)?.pgrp)
    }
    /// `p->p_pgrp == g` read under g's pg_token: every write that moves p into or out of g
    /// holds that token.
    pub(crate) fn in_pgrp(&mut self, me: ActorId, p: Pid, g: Pid, site: &'static Site) -> KR<bool> {
        self.need(me, Tok::Pgrp(g), "p_pgrp", site)?;
        Ok(self.proc(me, p, site)?.pgrp == Some(g))
    }
    /// pg_jobc under pg_token.
    pub(crate) fn pg_jobc(&mut self, me: ActorId, g: Pid, site: &'static Site) -> KR<&mut i32> {
        self.need(me, Tok::Pgrp(g), "pg_jobc", site)?;
        Ok(&mut self.pgrps.get_mut(&g).expect("a live group").jobc)
    }
    /// LIST_FIRST(&pgrp->pg_members) under pg_token.
    pub(crate) fn pg_first(&mut self, me: ActorId, g: Pid, site: &'static Site) -> KR<Option<Pid>> {
        self.need(me, Tok::Pgrp(g), "pg_members", site)?;
        Ok(self.pgrps.get(&g).and_then(|x| x.first))
    }
    /// LIST_NEXT(p, p_pglist) under pg_token (a field of p: p must not be freed).
    pub(crate) fn pg_next(
        &mut self,
        me: ActorId,
        g: Pid,
        p: Pid,
        site: &'static Site,
    ) -> KR<Option<Pid>> {
        self.need(me, Tok::Pgrp(g), "p_pglist", site)?;
        Ok(self.proc(me, p, site)?.pg_next)
    }
    pub(crate) fn deadlwps(
        &mut self,
        me: ActorId,
        cpu: u8,
        site: &'static Site,
    ) -> KR<&mut Vec<LwpId>> {
        self.need(me, Tok::Deadlwp(cpu), "deadlwp_list", site)?;
        Ok(&mut self.deadlwp_list[cpu as usize])
    }

    pub(crate) fn actor_of_lwp(&self, l: LwpId) -> ActorId {
        self.lwps[l].actor
    }
}
