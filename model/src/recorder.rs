//! The kernel's recording side: the trace of steps, the seed lines covered, and the
//! violation that ends an execution (the first one raised wins).

use crate::blocked::Detail;
use crate::engine::ActorId;
use crate::kernel::{Kernel, Unwind};
use crate::site::Site;
use crate::trace::*;

impl Kernel {
    pub(crate) fn label(&self, a: ActorId) -> String {
        self.actors
            .get(a)
            .map(|x| x.label.clone())
            .unwrap_or_else(|| format!("actor{a}"))
    }

    /// Marks a seed line as executed (for coverage).
    pub(crate) fn cover(&mut self, site: &'static Site) {
        if site.is_seed() {
            let w = (site.line / 64) as usize;
            if w >= self.rec.lines.len() {
                self.rec.lines.resize(w + 1, 0);
            }
            self.rec.lines[w] |= 1 << (site.line % 64);
        }
    }

    pub fn record(&mut self, me: ActorId, site: &'static Site, what: What) {
        self.record_as(me, site, what, true);
    }

    /// `record`, saying whether the actor's code goes on to use the step's result (`used`):
    /// only a result that is used becomes part of the actor's local state (its digest).
    pub(crate) fn record_as(&mut self, me: ActorId, site: &'static Site, what: What, used: bool) {
        let line = if site.is_seed() {
            site.line
        } else {
            self.actors[me].line
        };
        if site.is_seed() {
            self.cover(site);
            self.actors[me].line = site.line;
            self.actors[me].func = site.func;
        }
        self.sched.step += 1;
        self.actors[me].last = self.sched.step;
        if self.sched.local_state {
            crate::fingerprint::observe(&mut self.actors[me].digest, site, &what, used);
        }
        let toks = &self.actors[me].toks;
        let shared_of = |t: Tok| toks.iter().any(|(x, _, s)| *x == t && *s);
        self.race.observe(me, &what, shared_of);
        self.rec.trace.push(Event {
            step: self.sched.step,
            actor: me,
            site,
            line,
            what,
        });
    }

    /// Raise a violation; the first one wins. Returns the unwind every actor then takes.
    pub fn fail(
        &mut self,
        me: Option<ActorId>,
        kind: ViolationKind,
        site: Option<&'static Site>,
        msg: String,
    ) -> Unwind {
        self.fail_with(me, kind, site, msg, Detail::None)
    }

    /// `fail`, with what the violation is about as data.
    pub fn fail_with(
        &mut self,
        me: Option<ActorId>,
        kind: ViolationKind,
        site: Option<&'static Site>,
        msg: String,
        detail: Detail,
    ) -> Unwind {
        if self.rec.violation.is_none() {
            let (actor, func, line) = match me {
                Some(a) => {
                    let ac = &self.actors[a];
                    let (f, l) = match site {
                        Some(s) if s.is_seed() => (s.func, s.line),
                        // A stub run outside any seed function names itself.
                        Some(s) if ac.line == 0 => (s.func, 0),
                        _ => (ac.func, ac.line),
                    };
                    (ac.label.clone(), f, l)
                }
                None => ("checker".to_string(), "", 0),
            };
            self.rec.violation = Some(Violation {
                kind,
                actor,
                func,
                line,
                message: msg,
                detail,
            });
            // What follows is only the other actors stopping: the schedule ends here.
            self.sched.schedule_cut = Some(self.sched.schedule.len());
        }
        self.sched.abort = true;
        for a in 0..self.actors.len() {
            self.sched.pending_unpark.push(a);
        }
        Unwind::Abort
    }
}
