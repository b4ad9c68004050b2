//! LWKT tokens, tsleep/wakeup and atomics, as the 2014 kernel behaves
//! (lwkt_token.c, kern_synch.c; see docs/model.md for what is simplified).

use crate::cx::Cx;
use crate::engine::{Access, ActorId, Engine};
use crate::flags::*;
use crate::kernel::*;
use crate::race::Kind;
use crate::site::Site;
use crate::trace::*;
use crate::variant::Switch;

#[derive(Clone, Copy, Debug)]
pub enum AOp {
    Set(u64),
    Clear(u64),
    Add(i64),
    /// atomic_cmpset: (expected, new).
    Cmpset(u64, u64),
}

impl<'s, E: Engine> Cx<'s, E> {
    pub fn lwkt_gettoken(&self, site: &'static Site, t: Tok) -> KR<()> {
        self.gettoken(site, t, false)
    }
    pub fn lwkt_gettoken_shared(&self, site: &'static Site, t: Tok) -> KR<()> {
        self.gettoken(site, t, true)
    }

    /// One scope: whether the token was contended is not the caller's to know.
    fn gettoken(&self, site: &'static Site, t: Tok, shared: bool) -> KR<()> {
        self.scope(site, (), || self.gettoken_steps(site, t, shared))
    }

    fn gettoken_steps(&self, site: &'static Site, t: Tok, shared: bool) -> KR<()> {
        let me = self.me;
        let mut g = self.sp(&[Obj::Tok(t)])?;
        if let Some(e) = g.actors[me].toks.iter_mut().find(|(x, _, _)| *x == t) {
            e.1 += 1;
            g.record(me, site, What::TokRecursed(t));
            return Ok(());
        }
        let st = g.tokens.entry(t).or_default();
        let holder = match st.excl {
            Some(h) if h != me => Some(h),
            _ if !shared => st.shared.iter().copied().find(|h| *h != me),
            _ => None,
        };
        g.actors[me].toks.push((t, 1, shared));
        match holder {
            None => {
                let st = g.tokens.get_mut(&t).unwrap();
                if shared {
                    st.shared.push(me);
                } else {
                    st.excl = Some(me);
                }
                g.record(me, site, What::TokAcquired(t, shared));
                Ok(())
            }
            Some(h) => {
                g.record(me, site, What::TokContended(t, h));
                g.actors[me].toks.pop();
                // Blocking releases everything held: a step on each of those tokens, and on
                // `t`, which this same step takes if its holder has let it go meanwhile.
                let mut held: Vec<Obj> = g.actors[me]
                    .toks
                    .iter()
                    .map(|(x, _, _)| Obj::Tok(*x))
                    .collect();
                if !held.is_empty() {
                    held.push(Obj::Tok(t));
                    drop(g);
                    g = self.sp(&held)?;
                }
                let lost = Self::release_all(&mut g, me);
                if !lost.is_empty() {
                    g.record(me, site, What::TokLostByBlocking(lost));
                }
                g.actors[me].toks.push((t, 1, shared));
                g.actors[me].run = Run::TokenWait;
                let _g = self.block(g, site)?;
                Ok(())
            }
        }
    }

    pub fn lwkt_reltoken(&self, site: &'static Site, t: Tok) -> KR<()> {
        let me = self.me;
        let mut g = self.sp(&[Obj::Tok(t)])?;
        let Some(i) = g.actors[me].toks.iter().position(|(x, _, _)| *x == t) else {
            let msg = format!("lwkt_reltoken of {t}, which is not held");
            return Err(g.fail(Some(me), ViolationKind::Kkassert, Some(site), msg));
        };
        g.record(me, site, What::TokReleased(t));
        let a = &mut g.actors[me];
        a.toks[i].1 -= 1;
        if a.toks[i].1 == 0 {
            a.toks.remove(i);
            Self::drop_token(&mut g, me, t);
        }
        Ok(())
    }

    /// A call outside the seed that may sleep (fdfree, vmspace_relexit, vmspace_exitfree, ...):
    /// a thread that blocks loses every token it holds (lwkt_switch) and takes them back when
    /// it runs again. Two steps with a scheduling point between them: whether it slept is the
    /// scheduler's choice (nobody running in between is the call that did not sleep). Holding
    /// no token, a sleep changes nothing another actor can see, so there is no step.
    pub(crate) fn may_block(&self, site: &'static Site) -> KR<()> {
        let me = self.me;
        let held: Vec<Obj> = {
            let g = self.k()?;
            if !g.actors[me].toks_live {
                return Ok(());
            }
            g.actors[me]
                .toks
                .iter()
                .map(|(t, _, _)| Obj::Tok(*t))
                .collect()
        };
        if held.is_empty() {
            return Ok(());
        }
        let mut g = self.sp(&held)?;
        let lost = Self::release_all(&mut g, me);
        g.record(me, site, What::TokLostByBlocking(lost));
        drop(g);
        let mut g = self.sp(&held)?;
        g.actors[me].run = Run::TokenWait;
        let _g = self.block(g, site)?;
        Ok(())
    }

    pub fn holds(&self, t: Tok) -> KR<bool> {
        Ok(self.k()?.holds(self.me, t))
    }

    /// What a PCATCH sleep returns for the signals pending on its LWP (tsleep's CURSIG):
    /// EINTR for a signal the process acts on, ERESTART for one a traced process stops for
    /// and whose default action kills (`signals::traced_cursig`), 0 for none.
    pub(crate) fn cursig(k: &Kernel, me: ActorId) -> i32 {
        let ActorKind::Lwp(l) = k.actors[me].kind else {
            return 0;
        };
        let lp = &k.lwps[l];
        let Some(p) = k.procs.get(&lp.pid) else {
            return 0;
        };
        if lp.sigkill || p.killed || p.sigchld || p.fatal != 0 || p.caught != 0 {
            EINTR
        } else {
            crate::signals::traced_cursig(p)
        }
    }

    /// Objects a sleep touches: it writes its ident and the tokens it releases, and reads
    /// the signal state of its process (CURSIG). What it writes of its own sleep state (wait
    /// channel, PCATCH) is read by the signal senders, which write `Sig(p)`; two sleeps of
    /// one process's LWPs touch disjoint sleep states, so they commute there.
    /// Returns every object, and those only read.
    fn sleep_objs(&self, ident: Ident, with_tokens: bool) -> (Vec<Obj>, Vec<Obj>) {
        let mut objs = vec![Obj::Ident(ident)];
        if with_tokens {
            objs.extend(self.my_tokens().into_iter().map(Obj::Tok));
        }
        let reads: Vec<Obj> = self.my_pid().map(Obj::Sig).into_iter().collect();
        objs.extend(&reads);
        (objs, reads)
    }

    pub fn tsleep_interlock(&self, site: &'static Site, ident: Ident, flags: u32) -> KR<()> {
        let me = self.me;
        let (objs, reads) = self.sleep_objs(ident, false);
        let mut g = self.sp_reading(&objs, &reads)?;
        let a = &mut g.actors[me];
        a.wchan = Some(ident);
        a.wpcatch = flags & PCATCH != 0;
        g.record(me, site, What::Interlock(ident));
        Ok(())
    }

    /// tsleep(ident, flags, wmesg, timo). A timed sleep may return without a wakeup; the
    /// kernel's tokens are released only once the thread is queued, and re-acquired before
    /// it returns. An untimed sleep on one of the actor's `idle_on` idents is its idle state
    /// (a daemon waiting for work, an LWP whose script is done): when every actor left is
    /// idle the execution ends and the sleep returns Err(Shutdown).
    pub fn tsleep(
        &self,
        site: &'static Site,
        ident: Ident,
        flags: u32,
        wmesg: &'static str,
        timed: bool,
    ) -> KR<i32> {
        let me = self.me;
        let pcatch = flags & PCATCH != 0;
        let (objs, reads) = self.sleep_objs(ident, true);
        // A timed sleep's timeout depends on which actors step before and after it begins
        // (`Kernel::timeout_due`): it is ordered with every other step.
        let mut g = if timed {
            self.sp_ordered(&objs)?
        } else {
            self.sp_reading(&objs, &reads)?
        };
        let mut early = if pcatch { Self::cursig(&g, me) } else { 0 };
        // fix:stop-completes: an LWP of a stopped process not counted stopped goes to tstop.
        if early == 0 && pcatch && g.variant.has(Switch::PcatchSleepStops) {
            early = crate::signals::stopped_uncounted(&g, me);
        }
        if early != 0 {
            g.actors[me].wchan = None;
            g.record(
                me,
                site,
                What::Woke {
                    ident,
                    why: WakeWhy::of_signal(early, WakeWhy::SignalPending),
                },
            );
            return Ok(early);
        }
        if flags & PINTERLOCKED != 0 {
            if g.actors[me].wchan != Some(ident) {
                // kern_synch.c goes to `resume`, where a PCATCH sleep returns EINTR for any
                // signal pending then (CURSIG), whatever took it off the queue.
                let err = if pcatch { Self::cursig(&g, me) } else { 0 };
                let why = if err != 0 {
                    WakeWhy::of_signal(err, WakeWhy::Signal)
                } else {
                    WakeWhy::Interlocked
                };
                g.record(me, site, What::Woke { ident, why });
                return Ok(err);
            }
        } else {
            g.actors[me].wchan = Some(ident);
        }
        {
            let a = &mut g.actors[me];
            a.wpcatch = pcatch;
            a.wmesg = wmesg;
        }
        g.record(
            me,
            site,
            What::Sleep {
                ident,
                wmesg,
                timed,
                pcatch,
            },
        );
        let lost = Self::release_all(&mut g, me);
        if !lost.is_empty() {
            g.record(me, site, What::TokLostByBlocking(lost));
        }
        // A halt in tstop is a state the kernel can rest in, as an idle daemon is.
        let idle = g.actors[me].idle_on.contains(&ident) || wmesg == crate::signals::TSTOP_WMESG;
        let began = g.sched.step;
        g.actors[me].run = if timed {
            Run::Timed { began }
        } else if idle {
            Run::Idle
        } else {
            Run::Sleeping
        };
        g = self.block(g, site)?;
        // At `resume` a PCATCH sleep that did not time out returns EINTR if a signal is
        // pending then, whether the signal or a wakeup ended the sleep (CURSIG).
        let err = if pcatch { Self::cursig(&g, me) } else { 0 };
        let why = if g.actors[me].wchan == Some(ident) {
            g.actors[me].wchan = None;
            WakeWhy::Timeout
        } else if err != 0 {
            WakeWhy::of_signal(err, WakeWhy::Signal)
        } else {
            WakeWhy::Wakeup
        };
        g.record(me, site, What::Woke { ident, why });
        Ok(match why {
            WakeWhy::Timeout => EWOULDBLOCK,
            WakeWhy::Signal | WakeWhy::Restart => err,
            _ => 0,
        })
    }

    pub fn wakeup(&self, site: &'static Site, ident: Ident) -> KR<()> {
        let me = self.me;
        let mut g = self.sp(&[Obj::Ident(ident)])?;
        let mut woken = Vec::new();
        for a in 0..g.actors.len() {
            if g.actors[a].wchan == Some(ident) {
                wake(&mut g, a);
                woken.push(a);
            }
        }
        g.record(me, site, What::Wakeup { ident, woken });
        Ok(())
    }

    pub fn atomic(&self, site: &'static Site, f: Field, op: AOp) -> KR<(u64, bool)> {
        self.atomic_op(site, f, op, true)
    }

    /// An atomic whose result the code discards (`atomic_add_int(&p->p_lock, 1)` in PHOLD):
    /// its old value does not become part of the actor's local state.
    pub(crate) fn atomic_blind(&self, site: &'static Site, f: Field, op: AOp) -> KR<()> {
        self.atomic_op(site, f, op, false).map(|_| ())
    }

    fn atomic_op(&self, site: &'static Site, f: Field, op: AOp, used: bool) -> KR<(u64, bool)> {
        let me = self.me;
        let objs = [Obj::Word(f)];
        let mut g = match op {
            AOp::Add(_) if !used => self.sp_as(&objs, Access::Add)?,
            AOp::Set(_) if !used => self.sp_as(&objs, Access::Set)?,
            AOp::Clear(_) if !used => self.sp_as(&objs, Access::Clear)?,
            _ => self.sp(&objs)?,
        };
        let w = g.word(me, f, site)?;
        let old = *w;
        let (new, ok) = match op {
            AOp::Set(b) => (old | b, true),
            AOp::Clear(b) => (old & !b, true),
            AOp::Add(d) => (old.wrapping_add(d as u64), true),
            AOp::Cmpset(exp, new) => {
                if old == exp {
                    (new, true)
                } else {
                    (old, false)
                }
            }
        };
        *w = new;
        let what = match op {
            AOp::Cmpset(exp, _) if !ok => What::CmpsetFailed {
                field: f,
                expected: exp,
                found: old,
            },
            _ => What::Atomic { field: f, old, new },
        };
        g.record_as(me, site, what, used);
        g.race_word(me, site, f, Kind::Atomic, u64::MAX);
        Ok((old, ok))
    }

    /// A compare-and-set retry loop collapsed into its one successful step: `f` maps the old
    /// value to the new one (None: leave it). Returns the old value.
    pub(crate) fn update(
        &self,
        site: &'static Site,
        f: Field,
        upd: impl FnOnce(u64) -> Option<u64>,
    ) -> KR<u64> {
        let me = self.me;
        let mut g = self.sp(&[Obj::Word(f)])?;
        let w = g.word(me, f, site)?;
        let old = *w;
        let what = match upd(old) {
            Some(new) => {
                *w = new;
                What::Atomic { field: f, old, new }
            }
            None => What::Load { field: f, val: old },
        };
        g.record(me, site, what);
        g.race_word(me, site, f, Kind::Atomic, u64::MAX);
        Ok(old)
    }

    pub fn load(&self, site: &'static Site, f: Field) -> KR<u64> {
        self.load_testing(site, f, u64::MAX)
    }

    /// A load whose code tests only the bits `mask` (for the race check).
    fn load_testing(&self, site: &'static Site, f: Field, mask: u64) -> KR<u64> {
        let me = self.me;
        let mut g = self.sp_as(&[Obj::Word(f)], Access::Read)?;
        let val = *g.word(me, f, site)?;
        g.record(me, site, What::Load { field: f, val });
        g.race_word(me, site, f, Kind::Read, mask);
        Ok(val)
    }

    /// A load whose value the code only tests against `mask` (`p->p_flag & P_WEXIT`): the
    /// caller receives the masked bits, so the rest of the word, which it never looks at, is
    /// not part of its local state. The trace still shows the whole word.
    pub fn load_bits(&self, site: &'static Site, f: Field, mask: u64) -> KR<u64> {
        self.scope(site, (f, mask), || {
            Ok(self.load_testing(site, f, mask)? & mask)
        })
    }

    pub fn store(&self, site: &'static Site, f: Field, new: u64) -> KR<()> {
        self.store_changing(site, f, new, u64::MAX)
    }

    /// A store that may change only the bits `mask` (for the race check).
    fn store_changing(&self, site: &'static Site, f: Field, new: u64, mask: u64) -> KR<()> {
        let me = self.me;
        let mut g = self.sp(&[Obj::Word(f)])?;
        let w = g.word(me, f, site)?;
        let old = *w;
        *w = new;
        g.record(me, site, What::Store { field: f, old, new });
        g.race_word(me, site, f, Kind::Write, mask);
        Ok(())
    }

    /// `x |= bits` / `x &= ~bits` on a shared word written as plain C: a load and a store,
    /// each its own step, so a concurrent atomic update in between can be lost.
    /// The value loaded lives only until the store: one local-state scope.
    pub fn plain_set(&self, site: &'static Site, f: Field, bits: u64) -> KR<()> {
        self.scope(site, (f, bits), || {
            let v = self.load(site, f)?;
            self.store_changing(site, f, v | bits, bits)
        })
    }
    pub fn plain_clear(&self, site: &'static Site, f: Field, bits: u64) -> KR<()> {
        self.scope(site, (f, !bits), || {
            let v = self.load(site, f)?;
            self.store_changing(site, f, v & !bits, bits)
        })
    }

    pub fn note(&self, site: &'static Site, what: What) -> KR<()> {
        let mut g = self.k()?;
        g.record(self.me, site, what);
        Ok(())
    }
}

/// Remove an actor from its wait channel and make it runnable (it re-acquires its tokens).
pub fn wake(k: &mut Kernel, a: ActorId) {
    k.race.wake(k.sched.holder, a);
    let ac = &mut k.actors[a];
    ac.wchan = None;
    if matches!(ac.run, Run::Sleeping | Run::Idle | Run::Timed { .. }) {
        ac.run = Run::TokenWait;
        k.sched.pending_unpark.push(a);
    }
}

/// A signal for this actor: a PCATCH sleep returns EINTR.
pub(crate) fn interrupt(k: &mut Kernel, a: ActorId) {
    let ac = &k.actors[a];
    if ac.wchan.is_some() && ac.wpcatch {
        wake(k, a);
    }
}
