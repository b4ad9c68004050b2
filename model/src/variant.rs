//! Named variants of the model: `seed` is kern_exit.c as written; `bug:` re-creates a
//! historical bug, `fix:` applies a change that came after the seed. The model reads a
//! switch only at the point where history differs.

use serde::Serialize;

pub use crate::switch::Switch;

#[derive(Clone, Debug, Serialize)]
pub struct VariantInfo {
    pub name: &'static str,
    pub description: &'static str,
    pub upstream: &'static str,
    pub functions: &'static [&'static str],
    pub lines: &'static str,
    #[serde(skip)]
    pub switches: &'static [Switch],
}

pub const VARIANTS: &[VariantInfo] = &[
    VariantInfo {
        name: "seed",
        description: "kern_exit.c of 2014-10-16 as written, bugs included",
        upstream: "8711651202bb (2014-10-16)",
        functions: &[],
        lines: "",
        switches: &[],
    },
    VariantInfo {
        name: "bug:wait-unlocked-sleep",
        description: "kern_wait drops the parent's p_token before its final sleep loop and takes it back after: \
                      the p_waitgen re-snapshot at 1122 can swallow an exit whose wakeup already went by",
        upstream: "none (re-creates the window the parent's token closes in the 2014 code)",
        functions: &["kern_wait"],
        lines: "1116-1127",
        switches: &[Switch::WaitUnlockedSleep],
    },
    VariantInfo {
        name: "bug:no-waitgen-recheck",
        description: "kern_wait sleeps right after tsleep_interlock without re-reading p_waitgen; \
                      harmless in 2014 because the parent's token closes the window (expected to pass)",
        upstream: "none (control for bug:wait-unlocked-sleep)",
        functions: &["kern_wait"],
        lines: "1122-1123",
        switches: &[Switch::NoWaitgenRecheck],
    },
    VariantInfo {
        name: "fix:wait4-init-status",
        description: "sys_wait4 starts with status = 0 and a zeroed rusage, so WNOHANG returning 0 and the \
                      WCONTINUED report do not copy out uninitialized kernel stack",
        upstream: "not in the 2014 tree (finding F1 in docs/findings.md)",
        functions: &["sys_wait4", "kern_wait"],
        lines: "813, 819-822",
        switches: &[Switch::Wait4InitStatus],
    },
    VariantInfo {
        name: "fix:wait-recheck-pptr",
        description: "kern_wait re-checks p->p_pptr != q after each \"lwpzomb\" sleep (926-928): a child \
                      reparented to init by exit1 (550) while its PS_NOCLDWAIT parent slept there is left to init",
        upstream: "not in the 2014 tree (finding F2 in docs/findings.md)",
        functions: &["kern_wait"],
        lines: "921-928",
        switches: &[Switch::WaitRecheckPptr],
    },
    VariantInfo {
        name: "bug:wexit-before-signal",
        description: "killlwps sets LWP_MP_WEXIT on the target before lwpsignal(SIGKILL); the signal path drops \
                      signals to LWPs that have it, the target never leaves its PCATCH sleep and exit hangs",
        upstream: "the ordering the comment at kern_exit.c:234-238 insists on",
        functions: &["killlwps"],
        lines: "243-245",
        switches: &[Switch::WexitBeforeSignal],
    },
    VariantInfo {
        name: "bug:no-ealready",
        description: "no P_WEXIT interlock in killalllwps: two LWPs both become the master exiter, each waits \
                      in killlwps for the other to go away",
        upstream: "fixed 222b18cd6c (2007) and e31613239c",
        functions: &["killalllwps"],
        lines: "200-202",
        switches: &[Switch::NoEalready],
    },
    VariantInfo {
        name: "bug:no-pholdzomb",
        description: "kern_wait holds a zombie with a plain PHOLD instead of PHOLDZOMB: two waiters reap the \
                      same child",
        upstream: "fixed 0730ed66e3 (2012)",
        functions: &["kern_wait"],
        lines: "918, 923, 980, 1044",
        switches: &[Switch::NoPholdzomb],
    },
    VariantInfo {
        name: "bug:exiting-flag-early",
        description: "lwp_wait trusts TDF_EXITING without TDF_RUNNING alone, without the TDF_MP_EXITSIG \
                      handshake: the thread is freed while lwkt_switch_return still runs on it. The race \
                      check sees the cause first: lwp_wait's read of td_flags (768) has nothing ordering \
                      it after the switch-out's write (702) the handshake's atomic used to order",
        upstream: "fixed c1102e9f24 (2005)",
        functions: &["lwp_wait"],
        lines: "734-744",
        switches: &[Switch::ExitingFlagEarly],
    },
    VariantInfo {
        name: "bug:lwp-no-proc-hold",
        description: "exiting LWPs do not PHOLD their process until reaped: the parent can free the process \
                      while a dying LWP still uses it",
        upstream: "fixed e31613239c (2007)",
        functions: &["lwp_exit", "lwp_dispose"],
        lines: "646, 690, 798",
        switches: &[Switch::LwpNoProcHold],
    },
    VariantInfo {
        name: "bug:wait-waker-no-token",
        description: "exit1 publishes the exit and wakes the parent without taking the parent's p_token \
                      (ksignal at 556/558): the wakeup can go by before the parent sleeps",
        upstream: "fixed 8c986a8224 (2011)",
        functions: &["exit1"],
        lines: "553-561",
        switches: &[Switch::WaitWakerNoToken],
    },
    VariantInfo {
        name: "bug:init-no-token",
        description: "exit1 moves its children to init without init's token, racing init's own wait scan",
        upstream: "fixed 7e90d7915b (2011)",
        functions: &["exit1"],
        lines: "501, 526",
        switches: &[Switch::InitNoToken],
    },
    VariantInfo {
        name: "bug:killlwps-no-lwphold",
        description: "killlwps does not hold the target LWP across lwkt_gettoken(&tlp->lwp_token) and \
                      lwpsignal: when the token is contended the LWP can exit on its own and leave p_lwp_tree (and be \
                      freed) under the loop",
        upstream: "fixed 89d9d44934 (2008)",
        functions: &["killlwps"],
        lines: "241, 248",
        switches: &[Switch::KilllwpsNoLwphold],
    },
    VariantInfo {
        name: "bug:ppwait-late",
        description: "exit1 releases the vfork parent (P_PPWAIT, 468-473) only after proc_move_allproc_zombie: \
                      the zombie move's PSTALL \"reap1\" waits for the parent's hold, the parent waits for P_PPWAIT",
        upstream: "between de7ac1d675 and 82354ad856 (2011)",
        functions: &["exit1"],
        lines: "468-473, 488",
        switches: &[Switch::PpwaitLate],
    },
    VariantInfo {
        name: "bug:no-pptr-recheck",
        description: "kern_wait does not re-check p->p_pptr != q after taking the child's token (921-925): \
                      while it blocked there, exit1 moved the PS_NOCLDWAIT parent's zombie child to init \
                      (550), and the parent reaps init's child. Applied on top of fix:wait-recheck-pptr, \
                      because the seed already fails the same scenario through the \"lwpzomb\" window (F2)",
        upstream: "fixed 0730ed66e3 (2012)",
        functions: &["kern_wait"],
        lines: "921-925",
        switches: &[Switch::NoPptrRecheck, Switch::WaitRecheckPptr],
    },
    VariantInfo {
        name: "bug:reparent-single-shot",
        description: "proc_reparent reads the old parent once, blocks on the tokens and asserts that the child \
                      still has it (KKASSERT(child->p_pptr == opp)) instead of retrying: a tracer's attach \
                      racing the exit of the child's parent (which moves the child to init) panics. Applied \
                      on top of fix:oppid-report-once, since the seed shows finding F7 in that scenario",
        upstream: "fixed 55c81f71d1 (2012)",
        functions: &["proc_reparent"],
        lines: "1156-1165",
        switches: &[
            Switch::ReparentSingleShot,
            Switch::OppidNotParent,
            Switch::ExitClearsOppid,
        ],
    },
    VariantInfo {
        name: "bug:reparent-no-wakeup",
        description: "proc_reparent does not wake the old parent when it takes its last child (1174-1175), as \
                      before 55c81f71d1 for every caller but exit1: a parent waiting for the child a tracer \
                      attaches to sleeps on instead of returning ECHILD",
        upstream: "fixed 55c81f71d1 (2012)",
        functions: &["proc_reparent"],
        lines: "1174-1175",
        switches: &[Switch::ReparentNoWakeup],
    },
    VariantInfo {
        name: "bug:lwp-wait-no-recheck",
        description: "lwp_wait waits out lwp_lock and td_refs in loops and falls through to the TDF flags \
                      without re-checking the others, so an LWP held again meanwhile would be disposed. \
                      Not observable in 2014: an exiting LWP leaves p_lwp_tree before it is waited for, so \
                      no new hold can come (docs/variants.md)",
        upstream: "fixed 2af9d75dac (2011)",
        functions: &["lwp_wait"],
        lines: "750-756",
        switches: &[Switch::LwpWaitNoRecheck],
    },
    VariantInfo {
        name: "bug:no-reap-stall",
        description: "kern_wait frees the process without the final PSTALLs \"reap4\" and \"reap5\": a holder \
                      that found the zombie on its process group after proc_remove_zombie (990) and before \
                      leavepgrp (993) uses freed memory. Applied on top of fix:pgsignal-pg-token, because the \
                      seed's own pgsignal already fails the same scenario (F4)",
        upstream: "fixed 49aa3df0ca (2011) and e22b17d7f5 (2011); see also 3c8687d6a8 (2008)",
        functions: &["kern_wait"],
        lines: "1034, 1036",
        switches: &[Switch::NoReapStall, Switch::PgsignalPgToken],
    },
    VariantInfo {
        name: "fix:pgsignal-pg-token",
        description: "pgsignal walks pg_members under pg_token, holds each member (PHOLD) from before its \
                      signal until the next one is held, and walks again when the member left the group while \
                      ksignal blocked: a member reaped meanwhile stays allocated until pgsignal lets it go (finding F4)",
        upstream: "none: proposed; kern_sig.c's pgsignal is unchanged in the public mirror as of 2020-07-24",
        functions: &["pgsignal (kern_sig.c)"],
        lines: "kern_sig.c 865-880",
        switches: &[Switch::PgsignalPgToken],
    },
    VariantInfo {
        name: "bug:zomb-hold-deadlock",
        description: "the reap counting of 33b81dc963: every waiter PHOLDs the zombie before PHOLDZOMB and \
                      keeps the hold across PHOLDZOMB's sleep, and the reaper's PSTALLs wait for a count of \
                      1: two threads waiting for the same zombie wait for each other",
        upstream: "regression of 33b81dc963 (2018), fixed f071b5e0ac (2020)",
        functions: &["kern_wait", "proc_remove_zombie"],
        lines: "918, 923, 956-957, 972, 1034-1044",
        switches: &[Switch::ZombKeepsHold, Switch::WaitFilterHold],
    },
    VariantInfo {
        name: "fix:zomb-keeps-hold",
        description: "the reaper keeps PHOLDZOMB's count until PRELEZOMB and its PSTALLs wait for a count of 1 \
                      (the counting half of 33b81dc963): a second waiter's PHOLDZOMB never sees ZOMB with \
                      a zero count (finding F3)",
        upstream: "part of 33b81dc963 (2018), without its hold across PHOLDZOMB's sleep",
        functions: &["kern_wait", "proc_remove_zombie"],
        lines: "956-957, 972, 1034-1044",
        switches: &[Switch::ZombKeepsHold],
    },
    VariantInfo {
        name: "fix:extexit-live-lwps",
        description: "sys_extexit(EXTEXIT_LWP) takes the simple LWP exit only while another LWP on \
                      p_lwp_tree has not set LWP_MP_WEXIT, which lwp_exit sets under p_token before it \
                      can block: two LWPs leaving at once cannot both leave the process without a master \
                      exit (finding F6)",
        upstream: "none: proposed; sys_extexit is unchanged in the public mirror as of 2020-07-24",
        functions: &["sys_extexit"],
        lines: "157-165",
        switches: &[Switch::ExtexitLiveLwps],
    },
    VariantInfo {
        name: "fix:ppwait-wake-child",
        description: "the vfork parent sleeps on its child and exit1 wakes the child instead of p_pptr \
                      (as FreeBSD's p_pwait does): a tracer that attached the child, and so became its \
                      p_pptr, no longer takes the vfork parent's wakeup (finding F5)",
        upstream: "none: proposed; the 2020 tree still wakes p_pptr (kern_exit.c, kern_exec.c)",
        functions: &["exit1", "start_forked_proc (kern_fork.c)"],
        lines: "468-473; kern_fork.c 800-805",
        switches: &[Switch::PpwaitWakeChild],
    },
    VariantInfo {
        name: "bug:ppwait-plain-store",
        description: "exit1 clears P_PPWAIT with a plain load and store instead of atomic_clear_int (471): \
                      nothing orders the store before the vfork parent's unlocked test of the flag (the \
                      atomic is a full barrier), which the race check reports; sequential consistency \
                      alone cannot lose the wakeup (see docs/variants.md)",
        upstream: "51818c080a (2013) made the clear atomic when the vfork parent moved to a flag interlock",
        functions: &["exit1"],
        lines: "471",
        switches: &[Switch::PpwaitPlainStore],
    },
    VariantInfo {
        name: "fix:exit-list-lock",
        description: "exit_list gets a lock: exit1 holds it across its walk of the exit callouts, at_exit \
                      and rm_at_exit while they change the list, so the last procfs unmount cannot free \
                      the entry an exiting process stands on (finding F8). Modeled with proc_token; since \
                      a callout may block, the kernel needs a lock that blocking keeps (a lockmgr lock)",
        upstream: "none: proposed; exit_list is unlocked in the public mirror as of 2020-07-24",
        functions: &["exit1", "at_exit", "rm_at_exit"],
        lines: "333-334, 1193-1229",
        switches: &[Switch::ExitListLock],
    },
    VariantInfo {
        name: "fix:oppid-report-once",
        description: "kern_wait hands a traced zombie back to p_oppid only when p_oppid is not the waiter \
                      itself, and exit1 clears p_oppid of the traced children it kills and gives to init: a \
                      parent that traces its own child (PT_TRACE_ME, or PT_ATTACH by the parent), or init after \
                      a tracer's exit, is told of an exit once (finding F7)",
        upstream: "none: proposed; 971-982 and 519-521 are unchanged in the public mirror as of 2020-07-24",
        functions: &["kern_wait", "exit1"],
        lines: "971-982, 519-521",
        switches: &[Switch::OppidNotParent, Switch::ExitClearsOppid],
    },
    VariantInfo {
        name: "fix:fixjobc-once",
        description: "fixjobc takes a process's qualification of its group away once: the first of its own \
                      exit (877-883) and its parent's exit (891-907) to get there marks it P_JOBCGONE under \
                      its p_token, and the other leaves pg_jobc alone. In the seed both can count it when \
                      the two exit at once, and a group whose job control still works is orphaned: its \
                      stopped members are sent SIGHUP (finding F9)",
        upstream: "none: proposed; FreeBSD reworked the same counting in 2020 (r364495) and later \
                   computed orphanage on demand",
        functions: &["fixjobc (kern_proc.c)"],
        lines: "kern_exit.c 439; kern_proc.c 877-899",
        switches: &[Switch::FixjobcOnce],
    },
    VariantInfo {
        name: "fix:exiting-snapshot",
        description: "lwkt_switch_return reads the old thread's TDF_EXITING before it clears TDF_RUNNING, as \
                      upstream has since 2016. In the 2014 code it reads it after: a thread that migrated \
                      runs on its new cpu from that instant and may exit there, and the old cpu's \
                      switch-return then sets TDF_MP_EXITSIG for an exit that is not its own, so lwp_wait \
                      frees the thread while its own last switch-out still uses it (finding F10)",
        upstream: "3a06728ed5 (2016-07-23, \"Fix TDF_EXITING bug\")",
        functions: &["lwkt_switch_return (lwkt_thread.c)"],
        lines: "kern_exit.c 702 (cpu_lwp_exit), 734-744, 768; lwkt_thread.c 919-960",
        switches: &[Switch::ExitingSnapshot],
    },
    VariantInfo {
        name: "fix:fixjobc-restart",
        description: "fixjobc's walk of the exiting process's children re-checks, once it holds a \
                      child's token, that the child is still its child, and starts over from the first \
                      child when it is not (with fix:fixjobc-once's marking, so that a child seen twice \
                      is counted once). In the seed the walk can block for the child's token while \
                      PT_ATTACH moves the child to its tracer, and then steps along the tracer's \
                      p_children without the tracer's token (finding F11)",
        upstream: "none: proposed; the walk is unchanged in the newest revision of the public mirror",
        functions: &["fixjobc (kern_proc.c)"],
        lines: "kern_exit.c 439; kern_proc.c 877-907",
        switches: &[Switch::FixjobcOnce, Switch::FixjobcRestart],
    },
    VariantInfo {
        name: "fix:lwp-exit-repoll",
        description: "lwp_exit waits for lwp_lock to drain again after dsched_exit_thread and \
                      biosched_done, which may sleep and release p_token after the poll at 635: a \
                      ps-like scan (sysctl_out_proc) can LWPHOLD the LWP in that sleep, block in its copyout \
                      while the LWP leaves p_lwp_tree and goes to the reaper, and step from it with \
                      RB_NEXT after its LWPRELE let the reaper free it (finding F12)",
        upstream: "none: proposed; lwp_exit is unchanged in the newest revision of the public mirror",
        functions: &["lwp_exit"],
        lines: "635-636, 653-654",
        switches: &[Switch::LwpExitRepoll],
    },
    VariantInfo {
        name: "fix:untrace-unstops",
        description: "exit1 sets a stopped traced child running (proc_unstop) when it untraces it at 519-521: \
                      otherwise a child stopped by its tracer while one of its LWPs was on its way into exit1 \
                      waits in killlwps for an LWP that stays stopped, since the SIGKILL of 521 is dropped for \
                      a process with P_WEXIT (finding F13)",
        upstream: "none: proposed; FreeBSD's exit1 clears P_STOPPED_TRACE with P_TRACED",
        functions: &["exit1"],
        lines: "519-521",
        switches: &[Switch::UntraceUnstops],
    },
    VariantInfo {
        name: "fix:stop-completes",
        description: "a stop is reported however it completes (finding F14): lwp_exit, once it has taken the LWP \
                      off the process and decremented p_nthreads (671), drops the LWP from p_nstopped if it was \
                      counted and, when the process is stopped and every LWP left is counted, tells the parent \
                      (P_WAITED cleared, wakeup) as tstop would have; and a PCATCH tsleep of an LWP of a stopped \
                      process that is not counted returns ERESTART at once (kern_synch.c), so the LWP reaches tstop. \
                      Otherwise a stop that an LWP completes by leaving, or by going to sleep after proc_stop, is \
                      never reported, and a parent waiting for it sleeps for ever",
        upstream: "none: proposed; FreeBSD's thread_exit calls thread_stopped, and its interruptible sleeps stop \
                   a thread of a stopping process (sleepq_catch_signals)",
        functions: &["lwp_exit"],
        lines: "669-672",
        switches: &[Switch::LwpExitCompletesStop, Switch::PcatchSleepStops],
    },
    VariantInfo {
        name: "fix:ttystop-pgtoken",
        description: "a tty stop cannot slip past the orphaning of its group (finding F15): lwpsignal, just \
                      before it stops the process for SIGTSTP, SIGTTIN or SIGTTOU, takes the group's pg_token \
                      and tests pg_jobc again, holding the token until p_stat is SSTOP; fixjobc holds the same \
                      token from its decrement through orphanpg's scan for stopped members, so either orphanpg \
                      sees the stop (and sends SIGHUP and SIGCONT) or the stop sees the group orphaned (and \
                      discards the signal). Otherwise a stop decided before exit1 orphans the group and made \
                      after orphanpg looked leaves the job stopped in an orphaned group for good",
        upstream: "none: proposed; FreeBSD serializes the two with the process lock, which orphanpg takes \
                   for each member",
        functions: &["exit1"],
        lines: "439",
        switches: &[Switch::TtyStopUnderPgToken],
    },
];

#[derive(Clone, Debug)]
pub struct Variant {
    pub info: &'static VariantInfo,
}

impl Default for Variant {
    fn default() -> Self {
        Variant { info: &VARIANTS[0] }
    }
}

impl Variant {
    pub fn by_name(name: &str) -> Option<Variant> {
        VARIANTS
            .iter()
            .find(|v| v.name == name)
            .map(|info| Variant { info })
    }
    pub fn name(&self) -> &'static str {
        self.info.name
    }
    pub(crate) fn has(&self, s: Switch) -> bool {
        self.info.switches.contains(&s)
    }
}
