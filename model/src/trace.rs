//! Per-execution event trace and violations. Events are small values rendered only when a
//! report is printed, so the trace stays on in every execution.

use crate::engine::ActorId;
use crate::flags::Pid;
use crate::site::Site;
use serde::Serialize;
use std::fmt;

pub type LwpId = usize;

/// An LWKT token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tok {
    Proc(Pid),
    Lwp(LwpId),
    Deadlwp(u8),
    ProcList,
    /// pg_token of the process group with this id.
    Pgrp(Pid),
    /// A cpu, in a scenario whose actors share cpus (`lwkt.rs`): held by the thread running
    /// on it, lost when that thread blocks and taken back before it runs again, as a token.
    Cpu(u8),
}

/// A sleep/wakeup identifier (the address the kernel sleeps on).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ident {
    Proc(Pid),
    Nthreads(Pid),
    PLock(Pid),
    Lwp(LwpId),
    Td(LwpId),
    TaskQueue(u8),
    /// A user-level sleep of an LWP script (read(2), pause(2), ...).
    User(LwpId),
    /// The process group's pg_lock (a lockmgr lock, slept on while another holds it).
    PgLock(Pid),
    /// A migrating thread, descheduled until lwkt_setcpu_remote's IPI reaches its new cpu.
    Ipi(LwpId),
    /// The cpu's next thread (its idle thread here), owed a thread's lwkt_switch_return.
    Switch(u8),
}

/// A shared word touched by atomics or by plain loads and stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    PFlags(Pid),
    PStat(Pid),
    PWaitgen(Pid),
    PLock(Pid),
    LwpMpflags(LwpId),
    LwpLock(LwpId),
    TdFlags(LwpId),
    TdMpflags(LwpId),
    TdRefs(LwpId),
}

/// What a scheduling point touches, so an engine with partial-order reduction (loom) knows
/// which steps commute: a step's silent follow-up only reads or writes these objects, state
/// protected by tokens the actor holds, or its own state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Obj {
    Word(Field),
    Tok(Tok),
    Ident(Ident),
    /// Pending signals and the PCATCH state of a process's sleeping LWPs.
    Sig(Pid),
    /// The process's signal dispositions (p_sigacts: SIGCHLD caught, PS_NOCLDWAIT and
    /// PS_CLDSIGIGN), which exit1 reads for its parent without a token (549).
    Sigacts(Pid),
    ExitList,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WakeWhy {
    Wakeup,
    Interlocked,
    Timeout,
    Signal,
    SignalPending,
    /// A signal a traced process stops for: the call is restarted after the stop.
    Restart,
}

impl WakeWhy {
    /// Why a sleep ended with CURSIG's error `err` (not 0): `Restart` for ERESTART, else
    /// `eintr` (a signal found as the sleep began, or once it returned).
    pub(crate) fn of_signal(err: i32, eintr: WakeWhy) -> WakeWhy {
        if err == crate::flags::ERESTART {
            WakeWhy::Restart
        } else {
            eintr
        }
    }
}

#[derive(Clone, Debug, Hash)]
pub enum What {
    TokAcquired(Tok, bool),
    TokRecursed(Tok),
    TokContended(Tok, ActorId),
    TokLostByBlocking(Vec<Tok>),
    TokReacquired(Vec<Tok>),
    TokReleased(Tok),
    Interlock(Ident),
    Sleep {
        ident: Ident,
        wmesg: &'static str,
        timed: bool,
        pcatch: bool,
    },
    Woke {
        ident: Ident,
        why: WakeWhy,
    },
    Wakeup {
        ident: Ident,
        woken: Vec<ActorId>,
    },
    Atomic {
        field: Field,
        old: u64,
        new: u64,
    },
    CmpsetFailed {
        field: Field,
        expected: u64,
        found: u64,
    },
    Load {
        field: Field,
        val: u64,
    },
    Store {
        field: Field,
        old: u64,
        new: u64,
    },
    Note(&'static str),
    Text(String),
    Freed(&'static str, usize),
    Returns(i32),
}

#[derive(Clone, Debug)]
pub struct Event {
    pub step: u32,
    pub actor: ActorId,
    pub site: &'static Site,
    /// The seed line the actor was at (the call site, for steps inside stubs).
    pub line: u32,
    pub what: What,
}

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum ViolationKind {
    Deadlock,
    Livelock,
    Kkassert,
    UseAfterFree,
    DataRace,
    DoubleReap,
    ProcessLeftBehind,
    ListCorruption,
    CopyoutUnwritten,
    JobControl,
    OrphanedStop,
    InitExited,
    UnexpectedResult,
    ModelError,
}

impl ViolationKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Deadlock => "deadlock / lost wakeup",
            Self::Livelock => "livelock (no progress)",
            Self::Kkassert => "KKASSERT failure",
            Self::UseAfterFree => "use after free",
            Self::DataRace => "data race",
            Self::DoubleReap => "double reap / status reported twice",
            Self::ProcessLeftBehind => "process left neither running, zombie nor reaped",
            Self::ListCorruption => "corrupted parent/child or LWP lists",
            Self::CopyoutUnwritten => "copyout of a value the kernel never wrote",
            Self::JobControl => "job-control count (pg_jobc) differs from its members",
            Self::OrphanedStop => {
                "a process of an orphaned process group left stopped by a tty stop"
            }
            Self::InitExited => "init exited (kernel panic)",
            Self::UnexpectedResult => "result differs from the scenario's expectation",
            Self::ModelError => "model error",
        }
    }
    pub fn slug(self) -> &'static str {
        match self {
            Self::Deadlock => "deadlock",
            Self::Livelock => "livelock",
            Self::Kkassert => "kkassert",
            Self::UseAfterFree => "use-after-free",
            Self::DataRace => "data-race",
            Self::DoubleReap => "double-reap",
            Self::ProcessLeftBehind => "process-left-behind",
            Self::ListCorruption => "list-corruption",
            Self::CopyoutUnwritten => "copyout-unwritten",
            Self::JobControl => "jobc-miscount",
            Self::OrphanedStop => "orphaned-stop",
            Self::InitExited => "init-exited",
            Self::UnexpectedResult => "unexpected-result",
            Self::ModelError => "model-error",
        }
    }
    pub fn from_slug(s: &str) -> Option<Self> {
        ALL_KINDS.iter().copied().find(|k| k.slug() == s)
    }
}

pub const ALL_KINDS: [ViolationKind; 14] = [
    ViolationKind::Deadlock,
    ViolationKind::Livelock,
    ViolationKind::Kkassert,
    ViolationKind::UseAfterFree,
    ViolationKind::DataRace,
    ViolationKind::DoubleReap,
    ViolationKind::ProcessLeftBehind,
    ViolationKind::ListCorruption,
    ViolationKind::CopyoutUnwritten,
    ViolationKind::JobControl,
    ViolationKind::OrphanedStop,
    ViolationKind::InitExited,
    ViolationKind::UnexpectedResult,
    ViolationKind::ModelError,
];

#[derive(Clone, Debug, Serialize)]
pub struct Violation {
    pub kind: ViolationKind,
    /// Actor label, or "checker" for end-of-execution checks.
    pub actor: String,
    pub func: &'static str,
    pub line: u32,
    pub message: String,
    /// What the violation is about, as data (the message is rendered from it).
    #[serde(skip)]
    pub detail: crate::blocked::Detail,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VIOLATION: {} by {}", self.kind.name(), self.actor)?;
        if self.line != 0 {
            write!(f, " in {} at kern_exit.c:{}", self.func, self.line)?;
        } else if !self.func.is_empty() {
            write!(f, " in {}", self.func)?;
        }
        write!(f, "\n  {}", self.message)
    }
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Proc(p) => write!(f, "p_token(pid {p})"),
            Tok::Lwp(l) => write!(f, "lwp_token(lwp#{l})"),
            Tok::Deadlwp(c) => write!(f, "deadlwp_token[cpu{c}]"),
            Tok::ProcList => write!(f, "proc_token"),
            Tok::Pgrp(g) => write!(f, "pg_token(pgrp {g})"),
            Tok::Cpu(c) => write!(f, "cpu{c}"),
        }
    }
}

impl fmt::Display for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ident::Proc(p) => write!(f, "proc(pid {p})"),
            Ident::Nthreads(p) => write!(f, "&p_nthreads(pid {p})"),
            Ident::PLock(p) => write!(f, "&p_lock(pid {p})"),
            Ident::Lwp(l) => write!(f, "lwp#{l}"),
            Ident::Td(l) => write!(f, "td(lwp#{l})"),
            Ident::TaskQueue(c) => write!(f, "taskqueue[cpu{c}]"),
            Ident::User(l) => write!(f, "user-sleep(lwp#{l})"),
            Ident::PgLock(g) => write!(f, "&pg_lock(pgrp {g})"),
            Ident::Ipi(l) => write!(f, "setcpu-ipi(lwp#{l})"),
            Ident::Switch(c) => write!(f, "switch-return[cpu{c}]"),
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::PFlags(p) => write!(f, "p_flags(pid {p})"),
            Field::PStat(p) => write!(f, "p_stat(pid {p})"),
            Field::PWaitgen(p) => write!(f, "p_waitgen(pid {p})"),
            Field::PLock(p) => write!(f, "p_lock(pid {p})"),
            Field::LwpMpflags(l) => write!(f, "lwp_mpflags(lwp#{l})"),
            Field::LwpLock(l) => write!(f, "lwp_lock(lwp#{l})"),
            Field::TdFlags(l) => write!(f, "td_flags(lwp#{l})"),
            Field::TdMpflags(l) => write!(f, "td_mpflags(lwp#{l})"),
            Field::TdRefs(l) => write!(f, "td_refs(lwp#{l})"),
        }
    }
}

impl Field {
    fn hex(&self) -> bool {
        matches!(
            self,
            Field::PFlags(_)
                | Field::PLock(_)
                | Field::LwpMpflags(_)
                | Field::TdFlags(_)
                | Field::TdMpflags(_)
        )
    }
    pub fn fmt_val(&self, v: u64) -> String {
        if self.hex() {
            format!("{v:#x}")
        } else {
            format!("{v}")
        }
    }
}

/// Renders an event's "what happened" with actor labels.
pub fn render_what(w: &What, label: &dyn Fn(ActorId) -> String) -> String {
    match w {
        What::TokAcquired(t, shared) => {
            format!(
                "lwkt_gettoken{} {t}: acquired",
                if *shared { "_shared" } else { "" }
            )
        }
        What::TokRecursed(t) => format!("lwkt_gettoken {t}: already held (recursive)"),
        What::TokContended(t, h) => format!(
            "lwkt_gettoken {t}: contended, held by {}; blocks",
            label(*h)
        ),
        What::TokLostByBlocking(ts) => format!("blocks: releases all tokens {}", list(ts)),
        What::TokReacquired(ts) => format!("resumes: re-acquired tokens {}", list(ts)),
        What::TokReleased(t) => format!("lwkt_reltoken {t}"),
        What::Interlock(i) => format!("tsleep_interlock on {i}: queued, still running"),
        What::Sleep {
            ident,
            wmesg,
            timed,
            pcatch,
        } => format!(
            "tsleep on {ident} \"{wmesg}\"{}{}",
            if *pcatch { " PCATCH" } else { "" },
            if *timed { " (timed)" } else { "" }
        ),
        What::Woke { ident, why } => format!(
            "tsleep on {ident} returns: {}",
            match why {
                WakeWhy::Wakeup => "woken by wakeup",
                WakeWhy::Interlocked => "already woken since tsleep_interlock (PINTERLOCKED)",
                WakeWhy::Timeout => "timeout, no wakeup (EWOULDBLOCK)",
                WakeWhy::Signal => "interrupted by a signal (EINTR)",
                WakeWhy::SignalPending => "signal already pending (EINTR)",
                WakeWhy::Restart => "a signal to stop for is pending (ERESTART)",
            }
        ),
        What::Wakeup { ident, woken } => {
            if woken.is_empty() {
                format!("wakeup {ident}: nobody sleeping")
            } else {
                let names: Vec<String> = woken.iter().map(|a| label(*a)).collect();
                format!("wakeup {ident}: woke {}", names.join(", "))
            }
        }
        What::Atomic { field, old, new } => {
            format!(
                "atomic {field}: {} -> {}",
                field.fmt_val(*old),
                field.fmt_val(*new)
            )
        }
        What::CmpsetFailed {
            field,
            expected,
            found,
        } => format!(
            "atomic_cmpset {field}: failed, expected {} found {}",
            field.fmt_val(*expected),
            field.fmt_val(*found)
        ),
        What::Load { field, val } => format!("load {field} = {}", field.fmt_val(*val)),
        What::Store { field, old, new } => {
            format!(
                "store {field}: {} -> {}",
                field.fmt_val(*old),
                field.fmt_val(*new)
            )
        }
        What::Note(s) => s.to_string(),
        What::Text(s) => s.clone(),
        What::Freed(what, id) => format!("{what} {id} freed"),
        What::Returns(v) => format!("returns {v}"),
    }
}

fn list(ts: &[Tok]) -> String {
    if ts.is_empty() {
        return "(none)".into();
    }
    let v: Vec<String> = ts.iter().map(|t| t.to_string()).collect();
    format!("[{}]", v.join(", "))
}
