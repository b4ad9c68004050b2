//! sys_wait4 and kern_wait (kern_exit.c:810-1134).

use crate::at;
use crate::cx::Cx;
use crate::engine::Engine;
use crate::flags::*;
use crate::kernel::*;
use crate::prims::AOp;
use crate::trace::*;
use crate::variant::Switch;

/// What kern_wait wrote through its pointer arguments (None: never written).
#[derive(Clone, Copy, Debug, Default, Hash)]
pub struct WaitOut {
    pub res: Option<i32>,
    pub status: Option<i32>,
    pub rusage: Option<u64>,
}

/// What sys_wait4 returned to user space.
#[derive(Clone, Copy, Debug)]
pub struct Wait4Result {
    pub error: i32,
    pub pid: i32,
    pub status: Option<i32>,
}

impl<'s, E: Engine> Cx<'s, E> {
    pub fn sys_wait4(&self, pid: i32, options: u32, want_rusage: bool) -> KR<Wait4Result> {
        const F: &str = "sys_wait4";
        let init = self.has(Switch::Wait4InitStatus);
        let mut out = WaitOut::default();
        if init {
            out.status = Some(0);
            out.rusage = Some(0);
        }
        let error = self.kern_wait(pid, options, &mut out)?;
        let mut copied = None;
        if error == 0 {
            let Some(st) = out.status else {
                let mut g = self.k()?;
                let msg = "copyout(&status) of sys_wait4's local `status`, which kern_wait never wrote on this \
                           path: user space receives uninitialized kernel stack"
                    .to_string();
                return Err(g.fail(
                    Some(self.me),
                    ViolationKind::CopyoutUnwritten,
                    Some(at!(820, "copyout")),
                    msg,
                ));
            };
            copied = Some(st);
            self.note(
                at!(820, "copyout"),
                What::Text(format!("copyout status {st:#x} ({})", decode_status(st))),
            )?;
            if want_rusage && out.rusage.is_none() {
                let mut g = self.k()?;
                let msg = "copyout(&rusage) of a struct rusage kern_wait never wrote on this path"
                    .to_string();
                return Err(g.fail(
                    Some(self.me),
                    ViolationKind::CopyoutUnwritten,
                    Some(at!(822, "copyout")),
                    msg,
                ));
            }
        }
        Ok(Wait4Result {
            error,
            pid: out.res.unwrap_or(-1),
            status: copied,
        })
    }

    /// kern_wait in a local-state scope of its own: its caller learns the error and what was
    /// written through the pointers, nothing of how the scan went.
    pub fn kern_wait(&self, pid: i32, options: u32, out: &mut WaitOut) -> KR<i32> {
        const F: &str = "kern_wait";
        let entry = *out;
        let (error, written) = self.scope(at!(832, "kern_wait"), (pid, options, entry), || {
            let mut written = entry;
            let error = self.kern_wait_body(pid, options, &mut written)?;
            Ok((error, written))
        })?;
        *out = written;
        Ok(error)
    }

    fn kern_wait_body(&self, mut pid: i32, options: u32, out: &mut WaitOut) -> KR<i32> {
        const F: &str = "kern_wait";
        let me = self.me;
        let (_, q) = self.cur()?;
        if pid == 0 {
            pid = -(self.k()?.procs[&q].pgid as i32);
        }
        if options & !(WUNTRACED | WNOHANG | WCONTINUED | WLINUXCLONE) != 0 {
            self.note(at!(846, "EINVAL"), What::Returns(EINVAL))?;
            return Ok(EINVAL);
        }
        let unlocked_sleep = self.has(Switch::WaitUnlockedSleep);
        let no_recheck = self.has(Switch::NoWaitgenRecheck);
        let recheck_pptr = self.has(Switch::WaitRecheckPptr);
        let plain_hold = self.has(Switch::NoPholdzomb);
        let no_pptr_recheck = self.has(Switch::NoPptrRecheck);
        let filter_hold = self.has(Switch::WaitFilterHold);
        // With ZombKeepsHold the ZOMB interlock keeps one count until PRELEZOMB.
        let keeps = self.has(Switch::ZombKeepsHold);
        let zt = keeps as u64;
        let reap_stall = !self.has(Switch::NoReapStall);
        let oppid_not_parent = self.has(Switch::OppidNotParent);
        self.lwkt_gettoken(at!(851, "lwkt_gettoken"), Tok::Proc(q))?;
        let error = 'top: loop {
            // Live at the head of the scan: the arguments (the scope's key) and `pid`.
            self.restart(at!(852, "loop"), pid);
            let mut nfound = 0;
            let mut waitgen = self.waitgen_snapshot(at!(881, "atomic_fetchadd_long"), q)?;
            let mut idx = 0;
            loop {
                self.restart(at!(882, "LIST_FOREACH"), (pid, waitgen, idx, nfound));
                let p = {
                    let mut g = self.k()?;
                    let kids = g.children(me, q, at!(882, "LIST_FOREACH"))?;
                    let Some(&p) = kids.get(idx) else { break };
                    idx += 1;
                    let pr = g.proc(me, p, at!(883, "WAIT_ANY"))?;
                    if pid != WAIT_ANY && pr.pid as i32 != pid && pr.pgid as i32 != -pid {
                        continue;
                    }
                    if (pr.sigparent != SIGCHLD) ^ (options & WLINUXCLONE != 0) {
                        continue;
                    }
                    p
                };
                nfound += 1;
                if self.load(at!(902, "SZOMB"), Field::PStat(p))? == SZOMB {
                    if filter_hold {
                        self.phold(at!(918, "PHOLDZOMB"), p)?;
                    }
                    if self.zomb_hold(at!(918, "PHOLDZOMB"), p, plain_hold)? {
                        if filter_hold {
                            self.prele(at!(918, "PHOLDZOMB"), p)?;
                        }
                        continue 'top;
                    }
                    self.lwkt_gettoken(at!(920, "lwkt_gettoken"), Tok::Proc(p))?;
                    if !no_pptr_recheck && *self.k()?.pptr(me, p, at!(921, "p_pptr"))? != Some(q) {
                        self.abandon_zombie(p, plain_hold, filter_hold)?;
                        continue 'top;
                    }
                    while {
                        self.restart(at!(926, "p_nthreads"), (pid, p));
                        *self.k()?.nthreads(me, p, at!(926, "p_nthreads"))? > 0
                    } {
                        self.tsleep(at!(927, "tsleep"), Ident::Nthreads(p), 0, "lwpzomb", true)?;
                        if recheck_pptr && *self.k()?.pptr(me, p, at!(921, "p_pptr"))? != Some(q) {
                            self.abandon_zombie(p, plain_hold, filter_hold)?;
                            continue 'top;
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
                            break 'top 0;
                        }
                    }
                    self.proc_remove_zombie(at!(990, "proc_remove_zombie"), p)?;
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
                    break 'top 0;
                }
                let (stat, flags) = {
                    let st = self.load(at!(1050, "SSTOP"), Field::PStat(p))?;
                    let bits = P_WAITED | P_TRACED | P_CONTINUED;
                    (
                        st,
                        self.load_bits(at!(1050, "P_WAITED"), Field::PFlags(p), bits)?,
                    )
                };
                if stat == SSTOP
                    && flags & P_WAITED == 0
                    && (flags & P_TRACED != 0 || options & WUNTRACED != 0)
                {
                    self.phold(at!(1052, "PHOLD"), p)?;
                    self.lwkt_gettoken(at!(1053, "lwkt_gettoken"), Tok::Proc(p))?;
                    if *self.k()?.pptr(me, p, at!(1054, "p_pptr"))? != Some(q) {
                        self.lwkt_reltoken(at!(1055, "lwkt_reltoken"), Tok::Proc(p))?;
                        self.prele(at!(1056, "PRELE"), p)?;
                        continue 'top;
                    }
                    let st = self.load(at!(1059, "SSTOP"), Field::PStat(p))?;
                    let fl = self.load_bits(
                        at!(1060, "P_WAITED"),
                        Field::PFlags(p),
                        P_WAITED | P_TRACED,
                    )?;
                    if st != SSTOP
                        || fl & P_WAITED != 0
                        || (fl & P_TRACED == 0 && options & WUNTRACED == 0)
                    {
                        self.lwkt_reltoken(at!(1063, "lwkt_reltoken"), Tok::Proc(p))?;
                        self.prele(at!(1064, "PRELE"), p)?;
                        continue 'top;
                    }
                    self.plain_set(at!(1068, "P_WAITED"), Field::PFlags(p), P_WAITED)?;
                    let xstat = self.k()?.proc(me, p, at!(1072, "W_STOPCODE"))?.xstat;
                    out.res = Some(p as i32);
                    out.status = Some(w_stopcode(xstat));
                    out.rusage = Some(0);
                    self.lwkt_reltoken(at!(1077, "lwkt_reltoken"), Tok::Proc(p))?;
                    self.prele(at!(1078, "PRELE"), p)?;
                    break 'top 0;
                }
                if options & WCONTINUED != 0 && flags & P_CONTINUED != 0 {
                    self.phold(at!(1082, "PHOLD"), p)?;
                    self.lwkt_gettoken(at!(1083, "lwkt_gettoken"), Tok::Proc(p))?;
                    if *self.k()?.pptr(me, p, at!(1084, "p_pptr"))? != Some(q) {
                        self.lwkt_reltoken(at!(1085, "lwkt_reltoken"), Tok::Proc(p))?;
                        self.prele(at!(1086, "PRELE"), p)?;
                        continue 'top;
                    }
                    if self.load_bits(at!(1089, "P_CONTINUED"), Field::PFlags(p), P_CONTINUED)? == 0
                    {
                        self.lwkt_reltoken(at!(1090, "lwkt_reltoken"), Tok::Proc(p))?;
                        self.prele(at!(1091, "PRELE"), p)?;
                        continue 'top;
                    }
                    out.res = Some(p as i32);
                    self.plain_clear(at!(1096, "P_CONTINUED"), Field::PFlags(p), P_CONTINUED)?;
                    out.status = Some(SIGCONT);
                    self.lwkt_reltoken(at!(1101, "lwkt_reltoken"), Tok::Proc(p))?;
                    self.prele(at!(1102, "PRELE"), p)?;
                    break 'top 0;
                }
            }
            if nfound == 0 {
                self.note(at!(1107, "ECHILD"), What::Returns(ECHILD))?;
                break 'top ECHILD;
            }
            if options & WNOHANG != 0 {
                out.res = Some(0);
                self.note(at!(1111, "*res = 0"), What::Returns(0))?;
                break 'top 0;
            }
            if unlocked_sleep {
                self.lwkt_reltoken(at!(1117, "Wait for signal"), Tok::Proc(q))?;
            }
            let mut error = 0;
            loop {
                self.restart(at!(1120, "p_waitgen"), (pid, waitgen));
                let cur =
                    self.load_bits(at!(1120, "p_waitgen"), Field::PWaitgen(q), WAITGEN_MASK)?;
                if waitgen & 0x7FFF_FFFF != cur & 0x7FFF_FFFF {
                    break;
                }
                self.tsleep_interlock(at!(1121, "tsleep_interlock"), Ident::Proc(q), PCATCH)?;
                let recheck = if no_recheck {
                    true
                } else {
                    waitgen = self.waitgen_snapshot(at!(1122, "atomic_fetchadd_long"), q)?;
                    let cur =
                        self.load_bits(at!(1123, "p_waitgen"), Field::PWaitgen(q), WAITGEN_MASK)?;
                    waitgen & 0x7FFF_FFFF == cur & 0x7FFF_FFFF
                };
                if recheck {
                    error = self.tsleep(
                        at!(1124, "tsleep"),
                        Ident::Proc(q),
                        PCATCH | PINTERLOCKED,
                        "wait",
                        false,
                    )?;
                    break;
                }
            }
            if unlocked_sleep {
                self.lwkt_gettoken(at!(1127, "}"), Tok::Proc(q))?;
            }
            if error != 0 {
                break 'top error;
            }
        };
        self.lwkt_reltoken(at!(1130, "lwkt_reltoken"), Tok::Proc(q))?;
        Ok(error)
    }

    /// `waitgen = atomic_fetchadd_long(&q->p_waitgen, 0x80000000)`, of which the code only
    /// ever compares the low 31 bits (`WaitGen`).
    fn waitgen_snapshot(&self, site: &'static crate::site::Site, q: Pid) -> KR<u64> {
        self.scope(site, q, || {
            let (old, _) = self.atomic(site, Field::PWaitgen(q), AOp::Add(0x8000_0000))?;
            Ok(old & WAITGEN_MASK)
        })
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

    /// Whatever path reports it (the reap, or the p_oppid branch that hands the zombie back,
    /// 971-982), no process is told the same exit twice. A tracer and the original parent
    /// may each be told once.
    fn record_report(g: &mut Kernel, me: crate::engine::ActorId, q: Pid, p: Pid) -> KR<()> {
        const F: &str = "kern_wait";
        if g.reports.contains(&(q, p)) {
            let msg = format!(
                "pid {q} is told of the exit of pid {p} a second time (*res = p->p_pid, \
                 *status = p->p_xstat)"
            );
            let site = Some(at!(960, "p_pid"));
            return Err(g.fail(Some(me), ViolationKind::DoubleReap, site, msg));
        }
        g.reports.push((q, p));
        Ok(())
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
