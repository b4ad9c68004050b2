//! The operations of an LWP's script: system calls and the user-space and other-kernel
//! actions a scenario can take (stop/continue, sigaction, a ps-like scan), each checked against
//! what the scenario expects.

use crate::ptrace::{self, Req};
use crate::spec::*;
use kexit_model::cx::Cx;
use kexit_model::engine::Engine;
use kexit_model::ext;
use kexit_model::flags::*;
use kexit_model::kernel::*;
use kexit_model::race::{Data, Kind};
use kexit_model::signals::Then;
use kexit_model::trace::*;

pub fn do_op<E: Engine>(cx: &Cx<'_, E>, op: &Op) -> KR<()> {
    match op {
        Op::Exit { code } => cx.sys_exit(*code),
        Op::Extexit {
            who,
            action,
            status,
            addr_ok,
            expect_errno,
        } => {
            let err = cx.sys_extexit(who | action, *status, *addr_ok)?;
            expect_errno_is(cx, "extexit", err, expect_errno.as_deref())
        }
        Op::Wait {
            pid,
            options,
            rusage,
            expect,
        } => wait4(cx, pid, options, rusage, expect),
        Op::Kill { pid, sig } => kill(cx, pid, sig),
        Op::Exec => exec(cx),
        Op::Migrate { cpu } => cx.lwkt_migratecpu(*cpu),
        Op::AtExit {
            callback,
            expect_errno,
        } => {
            let err = cx.at_exit(*callback)?;
            expect_errno_is(cx, "at_exit", err, expect_errno.as_deref())
        }
        Op::RmAtExit {
            callback,
            expect_removed,
        } => rm_at_exit(cx, callback, expect_removed),
        Op::Sleep { pcatch } => user_sleep(cx, pcatch),
        Op::Stop { pid } => cx.proc_stop(*pid, SIGSTOP),
        Op::Cont { pid } => cx.proc_cont(*pid),
        Op::Sigchld { action } => sigaction_sigchld(cx, action),
        Op::Scan { pid, zombies } => scan(cx, *pid, *zombies),
        // tty.c's signals to the foreground group (TIOCSWINSZ: SIGWINCH, 1265; ^C: SIGINT, ...).
        Op::Pgsignal { pgid, sig } => cx.pgsignal(ext!("tty.c", "pgsignal"), *pgid, *sig, true),
        Op::Killpg {
            pgid,
            sig,
            expect_errno,
        } => {
            let err = cx.dokillpg(ext!("kern_sig.c", "kern_kill"), *pgid, sig.0)?;
            let call = format!("kill(-{pgid}, {})", signal_name(sig.0));
            expect_errno_is(cx, &call, err, expect_errno.as_deref())
        }
        Op::VforkWait { pid } => vfork_wait(cx, pid),
        Op::TraceMe => ptrace::trace_me(cx),
        Op::Attach { pid, expect_errno } => ptrace_op(cx, Req::Attach, *pid, 0, expect_errno),
        Op::Detach {
            pid,
            sig,
            expect_errno,
        } => ptrace_op(cx, Req::Detach, *pid, sig.0, expect_errno),
        Op::PtraceContinue {
            pid,
            sig,
            expect_errno,
        } => ptrace_op(cx, Req::Continue, *pid, sig.0, expect_errno),
        Op::PtraceKill { pid, expect_errno } => ptrace_op(cx, Req::Kill, *pid, 0, expect_errno),
    }
}

/// ptrace(2) with request `req`, its errno checked against the expectation.
fn ptrace_op<E: Engine>(
    cx: &Cx<'_, E>,
    req: Req,
    pid: u32,
    sig: i32,
    expect: &Option<String>,
) -> KR<()> {
    let err = ptrace::ptrace(cx, req, pid, sig)?;
    expect_errno_is(cx, req.name(), err, expect.as_deref())
}

/// wait4(2), its return noted in the trace and checked against the expectation.
fn wait4<E: Engine>(
    cx: &Cx<'_, E>,
    pid: &i32,
    options: &[WaitOpt],
    rusage: &bool,
    expect: &Option<Expect>,
) -> KR<()> {
    let me = cx.me;
    let opts = WaitOpt::word(options);
    let r = loop {
        let r = cx.sys_wait4(*pid, opts, *rusage)?;
        if r.error != ERESTART {
            break r;
        }
        // The call restarts after the return to user mode (where a traced process stops).
        cx.userret()?;
    };
    let got = if r.error != 0 {
        format!("error {}", errno_name(r.error))
    } else if r.pid == 0 {
        "0".to_string()
    } else {
        let status = r.status.map(decode_status).unwrap_or_default();
        let raw_wanted = expect.as_ref().is_some_and(|e| e.raw.is_some());
        match r.status.filter(|_| raw_wanted) {
            Some(word) => format!("pid {} {status} (raw {word:#x})", r.pid),
            None => format!("pid {} {status}", r.pid),
        }
    };
    cx.note(
        ext!("libc", "wait4"),
        What::Text(format!("wait4({pid}) returns {got}")),
    )?;
    let Some(e) = expect else { return Ok(()) };
    let ok = match &e.errno {
        Some(name) => r.error != 0 && errno_name(r.error) == name,
        None => {
            r.error == 0
                && e.pid.is_none_or(|p| p == r.pid)
                && status_meets(&e.status, e.raw, r.status)
        }
    };
    if ok {
        return Ok(());
    }
    let mut g = cx.k()?;
    let msg = format!(
        "wait4({pid}) returned {got}, the scenario expects {}",
        describe_expect(e)
    );
    Err(g.fail(Some(me), ViolationKind::UnexpectedResult, None, msg))
}

/// kill(2) of one process (kern_sig.c kern_kill): a live one is signalled, a zombie not
/// yet reaped is a success without a signal.
fn kill<E: Engine>(cx: &Cx<'_, E>, pid: &Pid, sig: &Signal) -> KR<()> {
    let site = ext!("kern_sig.c", "kern_kill");
    if let Some(p) = cx.pfind(site, *pid)? {
        let then = cx.ksignal(site, p, sig.0)?;
        cx.prele(site, p)?;
        // A default stop or continue, as the `stop` and `cont` operations do it.
        match then {
            Then::Stop(sig) => cx.proc_stop(*pid, sig)?,
            Then::Continue => cx.proc_cont(*pid)?,
            Then::Nothing => {}
        }
    } else if let Some(p) = cx.zpfind(site, *pid)? {
        // A zombie not yet reaped: success without a signal.
        cx.prele(site, p)?;
    }
    Ok(())
}

/// execve(2) as the lifecycle sees it, under the process's token: exec_new_vmspace's
/// killalllwps(1) and P_INEXEC (kern_exec.c 794-800), then the end of kern_execve: P_INEXEC
/// cleared (511) and, for a traced process, SIGTRAP (521-522), which stops it for its tracer
/// at the return to user mode.
fn exec<E: Engine>(cx: &Cx<'_, E>) -> KR<()> {
    let site = ext!("kern_exec.c", "exec_new_vmspace");
    let (_, p) = cx.cur()?;
    cx.lwkt_gettoken(site, Tok::Proc(p))?;
    let err = cx.killalllwps(true)?;
    cx.note(
        site,
        What::Text(format!("exec: killalllwps(1) returns {}", errno_name(err))),
    )?;
    if err == 0 {
        cx.plain_set(site, Field::PFlags(p), P_INEXEC)?;
        let done = ext!("kern_exec.c", "kern_execve");
        cx.plain_clear(done, Field::PFlags(p), P_INEXEC)?;
        if cx.load(done, Field::PFlags(p))? & P_TRACED != 0 {
            let _ = cx.ksignal(done, p, SIGTRAP)?;
        }
    }
    cx.lwkt_reltoken(site, Tok::Proc(p))
}

/// rm_at_exit(3), its count checked against the expectation.
fn rm_at_exit<E: Engine>(cx: &Cx<'_, E>, callback: &u32, expect_removed: &Option<bool>) -> KR<()> {
    let me = cx.me;
    let n = cx.rm_at_exit(*callback)?;
    if let Some(want) = expect_removed.filter(|want| *want != (n == 1)) {
        let mut g = cx.k()?;
        let msg = format!(
            "rm_at_exit({callback}) returned {n}, the scenario expects {}",
            want as u8
        );
        return Err(g.fail(Some(me), ViolationKind::UnexpectedResult, None, msg));
    }
    Ok(())
}

/// A system call that sleeps (interruptibly with `pcatch`) until a signal or forever.
fn user_sleep<E: Engine>(cx: &Cx<'_, E>, pcatch: &bool) -> KR<()> {
    // kern_synch.c tsleep: interlock, then the LWP's own lwp_token (held while it
    // runs in tsleep, lost while it sleeps), released on the way out.
    let site = ext!("kern_synch.c", "tsleep");
    let (l, _) = cx.cur()?;
    let flags = if *pcatch { PCATCH } else { 0 };
    loop {
        cx.tsleep_interlock(site, Ident::User(l), flags)?;
        cx.lwkt_gettoken(site, Tok::Lwp(l))?;
        let err = cx.tsleep(
            ext!("user", "syscall sleep"),
            Ident::User(l),
            flags | PINTERLOCKED,
            "usleep",
            !pcatch,
        )?;
        cx.lwkt_reltoken(site, Tok::Lwp(l))?;
        if err != ERESTART {
            return Ok(());
        }
        // Restarted after the return to user mode (where a traced process stops).
        cx.userret()?;
    }
}

/// sigaction(SIGCHLD): caught, ignored (PS_CLDSIGIGN) or default.
fn sigaction_sigchld<E: Engine>(cx: &Cx<'_, E>, action: &SigchldAction) -> KR<()> {
    let me = cx.me;
    let site = ext!("kern_sig.c", "kern_sigaction");
    let (_, p) = cx.cur()?;
    cx.lwkt_gettoken(site, Tok::Proc(p))?;
    {
        let mut g = cx.sp(&[Obj::Sigacts(p)])?;
        g.race_access(me, site, Data::Sigacts(p), Kind::Write);
        let pr = g.proc(me, p, site)?;
        pr.sigchld_caught = *action == SigchldAction::Catch;
        if *action == SigchldAction::Ignore {
            pr.ps_flag |= PS_CLDSIGIGN;
        } else {
            pr.ps_flag &= !PS_CLDSIGIGN;
        }
        g.record(
            me,
            site,
            What::Text(format!("sigaction(SIGCHLD, {action:?})")),
        );
    }
    cx.lwkt_reltoken(site, Tok::Proc(p))
}

/// The vfork parent's wait for its child to exec or exit.
fn vfork_wait<E: Engine>(cx: &Cx<'_, E>, pid: &Pid) -> KR<()> {
    // start_forked_proc (kern_fork.c 800-805); the hold it ends is sys_vfork's,
    // taken at fork (kern_fork.c:136), which the initial state has.
    let site = ext!("kern_fork.c", "fork1 RFPPWAIT");
    let (_, me_pid) = cx.cur()?;
    // Switched by fix:ppwait-wake-child.
    let on = if cx.has(kexit_model::variant::Switch::PpwaitWakeChild) {
        Ident::Proc(*pid)
    } else {
        Ident::Proc(me_pid)
    };
    loop {
        cx.tsleep_interlock(site, on, 0)?;
        if cx.load_bits(site, Field::PFlags(*pid), P_PPWAIT)? == 0 {
            break;
        }
        cx.tsleep(site, on, PINTERLOCKED, "ppwait", false)?;
    }
    cx.prele(site, *pid)
}

/// sys_process.c kern_ptrace, PT_TRACE_ME: under the process's own token, P_TRACED and
/// `p_oppid = p->p_pptr->p_pid`.
/// A ps-like scan of one process's LWPs, blocking while it holds each. KERN_PROC_PID finds
/// the process with pfind (not a zombie); KERN_PROC_ALL walks allproc, where zombies stay
/// until proc_remove_zombie, and holds it under proc_token (kern_proc.c 1477-1540).
fn scan<E: Engine>(cx: &Cx<'_, E>, pid: Pid, zombies: bool) -> KR<()> {
    let me = cx.me;
    let site = ext!("kern_proc.c", "sysctl_kern_proc");
    let found = if zombies {
        cx.allproc_find(site, pid)?
    } else {
        cx.pfind(site, pid)?
    };
    let Some(p) = found else {
        return Ok(());
    };
    // sysctl_out_proc (KERN_PROC_FLAG_LWP, as `ps -H` asks): p_token shared, and
    // FOREACH_LWP_IN_PROC, an RB_FOREACH over p_lwp_tree.
    let out = ext!("kern_proc.c", "sysctl_out_proc");
    cx.lwkt_gettoken_shared(out, Tok::Proc(p))?;
    let mut cur = cx.k()?.lwp_tree(me, p, out)?.first().copied();
    // One local-state scope per LWP: the walk's only live value is the LWP it stands on,
    // which it reads silently (under p_token) and so must be the scope's key.
    while let Some(lp) = cur {
        cur = cx.scope(out, lp, || {
            cx.lwphold(out, lp)?;
            // SYSCTL_OUT copies out to an unwired user buffer (kern_sysctl.c's vslock is
            // under #if 0): the copyout can fault and block, which releases p_token.
            cx.tsleep(out, Ident::User(cx.cur()?.0), 0, "kinfo", true)?;
            cx.lwprele(out, lp)?;
            rb_next_after_release(cx, p, lp, out)
        })?;
    }
    cx.lwkt_reltoken(out, Tok::Proc(p))?;
    cx.prele(site, p)
}

/// RB_NEXT(lp), as RB_FOREACH takes it after the body has dropped its LWPHOLD: it reads lp's
/// links, so lp must not be freed. Off p_lwp_tree (kern_wait or lwp_exit took it off while
/// the copyout blocked), they still lead where they led at RB_REMOVE: to an LWP that may
/// have left the tree, or been freed, since.
fn rb_next_after_release<E: Engine>(
    cx: &Cx<'_, E>,
    p: Pid,
    lp: LwpId,
    site: &'static kexit_model::site::Site,
) -> KR<Option<LwpId>> {
    let me = cx.me;
    let mut g = cx.sp_as(&[Obj::Tok(Tok::Lwp(lp))], kexit_model::engine::Access::Read)?;
    g.lwp(me, lp, site)?;
    let next = match g.rb_next(me, p, lp, site)? {
        Ok(next) => return Ok(next),
        Err(stale) => stale,
    };
    let to = next.map_or("nothing".to_string(), |n| g.lwp_label(n));
    let text = format!(
        "RB_NEXT from {}, off p_lwp_tree since the copyout blocked: its stale links lead to {to}",
        g.lwp_label(lp)
    );
    g.record(me, site, What::Text(text));
    Ok(next)
}

fn expect_errno_is<E: Engine>(cx: &Cx<'_, E>, call: &str, err: i32, want: Option<&str>) -> KR<()> {
    let want_code = match want {
        None => return Ok(()),
        Some(name) => errno_from_name(name).unwrap_or(0),
    };
    if err == want_code {
        return Ok(());
    }
    let mut g = cx.k()?;
    let msg = format!(
        "{call} returned {}, the scenario expects {}",
        errno_name(err),
        want.unwrap_or("0")
    );
    Err(g.fail(Some(cx.me), ViolationKind::UnexpectedResult, None, msg))
}

fn describe_expect(e: &Expect) -> String {
    if let Some(er) = &e.errno {
        return format!("error {er}");
    }
    let mut s = match e.pid {
        Some(0) => "0".to_string(),
        Some(p) => format!("pid {p}"),
        None => "any pid".to_string(),
    };
    match &e.status {
        Some(StatusExpect::One(x)) => s += &format!(" {x}"),
        Some(StatusExpect::AnyOf(v)) => s += &format!(" one of {}", v.join(" | ")),
        None => {}
    }
    if let Some(raw) = e.raw {
        s += &format!(" (raw {:#x})", raw.0);
    }
    s
}
