//! kern_wait's reaping of a zombie child (kern_exit.c:902-1045), with the hold helpers it
//! uses: the part of kern_wait between finding a zombie and freeing it.

use super::wait::{Next, WaitOut, WaitVariants};
use crate::at;
use crate::cx::Cx;
use crate::engine::Engine;
use crate::flags::*;
use crate::kernel::*;
use crate::trace::*;

impl<'s, E: Engine> Cx<'s, E> {
    /// kern_wait 902-1045: child `p` of `q` is a zombie: hold it (PHOLDZOMB), wait for its
    /// last threads, reap its LWPs, report its status, and free it, or hand it back to the
    /// tracer that was its original parent (971-980).
    pub(super) fn wait_reap_zombie(
        &self,
        q: Pid,
        pid: i32,
        p: Pid,
        v: &WaitVariants,
        out: &mut WaitOut,
    ) -> KR<Next> {
        const F: &str = "kern_wait";
        let me = self.me;
        let WaitVariants {
            plain_hold,
            filter_hold,
            no_pptr_recheck,
            recheck_pptr,
            keeps,
            oppid_not_parent,
            ..
        } = *v;
        let zt = keeps as u64;
        // 903-917: only kern_wait takes a process off the zombie list; PHOLDZOMB serializes
        // the waiters (interlocked by q's p_token) and loops if it blocks. When it returns
        // non-zero, p may already be freed: nothing here touches it then.
        if filter_hold {
            self.phold(at!(918, "PHOLDZOMB"), p)?;
        }
        if self.zomb_hold(at!(918, "PHOLDZOMB"), p, plain_hold)? {
            if filter_hold {
                self.prele(at!(918, "PHOLDZOMB"), p)?;
            }
            return Ok(Next::Restart);
        }
        self.lwkt_gettoken(at!(920, "lwkt_gettoken"), Tok::Proc(p))?;
        if !no_pptr_recheck && *self.k()?.pptr(me, p, at!(921, "p_pptr"))? != Some(q) {
            self.abandon_zombie(p, plain_hold, filter_hold)?;
            return Ok(Next::Restart);
        }
        while {
            self.restart(at!(926, "p_nthreads"), (pid, p));
            *self.k()?.nthreads(me, p, at!(926, "p_nthreads"))? > 0
        } {
            self.tsleep(at!(927, "tsleep"), Ident::Nthreads(p), 0, "lwpzomb", true)?;
            if recheck_pptr && *self.k()?.pptr(me, p, at!(921, "p_pptr"))? != Some(q) {
                self.abandon_zombie(p, plain_hold, filter_hold)?;
                return Ok(Next::Restart);
            }
        }
        loop {
            let lp = {
                let mut g = self.k()?;
                let site = at!(939, "RB_ROOT");
                let Some(&lp) = g.lwp_tree(me, p, site)?.first() else {
                    break;
                };
                g.remove_lwp(me, p, lp, site)?;
                lp
            };
            self.reaplwp(lp)?;
        }
        {
            let mut g = self.k()?;
            let n = *g.nthreads(me, p, at!(943, "KKASSERT"))?;
            g.kkassert(me, n == 0, at!(943, "KKASSERT"), "p->p_nthreads == 0")?;
        }
        if !keeps || filter_hold {
            self.prele(at!(956, "PRELE"), p)?;
        }
        self.pstall(at!(957, "PSTALL"), p, "reap3", zt)?;
        let (xstat, oppid) = {
            let mut g = self.k()?;
            let pr = g.proc(me, p, at!(963, "p_xstat"))?;
            let read = (pr.xstat, pr.oppid);
            Self::record_report(&mut g, me, q, p)?;
            read
        };
        out.res = Some(p as i32);
        out.status = Some(xstat);
        out.rusage = Some(1);
        self.note(
            at!(960, "p_pid"),
            What::Text(format!(
                "reports pid {p}: status {xstat:#x} ({})",
                decode_status(xstat)
            )),
        )?;
        // fix:oppid-report-once: a tracer that is the old parent keeps its child.
        let give_back = oppid != 0 && !(oppid_not_parent && oppid == q);
        if give_back {
            if let Some(t) = self.pfind(at!(971, "pfind"), oppid)? {
                if !keeps {
                    self.phold(at!(972, "PHOLD"), p)?;
                }
                self.k()?.proc(me, p, at!(973, "p_oppid"))?.oppid = 0;
                self.proc_reparent(at!(974, "proc_reparent"), p, t)?;
                let _ = self.ksignal(at!(975, "ksignal"), t, SIGCHLD)?;
                self.wakeup(at!(976, "wakeup"), Ident::Proc(t))?;
                self.prele(at!(978, "PRELE"), t)?;
                self.lwkt_reltoken(at!(979, "lwkt_reltoken"), Tok::Proc(p))?;
                self.zomb_rele(at!(980, "PRELEZOMB"), p, plain_hold)?;
                return Ok(Next::Return(0));
            }
        }
        self.wait_free_zombie(q, p, xstat, v)?;
        Ok(Next::Return(0))
    }

    /// kern_wait 990-1045: the reported zombie leaves the lists and its process group, waits
    /// out the last holders (PSTALL), and is freed.
    fn wait_free_zombie(&self, q: Pid, p: Pid, xstat: i32, v: &WaitVariants) -> KR<()> {
        const F: &str = "kern_wait";
        let me = self.me;
        let WaitVariants {
            plain_hold,
            keeps,
            reap_stall,
            ..
        } = *v;
        let zt = keeps as u64;
        self.proc_remove_zombie(at!(990, "proc_remove_zombie"), p)?;
        // Tearing down the user mappings (vm_map, pmap) may sleep.
        self.may_block(at!(991, "proc_userunmap"))?;
        self.lwkt_reltoken(at!(992, "lwkt_reltoken"), Tok::Proc(p))?;
        self.leavepgrp(at!(993, "leavepgrp"), p)?;
        self.k()?.proc(me, p, at!(995, "p_xstat"))?.xstat = 0;
        self.note(
            at!(1001, "chgproccnt"),
            What::Note("chgproccnt, crfree, p_args, p_sigacts: stubs"),
        )?;
        if reap_stall {
            self.pstall(at!(1034, "PSTALL"), p, "reap4", zt)?;
        }
        // Tearing down the vmspace may sleep, which releases q's p_token.
        self.may_block(at!(1035, "vmspace_exitfree"))?;
        if reap_stall {
            self.pstall(at!(1036, "PSTALL"), p, "reap5", zt)?;
        }
        if !keeps {
            self.phold(at!(1043, "PHOLD"), p)?;
        }
        // 1038-1042: ZOMB is released officially so that a racing kern_wait blocked on it
        // wakes up.
        self.zomb_rele(at!(1044, "PRELEZOMB"), p, plain_hold)?;
        self.record_reap(q, p, xstat)?;
        {
            let mut g = self.sp(&free_objs(p))?;
            g.proc(me, p, at!(1045, "kfree"))?.freed = true;
            g.record(
                me,
                at!(1045, "kfree"),
                What::Freed("struct proc of pid", p as usize),
            );
        }
        Ok(())
    }

    /// Give the zombie up after a p_pptr re-check fails (922-923).
    fn abandon_zombie(&self, p: Pid, plain_hold: bool, filter_hold: bool) -> KR<()> {
        const F: &str = "kern_wait";
        self.lwkt_reltoken(at!(922, "lwkt_reltoken"), Tok::Proc(p))?;
        if filter_hold {
            self.prele(at!(923, "PRELEZOMB"), p)?;
        }
        self.zomb_rele(at!(923, "PRELEZOMB"), p, plain_hold)
    }

    /// PHOLDZOMB, or a plain PHOLD in bug:no-pholdzomb.
    fn zomb_hold(&self, site: &'static crate::site::Site, p: Pid, plain: bool) -> KR<bool> {
        if plain {
            self.phold(site, p)?;
            return Ok(false);
        }
        self.pholdzomb(site, p)
    }

    fn zomb_rele(&self, site: &'static crate::site::Site, p: Pid, plain: bool) -> KR<()> {
        if plain {
            return self.prele(site, p);
        }
        self.prelezomb(site, p)
    }

    fn record_reap(&self, q: Pid, p: Pid, status: i32) -> KR<()> {
        let mut g = self.k()?;
        if let Some(prev) = g.reaps.iter().find(|r| r.child == p) {
            let msg = format!(
                "pid {p} reaped twice: first by pid {} (status {:?}), again by pid {q} (status {status:#x})",
                prev.waiter, prev.status
            );
            return Err(g.fail(Some(self.me), ViolationKind::DoubleReap, None, msg));
        }
        g.reaps.push(Reap {
            waiter: q,
            child: p,
            status: Some(status),
        });
        Ok(())
    }
}

/// Everything a use of the process could touch: freeing it conflicts with all of them.
fn free_objs(p: Pid) -> [Obj; 7] {
    [
        Obj::Tok(Tok::Proc(p)),
        Obj::Sig(p),
        Obj::Sigacts(p),
        Obj::Word(Field::PFlags(p)),
        Obj::Word(Field::PStat(p)),
        Obj::Word(Field::PWaitgen(p)),
        Obj::Word(Field::PLock(p)),
    ]
}
