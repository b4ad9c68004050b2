//! What a scenario describes: processes, their LWPs' scripts and what each call must return.
//! The scenarios crate reads it from TOML; it lives here so the model can run it.

use serde::{Deserialize, Serialize};

pub use crate::values::*;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "one")]
    pub ncpus: u8,
    /// Run init (pid 1) as an actor that reaps whatever is reparented to it.
    #[serde(default)]
    pub init_waits: bool,
    /// The actors of one cpu take turns as LWKT threads do (one runs until it blocks or
    /// returns to user mode); by default every actor runs as if on a cpu of its own.
    #[serde(default)]
    pub shared_cpus: bool,
    /// Cpus that run a reaper thread; default: the cpus of every multi-LWP process.
    #[serde(default)]
    pub reapers: Option<Vec<u8>>,
    pub procs: Vec<ProcSpec>,
    /// kmalloc(M_NOWAIT) calls (counted from 1) that fail.
    #[serde(default)]
    pub alloc_fail: Vec<u32>,
    /// Exit callouts registered before the scenario starts.
    #[serde(default)]
    pub exit_callbacks: Vec<u32>,
    #[serde(default = "max_steps")]
    pub max_steps: u32,
    /// Loom preemption bound used by default when the unbounded search takes too long.
    #[serde(default)]
    pub loom_bound: Option<usize>,
    /// Who must have reaped whom when the execution ends, with the status reported.
    #[serde(default)]
    pub expect_reaped: Vec<ReapExpect>,
    /// Processes that must be left as zombies (nobody reaps them).
    #[serde(default)]
    pub expect_zombies: Vec<u32>,
    /// A violation the seed itself shows here (a finding, see docs/findings.md).
    #[serde(default)]
    pub known_finding: Option<KnownFinding>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ReapExpect {
    /// The reaper's pid.
    pub by: u32,
    pub pid: u32,
    #[serde(default)]
    pub status: Option<StatusExpect>,
    /// The raw status word the reap stored (`Expect::raw`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<RawStatus>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct KnownFinding {
    pub id: String,
    /// Violation kind slug, e.g. "copyout-unwritten".
    pub kind: String,
    /// Other kinds the same bug shows on other interleavings.
    #[serde(default)]
    pub also: Vec<String>,
    /// Variants in which the finding is fixed.
    #[serde(default)]
    pub fixed_by: Vec<String>,
}

fn one() -> u8 {
    1
}
fn max_steps() -> u32 {
    3000
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct ProcSpec {
    pub pid: u32,
    #[serde(default)]
    pub parent: u32,
    #[serde(default)]
    pub pgid: Option<u32>,
    #[serde(default)]
    pub lwps: Vec<LwpSpec>,
    /// P_TRACED: traced by its parent (the tracer); `oppid` names the process PT_DETACH
    /// returns it to.
    #[serde(default)]
    pub traced: bool,
    #[serde(default)]
    pub oppid: u32,
    #[serde(default)]
    pub nocldwait: bool,
    #[serde(default)]
    pub cldsigign: bool,
    /// P_PPWAIT: the parent is a vfork parent waiting for this child to exec or exit.
    #[serde(default)]
    pub ppwait: bool,
    /// SSTOP with SIGSTOP as p_xstat: its LWPs start halted (tstop) until it is continued.
    #[serde(default)]
    pub stopped: bool,
    #[serde(default)]
    pub continued: bool,
    #[serde(default)]
    pub sigchld_caught: bool,
    /// SA_NOCLDSTOP on SIGCHLD (PS_NOCLDSTOP, set before the scenario starts): a child's stop
    /// is reported to this process without a SIGCHLD.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub nocldstop: bool,
    /// Signals other than SIGCHLD the process catches (installed before the scenario starts):
    /// a handler runs at its next return to user mode, and a PCATCH sleep is interrupted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub catch: Vec<Signal>,
    /// Signals other than SIGCHLD the process ignores (SIG_IGN): discarded when sent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore: Vec<Signal>,
    /// P_CONTROLT: the process has a controlling terminal (the terminal's signals reach it).
    #[serde(default)]
    pub ctty: bool,
    /// The process leads a session whose controlling terminal has this foreground process
    /// group: its exit1 sends the group SIGHUP (420, members with P_CONTROLT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tty_pgrp: Option<u32>,
    /// The session of the process's group, named by its leader's pid (the same for every
    /// member of a group). Default: the group's own pgid, a group alone in its session (as
    /// after setsid), where no parent qualifies it for job control.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<u32>,
}

impl ProcSpec {
    /// p_pgrp's pgid.
    pub fn group(&self) -> u32 {
        self.pgid.unwrap_or(self.pid)
    }
    /// The session of the process's group (its leader's pid).
    pub fn session_id(&self) -> u32 {
        self.session.unwrap_or(self.group())
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct LwpSpec {
    #[serde(default)]
    pub cpu: u8,
    #[serde(default)]
    pub script: Vec<Op>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Op {
    Exit {
        code: i32,
    },
    Extexit {
        who: u32,
        action: u32,
        status: i32,
        #[serde(default = "yes")]
        addr_ok: bool,
        #[serde(default)]
        expect_errno: Option<String>,
    },
    Wait {
        pid: i32,
        #[serde(default)]
        options: Vec<WaitOpt>,
        #[serde(default)]
        rusage: bool,
        #[serde(default)]
        expect: Option<Expect>,
    },
    /// kill(2): a signal by number or name ("TERM", "SIGQUIT"); 0 only checks the pid.
    Kill {
        pid: u32,
        #[serde(default = "sigkill")]
        sig: Signal,
    },
    /// execve(2): killalllwps(1), and SIGTRAP to a traced process, which stops it for its
    /// tracer.
    Exec,
    /// usched_set(USCHED_SET_CPU, cpu): the LWP moves to `cpu` (lwkt_migratecpu); the cpu it
    /// leaves runs an idle thread that finishes the switch.
    Migrate {
        cpu: u8,
    },
    AtExit {
        callback: u32,
        #[serde(default)]
        expect_errno: Option<String>,
    },
    RmAtExit {
        callback: u32,
        #[serde(default)]
        expect_removed: Option<bool>,
    },
    /// Sleep in the kernel: PCATCH sleeps are ended by a signal, others time out.
    Sleep {
        #[serde(default)]
        pcatch: bool,
    },
    /// proc_stop with SIGSTOP, whatever the tracing: the process becomes SSTOP, its parent is
    /// woken under the parent's token, and its LWPs halt at their next return to user mode.
    Stop {
        pid: u32,
    },
    /// SIGCONT's continue, whatever the tracing: SSTOP -> running with P_CONTINUED, the halted
    /// LWPs woken (proc_unstop), the parent woken likewise.
    Cont {
        pid: u32,
    },
    /// sigaction(SIGCHLD): "catch", "ignore" (PS_CLDSIGIGN) or "default".
    Sigchld {
        action: SigchldAction,
    },
    /// ptrace(PT_TRACE_ME): the process asks to be traced by its parent (P_TRACED, p_oppid =
    /// the parent), as a debugger's child does before exec.
    TraceMe,
    /// ptrace(PT_ATTACH): the caller becomes the tracer and parent of `pid` (P_TRACED,
    /// p_oppid = the old parent, even when that is the caller, and proc_reparent), which it
    /// sends SIGSTOP. EAGAIN in exec, EINVAL for itself or an ancestor of a traced caller,
    /// EBUSY when already traced.
    Attach {
        pid: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expect_errno: Option<String>,
    },
    /// ptrace(PT_DETACH, pid, 1, sig): P_TRACED and P_WAITED cleared, `pid` returned to
    /// p_oppid and set running with p_xstat = `sig` (default 0: the signal it stopped for is
    /// dropped). Like `ptrace_continue` and `ptrace_kill`, only for a process the caller
    /// traces (else EPERM or EBUSY) that is stopped and whose stop it has waited for (else
    /// EBUSY).
    Detach {
        pid: u32,
        #[serde(default, skip_serializing_if = "is_no_signal")]
        sig: Signal,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expect_errno: Option<String>,
    },
    /// ptrace(PT_CONTINUE, pid, 1, sig): the stopped traced process is set running with
    /// p_xstat = `sig` (default 0: none), which it acts on at its return to user mode.
    PtraceContinue {
        pid: u32,
        #[serde(default)]
        sig: Signal,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expect_errno: Option<String>,
    },
    /// ptrace(PT_KILL): PT_CONTINUE with SIGKILL, the way a tracer ends a traced process
    /// (a plain SIGKILL leaves a stopped traced process stopped).
    PtraceKill {
        pid: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expect_errno: Option<String>,
    },
    /// The vfork parent's wait (kern_fork.c): it has held the child (PHOLD) since the fork,
    /// sleeps until its P_PPWAIT clears and releases it. Only as the first operation of a
    /// single-LWP parent of a `ppwait` child.
    VforkWait {
        pid: u32,
    },
    /// A terminal signals its foreground process group `pgid`, as tty.c does
    /// (`pgsignal(tp->t_pgrp, sig, 1)`: members with a controlling terminal). The default,
    /// SIGWINCH (a window resize), is ignored by every process; only the walk matters.
    Pgsignal {
        pgid: u32,
        #[serde(default = "sigwinch")]
        sig: i32,
    },
    /// kill(-pgid, sig) (pgid 0: the caller's own group): kern_sig.c dokillpg signals every
    /// member but init and zombies; ESRCH when there was none.
    Killpg {
        pgid: u32,
        #[serde(default = "sigkill")]
        sig: Signal,
        #[serde(default)]
        expect_errno: Option<String>,
    },
    /// A ps-like scan: hold the process (pfind: PHOLD), take its token, and for each LWP hold
    /// it (LWPHOLD) and block (copying out) before releasing it. With `zombies`, the scan
    /// walks allproc as `ps -ax` does (KERN_PROC_ALL) and finds a zombie too.
    Scan {
        pid: u32,
        #[serde(default)]
        zombies: bool,
    },
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SigchldAction {
    Catch,
    Ignore,
    Default,
}

fn yes() -> bool {
    true
}
fn is_no_signal(s: &Signal) -> bool {
    s.0 == 0
}
fn sigkill() -> Signal {
    Signal(kexit_model::flags::SIGKILL)
}

fn sigwinch() -> i32 {
    kexit_model::flags::SIGWINCH
}
