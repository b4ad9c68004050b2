//! kern_sig.c as the exit lifecycle sees it: ksignal/lwpsignal's process-directed path
//! (dispositions, default actions, what tracing changes). Stops themselves (proc_stop,
//! proc_unstop, tstop) are in `stops.rs`; the user return that calls issignal and tstop is
//! in `userret.rs`.

use crate::cx::Cx;
use crate::engine::{ActorId, Engine};
use crate::flags::*;
use crate::kern_exit::exit::INITPID;
use crate::kernel::*;
use crate::prims::{interrupt, wake};
use crate::race::{Data, Kind};
use crate::site::Site;
use crate::trace::*;

pub use crate::stops::TSTOP_WMESG;
pub(crate) use crate::stops::{stopped_uncounted, unstop};

/// The signals whose default action stops the process (SA_STOP: SIGSTOP, SIGTSTP, SIGTTIN,
/// SIGTTOU).
pub(crate) const STOP_MASK: u64 = 1 << 17 | 1 << 18 | 1 << 21 | 1 << 22;

/// What a signal's default action leaves to ksignal's caller: a process to stop (with the
/// signal as p_xstat) or continue (the model's proc_stop and proc_unstop take the parent's
/// token, which lwpsignal's caller does not hold).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub enum Then {
    Nothing,
    Stop(i32),
    Continue,
}

impl<'s, E: Engine> Cx<'s, E> {
    /// kern_sig.c ksignal -> lwpsignal(p, NULL, sig): PHOLD(p) and the target's p_token
    /// (1104-1105), no delivery to a process with P_WEXIT (exiting or a zombie, 1109-1110).
    /// A traced process takes every signal with the default action (1118-1120): see
    /// `traced_signal`. Otherwise SIGKILL is posted to the process (each LWP dies at its next
    /// user return) and sets a stopped process running (1214-1216); SIGCHLD only when the
    /// target catches it. Any other signal: discarded when ignored (SIG_IGN), posted to its
    /// handler when caught, else its default action (sigproptbl): posted to kill the process
    /// at its next user return, or a stop or continue the caller carries out (`Then`), or
    /// nothing. A pending signal interrupts a PCATCH sleep (lwp_signotify).
    pub fn ksignal(&self, site: &'static Site, p: Pid, sig: i32) -> KR<Then> {
        self.ksignal_as(site, p, sig, true)
    }

    /// ksignal, or (`locked` false, bug:wait-waker-no-token) its effect without the target's
    /// token.
    pub(crate) fn ksignal_as(
        &self,
        site: &'static Site,
        p: Pid,
        sig: i32,
        locked: bool,
    ) -> KR<Then> {
        self.phold(site, p)?;
        if locked {
            self.lwkt_gettoken(site, Tok::Proc(p))?;
        }
        let then = {
            let me = self.me;
            let mut objs = vec![
                Obj::Sig(p),
                Obj::Word(Field::PFlags(p)),
                Obj::Sigacts(p),
                Obj::Word(Field::PStat(p)),
                Obj::Ident(Ident::Proc(p)),
            ];
            let mut reads = vec![Obj::Sigacts(p)];
            // A tty stop signal reads pg_jobc (1176), written only under pg_token: the step
            // is ordered with that token's steps.
            if is_tty_stop(sig) {
                if let Some(pg) = self.k()?.procs.get(&p).and_then(|pr| pr.pgrp) {
                    objs.push(Obj::Tok(Tok::Pgrp(pg)));
                    reads.push(Obj::Tok(Tok::Pgrp(pg)));
                }
            }
            let mut g = self.sp_reading(&objs, &reads)?;
            g.race_access(me, site, Data::Sigacts(p), Kind::Read);
            let (text, then) = lwpsignal(&mut g, me, site, p, sig)?;
            g.record(me, site, What::Text(text));
            then
        };
        if locked {
            self.lwkt_reltoken(site, Tok::Proc(p))?;
        }
        self.prele(site, p)?;
        Ok(then)
    }
}

/// lwpsignal's decision for a process-directed signal, inside ksignal's step.
fn lwpsignal(
    g: &mut Kernel,
    me: ActorId,
    site: &'static Site,
    p: Pid,
    sig: i32,
) -> KR<(String, Then)> {
    let tty_orphaned = is_tty_stop(sig) && orphaned(g, p);
    let pr = g.proc(me, p, site)?;
    let bit = sig_bit(sig);
    let name = signal_name(sig);
    let stopped = pr.stat == SSTOP;
    if pr.flags & P_WEXIT != 0 {
        let text = format!("ksignal(pid {p}, {sig}): P_WEXIT, not delivered");
        return Ok((text, Then::Nothing));
    }
    // 1169-1185: a tty stop signal with the default action (a traced process's is) is
    // discarded for a member of an orphaned group (pg_jobc 0, read with p_token held and not
    // the group's pg_token).
    let discarded = || {
        let text = format!("ksignal(pid {p}, {name}): its process group is orphaned, discarded");
        Ok((text, Then::Nothing))
    };
    if pr.flags & P_TRACED != 0 && sig != 0 {
        if tty_orphaned {
            return discarded();
        }
        return Ok(traced_signal(g, p, sig));
    }
    let nothing = |text: String| Ok((text, Then::Nothing));
    if sig == SIGKILL {
        pr.killed = true;
        let text = if stopped {
            unstop(g, me, site, p);
            format!(
                "ksignal(pid {p}, SIGKILL): posted; the stopped process is set running (1214-1216)"
            )
        } else {
            format!("ksignal(pid {p}, SIGKILL): posted")
        };
        interrupt_proc(g, p);
        return nothing(text);
    }
    // 1188-1280: a stopped process keeps the signal pending and no LWP is told of it (the
    // continue's proc_unstop does that), unless it is SIGKILL or SIGCONT.
    let notify = |g: &mut Kernel| {
        if !stopped {
            interrupt_proc(g, p);
        }
    };
    if sig == SIGCHLD && pr.sigchld_caught {
        pr.sigchld = true;
        notify(g);
        return nothing(format!("ksignal(pid {p}, SIGCHLD): posted to its handler"));
    }
    if sig == SIGCHLD || sig == 0 {
        return nothing(format!("ksignal(pid {p}, {sig}): ignored by default"));
    }
    if pr.sigignore & bit != 0 {
        return nothing(format!("ksignal(pid {p}, {name}): ignored (SIG_IGN)"));
    }
    if pr.sigcatch & bit != 0 {
        pr.caught |= bit;
        // 1219-1245: a caught SIGCONT continues a stopped process too, then goes to its
        // handler (proc_unstop tells the LWPs).
        if sig == SIGCONT && stopped {
            let text = format!(
                "ksignal(pid {p}, {name}): posted to its handler; the stopped process continues"
            );
            return Ok((text, Then::Continue));
        }
        notify(g);
        return nothing(format!("ksignal(pid {p}, {name}): posted to its handler"));
    }
    if tty_orphaned {
        return discarded();
    }
    Ok(match default_action(sig) {
        DefaultAction::Terminate | DefaultAction::Core => {
            pr.fatal |= bit;
            notify(g);
            let text = if stopped {
                format!("ksignal(pid {p}, {name}): stopped, left pending until it is continued")
            } else {
                format!("ksignal(pid {p}, {name}): posted, its default action kills")
            };
            (text, Then::Nothing)
        }
        // A vfork child holding its parent blocked is not stopped (it could deadlock): the
        // signal stays pending (lwpsignal 1324-1333).
        DefaultAction::Stop if pr.flags & P_PPWAIT != 0 => {
            let text = format!("ksignal(pid {p}, {name}): P_PPWAIT, left pending");
            (text, Then::Nothing)
        }
        DefaultAction::Stop => (
            format!("ksignal(pid {p}, {name}): stops the process"),
            Then::Stop(sig),
        ),
        DefaultAction::Continue => {
            let text = format!("ksignal(pid {p}, {name}): continues the process");
            (text, Then::Continue)
        }
        DefaultAction::Ignore => (
            format!("ksignal(pid {p}, {name}): ignored by default"),
            Then::Nothing,
        ),
    })
}

/// lwpsignal for a traced process: the action is SIG_DFL whatever the disposition
/// (1118-1120). Stopped: the signal is left pending, SIGKILL and SIGCONT included
/// (1203-1208). A stop signal stops it at once with the signal as p_xstat (1322-1337; left
/// pending under P_PPWAIT); SIGCONT's default does nothing (1343-1344). Any other signal is
/// posted to an LWP (find_lwp_for_signal prefers a running one), and issignal stops the
/// process for its tracer at that LWP's next user return. When no LWP runs and one sleeps
/// with PCATCH, that sleeper is woken and tsleep's CURSIG (issignal without the trace stop)
/// drops a signal it would ignore: SIG_IGN, or a default action of ignore.
fn traced_signal(g: &mut Kernel, p: Pid, sig: i32) -> (String, Then) {
    let bit = sig_bit(sig);
    let name = signal_name(sig);
    let pr = g.procs.get_mut(&p).expect("checked by the caller");
    if pr.stat == SSTOP {
        pr.tsig |= bit;
        let text = format!("ksignal(pid {p}, {name}): traced and stopped, left pending (1207)");
        return (text, Then::Nothing);
    }
    match default_action(sig) {
        DefaultAction::Stop => {
            pr.tsig &= !sig_bit(SIGCONT);
            if pr.flags & P_PPWAIT != 0 {
                pr.tsig |= bit;
                let text = format!("ksignal(pid {p}, {name}): traced, P_PPWAIT, left pending");
                return (text, Then::Nothing);
            }
            let text = format!("ksignal(pid {p}, {name}): traced, stops the process (1335)");
            (text, Then::Stop(sig))
        }
        DefaultAction::Continue => {
            pr.tsig &= !STOP_MASK;
            let text =
                format!("ksignal(pid {p}, {name}): traced, the default SIGCONT does nothing");
            (text, Then::Nothing)
        }
        _ => {
            let dropped_by_cursig = cursig_drops(pr, sig);
            if let Some(a) = dropped_by_cursig.then(|| lone_sleeper(g, p)).flatten() {
                wake(g, a);
                let text = format!(
                    "ksignal(pid {p}, {name}): traced; no LWP runs, so its PCATCH sleeper is \
                     woken and tsleep's CURSIG drops the signal"
                );
                return (text, Then::Nothing);
            }
            let pr = g.procs.get_mut(&p).expect("checked by the caller");
            pr.tsig |= bit;
            interrupt_proc(g, p);
            let text = format!(
                "ksignal(pid {p}, {name}): traced, posted with the default action (1118-1120): \
                 the process stops for its tracer at its next user return"
            );
            (text, Then::Nothing)
        }
    }
}

/// Whether issignal without the trace stop (CURSIG, as tsleep calls it) takes `sig` off
/// without acting on it: SIG_IGN, init, or a default action of ignore (1975-2020).
pub(crate) fn cursig_drops(pr: &Proc, sig: i32) -> bool {
    if catches(pr, sig) {
        return false;
    }
    pr.sigignore & sig_bit(sig) != 0
        || pr.pid <= INITPID
        || matches!(
            default_action(sig),
            DefaultAction::Ignore | DefaultAction::Continue | DefaultAction::Stop
        )
}

/// Whether the process has a handler for `sig` (SIGCHLD's disposition has its own field).
fn catches(pr: &Proc, sig: i32) -> bool {
    if sig == SIGCHLD {
        pr.sigchld_caught
    } else {
        pr.sigcatch & sig_bit(sig) != 0
    }
}

/// The error a PCATCH sleep of a traced process's LWP returns for its traced-pending
/// signals (tsleep's `resume`: CURSIG): EINTR for a caught one, ERESTART for one whose
/// default action kills (ps_sigintr is empty without a handler), 0 when CURSIG drops all.
pub(crate) fn traced_cursig(pr: &Proc) -> i32 {
    let mut bits = pr.tsig;
    while bits != 0 {
        let sig = bits.trailing_zeros() as i32;
        bits &= bits - 1;
        if cursig_drops(pr, sig) {
            continue;
        }
        return if catches(pr, sig) { EINTR } else { ERESTART };
    }
    0
}

/// A signal taken off the traced-pending set once the process is no longer traced (or, under
/// P_PPWAIT, not stopped for its tracer), acted on as issignal does for an untraced process:
/// SIGKILL and default-kill signals kill, caught ones go to their handler, ignored ones are
/// dropped. Stop signals are the caller's (`traced` true: dropped, issignal 1986-1990).
pub(crate) fn settle_signal(pr: &mut Proc, sig: i32, traced: bool) {
    let bit = sig_bit(sig);
    if sig == SIGKILL {
        pr.killed = true;
    } else if sig == SIGCHLD {
        pr.sigchld |= pr.sigchld_caught;
    } else if pr.sigignore & bit != 0 && !traced {
    } else if pr.sigcatch & bit != 0 {
        pr.caught |= bit;
    } else if pr.pid > INITPID
        && matches!(
            default_action(sig),
            DefaultAction::Terminate | DefaultAction::Core
        )
    {
        pr.fatal |= bit;
    }
}

/// The LWP of `p` that find_lwp_for_signal would pick when none runs: the first asleep
/// with PCATCH. None when one of them runs (it gets the signal and returns to user mode).
fn lone_sleeper(k: &Kernel, p: Pid) -> Option<ActorId> {
    let mut sleeper = None;
    for l in k.lwps.iter().filter(|l| l.pid == p && !l.freed) {
        let a = &k.actors[l.actor];
        match a.wchan {
            None => return None,
            Some(_) if a.wpcatch && sleeper.is_none() => sleeper = Some(l.actor),
            Some(_) => {}
        }
    }
    sleeper
}

impl<'s, E: Engine> Cx<'s, E> {
    /// issignal's `p->p_pgrp->pg_jobc == 0 && prop & SA_TTYSTOP` (1986-1990) for a pending
    /// stop signal, with p's token held and not the group's: one step, ordered with the steps
    /// that take the group's pg_token (the only writers of pg_jobc).
    pub(crate) fn tty_stop_orphaned(&self, site: &'static Site, p: Pid, sig: i32) -> KR<bool> {
        if !is_tty_stop(sig) {
            return Ok(false);
        }
        let Some(pg) = self.k()?.procs.get(&p).and_then(|pr| pr.pgrp) else {
            return Ok(false);
        };
        let objs = [Obj::Tok(Tok::Pgrp(pg))];
        let mut g = self.sp_reading(&objs, &objs)?;
        let yes = orphaned(&g, p);
        if yes {
            let text = format!(
                "{}: its process group is orphaned, ignored",
                signal_name(sig)
            );
            g.record(self.me, site, What::Text(text));
        }
        Ok(yes)
    }
}

/// SA_TTYSTOP: SIGTSTP, SIGTTIN and SIGTTOU, the stop signals of job control.
pub fn is_tty_stop(sig: i32) -> bool {
    matches!(sig, SIGTSTP | SIGTTIN | SIGTTOU)
}

/// Whether p's process group is orphaned (`p->p_pgrp->pg_jobc == 0`).
fn orphaned(k: &Kernel, p: Pid) -> bool {
    crate::jobc::orphaned_group(k, p).is_some()
}

pub(crate) fn sig_bit(sig: i32) -> u64 {
    if (1..64).contains(&sig) {
        1u64 << sig
    } else {
        0
    }
}

pub(crate) fn interrupt_proc(k: &mut Kernel, p: Pid) {
    for l in 0..k.lwps.len() {
        if k.lwps[l].pid == p && !k.lwps[l].freed {
            let a = k.lwps[l].actor;
            interrupt(k, a);
        }
    }
}
