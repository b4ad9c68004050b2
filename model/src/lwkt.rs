//! LWKT thread switching as the exit lifecycle meets it (lwkt_thread.c of 2014-10-16, which
//! the seed's lwp_wait relies on): a thread's migration to another cpu (lwkt_setcpu_self, the
//! old cpu's lwkt_switch_return, lwkt_setcpu_remote) and lwkt_switch_return's final-exit
//! handshake, which cpu_lwp_exit's last switch-out shares (`stubs.rs`).
//!
//! lwkt_switch_return(otd) runs on the thread a cpu switches to next. After a migration's
//! switch-out that is the old cpu's idle thread, an actor of its own (`run_idle`), so the old
//! cpu's switch-return interleaves with what the migrated thread does on its new cpu, as on
//! two cpus. In the 2014 order it clears TDF_RUNNING first (919-933) and only then reads
//! TDF_EXITING (940) of a thread that, once not running, may already run elsewhere; upstream
//! reads it first since 3a06728ed5 (2016), `fix:exiting-snapshot`.
//!
//! Ordinary switch-outs (a sleep, a contended token) are not modeled step by step: the thread
//! stays on its cpu, whose next thread clears TDF_RUNNING and finds TDF_EXITING clear before
//! anything else can touch the thread, and nothing in the lifecycle reads TDF_RUNNING of a
//! thread that has not exited (docs/model.md).
//!
//! Shared cpus (`share_cpus`, a scenario's `shared_cpus = true`): the actors of one cpu take
//! turns as LWKT threads do. A thread in the kernel runs until it blocks (a sleep, a contended
//! token, a call that may sleep) and may be switched at its return to user mode (the user
//! scheduler); the model makes the cpu a token (`Tok::Cpu`) that its running thread holds,
//! loses when it blocks and takes back before it runs again. Without it every actor behaves
//! as if it had a cpu of its own.

use crate::cx::Cx;
use crate::engine::Engine;
use crate::ext;
use crate::flags::*;
use crate::kernel::*;
use crate::prims::{wake, AOp};
use crate::race::Kind;
use crate::site::Site;
use crate::trace::*;
use crate::variant::Switch;

impl<E: Engine> Cx<'_, E> {
    /// An actor on a shared cpu starts by waiting for the cpu (any of them may run first);
    /// with a cpu of its own, nothing. A step on the cpu's token: the actors waiting for one
    /// cpu race for it, and a reduction must see that (an actor's steps before its first
    /// point count as touching nothing).
    pub fn wait_for_cpu(&self) -> KR<()> {
        let Some(cpu) = self.own_cpu() else {
            return Ok(());
        };
        let g = self.sp(&[Obj::Tok(Tok::Cpu(cpu))])?;
        drop(self.block(g, ext!("lwkt_thread.c", "lwkt_switch"))?);
        Ok(())
    }

    /// The shared cpu the running actor runs on, if its scenario shares cpus. Its own state
    /// (only its own steps change it while it runs), read without a step of the engine's: a
    /// silent kernel access is a step of a replayed schedule, and a scenario with a cpu per
    /// actor must replay the schedules it always did.
    fn own_cpu(&self) -> Option<u8> {
        self.sys.kernel.lock().cpu_of(self.me)
    }

    /// At the return to user mode the user scheduler may switch the cpu to another thread
    /// (lwkt_switch at userret): on a shared cpu the thread lets it go and takes it back, in
    /// two steps with a scheduling point between them, as a call that may sleep does.
    pub(crate) fn usched_switch(&self) -> KR<()> {
        if self.own_cpu().is_none() {
            return Ok(());
        }
        // A scope of its own: the userret step before it may change nothing the fingerprint
        // sees, and the switch must not look like that step to the state engine.
        let site = ext!("trap.c", "userret lwkt_switch");
        self.scope(site, (), || self.may_block(site))
    }

    /// usched_set(USCHED_SET_CPU, cpu) (kern_usched.c 250-253): lwkt_migratecpu(cpu), which
    /// is lwkt_setcpu_self (lwkt_thread.c 1556-1588); nothing when already there.
    pub fn lwkt_migratecpu(&self, cpu: u8) -> KR<()> {
        let me = self.me;
        let (l, _) = self.cur()?;
        let from = self.k()?.lwps[l].cpu;
        if from == cpu {
            return Ok(());
        }
        let site = ext!("lwkt_thread.c", "lwkt_setcpu_self");
        let mut objs = vec![
            Obj::Word(Field::TdFlags(l)),
            Obj::Ident(Ident::Ipi(l)),
            Obj::Ident(Ident::Switch(from)),
        ];
        let shared = self.own_cpu().is_some();
        if shared {
            objs.push(Obj::Tok(Tok::Cpu(from)));
        }
        let mut g = self.sp(&objs)?;
        // In one critical section: TDF_MIGRATING, off the run queue, td_migrate_gd, and the
        // switch away, after which the old cpu's next thread owes it lwkt_switch_return.
        let td = g.td(me, l, site)?;
        let old = td.td_flags;
        td.td_flags |= TDF_MIGRATING;
        td.migrate_gd = Some(cpu);
        let new = td.td_flags;
        g.race_word(me, site, Field::TdFlags(l), Kind::Write, TDF_MIGRATING);
        let field = Field::TdFlags(l);
        g.record(me, site, What::Store { field, old, new });
        g.switch_pending[from as usize].push(l);
        g.race.switch_out(me, l);
        for a in 0..g.actors.len() {
            if g.actors[a].wchan == Some(Ident::Switch(from)) {
                wake(&mut g, a);
            }
        }
        let text = format!("lwkt_switch: off cpu{from}, bound for cpu{cpu}");
        g.record(me, site, What::Text(text));
        let a = &mut g.actors[me];
        a.wchan = Some(Ident::Ipi(l));
        a.wpcatch = false;
        a.wmesg = "migrate";
        a.run = Run::Sleeping;
        let lost = Self::release_all(&mut g, me);
        if !lost.is_empty() {
            g.record(me, site, What::TokLostByBlocking(lost));
        }
        // Off cpu `from` for good: the IPI hands the thread to `cpu`.
        g.actors[me].toks.retain(|(t, _, _)| *t != Tok::Cpu(from));
        drop(self.block(g, site)?);
        self.lwkt_setcpu_remote(l, cpu, shared)
    }

    /// lwkt_setcpu_remote (lwkt_thread.c 1609-1620), the IPI the old cpu's switch-return
    /// sent, then the new cpu's lwkt_switch picking the thread (890).
    fn lwkt_setcpu_remote(&self, l: LwpId, cpu: u8, shared: bool) -> KR<()> {
        let me = self.me;
        let site = ext!("lwkt_thread.c", "lwkt_setcpu_remote");
        let mut objs = vec![Obj::Word(Field::TdFlags(l))];
        if shared {
            objs.push(Obj::Tok(Tok::Cpu(cpu)));
        }
        let mut g = self.sp(&objs)?;
        let td = g.td(me, l, site)?;
        let (old, gd) = (td.td_flags, td.migrate_gd);
        let what = "(td->td_flags & (TDF_RUNNING|TDF_PREEMPT_LOCK)) == 0";
        g.kkassert(me, old & (TDF_RUNNING | TDF_PREEMPT_LOCK) == 0, site, what)?;
        g.kkassert(me, gd.is_none(), site, "td->td_migrate_gd == NULL")?;
        let td = g.td(me, l, site)?;
        td.cpu = cpu;
        // KKASSERT((ntd->td_flags & TDF_RUNNING) == 0) at 889 holds by the assertion above.
        td.td_flags = (old & !TDF_MIGRATING) | TDF_RUNNING;
        let new = td.td_flags;
        g.race_word(
            me,
            site,
            Field::TdFlags(l),
            Kind::Write,
            TDF_MIGRATING | TDF_RUNNING,
        );
        let field = Field::TdFlags(l);
        g.record(me, site, What::Store { field, old, new });
        let text = format!("on cpu{cpu}: td_gd set, TDF_MIGRATING cleared, running");
        g.record(me, site, What::Text(text));
        if shared {
            // Enqueued on `cpu`: it runs there once that cpu's thread lets it.
            g.actors[me].toks.push((Tok::Cpu(cpu), 1, false));
            g.actors[me].toks_live = false;
            g.actors[me].run = Run::TokenWait;
            drop(self.block(g, site)?);
        }
        Ok(())
    }

    /// lwkt_switch_return(otd) on the cpu otd switched away from (lwkt_thread.c 909-960), for
    /// an ordinary (migrating) switch-out.
    fn lwkt_switch_return(&self, otd: LwpId) -> KR<()> {
        let me = self.me;
        let site = ext!("lwkt_thread.c", "lwkt_switch_return");
        let snapshot = self.exiting_snapshot(site, otd)?;
        let mut g = self.sp(&[Obj::Word(Field::TdFlags(otd)), Obj::Ident(Ident::Ipi(otd))])?;
        let td = g.td(me, otd, site)?;
        let old = td.td_flags;
        let migrate = td.migrate_gd.filter(|_| old & TDF_PREEMPT_LOCK == 0);
        if let Some(rgd) = migrate {
            let both = TDF_MIGRATING | TDF_RUNNING;
            let what =
                "(otd->td_flags & (TDF_MIGRATING | TDF_RUNNING)) == (TDF_MIGRATING | TDF_RUNNING)";
            g.kkassert(me, old & both == both, site, what)?;
            g.td(me, otd, site)?.migrate_gd = None;
            Self::clear_running(&mut g, me, site, otd)?;
            for a in 0..g.actors.len() {
                if g.actors[a].wchan == Some(Ident::Ipi(otd)) {
                    wake(&mut g, a);
                }
            }
            let text = format!(
                "lwkt_send_ipiq(cpu{rgd}, lwkt_setcpu_remote, {})",
                g.lwp_label(otd)
            );
            g.record(me, site, What::Text(text));
        } else {
            Self::clear_running(&mut g, me, site, otd)?;
        }
        drop(g);
        self.switch_return_exitsig(site, otd, snapshot)
    }

    /// `otd->td_flags &= ~TDF_RUNNING` within a step that declared otd's td_flags.
    fn clear_running(g: &mut Kernel, me: usize, site: &'static Site, otd: LwpId) -> KR<()> {
        let td = g.td(me, otd, site)?;
        let old = td.td_flags;
        td.td_flags &= !TDF_RUNNING;
        let new = td.td_flags;
        g.race_word(me, site, Field::TdFlags(otd), Kind::Write, TDF_RUNNING);
        let field = Field::TdFlags(otd);
        g.record(me, site, What::Store { field, old, new });
        Ok(())
    }

    /// With fix:exiting-snapshot, TDF_EXITING as read before TDF_RUNNING is cleared.
    pub(crate) fn exiting_snapshot(&self, site: &'static Site, otd: LwpId) -> KR<Option<bool>> {
        if !self.has(Switch::ExitingSnapshot) {
            return Ok(None);
        }
        let f = self.load_bits(site, Field::TdFlags(otd), TDF_EXITING)?;
        Ok(Some(f != 0))
    }

    /// The final exit validations of lwkt_switch_return (lwkt_thread.c 940-960): while otd
    /// has TDF_EXITING, set TDF_MP_EXITSIG with a compare-and-set and wake a waiter that set
    /// TDF_MP_EXITWAIT. The 2014 code reads TDF_EXITING here, after TDF_RUNNING is clear;
    /// `snapshot` is the value read before (fix:exiting-snapshot). From EXITSIG on the thread
    /// may be freed.
    pub(crate) fn switch_return_exitsig(
        &self,
        site: &'static Site,
        otd: LwpId,
        snapshot: Option<bool>,
    ) -> KR<()> {
        let head = ext!("lwkt_thread.c", "lwkt_switch_return exit loop");
        self.scope(head, (otd, snapshot), || loop {
            self.restart(head, ());
            let exiting = match snapshot {
                Some(e) => e,
                None => self.load_bits(site, Field::TdFlags(otd), TDF_EXITING)? != 0,
            };
            if !exiting {
                return Ok(());
            }
            let m = self.load(site, Field::TdMpflags(otd))?;
            let set = AOp::Cmpset(m, m | TDF_MP_EXITSIG);
            if self.atomic(site, Field::TdMpflags(otd), set)?.1 {
                if m & TDF_MP_EXITWAIT != 0 {
                    self.wakeup(site, Ident::Td(otd))?;
                }
                return Ok(());
            }
        })
    }
}

/// A cpu's idle thread, the next thread there after a migrating thread switched out: it runs
/// the switch-returns the cpu owes, and otherwise idles.
pub fn run_idle<E: Engine>(cx: &Cx<'_, E>, cpu: u8) -> KR<()> {
    let site = ext!("lwkt_thread.c", "lwkt_switch");
    loop {
        cx.restart(site, ());
        cx.tsleep_interlock(site, Ident::Switch(cpu), 0)?;
        let otd = {
            let mut g = cx.k()?;
            let owed = &mut g.switch_pending[cpu as usize];
            let otd = (!owed.is_empty()).then(|| owed.remove(0));
            if let Some(otd) = otd {
                let me = cx.me;
                g.race.switch_return(me, otd);
            }
            otd
        };
        match otd {
            Some(otd) => {
                // The thread it owes is all that is live (the pop above takes no step).
                cx.restart(site, otd);
                cx.lwkt_switch_return(otd)?
            }
            None => {
                cx.tsleep(site, Ident::Switch(cpu), PINTERLOCKED, "idle", false)?;
            }
        }
    }
}

/// Makes the actors of each cpu share it: each one's cpu is a token it must hold to run, and
/// all start waiting for it (`Cx::wait_for_cpu`), so any of them may be the first to run.
pub fn share_cpus(k: &mut Kernel) {
    for a in 0..k.actors.len() {
        let cpu = match k.actors[a].kind {
            ActorKind::Lwp(l) => k.lwps[l].cpu,
            ActorKind::Reaper(c) | ActorKind::Idle(c) => c,
        };
        let t = Tok::Cpu(cpu);
        k.actors[a].toks.push((t, 1, false));
        k.tokens.entry(t).or_default();
        k.actors[a].toks_live = false;
        k.actors[a].run = Run::TokenWait;
    }
}
