//! Parser hardening (bolero targets): whatever bytes kexit reads as a scenario file or a
//! schedule file, it returns a value or an error that names the file, never panics or hangs;
//! and any schedule, however corrupt, replays to an end. Under `cargo test` each target runs
//! its regression inputs (tests/fuzz-regressions/TARGET/) and a fixed set of mutated
//! catalogue files; `cargo bolero test TARGET` fuzzes it (README.md, "Fuzzing").

mod support;

use arbitrary::{Arbitrary, Unstructured};
use kexit_checker::engine;
use kexit_checker::schedule::{decode, spec_hash, ScheduleFile};
use kexit_model::trace::{Violation, ViolationKind};
use kexit_model::variant::VARIANTS;
use kexit_model::Variant;
use std::path::Path;

fn catalogue_files() -> Vec<Vec<u8>> {
    kexit_scenarios::embedded_files()
        .iter()
        .map(|(_, text)| text.as_bytes().to_vec())
        .collect()
}

fn finding_schedules() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/findings");
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

/// A scenario file parses to a valid scenario or to an error at a real position of the file;
/// a scenario that parses survives being written back (kexit fuzz saves scenarios that way)
/// with the same content hash, so schedules recorded on it stay valid.
pub fn check_scenario_text(bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    match kexit_scenarios::parse("fuzz.toml", text) {
        Err(e) => {
            assert!(e.to_string().starts_with("fuzz.toml:"), "{e}");
            assert!(
                e.line >= 1 && e.line <= text.lines().count().max(1) + 1,
                "{e}"
            );
            assert!(e.column >= 1, "{e}");
        }
        Ok(s) => {
            let back = toml::to_string(&s.spec).expect("a parsed scenario serializes");
            let again = kexit_scenarios::parse("again.toml", &back)
                .unwrap_or_else(|e| panic!("written back, it does not parse: {e}\n{back}"));
            assert_eq!(spec_hash(&again.spec), spec_hash(&s.spec), "{back}");
        }
    }
}

#[test]
fn scenario_toml() {
    target!("scenario_toml", 3000, 512, catalogue_files()).for_each(check_scenario_text);
}

/// The schedule-file reader accepts a file or explains, naming the file, why not.
pub fn check_schedule_bytes(bytes: &[u8]) {
    match ScheduleFile::parse(Path::new("fuzz.schedule"), bytes.to_vec()) {
        Err(e) => assert!(e.starts_with("fuzz.schedule: "), "{e}"),
        Ok(f) => assert!(decode(&f.schedule).is_some()),
    }
}

#[test]
fn schedule_file() {
    target!("schedule_file", 3000, 1024, finding_schedules()).for_each(check_schedule_bytes);
}

/// A schedule file whose checksum was recomputed after its schedule was edited (by hand, or
/// by a model that changed since it was recorded) passes the reader; replaying it must still
/// end, with some outcome, and end the same way twice.
pub fn check_resigned(bytes: &[u8]) {
    let mut u = Unstructured::new(bytes);
    let (Ok(si), Ok(vi)) = (u.arbitrary::<u8>(), u.arbitrary::<u8>()) else {
        return;
    };
    let files = kexit_scenarios::catalogue();
    let scenario = &files[si as usize % files.len()];
    let variant = Variant::by_name(VARIANTS[vi as usize % VARIANTS.len()].name).unwrap();
    let actors = scenario.spec.actor_count() as u8;
    // Mostly actors that exist, sometimes ones that do not (up to base-36 "z").
    let schedule: Vec<u8> = Vec::<u8>::arbitrary_take_rest(u)
        .unwrap_or_default()
        .into_iter()
        .map(|b| if b < 200 { b % actors } else { b % 36 })
        .collect();
    let claim = Violation {
        kind: ViolationKind::Deadlock,
        actor: "pid 2 lwp 1".into(),
        func: "kern_wait",
        line: 1124,
        message: "edited".into(),
        detail: Default::default(),
    };
    let f = ScheduleFile::new(
        &scenario.spec,
        &scenario.origin,
        variant.name(),
        "pct",
        None,
        &claim,
        &schedule,
    );
    let text = serde_json::to_vec(&f).unwrap();
    let back =
        ScheduleFile::parse(Path::new("edited.schedule"), text).expect("a signed file loads");
    let schedule = decode(&back.schedule).unwrap();
    let once = engine::replay(&scenario.spec, &variant, &schedule);
    let twice = engine::replay(&scenario.spec, &variant, &schedule);
    let key = |o: &kexit_model::world::Outcome| {
        o.violation
            .as_ref()
            .map(|v| (v.kind, v.func, v.line, v.message.clone()))
    };
    assert_eq!(key(&once), key(&twice));
    assert_eq!(once.schedule, twice.schedule);
}

#[test]
fn schedule_replay() {
    target!("schedule_replay", 300, 400).for_each(check_resigned);
}
