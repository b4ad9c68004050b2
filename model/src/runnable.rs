//! Who can run: token waiters whose tokens are free, and the timed-sleep rule (a timeout has
//! no time; it fires once others have made progress, in the order the sleeps began).

use crate::engine::ActorId;
use crate::kernel::{Kernel, Run};

impl Kernel {
    pub(crate) fn tokens_free(&self, me: ActorId) -> bool {
        self.actors[me]
            .toks
            .iter()
            .all(|(t, _, shared)| match self.tokens.get(t) {
                None => true,
                Some(s) => {
                    s.excl.is_none_or(|h| h == me) && (*shared || s.shared.iter().all(|h| *h == me))
                }
            })
    }

    /// Can run now without anybody else's help (a timed sleeper only waits for time).
    fn strictly_runnable(&self, a: ActorId) -> bool {
        match self.actors[a].run {
            Run::Running => true,
            Run::TokenWait => self.tokens_free(a),
            _ => false,
        }
    }

    /// A timed sleeper that another actor has made progress on since it went to sleep: the
    /// step its sleep began.
    fn timeout_earned(&self, a: ActorId) -> Option<u32> {
        match self.actors[a].run {
            Run::Timed { began } if self.sched.step > began => Some(began),
            _ => None,
        }
    }

    /// Whether a timed sleeper's timeout fires now: it has been earned, no sleep that began
    /// earlier has earned one too, and no actor that could run has been waiting to since
    /// before this sleep began (a tick is long: the threads ready before it run first).
    fn timeout_due(&self, a: ActorId) -> bool {
        self.timeout_earned(a).is_some_and(|mine| {
            !(0..self.actors.len()).any(|b| {
                b != a
                    && (self.timeout_earned(b).is_some_and(|other| other < mine)
                        || (self.strictly_runnable(b) && self.actors[b].last < mine))
            })
        })
    }

    pub(crate) fn runnable(&self, a: ActorId) -> bool {
        match self.actors[a].run {
            Run::Timed { .. } => {
                self.timeout_due(a)
                    || !(0..self.actors.len())
                        .any(|b| b != a && (self.strictly_runnable(b) || self.timeout_due(b)))
            }
            _ => self.strictly_runnable(a),
        }
    }

    /// Whether a blocked actor woken now leaves `Cx::block`'s loop (it can run, or it reports
    /// the end of the execution, a shutdown or a deadlock) rather than parking again. Keep in
    /// step with `Cx::block`: the state engine drops the wakeups for which this is false.
    pub fn goes_on_when_woken(&self, a: ActorId) -> bool {
        self.sched.abort
            || self.runnable(a)
            || (self.sched.shutdown && self.actors[a].run == Run::Idle)
            || !(0..self.actors.len()).any(|b| self.runnable(b))
    }

    /// Timed sleepers whose timeout may now fire.
    pub(crate) fn timeouts_due(&mut self) {
        for a in 0..self.actors.len() {
            if matches!(self.actors[a].run, Run::Timed { .. }) && self.runnable(a) {
                self.sched.pending_unpark.push(a);
            }
        }
    }
}
