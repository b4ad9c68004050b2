//! What a violation is about, as data: for a deadlock, what every remaining actor was doing;
//! for a process left behind, which one. Tools that reason about a violation (the fuzzer's
//! classifier) read this instead of the message, which is rendered from it.

use crate::engine::ActorId;
use crate::flags::Pid;
use crate::trace::{Ident, Tok};
use std::fmt;

/// The structured part of a violation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Detail {
    #[default]
    None,
    /// Every remaining actor is blocked: what each was doing, in actor order.
    Blocked(Vec<Blocked>),
    /// This process has no threads left but is not a zombie.
    Undead(Pid),
}

impl Detail {
    /// The blocked actors of a deadlock (empty for anything else).
    pub fn blocked(&self) -> &[Blocked] {
        match self {
            Detail::Blocked(b) => b,
            _ => &[],
        }
    }
}

/// One actor of a deadlock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blocked {
    pub actor: ActorId,
    pub label: String,
    /// The process and thread number (1-based) when the actor is an LWP.
    pub lwp: Option<(Pid, u32)>,
    pub state: BlockedState,
}

/// What a blocked actor was doing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlockedState {
    /// Done with its script, waiting for work (init, the reapers).
    Idle,
    /// In tsleep: its wmesg, wait channel, and the seed function and line (0: outside
    /// kern_exit.c).
    Asleep {
        wmesg: &'static str,
        wchan: Option<Ident>,
        func: &'static str,
        line: u32,
    },
    /// In a sleep with a timeout.
    TimedSleep {
        wmesg: &'static str,
    },
    /// Waiting to get these tokens back, at this seed line.
    TokenWait {
        tokens: Vec<Tok>,
        line: u32,
    },
    Running,
}

impl BlockedState {
    /// The wmesg of a sleep, if it is one.
    pub fn wmesg(&self) -> Option<&'static str> {
        match self {
            BlockedState::Asleep { wmesg, .. } | BlockedState::TimedSleep { wmesg } => Some(wmesg),
            _ => None,
        }
    }
}

impl fmt::Display for Blocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.label, self.state)
    }
}

impl fmt::Display for BlockedState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BlockedState::Idle => write!(f, "idle"),
            BlockedState::Asleep {
                wmesg,
                wchan: Some(i),
                line: 0,
                ..
            } => write!(
                f,
                "asleep in tsleep \"{wmesg}\" on {i}, outside kern_exit.c"
            ),
            BlockedState::Asleep {
                wmesg,
                wchan: Some(i),
                func,
                line,
            } => write!(
                f,
                "asleep in tsleep \"{wmesg}\" on {i} at kern_exit.c:{line} ({func})"
            ),
            BlockedState::Asleep {
                wmesg, wchan: None, ..
            } => write!(f, "asleep \"{wmesg}\""),
            BlockedState::TimedSleep { wmesg } => write!(f, "in a timed sleep \"{wmesg}\""),
            BlockedState::TokenWait { tokens, line } => {
                let held: Vec<String> = tokens.iter().map(|t| t.to_string()).collect();
                write!(
                    f,
                    "waiting for tokens [{}] at kern_exit.c:{line}",
                    held.join(", ")
                )
            }
            BlockedState::Running => write!(f, "running"),
        }
    }
}
