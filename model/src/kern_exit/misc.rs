//! proc_reparent, at_exit, rm_at_exit, reaplwps, reaplwp, deadlwp_init (kern_exit.c:1150-1268).

use crate::at;
use crate::cx::Cx;
use crate::engine::Engine;
use crate::flags::*;
use crate::kernel::*;
use crate::race::{Data, Kind};
use crate::site::Site;
use crate::trace::*;
use crate::variant::Switch;

impl<'s, E: Engine> Cx<'s, E> {
    pub fn proc_reparent(&self, call: &'static Site, child: Pid, parent: Pid) -> KR<()> {
        const F: &str = "proc_reparent";
        let me = self.me;
        self.note(
            call,
            What::Text(format!("proc_reparent(pid {child}, pid {parent})")),
        )?;
        self.phold(at!(1155, "PHOLD"), parent)?;
        loop {
            // Deliberately read without the child's token; re-checked at 1161.
            let opp = {
                let mut g = self.sp(&[Obj::Tok(Tok::Proc(child))])?;
                let opp = g.proc(me, child, at!(1156, "p_pptr"))?.pptr;
                g.record(
                    me,
                    at!(1156, "p_pptr"),
                    What::Text(format!("unlocked read: p_pptr of pid {child} = {opp:?}")),
                );
                opp.expect("reparented process has a parent")
            };
            if opp == parent {
                break;
            }
            self.phold(at!(1157, "PHOLD"), opp)?;
            self.lwkt_gettoken(at!(1158, "lwkt_gettoken"), Tok::Proc(opp))?;
            self.lwkt_gettoken(at!(1159, "lwkt_gettoken"), Tok::Proc(child))?;
            self.lwkt_gettoken(at!(1160, "lwkt_gettoken"), Tok::Proc(parent))?;
            let now = *self.k()?.pptr(me, child, at!(1161, "p_pptr"))?;
            // Switched by bug:reparent-single-shot.
            if now != Some(opp) && self.has(Switch::ReparentSingleShot) {
                // The 2012 code: KKASSERT(child->p_pptr == opp) after taking the tokens.
                let mut g = self.k()?;
                let what = "child->p_pptr == opp";
                return Err(g
                    .kkassert(me, false, at!(1161, "p_pptr"), what)
                    .unwrap_err());
            }
            if now != Some(opp) {
                self.lwkt_reltoken(at!(1162, "lwkt_reltoken"), Tok::Proc(parent))?;
                self.lwkt_reltoken(at!(1163, "lwkt_reltoken"), Tok::Proc(child))?;
                self.lwkt_reltoken(at!(1164, "lwkt_reltoken"), Tok::Proc(opp))?;
                self.prele(at!(1165, "PRELE"), opp)?;
                continue;
            }
            {
                let mut g = self.k()?;
                let kids = g.children(me, opp, at!(1168, "LIST_REMOVE"))?;
                let before = kids.len();
                kids.retain(|c| *c != child);
                if kids.len() + 1 != before {
                    let msg = format!(
                        "LIST_REMOVE of pid {child} from pid {opp}'s p_children, where it is not"
                    );
                    return Err(g.fail(
                        Some(me),
                        ViolationKind::ListCorruption,
                        Some(at!(1168, "LIST_REMOVE")),
                        msg,
                    ));
                }
                g.children(me, parent, at!(1169, "LIST_INSERT_HEAD"))?
                    .insert(0, child);
                *g.pptr(me, child, at!(1170, "p_pptr"))? = Some(parent);
                g.record(
                    me,
                    at!(1170, "p_pptr"),
                    What::Text(format!("pid {child} moved from pid {opp} to pid {parent}")),
                );
            }
            self.lwkt_reltoken(at!(1171, "lwkt_reltoken"), Tok::Proc(parent))?;
            self.lwkt_reltoken(at!(1172, "lwkt_reltoken"), Tok::Proc(child))?;
            self.lwkt_reltoken(at!(1173, "lwkt_reltoken"), Tok::Proc(opp))?;
            // Deliberately read after dropping opp's token, as the seed does.
            let empty = {
                let mut g = self.sp(&[Obj::Tok(Tok::Proc(opp))])?;
                let e = g
                    .proc(me, opp, at!(1174, "LIST_EMPTY"))?
                    .children
                    .is_empty();
                g.record(
                    me,
                    at!(1174, "LIST_EMPTY"),
                    What::Text(format!(
                        "unlocked read: pid {opp} has no children left: {e}"
                    )),
                );
                e
            };
            // Switched by bug:reparent-no-wakeup.
            if empty && !self.has(Switch::ReparentNoWakeup) {
                self.wakeup(at!(1175, "wakeup"), Ident::Proc(opp))?;
            }
            self.prele(at!(1176, "PRELE"), opp)?;
            break;
        }
        self.prele(at!(1179, "PRELE"), parent)
    }

    /// With INVARIANTS, as a kernel built for testing has it.
    pub fn at_exit(&self, function: u32) -> KR<i32> {
        const F: &str = "at_exit";
        if self.rm_at_exit(function)? != 0 {
            self.note(
                at!(1200, "WARNING"),
                What::Text(format!(
                    "WARNING: exit callout entry ({function}) already present"
                )),
            )?;
        }
        // fix:exit-list-lock: the insertion under the list's lock.
        let site = at!(1207, "TAILQ_INSERT_TAIL");
        self.under_exit_list_lock(site, site, || self.at_exit_insert(function))
    }

    /// `f` under fix:exit-list-lock's lock on exit_list (proc_token, exclusive), taken at
    /// `take` and dropped at `drop`; in the seed, `f` alone.
    fn under_exit_list_lock(
        &self,
        take: &'static Site,
        drop: &'static Site,
        f: impl FnOnce() -> KR<i32>,
    ) -> KR<i32> {
        // Switched by fix:exit-list-lock.
        let locked = self.has(Switch::ExitListLock);
        if locked {
            self.lwkt_gettoken(take, Tok::ProcList)?;
        }
        let r = f()?;
        if locked {
            self.lwkt_reltoken(drop, Tok::ProcList)?;
        }
        Ok(r)
    }

    fn at_exit_insert(&self, function: u32) -> KR<i32> {
        const F: &str = "at_exit";
        let mut g = self.sp(&[Obj::ExitList])?;
        g.allocs += 1;
        let n = g.allocs;
        if g.alloc_fail.contains(&n) {
            g.record(
                self.me,
                at!(1205, "ENOMEM"),
                What::Text(format!("kmalloc(M_NOWAIT) #{n} fails: ENOMEM")),
            );
            return Ok(ENOMEM);
        }
        g.race_access(
            self.me,
            at!(1207, "TAILQ_INSERT_TAIL"),
            Data::ExitList,
            Kind::Write,
        );
        g.exit_list.push((n, function));
        g.record(
            self.me,
            at!(1207, "TAILQ_INSERT_TAIL"),
            What::Text(format!("exit callout {function} registered")),
        );
        Ok(0)
    }

    /// exit1's walk of exit_list (333-334) from entry `first`: a step for each callout and one
    /// for each TAILQ_NEXT, each reading the entry it stands on, which rm_at_exit may have
    /// freed meanwhile: nothing locks the list (finding F8).
    pub(crate) fn exit_callouts(&self, first: (u32, u32)) -> KR<()> {
        const F: &str = "exit1";
        let me = self.me;
        let mut ep = Some(first);
        while let Some((entry, function)) = ep {
            {
                let mut g = self.sp_reading(&[Obj::ExitList], &[Obj::ExitList])?;
                let site = at!(334, "function");
                g.race_access(me, site, Data::ExitList, Kind::Read);
                exit_entry_live(&mut g, me, entry, function, site)?;
                let text = format!("exit callout {function} runs (entry {entry})");
                g.record(me, site, What::Text(text));
            }
            ep = {
                let mut g = self.sp_reading(&[Obj::ExitList], &[Obj::ExitList])?;
                let site = at!(333, "TAILQ_FOREACH");
                g.race_access(me, site, Data::ExitList, Kind::Read);
                exit_entry_live(&mut g, me, entry, function, site)?;
                let i = g.exit_list.iter().position(|(e, _)| *e == entry);
                let next = i.and_then(|i| g.exit_list.get(i + 1)).copied();
                let text = format!("TAILQ_NEXT(entry {entry}) = {next:?}");
                g.record(me, site, What::Text(text));
                next
            };
        }
        Ok(())
    }

    pub fn rm_at_exit(&self, function: u32) -> KR<i32> {
        const F: &str = "rm_at_exit";
        let (take, drop) = (at!(1220, "TAILQ_FOREACH"), at!(1227, "return (0)"));
        self.under_exit_list_lock(take, drop, || self.rm_at_exit_locked(function))
    }

    fn rm_at_exit_locked(&self, function: u32) -> KR<i32> {
        const F: &str = "rm_at_exit";
        let mut g = self.sp(&[Obj::ExitList])?;
        if let Some(i) = g.exit_list.iter().position(|(_, f)| *f == function) {
            // TAILQ_REMOVE and kfree(ep) (1222-1223), with no lock an exit1 walking the list
            // would see (finding F8).
            g.race_access(
                self.me,
                at!(1222, "TAILQ_REMOVE"),
                Data::ExitList,
                Kind::Write,
            );
            let (ep, _) = g.exit_list.remove(i);
            g.exit_freed.push(ep);
            g.record(
                self.me,
                at!(1222, "TAILQ_REMOVE"),
                What::Text(format!("exit callout {function} removed, its entry freed")),
            );
            return Ok(1);
        }
        g.race_access(
            self.me,
            at!(1220, "TAILQ_FOREACH"),
            Data::ExitList,
            Kind::Read,
        );
        g.record(
            self.me,
            at!(1227, "return (0)"),
            What::Text(format!("exit callout {function} not present")),
        );
        Ok(0)
    }

    pub(crate) fn reaplwps(&self, cpu: u8) -> KR<()> {
        const F: &str = "reaplwps";
        let me = self.me;
        self.lwkt_gettoken(at!(1240, "lwkt_gettoken"), Tok::Deadlwp(cpu))?;
        let head = at!(1241, "LIST_FIRST");
        self.scoped_loop(head, || {
            let lp = {
                let mut g = self.k()?;
                let list = g.deadlwps(me, cpu, head)?;
                if list.is_empty() {
                    return Ok(Some(()));
                }
                list.remove(0)
            };
            self.reaplwp(lp).map(|_| None)
        })?;
        self.lwkt_reltoken(at!(1245, "lwkt_reltoken"), Tok::Deadlwp(cpu))
    }

    pub(crate) fn reaplwp(&self, lp: LwpId) -> KR<()> {
        const F: &str = "reaplwp";
        let retry = at!(1251, "lwp_wait");
        // Both callers take `lp` off a list silently, so it is in no digest yet: the scope's
        // key carries it through the wait and the dispose.
        self.scope(at!(1249, "reaplwp"), lp, || {
            self.scoped_loop(retry, || {
                if self.lwp_wait(lp)? {
                    return Ok(Some(()));
                }
                self.note(retry, What::Note("lwp_wait says retry"))
                    .map(|_| None)
            })?;
            self.lwp_dispose(lp)
        })
    }
}

/// deadlwp_init (SYSINIT at boot): per-cpu tokens, lists and reaper tasks.
pub fn deadlwp_init(k: &mut Kernel) {
    const F: &str = "deadlwp_init";
    let sites: [&'static Site; 4] = [
        at!(1262, "lwkt_token_init"),
        at!(1263, "LIST_INIT"),
        at!(1264, "kmalloc"),
        at!(1266, "TASK_INIT"),
    ];
    k.deadlwp_list = vec![Vec::new(); k.ncpus as usize];
    k.task_pending = vec![false; k.ncpus as usize];
    k.switch_pending = vec![Vec::new(); k.ncpus as usize];
    for s in sites {
        k.cover(s);
    }
}

/// A use after free when exit1 stands on an exit_list entry rm_at_exit has freed.
fn exit_entry_live(
    g: &mut Kernel,
    me: crate::engine::ActorId,
    entry: u32,
    function: u32,
    site: &'static Site,
) -> KR<()> {
    if g.exit_freed.contains(&entry) {
        let msg = format!(
            "exit1 reads the exit_list entry of callout {function}, freed by rm_at_exit (kfree(ep) at 1223): nothing locks exit_list"
        );
        return Err(g.fail(Some(me), ViolationKind::UseAfterFree, Some(site), msg));
    }
    Ok(())
}
