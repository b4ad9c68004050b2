//! sys_exit, sys_extexit, killalllwps, killlwps, exit1 (kern_exit.c:111-583); lwp_exit is in
//! lwp_exit.rs.
//! (userret, the trap.c path a signalled LWP dies on, is in stubs.rs.)

use crate::at;
use crate::cx::Cx;
use crate::engine::{Access, Engine};
use crate::flags::*;
use crate::kernel::*;
use crate::prims::AOp;
use crate::race::{Data, Kind};
use crate::trace::*;
use crate::variant::Switch;

pub const INITPID: Pid = 1;

impl<'s, E: Engine> Cx<'s, E> {
    pub fn sys_exit(&self, rval: i32) -> KR<()> {
        const F: &str = "sys_exit";
        self.note(at!(114, "exit1"), What::Text(format!("exit({rval})")))?;
        self.exit1(w_exitcode(rval, 0))
    }

    /// Returns the error for the invalid-argument paths; never returns Ok(0) otherwise.
    pub fn sys_extexit(&self, how: u32, status: i32, addr_ok: bool) -> KR<i32> {
        const F: &str = "sys_extexit";
        let (_, p) = self.cur()?;
        let action = extexit_action(how);
        let who = extexit_who(how);
        self.note(
            at!(133, "switch (who)"),
            What::Text(format!("extexit(who {who:#x}, action {action})")),
        )?;
        if who != EXTEXIT_PROC && who != EXTEXIT_LWP {
            self.note(at!(138, "EINVAL"), What::Returns(EINVAL))?;
            return Ok(EINVAL);
        }
        match action {
            EXTEXIT_SIMPLE => {}
            EXTEXIT_SETINT => {
                if !addr_ok {
                    self.note(
                        at!(145, "copyout"),
                        What::Text("copyout: bad user address, EFAULT".into()),
                    )?;
                    self.note(at!(147, "return (error)"), What::Returns(EFAULT))?;
                    return Ok(EFAULT);
                }
                self.note(
                    at!(145, "copyout"),
                    What::Text(format!("copyout status {status} to user memory")),
                )?;
            }
            _ => {
                self.note(at!(150, "EINVAL"), What::Returns(EINVAL))?;
                return Ok(EINVAL);
            }
        }
        self.lwkt_gettoken(at!(153, "lwkt_gettoken"), Tok::Proc(p))?;
        if who == EXTEXIT_LWP {
            // Switched by fix:extexit-live-lwps.
            let another = if self.has(Switch::ExtexitLiveLwps) {
                self.another_live_lwp(p)?
            } else {
                *self.k()?.nthreads(self.me, p, at!(163, "p_nthreads"))? > 1
            };
            if another {
                return self.lwp_exit(false, None).map(|_| 0);
            }
        }
        self.lwkt_reltoken(at!(171, "lwkt_reltoken"), Tok::Proc(p))?;
        self.exit1(w_exitcode(status, 0)).map(|_| 0)
    }

    /// fix:extexit-live-lwps: instead of `p_nthreads > 1` (163), whether another LWP on
    /// `p_lwp_tree` has not begun to exit (LWP_MP_WEXIT, which lwp_exit sets at 607 under the
    /// same token before it may block). Caller holds p's token.
    fn another_live_lwp(&self, p: Pid) -> KR<bool> {
        const F: &str = "sys_extexit";
        let (me_lwp, _) = self.cur()?;
        let tree = self
            .k()?
            .lwp_tree(self.me, p, at!(163, "p_nthreads"))?
            .clone();
        for l in tree.into_iter().filter(|l| *l != me_lwp) {
            if self.load_bits(at!(163, "p_nthreads"), Field::LwpMpflags(l), LWP_MP_WEXIT)? == 0 {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Caller holds curproc's p_token. Returns EALREADY when another LWP is the master exiter.
    pub fn killalllwps(&self, forexec: bool) -> KR<i32> {
        const F: &str = "killalllwps";
        let (lp, p) = self.cur()?;
        // Switched by bug:no-ealready.
        let no_interlock = self.has(Switch::NoEalready);
        let flags = if no_interlock {
            0
        } else {
            self.load_bits(at!(200, "P_WEXIT"), Field::PFlags(p), P_WEXIT)?
        };
        if flags & P_WEXIT != 0 {
            self.note(at!(201, "EALREADY"), What::Returns(EALREADY))?;
            return Ok(EALREADY);
        }
        self.plain_set(at!(202, "P_WEXIT"), Field::PFlags(p), P_WEXIT)?;
        self.atomic_blind(
            at!(207, "atomic_set_int"),
            Field::LwpMpflags(lp),
            AOp::Set(LWP_MP_WEXIT),
        )?;
        let n = *self.k()?.nthreads(self.me, p, at!(208, "p_nthreads"))?;
        if n > 1 {
            self.killlwps(lp)?;
        }
        if forexec {
            self.atomic_blind(
                at!(217, "atomic_clear_int"),
                Field::LwpMpflags(lp),
                AOp::Clear(LWP_MP_WEXIT),
            )?;
            self.plain_clear(at!(218, "P_WEXIT"), Field::PFlags(p), P_WEXIT)?;
        }
        Ok(0)
    }

    pub(crate) fn killlwps(&self, lp: LwpId) -> KR<()> {
        const F: &str = "killlwps";
        let me = self.me;
        let p = self.k()?.lwps[lp].pid;
        // FOREACH_LWP_IN_PROC: RB_MIN, then RB_NEXT of the current node after the body.
        let site = at!(240, "FOREACH_LWP_IN_PROC");
        let mut cur = self.k()?.lwp_tree(me, p, site)?.first().copied();
        let (wexit_first, no_hold) = (
            // Switched by bug:wexit-before-signal.
            self.has(Switch::WexitBeforeSignal),
            // Switched by bug:killlwps-no-lwphold.
            self.has(Switch::KilllwpsNoLwphold),
        );
        while let Some(tlp) = cur {
            if !no_hold {
                self.lwphold(at!(241, "LWPHOLD"), tlp)?;
            }
            self.lwkt_gettoken(at!(242, "lwkt_gettoken"), Tok::Lwp(tlp))?;
            let mp = self.load_bits(
                at!(243, "LWP_MP_WEXIT"),
                Field::LwpMpflags(tlp),
                LWP_MP_WEXIT,
            )?;
            if mp & LWP_MP_WEXIT == 0 {
                let wexit = at!(245, "atomic_set_int");
                if wexit_first {
                    self.atomic_blind(wexit, Field::LwpMpflags(tlp), AOp::Set(LWP_MP_WEXIT))?;
                }
                self.lwpsignal_kill(at!(244, "lwpsignal"), tlp)?;
                if !wexit_first {
                    self.atomic_blind(wexit, Field::LwpMpflags(tlp), AOp::Set(LWP_MP_WEXIT))?;
                }
            }
            self.lwkt_reltoken(at!(247, "lwkt_reltoken"), Tok::Lwp(tlp))?;
            if !no_hold {
                self.lwprele(at!(248, "LWPRELE"), tlp)?;
            }
            let mut g = self.k()?;
            cur = match g.rb_next(me, p, tlp, site)? {
                Ok(next) => next,
                Err(_stale) => {
                    let msg = format!(
                        "RB_NEXT on {} after it left p_lwp_tree during the loop body",
                        g.lwp_label(tlp)
                    );
                    return Err(g.fail(Some(me), ViolationKind::ListCorruption, Some(site), msg));
                }
            };
        }
        let wait = at!(254, "p_nthreads");
        let sleep = at!(255, "tsleep");
        self.scoped_loop(wait, || {
            // The guard must be gone before the sleep: bind the count first.
            let n = *self.k()?.nthreads(me, p, wait)?;
            if n <= 1 {
                return Ok(Some(()));
            }
            self.tsleep(sleep, Ident::Nthreads(p), 0, "killlwps", false)
                .map(|_| None)
        })
    }

    /// Never returns normally: ends in lwp_exit (Err(ThreadGone)).
    pub(crate) fn exit1(&self, rv: i32) -> KR<()> {
        const F: &str = "exit1";
        let me = self.me;
        let (lp, p) = self.cur()?;
        // Local state (local.rs): exit1 never returns, so what its callers knew is dead; from
        // here each `noreturn` names every value still live.
        self.noreturn(at!(276, "lwkt_gettoken"), rv);
        self.lwkt_gettoken(at!(276, "lwkt_gettoken"), Tok::Proc(p))?;
        if p == INITPID {
            let mut g = self.k()?;
            let msg = format!(
                "init died (signal {}, exit {}): panic(\"Going nowhere without my init!\")",
                rv & 0o177,
                (rv >> 8) & 0xff
            );
            return Err(g.fail(
                Some(me),
                ViolationKind::InitExited,
                Some(at!(281, "panic")),
                msg,
            ));
        }
        let error = self.killalllwps(false)?;
        if error != 0 {
            return self.lwp_exit(false, None);
        }
        self.noreturn(at!(298, "p_leader"), rv);
        self.note(
            at!(298, "p_leader"),
            What::Note("task leader without peers: nothing to kill"),
        )?;
        let tty_pgrp = self.exit1_callouts(p, lp, rv)?;
        // callout_stop_sync, fdfree, semexit and vmspace_relexit (342-410) may each sleep,
        // and a sleep releases p_token. Between them exit1 changes nothing another actor here
        // reads, so one sleep stands for any of them.
        self.may_block(at!(354, "fdfree"))?;
        self.noreturn(at!(354, "fdfree"), ());
        // A session leader whose terminal is still its session's (411-423): SIGHUP to the
        // terminal's foreground group, then ttywait, which sleeps until the output drains.
        if let Some(g) = tty_pgrp {
            self.pgsignal(at!(420, "pgsignal"), g, SIGHUP, true)?;
            self.may_block(at!(421, "ttywait"))?;
            self.noreturn(at!(421, "ttywait"), ());
        }
        // 439: p leaves its group for job control; its children no longer qualify theirs.
        self.fixjobc_exit(at!(439, "fixjobc"), p)?;
        self.noreturn(at!(439, "fixjobc"), ());
        // acct_process writes the accounting record (a vnode write) and vrele may inactivate
        // the text vnode (440-455): either can sleep, after fixjobc has changed the group's
        // counts and before the zombie move. One sleep stands for both.
        self.may_block(at!(440, "acct_process"))?;
        self.noreturn(at!(440, "acct_process"), ());
        // bug:ppwait-late releases the vfork parent only after the zombie move.
        let ppwait_late = self.has(Switch::PpwaitLate);
        if !ppwait_late {
            self.release_vfork_parent(p)?;
        }
        // 475-487: the zombie move blocks until p_lock drains to 0 (PSTALL); waiters are
        // interlocked by p_waitgen, bumped only after the move. pp goes stale across the
        // block, so it is read again below.
        self.proc_move_allproc_zombie(at!(488, "proc_move_allproc_zombie"), p)?;
        if ppwait_late {
            self.release_vfork_parent(p)?;
        }
        let pp = self
            .k()?
            .pptr(me, p, at!(489, "p_pptr"))?
            .expect("zombie has a parent");
        self.atomic_blind(
            at!(490, "atomic_add_long"),
            Field::PWaitgen(pp),
            AOp::Add(1),
        )?;

        self.noreturn(at!(490, "atomic_add_long"), ());
        self.exit1_children_to_init(p)?;
        let pp = self.exit1_signal_parent(p)?;
        self.note(at!(569, "plimit_free"), What::Note("plimit_free: stub"))?;
        self.lwp_exit(true, Some(pp))
    }

    /// exit1 319-340: P_POSTEXIT, the exit status, the at_exit callouts, the signals cleared.
    /// Returns the terminal's foreground group when the process leads a session with one.
    fn exit1_callouts(&self, p: Pid, lp: LwpId, rv: i32) -> KR<Option<Pid>> {
        const F: &str = "exit1";
        let me = self.me;
        self.plain_set(at!(319, "P_POSTEXIT"), Field::PFlags(p), P_POSTEXIT)?;
        // fix:exit-list-lock: the walk holds the list's lock (proc_token shared here).
        let list_lock = self.has(Switch::ExitListLock);
        if list_lock {
            self.lwkt_gettoken_shared(at!(333, "TAILQ_FOREACH"), Tok::ProcList)?;
        }
        let (walked, tty_pgrp) = {
            let mut g = self.sp(&[Obj::ExitList, Obj::Sig(p)])?;
            g.need(me, Tok::Proc(p), "p_xstat", at!(326, "p_xstat"))?;
            let pr = g.proc(me, p, at!(326, "p_xstat"))?;
            pr.xstat = rv;
            // The session is the process's own and fixed here (SESS_LEADER, 411-412): read
            // now, so that a process without a session costs no step.
            let tty_pgrp = pr.tty_pgrp;
            g.race_access(me, at!(333, "TAILQ_FOREACH"), Data::ExitList, Kind::Read);
            let first = g.exit_list.first().copied();
            match first {
                // The entry exit1 now stands on is part of its local state.
                Some((entry, _)) => g.record(
                    me,
                    at!(333, "TAILQ_FOREACH"),
                    What::Text(format!("TAILQ_FIRST(&exit_list) = entry {entry}")),
                ),
                // No callout to run: the rest of the step is the signals' (339-340).
                None if !list_lock => clear_signals(&mut g, me, p, lp)?,
                None => {}
            }
            (first, tty_pgrp)
        };
        // TAILQ_FOREACH with no lock (333-334): each callout and each step to the next entry
        // reads an entry rm_at_exit may have freed meanwhile (finding F8).
        if let Some(first) = walked {
            self.exit_callouts(first)?;
        }
        if list_lock {
            self.lwkt_reltoken(at!(334, "function"), Tok::ProcList)?;
        }
        if walked.is_some() || list_lock {
            let mut g = self.sp(&[Obj::Sig(p)])?;
            clear_signals(&mut g, me, p, lp)?;
        }
        Ok(tty_pgrp)
    }

    /// exit1 499-527: every child is handed to init, a traced one untraced and killed; init
    /// is woken.
    fn exit1_children_to_init(&self, p: Pid) -> KR<()> {
        const F: &str = "exit1";
        let me = self.me;
        let first = self
            .k()?
            .children(me, p, at!(499, "LIST_FIRST"))?
            .first()
            .copied();
        // Switched by bug:init-no-token.
        let init_token = !self.has(Switch::InitNoToken);
        if first.is_some() {
            if init_token {
                self.lwkt_gettoken(at!(501, "lwkt_gettoken"), Tok::Proc(INITPID))?;
            }
            loop {
                self.noreturn(at!(502, "LIST_FIRST"), ());
                let Some(q) = self
                    .k()?
                    .children(me, p, at!(502, "LIST_FIRST"))?
                    .first()
                    .copied()
                else {
                    break;
                };
                self.phold(at!(503, "PHOLD"), q)?;
                self.lwkt_gettoken(at!(504, "lwkt_gettoken"), Tok::Proc(q))?;
                if self.k()?.children(me, p, at!(505, "LIST_FIRST"))?.first() != Some(&q) {
                    self.lwkt_reltoken(at!(506, "lwkt_reltoken"), Tok::Proc(q))?;
                    self.prele(at!(507, "PRELE"), q)?;
                    continue;
                }
                {
                    let mut g = self.k()?;
                    g.children(me, p, at!(510, "LIST_REMOVE"))?
                        .retain(|c| *c != q);
                    g.children(me, INITPID, at!(511, "LIST_INSERT_HEAD"))?
                        .insert(0, q);
                    *g.pptr(me, q, at!(512, "p_pptr"))? = Some(INITPID);
                    g.proc(me, q, at!(513, "p_sigparent"))?.sigparent = SIGCHLD;
                    g.record(
                        me,
                        at!(512, "initproc"),
                        What::Text(format!("pid {q} moved to init's p_children")),
                    );
                }
                let qf = self.load_bits(at!(519, "P_TRACED"), Field::PFlags(q), P_TRACED)?;
                if qf & P_TRACED != 0 {
                    self.plain_clear(at!(520, "P_TRACED"), Field::PFlags(q), P_TRACED)?;
                    // fix:oppid-report-once: no longer traced, nobody to hand it back to.
                    if self.has(Switch::ExitClearsOppid) {
                        self.k()?.proc(me, q, at!(520, "P_TRACED"))?.oppid = 0;
                    }
                    // fix:untrace-unstops: a child stopped for its tracer is set running.
                    if self.has(Switch::UntraceUnstops)
                        && self.load(at!(520, "P_TRACED"), Field::PStat(q))? == SSTOP
                    {
                        self.proc_unstop(at!(520, "P_TRACED"), q)?;
                    }
                    let _nothing_more = self.ksignal(at!(521, "ksignal"), q, SIGKILL)?;
                }
                self.lwkt_reltoken(at!(523, "lwkt_reltoken"), Tok::Proc(q))?;
                self.prele(at!(524, "PRELE"), q)?;
            }
            if init_token {
                self.lwkt_reltoken(at!(526, "lwkt_reltoken"), Tok::Proc(INITPID))?;
            }
            self.wakeup(at!(527, "wakeup"), Ident::Proc(INITPID))?;
        }
        Ok(())
    }

    /// exit1 549-561: to init when the parent ignores its children's exits, then SIGCHLD (or
    /// p_sigparent) to the parent. Returns the parent.
    fn exit1_signal_parent(&self, p: Pid) -> KR<Pid> {
        const F: &str = "exit1";
        let me = self.me;
        self.noreturn(at!(549, "p_pptr"), ());
        let pp = self
            .k()?
            .pptr(me, p, at!(549, "p_pptr"))?
            .expect("zombie has a parent");
        // The parent's dispositions, read without its token: a step of its own.
        let ps_flag = {
            let site = at!(549, "ps_flag");
            let mut g = self.sp_as(&[Obj::Sigacts(pp)], Access::Read)?;
            g.race_access(me, site, Data::Sigacts(pp), Kind::Read);
            let ps_flag = g.proc(me, pp, site)?.ps_flag & (PS_NOCLDWAIT | PS_CLDSIGIGN);
            let seen = if ps_flag != 0 { "set" } else { "clear" };
            let text = format!("pid {pp}'s PS_NOCLDWAIT|PS_CLDSIGIGN: {seen}");
            g.record(me, site, What::Text(text));
            ps_flag
        };
        if ps_flag & (PS_NOCLDWAIT | PS_CLDSIGIGN) != 0 {
            self.proc_reparent(at!(550, "proc_reparent"), p, INITPID)?;
        }
        let (pp, sigparent) = {
            let mut g = self.k()?;
            let pp = g
                .pptr(me, p, at!(553, "p_pptr"))?
                .expect("zombie has a parent");
            (pp, g.proc(me, p, at!(555, "p_sigparent"))?.sigparent)
        };
        self.phold(at!(554, "PHOLD"), pp)?;
        // Switched by bug:wait-waker-no-token.
        let locked = !self.has(Switch::WaitWakerNoToken);
        // A p_sigparent whose default action stops or continues the parent is not modeled
        // (docs/model.md): only SIGCHLD and the signals that kill or are ignored.
        if sigparent != 0 && pp != INITPID {
            let _ = self.ksignal_as(at!(556, "ksignal"), pp, sigparent, locked)?;
        } else {
            let _ = self.ksignal_as(at!(558, "ksignal"), pp, SIGCHLD, locked)?;
        }
        self.noreturn(at!(560, "P_TRACED"), pp);
        self.plain_clear(at!(560, "P_TRACED"), Field::PFlags(p), P_TRACED)?;
        self.prele(at!(561, "PRELE"), pp)?;
        Ok(pp)
    }

    /// kern_exit.c:468-473: a vfork child wakes its parent, which holds it (PHOLD) until
    /// P_PPWAIT clears; this must happen before the zombie move's PSTALL.
    fn release_vfork_parent(&self, p: Pid) -> KR<()> {
        const F: &str = "exit1";
        let me = self.me;
        let flags = self.load_bits(at!(468, "P_PPWAIT"), Field::PFlags(p), P_PPWAIT)?;
        if flags & P_PPWAIT != 0 {
            // Switched by bug:ppwait-plain-store.
            if self.has(Switch::PpwaitPlainStore) {
                self.plain_clear(at!(471, "P_PPWAIT"), Field::PFlags(p), P_PPWAIT)?;
            } else {
                self.atomic_blind(
                    at!(471, "atomic_clear_int"),
                    Field::PFlags(p),
                    AOp::Clear(P_PPWAIT),
                )?;
            }
            let pp = self
                .k()?
                .pptr(me, p, at!(472, "p_pptr"))?
                .expect("live child has a parent");
            // fix:ppwait-wake-child: the vfork parent sleeps on the child, which a tracer's
            // attach does not change (p_pptr does).
            let ident = if self.has(Switch::PpwaitWakeChild) {
                Ident::Proc(p)
            } else {
                Ident::Proc(pp)
            };
            self.wakeup(at!(472, "wakeup"), ident)?;
        }
        Ok(())
    }
}

/// SIGEMPTYSET of the process's and the LWP's pending signals (339-340), and the stubs up to
/// fdfree (354).
fn clear_signals(g: &mut Kernel, me: crate::engine::ActorId, p: Pid, lp: LwpId) -> KR<()> {
    const F: &str = "exit1";
    let pr = g.proc(me, p, at!(339, "SIGEMPTYSET"))?;
    pr.killed = false;
    pr.fatal = 0;
    pr.caught = 0;
    pr.tsig = 0;
    pr.sigchld = false;
    g.lwp(me, lp, at!(340, "SIGEMPTYSET"))?.sigkill = false;
    g.record(
        me,
        at!(354, "fdfree"),
        What::Note("fdfree, semexit, vmspace_relexit, acct: stubs (see docs/model.md)"),
    );
    Ok(())
}
