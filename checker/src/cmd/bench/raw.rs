//! The baseline for the overhead figures: the exit-vs-wait starter written by hand directly
//! against loom's and shuttle's primitives, the way one would write a one-off test, with the
//! same interlocks as kexit's model of it: the parent's token (a mutex) around the child scan,
//! the p_waitgen snapshot and re-check around tsleep_interlock (kern_exit.c:881, 1116-1127),
//! exit1's zombie move and p_waitgen bump (488-490), the signal to the parent under its token
//! (553-561), lwp_exit's wakeup of the parent (700) and
//! the reap waiting for the exiting thread to be off its cpu (lwp_wait, 727-766).
//!
//! Every engine operation counts as one scheduling point, so the figures compare
//! scheduling points per second between this and the model.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Scheduling points taken by the baseline since the last [`take_points`].
static POINTS: AtomicU64 = AtomicU64::new(0);

fn point() {
    POINTS.fetch_add(1, Relaxed);
}

pub fn take_points() -> u64 {
    POINTS.swap(0, Relaxed)
}

/// The model, instantiated once per engine: `$rt` is `loom` or `shuttle`, which export the
/// same `sync` and `thread` API.
macro_rules! exit_wait {
    ($module:ident, $rt:ident) => {
        pub mod $module {
            use super::point;
            use $rt::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
            use $rt::sync::{Arc, Condvar, Mutex};

            const GEN_MASK: u64 = 0x7FFF_FFFF;
            const WAIT_BIT: u64 = 0x8000_0000;

            struct Child {
                zombie: AtomicBool,
                /// TDF_EXITING: the child's thread has switched away for the last time.
                off_cpu: AtomicBool,
                token: Mutex<()>,
                xstat: AtomicU64,
            }

            struct Parent {
                /// p_token; guards the children list (p_children).
                token: Mutex<Vec<Arc<Child>>>,
                waitgen: AtomicU64,
                /// The sleep queue on the parent's address: armed by tsleep_interlock,
                /// cleared by wakeup.
                sleepq: Mutex<bool>,
                woken: Condvar,
            }

            impl Parent {
                fn wakeup(&self) {
                    point();
                    let mut armed = self.sleepq.lock().unwrap();
                    *armed = false;
                    point();
                    self.woken.notify_all();
                }
            }

            fn child_exit(q: &Parent, me: &Child) {
                point();
                let tok = me.token.lock().unwrap();
                point();
                me.xstat.store(7, SeqCst);
                point();
                me.zombie.store(true, SeqCst);
                point();
                q.waitgen.fetch_add(1, SeqCst);
                drop(tok);
                // ksignal(pp, SIGCHLD) takes the parent's token: this is what keeps the
                // wakeup below after the parent's tsleep_interlock.
                point();
                drop(q.token.lock().unwrap());
                q.wakeup();
                point();
                me.off_cpu.store(true, SeqCst);
            }

            /// One kern_wait call: Some((pid, status)) or None for ECHILD.
            fn kern_wait(q: &Parent) -> Option<u64> {
                loop {
                    point();
                    let mut children = q.token.lock().unwrap();
                    point();
                    let mut waitgen = q.waitgen.fetch_add(WAIT_BIT, SeqCst);
                    if children.is_empty() {
                        return None;
                    }
                    let mut reaped = None;
                    let mut busy = false;
                    for (i, p) in children.iter().enumerate() {
                        point();
                        if p.zombie.load(SeqCst) {
                            point();
                            let _t = p.token.lock().unwrap();
                            // lwp_wait: the exiting thread must be off its cpu; until it
                            // is, sleep a tick ("lwpzomb"), which drops every token.
                            point();
                            if !p.off_cpu.load(SeqCst) {
                                busy = true;
                                break;
                            }
                            point();
                            reaped = Some((i, p.xstat.load(SeqCst)));
                            break;
                        }
                    }
                    if busy {
                        drop(children);
                        point();
                        $rt::thread::yield_now();
                        continue;
                    }
                    if let Some((i, status)) = reaped {
                        children.remove(i);
                        return Some(status);
                    }
                    loop {
                        point();
                        if waitgen & GEN_MASK != q.waitgen.load(SeqCst) & GEN_MASK {
                            break;
                        }
                        // tsleep_interlock(q)
                        point();
                        *q.sleepq.lock().unwrap() = true;
                        point();
                        waitgen = q.waitgen.fetch_add(WAIT_BIT, SeqCst);
                        point();
                        if waitgen & GEN_MASK == q.waitgen.load(SeqCst) & GEN_MASK {
                            // tsleep(PINTERLOCKED): the token goes while asleep.
                            drop(children);
                            point();
                            let mut armed = q.sleepq.lock().unwrap();
                            while *armed {
                                point();
                                armed = q.woken.wait(armed).unwrap();
                            }
                            break;
                        }
                    }
                }
            }

            /// One execution: the child exits while its parent waits twice (the second
            /// wait gets ECHILD).
            pub fn execution() {
                let child = Arc::new(Child {
                    zombie: AtomicBool::new(false),
                    off_cpu: AtomicBool::new(false),
                    token: Mutex::new(()),
                    xstat: AtomicU64::new(0),
                });
                let parent = Arc::new(Parent {
                    token: Mutex::new(vec![child.clone()]),
                    waitgen: AtomicU64::new(0),
                    sleepq: Mutex::new(false),
                    woken: Condvar::new(),
                });
                let q = parent.clone();
                let c = $rt::thread::spawn(move || child_exit(&q, &child));
                let q = parent.clone();
                let p = $rt::thread::spawn(move || {
                    assert_eq!(kern_wait(&q), Some(7), "wait returns the exit status");
                    assert_eq!(kern_wait(&q), None, "second wait gets ECHILD");
                });
                c.join().unwrap();
                p.join().unwrap();
            }
        }
    };
}

exit_wait!(on_loom, loom);
exit_wait!(on_shuttle, shuttle);

#[cfg(test)]
mod tests {
    #[test]
    fn the_baseline_passes_exhaustively_on_loom() {
        let mut b = loom::model::Builder::new();
        b.preemption_bound = None;
        b.max_branches = 100_000;
        b.check(super::on_loom::execution);
        assert!(super::take_points() > 0);
    }
}
