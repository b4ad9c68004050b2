//! Which catalogue scenarios expose each re-created bug and fix variant of the model, and
//! the violation they must then show: the link between the model's variants (which know no
//! scenario) and the catalogue. `kexit mutants` runs these pairs; `select::expected` reads them.

/// A variant and the scenarios that expose it.
pub struct Exposure {
    pub variant: &'static str,
    pub scenarios: &'static [&'static str],
    /// The violation kind's slug they must show ("" for none).
    pub expect: &'static str,
}

pub const EXPOSURES: &[Exposure] = &[
    Exposure {
        variant: "bug:wait-unlocked-sleep",
        scenarios: &["exit-vs-wait"],
        expect: "deadlock",
    },
    Exposure {
        variant: "bug:wexit-before-signal",
        scenarios: &["threaded-exit", "path-killlwps-pcatch-sleep"],
        expect: "deadlock",
    },
    Exposure {
        variant: "bug:no-ealready",
        scenarios: &["path-exit1-ealready"],
        expect: "deadlock",
    },
    Exposure {
        variant: "bug:no-pholdzomb",
        scenarios: &["path-two-waiter-lwps"],
        expect: "use-after-free",
    },
    Exposure {
        variant: "bug:exiting-flag-early",
        scenarios: &["threaded-exit"],
        expect: "data-race",
    },
    Exposure {
        variant: "bug:lwp-no-proc-hold",
        scenarios: &["path-extexit-lwp-multi"],
        expect: "use-after-free",
    },
    Exposure {
        variant: "bug:wait-waker-no-token",
        scenarios: &["exit-vs-wait"],
        expect: "deadlock",
    },
    Exposure {
        variant: "bug:init-no-token",
        scenarios: &["orphan-exit"],
        expect: "data-race",
    },
    Exposure {
        variant: "bug:killlwps-no-lwphold",
        scenarios: &["killlwps-vs-lwp-exit"],
        expect: "list-corruption",
    },
    Exposure {
        variant: "bug:ppwait-late",
        scenarios: &["vfork-wait"],
        expect: "deadlock",
    },
    Exposure {
        variant: "bug:no-pptr-recheck",
        scenarios: &["nocldwait-reparent-race"],
        expect: "data-race",
    },
    Exposure {
        variant: "bug:reparent-single-shot",
        scenarios: &["attach-vs-parent-exit"],
        expect: "kkassert",
    },
    Exposure {
        variant: "bug:reparent-no-wakeup",
        scenarios: &["attach-takes-only-child"],
        expect: "deadlock",
    },
    Exposure {
        variant: "bug:lwp-wait-no-recheck",
        scenarios: &["ps-all-vs-reap"],
        expect: "use-after-free",
    },
    Exposure {
        variant: "bug:no-reap-stall",
        scenarios: &["pgsignal-vs-reap"],
        expect: "use-after-free",
    },
    Exposure {
        variant: "bug:zomb-hold-deadlock",
        scenarios: &["path-two-waiter-lwps"],
        expect: "deadlock",
    },
    // F6's fix leaves F12 in the scan scenario of F6: the scan's hold comes after lwp_exit's
    // poll, and its RB_NEXT steps from the freed LWP.
    Exposure {
        variant: "fix:extexit-live-lwps",
        scenarios: &["extexit-lwps-vs-scan"],
        expect: "use-after-free",
    },
    Exposure {
        variant: "bug:ppwait-plain-store",
        scenarios: &["vfork-wait"],
        expect: "data-race",
    },
];

/// The scenarios that expose `variant` and what they must show; none for the seed and for a
/// variant no scenario exposes.
pub fn exposure(variant: &str) -> Option<&'static Exposure> {
    EXPOSURES.iter().find(|e| e.variant == variant)
}
