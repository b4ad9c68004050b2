//! The findings registry agrees with docs/findings.md and with the model's variants, and a
//! scenario cannot claim a finding the registry does not know.

use kexit_model::Variant;
use kexit_scenarios::findings::FINDINGS;

/// docs/findings.md's table: (id, title, fix column).
fn table() -> Vec<(String, String, String)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/findings.md");
    let text = std::fs::read_to_string(path).expect("docs/findings.md");
    text.lines()
        .filter(|l| l.starts_with("| F"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            (cells[1].into(), cells[2].into(), cells[5].into())
        })
        .collect()
}

#[test]
fn every_finding_of_the_docs_is_registered_with_its_title_and_fixes() {
    let rows = table();
    assert!(rows.len() >= 8, "the table has F1 to F8: {rows:?}");
    for (id, title, fixes) in &rows {
        let f =
            kexit_scenarios::findings::finding(id).unwrap_or_else(|| panic!("{id} unregistered"));
        assert_eq!(f.title, title, "{id}'s title");
        for v in f.fixed_by {
            assert!(fixes.contains(v), "{id}: docs name {fixes:?}, registry {v}");
        }
    }
    for f in FINDINGS.iter().filter(|f| f.id.starts_with('F')) {
        assert!(
            rows.iter().any(|(id, ..)| id == f.id),
            "{} not in docs",
            f.id
        );
    }
}

#[test]
fn every_fix_of_the_registry_is_a_model_variant() {
    for f in FINDINGS {
        for v in f.fixed_by {
            assert!(Variant::by_name(v).is_some(), "{}: no variant {v}", f.id);
        }
        for k in f.kinds {
            assert!(
                kexit_model::ViolationKind::from_slug(k).is_some(),
                "{}: {k}",
                f.id
            );
        }
    }
}

#[test]
fn a_scenario_claiming_an_unknown_finding_or_kind_is_refused() {
    let base = "name = \"x\"\ndescription = \"d\"\n[[procs]]\npid = 2\nparent = 1\nlwps = [ { script = [ { op = \"exit\", code = 0 } ] } ]\n";
    for (finding, want) in [
        (
            "{ id = \"F99\", kind = \"deadlock\" }",
            "not a known finding",
        ),
        (
            "{ id = \"F1\", kind = \"deadlock\" }",
            "shows copyout-unwritten",
        ),
        (
            "{ id = \"F1\", kind = \"copyout-unwritten\", fixed_by = [\"fix:exit-list-lock\"] }",
            "is fixed by fix:wait4-init-status",
        ),
    ] {
        let text = format!("known_finding = {finding}\n{base}");
        let err = kexit_scenarios::parse("x.toml", &text)
            .expect_err(finding)
            .to_string();
        assert!(err.contains(want), "{finding}: {err}");
    }
    let ok = format!("known_finding = {{ id = \"F1\", kind = \"copyout-unwritten\" }}\n{base}");
    kexit_scenarios::parse("x.toml", &ok).expect("a registered finding");
}

#[test]
fn every_exposure_names_a_variant_catalogue_scenarios_and_a_kind() {
    for e in kexit_scenarios::exposure::EXPOSURES {
        assert!(
            Variant::by_name(e.variant).is_some(),
            "no variant {}",
            e.variant
        );
        assert!(!e.scenarios.is_empty(), "{} exposed by nothing", e.variant);
        for s in e.scenarios {
            assert!(
                kexit_scenarios::by_name(s).is_some(),
                "{}: no scenario {s}",
                e.variant
            );
        }
        assert!(
            kexit_model::ViolationKind::from_slug(e.expect).is_some(),
            "{}: {:?} is no violation kind",
            e.variant,
            e.expect
        );
    }
}
