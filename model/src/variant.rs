//! Named variants of the model: `seed` is kern_exit.c as written; `bug:` re-creates a
//! historical bug, `fix:` applies a change that came after the seed. The model reads a
//! switch only at the point where history differs.

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Switch {
    /// kern_wait releases the parent's p_token across the final sleep loop (1116-1127).
    WaitUnlockedSleep,
    /// kern_wait sleeps right after tsleep_interlock without re-reading p_waitgen (1122-1123).
    NoWaitgenRecheck,
    /// sys_wait4 initializes `status` and `rusage`, so a WNOHANG/WCONTINUED return copies out
    /// zeros instead of kernel stack contents.
    Wait4InitStatus,
    /// kern_wait re-checks `p->p_pptr != q` after its "lwpzomb" sleep, as it does after
    /// taking the child's token (921-925).
    WaitRecheckPptr,
}

#[derive(Clone, Debug, Serialize)]
pub struct VariantInfo {
    pub name: &'static str,
    pub description: &'static str,
    pub upstream: &'static str,
    pub functions: &'static [&'static str],
    pub lines: &'static str,
    /// Scenarios that expose it, and the violation they must produce ("" for none).
    pub exposed_by: &'static [&'static str],
    pub expect: &'static str,
    #[serde(skip)]
    pub switches: &'static [Switch],
}

pub const VARIANTS: &[VariantInfo] = &[
    VariantInfo {
        name: "seed",
        description: "kern_exit.c of 2014-10-16 as written, bugs included",
        upstream: "8711651202bb (2014-10-16)",
        functions: &[],
        lines: "",
        exposed_by: &[],
        expect: "",
        switches: &[],
    },
    VariantInfo {
        name: "bug:wait-unlocked-sleep",
        description: "kern_wait drops the parent's p_token before its final sleep loop and takes it back after: \
                      the p_waitgen re-snapshot at 1122 can swallow an exit whose wakeup already went by",
        upstream: "none (re-creates the window the parent's token closes in the 2014 code)",
        functions: &["kern_wait"],
        lines: "1116-1127",
        exposed_by: &["exit-vs-wait"],
        expect: "deadlock",
        switches: &[Switch::WaitUnlockedSleep],
    },
    VariantInfo {
        name: "bug:no-waitgen-recheck",
        description: "kern_wait sleeps right after tsleep_interlock without re-reading p_waitgen; \
                      harmless in 2014 because the parent's token closes the window (expected to pass)",
        upstream: "none (control for bug:wait-unlocked-sleep)",
        functions: &["kern_wait"],
        lines: "1122-1123",
        exposed_by: &[],
        expect: "",
        switches: &[Switch::NoWaitgenRecheck],
    },
    VariantInfo {
        name: "fix:wait4-init-status",
        description: "sys_wait4 starts with status = 0 and a zeroed rusage, so WNOHANG returning 0 and the \
                      WCONTINUED report do not copy out uninitialized kernel stack",
        upstream: "not in the 2014 tree (finding F1 in docs/findings.md)",
        functions: &["sys_wait4", "kern_wait"],
        lines: "813, 819-822",
        exposed_by: &[],
        expect: "",
        switches: &[Switch::Wait4InitStatus],
    },
    VariantInfo {
        name: "fix:wait-recheck-pptr",
        description: "kern_wait re-checks p->p_pptr != q after the \"lwpzomb\" sleep (926-928): a child \
                      reparented to init by exit1 (550) while its PS_NOCLDWAIT parent slept there is left to init",
        upstream: "not in the 2014 tree (finding F2 in docs/findings.md)",
        functions: &["kern_wait"],
        lines: "921-928",
        exposed_by: &[],
        expect: "",
        switches: &[Switch::WaitRecheckPptr],
    },
];

#[derive(Clone, Debug)]
pub struct Variant {
    pub info: &'static VariantInfo,
}

impl Default for Variant {
    fn default() -> Self {
        Variant { info: &VARIANTS[0] }
    }
}

impl Variant {
    pub fn by_name(name: &str) -> Option<Variant> {
        VARIANTS
            .iter()
            .find(|v| v.name == name)
            .map(|info| Variant { info })
    }
    pub fn name(&self) -> &'static str {
        self.info.name
    }
    pub fn has(&self, s: Switch) -> bool {
        self.info.switches.contains(&s)
    }
}
