//! The registry of known findings: what the seed does wrong (docs/findings.md tells each
//! story) and the behaviour it shows on purpose. A scenario's `known_finding` must name one
//! and stay within it; the fuzzer's classifier reports generated violations by it.

/// One known finding.
pub struct Finding {
    /// `F1`..`F15` as in docs/findings.md, or the name of a deliberate behaviour.
    pub id: &'static str,
    /// Its title in docs/findings.md's table.
    pub title: &'static str,
    /// The violation kinds (slugs) it shows, on one interleaving or another.
    pub kinds: &'static [&'static str],
    /// The fix variants that remove it (none for a deliberate behaviour).
    pub fixed_by: &'static [&'static str],
}

pub const FINDINGS: &[Finding] = &[
    Finding {
        id: "F1",
        title: "wait4(WNOHANG) copies out an uninitialized status",
        kinds: &["copyout-unwritten"],
        fixed_by: &["fix:wait4-init-status"],
    },
    Finding {
        id: "F2",
        title: "a PS_NOCLDWAIT parent reaps a child exit1 has just moved to init",
        kinds: &["data-race", "kkassert"],
        fixed_by: &["fix:wait-recheck-pptr"],
    },
    Finding {
        id: "F3",
        title: "a second waiter's PHOLDZOMB finds ZOMB with a zero count",
        kinds: &["kkassert"],
        fixed_by: &["fix:zomb-keeps-hold"],
    },
    Finding {
        id: "F4",
        title: "a terminal's signal to a process group walks onto a member its parent freed",
        kinds: &["use-after-free"],
        fixed_by: &["fix:pgsignal-pg-token"],
    },
    Finding {
        id: "F5",
        title: "a traced vfork child wakes its tracer instead of its vfork parent",
        kinds: &["deadlock"],
        fixed_by: &["fix:ppwait-wake-child"],
    },
    Finding {
        id: "F6",
        title: "two LWPs leaving with extexit(EXTEXIT_LWP) leave an undead process",
        kinds: &["process-left-behind", "deadlock"],
        fixed_by: &["fix:extexit-live-lwps"],
    },
    Finding {
        id: "F7",
        title: "a parent that traces its own child is told of its exit twice",
        kinds: &["double-reap"],
        fixed_by: &["fix:oppid-report-once"],
    },
    Finding {
        id: "F8",
        title: "exit1 walks exit_list while rm_at_exit frees an entry of it",
        kinds: &["data-race", "use-after-free"],
        fixed_by: &["fix:exit-list-lock"],
    },
    Finding {
        id: "F9",
        title:
            "a child and its parent exiting at once both take the child's job-control count away",
        kinds: &["unexpected-result", "jobc-miscount"],
        fixed_by: &["fix:fixjobc-once"],
    },
    Finding {
        id: "F10",
        title: "a migration's lwkt_switch_return reads TDF_EXITING of a thread that runs elsewhere",
        kinds: &["use-after-free", "data-race"],
        fixed_by: &["fix:exiting-snapshot"],
    },
    Finding {
        id: "F11",
        title: "fixjobc's walk follows a child that PT_ATTACH moved onto its tracer's list",
        kinds: &["data-race"],
        fixed_by: &["fix:fixjobc-restart"],
    },
    Finding {
        id: "F12",
        title: "a scan holds an exiting LWP after lwp_exit's poll and steps from it once freed",
        kinds: &["use-after-free"],
        fixed_by: &["fix:lwp-exit-repoll"],
    },
    Finding {
        id: "F13",
        title: "a traced child stopped while it exits is never set running once its tracer exits",
        kinds: &["deadlock"],
        fixed_by: &["fix:untrace-unstops"],
    },
    Finding {
        id: "F14",
        title: "a stop that an LWP completes by leaving or by going to sleep is never reported to the parent",
        kinds: &["deadlock"],
        fixed_by: &["fix:stop-completes"],
    },
    Finding {
        id: "F15",
        title: "a tty stop decided before exit1 orphans the job's group stops it after orphanpg looked",
        kinds: &["orphaned-stop"],
        fixed_by: &["fix:ttystop-pgtoken"],
    },
    Finding {
        id: "init-panic",
        title: "init calling exit panics the kernel (kern_exit.c:278-281, on purpose)",
        kinds: &["init-exited"],
        fixed_by: &[],
    },
];

/// The finding with this id.
pub fn finding(id: &str) -> Option<&'static Finding> {
    FINDINGS.iter().find(|f| f.id == id)
}

/// A scenario's `known_finding` names a registered finding and stays within it: kinds it
/// shows, variants that fix it.
pub fn check_known_finding(spec: &crate::Spec) -> Result<(), crate::Invalid> {
    let Some(k) = &spec.known_finding else {
        return Ok(());
    };
    let needles = || vec!["known_finding".to_string()];
    let Some(f) = finding(&k.id) else {
        let ids: Vec<&str> = FINDINGS.iter().map(|f| f.id).collect();
        return Err((
            needles(),
            format!(
                "known_finding {:?} is not a known finding (one of {})",
                k.id,
                ids.join(", ")
            ),
        ));
    };
    if let Some(kind) = std::iter::once(&k.kind)
        .chain(&k.also)
        .find(|x| !f.kinds.contains(&x.as_str()))
    {
        return Err((
            needles(),
            format!(
                "finding {} shows {}, not {kind:?}",
                f.id,
                f.kinds.join(", ")
            ),
        ));
    }
    if let Some(v) = k
        .fixed_by
        .iter()
        .find(|v| !f.fixed_by.contains(&v.as_str()))
    {
        return Err((
            needles(),
            format!(
                "finding {} is fixed by {}, not {v:?}",
                f.id,
                f.fixed_by.join(", ")
            ),
        ));
    }
    Ok(())
}
