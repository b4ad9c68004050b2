//! trap.c userret with kern_sig.c's issignal and postsig: where an LWP on its way back to
//! user mode halts while its process is stopped, stops a traced process for its tracer, and
//! dies of a signal.

use crate::cx::Cx;
use crate::engine::Engine;
use crate::ext;
use crate::flags::*;
use crate::kernel::*;
use crate::signals::{settle_signal, sig_bit, STOP_MASK};
use crate::trace::*;

/// What the user return does after looking at its process under the signal state.
enum Next {
    /// p_stat is SSTOP: halt in tstop, then look again (userret's `recheck`).
    Halt,
    /// A traced process with a pending signal: stop for the tracer (issignal 1891-1931).
    TraceStop(i32),
    /// An untraced process with a stop signal left pending: its default action.
    DefaultStop(i32),
    /// A signal that ends the process (sigexit).
    Die(i32),
    /// Back to user mode.
    Done,
}

impl<'s, E: Engine> Cx<'s, E> {
    /// trap.c userret: LWP_MP_WEXIT: lwp_exit(0, NULL); a stopped process: tstop (the LWP
    /// halts until the process is set running) and look again; then issignal: a traced
    /// process stops for its tracer at any pending signal (SIGKILL included, 1891-1931),
    /// caught signals run their handler (postsig) and a pending SIGKILL or default-kill
    /// signal ends the process through sigexit -> exit1.
    pub fn userret(&self) -> KR<()> {
        let (lp, p) = self.cur()?;
        let site = ext!("trap.c", "userret");
        loop {
            let mp = self.load_bits(site, Field::LwpMpflags(lp), LWP_MP_WEXIT)?;
            if mp != 0 {
                self.lwkt_gettoken(site, Tok::Proc(p))?;
                return self.lwp_exit(false, None);
            }
            match self.userret_next(lp, p)? {
                Next::Halt => {
                    self.lwkt_gettoken(site, Tok::Proc(p))?;
                    self.tstop(p)?;
                    self.lwkt_reltoken(site, Tok::Proc(p))?;
                }
                Next::TraceStop(sig) => self.issignal_trace_stop(p, sig)?,
                Next::DefaultStop(sig) => {
                    let text = format!(
                        "{} pending: its default action stops the process",
                        signal_name(sig)
                    );
                    let site = ext!("kern_sig.c", "issignal");
                    self.note(site, What::Text(text))?;
                    // issignal holds p_token from proc_stop through tstop's count.
                    self.lwkt_gettoken(site, Tok::Proc(p))?;
                    if !self.tty_stop_orphaned(site, p, sig)? {
                        self.proc_stop(p, sig)?;
                        self.tstop(p)?;
                    }
                    self.lwkt_reltoken(site, Tok::Proc(p))?;
                }
                Next::Die(sig) => return self.sigexit(sig),
                Next::Done => return self.usched_switch(),
            }
        }
    }

    /// The look at the process's state and pending signals, one step: it reads p_stat and
    /// p_flags without a token, as userret and issignal's first tests do.
    fn userret_next(&self, lp: LwpId, p: Pid) -> KR<Next> {
        let me = self.me;
        let reads = [Obj::Word(Field::PStat(p)), Obj::Word(Field::PFlags(p))];
        let mut g = self.sp_reading(&[Obj::Sig(p), reads[0], reads[1]], &reads)?;
        let pr = g.procs.get_mut(&p).expect("the running process");
        if pr.stat == SSTOP {
            return Ok(Next::Halt);
        }
        let traced = pr.flags & P_TRACED != 0;
        let ppwait = pr.flags & P_PPWAIT != 0;
        if traced && !ppwait && pr.tsig != 0 {
            return Ok(Next::TraceStop(pr.tsig.trailing_zeros() as i32));
        }
        // Untraced now (or held by a vfork parent): the signals posted while traced take
        // their dispositions; stop signals stay masked under P_PPWAIT (1875-1876).
        let mut bits = pr.tsig & !STOP_MASK;
        pr.tsig &= STOP_MASK;
        while bits != 0 {
            let sig = bits.trailing_zeros() as i32;
            bits &= bits - 1;
            settle_signal(pr, sig, false);
        }
        if !ppwait && pr.tsig != 0 {
            let sig = pr.tsig.trailing_zeros() as i32;
            pr.tsig &= !sig_bit(sig);
            return Ok(Next::DefaultStop(sig));
        }
        // A caught SIGCHLD is delivered to its handler here, which consumes it.
        pr.sigchld = false;
        // Back in user space: the next operation starts outside every seed function.
        g.actors[me].line = 0;
        g.actors[me].func = "";
        let kill = g.lwps[lp].sigkill || g.procs[&p].killed;
        let pr = g.procs.get_mut(&p).expect("the running process");
        // issignal takes the lowest-numbered pending signal first (sig_ffs).
        let pending = pr.fatal | pr.caught | if kill { 1 << SIGKILL } else { 0 };
        let sig = pending.trailing_zeros() as i32;
        if pending == 0 {
            Ok(Next::Done)
        } else if pr.caught >> sig & 1 == 1 {
            // postsig: its handler runs, which consumes it.
            pr.caught &= !(1 << sig);
            let text = format!("{} delivered to its handler", signal_name(sig));
            g.record(me, ext!("kern_sig.c", "postsig"), What::Text(text));
            Ok(Next::Done)
        } else {
            Ok(Next::Die(sig))
        }
    }

    /// issignal's stop of a traced process (1891-1931): p_xstat = sig, proc_stop, tstop until
    /// the tracer sets it running; the signal is then replaced by p_xstat, which the tracer
    /// may have changed (PT_DETACH sets 0: dropped). Still traced, the new signal is acted on
    /// at once; untraced, it is pending again and looked at from the top.
    fn issignal_trace_stop(&self, p: Pid, sig: i32) -> KR<()> {
        let me = self.me;
        let site = ext!("kern_sig.c", "issignal");
        let text = format!(
            "traced: {} pending, p_xstat = {sig}, proc_stop; the process waits for its tracer",
            signal_name(sig)
        );
        self.note(site, What::Text(text))?;
        // issignal holds p_token from proc_stop through tstop's count (kern_sig.c 1862).
        self.lwkt_gettoken(site, Tok::Proc(p))?;
        self.proc_stop(p, sig)?;
        self.tstop(p)?;
        {
            let mut g = self.sp(&[Obj::Sig(p), Obj::Word(Field::PFlags(p))])?;
            let pr = g.proc(me, p, site)?;
            pr.tsig &= !sig_bit(sig);
            let next = pr.xstat;
            let traced = pr.flags & P_TRACED != 0;
            if next != 0 {
                if traced {
                    settle_signal(pr, next, true);
                } else {
                    pr.tsig |= sig_bit(next);
                }
            }
            let text = if next == 0 {
                format!("set running with p_xstat 0: {} dropped", signal_name(sig))
            } else {
                format!(
                    "set running with p_xstat {next}: {} taken",
                    signal_name(next)
                )
            };
            g.record(me, site, What::Text(text));
        }
        self.lwkt_reltoken(site, Tok::Proc(p))
    }

    /// kern_sig.c sigexit: exit1(W_EXITCODE(0, sig)), with WCOREFLAG for a signal whose
    /// default action dumps core when coredump succeeds, which the model assumes (no core
    /// size limit).
    fn sigexit(&self, sig: i32) -> KR<()> {
        let site = ext!("kern_sig.c", "sigexit");
        if sig == SIGKILL {
            self.note(site, What::Note("SIGKILL delivered: sigexit -> exit1"))?;
            return self.exit1(w_exitcode(0, SIGKILL));
        }
        let core = default_action(sig) == DefaultAction::Core;
        let text = format!(
            "{} delivered: sigexit -> exit1{}",
            signal_name(sig),
            if core { " (core dumped)" } else { "" }
        );
        self.note(site, What::Text(text))?;
        let status = if core { sig | WCOREFLAG } else { sig };
        self.exit1(w_exitcode(0, status))
    }
}
