//! The values a scenario writes inside its operations and expectations: signals, wait
//! options, expected wait results and raw status words, each read from TOML as a number or a
//! name.

use serde::{Deserialize, Serialize};

/// A signal number, written in a scenario as a number or a name ("TERM", "SIGTERM").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "SignalText", into = "i32")]
pub struct Signal(pub i32);

/// No signal (0), what ptrace's `data` defaults to.
impl Default for Signal {
    fn default() -> Self {
        Signal(0)
    }
}

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
