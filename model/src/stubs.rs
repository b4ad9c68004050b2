//! Documented stubs for the code outside the seed that the lifecycle calls: kern_proc.c's
//! zombie-list moves and pfind, kern_sig.c's lwpsignal of one LWP (the process-directed
//! path is in `signals.rs`, the user return in `userret.rs`), the taskqueue, and cpu_lwp_exit
//! with lwkt_switch_return's final handshake. Each keeps only what kern_exit.c observes; its steps cite the seed line of the
//! call.

use crate::cx::Cx;
use crate::engine::Engine;
use crate::flags::*;
use crate::kernel::*;
use crate::prims::{interrupt, wake};
use crate::race::Kind;
use crate::site::Site;
use crate::trace::*;
use crate::variant::Switch;

impl<'s, E: Engine> Cx<'s, E> {
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

    /// kern_sig.c lwpsignal(p, lp, SIGKILL): for an untraced process, dropped when the LWP
    /// already has LWP_MP_WEXIT (1126-1135), and a stopped process is set running
    /// (proc_unstop, 1214-1216); then pending on the LWP, and a PCATCH sleep is woken. A
    /// traced process that is stopped keeps the signal pending and stays stopped (1207):
    /// only its tracer sets it running.
    pub(crate) fn lwpsignal_kill(&self, site: &'static Site, l: LwpId) -> KR<()> {
        let me = self.me;
        let pid = self.sys.kernel.lock().lwps[l].pid;
        let proc_state = [Obj::Word(Field::PStat(pid)), Obj::Word(Field::PFlags(pid))];
        let objs = [
            Obj::Sig(pid),
            Obj::Word(Field::LwpMpflags(l)),
            proc_state[0],
            proc_state[1],
            Obj::Ident(Ident::Proc(pid)),
        ];
        let mut g = self.sp_reading(&objs, &proc_state[1..])?;
        let (stat, flags) = {
            let pr = g.proc(me, pid, site)?;
            (pr.stat, pr.flags)
        };
        let traced = flags & P_TRACED != 0;
        let lp = g.lwp(me, l, site)?;
        let text = if !traced && lp.mpflags & LWP_MP_WEXIT != 0 {
            "lwpsignal SIGKILL: dropped, target already has LWP_MP_WEXIT"
        } else if traced && stat == SSTOP {
            lp.sigkill = true;
            "lwpsignal SIGKILL: traced and stopped, left pending"
        } else {
            lp.sigkill = true;
            if stat == SSTOP {
                crate::signals::unstop(&mut g, me, site, pid);
            }
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
