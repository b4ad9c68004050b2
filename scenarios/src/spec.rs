//! What a scenario describes: processes, their LWPs' scripts and what each call must return.
//! The scenarios crate reads it from TOML; it lives here so the model can run it.

use serde::{Deserialize, Serialize};

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
    /// p_oppid = the old parent, even when that is the caller, and proc_reparent).
    Attach {
        pid: u32,
    },
    /// ptrace(PT_DETACH): P_TRACED cleared, `pid` returned to p_oppid, and set running with
    /// p_xstat 0 when it is stopped (the signal it stopped for is dropped).
    Detach {
        pid: u32,
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
fn sigkill() -> Signal {
    Signal(kexit_model::flags::SIGKILL)
}

/// A signal number, written in a scenario as a number or a name ("TERM", "SIGTERM").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "SignalText", into = "i32")]
pub struct Signal(pub i32);

#[derive(Deserialize)]
#[serde(untagged)]
enum SignalText {
    Number(i64),
    Name(String),
}

impl TryFrom<SignalText> for Signal {
    type Error = String;
    fn try_from(t: SignalText) -> Result<Self, String> {
        match t {
            SignalText::Number(n) if (0..=kexit_model::flags::SIGMAX as i64).contains(&n) => {
                Ok(Signal(n as i32))
            }
            SignalText::Number(n) => Err(format!(
                "signal {n} is out of range (0 to {})",
                kexit_model::flags::SIGMAX
            )),
            SignalText::Name(name) => kexit_model::flags::signal_number(&name)
                .map(Signal)
                .ok_or_else(|| format!("unknown signal name {name:?} (TERM, SIGQUIT, USR1, ...)")),
        }
    }
}

impl From<Signal> for i32 {
    fn from(s: Signal) -> i32 {
        s.0
    }
}
fn sigwinch() -> i32 {
    kexit_model::flags::SIGWINCH
}

/// A wait option: a name (`"WNOHANG"`) or the option word's bits as a number (`0x100`), so a
/// scenario can pass bits kern_wait rejects (845-846) by their value.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(try_from = "WaitOptText", into = "WaitOptText")]
pub enum WaitOpt {
    Wnohang,
    Wuntraced,
    Wcontinued,
    Wlinuxclone,
    /// An undefined option bit (EINVAL).
    Wbogus,
    /// Option bits given by value.
    Bits(u32),
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum WaitOptText {
    Name(String),
    Number(i64),
}

const WAIT_OPT_NAMES: [(&str, WaitOpt); 5] = [
    ("WNOHANG", WaitOpt::Wnohang),
    ("WUNTRACED", WaitOpt::Wuntraced),
    ("WCONTINUED", WaitOpt::Wcontinued),
    ("WLINUXCLONE", WaitOpt::Wlinuxclone),
    ("WBOGUS", WaitOpt::Wbogus),
];

impl TryFrom<WaitOptText> for WaitOpt {
    type Error = String;
    fn try_from(t: WaitOptText) -> Result<Self, String> {
        match t {
            WaitOptText::Number(n) => u32::try_from(n)
                .map(WaitOpt::Bits)
                .map_err(|_| format!("wait option bits {n} are out of range (0 to 0xffffffff)")),
            WaitOptText::Name(name) => WAIT_OPT_NAMES
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, o)| *o)
                .ok_or_else(|| {
                    format!(
                        "unknown wait option {name:?} (WNOHANG, WUNTRACED, WCONTINUED, \
                         WLINUXCLONE, WBOGUS, or bits as a number such as 0x100)"
                    )
                }),
        }
    }
}

impl From<WaitOpt> for WaitOptText {
    fn from(o: WaitOpt) -> Self {
        match o {
            WaitOpt::Bits(b) => WaitOptText::Number(b.into()),
            named => WaitOptText::Name(
                WAIT_OPT_NAMES
                    .iter()
                    .find(|(_, o)| *o == named)
                    .map_or("", |(n, _)| n)
                    .to_string(),
            ),
        }
    }
}

impl WaitOpt {
    pub fn bits(self) -> u32 {
        use kexit_model::flags::*;
        match self {
            WaitOpt::Wnohang => WNOHANG,
            WaitOpt::Wuntraced => WUNTRACED,
            WaitOpt::Wcontinued => WCONTINUED,
            WaitOpt::Wlinuxclone => WLINUXCLONE,
            WaitOpt::Wbogus => 0x100,
            WaitOpt::Bits(b) => b,
        }
    }

    /// The option word a list of options makes.
    pub fn word(options: &[WaitOpt]) -> u32 {
        options.iter().fold(0, |a, o| a | o.bits())
    }
}

/// What a wait must return: a pid (0 for WNOHANG with nothing to report) with a decoded
/// status such as "exited(1)", "signaled(9)", "stopped(17)", "continued"; or an errno.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    #[serde(default)]
    pub pid: Option<i32>,
    #[serde(default)]
    pub status: Option<StatusExpect>,
    #[serde(default)]
    pub errno: Option<String>,
    /// The status word itself, as the kernel stores it (`raw = 0x10000`: exit(256), whose
    /// W_EXITCODE the 2014 code does not mask).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<RawStatus>,
}

/// A raw wait status word, written as an integer (hexadecimal in TOML: `0x10000`); compared
/// as the 32 bits of the C `int`.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(try_from = "i64", into = "i64")]
pub struct RawStatus(pub i32);

impl TryFrom<i64> for RawStatus {
    type Error = String;
    fn try_from(n: i64) -> Result<Self, String> {
        i32::try_from(n)
            .or_else(|_| u32::try_from(n).map(|u| u as i32))
            .map(RawStatus)
            .map_err(|_| format!("raw status {n} does not fit in 32 bits"))
    }
}

impl From<RawStatus> for i64 {
    fn from(r: RawStatus) -> i64 {
        r.0.into()
    }
}

impl RawStatus {
    pub fn matches(self, status: Option<i32>) -> bool {
        status == Some(self.0)
    }
}

/// Whether a reported status word meets an expectation's decoded `status` and `raw` word
/// (each only when given).
pub fn status_meets(
    status: &Option<StatusExpect>,
    raw: Option<RawStatus>,
    got: Option<i32>,
) -> bool {
    status
        .as_ref()
        .is_none_or(|s| got.is_some_and(|st| s.matches(&kexit_model::flags::decode_status(st))))
        && raw.is_none_or(|raw| raw.matches(got))
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum StatusExpect {
    One(String),
    AnyOf(Vec<String>),
}

impl StatusExpect {
    pub fn matches(&self, got: &str) -> bool {
        match self {
            StatusExpect::One(s) => s == got,
            StatusExpect::AnyOf(v) => v.iter().any(|s| s == got),
        }
    }
}
