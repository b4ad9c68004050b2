//! Generated scenarios run on the model without model errors: whatever the process trees and
//! scripts, the model either passes or reports a kernel-level violation (with a schedule that
//! replays), never panics or fails in itself.

use arbitrary::{Arbitrary, Unstructured};
use kexit_checker::run::{self, Budget, EngineKind};
use kexit_model::{Variant, ViolationKind};
use kexit_scenarios::generate::Generated;

#[test]
fn generated_scenarios_run_without_model_errors() {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut kinds = std::collections::BTreeMap::new();
    for n in 0..150 {
        let bytes = kexit_scenarios::generate::pseudo_random_bytes(&mut state, 64 + n % 64);
        let g = Generated::arbitrary(&mut Unstructured::new(&bytes)).unwrap();
        let budget = Budget {
            iterations: 30,
            seed: n as u64,
            jobs: 1,
            ..Budget::default()
        };
        let r = run::run(&g.0, &Variant::default(), EngineKind::Pct, &budget, &|_| {});
        assert!(
            r.error.is_none(),
            "{:?}\n{}",
            r.error,
            toml::to_string(&g.0).unwrap()
        );
        if let Some(f) = &r.found {
            let v = f.outcome.violation.as_ref().unwrap();
            assert_ne!(
                v.kind,
                ViolationKind::ModelError,
                "{v}\n{}",
                toml::to_string(&g.0).unwrap()
            );
            let again = run::replay(&g.0, &Variant::default(), &f.outcome.schedule);
            assert_eq!(
                again
                    .violation
                    .as_ref()
                    .map(|x| (x.kind, x.message.clone())),
                Some((v.kind, v.message.clone()))
            );
            *kinds.entry(v.kind.slug()).or_insert(0) += 1;
            if std::env::var_os("KEXIT_SHOW").is_some()
                && matches!(v.kind, ViolationKind::Livelock | ViolationKind::DataRace)
            {
                let p = format!("/tmp/kexit-livelock-{n}.toml");
                std::fs::write(&p, toml::to_string(&g.0).unwrap()).unwrap();
                println!("{v}\n  scenario written to {p}");
            }
        }
    }
    println!("violations by kind over 150 generated scenarios: {kinds:?}");
}
