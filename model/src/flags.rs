//! Constants of the 2014 kernel that the modeled code reads or writes.
//! Bit values are the model's own; only their distinctness matters, except for the
//! `p_lock` layout (sys/proc.h) and the wait-status encodings, which are the kernel's.

pub type Pid = u32;

// p_flags
pub const P_CONTROLT: u64 = 0x0000_0002;
pub const P_PPWAIT: u64 = 0x0000_0010;
pub const P_TRACED: u64 = 0x0000_0800;
pub const P_WAITED: u64 = 0x0000_1000;
pub const P_WEXIT: u64 = 0x0000_2000;
pub const P_POSTEXIT: u64 = 0x0000_4000;
pub const P_CONTINUED: u64 = 0x0010_0000;
/// An exec is past killalllwps (exec_new_vmspace); PT_ATTACH refuses it (EAGAIN).
pub const P_INEXEC: u64 = 0x0040_0000;
pub const P_MAYBETHREADED: u64 = 0x0020_0000;

// sigacts ps_flag
pub const PS_NOCLDWAIT: u64 = 0x0001;
pub const PS_CLDSIGIGN: u64 = 0x0002;
/// SA_NOCLDSTOP: no SIGCHLD when a child stops (kern_sig.c 301-303, 1547).
pub const PS_NOCLDSTOP: u64 = 0x0004;

// lwp_mpflags
pub const LWP_MP_WEXIT: u64 = 0x0000_0002;

// td_flags (owned by the thread's cpu)
pub const TDF_RUNNING: u64 = 0x0000_0001;
pub const TDF_RUNQ: u64 = 0x0000_0002;
pub const TDF_PREEMPT_LOCK: u64 = 0x0000_0004;
pub const TDF_MIGRATING: u64 = 0x0000_0020;
pub const TDF_EXITING: u64 = 0x0000_0400;
pub const TDF_TSLEEPQ: u64 = 0x0000_0080;

// td_mpflags
pub const TDF_MP_EXITWAIT: u64 = 0x0000_0004;
pub const TDF_MP_EXITSIG: u64 = 0x0000_0008;

// p_lock layout (sys/proc.h)
pub const PLOCK_ZOMB: u64 = 0x2000_0000;
pub const PLOCK_WAITING: u64 = 0x4000_0000;
pub const PLOCK_MASK: u64 = 0x1FFF_FFFF;

// p_stat
pub const SACTIVE: u64 = 2;
pub const SSTOP: u64 = 3;
pub const SZOMB: u64 = 4;

// signals
pub const SIGHUP: i32 = 1;
pub const SIGTRAP: i32 = 5;
pub const SIGKILL: i32 = 9;
pub const SIGTERM: i32 = 15;
pub const SIGSTOP: i32 = 17;
pub const SIGTSTP: i32 = 18;
pub const SIGCONT: i32 = 19;
pub const SIGCHLD: i32 = 20;
pub const SIGTTIN: i32 = 21;
pub const SIGTTOU: i32 = 22;
pub const SIGWINCH: i32 = 28;
/// The highest signal number (_SIG_MAXSIG).
pub const SIGMAX: i32 = 64;
/// The core-dumped bit of a wait status (sigexit sets it when coredump succeeds).
pub const WCOREFLAG: i32 = 0o200;

/// The names of signals 1 to 34, in order (sys/signal.h).
const SIGNAL_NAMES: [&str; 34] = [
    "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "EMT", "FPE", "KILL", "BUS", "SEGV", "SYS",
    "PIPE", "ALRM", "TERM", "URG", "STOP", "TSTP", "CONT", "CHLD", "TTIN", "TTOU", "IO", "XCPU",
    "XFSZ", "VTALRM", "PROF", "WINCH", "INFO", "USR1", "USR2", "THR", "CKPT", "CKPTEXIT",
];

/// A signal's number from its name, with or without "SIG" ("TERM", "SIGTERM").
pub fn signal_number(name: &str) -> Option<i32> {
    let bare = name.strip_prefix("SIG").unwrap_or(name);
    SIGNAL_NAMES
        .iter()
        .position(|n| *n == bare)
        .map(|i| i as i32 + 1)
}

/// "SIGTERM" for 15; the number for a signal without a name.
pub fn signal_name(sig: i32) -> String {
    match usize::try_from(sig - 1)
        .ok()
        .and_then(|i| SIGNAL_NAMES.get(i))
    {
        Some(n) => format!("SIG{n}"),
        None => format!("signal {sig}"),
    }
}

/// What a signal's default action does: kern_sig.c's sigproptbl (SA_KILL, SA_CORE, SA_STOP,
/// SA_CONT, SA_IGNORE).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultAction {
    /// SA_KILL: the process exits with the signal (sigexit).
    Terminate,
    /// SA_KILL|SA_CORE: likewise, after a core dump.
    Core,
    /// SA_STOP: the process stops.
    Stop,
    /// SA_IGNORE|SA_CONT (SIGCONT): a stopped process continues.
    Continue,
    /// SA_IGNORE, and SIGCKPT's checkpoint (SA_CKPT alone), which nothing here observes.
    Ignore,
}

pub fn default_action(sig: i32) -> DefaultAction {
    use DefaultAction::*;
    match sig {
        1 | 2 | 9 | 13 | 14 | 15 | 24..=27 | 30 | 31 | 34 => Terminate,
        3..=8 | 10..=12 => Core,
        17 | 18 | 21 | 22 => Stop,
        19 => Continue,
        _ => Ignore,
    }
}

// errno
pub const EPERM: i32 = 1;
pub const ESRCH: i32 = 3;
pub const EINTR: i32 = 4;
pub const ECHILD: i32 = 10;
pub const ENOMEM: i32 = 12;
pub const EFAULT: i32 = 14;
pub const EBUSY: i32 = 16;
pub const EINVAL: i32 = 22;
pub const EWOULDBLOCK: i32 = 35;
/// The same number as EWOULDBLOCK in BSD.
pub const EAGAIN: i32 = EWOULDBLOCK;
pub const EALREADY: i32 = 37;
/// A sleep interrupted by a signal whose action restarts the system call (kern_synch.c
/// tsleep's `resume`: not in ps_sigintr); the call is made again after the user return.
pub const ERESTART: i32 = -1;

// wait options
pub const WNOHANG: u32 = 1;
pub const WUNTRACED: u32 = 2;
pub const WCONTINUED: u32 = 4;
pub const WLINUXCLONE: u32 = 0x8000_0000;
pub const WAIT_ANY: i32 = -1;

// tsleep flags
pub const PCATCH: u32 = 0x0100;
pub const PINTERLOCKED: u32 = 0x0400;

// extexit
pub const EXTEXIT_PROC: u32 = 0;
pub const EXTEXIT_LWP: u32 = 0x1_0000;
pub const EXTEXIT_SIMPLE: u32 = 0;
pub const EXTEXIT_SETINT: u32 = 1;

pub(crate) fn extexit_action(how: u32) -> u32 {
    how & 0xffff
}
pub(crate) fn extexit_who(how: u32) -> u32 {
    how & 0xffff_0000
}

pub(crate) fn w_exitcode(ret: i32, sig: i32) -> i32 {
    (ret << 8) | sig
}
pub(crate) fn w_stopcode(sig: i32) -> i32 {
    (sig << 8) | 0o177
}

/// Human-readable decoding of a wait status, as a user-space test would print it.
pub fn decode_status(st: i32) -> String {
    if st & 0o177 == 0 {
        format!("exited({})", (st >> 8) & 0xff)
    } else if st & 0o177 == 0o177 {
        format!("stopped({})", (st >> 8) & 0xff)
    } else if st == SIGCONT {
        "continued".to_string()
    } else {
        format!("signaled({})", st & 0o177)
    }
}

pub fn errno_name(e: i32) -> &'static str {
    match e {
        0 => "0",
        EPERM => "EPERM",
        ESRCH => "ESRCH",
        EINTR => "EINTR",
        ECHILD => "ECHILD",
        ENOMEM => "ENOMEM",
        EFAULT => "EFAULT",
        EBUSY => "EBUSY",
        EINVAL => "EINVAL",
        EWOULDBLOCK => "EWOULDBLOCK",
        EALREADY => "EALREADY",
        ERESTART => "ERESTART",
        _ => "E?",
    }
}

pub fn errno_from_name(s: &str) -> Option<i32> {
    Some(match s {
        "EPERM" => EPERM,
        "ESRCH" => ESRCH,
        "EINTR" => EINTR,
        "ECHILD" => ECHILD,
        "ENOMEM" => ENOMEM,
        "EFAULT" => EFAULT,
        "EBUSY" => EBUSY,
        "EINVAL" => EINVAL,
        "EAGAIN" | "EWOULDBLOCK" => EAGAIN,
        "EALREADY" => EALREADY,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_signal_round_trips_and_has_a_default_action() {
        for sig in 1..=34 {
            let name = signal_name(sig);
            assert_eq!(signal_number(&name), Some(sig), "{name}");
            assert_eq!(signal_number(&name[3..]), Some(sig), "{name} without SIG");
        }
        assert_eq!(signal_number("NOPE"), None);
        // The two signals nothing can catch both act by default.
        assert_eq!(default_action(SIGKILL), DefaultAction::Terminate);
        assert_eq!(default_action(SIGSTOP), DefaultAction::Stop);
        assert_eq!(default_action(SIGCHLD), DefaultAction::Ignore);
    }
}
