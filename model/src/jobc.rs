//! Job control as the exit path meets it: kern_proc.c's `fixjobc` (864-910), which exit1
//! calls at 439 as the exiting process leaves its group, and `orphanpg` (922-935), which
//! sends SIGHUP and SIGCONT to a group that fixjobc found newly orphaned with a stopped
//! member. `pg_jobc` counts the members with a parent in another group of the same session;
//! `jobc_mismatches` compares it with a recount, for the final checks. Steps cite kern_proc.c's
//! function (its lines are in the comments).

use crate::cx::Cx;
use crate::engine::Engine;
use crate::ext;
use crate::flags::*;
use crate::kernel::*;
use crate::site::Site;
use crate::trace::*;
use crate::variant::Switch;

impl<'s, E: Engine> Cx<'s, E> {
    /// fixjobc(p, p->p_pgrp, 0) for the exiting `p` (exit1 holds p_token since 276): p no
    /// longer qualifies its own group through its parent, nor its children theirs.
    pub(crate) fn fixjobc_exit(&self, call: &'static Site, p: Pid) -> KR<()> {
        let site = ext!("kern_proc.c", "fixjobc");
        let me = self.me;
        let Some(g) = self.k()?.pgrp_of(me, p, call)? else {
            return Ok(());
        };
        self.note(call, What::Text(format!("fixjobc(pid {p}, pgrp {g}, 0)")))?;
        // 874-875: p_token (recursive here), then the group's token, which may block.
        self.lwkt_gettoken(site, Tok::Proc(p))?;
        self.lwkt_gettoken(site, Tok::Pgrp(g))?;
        let session = self.k()?.pgrps[&g].session;
        // 877-883: p->p_pptr under p_token; the parent's p_pgrp with no token of the parent's.
        let pp = *self.k()?.pptr(me, p, site)?;
        if let Some(pp) = pp {
            if self.parent_qualifies(site, pp, g, session)? && self.may_decrement(site, p)? {
                self.jobc_decrement(site, g)?;
            }
        }
        // 891-907: LIST_FOREACH(np, &p->p_children, p_sibling).
        let mut cur = self.k()?.children(me, p, site)?.first().copied();
        while let Some(np) = cur {
            self.phold(site, np)?;
            self.lwkt_gettoken(site, Tok::Proc(np))?;
            if self.moved_away(site, p, np)? {
                self.lwkt_reltoken(site, Tok::Proc(np))?;
                self.prele(site, np)?;
                cur = self.k()?.children(me, p, site)?.first().copied();
                continue;
            }
            let his = self.k()?.pgrp_of(me, np, site)?;
            let qualifies = match his {
                Some(h) if h != g => self.k()?.pgrps[&h].session == session,
                _ => false,
            };
            if qualifies && self.load(site, Field::PStat(np))? != SZOMB {
                let h = his.expect("qualifies");
                if self.may_decrement(site, np)? {
                    self.lwkt_gettoken(site, Tok::Pgrp(h))?;
                    self.jobc_decrement(site, h)?;
                    self.lwkt_reltoken(site, Tok::Pgrp(h))?;
                }
            }
            self.lwkt_reltoken(site, Tok::Proc(np))?;
            self.prele(site, np)?;
            cur = self.list_next_sibling(site, p, np)?;
        }
        self.lwkt_reltoken(site, Tok::Pgrp(g))?;
        self.lwkt_reltoken(site, Tok::Proc(p))
    }

    /// fix:fixjobc-restart: `np->p_pptr != p` once np's token is held (the walk may have
    /// blocked for it, and a PT_ATTACH moved np to its tracer meanwhile): the walk starts
    /// over from p's first child. Safe only with fix:fixjobc-once's marking, which keeps a
    /// child visited twice from being counted twice. The seed goes on from np.
    fn moved_away(&self, site: &'static Site, p: Pid, np: Pid) -> KR<bool> {
        // The seed (every variant but fix:fixjobc-restart) goes on from np.
        if !self.has(Switch::FixjobcRestart) {
            return Ok(false);
        }
        let me = self.me;
        let mut k = self.k()?;
        let on = *k.pptr(me, np, site)?;
        if on == Some(p) {
            return Ok(false);
        }
        let text = format!("pid {np} is no longer pid {p}'s child: the walk starts over");
        k.record(me, site, What::Text(text));
        Ok(true)
    }

    /// `(hispgrp = p->p_pptr->p_pgrp) != pgrp && hispgrp->pg_session == mysession` (878-879),
    /// with p_token held. The parent's p_pgrp is read without the parent's token; nothing
    /// here can change it meanwhile (only leavepgrp does, when the parent is reaped, which
    /// waits for the parent's exit1 to have moved p away under p_token; setpgid is not
    /// modeled), so the read needs no step of its own.
    fn parent_qualifies(&self, site: &'static Site, pp: Pid, g: Pid, session: Pid) -> KR<bool> {
        let me = self.me;
        let mut k = self.k()?;
        let his = k.proc(me, pp, site)?.pgrp;
        let yes = his.is_some_and(|h| h != g && k.pgrps[&h].session == session);
        let text = match his {
            Some(h) => format!("parent pid {pp} in pgrp {h}: qualifies pgrp {g}: {yes}"),
            None => format!("parent pid {pp} has no pgrp"),
        };
        k.record(me, site, What::Text(text));
        Ok(yes)
    }

    /// Whether this pass may take `q`'s qualification away. The seed: always (its own exit
    /// and its parent's exit may both do it). fix:fixjobc-once: only the first of them, with
    /// a flag (P_JOBCGONE) set under q's p_token, which both hold here.
    fn may_decrement(&self, site: &'static Site, q: Pid) -> KR<bool> {
        if !self.has(Switch::FixjobcOnce) {
            return Ok(true);
        }
        let me = self.me;
        let mut k = self.k()?;
        k.need(me, Tok::Proc(q), "P_JOBCGONE", site)?;
        let pr = k.proc(me, q, site)?;
        let first = !pr.jobc_gone;
        pr.jobc_gone = true;
        let text = if first {
            format!("P_JOBCGONE set on pid {q}: this pass takes its qualification away")
        } else {
            format!("pid {q} has P_JOBCGONE: its qualification is already gone")
        };
        k.record(me, site, What::Text(text));
        Ok(first)
    }

    /// `if (--pgrp->pg_jobc == 0) orphanpg(pgrp)` under the group's pg_token.
    fn jobc_decrement(&self, site: &'static Site, g: Pid) -> KR<()> {
        let me = self.me;
        let now = {
            let mut k = self.k()?;
            let jobc = k.pg_jobc(me, g, site)?;
            *jobc -= 1;
            let now = *jobc;
            k.record(
                me,
                site,
                What::Text(format!("--pgrp {g}'s pg_jobc = {now}")),
            );
            now
        };
        if now == 0 {
            self.orphanpg(g)?;
        }
        Ok(())
    }

    /// LIST_NEXT(np, p_sibling), read after np's token and hold are released, with p_token
    /// held: np's link on whatever p_children list np is on now. Whether np is still p's
    /// child cannot change meanwhile (proc_reparent and proc_remove_zombie take the old
    /// parent's token), so this is no step of its own. Another process's list (a tracer's,
    /// after a PT_ATTACH while this walk blocked) is read without that process's token.
    fn list_next_sibling(&self, site: &'static Site, p: Pid, np: Pid) -> KR<Option<Pid>> {
        let me = self.me;
        let mut k = self.k()?;
        k.need(me, Tok::Proc(p), "p_children", site)?;
        let Some(on) = k.proc(me, np, site)?.pptr else {
            let msg = format!("LIST_NEXT from pid {np}, unlinked from every p_children list");
            return Err(k.fail(Some(me), ViolationKind::ModelError, Some(site), msg));
        };
        if on != p {
            let text =
                format!("LIST_NEXT(pid {np}, p_sibling): pid {np} is on pid {on}'s p_children now");
            k.record(me, site, What::Text(text));
        }
        let kids = k.children(me, on, site)?;
        let at = kids
            .iter()
            .position(|c| *c == np)
            .expect("on its parent's list");
        let next = kids.get(at + 1).copied();
        let shown = next.map_or("NULL".to_string(), |n| format!("pid {n}"));
        k.record(
            me,
            site,
            What::Text(format!("LIST_NEXT(pid {np}, p_sibling) = {shown}")),
        );
        Ok(next)
    }

    /// orphanpg (922-935), pg_token held: if a member is stopped, every member gets SIGHUP
    /// and then SIGCONT (a stopped one is continued).
    fn orphanpg(&self, g: Pid) -> KR<()> {
        let site = ext!("kern_proc.c", "orphanpg");
        let me = self.me;
        self.note(site, What::Text(format!("pgrp {g} is orphaned")))?;
        let mut cur = self.k()?.pg_first(me, g, site)?;
        let mut stopped = false;
        while let Some(m) = cur {
            if self.load(site, Field::PStat(m))? == SSTOP {
                stopped = true;
                break;
            }
            cur = self.k()?.pg_next(me, g, m, site)?;
        }
        if !stopped {
            return self.note(
                site,
                What::Text(format!("no member of pgrp {g} is stopped")),
            );
        }
        let mut cur = self.k()?.pg_first(me, g, site)?;
        while let Some(m) = cur {
            let _ = self.ksignal(ext!("kern_sig.c", "lwpsignal"), m, SIGHUP)?;
            let then = self.ksignal(ext!("kern_sig.c", "lwpsignal"), m, SIGCONT)?;
            if then == crate::signals::Then::Continue {
                self.proc_cont(m)?;
            }
            cur = self.k()?.pg_next(me, g, m, site)?;
        }
        Ok(())
    }
}

/// What pg_jobc of each group with members should be once every exit has run: its members
/// that are neither exiting nor zombies and whose parent (p_pptr) is in another group of the
/// same session. Returns (group, pg_jobc, recount) for every group where they differ.
pub fn jobc_mismatches(k: &Kernel) -> Vec<(Pid, i32, i32)> {
    let mut out = Vec::new();
    for (g, pg) in &k.pgrps {
        let members: Vec<&Proc> = k
            .procs
            .values()
            .filter(|p| !p.freed && p.pgrp == Some(*g))
            .collect();
        if members.is_empty() {
            // pgdelete frees a group with its last member: its count is gone with it.
            continue;
        }
        let want = members
            .iter()
            .filter(|m| m.stat != SZOMB && m.flags & P_WEXIT == 0)
            .filter(|m| {
                let parent_group = m.pptr.and_then(|pp| k.procs.get(&pp)).and_then(|q| q.pgrp);
                parent_group.is_some_and(|h| h != *g && k.pgrps[&h].session == pg.session)
            })
            .count() as i32;
        if want != pg.jobc {
            out.push((*g, pg.jobc, want));
        }
    }
    out
}

/// The processes left stopped by a tty stop (SIGTSTP, SIGTTIN, SIGTTOU) in an orphaned group
/// (pg_jobc 0), untraced: (pid, the stop signal, group). In the kernel a tty stop of a member
/// of an orphaned group is discarded (kern_sig.c 1169-1185), and a group orphaned with a
/// stopped member gets SIGHUP and SIGCONT (orphanpg), so none should be left.
pub fn orphaned_tty_stops(k: &Kernel) -> Vec<(Pid, i32, Pid)> {
    k.procs
        .values()
        .filter(|p| !p.freed && p.stat == SSTOP && p.flags & P_TRACED == 0)
        .filter(|p| crate::signals::is_tty_stop(p.xstat))
        .filter_map(|p| Some((p.pid, p.xstat, orphaned_group(k, p.pid)?)))
        .collect()
}

/// p's process group if it is orphaned (`p->p_pgrp->pg_jobc == 0`), read as the state is.
pub(crate) fn orphaned_group(k: &Kernel, p: Pid) -> Option<Pid> {
    let g = k.procs.get(&p)?.pgrp?;
    (k.pgrps.get(&g)?.jobc == 0).then_some(g)
}
