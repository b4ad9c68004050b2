//! Scenario files (TOML) and the catalogue embedded from `scenarios/catalog/`.
//! A scenario is read with serde into a `Spec` (`spec.rs`, the language), then validated;
//! every error names the file, line and column. `script.rs` runs a scenario's operations as
//! the LWPs' user programs, `world.rs` builds and runs an execution, `checks.rs` checks the
//! state it ends in.

pub use crate::spec::Spec;
use std::fmt;
pub use validate::validate;

pub mod actors;
pub mod checks;
pub mod exposure;
pub mod findings;
pub mod generate;
pub mod paths;
pub mod ptrace;
pub mod script;
pub mod select;
pub mod spec;
pub mod status;
mod validate;
pub mod values;
pub mod world;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/catalog.rs"));
}

#[derive(Clone, Debug)]
pub struct Scenario {
    pub spec: Spec,
    /// `scenarios/catalog/NAME.toml` for the embedded catalogue, the path otherwise.
    pub origin: String,
    pub text: String,
}

/// Whether a scenario's origin is the embedded catalogue rather than a file of one's own.
pub fn is_catalogue_origin(origin: &str) -> bool {
    origin.starts_with("scenarios/catalog/")
}

impl Scenario {
    /// What `kexit check` takes to find it again: its name for the catalogue, its path for a
    /// file of one's own.
    pub fn cli_arg(&self) -> String {
        if is_catalogue_origin(&self.origin) {
            self.spec.name.clone()
        } else {
            self.origin.clone()
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

impl std::error::Error for ScenarioError {}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

/// Where `needle` first appears (1-based line and column), or the top of the file.
fn locate(text: &str, needles: &[String]) -> (usize, usize) {
    for n in needles {
        if let Some(i) = text.find(n.as_str()) {
            return line_col(text, i);
        }
    }
    (1, 1)
}

pub fn parse(file: &str, text: &str) -> Result<Scenario, ScenarioError> {
    let spec: Spec = toml::from_str(text).map_err(|e| {
        let (line, column) = e.span().map_or((1, 1), |s| line_col(text, s.start));
        ScenarioError {
            file: file.to_string(),
            line,
            column,
            message: e.message().trim().to_string(),
        }
    })?;
    validate(&spec).map_err(|(needles, message)| {
        let (line, column) = locate(text, &needles);
        ScenarioError {
            file: file.to_string(),
            line,
            column,
            message,
        }
    })?;
    Ok(Scenario {
        spec,
        origin: file.to_string(),
        text: text.to_string(),
    })
}

pub type Invalid = (Vec<String>, String);

/// The embedded catalogue, parsed; the first invalid file is an error.
pub fn try_catalogue() -> Result<Vec<Scenario>, ScenarioError> {
    let mut v: Vec<Scenario> = Vec::new();
    for (name, text) in embedded::FILES {
        let s = parse(&format!("scenarios/catalog/{name}"), text)?;
        if let Some(other) = v.iter().find(|o| o.spec.name == s.spec.name) {
            return Err(ScenarioError {
                file: s.origin.clone(),
                line: 1,
                column: 1,
                message: format!(
                    "scenario name {:?} is also used by {}",
                    s.spec.name, other.origin
                ),
            });
        }
        v.push(s);
    }
    Ok(v)
}

/// The embedded catalogue (valid files only; `try_catalogue` reports the invalid ones).
pub fn catalogue() -> Vec<Scenario> {
    embedded::FILES
        .iter()
        .filter_map(|(name, text)| parse(&format!("scenarios/catalog/{name}"), text).ok())
        .collect()
}

pub fn by_name(name: &str) -> Option<Scenario> {
    catalogue().into_iter().find(|s| s.spec.name == name)
}

/// Every embedded file with its parse result (for the catalogue test).
pub fn embedded_files() -> Vec<(&'static str, &'static str)> {
    embedded::FILES.to_vec()
}
