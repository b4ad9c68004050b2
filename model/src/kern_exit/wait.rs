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
        // Switched by fix:wait4-init-status.
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
    pub(crate) fn kern_wait(&self, pid: i32, options: u32, out: &mut WaitOut) -> KR<i32> {
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
        let v = WaitVariants::of(self);
        self.lwkt_gettoken(at!(851, "lwkt_gettoken"), Tok::Proc(q))?;
        let error = 'top: loop {
            // Live at the head of the scan: the arguments (the scope's key) and `pid`.
            self.restart(at!(852, "loop"), pid);
            // 869-870: a waiter whose own process is stopped halts first. q's p_stat changes
            // only under q's token, which this LWP holds here: no step of its own to read it.
            if self
                .sys
                .kernel
                .lock()
                .procs
                .get(&q)
                .is_some_and(|p| p.stat == SSTOP)
            {
                self.note(
                    at!(869, "SSTOP"),
                    What::Note("the waiter's process is stopped: tstop"),
                )?;
                self.tstop(q)?;
            }
            let mut nfound = 0;
            let waitgen = self.waitgen_snapshot(at!(881, "atomic_fetchadd_long"), q)?;
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
                    match self.wait_reap_zombie(q, pid, p, &v, out)? {
                        Next::Restart => continue 'top,
                        Next::Return(e) => break 'top e,
                        Next::Scan => {}
                    }
                }
                match self.wait_report_stop(q, p, options, out)? {
                    Next::Restart => continue 'top,
                    Next::Return(e) => break 'top e,
                    Next::Scan => {}
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
            let error = self.wait_sleep(q, pid, waitgen, &v)?;
            if error != 0 {
                break 'top error;
            }
        };
        self.lwkt_reltoken(at!(1130, "lwkt_reltoken"), Tok::Proc(q))?;
        Ok(error)
    }

    /// kern_wait 1050-1102: child `p` of `q` is stopped (reported once, to a tracer or
    /// with WUNTRACED) or continued (with WCONTINUED); each is checked again under its token.
    fn wait_report_stop(&self, q: Pid, p: Pid, options: u32, out: &mut WaitOut) -> KR<Next> {
        const F: &str = "kern_wait";
        let me = self.me;
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
                return Ok(Next::Restart);
            }
            let st = self.load(at!(1059, "SSTOP"), Field::PStat(p))?;
            let fl =
                self.load_bits(at!(1060, "P_WAITED"), Field::PFlags(p), P_WAITED | P_TRACED)?;
            if st != SSTOP || fl & P_WAITED != 0 || (fl & P_TRACED == 0 && options & WUNTRACED == 0)
            {
                self.lwkt_reltoken(at!(1063, "lwkt_reltoken"), Tok::Proc(p))?;
                self.prele(at!(1064, "PRELE"), p)?;
                return Ok(Next::Restart);
            }
            self.plain_set(at!(1068, "P_WAITED"), Field::PFlags(p), P_WAITED)?;
            let xstat = self.k()?.proc(me, p, at!(1072, "W_STOPCODE"))?.xstat;
            out.res = Some(p as i32);
            out.status = Some(w_stopcode(xstat));
            out.rusage = Some(0);
            self.lwkt_reltoken(at!(1077, "lwkt_reltoken"), Tok::Proc(p))?;
            self.prele(at!(1078, "PRELE"), p)?;
            return Ok(Next::Return(0));
        }
        if options & WCONTINUED != 0 && flags & P_CONTINUED != 0 {
            self.phold(at!(1082, "PHOLD"), p)?;
            self.lwkt_gettoken(at!(1083, "lwkt_gettoken"), Tok::Proc(p))?;
            if *self.k()?.pptr(me, p, at!(1084, "p_pptr"))? != Some(q) {
                self.lwkt_reltoken(at!(1085, "lwkt_reltoken"), Tok::Proc(p))?;
                self.prele(at!(1086, "PRELE"), p)?;
                return Ok(Next::Restart);
            }
            if self.load_bits(at!(1089, "P_CONTINUED"), Field::PFlags(p), P_CONTINUED)? == 0 {
                self.lwkt_reltoken(at!(1090, "lwkt_reltoken"), Tok::Proc(p))?;
                self.prele(at!(1091, "PRELE"), p)?;
                return Ok(Next::Restart);
            }
            out.res = Some(p as i32);
            self.plain_clear(at!(1096, "P_CONTINUED"), Field::PFlags(p), P_CONTINUED)?;
            out.status = Some(SIGCONT);
            self.lwkt_reltoken(at!(1101, "lwkt_reltoken"), Tok::Proc(p))?;
            self.prele(at!(1102, "PRELE"), p)?;
            return Ok(Next::Return(0));
        }
        Ok(Next::Scan)
    }

    /// kern_wait 1116-1127: sleep until a child changes state: the p_waitgen interlock
    /// (1120-1123) closes the window between the scan and the sleep. Returns tsleep's error.
    fn wait_sleep(&self, q: Pid, pid: i32, mut waitgen: u64, v: &WaitVariants) -> KR<i32> {
        const F: &str = "kern_wait";
        let WaitVariants {
            unlocked_sleep,
            no_recheck,
            ..
        } = *v;
        if unlocked_sleep {
            self.lwkt_reltoken(at!(1117, "Wait for signal"), Tok::Proc(q))?;
        }
        let mut error = 0;
        loop {
            self.restart(at!(1120, "p_waitgen"), (pid, waitgen));
            let cur = self.load_bits(at!(1120, "p_waitgen"), Field::PWaitgen(q), WAITGEN_MASK)?;
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

    /// Whatever path reports it (the reap, or the p_oppid branch that hands the zombie back,
    /// 971-982), no process is told the same exit twice. A tracer and the original parent
    /// may each be told once.
    pub(super) fn record_report(
        g: &mut Kernel,
        me: crate::engine::ActorId,
        q: Pid,
        p: Pid,
    ) -> KR<()> {
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
}

/// What kern_wait's scan does after looking at one child.
pub(super) enum Next {
    /// On to the next child.
    Scan,
    /// Back to the top (`goto loop`): the child changed under us.
    Restart,
    /// kern_wait ends with this error (0: a child reported).
    Return(i32),
}

/// The variant switches kern_wait reads, each under the variant that sets it.
#[derive(Clone, Copy)]
pub(super) struct WaitVariants {
    /// bug:wait-unlocked-sleep: the final sleep without the parent's token.
    pub(super) unlocked_sleep: bool,
    /// bug:no-waitgen-recheck: no p_waitgen re-snapshot after tsleep_interlock.
    pub(super) no_recheck: bool,
    /// fix:wait-recheck-pptr (and bug:no-pptr-recheck): p_pptr checked again after "lwpzomb".
    pub(super) recheck_pptr: bool,
    /// bug:no-pholdzomb: a plain PHOLD instead of PHOLDZOMB.
    pub(super) plain_hold: bool,
    /// bug:no-pptr-recheck: no p_pptr check under the zombie's token (921).
    pub(super) no_pptr_recheck: bool,
    /// bug:zomb-hold-deadlock: a PHOLD taken around the PHOLDZOMB filter.
    pub(super) filter_hold: bool,
    /// fix:zomb-keeps-hold (and bug:zomb-hold-deadlock): the ZOMB interlock keeps one count
    /// until PRELEZOMB.
    pub(super) keeps: bool,
    /// Not bug:no-reap-stall: the PSTALLs of 1034 and 1036.
    pub(super) reap_stall: bool,
    /// fix:oppid-report-once (and bug:reparent-single-shot): a tracer that is the old parent
    /// keeps its child.
    pub(super) oppid_not_parent: bool,
}

impl WaitVariants {
    fn of<E: Engine>(cx: &Cx<'_, E>) -> Self {
        WaitVariants {
            unlocked_sleep: cx.has(Switch::WaitUnlockedSleep), // bug:wait-unlocked-sleep
            no_recheck: cx.has(Switch::NoWaitgenRecheck),      // bug:no-waitgen-recheck
            recheck_pptr: cx.has(Switch::WaitRecheckPptr), // fix:wait-recheck-pptr / bug:no-pptr-recheck
            plain_hold: cx.has(Switch::NoPholdzomb),       // bug:no-pholdzomb
            no_pptr_recheck: cx.has(Switch::NoPptrRecheck), // bug:no-pptr-recheck
            filter_hold: cx.has(Switch::WaitFilterHold),   // bug:zomb-hold-deadlock
            keeps: cx.has(Switch::ZombKeepsHold), // bug:zomb-hold-deadlock / fix:zomb-keeps-hold
            reap_stall: !cx.has(Switch::NoReapStall), // bug:no-reap-stall
            oppid_not_parent: cx.has(Switch::OppidNotParent), // bug:reparent-single-shot / fix:oppid-report-once
        }
    }
}
