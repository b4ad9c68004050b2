//! Every catalogue file parses, validates and has a unique name matching its file name.

#[test]
fn catalogue_is_valid() {
    let cat = kexit_scenarios::try_catalogue().unwrap_or_else(|e| panic!("{e}"));
    assert!(cat.len() >= 4);
    for s in &cat {
        let file = s.origin.rsplit('/').next().unwrap();
        assert_eq!(
            file,
            format!("{}.toml", s.spec.name),
            "file name and scenario name differ"
        );
        assert!(
            !s.spec.description.is_empty(),
            "{} has no description",
            s.spec.name
        );
    }
}
