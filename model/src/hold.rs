//! Hold counts (sys/proc.h, kern_proc.c): PHOLD, PRELE, PSTALL, PHOLDZOMB, PRELEZOMB on the
//! real `p_lock` layout (count in the low 29 bits, ZOMB and WAITING flags), LWPHOLD/LWPRELE.
//! Every step cites the seed line of the call.

use crate::cx::Cx;
use crate::engine::Engine;
use crate::flags::*;
use crate::kernel::*;
use crate::prims::AOp;
use crate::site::Site;
use crate::trace::*;

impl<'s, E: Engine> Cx<'s, E> {
    pub fn phold(&self, site: &'static Site, p: Pid) -> KR<()> {
        self.atomic_blind(site, Field::PLock(p), AOp::Add(1))?;
        Ok(())
    }

    /// PRELE: -1; if WAITING was set, clear it and wake `&p->p_lock`.
    pub fn prele(&self, site: &'static Site, p: Pid) -> KR<()> {
        let o = self.update(site, Field::PLock(p), |o| {
            (o & PLOCK_MASK > 0).then(|| (o - 1) & !PLOCK_WAITING)
        })?;
        if o & PLOCK_MASK == 0 {
            return Err(self.assert_fail(
                site,
                format!("(p_lock & PLOCK_MASK) > 0 in PRELE of pid {p} (p_lock {o:#x})"),
            ));
        }
        if o & PLOCK_WAITING != 0 {
            self.wakeup(site, Ident::PLock(p))?;
        }
        Ok(())
    }

    pub(crate) fn assert_fail(&self, site: &'static Site, msg: String) -> Unwind {
        match self.k() {
            Ok(mut g) => g.fail(
                Some(self.me),
                ViolationKind::Kkassert,
                Some(site),
                format!("KKASSERT{msg}"),
            ),
            Err(u) => u,
        }
    }

    /// PSTALL(p, msg, n): wait until the hold count is <= n.
    pub fn pstall(&self, site: &'static Site, p: Pid, wmesg: &'static str, n: u64) -> KR<()> {
        self.scoped_loop(site, || {
            let o = self.load(site, Field::PLock(p))?;
            if o & PLOCK_MASK <= n {
                return Ok(Some(()));
            }
            self.tsleep_interlock(site, Ident::PLock(p), 0)?;
            if self
                .atomic(site, Field::PLock(p), AOp::Cmpset(o, o | PLOCK_WAITING))?
                .1
            {
                self.tsleep(site, Ident::PLock(p), PINTERLOCKED, wmesg, false)?;
            }
            Ok(None)
        })
    }

    /// PHOLDZOMB: Ok(false) when the exclusive right to reap was taken (count+1 and ZOMB);
    /// Ok(true) when someone else has it: the caller slept "phldz" and must not touch `p`.
    pub fn pholdzomb(&self, site: &'static Site, p: Pid) -> KR<bool> {
        self.scoped_loop(site, || {
            let o = self.update(site, Field::PLock(p), |o| {
                (o & PLOCK_ZOMB == 0).then_some((o + 1) | PLOCK_ZOMB)
            })?;
            if o & PLOCK_ZOMB == 0 {
                return Ok(Some(false));
            }
            if o & PLOCK_MASK == 0 {
                return Err(self.assert_fail(
                    site,
                    format!("((o & PLOCK_MASK) > 0) in PHOLDZOMB of pid {p}"),
                ));
            }
            self.tsleep_interlock(site, Ident::PLock(p), 0)?;
            if self
                .atomic(site, Field::PLock(p), AOp::Cmpset(o, o | PLOCK_WAITING))?
                .1
            {
                self.tsleep(site, Ident::PLock(p), PINTERLOCKED, "phldz", false)?;
                return Ok(Some(true));
            }
            Ok(None)
        })
    }

    /// PRELEZOMB: -1 and clear ZOMB (and WAITING), waking waiters.
    pub fn prelezomb(&self, site: &'static Site, p: Pid) -> KR<()> {
        let ok = |o: u64| o & PLOCK_ZOMB != 0 && o & PLOCK_MASK > 0;
        let o = self.update(site, Field::PLock(p), |o| {
            ok(o).then(|| (o - 1) & !(PLOCK_ZOMB | PLOCK_WAITING))
        })?;
        if !ok(o) {
            return Err(self.assert_fail(
                site,
                format!("(p_lock & PLOCK_ZOMB) in PRELEZOMB of pid {p} (p_lock {o:#x})"),
            ));
        }
        if o & PLOCK_WAITING != 0 {
            self.wakeup(site, Ident::PLock(p))?;
        }
        Ok(())
    }

    pub fn lwphold(&self, site: &'static Site, l: LwpId) -> KR<()> {
        self.atomic_blind(site, Field::LwpLock(l), AOp::Add(1))?;
        Ok(())
    }

    pub fn lwprele(&self, site: &'static Site, l: LwpId) -> KR<()> {
        self.atomic_blind(site, Field::LwpLock(l), AOp::Add(-1))?;
        Ok(())
    }
}
