//! The Genkit runtime file: `<root>/.genkit/runtimes/<pid>-<port>-<timestamp>.json`, how the
//! Genkit CLI and Developer UI discover a running runtime, and the root they look under.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// The files whose directory the Genkit CLI takes as the project root (genkit-cli 1.43
/// `findProjectRoot`). `Cargo.toml` is not among them.
pub const PROJECT_MARKERS: [&str; 8] = [
    "package.json",
    "go.mod",
    "pyproject.toml",
    "requirements.txt",
    "pom.xml",
    "build.gradle",
    "build.gradle.kts",
    "pubspec.yaml",
];

/// The reflection API version genflow speaks; a CLI that finds a higher one exits.
pub const REFLECTION_API_SPEC_VERSION: u32 = 1;

/// The root the Genkit CLI searches from `cwd`, as the CLI itself does: the nearest directory
/// (`cwd` or an ancestor, the filesystem root excluded) holding one of [`PROJECT_MARKERS`],
/// else `cwd`.
pub fn project_root(cwd: &Path) -> PathBuf {
    cwd.ancestors()
        .filter(|dir| dir.parent().is_some())
        .find(|dir| PROJECT_MARKERS.iter().any(|m| dir.join(m).exists()))
        .unwrap_or(cwd)
        .to_path_buf()
}

/// The content of a runtime file.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RuntimeInfo {
    pub(crate) id: String,
    pub(crate) pid: u32,
    pub(crate) reflection_server_url: String,
    pub(crate) timestamp: String,
    pub(crate) genkit_version: String,
    pub(crate) reflection_api_spec_version: u32,
}

/// A written runtime file; dropping it deletes the file if it still names this process.
#[derive(Debug)]
pub struct RuntimeFile {
    path: PathBuf,
}

impl RuntimeFile {
    /// Writes the file of the runtime `id` serving `url` on `port` under `root`.
    pub(crate) fn write(root: &Path, id: String, url: String, port: u16) -> io::Result<Self> {
        let pid = std::process::id();
        let timestamp = timestamp(SystemTime::now());
        let dir = root.join(".genkit").join("runtimes");
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{pid}-{port}-{timestamp}.json"));
        let info = RuntimeInfo {
            id,
            pid,
            reflection_server_url: url,
            timestamp,
            genkit_version: super::GENKIT_VERSION.to_owned(),
            reflection_api_spec_version: REFLECTION_API_SPEC_VERSION,
        };
        let text = serde_json::to_string_pretty(&info).map_err(io::Error::other)?;
        std::fs::write(&path, text)?;
        Ok(RuntimeFile { path })
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for RuntimeFile {
    fn drop(&mut self) {
        let ours = std::fs::read(&self.path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<RuntimeInfo>(&bytes).ok())
            .is_some_and(|info| info.pid == std::process::id());
        if ours && let Err(error) = std::fs::remove_file(&self.path) {
            tracing::warn!(path = %self.path.display(), %error, "cannot delete the Genkit runtime file");
        }
    }
}

/// `2026-11-24T01_28_17Z`: RFC 3339 in UTC to the second, colons made underscores (file names
/// on every OS; the CLI turns them back).
fn timestamp(at: SystemTime) -> String {
    let secs = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}_{:02}_{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The proleptic Gregorian date of `days` after 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn timestamps_are_utc_with_underscores() {
        let at = UNIX_EPOCH + Duration::from_secs(1_795_483_697);
        assert_eq!(timestamp(at), "2026-11-24T01_28_17Z");
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01T00_00_00Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(timestamp(leap), "2000-02-29T00_00_00Z");
    }

    #[test]
    fn the_root_is_the_nearest_marked_ancestor_else_the_start() {
        let base = std::env::temp_dir().join(format!("genflow-root-{}", std::process::id()));
        let deep = base.join("a/b/c");
        std::fs::create_dir_all(&deep).expect("dirs");
        std::fs::write(base.join("a/Cargo.toml"), "").expect("cargo");
        std::fs::write(base.join("a/pyproject.toml"), "").expect("marker");
        assert_eq!(project_root(&deep), base.join("a"));
        std::fs::write(base.join("a/b/pubspec.yaml"), "").expect("marker");
        assert_eq!(project_root(&deep), base.join("a/b"));
        std::fs::remove_dir_all(&base).expect("clean up");
    }

    #[test]
    fn the_file_is_removed_only_while_it_names_this_process() {
        let root = std::env::temp_dir().join(format!("genflow-rtfile-{}", std::process::id()));
        let file =
            RuntimeFile::write(&root, "x".into(), "http://127.0.0.1:1".into(), 1).expect("written");
        let path = file.path().to_path_buf();
        let info: RuntimeInfo =
            serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
        assert_eq!(info.pid, std::process::id());
        drop(file);
        assert!(!path.exists());

        let file =
            RuntimeFile::write(&root, "y".into(), "http://127.0.0.1:1".into(), 1).expect("written");
        let path = file.path().to_path_buf();
        let foreign = std::fs::read_to_string(&path)
            .expect("read")
            .replace(&format!("\"pid\": {}", std::process::id()), "\"pid\": 1");
        std::fs::write(&path, foreign).expect("rewrite");
        drop(file);
        assert!(path.exists(), "another process's file stays");
        std::fs::remove_dir_all(&root).expect("clean up");
    }
}
