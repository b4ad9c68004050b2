//! Schedule files: a violation's complete, engine-independent recipe. The schedule is the
//! order in which actors took the kernel lock; replaying it on the replay engine reproduces
//! the execution step for step, whichever engine found it. Files are JSON with a checksum.

use kexit_model::trace::Violation;
use kexit_scenarios::Spec;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

pub const FORMAT: &str = "kexit-schedule/1";
pub const KEXIT_VERSION: &str = env!("CARGO_PKG_VERSION");
/// The engine versions this build links (checked against Cargo.lock by a test).
pub const LOOM_VERSION: &str = "0.7.3";
pub const SHUTTLE_VERSION: &str = "0.9.10";

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ViolationRecord {
    pub kind: String,
    pub actor: String,
    pub function: String,
    pub line: u32,
    pub message: String,
}

impl From<&Violation> for ViolationRecord {
    fn from(v: &Violation) -> Self {
        ViolationRecord {
            kind: v.kind.slug().to_string(),
            actor: v.actor.clone(),
            function: v.func.to_string(),
            line: v.line,
            message: v.message.clone(),
        }
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScheduleFile {
    pub format: String,
    pub kexit: String,
    pub loom: String,
    pub shuttle: String,
    pub scenario: String,
    /// Where the scenario came from: `scenarios/catalog/NAME.toml` or a path.
    pub scenario_origin: String,
    pub scenario_hash: String,
    pub variant: String,
    pub engine: String,
    pub seed: Option<u64>,
    pub violation: ViolationRecord,
    /// One character per kernel-lock acquisition: the actor's index in base 36.
    pub schedule: String,
    pub checksum: String,
}

/// Hash of what decides an execution and its verdict (not the name, description, loom bound
/// or finding notes), so editing those keeps saved schedules valid.
pub fn spec_hash(spec: &Spec) -> String {
    let decisive = serde_json::json!({
        "procs": spec.procs, "ncpus": spec.ncpus, "init_waits": spec.init_waits, "reapers": spec.reapers,
        "alloc_fail": spec.alloc_fail, "exit_callbacks": spec.exit_callbacks, "max_steps": spec.max_steps,
        "expect_reaped": spec.expect_reaped, "expect_zombies": spec.expect_zombies,
    });
    let canon = serde_json::to_string(&decisive).expect("spec serializes");
    hex(&Sha256::digest(canon.as_bytes()))[..16].to_string()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn encode(schedule: &[u8]) -> String {
    schedule
        .iter()
        .map(|a| char::from_digit(*a as u32, 36).expect("at most 36 actors"))
        .collect()
}

pub fn decode(s: &str) -> Option<Vec<u8>> {
    s.chars().map(|c| c.to_digit(36).map(|d| d as u8)).collect()
}

/// A scenario file's path as a schedule file keeps it: absolute, so that `kexit replay` finds
/// the scenario from any directory (catalogue origins stay as they are).
fn origin_anywhere(origin: &str) -> String {
    if kexit_scenarios::is_catalogue_origin(origin) {
        return origin.into();
    }
    std::path::absolute(origin).map_or_else(|_| origin.into(), |p| p.display().to_string())
}

impl ScheduleFile {
    pub fn new(
        spec: &Spec,
        origin: &str,
        variant: &str,
        engine: &str,
        seed: Option<u64>,
        v: &Violation,
        schedule: &[u8],
    ) -> Self {
        let mut f = ScheduleFile {
            format: FORMAT.into(),
            kexit: KEXIT_VERSION.into(),
            loom: LOOM_VERSION.into(),
            shuttle: SHUTTLE_VERSION.into(),
            scenario: spec.name.clone(),
            scenario_origin: origin_anywhere(origin),
            scenario_hash: spec_hash(spec),
            variant: variant.into(),
            engine: engine.into(),
            seed,
            violation: v.into(),
            schedule: encode(schedule),
            checksum: String::new(),
        };
        f.checksum = f.compute_checksum();
        f
    }

    /// Recomputes the checksum after a field was changed on purpose.
    pub fn resign(&mut self) {
        self.checksum = self.compute_checksum();
    }

    fn compute_checksum(&self) -> String {
        let mut c = self.clone();
        c.checksum = String::new();
        let body = serde_json::to_string(&c).expect("serializes");
        hex(&Sha256::digest(body.as_bytes()))[..32].to_string()
    }

    pub fn file_name(&self) -> String {
        let variant: String = self
            .variant
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        format!(
            "{}-{}-{}.schedule",
            self.scenario,
            variant,
            &self.checksum[..8]
        )
    }

    /// Writes DIR/failures/NAME atomically (temp file + rename); returns the path.
    pub fn save(&self, out_dir: &Path) -> std::io::Result<PathBuf> {
        let dir = out_dir.join("failures");
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(self.file_name());
        let tmp = dir.join(format!(".{}.{}.tmp", self.file_name(), std::process::id()));
        let body = serde_json::to_string_pretty(self).expect("serializes") + "\n";
        std::fs::write(&tmp, body)?;
        std::fs::rename(&tmp, &path)?;
        Ok(path)
    }

    /// Reads and checks a file: format, checksum, versions. Errors are user-facing.
    pub fn load(path: &Path) -> Result<ScheduleFile, String> {
        let bytes =
            std::fs::read(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        Self::parse(path, bytes)
    }

    /// Checks a file's contents as `load` does; `path` only names it in errors.
    pub fn parse(path: &Path, bytes: Vec<u8>) -> Result<ScheduleFile, String> {
        let text = String::from_utf8(bytes)
            .map_err(|_| format!("{}: not a kexit schedule file (not text)", path.display()))?;
        let probe: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            if text.trim_start().starts_with('{') {
                format!(
                    "{}: truncated or corrupted schedule file ({e})",
                    path.display()
                )
            } else {
                format!("{}: not a kexit schedule file", path.display())
            }
        })?;
        if probe.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
            return Err(format!(
                "{}: not a kexit schedule file (format is not {FORMAT})",
                path.display()
            ));
        }
        let f: ScheduleFile = serde_json::from_value(probe)
            .map_err(|e| format!("{}: corrupted schedule file: {e}", path.display()))?;
        if f.checksum != f.compute_checksum() {
            return Err(format!(
                "{}: corrupted schedule file: checksum does not match its contents",
                path.display()
            ));
        }
        if decode(&f.schedule).is_none() {
            return Err(format!(
                "{}: corrupted schedule file: bad schedule string",
                path.display()
            ));
        }
        for (what, have, want) in [
            ("kexit", &f.kexit, KEXIT_VERSION),
            ("loom", &f.loom, LOOM_VERSION),
            ("shuttle", &f.shuttle, SHUTTLE_VERSION),
        ] {
            if have != want {
                return Err(format!(
                    "{}: recorded with {what} {have}, this kexit uses {what} {want}; re-run `kexit check` to record it again",
                    path.display()
                ));
            }
        }
        Ok(f)
    }
}
