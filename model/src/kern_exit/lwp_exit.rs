//! lwp_exit (kern_exit.c:584-703): an LWP's last steps, from leaving p_lwp_tree to its final
//! switch-out.

use crate::at;
use crate::cx::Cx;
use crate::engine::{Access, Engine};
use crate::flags::*;
use crate::kernel::*;
use crate::prims::AOp;
use crate::trace::*;
use crate::variant::Switch;

impl<'s, E: Engine> Cx<'s, E> {
    /// Called with p_token held; never returns normally (Err(ThreadGone)).
    pub(crate) fn lwp_exit(&self, masterexit: bool, waddr: Option<Pid>) -> KR<()> {
        const F: &str = "lwp_exit";
        let me = self.me;
        let (lp, p) = self.cur()?;
        self.noreturn(at!(600, "release_curproc"), (masterexit, waddr));
        {
            let mut g = self.k()?;
            g.record(
                me,
                at!(600, "release_curproc"),
                What::Text(format!("lwp_exit(masterexit={})", masterexit as u8)),
            );
            g.need(
                me,
                Tok::Proc(p),
                "p_token",
                at!(606, "ASSERT_LWKT_TOKEN_HELD"),
            )?;
        }
        self.atomic_blind(
            at!(607, "atomic_set_int"),
            Field::LwpMpflags(lp),
            AOp::Set(LWP_MP_WEXIT),
        )?;
        self.note(
            at!(621, "kqueue_terminate"),
            What::Note("vkernel, vmm, kqueue, ucred cleanup: stubs"),
        )?;
        // Taking the LWP's knotes off their queues may sleep, which releases p_token.
        self.may_block(at!(621, "kqueue_terminate"))?;
        self.wait_for_lwp_holders(lp)?;
        self.noreturn(at!(635, "lwp_lock"), (masterexit, waddr));
        // bug:lwp-no-proc-hold drops this PHOLD.
        if !self.has(Switch::LwpNoProcHold) {
            self.phold(at!(646, "PHOLD"), p)?;
        }
        // The disk scheduler's per-thread teardown may sleep (dsched_thread_ctx_destroy's
        // lockmgr), which lets a scan LWPHOLD this LWP again after the poll at 635 (F12).
        self.may_block(at!(653, "dsched_exit_thread"))?;
        // fix:lwp-exit-repoll waits out such holders again before the LWP leaves the tree.
        if self.has(Switch::LwpExitRepoll) {
            self.wait_for_lwp_holders(lp)?;
        }
        let dowake;
        // 656-666: every LWP but the master's goes to the per-cpu reaper; the master's stays on
        // p_lwps for kern_wait. The process stays held until the reaper disposes of the LWP.
        if !masterexit {
            let cpu = self.k()?.lwps[lp].cpu;
            {
                let mut g = self.k()?;
                g.remove_lwp(me, p, lp, at!(670, "lwp_rb_tree_RB_REMOVE"))?;
                let n = g.nthreads(me, p, at!(671, "p_nthreads"))?;
                *n -= 1;
                let n = *n;
                g.record(
                    me,
                    at!(671, "p_nthreads"),
                    What::Text(format!("off p_lwp_tree; p_nthreads -> {n}")),
                );
            }
            // fix:stop-completes: the stop this LWP may complete by leaving is reported.
            if self.has(Switch::LwpExitCompletesStop) {
                self.lwp_exit_completes_stop(at!(671, "p_nthreads"), p, lp)?;
            }
            let flags = self.load_bits(
                at!(672, "P_MAYBETHREADED"),
                Field::PFlags(p),
                P_MAYBETHREADED,
            )?;
            dowake = flags & P_MAYBETHREADED != 0
                && *self.k()?.nthreads(me, p, at!(672, "p_nthreads"))? <= 1;
            self.lwkt_gettoken(at!(674, "lwkt_gettoken"), Tok::Deadlwp(cpu))?;
            {
                let mut g = self.k()?;
                g.deadlwps(me, cpu, at!(675, "LIST_INSERT_HEAD"))?
                    .insert(0, lp);
                g.record(
                    me,
                    at!(675, "deadlwp_list"),
                    What::Text(format!("queued on deadlwp_list[cpu{cpu}]")),
                );
            }
            self.taskqueue_enqueue(at!(676, "taskqueue_enqueue"), cpu)?;
            self.lwkt_reltoken(at!(677, "lwkt_reltoken"), Tok::Deadlwp(cpu))?;
        } else {
            {
                let mut g = self.k()?;
                let n = g.nthreads(me, p, at!(679, "p_nthreads"))?;
                *n -= 1;
                let n = *n;
                g.record(
                    me,
                    at!(679, "p_nthreads"),
                    What::Text(format!("p_nthreads -> {n}")),
                );
            }
            let flags = self.load_bits(
                at!(680, "P_MAYBETHREADED"),
                Field::PFlags(p),
                P_MAYBETHREADED,
            )?;
            dowake = flags & P_MAYBETHREADED != 0
                && *self.k()?.nthreads(me, p, at!(680, "p_nthreads"))? <= 1;
        }
        self.noreturn(at!(689, "lwkt_reltoken"), (dowake, waddr));
        self.lwkt_reltoken(at!(689, "lwkt_reltoken"), Tok::Proc(p))?;
        // p->p_usched->heuristic_exiting(lp, p) reads struct proc without p_token: only the
        // PHOLD of 646 keeps a non-master LWP's process from being reaped and freed here.
        {
            let mut g = self.sp_as(&[Obj::Word(Field::PStat(p))], Access::Read)?;
            let site = at!(690, "heuristic_exiting");
            g.proc(me, p, site)?;
            g.record(
                me,
                site,
                What::Note("p->p_usched->heuristic_exiting(lp, p)"),
            );
        }
        // 692-695: the wakeups come late, after p_token is released, so this LWP can switch
        // away before a waiter on another cpu reaps it.
        if dowake {
            self.wakeup(at!(698, "wakeup"), Ident::Nthreads(p))?;
        }
        if let Some(w) = waddr {
            self.wakeup(at!(700, "wakeup"), Ident::Proc(w))?;
        }
        self.cpu_lwp_exit(at!(702, "cpu_lwp_exit"), lp)
    }

    /// 635-636: nobody wakes the exiting LWP when the last LWPHOLD goes, so it polls
    /// `lwp_lock` with one-tick sleeps (each releases p_token).
    fn wait_for_lwp_holders(&self, lp: LwpId) -> KR<()> {
        const F: &str = "lwp_exit";
        let poll = at!(635, "lwp_lock");
        self.scoped_loop(poll, || match self.load(poll, Field::LwpLock(lp))? {
            0 => Ok(Some(())),
            _ => self
                .tsleep(at!(636, "tsleep"), Ident::Lwp(lp), 0, "lwpexit", true)
                .map(|_| None),
        })
    }
}
