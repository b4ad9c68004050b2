//! The switches a variant sets: each names the one place where the variant's history
//! differs from the seed, and the model reads it only there.

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Switch {
    /// exit_list has a lock: exit1's walk (333-334) holds it shared, at_exit and rm_at_exit
    /// exclusively (modeled with proc_token).
    ExitListLock,
    /// kern_wait releases the parent's p_token across the final sleep loop (1116-1127).
    WaitUnlockedSleep,
    /// kern_wait sleeps right after tsleep_interlock without re-reading p_waitgen (1122-1123).
    NoWaitgenRecheck,
    /// sys_wait4 initializes `status` and `rusage`, so a WNOHANG/WCONTINUED return copies out
    /// zeros instead of kernel stack contents.
    Wait4InitStatus,
    /// kern_wait re-checks `p->p_pptr != q` after each "lwpzomb" sleep, as it does after
    /// taking the child's token (921-925).
    WaitRecheckPptr,
    /// kern_wait does not re-check `p->p_pptr != q` after taking the child's token (921-925).
    NoPptrRecheck,
    /// killlwps sets LWP_MP_WEXIT on the target before sending SIGKILL (243-245 swapped).
    WexitBeforeSignal,
    /// killalllwps has no P_WEXIT interlock (200-201 removed).
    NoEalready,
    /// kern_wait takes a plain PHOLD instead of PHOLDZOMB (918) and PRELE for PRELEZOMB.
    NoPholdzomb,
    /// lwp_wait skips the TDF_MP_EXITSIG handshake (734-744) and trusts the TDF flags alone.
    ExitingFlagEarly,
    /// lwp_exit takes no PHOLD on its process (646), lwp_dispose drops none (798).
    LwpNoProcHold,
    /// exit1 signals and wakes the parent without taking the parent's token (556/558).
    WaitWakerNoToken,
    /// exit1 moves its children to init without init's token (501, 526 removed).
    InitNoToken,
    /// killlwps does not hold the target LWP across the signal (241, 248 removed).
    KilllwpsNoLwphold,
    /// exit1 clears P_PPWAIT and wakes the vfork parent after the zombie move (468-473 after 488).
    PpwaitLate,
    /// exit1 clears P_PPWAIT with a plain load and store instead of atomic_clear_int (471).
    PpwaitPlainStore,
    /// proc_reparent reads the old parent once and asserts it is unchanged after taking the
    /// tokens instead of retrying (1156-1165).
    ReparentSingleShot,
    /// proc_reparent does not wake the old parent when it loses its last child (1174-1175).
    ReparentNoWakeup,
    /// lwp_wait waits for each condition in a loop and falls through to the next instead of
    /// returning so the caller re-checks all of them (750-756).
    LwpWaitNoRecheck,
    /// kern_wait frees the process without the PSTALLs "reap4" and "reap5" (1034, 1036).
    NoReapStall,
    /// sys_extexit(EXTEXIT_LWP) takes the simple LWP exit only while another LWP on
    /// p_lwp_tree lacks LWP_MP_WEXIT, instead of testing p_nthreads > 1 (163).
    ExtexitLiveLwps,
    /// The vfork parent sleeps on its child and exit1 wakes the child's address instead of
    /// p_pptr (472; kern_fork.c 802-804).
    PpwaitWakeChild,
    /// pgsignal walks pg_members under pg_token and holds each member across its signal,
    /// walking again when the member left the group meanwhile (kern_sig.c 865-880).
    PgsignalPgToken,
    /// The reaper keeps PHOLDZOMB's count until PRELEZOMB: no PRELE at 956, no PHOLD at 972
    /// and 1043, and the PSTALLs of the reap (957, 1034, 1036, proc_remove_zombie) wait for
    /// a count of 1 (33b81dc963).
    ZombKeepsHold,
    /// kern_wait holds each zombie with PHOLD before PHOLDZOMB (918) and keeps that hold
    /// across PHOLDZOMB's sleep; 956's PRELE releases it (33b81dc963).
    WaitFilterHold,
    /// kern_wait hands a zombie back to p_oppid only when that is not the waiter itself
    /// (971): a parent that traces its own child reaps it at once.
    OppidNotParent,
    /// exit1 clears p_oppid of the traced children it kills and moves to init (519-521).
    ExitClearsOppid,
    /// fixjobc takes a process's qualification of its group away once: the first of its own
    /// exit and its parent's marks it (P_JOBCGONE) under its p_token (kern_proc.c 877-899).
    FixjobcOnce,
    /// lwkt_switch_return reads the old thread's TDF_EXITING before it clears TDF_RUNNING
    /// (lwkt_thread.c, upstream 3a06728ed5).
    ExitingSnapshot,
    /// fixjobc's children walk re-checks `np->p_pptr == p` after taking np's token and starts
    /// over when np moved (kern_proc.c 891-907).
    FixjobcRestart,
    /// lwp_exit polls lwp_lock again after dsched_exit_thread and biosched_done (653-654),
    /// before the LWP leaves p_lwp_tree.
    LwpExitRepoll,
    /// exit1 sets a stopped traced child running when it untraces it (519-521), as
    /// FreeBSD's exit1 clears P_STOPPED_TRACE with P_TRACED.
    UntraceUnstops,
    /// lwp_exit, having taken the LWP off its process (671), no longer counts it stopped and
    /// tells the parent when the process is stopped and every LWP left is, as FreeBSD's
    /// thread_exit calls thread_stopped.
    LwpExitCompletesStop,
    /// A PCATCH tsleep of an LWP whose process is stopped and which is not counted stopped
    /// returns ERESTART at once, so the LWP reaches tstop and counts itself, as FreeBSD's
    /// sleepq_catch_signals stops a thread of a stopping process.
    PcatchSleepStops,
    /// lwpsignal tests pg_jobc again for a tty stop signal with the group's pg_token held from
    /// the test through proc_stop's SSTOP (kern_sig.c 1169-1185, 1339-1345), the token fixjobc
    /// holds from its decrement through orphanpg's scan.
    TtyStopUnderPgToken,
}
