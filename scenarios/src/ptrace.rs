//! ptrace(2) as kern_exit.c sees it (sys_process.c kern_ptrace): PT_TRACE_ME, PT_ATTACH,
//! PT_DETACH, PT_CONTINUE and PT_KILL, with kern_ptrace's permission checks and the traced
//! process's token held from the checks to the end, as kern_ptrace holds it.

use kexit_model::cx::Cx;
use kexit_model::engine::Engine;
use kexit_model::ext;
use kexit_model::flags::*;
use kexit_model::kern_exit::exit::INITPID;
use kexit_model::kernel::*;
use kexit_model::signals::Then;
use kexit_model::site::Site;
use kexit_model::trace::*;

/// The requests a scenario can make.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Req {
    Attach,
    Detach,
    Continue,
    Kill,
}

impl Req {
    pub fn name(self) -> &'static str {
        match self {
            Req::Attach => "PT_ATTACH",
            Req::Detach => "PT_DETACH",
            Req::Continue => "PT_CONTINUE",
            Req::Kill => "PT_KILL",
        }
    }

    fn site(self) -> &'static Site {
        match self {
            Req::Attach => ext!("sys_process.c", "PT_ATTACH"),
            Req::Detach => ext!("sys_process.c", "PT_DETACH"),
            Req::Continue => ext!("sys_process.c", "PT_CONTINUE"),
            Req::Kill => ext!("sys_process.c", "PT_KILL"),
        }
    }
}

/// PT_TRACE_ME (sys_process.c 435-441): traced by its parent, p_oppid = the parent.
pub fn trace_me<E: Engine>(cx: &Cx<'_, E>) -> KR<()> {
    let me = cx.me;
    let site = ext!("sys_process.c", "PT_TRACE_ME");
    let (_, p) = cx.cur()?;
    cx.lwkt_gettoken(site, Tok::Proc(p))?;
    cx.plain_set(site, Field::PFlags(p), P_TRACED)?;
    {
        let mut g = cx.k()?;
        let parent = g.pptr(me, p, site)?.unwrap_or(INITPID);
        g.proc(me, p, site)?.oppid = parent;
    }
    cx.lwkt_reltoken(site, Tok::Proc(p))
}

/// kern_ptrace's request `req` on `pid` with signal `data` (PT_DETACH and PT_CONTINUE; the
/// others set their own): the error it returns, 0 on success.
pub fn ptrace<E: Engine>(cx: &Cx<'_, E>, req: Req, pid: Pid, data: i32) -> KR<i32> {
    let me = cx.me;
    let site = req.site();
    let (_, curp) = cx.cur()?;
    let Some(p) = cx.pfind(site, pid)? else {
        return refuse(cx, site, req, pid, ESRCH, "no such process");
    };
    cx.lwkt_gettoken(site, Tok::Proc(p))?;
    let flags = cx.load(site, Field::PFlags(p))?;
    // 302-426, with p's token held.
    let (pptr, oppid, ancestor) = {
        let mut g = cx.k()?;
        let pptr = *g.pptr(me, p, site)?;
        let ancestor = req == Req::Attach && traced_descendant_of(&g, curp, p);
        (pptr, g.proc(me, p, site)?.oppid, ancestor)
    };
    let refused = if flags & P_INEXEC != 0 {
        Some((EAGAIN, "in exec (P_INEXEC)"))
    } else if req == Req::Attach {
        if p == curp {
            Some((EINVAL, "the caller itself"))
        } else if flags & P_TRACED != 0 {
            Some((EBUSY, "already traced"))
        } else if ancestor {
            Some((EINVAL, "an ancestor of the traced caller"))
        } else {
            None
        }
    } else if flags & P_TRACED == 0 {
        Some((EPERM, "not traced"))
    } else if pptr != Some(curp) {
        Some((EBUSY, "traced by another process"))
    } else if cx.load(site, Field::PStat(p))? != SSTOP || flags & P_WAITED == 0 {
        Some((EBUSY, "not stopped and waited for"))
    } else {
        None
    };
    if let Some((err, why)) = refused {
        cx.lwkt_reltoken(site, Tok::Proc(p))?;
        cx.prele(site, p)?;
        return refuse(cx, site, req, pid, err, why);
    }
    let data = match req {
        // 443-450: P_TRACED and p_oppid whoever the parent is (the tracer included), then
        // proc_reparent, which does nothing when the tracer is the parent already.
        Req::Attach => {
            cx.plain_set(site, Field::PFlags(p), P_TRACED)?;
            cx.k()?.proc(me, p, site)?.oppid = pptr.unwrap_or(INITPID);
            cx.proc_reparent(site, p, curp)?;
            SIGSTOP
        }
        // 482-497: back to p_oppid when that is not the parent, untraced, not waited.
        Req::Detach => {
            if oppid != 0 && pptr != Some(oppid) {
                if let Some(t) = cx.pfind(site, oppid)? {
                    cx.proc_reparent(site, p, t)?;
                    cx.prele(site, t)?;
                }
            }
            cx.plain_clear(site, Field::PFlags(p), P_TRACED | P_WAITED)?;
            cx.k()?.proc(me, p, site)?.oppid = 0;
            data
        }
        Req::Continue => data,
        // 598-600: PT_KILL is PT_CONTINUE with SIGKILL.
        Req::Kill => SIGKILL,
    };
    // sendsig (501-516): a stopped process is set running with p_xstat = the signal, which
    // issignal hands on if it stopped there; a running one is sent the signal. Only
    // PT_ATTACH can find it running (the others refuse that), and p_stat changes only under
    // p's token, so the others' check above still holds.
    let stopped = req != Req::Attach || cx.load(site, Field::PStat(p))? == SSTOP;
    let then = if stopped {
        cx.k()?.proc(me, p, site)?.xstat = data;
        cx.proc_unstop(site, p)?;
        Then::Nothing
    } else if data != 0 {
        cx.ksignal(site, p, data)?
    } else {
        Then::Nothing
    };
    cx.lwkt_reltoken(site, Tok::Proc(p))?;
    cx.prele(site, p)?;
    // The stop itself, as the `stop` operation does it, once the token is released (the
    // kernel's proc_stop runs under it).
    if let Then::Stop(sig) = then {
        cx.proc_stop(pid, sig)?;
    }
    Ok(0)
}

/// 333-339: a traced caller may not attach to an ancestor. kern_ptrace walks the caller's
/// p_pptr chain holding none of their tokens; the model reads the chain as it stands, in the
/// step that reads p's parent, without race-checking those reads (docs/model.md).
fn traced_descendant_of(g: &Kernel, curp: Pid, p: Pid) -> bool {
    let Some(caller) = g.procs.get(&curp) else {
        return false;
    };
    if caller.flags & P_TRACED == 0 {
        return false;
    }
    let mut up = caller.pptr;
    while let Some(a) = up {
        if a == p {
            return true;
        }
        up = g.procs.get(&a).and_then(|q| q.pptr);
    }
    false
}

fn refuse<E: Engine>(
    cx: &Cx<'_, E>,
    site: &'static Site,
    req: Req,
    pid: Pid,
    err: i32,
    why: &str,
) -> KR<i32> {
    let text = format!(
        "{}(pid {pid}) fails, {}: {why}",
        req.name(),
        errno_name(err)
    );
    cx.note(site, What::Text(text))?;
    Ok(err)
}
