//! `kexit check --engine state --audit`: a check that the fingerprint covers the state. Random
//! and PCT-like executions run without pruning; every (fingerprint, chosen actor) must lead to
//! the same next fingerprint (or the same end of the execution) every time. A disagreement
//! means two different states got one fingerprint: something that decides what happens next
//! is missing from it (a scope whose key leaves out a live value, a field not hashed).
//! The one exception is a step that raises a data race: the race check's vector clocks record
//! the path into a state, not the state, so whether the same step from the same state raises
//! one can differ (docs/model.md, deviation 10); such steps are counted, not compared.

use super::engine::{Choice, Chooser, Decision, SharedLink, StateEngine, StateScheduler};
use super::por::FxMap;
use crate::engine::shuttle::pct::Rng;
use crate::engine::Budget;
use crate::schedule::ViolationRecord;
use kexit_model::engine::ActorId;
use kexit_model::{Variant, ViolationKind};
use kexit_scenarios::world::execute;
use kexit_scenarios::Spec;
use parking_lot::Mutex;
use serde::Serialize;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Instant;

/// Where a transition was seen: which execution (its seed) and which decision of it.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Seen {
    pub seed: u64,
    pub decision: u32,
    /// JSON numbers cannot hold 128 bits: written as 32 hex digits.
    #[serde(serialize_with = "hex128")]
    pub next: u128,
}

fn hex128<S: serde::Serializer>(v: &u128, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{v:032x}"))
}

#[derive(Clone, Debug, Serialize)]
pub struct Disagreement {
    pub fingerprint: String,
    pub actor: ActorId,
    pub first: Seen,
    pub second: Seen,
}

/// A model error seen during the audit (a step outside its declaration, `stepcheck.rs`, or
/// any other): the model is wrong, whatever the fingerprints say.
#[derive(Clone, Debug, Serialize)]
pub struct ModelErrorSeen {
    pub seed: u64,
    pub violation: ViolationRecord,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct AuditReport {
    pub executions: u64,
    /// Transitions checked against an earlier occurrence of the same (state, actor).
    pub transitions: u64,
    /// Distinct (state, actor) pairs seen.
    pub pairs: u64,
    pub states: u64,
    /// Steps that raised a data race, not compared: whether one does depends on the path to
    /// the state, which the race check's clocks record and the fingerprint leaves out.
    pub races_raised: u64,
    pub disagreement: Option<Disagreement>,
    pub model_error: Option<ModelErrorSeen>,
    pub seconds: f64,
}

struct Auditor {
    seen: FxMap<(u128, ActorId), Seen>,
    states: FxMap<u128, ()>,
    /// The last decision of the running execution, waiting for the state it leads to, and
    /// whether a data race had been reported before it.
    pending: Option<(u128, ActorId, u32, bool)>,
    rng: Rng,
    /// PCT-like executions: a random priority per actor, lowered at a few random decisions.
    priorities: Vec<u64>,
    pct: bool,
    seed: u64,
    decision: u32,
    next_seed: u64,
    end_seed: u64,
    deadline: Option<Instant>,
    report: AuditReport,
}

/// The pseudo-fingerprint of an execution's end (so the last step is checked too).
fn end_marker(kind: Option<&str>) -> u128 {
    let mut h = super::por::Fx::default();
    std::hash::Hash::hash(&kind, &mut h);
    u128::MAX ^ std::hash::Hasher::finish(&h) as u128
}

impl AuditReport {
    /// A disagreement or a model error: the audit fails.
    pub fn failed(&self) -> bool {
        self.disagreement.is_some() || self.model_error.is_some()
    }
}

impl Auditor {
    /// The state `fp` the pending decision led to; `race`: a data race has been reported.
    fn arrive(&mut self, fp: u128, race: bool) {
        let Some((from, actor, decision, race_before)) = self.pending.take() else {
            return;
        };
        if race && !race_before {
            self.report.races_raised += 1;
            return;
        }
        let here = Seen {
            seed: self.seed,
            decision,
            next: fp,
        };
        match self.seen.get(&(from, actor)) {
            Some(first) => {
                self.report.transitions += 1;
                if first.next != fp && self.report.disagreement.is_none() {
                    self.report.disagreement = Some(Disagreement {
                        fingerprint: format!("{from:032x}"),
                        actor,
                        first: *first,
                        second: here,
                    });
                }
            }
            None => {
                self.seen.insert((from, actor), here);
            }
        }
    }
}

impl Chooser for Auditor {
    fn begin(&mut self) -> bool {
        if self.report.failed()
            || self.next_seed >= self.end_seed
            || self.deadline.is_some_and(|d| Instant::now() >= d)
        {
            return false;
        }
        self.seed = self.next_seed;
        self.next_seed += 1;
        self.rng = Rng::new(self.seed);
        self.pct = self.seed % 2 == 1;
        self.priorities.clear();
        self.decision = 0;
        self.report.executions += 1;
        true
    }

    fn choose(&mut self, d: &Decision<'_>) -> Choice {
        let fp = d.fp.expect("the audit wants every fingerprint");
        self.arrive(fp, d.race);
        self.states.insert(fp, ());
        let a = if self.pct {
            while self.priorities.len() <= *d.enabled.iter().max().expect("enabled") {
                let p = self.rng.next_u64();
                self.priorities.push(p);
            }
            if self.rng.below(20) == 0 {
                let who = d.enabled[self.rng.below(d.enabled.len())];
                self.priorities[who] = 0;
            }
            *d.enabled
                .iter()
                .max_by_key(|a| self.priorities[**a])
                .expect("enabled")
        } else {
            d.enabled[self.rng.below(d.enabled.len())]
        };
        self.pending = Some((fp, a, self.decision, d.race));
        self.decision += 1;
        Choice::Run(a)
    }
}

/// Runs the audit on `spec`: `budget.iterations` executions from `budget.seed` (or until the
/// time limit).
pub fn audit(spec: &Spec, variant: &Variant, budget: &Budget) -> Result<AuditReport, String> {
    crate::engine::install_quiet_panic_hook();
    let started = Instant::now();
    let link: SharedLink = Arc::default();
    let auditor = Arc::new(Mutex::new(Auditor {
        seen: FxMap::default(),
        states: FxMap::default(),
        pending: None,
        rng: Rng::new(0),
        priorities: Vec::new(),
        pct: false,
        seed: 0,
        decision: 0,
        next_seed: budget.seed,
        end_seed: budget.seed.saturating_add(budget.iterations),
        deadline: budget.time_limit.map(|t| started + t),
        report: AuditReport::default(),
    }));
    let sched = StateScheduler::new(auditor.clone(), link.clone());
    let (s, v, au) = (
        Arc::new(spec.clone()),
        Arc::new(variant.clone()),
        auditor.clone(),
    );
    let body = move || {
        let out = execute(
            &s,
            &v,
            StateEngine::new(link.clone()).checking_steps(),
            &*crate::engine::shuttle::shuttle_spawn(),
        );
        let kind = out.violation.as_ref().map(|v| v.kind.slug());
        let mut a = au.lock();
        a.arrive(
            end_marker(kind),
            kind == Some(ViolationKind::DataRace.slug()),
        );
        if let Some(v) = out
            .violation
            .filter(|v| v.kind == ViolationKind::ModelError)
        {
            let seed = a.seed;
            a.report.model_error.get_or_insert(ModelErrorSeen {
                seed,
                violation: ViolationRecord::from(&v),
            });
        }
    };
    let r = catch_unwind(AssertUnwindSafe(|| {
        shuttle::Runner::new(sched, crate::engine::shuttle_config()).run(body)
    }));
    if let Err(p) = r {
        return Err(format!(
            "model panicked under the audit: {}",
            crate::engine::panic_text(&p)
        ));
    }
    let a = auditor.lock();
    let mut report = a.report.clone();
    report.pairs = a.seen.len() as u64;
    report.states = a.states.len() as u64;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}
