//! `kexit check --junit FILE --sarif FILE`: what a CI system reads natively. A passing
//! result is a passing test case; a violation nobody expected is a failing one with the
//! replay command in its body and a SARIF error located at kern_exit.c:LINE with the trace as
//! one thread flow per actor; an expected violation is a SARIF note.

mod common;
use common::*;

#[test]
fn junit_and_sarif_describe_every_result_and_every_violation() {
    let d = scratch("ci-formats");
    // exit-vs-wait with an expectation its child's exit code cannot meet.
    let wrong = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scenarios/catalog/exit-vs-wait.toml"
    ))
    .unwrap()
    .replace("name = \"exit-vs-wait\"", "name = \"wrong-status\"")
    .replace("status = \"exited(7)\"", "status = \"exited(8)\"");
    let wrong_file = d.join("wrong-status.toml");
    std::fs::write(&wrong_file, wrong).unwrap();
    let (junit, sarif) = (d.join("r.xml"), d.join("r.sarif"));
    let o = kexit(&[
        "check",
        "exit-vs-wait",
        "nocldwait-wait-race",
        wrong_file.to_str().unwrap(),
        "--engine",
        "state",
        "--out",
        d.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
        "--sarif",
        sarif.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 1, "{}", text(&o));

    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains(r#"<testsuites name="kexit" tests="3" failures="1" errors="0">"#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<testcase name="exit-vs-wait [seed, state]""#),
        "{xml}"
    );
    let failure = xml.split("<failure").nth(1).expect("a failure element");
    assert!(failure.contains("unexpected violation"), "{failure}");
    assert!(failure.contains("replay: kexit replay"), "{failure}");
    assert_eq!(xml.matches("<failure").count(), 1, "{xml}");

    let log: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    assert_eq!(log["version"], "2.1.0");
    let results = log["runs"][0]["results"].as_array().unwrap();
    // The recorded finding on nocldwait-wait-race (expected: a note) and the wrong status (an error).
    assert_eq!(results.len(), 2, "{results:?}");
    let levels: Vec<&str> = results
        .iter()
        .map(|r| r["level"].as_str().unwrap())
        .collect();
    assert!(
        levels.contains(&"note") && levels.contains(&"error"),
        "{levels:?}"
    );
    for r in results {
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "sys/kern/kern_exit.c");
        assert!(loc["region"]["startLine"].as_i64().unwrap() >= 1);
        let flows = r["codeFlows"][0]["threadFlows"].as_array().unwrap();
        assert!(flows.len() >= 2, "one thread flow per actor: {flows:?}");
        let steps: usize = flows
            .iter()
            .map(|f| f["locations"].as_array().unwrap().len())
            .sum();
        assert!(steps > 10, "the trace as a code flow");
    }
}

/// The serde-sarif crate's copy of the SARIF 2.1.0 JSON schema, in cargo's registry.
fn sarif_schema() -> std::path::PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(std::env::var("HOME").unwrap()).join(".cargo"));
    for index in std::fs::read_dir(home.join("registry/src")).expect("cargo's registry") {
        for krate in std::fs::read_dir(index.unwrap().path()).unwrap().flatten() {
            let name = krate.file_name().to_string_lossy().to_string();
            let schema = krate.path().join("src/schema.json");
            if name.starts_with("serde-sarif-") && schema.is_file() {
                return schema;
            }
        }
    }
    panic!("serde-sarif's schema.json is not in {}", home.display());
}

/// Validates with Python's `jsonschema` and `xmlschema` (.ci/run installs them).
fn python_validates(script: &str, args: &[&std::path::Path]) {
    let o = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 runs (the schema checks need it)");
    assert!(
        o.status.success(),
        "{}{}\n(the validators come from `pip install jsonschema xmlschema`, which .ci/run does)",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn junit_and_sarif_files_validate_against_their_schemas() {
    let d = scratch("ci-schemas");
    let (junit, sarif) = (d.join("r.xml"), d.join("r.sarif"));
    // A pass, a caught bug and a recorded finding: test cases of every kind, violations with
    // code flows.
    let o = kexit(&[
        "check",
        "exit-vs-wait",
        "nocldwait-wait-race",
        "--engine",
        "state",
        "--out",
        d.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
        "--sarif",
        sarif.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let xsd = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/junit.xsd"));
    python_validates(
        "import sys, xmlschema; xmlschema.XMLSchema(sys.argv[1]).validate(sys.argv[2])",
        &[xsd, &junit],
    );
    python_validates(
        "import sys, json, jsonschema; jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))",
        &[&sarif_schema(), &sarif],
    );
}
