//! lwp_wait and lwp_dispose (kern_exit.c:718-806): waiting out an exiting LWP's thread and
//! freeing it.

use crate::at;
use crate::cx::Cx;
use crate::engine::Engine;
use crate::flags::*;
use crate::kernel::*;
use crate::prims::AOp;
use crate::trace::*;
use crate::variant::Switch;

const TD_MASK: u64 = TDF_RUNNING | TDF_RUNQ | TDF_PREEMPT_LOCK | TDF_EXITING;

impl<E: Engine> Cx<'_, E> {
    /// Ok(true) when the LWP is completely dead; Ok(false): the caller retries.
    pub(crate) fn lwp_wait(&self, lp: LwpId) -> KR<bool> {
        const F: &str = "lwp_wait";
        self.note(
            at!(721, "lwp_thread"),
            What::Text(format!("lwp_wait({})", self.k()?.lwp_label(lp))),
        )?;
        // bug:exiting-flag-early skips the handshake and trusts the TDF flags below.
        if !self.has(Switch::ExitingFlagEarly) {
            self.exitsig_handshake(lp)?;
        }
        // bug:lwp-wait-no-recheck waits each condition out and falls through (2011 form).
        let fall_through = self.has(Switch::LwpWaitNoRecheck);
        while self.load(at!(750, "lwp_lock"), Field::LwpLock(lp))? > 0 {
            self.tsleep(at!(751, "tsleep"), Ident::Lwp(lp), 0, "lwpwait1", true)?;
            if !fall_through {
                return Ok(false);
            }
        }
        while self.load(at!(754, "td_refs"), Field::TdRefs(lp))? != 0 {
            self.tsleep(at!(755, "tsleep"), Ident::Td(lp), 0, "lwpwait2", true)?;
            if !fall_through {
                return Ok(false);
            }
        }
        let flags = self.load_bits(
            at!(768, "td_flags"),
            Field::TdFlags(lp),
            TD_MASK | TDF_RUNQ | TDF_TSLEEPQ,
        )?;
        if flags & TD_MASK != TDF_EXITING {
            self.tsleep(at!(772, "tsleep"), Ident::Lwp(lp), 0, "lwpwait3", true)?;
            return Ok(false);
        }
        let mut g = self.k()?;
        let ok = flags & (TDF_RUNQ | TDF_TSLEEPQ) == 0;
        g.kkassert(
            self.me,
            ok,
            at!(776, "KASSERT"),
            "(td->td_flags & (TDF_RUNQ|TDF_TSLEEPQ)) == 0",
        )?;
        Ok(true)
    }

    /// The thread destruction interlock with lwkt_switch_return (734-744): wait for
    /// TDF_MP_EXITSIG, asking to be woken with TDF_MP_EXITWAIT.
    fn exitsig_handshake(&self, lp: LwpId) -> KR<()> {
        const F: &str = "lwp_wait";
        let head = at!(735, "td_mpflags");
        self.scoped_loop(head, || {
            let mpflags = self.load(head, Field::TdMpflags(lp))?;
            if mpflags & TDF_MP_EXITSIG != 0 {
                return Ok(Some(()));
            }
            self.tsleep_interlock(at!(739, "tsleep_interlock"), Ident::Td(lp), 0)?;
            let site = at!(740, "atomic_cmpset_int");
            if self
                .atomic(
                    site,
                    Field::TdMpflags(lp),
                    AOp::Cmpset(mpflags, mpflags | TDF_MP_EXITWAIT),
                )?
                .1
            {
                self.tsleep(
                    at!(742, "tsleep"),
                    Ident::Td(lp),
                    PINTERLOCKED,
                    "lwpxt",
                    false,
                )?;
            }
            Ok(None)
        })
    }

    pub(crate) fn lwp_dispose(&self, lp: LwpId) -> KR<()> {
        const F: &str = "lwp_dispose";
        let me = self.me;
        let p = {
            let mut g = self.k()?;
            let site = at!(792, "td_refs");
            let refs = g.td(me, lp, site)?.td_refs;
            g.kkassert(me, refs == 0, site, "td->td_refs == 0")?;
            let site = at!(793, "TDF_RUNNING");
            let fl = g.td(me, lp, site)?.td_flags;
            g.kkassert(me, fl & TD_MASK == TDF_EXITING, site, "(td->td_flags & (TDF_RUNNING|TDF_RUNQ|TDF_PREEMPT_LOCK|TDF_EXITING)) == TDF_EXITING")?;
            g.lwp(me, lp, at!(798, "lwp_proc"))?.pid
        };
        // Switched by bug:lwp-no-proc-hold.
        if !self.has(Switch::LwpNoProcHold) {
            self.prele(at!(798, "PRELE"), p)?;
        }
        let objs = [
            Obj::Tok(Tok::Lwp(lp)),
            Obj::Word(Field::LwpMpflags(lp)),
            Obj::Word(Field::LwpLock(lp)),
            Obj::Word(Field::TdFlags(lp)),
            Obj::Word(Field::TdMpflags(lp)),
            Obj::Word(Field::TdRefs(lp)),
        ];
        let mut g = self.sp(&objs)?;
        g.td(me, lp, at!(804, "lwkt_free_thread"))?.td_freed = true;
        g.lwps[lp].freed = true;
        let label = g.lwp_label(lp);
        g.record(
            me,
            at!(806, "kfree"),
            What::Text(format!("{label}: thread and struct lwp freed")),
        );
        Ok(())
    }
}
