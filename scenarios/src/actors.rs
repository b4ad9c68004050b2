//! The actors a scenario runs besides its scripts' LWPs: init when it reaps, one reaper per
//! cpu an LWP of a multi-LWP process can exit on, and an idle thread per cpu an LWP migrates
//! away from.

use crate::spec::{LwpSpec, Op, Spec};

impl Spec {
    /// Engine threads the scenario needs besides the harness: one per scripted LWP, init if
    /// it waits, one reaper per reaper cpu.
    pub fn actor_count(&self) -> usize {
        let lwps: usize = self.procs.iter().map(|p| p.lwps.len()).sum();
        lwps + self.init_waits as usize + self.reaper_cpus().len() + self.idle_cpus().len()
    }

    /// Default: every cpu an LWP of a multi-LWP process can be on (its own, and those it
    /// migrates to), where lwp_exit queues it for that cpu's reaper.
    pub fn reaper_cpus(&self) -> Vec<u8> {
        if let Some(r) = &self.reapers {
            return r.clone();
        }
        let cpus = self
            .procs
            .iter()
            .filter(|p| p.lwps.len() > 1)
            .flat_map(|p| p.lwps.iter().flat_map(|l| l.cpus_visited()));
        sorted(cpus)
    }

    /// The cpus some LWP migrates away from: each runs an idle thread, the next thread there
    /// after the switch-out, which owes the migrating thread its lwkt_switch_return.
    pub fn idle_cpus(&self) -> Vec<u8> {
        let left = self.procs.iter().flat_map(|p| {
            p.lwps.iter().flat_map(|l| {
                let visited = l.cpus_visited();
                let n = visited.len();
                visited.into_iter().take(n.saturating_sub(1))
            })
        });
        sorted(left)
    }
}

fn sorted(cpus: impl Iterator<Item = u8>) -> Vec<u8> {
    let mut v: Vec<u8> = cpus.collect();
    v.sort_unstable();
    v.dedup();
    v
}

impl LwpSpec {
    /// The cpus the LWP runs on in order: its own, then each one a `migrate` moves it to.
    pub fn cpus_visited(&self) -> Vec<u8> {
        let mut v = vec![self.cpu];
        for op in &self.script {
            if let Op::Migrate { cpu } = op {
                if v.last() != Some(cpu) {
                    v.push(*cpu);
                }
            }
        }
        v
    }
}
