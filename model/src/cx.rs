//! The running actor's view of the kernel: scheduling points, blocking with token release,
//! and deadlock detection. Everything an actor does to kernel state happens between two
//! acquisitions of the kernel lock, and every acquisition is logged in the schedule.

use crate::blocked::{Blocked, BlockedState, Detail};
use crate::engine::{ActorId, Engine};
use crate::kernel::*;
use crate::site::Site;
use crate::stepcheck;
use crate::trace::*;
use parking_lot::{Mutex, MutexGuard};
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

pub struct Sys<E: Engine> {
    pub engine: E,
    /// Read without the kernel lock: it never changes during an execution.
    pub variant: crate::variant::Variant,
    /// Shared with the engine (`Engine::attach`), which may read it between two steps.
    pub kernel: Arc<Mutex<Kernel>>,
    pub threads: Mutex<Vec<Option<E::Thread>>>,
}

/// Kernel lock guard; on release it unparks the actors the step made runnable, after the lock
/// is dropped, because unparking is itself an engine operation.
pub struct KG<'s, E: Engine> {
    g: Option<MutexGuard<'s, Kernel>>,
    sys: &'s Sys<E>,
    /// The kernel state when the lock was taken, while steps are checked (`stepcheck.rs`).
    before: Option<crate::stepcheck::Snapshot>,
}

impl<E: Engine> Deref for KG<'_, E> {
    type Target = Kernel;
    fn deref(&self) -> &Kernel {
        self.g.as_ref().unwrap()
    }
}
impl<E: Engine> DerefMut for KG<'_, E> {
    fn deref_mut(&mut self) -> &mut Kernel {
        self.g.as_mut().unwrap()
    }
}
impl<E: Engine> Drop for KG<'_, E> {
    fn drop(&mut self) {
        let mut g = self.g.take().unwrap();
        let me = g.sched.holder;
        if let Some(before) = self.before.take() {
            crate::stepcheck::verify(&mut g, me, before);
        }
        g.timeouts_due();
        if g.sched.pending_unpark.is_empty() {
            drop(g);
            self.sys.engine.released(me);
            return;
        }
        let mut list = std::mem::take(&mut g.sched.pending_unpark);
        let abort = g.sched.abort;
        drop(g);
        self.sys.engine.released(me);
        list.sort_unstable();
        list.dedup();
        let handles: Vec<E::Thread> = {
            let t = self.sys.threads.lock();
            list.iter()
                .filter_map(|a| t.get(*a).cloned().flatten())
                .collect()
        };
        for h in &handles {
            self.sys.engine.unpark(h);
        }
        if abort {
            self.sys.engine.abort();
        }
    }
}

pub struct Cx<'s, E: Engine> {
    pub sys: &'s Sys<E>,
    pub me: ActorId,
}

impl<'s, E: Engine> Cx<'s, E> {
    /// Take the kernel lock and log the acquisition (the engine has already let us run).
    fn acquire(&self) -> KG<'s, E> {
        let mut g = KG {
            g: Some(self.sys.kernel.lock()),
            sys: self.sys,
            before: None,
        };
        if g.sched.check_steps {
            g.before = Some(crate::stepcheck::snapshot(&g));
        }
        g.sched.holder = self.me;
        g.sched.schedule.push(self.me as u8);
        g
    }

    fn lock(&self) -> KR<KG<'s, E>> {
        let mut g = self.acquire();
        if g.sched.abort {
            return Err(Unwind::Abort);
        }
        if g.sched.step >= g.sched.max_steps {
            let msg = format!(
                "no progress after {} steps: an actor polls forever",
                g.sched.step
            );
            return Err(g.fail(Some(self.me), ViolationKind::Livelock, None, msg));
        }
        Ok(g)
    }

    /// A scheduling point before a step on `objs`, followed by the kernel lock.
    pub fn sp(&self, objs: &[Obj]) -> KR<KG<'s, E>> {
        let go_on = self.sys.engine.switch_point(self.me, objs);
        self.after_point(go_on, || stepcheck::declared(objs, &[], None))
    }

    /// `sp` for a step that accesses `objs` only as `access` says (a load, a blind atomic).
    pub fn sp_as(&self, objs: &[Obj], access: crate::engine::Access) -> KR<KG<'s, E>> {
        let go_on = self.sys.engine.access_point(self.me, objs, access);
        self.after_point(go_on, || stepcheck::declared(objs, &[], Some(access)))
    }

    /// `sp` for a step on `objs` that only reads those of them in `reads`.
    pub(crate) fn sp_reading(&self, objs: &[Obj], reads: &[Obj]) -> KR<KG<'s, E>> {
        let go_on = self.sys.engine.point_reading(self.me, objs, reads);
        self.after_point(go_on, || stepcheck::declared(objs, reads, None))
    }

    /// `sp` for a step ordered with every other step (`Engine::ordered_point`).
    pub(crate) fn sp_ordered(&self, objs: &[Obj]) -> KR<KG<'s, E>> {
        let go_on = self.sys.engine.ordered_point(self.me, objs);
        self.after_point(go_on, || None)
    }

    /// The kernel lock after a scheduling point the engine let this actor pass (or not).
    /// `declared` is what the point declared, for the step check.
    fn after_point(
        &self,
        go_on: bool,
        declared: impl FnOnce() -> stepcheck::Declared,
    ) -> KR<KG<'s, E>> {
        if !go_on {
            return Err(self.replay_ended());
        }
        let mut g = self.lock()?;
        g.sched.points += 1;
        if g.sched.check_steps {
            g.actors[self.me].declared = declared();
        }
        Ok(g)
    }

    /// The kernel lock without a scheduling point: plain accesses under a held token.
    pub fn k(&self) -> KR<KG<'s, E>> {
        if !self.sys.engine.silent(self.me) {
            return Err(self.replay_ended());
        }
        self.lock()
    }

    /// The engine refused to go on (a replayed schedule ran out): stop every actor.
    fn replay_ended(&self) -> Unwind {
        let mut g = self.sys.kernel.lock();
        if !g.sched.abort {
            g.sched.abort = true;
            for a in 0..g.actors.len() {
                g.sched.pending_unpark.push(a);
            }
        }
        let list = std::mem::take(&mut g.sched.pending_unpark);
        drop(g);
        let t = self.sys.threads.lock();
        for h in list.iter().filter_map(|a| t.get(*a).cloned().flatten()) {
            self.sys.engine.unpark(&h);
        }
        drop(t);
        self.sys.engine.abort();
        Unwind::Abort
    }

    fn take_all(k: &mut Kernel, me: ActorId) {
        let toks: Vec<(Tok, bool)> = k.actors[me].toks.iter().map(|(t, _, s)| (*t, *s)).collect();
        for (t, shared) in toks {
            let st = k.tokens.entry(t).or_default();
            if shared {
                if !st.shared.contains(&me) {
                    st.shared.push(me);
                }
            } else {
                st.excl = Some(me);
            }
        }
        k.actors[me].toks_live = true;
    }

    /// Everything the actor holds is released because it blocks (lwkt_switch).
    pub(crate) fn release_all(k: &mut Kernel, me: ActorId) -> Vec<Tok> {
        if !k.actors[me].toks_live {
            return Vec::new();
        }
        let toks: Vec<Tok> = k.actors[me].toks.iter().map(|(t, _, _)| *t).collect();
        for t in &toks {
            Self::drop_token(k, me, *t);
        }
        k.actors[me].toks_live = false;
        toks
    }

    pub(crate) fn drop_token(k: &mut Kernel, me: ActorId, t: Tok) {
        if let Some(st) = k.tokens.get_mut(&t) {
            if st.excl == Some(me) {
                st.excl = None;
            }
            st.shared.retain(|h| *h != me);
        }
        for (i, a) in k.actors.iter().enumerate() {
            if a.run == Run::TokenWait && i != me {
                k.sched.pending_unpark.push(i);
            }
        }
    }

    /// Wait until this actor may run again: woken (or never asleep) and all its tokens
    /// re-acquired (`Kernel::goes_on_when_woken` states when a wakeup lets it leave this loop).
    /// Detects the end of the execution and deadlocks on the way.
    pub(crate) fn block(&self, mut g: KG<'s, E>, site: &'static Site) -> KR<KG<'s, E>> {
        let me = self.me;
        loop {
            if g.sched.abort {
                return Err(Unwind::Abort);
            }
            match g.actors[me].run {
                Run::Running => return Ok(g),
                Run::TokenWait if g.tokens_free(me) => {
                    Self::take_all(&mut g, me);
                    g.actors[me].run = Run::Running;
                    let toks: Vec<Tok> = g.actors[me].toks.iter().map(|(t, _, _)| *t).collect();
                    if !toks.is_empty() {
                        g.record(me, site, What::TokReacquired(toks));
                    }
                    return Ok(g);
                }
                Run::Idle if g.sched.shutdown => return Err(Unwind::Shutdown),
                Run::Timed { .. } if g.runnable(me) => {
                    g.actors[me].run = Run::TokenWait;
                    continue;
                }
                _ => {}
            }
            if !(0..g.actors.len()).any(|a| g.runnable(a)) {
                let live: Vec<ActorId> = (0..g.actors.len())
                    .filter(|a| g.actors[*a].run != Run::Finished)
                    .collect();
                if live.iter().all(|a| g.actors[*a].run == Run::Idle) {
                    g.sched.shutdown = true;
                    g.sched.pending_unpark.extend(live);
                    continue;
                }
                let blocked = Self::blocked_actors(&g);
                let parts: Vec<String> = blocked.iter().map(|b| b.to_string()).collect();
                let msg = format!(
                    "every remaining actor is blocked and nothing can wake them (a lost wakeup): {}",
                    parts.join("; ")
                );
                let detail = Detail::Blocked(blocked);
                return Err(g.fail_with(
                    Some(me),
                    ViolationKind::Deadlock,
                    Some(site),
                    msg,
                    detail,
                ));
            }
            drop(g);
            self.sys.engine.park(me);
            // Taking tokens back is a step on them.
            let want: Vec<Obj> = self.my_tokens().into_iter().map(Obj::Tok).collect();
            g = if want.is_empty() {
                self.k()?
            } else {
                self.sp(&want)?
            };
        }
    }

    /// Whether the variant under test has this switch.
    pub fn has(&self, s: crate::variant::Switch) -> bool {
        self.sys.variant.has(s)
    }

    /// The tokens this actor holds or waits for (only the actor itself changes them).
    pub(crate) fn my_tokens(&self) -> Vec<Tok> {
        self.sys.kernel.lock().actors[self.me]
            .toks
            .iter()
            .map(|(t, _, _)| *t)
            .collect()
    }

    /// The process whose signals reach this actor's sleeps.
    pub(crate) fn my_pid(&self) -> Option<crate::flags::Pid> {
        let k = self.sys.kernel.lock();
        match k.actors[self.me].kind {
            ActorKind::Lwp(l) => Some(k.lwps[l].pid),
            ActorKind::Reaper(_) | ActorKind::Idle(_) => None,
        }
    }

    /// The LWP this actor is (an LWP's script or user return), read without a step.
    pub(crate) fn my_lwp(&self) -> LwpId {
        match self.sys.kernel.lock().actors[self.me].kind {
            ActorKind::Lwp(l) => l,
            ActorKind::Reaper(_) | ActorKind::Idle(_) => unreachable!("not an LWP"),
        }
    }

    /// What every remaining actor is doing when none can run.
    fn blocked_actors(k: &Kernel) -> Vec<Blocked> {
        let mut out = Vec::new();
        for (actor, a) in k.actors.iter().enumerate() {
            let state = match a.run {
                Run::Finished => continue,
                Run::Idle => BlockedState::Idle,
                Run::Sleeping => BlockedState::Asleep {
                    wmesg: a.wmesg,
                    wchan: a.wchan,
                    func: a.func,
                    line: a.line,
                },
                Run::Timed { .. } => BlockedState::TimedSleep { wmesg: a.wmesg },
                Run::TokenWait => BlockedState::TokenWait {
                    tokens: a.toks.iter().map(|(t, _, _)| *t).collect(),
                    line: a.line,
                },
                Run::Running => BlockedState::Running,
            };
            let lwp = match a.kind {
                ActorKind::Lwp(l) => Some((k.lwps[l].pid, k.lwps[l].tid)),
                ActorKind::Reaper(_) | ActorKind::Idle(_) => None,
            };
            out.push(Blocked {
                actor,
                label: a.label.clone(),
                lwp,
                state,
            });
        }
        out
    }

    /// Called once by an actor whose code has ended.
    pub(crate) fn finish(&self) {
        // A cpu is let go by a step of its own (the thread's last switch-out), unless the
        // execution is being abandoned: then nothing runs on it any more. Read without a
        // step: the actor's own state.
        let cpu = {
            let k = self.sys.kernel.lock();
            k.cpu_held(self.me).filter(|_| !k.sched.abort)
        };
        // One turn of the engine's either way: a silent acquisition or the point.
        let mut g = match cpu {
            None => {
                if !self.sys.engine.silent(self.me) {
                    self.replay_ended();
                    return;
                }
                self.acquire()
            }
            Some(c) => match self.sp(&[Obj::Tok(Tok::Cpu(c))]) {
                Ok(g) => g,
                Err(_) => return,
            },
        };
        g.actors[self.me].run = Run::Finished;
        g.actors[self.me].wchan = None;
        Self::release_all(&mut g, self.me);
        g.actors[self.me].toks.clear();
        // Everyone still parked re-checks for the end of the execution or a deadlock.
        for a in 0..g.actors.len() {
            if g.actors[a].run != Run::Finished {
                g.sched.pending_unpark.push(a);
            }
        }
        drop(g);
    }
}
