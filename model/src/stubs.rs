//! Documented stubs for the code outside the seed that the lifecycle calls: kern_proc.c's
//! zombie-list moves and pfind, kern_sig.c's ksignal/lwpsignal and the user-return path
//! (trap.c's userret), the taskqueue, and cpu_lwp_exit with lwkt_switch_return's final
//! handshake. Each keeps only what kern_exit.c observes; its steps cite the seed line of the
//! call.

use crate::cx::Cx;
use crate::engine::Engine;
use crate::ext;
use crate::flags::*;
use crate::kernel::*;
use crate::prims::{interrupt, wake};
use crate::race::{Data, Kind};
use crate::site::Site;
use crate::trace::*;
use crate::variant::Switch;

impl<'s, E: Engine> Cx<'s, E> {
    /// trap.c userret / kern_sig.c postsig: where a signalled LWP dies on its way back to
    /// user mode. LWP_MP_WEXIT: lwp_exit(0, NULL); a pending SIGKILL: sigexit -> exit1.
    pub fn userret(&self) -> KR<()> {
        let (lp, p) = self.cur()?;
        let site = ext!("trap.c", "userret");
        let mp = self.load_bits(site, Field::LwpMpflags(lp), LWP_MP_WEXIT)?;
        if mp != 0 {
            self.lwkt_gettoken(site, Tok::Proc(p))?;
            return self.lwp_exit(false, None);
        }
        let delivered = {
            let mut g = self.sp(&[Obj::Sig(p)])?;
            // A caught SIGCHLD is delivered to its handler here, which consumes it.
            if let Some(pr) = g.procs.get_mut(&p) {
                pr.sigchld = false;
            }
            // Back in user space: the next operation starts outside every seed function.
            let me = self.me;
            g.actors[me].line = 0;
            g.actors[me].func = "";
            let kill = g.lwps[lp].sigkill || g.procs[&p].killed;
            let pr = g.procs.get_mut(&p).expect("the running process");
            // issignal takes the lowest-numbered pending signal first (sig_ffs).
            let pending = pr.fatal | pr.caught | if kill { 1 << SIGKILL } else { 0 };
            let sig = pending.trailing_zeros() as i32;
            if pending == 0 {
                None
            } else if pr.caught >> sig & 1 == 1 {
                // postsig: its handler runs, which consumes it.
                pr.caught &= !(1 << sig);
                let text = format!("{} delivered to its handler", signal_name(sig));
                g.record(me, ext!("kern_sig.c", "postsig"), What::Text(text));
                None
            } else {
                Some(sig)
            }
        };
        if let Some(sig) = delivered {
            let site = ext!("kern_sig.c", "sigexit");
            if sig == SIGKILL {
                self.note(site, What::Note("SIGKILL delivered: sigexit -> exit1"))?;
                return self.exit1(w_exitcode(0, SIGKILL));
            }
            // sigexit: a signal whose default action dumps core sets WCOREFLAG when coredump
            // succeeds, which the model assumes (no core size limit).
            let core = default_action(sig) == DefaultAction::Core;
            let text = format!(
                "{} delivered: sigexit -> exit1{}",
                signal_name(sig),
                if core { " (core dumped)" } else { "" }
            );
            self.note(site, What::Text(text))?;
            let status = if core { sig | WCOREFLAG } else { sig };
            return self.exit1(w_exitcode(0, status));
        }
        self.usched_switch()
    }

    /// The LWP and process of the running actor (curthread->td_lwp, curproc).
    pub fn cur(&self) -> KR<(LwpId, Pid)> {
        let g = self.k()?;
        match g.actors[self.me].kind {
            ActorKind::Lwp(l) => Ok((l, g.lwps[l].pid)),
            ActorKind::Reaper(_) | ActorKind::Idle(_) => unreachable!("a daemon has no process"),
        }
    }

    /// kern_proc.c proc_move_allproc_zombie: PSTALL "reap1", proc_token, PSTALL "reap1a",
    /// p_stat = SZOMB.
    pub(crate) fn proc_move_allproc_zombie(&self, site: &'static Site, p: Pid) -> KR<()> {
        self.note(site, What::Note("proc_move_allproc_zombie"))?;
        self.pstall(site, p, "reap1", 0)?;
        self.lwkt_gettoken(site, Tok::ProcList)?;
        self.pstall(site, p, "reap1a", 0)?;
        self.store(site, Field::PStat(p), SZOMB)?;
        self.lwkt_reltoken(site, Tok::ProcList)
    }

    /// kern_proc.c proc_remove_zombie: PSTALL "reap2", proc_token, PSTALL "reap2a", unlink
    /// from the process list and the parent's p_children, p_pptr = NULL.
    pub(crate) fn proc_remove_zombie(&self, site: &'static Site, p: Pid) -> KR<()> {
        self.note(site, What::Note("proc_remove_zombie"))?;
        // 33b81dc963 let these wait for 1, the count the ZOMB interlock keeps.
        // Switched by bug:zomb-hold-deadlock and fix:zomb-keeps-hold.
        let n = self.has(crate::variant::Switch::ZombKeepsHold) as u64;
        self.pstall(site, p, "reap2", n)?;
        self.lwkt_gettoken(site, Tok::ProcList)?;
        self.pstall(site, p, "reap2a", n)?;
        {
            let me = self.me;
            let mut g = self.k()?;
            let pp = g.pptr(me, p, site)?.take();
            g.proc(me, p, site)?.in_allproc = false;
            if let Some(pp) = pp {
                let kids = g.children(me, pp, site)?;
                let before = kids.len();
                kids.retain(|c| *c != p);
                if kids.len() + 1 != before {
                    let msg = format!(
                        "pid {p} not found exactly once in the p_children of its parent pid {pp}"
                    );
                    return Err(g.fail(Some(me), ViolationKind::ListCorruption, Some(site), msg));
                }
            }
            g.record(
                me,
                site,
                What::Text(format!(
                    "unlinked pid {p} from allproc and its parent's p_children"
                )),
            );
        }
        self.lwkt_reltoken(site, Tok::ProcList)
    }

    /// kern_proc.c pfind: shared proc_token, skips zombies, returns the process held.
    pub fn pfind(&self, site: &'static Site, pid: Pid) -> KR<Option<Pid>> {
        self.find_held(site, pid, false)
    }

    /// kern_proc.c zpfind: like pfind, but finds only zombies.
    pub fn zpfind(&self, site: &'static Site, pid: Pid) -> KR<Option<Pid>> {
        self.find_held(site, pid, true)
    }

    /// sysctl_kern_proc's walk of allproc (KERN_PROC_ALL): finds the process whether or not
    /// it is a zombie, held.
    pub fn allproc_find(&self, site: &'static Site, pid: Pid) -> KR<Option<Pid>> {
        self.find_held_if(site, pid, |_| true)
    }

    fn find_held(&self, site: &'static Site, pid: Pid, zombie: bool) -> KR<Option<Pid>> {
        self.find_held_if(site, pid, |p| (p.stat == SZOMB) == zombie)
    }

    fn find_held_if(
        &self,
        site: &'static Site,
        pid: Pid,
        wanted: impl Fn(&Proc) -> bool,
    ) -> KR<Option<Pid>> {
        self.lwkt_gettoken_shared(site, Tok::ProcList)?;
        let found = {
            let g = self.k()?;
            g.procs
                .get(&pid)
                .is_some_and(|p| !p.freed && p.in_allproc && wanted(p))
        };
        if found {
            self.phold(site, pid)?;
        }
        self.lwkt_reltoken(site, Tok::ProcList)?;
        Ok(found.then_some(pid))
    }

    /// kern_sig.c ksignal -> lwpsignal(p, NULL, sig): PHOLD(p) and the target's p_token
    /// (1104-1105), no delivery to a process with P_WEXIT (exiting or a zombie, 1109-1110).
    /// SIGKILL is posted to the process (each LWP dies at its next user return); SIGCHLD
    /// only when the target catches it. Any other signal: discarded when ignored (SIG_IGN),
    /// posted to its handler when caught, else its default action (sigproptbl): posted to
    /// kill the process at its next user return, or a stop or continue the caller carries
    /// out (`Then`), or nothing. A pending signal interrupts a PCATCH sleep (lwp_signotify).
    pub fn ksignal(&self, site: &'static Site, p: Pid, sig: i32) -> KR<Then> {
        self.ksignal_as(site, p, sig, true)
    }

    /// ksignal, or (`locked` false, bug:wait-waker-no-token) its effect without the target's
    /// token.
    pub(crate) fn ksignal_as(
        &self,
        site: &'static Site,
        p: Pid,
        sig: i32,
        locked: bool,
    ) -> KR<Then> {
        self.phold(site, p)?;
        if locked {
            self.lwkt_gettoken(site, Tok::Proc(p))?;
        }
        let then = {
            let me = self.me;
            let objs = [Obj::Sig(p), Obj::Word(Field::PFlags(p)), Obj::Sigacts(p)];
            let mut g = self.sp_reading(&objs, &[Obj::Sigacts(p)])?;
            g.race_access(me, site, Data::Sigacts(p), Kind::Read);
            let pr = g.proc(me, p, site)?;
            let bit = if (1..64).contains(&sig) {
                1u64 << sig
            } else {
                0
            };
            let name = signal_name(sig);
            let (text, then) = if pr.flags & P_WEXIT != 0 {
                (
                    format!("ksignal(pid {p}, {sig}): P_WEXIT, not delivered"),
                    Then::Nothing,
                )
            } else if sig == SIGKILL {
                pr.killed = true;
                interrupt_proc(&mut g, p);
                (format!("ksignal(pid {p}, SIGKILL): posted"), Then::Nothing)
            } else if sig == SIGCHLD && pr.sigchld_caught {
                pr.sigchld = true;
                interrupt_proc(&mut g, p);
                let text = format!("ksignal(pid {p}, SIGCHLD): posted to its handler");
                (text, Then::Nothing)
            } else if sig == SIGCHLD || sig == 0 {
                (
                    format!("ksignal(pid {p}, {sig}): ignored by default"),
                    Then::Nothing,
                )
            } else if pr.sigignore & bit != 0 {
                (
                    format!("ksignal(pid {p}, {name}): ignored (SIG_IGN)"),
                    Then::Nothing,
                )
            } else if pr.sigcatch & bit != 0 {
                pr.caught |= bit;
                interrupt_proc(&mut g, p);
                (
                    format!("ksignal(pid {p}, {name}): posted to its handler"),
                    Then::Nothing,
                )
            } else {
                match default_action(sig) {
                    DefaultAction::Terminate | DefaultAction::Core => {
                        pr.fatal |= bit;
                        interrupt_proc(&mut g, p);
                        let text =
                            format!("ksignal(pid {p}, {name}): posted, its default action kills");
                        (text, Then::Nothing)
                    }
                    // A vfork child holding its parent blocked is not stopped (it could
                    // deadlock): the signal stays pending (lwpsignal 1324-1333).
                    DefaultAction::Stop if pr.flags & P_PPWAIT != 0 => {
                        let text = format!("ksignal(pid {p}, {name}): P_PPWAIT, left pending");
                        (text, Then::Nothing)
                    }
                    DefaultAction::Stop => (
                        format!("ksignal(pid {p}, {name}): stops the process"),
                        Then::Stop,
                    ),
                    DefaultAction::Continue => {
                        let text = format!("ksignal(pid {p}, {name}): continues the process");
                        (text, Then::Continue)
                    }
                    DefaultAction::Ignore => (
                        format!("ksignal(pid {p}, {name}): ignored by default"),
                        Then::Nothing,
                    ),
                }
            };
            g.record(me, site, What::Text(text));
            then
        };
        if locked {
            self.lwkt_reltoken(site, Tok::Proc(p))?;
        }
        self.prele(site, p)?;
        Ok(then)
    }

    /// kern_sig.c proc_stop / proc_unstop as kern_wait sees them: the new state is published
    /// under the process's token and the parent is woken under the parent's token.
    pub fn proc_stop_or_cont(&self, pid: Pid, stop: bool) -> KR<()> {
        let me = self.me;
        let site = if stop {
            ext!("kern_sig.c", "proc_stop")
        } else {
            ext!("kern_sig.c", "proc_unstop")
        };
        let Some(p) = self.pfind(site, pid)? else {
            return Ok(());
        };
        self.lwkt_gettoken(site, Tok::Proc(p))?;
        let stat = self.load(site, Field::PStat(p))?;
        let changed = if stop && stat == SACTIVE {
            self.k()?.proc(me, p, site)?.xstat = SIGSTOP;
            self.plain_clear(site, Field::PFlags(p), P_WAITED)?;
            self.store(site, Field::PStat(p), SSTOP)?;
            true
        } else if !stop && stat == SSTOP {
            self.store(site, Field::PStat(p), SACTIVE)?;
            self.plain_set(site, Field::PFlags(p), P_CONTINUED)?;
            true
        } else {
            false
        };
        let pp = *self.k()?.pptr(me, p, site)?;
        self.lwkt_reltoken(site, Tok::Proc(p))?;
        if let (true, Some(pp)) = (changed, pp) {
            self.lwkt_gettoken(site, Tok::Proc(pp))?;
            self.wakeup(site, Ident::Proc(pp))?;
            self.lwkt_reltoken(site, Tok::Proc(pp))?;
        }
        self.prele(site, p)
    }

    /// kern_sig.c lwpsignal(p, lp, SIGKILL): dropped when the LWP already has LWP_MP_WEXIT;
    /// otherwise pending on the LWP, and a PCATCH sleep is woken.
    pub(crate) fn lwpsignal_kill(&self, site: &'static Site, l: LwpId) -> KR<()> {
        let me = self.me;
        let pid = self.sys.kernel.lock().lwps[l].pid;
        let mut g = self.sp(&[Obj::Sig(pid), Obj::Word(Field::LwpMpflags(l))])?;
        let lp = g.lwp(me, l, site)?;
        let text = if lp.mpflags & LWP_MP_WEXIT != 0 {
            "lwpsignal SIGKILL: dropped, target already has LWP_MP_WEXIT"
        } else {
            lp.sigkill = true;
            let a = g.actor_of_lwp(l);
            interrupt(&mut g, a);
            "lwpsignal SIGKILL: pending"
        };
        let label = g.lwp_label(l);
        g.record(me, site, What::Text(format!("{text} ({label})")));
        Ok(())
    }

    /// taskqueue_enqueue(taskqueue_thread[cpu], deadlwp_task[cpu]).
    pub(crate) fn taskqueue_enqueue(&self, site: &'static Site, cpu: u8) -> KR<()> {
        let me = self.me;
        let mut g = self.sp(&[Obj::Ident(Ident::TaskQueue(cpu))])?;
        g.task_pending[cpu as usize] = true;
        let ident = Ident::TaskQueue(cpu);
        for a in 0..g.actors.len() {
            if g.actors[a].wchan == Some(ident) {
                wake(&mut g, a);
            }
        }
        g.record(
            me,
            site,
            What::Text(format!(
                "taskqueue_enqueue: reaper task of cpu{cpu} pending"
            )),
        );
        Ok(())
    }

    /// cpu_lwp_exit and the last switch-out: TDF_EXITING is set, the thread switches away
    /// for good, and the next thread on that cpu runs lwkt_switch_return(prev): it clears
    /// TDF_RUNNING, then sets TDF_MP_EXITSIG with a compare-and-set and wakes `prev` if
    /// TDF_MP_EXITWAIT was set. From EXITSIG on the thread may be freed.
    pub(crate) fn cpu_lwp_exit(&self, site: &'static Site, l: LwpId) -> KR<()> {
        let me = self.me;
        let pid = self.sys.kernel.lock().lwps[l].pid;
        {
            // Off the sleep queues: its own sleep state, which only signal senders read.
            let mut g = self.sp_reading(
                &[Obj::Sig(pid), Obj::Word(Field::TdFlags(l))],
                &[Obj::Sig(pid)],
            )?;
            g.actors[me].wchan = None;
            let td = g.td(me, l, site)?;
            let old = td.td_flags;
            td.td_flags |= TDF_EXITING;
            let new = td.td_flags;
            g.race_word(me, site, Field::TdFlags(l), Kind::Write, TDF_EXITING);
            g.record(
                me,
                site,
                What::Text("cpu_lwp_exit: off the sleep queues".into()),
            );
            g.record(
                me,
                site,
                What::Store {
                    field: Field::TdFlags(l),
                    old,
                    new,
                },
            );
            g.record(
                me,
                site,
                What::Note("final switch-out; lwkt_switch_return(prev) runs on this cpu"),
            );
        }
        let f = self.load(site, Field::TdFlags(l))?;
        // fix:exiting-snapshot takes TDF_EXITING from this read, before TDF_RUNNING clears.
        let snapshot = self
            .has(Switch::ExitingSnapshot)
            .then_some(f & TDF_EXITING != 0);
        self.store(site, Field::TdFlags(l), f & !TDF_RUNNING)?;
        // Nothing but the variant's snapshot is live from here on (local.rs).
        self.noreturn(site, snapshot);
        self.switch_return_exitsig(site, l, snapshot)?;
        Err(Unwind::ThreadGone)
    }
}

fn interrupt_proc(k: &mut Kernel, p: Pid) {
    for l in 0..k.lwps.len() {
        if k.lwps[l].pid == p && !k.lwps[l].freed {
            let a = k.lwps[l].actor;
            interrupt(k, a);
        }
    }
}

/// What a signal's default action leaves to ksignal's caller: a process to stop or continue
/// (the model's proc_stop and proc_unstop take the parent's token, which lwpsignal's caller
/// does not hold).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub enum Then {
    Nothing,
    Stop,
    Continue,
}
