//! Any bytes give a well-formed, bounded scenario.

use arbitrary::{Arbitrary, Unstructured};
use kexit_scenarios::generate::{Generated, MAX_ACTORS};

#[test]
fn generated_scenarios_are_well_formed_and_bounded() {
    let mut state = 0x1234_5678_9abc_def0u64;
    for len in 0..600usize {
        let bytes = kexit_scenarios::generate::pseudo_random_bytes(&mut state, len % 200);
        let g = Generated::arbitrary(&mut Unstructured::new(&bytes))
            .expect("arbitrary never fails on short input");
        kexit_scenarios::validate(&g.0).unwrap_or_else(|e| panic!("{e:?}\n{:#?}", g.0));
        assert!(
            g.0.actor_count() <= MAX_ACTORS + 1,
            "{} actors",
            g.0.actor_count()
        );
        let text = toml::to_string(&g.0).expect("serializes as TOML");
        kexit_scenarios::parse("generated.toml", &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    }
}
