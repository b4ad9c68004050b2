//! Which scenarios a command line names, and what each must show under a variant.

use crate::exposure::exposure;
use crate::paths::glob;
use crate::Scenario;
use kexit_model::trace::ViolationKind;
use kexit_model::Variant;

/// The scenarios that `names` select: catalogue names, globs over them, paths to .toml files,
/// directories and patterns over file names; the whole catalogue when `names` is empty.
pub fn resolve(names: &[String]) -> Result<Vec<Scenario>, String> {
    let cat = crate::try_catalogue().map_err(|e| format!("invalid catalogue file: {e}"))?;
    if names.is_empty() {
        return Ok(cat);
    }
    let mut out: Vec<Scenario> = Vec::new();
    for n in names {
        if n.ends_with(".toml") || n.contains('/') {
            for path in crate::paths::files(n)? {
                let file = path.display().to_string();
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("{file}: cannot read scenario file: {e}"))?;
                out.push(crate::parse(&file, &text).map_err(|e| e.to_string())?);
            }
            continue;
        }
        let hits: Vec<&Scenario> = cat.iter().filter(|s| glob(n, &s.spec.name)).collect();
        if hits.is_empty() {
            return Err(format!("unknown scenario {n:?} (see `kexit list`)"));
        }
        for h in hits {
            if !out.iter().any(|s| s.spec.name == h.spec.name) {
                out.push(h.clone());
            }
        }
    }
    Ok(out)
}

/// The violation kinds a (scenario, variant) pair must show one of (empty: none).
pub fn expected(s: &Scenario, v: &Variant) -> Vec<ViolationKind> {
    if let Some(e) = exposure(v.name()).filter(|e| e.scenarios.contains(&s.spec.name.as_str())) {
        return ViolationKind::from_slug(e.expect).into_iter().collect();
    }
    let Some(f) = s.spec.known_finding.as_ref() else {
        return Vec::new();
    };
    if f.fixed_by.iter().any(|x| x == v.name()) {
        return Vec::new();
    }
    std::iter::once(&f.kind)
        .chain(&f.also)
        .filter_map(|k| ViolationKind::from_slug(k))
        .collect()
}
