//! Every `at!(LINE, "token")` citation in model/ points at a seed line that contains the
//! token it names. The seed comes from $KEXIT_SEED (default ../shared/seed/kern_exit.c);
//! with KEXIT_REQUIRE_SEED=1 (as in .ci/run) a missing seed fails the test.

use std::path::{Path, PathBuf};

fn seed_path() -> PathBuf {
    match std::env::var_os("KEXIT_SEED") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/seed/kern_exit.c"),
    }
}

#[test]
fn every_citation_names_a_token_on_its_seed_line() {
    let path = seed_path();
    let seed = match std::fs::read_to_string(&path) {
        Ok(s) => s,
        Err(e) => {
            if std::env::var_os("KEXIT_REQUIRE_SEED").is_some() {
                panic!(
                    "seed {} is required (KEXIT_REQUIRE_SEED) but cannot be read: {e}",
                    path.display()
                );
            }
            println!(
                "SKIPPED: seed {} not found ({e}); set KEXIT_SEED to check citations",
                path.display()
            );
            return;
        }
    };
    let lines: Vec<&str> = seed.lines().collect();
    assert_eq!(
        lines.len(),
        1271,
        "the seed is kern_exit.c of 2014-10-16 (1271 lines)"
    );
    // The citations model/build.rs lists (the same scanner feeds `kexit coverage`).
    let cites = kexit_model::site::CITATIONS;
    assert!(cites.len() > 200, "only {} citations found", cites.len());
    let mut bad = Vec::new();
    for (file, at, n, tok) in cites {
        let n = *n as usize;
        let ok = n >= 1 && n <= lines.len() && lines[n - 1].contains(tok);
        if !ok {
            let text = lines
                .get(n.wrapping_sub(1))
                .copied()
                .unwrap_or("<no such line>");
            bad.push(format!(
                "model/{file}:{at}: kern_exit.c:{n} does not contain {tok:?} (line is {text:?})"
            ));
        }
    }
    assert!(
        bad.is_empty(),
        "{} bad citations:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

#[test]
fn schedule_files_record_the_engine_versions_this_build_links() {
    let lock = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.lock"))
        .expect("Cargo.lock");
    for (name, version) in [
        ("loom", kexit_checker::schedule::LOOM_VERSION),
        ("shuttle", kexit_checker::schedule::SHUTTLE_VERSION),
    ] {
        let entry = format!("name = \"{name}\"\nversion = \"{version}\"");
        assert!(
            lock.contains(&entry),
            "Cargo.lock does not pin {name} {version}: update schedule.rs"
        );
    }
}

/// Every place the model or the scenario interpreter reads a variant switch names, within the
/// three lines above it or on its own line, a variant that sets the switch
/// (`model/src/variant.rs`): a reader sees which history each branch belongs to.
#[test]
fn every_variant_switch_site_names_its_variant() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut setters: Vec<(String, Vec<&str>)> = Vec::new();
    for v in kexit_model::variant::VARIANTS {
        for sw in v.switches {
            let name = format!("{sw:?}");
            match setters.iter_mut().find(|(n, _)| *n == name) {
                Some((_, vs)) => vs.push(v.name),
                None => setters.push((name, vec![v.name])),
            }
        }
    }
    let mut files = Vec::new();
    for dir in ["model/src", "scenarios/src"] {
        let mut stack = vec![root.join(dir)];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).expect("source dir") {
                let p = e.expect("entry").path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "rs") && !p.ends_with("variant.rs") {
                    files.push(p);
                }
            }
        }
    }
    let mut sites = 0;
    let mut unnamed = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("source");
        let lines: Vec<&str> = text.lines().collect();
        for (i, l) in lines.iter().enumerate() {
            let Some(at) = l.find("Switch::") else {
                continue;
            };
            if !l.contains("has(") {
                continue;
            }
            let name: String = l[at + 8..]
                .chars()
                .take_while(|c| c.is_alphanumeric())
                .collect();
            let variants = &setters
                .iter()
                .find(|(n, _)| *n == name)
                .unwrap_or_else(|| panic!("{}: no variant sets {name}", f.display()))
                .1;
            sites += 1;
            let context = lines[i.saturating_sub(3)..=i].join("\n");
            if !variants.iter().any(|v| context.contains(v)) {
                unnamed.push(format!(
                    "{}:{} {name} ({})",
                    f.display(),
                    i + 1,
                    variants.join(", ")
                ));
            }
        }
    }
    assert!(sites >= 25, "only {sites} switch sites found");
    assert!(
        unnamed.is_empty(),
        "switch sites naming no variant:\n{}",
        unnamed.join("\n")
    );
}
