//! Any bytes give a well-formed, bounded scenario.

use arbitrary::{Arbitrary, Unstructured};
use kexit_scenarios::generate::{Generated, MAX_ACTORS};
use kexit_scenarios::spec::Op;

#[test]
fn generated_scenarios_are_well_formed_and_bounded() {
    let mut state = 0x1234_5678_9abc_def0u64;
    let (mut migrating, mut shared) = (0, 0);
    for len in 0..600usize {
        let bytes = kexit_scenarios::generate::pseudo_random_bytes(&mut state, len % 200);
        let g = Generated::arbitrary(&mut Unstructured::new(&bytes))
            .expect("arbitrary never fails on short input");
        kexit_scenarios::validate(&g.0).unwrap_or_else(|e| panic!("{e:?}\n{:#?}", g.0));
        // The LWPs, and on each cpu a reaper and, where an LWP migrates away, an idle thread.
        let cpus = g.0.ncpus.max(1) as usize;
        assert!(cpus <= 2, "{cpus} cpus");
        assert!(
            g.0.actor_count() <= MAX_ACTORS + 2 * cpus,
            "{} actors on {cpus} cpus",
            g.0.actor_count()
        );
        let ops = || {
            g.0.procs
                .iter()
                .flat_map(|p| &p.lwps)
                .flat_map(|l| &l.script)
        };
        migrating += ops().any(|op| matches!(op, Op::Migrate { .. })) as u32;
        shared += g.0.shared_cpus as u32;
        let text = toml::to_string(&g.0).expect("serializes as TOML");
        kexit_scenarios::parse("generated.toml", &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    }
    // Migration and shared cpus are generated too (not only on exhausted input).
    assert!(
        migrating >= 30 && shared >= 30,
        "{migrating} migrating, {shared} shared"
    );
}
