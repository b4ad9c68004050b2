//! Process groups as the exit path meets them: `leavepgrp` (kern_proc.c 756-779), which
//! kern_wait calls at 993 after the zombie left allproc, and the walks of a group's members:
//! `pgsignal` (kern_sig.c 865-880), behind the terminal's signals (tty.c) and exit1's SIGHUP
//! (420), and `dokillpg` (kern_sig.c 661-708), behind kill(2) with a negative pid.
//! `pg_members` is a singly linked LIST: LIST_REMOVE leaves the removed member's `le_next` as
//! it was. Steps cite the seed line of the call.

use crate::cx::Cx;
use crate::engine::Engine;
use crate::ext;
use crate::flags::*;
use crate::kern_exit::exit::INITPID;
use crate::kernel::*;
use crate::site::Site;
use crate::trace::*;
use crate::variant::Switch;

impl<'s, E: Engine> Cx<'s, E> {
    /// kern_proc.c leavepgrp: under the process's token, then the group's pg_token, re-checked
    /// because taking pg_token may block: `p_pgrp = NULL` and LIST_REMOVE from `pg_members`.
    /// (pgref/pgrel are left out: groups are never freed in the model.)
    pub(crate) fn leavepgrp(&self, site: &'static Site, p: Pid) -> KR<()> {
        let me = self.me;
        self.lwkt_gettoken(site, Tok::Proc(p))?;
        loop {
            let pg = self.k()?.pgrp_of(me, p, site)?;
            let Some(g) = pg else { break };
            self.lwkt_gettoken(site, Tok::Pgrp(g))?;
            if self.k()?.pgrp_of(me, p, site)? != Some(g) {
                self.lwkt_reltoken(site, Tok::Pgrp(g))?;
                continue;
            }
            {
                let mut k = self.k()?;
                k.need(me, Tok::Pgrp(g), "pg_members", site)?;
                if !unlink_member(&mut k, g, p) {
                    let msg = format!("LIST_REMOVE of pid {p} from pgrp {g}, where it is not");
                    return Err(k.fail(Some(me), ViolationKind::ListCorruption, Some(site), msg));
                }
                k.proc(me, p, site)?.pgrp = None;
                k.record(
                    me,
                    site,
                    What::Text(format!("leavepgrp: pid {p} off pgrp {g}'s pg_members")),
                );
            }
            self.lwkt_reltoken(site, Tok::Pgrp(g))?;
            break;
        }
        self.lwkt_reltoken(site, Tok::Proc(p))
    }

    /// kern_sig.c pgsignal(pgrp, sig, checkctty): under pg_lock, ksignal every member (with a
    /// controlling terminal if `checkctty`).
    pub fn pgsignal(&self, call: &'static Site, g: Pid, sig: i32, checkctty: bool) -> KR<()> {
        let site = ext!("kern_sig.c", "pgsignal");
        self.note(
            call,
            What::Text(format!("pgsignal(pgrp {g}, {sig}, {})", checkctty as u8)),
        )?;
        if !self.k()?.pgrps.contains_key(&g) {
            return self.note(site, What::Text(format!("pgrp {g} does not exist")));
        }
        self.pg_lock(site, g)?;
        self.walk_pg_members(site, g, |p| {
            if self.pgsignal_wants(site, p, checkctty)? {
                // A terminal's stop and continue signals are not modeled (docs/model.md).
                let _ = self.ksignal(ext!("kern_sig.c", "lwpsignal"), p, sig)?;
            }
            Ok(())
        })?;
        self.pg_unlock(site, g)
    }

    /// kern_sig.c dokillpg (661-708), kill(2) with a negative pid: `pgid` 0 is the caller's own
    /// group (pgfind otherwise, ESRCH for none). Under pg_lock, every member but init and
    /// zombies (`p_stat` read without a token) is signalled; ESRCH when none was. There are no
    /// P_SYSTEM processes here and CANSIGNAL holds (one credential).
    pub fn dokillpg(&self, call: &'static Site, pgid: Pid, sig: i32) -> KR<i32> {
        let site = ext!("kern_sig.c", "dokillpg");
        let g = if pgid == 0 {
            let (_, me) = self.cur()?;
            self.k()?.procs[&me].pgid
        } else {
            pgid
        };
        self.note(
            call,
            What::Text(format!("kill(-{g}, {}): dokillpg", signal_name(sig))),
        )?;
        if !self.k()?.pgrps.contains_key(&g) {
            return Ok(ESRCH);
        }
        self.pg_lock(site, g)?;
        let mut found = 0;
        self.walk_pg_members(site, g, |p| {
            if p <= INITPID || self.load(site, Field::PStat(p))? == SZOMB {
                return Ok(());
            }
            found += 1;
            if sig != 0 {
                let _ = self.ksignal(ext!("kern_sig.c", "lwpsignal"), p, sig)?;
            }
            Ok(())
        })?;
        self.pg_unlock(site, g)?;
        Ok(if found == 0 { ESRCH } else { 0 })
    }

    /// LIST_FOREACH over `pg_members` as pgsignal and dokillpg write it: the seed walks the list
    /// under pg_lock only, without pg_token; `fix:pgsignal-pg-token` walks it under pg_token
    /// and holds each member.
    fn walk_pg_members(
        &self,
        site: &'static Site,
        g: Pid,
        mut visit: impl FnMut(Pid) -> KR<()>,
    ) -> KR<()> {
        // Switched by bug:no-reap-stall and fix:pgsignal-pg-token.
        if self.has(Switch::PgsignalPgToken) {
            return self.walk_pg_members_held(site, g, visit);
        }
        let mut cur = self.pg_members_unlocked(site, g, None)?;
        while let Some(p) = cur {
            visit(p)?;
            cur = self.pg_members_unlocked(site, g, Some(p))?;
        }
        Ok(())
    }

    /// The fixed walk: pg_token held (lost and regained whenever a visit blocks), each member
    /// held from before its visit until its successor is held, and a restart from the head
    /// when the member left the group while the visit blocked.
    fn walk_pg_members_held(
        &self,
        site: &'static Site,
        g: Pid,
        mut visit: impl FnMut(Pid) -> KR<()>,
    ) -> KR<()> {
        let me = self.me;
        self.lwkt_gettoken(site, Tok::Pgrp(g))?;
        'restart: loop {
            let mut cur = self.k()?.pg_first(me, g, site)?;
            if let Some(p) = cur {
                self.phold(site, p)?;
            }
            while let Some(p) = cur {
                visit(p)?;
                if !self.k()?.in_pgrp(me, p, g, site)? {
                    self.note(
                        site,
                        What::Text(format!("pid {p} left pgrp {g} meanwhile: walk again")),
                    )?;
                    self.prele(site, p)?;
                    continue 'restart;
                }
                let next = self.k()?.pg_next(me, g, p, site)?;
                if let Some(n) = next {
                    self.phold(site, n)?;
                }
                self.prele(site, p)?;
                cur = next;
            }
            break;
        }
        self.lwkt_reltoken(site, Tok::Pgrp(g))
    }

    /// `checkctty == 0 || p->p_flags & P_CONTROLT`.
    fn pgsignal_wants(&self, site: &'static Site, p: Pid, checkctty: bool) -> KR<bool> {
        let flags = self.load_bits(site, Field::PFlags(p), P_CONTROLT)?;
        Ok(!checkctty || flags != 0)
    }

    /// LIST_FIRST (`after` None) or LIST_NEXT of `pg_members` read under pg_lock only: a step
    /// on the group's token (leavepgrp writes the list under it) and, for LIST_NEXT, on the
    /// member whose `le_next` is read.
    fn pg_members_unlocked(
        &self,
        site: &'static Site,
        g: Pid,
        after: Option<Pid>,
    ) -> KR<Option<Pid>> {
        let me = self.me;
        let mut objs = vec![Obj::Tok(Tok::Pgrp(g))];
        objs.extend(after.map(|p| Obj::Tok(Tok::Proc(p))));
        let mut k = self.sp(&objs)?;
        let (next, text) = match after {
            None => (
                k.pgrps[&g].first,
                format!("LIST_FIRST(pgrp {g}'s pg_members) without pg_token"),
            ),
            Some(p) if k.procs[&p].freed => {
                let msg = format!(
                    "LIST_NEXT(pid {p}, p_pglist) reads the list link of pid {p}, freed by \
                     kfree(p, M_PROC): pgsignal walks pg_members under pg_lock, which leavepgrp does not take"
                );
                return Err(k.fail(Some(me), ViolationKind::UseAfterFree, Some(site), msg));
            }
            Some(p) => (
                k.proc(me, p, site)?.pg_next,
                format!("LIST_NEXT(pid {p}, p_pglist) without pg_token"),
            ),
        };
        let shown = next.map_or("NULL".to_string(), |n| format!("pid {n}"));
        k.record(me, site, What::Text(format!("{text} = {shown}")));
        Ok(next)
    }

    /// lockmgr(&pgrp->pg_lock, LK_EXCLUSIVE): a sleep lock, kept while its holder blocks.
    fn pg_lock(&self, site: &'static Site, g: Pid) -> KR<()> {
        let me = self.me;
        let ident = Ident::PgLock(g);
        loop {
            self.tsleep_interlock(site, ident, 0)?;
            {
                let mut k = self.sp(&[Obj::Ident(ident)])?;
                let pg = k.pgrps.get_mut(&g).expect("checked by the caller");
                let holder = pg.lock_holder;
                if holder.is_none() {
                    pg.lock_holder = Some(me);
                    k.actors[me].wchan = None;
                    k.record(
                        me,
                        site,
                        What::Text(format!("lockmgr: pg_lock of pgrp {g} taken")),
                    );
                    return Ok(());
                }
                let who = k.label(holder.expect("held"));
                k.record(
                    me,
                    site,
                    What::Text(format!("lockmgr: pg_lock of pgrp {g} held by {who}")),
                );
            }
            self.tsleep(site, ident, PINTERLOCKED, "pglk", false)?;
        }
    }

    fn pg_unlock(&self, site: &'static Site, g: Pid) -> KR<()> {
        {
            let me = self.me;
            let mut k = self.sp(&[Obj::Ident(Ident::PgLock(g))])?;
            k.pgrps.get_mut(&g).expect("locked").lock_holder = None;
            k.record(
                me,
                site,
                What::Text(format!("lockmgr: pg_lock of pgrp {g} released")),
            );
        }
        self.wakeup(site, Ident::PgLock(g))
    }
}

/// LIST_REMOVE(p, p_pglist): the predecessor (or the head) skips `p`; `p`'s own `le_next`
/// stays. False when `p` is not on the list.
fn unlink_member(k: &mut Kernel, g: Pid, p: Pid) -> bool {
    let after = k.procs[&p].pg_next;
    let Some(pg) = k.pgrps.get_mut(&g) else {
        return false;
    };
    if pg.first == Some(p) {
        pg.first = after;
        return true;
    }
    let mut cur = pg.first;
    while let Some(c) = cur {
        let next = k.procs[&c].pg_next;
        if next == Some(p) {
            k.procs.get_mut(&c).expect("member").pg_next = after;
            return true;
        }
        cur = next;
    }
    false
}
