//! Stops as the lifecycle sees them (kern_sig.c proc_stop and proc_unstop, kern_synch.c
//! tstop): p_stat, the per-LWP count of stopped LWPs (p_nstopped, LWP_MP_WSTOP), and the
//! parent told when the count reaches p_nthreads. Signals that cause stops are in
//! `signals.rs`, the user return that halts in tstop in `userret.rs`.

use crate::cx::Cx;
use crate::engine::{ActorId, Engine};
use crate::ext;
use crate::flags::*;
use crate::kernel::*;
use crate::prims::wake;
use crate::race::Kind;
use crate::signals::{interrupt_proc, is_tty_stop};
use crate::site::Site;
use crate::trace::*;
use crate::variant::Switch;

impl<'s, E: Engine> Cx<'s, E> {
    /// kern_sig.c proc_stop as kern_wait sees it: p_stat = SSTOP with `sig` as p_xstat under
    /// the process's token, its sleeping LWPs counted stopped, and, once every LWP is,
    /// P_WAITED cleared and the parent woken under the parent's token (else the last LWP to
    /// reach tstop does that).
    pub fn proc_stop(&self, pid: Pid, sig: i32) -> KR<()> {
        self.proc_stop_or_cont(pid, Some(sig))
    }

    /// kern_sig.c's SIGCONT of a stopped process: P_CONTINUED and proc_unstop under the
    /// process's token, the parent woken under the parent's token.
    pub fn proc_cont(&self, pid: Pid) -> KR<()> {
        self.proc_stop_or_cont(pid, None)
    }

    fn proc_stop_or_cont(&self, pid: Pid, stop: Option<i32>) -> KR<()> {
        let me = self.me;
        let site = if stop.is_some() {
            ext!("kern_sig.c", "proc_stop")
        } else {
            ext!("kern_sig.c", "proc_unstop")
        };
        let Some(p) = self.pfind(site, pid)? else {
            return Ok(());
        };
        self.lwkt_gettoken(site, Tok::Proc(p))?;
        // fix:ttystop-pgtoken: pg_jobc tested again under pg_token, held through SSTOP.
        let pg_held = match stop {
            Some(sig) if is_tty_stop(sig) && self.has(Switch::TtyStopUnderPgToken) => {
                match self.tty_stop_recheck(site, p, sig)? {
                    Recheck::Orphaned(g) => {
                        self.lwkt_reltoken(site, Tok::Pgrp(g))?;
                        self.lwkt_reltoken(site, Tok::Proc(p))?;
                        return self.prele(site, p);
                    }
                    Recheck::Held(g) => Some(g),
                    Recheck::NoGroup => None,
                }
            }
            _ => None,
        };
        let stat = self.load(site, Field::PStat(p))?;
        // SIGCONT wakes the parent once p's token is released.
        let continued = match stop {
            Some(sig) if stat == SACTIVE => {
                self.k()?.proc(me, p, site)?.xstat = sig;
                // 1495-1551: SSTOP, the sleeping LWPs counted stopped; the parent is told
                // (here, under p's token) only when that makes every LWP stopped, else by
                // the last LWP to reach tstop.
                if self.stop_counting_sleepers(site, p)? {
                    self.tell_parent_stopped(site, p)?;
                }
                None
            }
            None if stat == SSTOP => {
                self.proc_unstop(site, p)?;
                self.plain_set(site, Field::PFlags(p), P_CONTINUED)?;
                *self.k()?.pptr(me, p, site)?
            }
            _ => None,
        };
        if let Some(g) = pg_held {
            self.lwkt_reltoken(site, Tok::Pgrp(g))?;
        }
        self.lwkt_reltoken(site, Tok::Proc(p))?;
        if let Some(pp) = continued {
            self.lwkt_gettoken(site, Tok::Proc(pp))?;
            self.wakeup(site, Ident::Proc(pp))?;
            self.lwkt_reltoken(site, Tok::Proc(pp))?;
        }
        self.prele(site, p)
    }

    /// proc_unstop (kern_sig.c 1558-1625) with the process's token held: p_stat = SACTIVE and
    /// wakeup(p) of the LWPs halted in tstop, one step.
    pub fn proc_unstop(&self, site: &'static Site, p: Pid) -> KR<()> {
        let me = self.me;
        // The PCATCH sleepers it interrupts are part of the process's signal state.
        let objs = [
            Obj::Word(Field::PStat(p)),
            Obj::Ident(Ident::Proc(p)),
            Obj::Sig(p),
        ];
        let mut g = self.sp(&objs)?;
        unstop(&mut g, me, site, p);
        Ok(())
    }

    /// proc_stop's p_stat = SSTOP and its count of the LWPs asleep (kern_sig.c 1495-1535),
    /// one step under the process's token: whether every LWP is now counted stopped (1537).
    fn stop_counting_sleepers(&self, site: &'static Site, p: Pid) -> KR<bool> {
        let me = self.me;
        // The sleeping LWPs it looks at are part of the process's signal state.
        let mut g = self.sp(&[Obj::Word(Field::PStat(p)), Obj::Sig(p)])?;
        g.proc(me, p, site)?;
        set_stat(&mut g, me, site, p, SSTOP);
        let tree = g.procs[&p].lwp_tree.clone();
        let mut counted = 0;
        for l in tree {
            if !g.lwps[l].wstop && asleep(&g, l) {
                g.lwps[l].wstop = true;
                counted += 1;
            }
        }
        let pr = g.procs.get_mut(&p).expect("checked");
        pr.nstopped += counted;
        let (n, of) = (pr.nstopped, pr.nthreads);
        let text = format!(
            "proc_stop: {counted} asleep counted stopped, p_nstopped {n} of p_nthreads {of}{}",
            if n == of {
                ": the parent is told"
            } else {
                ": the last LWP to reach tstop tells the parent"
            }
        );
        g.record(me, site, What::Text(text));
        Ok(n == of)
    }

    /// The parent told of a stop (kern_sig.c 1542-1550, kern_synch.c 1160-1168), with p's
    /// token held: P_WAITED cleared, so kern_wait reports the stop, and the parent, held and
    /// under its token, woken and sent SIGCHLD unless it set SA_NOCLDSTOP.
    pub(crate) fn tell_parent_stopped(&self, site: &'static Site, p: Pid) -> KR<()> {
        let me = self.me;
        let pp = *self.k()?.pptr(me, p, site)?;
        self.plain_clear(site, Field::PFlags(p), P_WAITED)?;
        if let Some(q) = pp {
            self.phold(site, q)?;
            self.lwkt_gettoken(site, Tok::Proc(q))?;
            self.wakeup(site, Ident::Proc(q))?;
            // PS_NOCLDSTOP is set before the scenario starts and never changes: its test
            // needs no step of its own.
            let nocldstop = self.k()?.proc(me, q, site)?.ps_flag & PS_NOCLDSTOP != 0;
            if !nocldstop {
                let _ = self.ksignal(site, q, SIGCHLD)?;
            }
            self.lwkt_reltoken(site, Tok::Proc(q))?;
            self.prele(site, q)?;
        }
        Ok(())
    }

    /// kern_synch.c tstop with the process's token held: an LWP not yet counted stopped counts
    /// itself, and the one that makes every LWP stopped tells the parent (1148-1170); then it
    /// halts, `tsleep(p, 0, "stop")`, until its process is no longer SSTOP, and is no longer
    /// counted (1175-1176). Nothing but a continue ends the halt (no PCATCH); a process nobody
    /// continues stays stopped, which is a state the kernel can rest in, so the sleep counts
    /// as idle. The count changes under p's token, which the caller holds, so it goes with
    /// the steps around it.
    pub(crate) fn tstop(&self, p: Pid) -> KR<()> {
        let site = ext!("kern_synch.c", "tstop");
        let l = self.my_lwp();
        let last = {
            let mut g = self.sys.kernel.lock();
            if g.lwps[l].wstop {
                false
            } else {
                g.lwps[l].wstop = true;
                let pr = g.procs.get_mut(&p).expect("the running process");
                pr.nstopped += 1;
                pr.nstopped == pr.nthreads
            }
        };
        if last {
            self.note(site, What::Note("the last LWP to stop: the parent is told"))?;
            self.tell_parent_stopped(site, p)?;
        }
        while self.load(site, Field::PStat(p))? == SSTOP {
            self.tsleep(site, Ident::Proc(p), 0, TSTOP_WMESG, false)?;
        }
        let mut g = self.sys.kernel.lock();
        g.lwps[l].wstop = false;
        g.procs.get_mut(&p).expect("the running process").nstopped -= 1;
        Ok(())
    }
}

/// What fix:ttystop-pgtoken's second test of pg_jobc found.
enum Recheck {
    /// The group is orphaned: the stop is discarded (its pg_token is held).
    Orphaned(Pid),
    /// Not orphaned: the stop goes on with the group's pg_token held.
    Held(Pid),
    /// The process has left its group (it is being reaped): nothing to hold.
    NoGroup,
}

impl<'s, E: Engine> Cx<'s, E> {
    /// fix:ttystop-pgtoken, with p's token held: the group's pg_token, then pg_jobc again.
    fn tty_stop_recheck(&self, site: &'static Site, p: Pid, sig: i32) -> KR<Recheck> {
        let me = self.me;
        let Some(g) = self.k()?.pgrp_of(me, p, site)? else {
            return Ok(Recheck::NoGroup);
        };
        self.lwkt_gettoken(site, Tok::Pgrp(g))?;
        let mut k = self.k()?;
        let jobc = *k.pg_jobc(me, g, site)?;
        let text = if jobc == 0 {
            format!("pgrp {g} is orphaned now: {} discarded", signal_name(sig))
        } else {
            format!("pgrp {g}'s pg_jobc is {jobc}: the stop goes on under its pg_token")
        };
        k.record(me, site, What::Text(text));
        Ok(if jobc == 0 {
            Recheck::Orphaned(g)
        } else {
            Recheck::Held(g)
        })
    }

    /// fix:lwp-exit-completes-stop, with p's token held after 671: the leaving LWP is no
    /// longer counted stopped, and if that leaves every remaining LWP of a stopped process
    /// counted, the parent is told.
    pub(crate) fn lwp_exit_completes_stop(&self, site: &'static Site, p: Pid, lp: LwpId) -> KR<()> {
        let complete = {
            let mut g = self.sys.kernel.lock();
            if g.lwps[lp].wstop {
                g.lwps[lp].wstop = false;
                g.procs.get_mut(&p).expect("the exiting LWP's").nstopped -= 1;
            }
            let pr = &g.procs[&p];
            pr.stat == SSTOP && pr.nthreads > 0 && pr.nstopped == pr.nthreads
        };
        if complete {
            self.note(
                site,
                What::Note("every LWP left is stopped: the parent is told"),
            )?;
            self.tell_parent_stopped(site, p)?;
        }
        Ok(())
    }
}

/// tstop's wait message; a sleep with it is a resting state (see `Cx::tstop`).
pub const TSTOP_WMESG: &str = "stop";

/// proc_unstop in the caller's step: p_stat = SACTIVE, wakeup(p) for the LWPs in tstop.
pub(crate) fn unstop(g: &mut Kernel, me: ActorId, site: &'static Site, p: Pid) {
    if !g.procs.contains_key(&p) {
        return;
    }
    set_stat(g, me, site, p, SACTIVE);
    // 1583-1603: an LWP counted stopped while asleep, and still asleep outside tstop, is no
    // longer counted (one in tstop uncounts itself when it leaves). An LWP that left the tree
    // in the meantime is not found, and its count stays.
    let tree = g.procs[&p].lwp_tree.clone();
    for l in tree {
        let a = g.lwps[l].actor;
        if g.lwps[l].wstop && asleep(g, l) && g.actors[a].wmesg != TSTOP_WMESG {
            g.lwps[l].wstop = false;
            g.procs.get_mut(&p).expect("checked").nstopped -= 1;
        }
    }
    let ident = Ident::Proc(p);
    let woken: Vec<ActorId> = (0..g.actors.len())
        .filter(|a| g.actors[*a].wchan == Some(ident))
        .collect();
    for a in &woken {
        wake(g, *a);
    }
    g.record(me, site, What::Wakeup { ident, woken });
    // proc_unstop's lwp_signotify of its LWPs asleep with PCATCH (1590-1612): they return
    // from their sleep and look at their signals.
    interrupt_proc(g, p);
}

/// fix:stop-completes: ERESTART for a PCATCH sleep of an LWP whose process is stopped and
/// which is not counted stopped (it goes to tstop instead), else 0.
pub(crate) fn stopped_uncounted(k: &Kernel, me: ActorId) -> i32 {
    let ActorKind::Lwp(l) = k.actors[me].kind else {
        return 0;
    };
    let stopped = k.procs.get(&k.lwps[l].pid).is_some_and(|p| p.stat == SSTOP);
    if stopped && !k.lwps[l].wstop {
        ERESTART
    } else {
        0
    }
}

/// p_stat = `new` in the caller's step, recorded and race-checked as a store.
fn set_stat(g: &mut Kernel, me: ActorId, site: &'static Site, p: Pid, new: u64) {
    let pr = g.procs.get_mut(&p).expect("the caller found it");
    let old = pr.stat;
    pr.stat = new;
    let field = Field::PStat(p);
    g.record(me, site, What::Store { field, old, new });
    g.race_word(me, site, field, Kind::Write, u64::MAX);
}

/// Whether LWP `l` is asleep in tsleep (LSSLEEP, or LSSTOP in tstop): descheduled on a wait
/// channel, not running and not waiting for a token.
fn asleep(k: &Kernel, l: LwpId) -> bool {
    let a = &k.actors[k.lwps[l].actor];
    a.wchan.is_some() && matches!(a.run, Run::Sleeping | Run::Idle | Run::Timed { .. })
}
