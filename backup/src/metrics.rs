//! A Prometheus textfile (for node_exporter's textfile collector) describing the last
//! backup run: written to a temporary name and renamed, so the collector never reads
//! half a file. The time of the last success survives failed runs.

use std::io::Write;
use std::path::Path;

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunMetrics {
    /// The run succeeded.
    pub success: bool,
    /// When it ended (Unix seconds).
    pub end_time: f64,
    /// How long it took.
    pub duration_seconds: f64,
    /// Bytes read from the source.
    pub raw_bytes: u64,
    /// Bytes stored.
    pub stored_bytes: u64,
    /// Keys backed up.
    pub keys: u64,
}

const LAST_SUCCESS: &str = "rdbkit_backup_last_success_timestamp_seconds";

/// The last-success time recorded in an earlier file.
fn previous_success(text: &str) -> Option<f64> {
    text.lines().filter(|l| l.starts_with(LAST_SUCCESS)).find_map(|l| l.rsplit(' ').next()?.parse().ok())
}

/// Escapes a label value.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// The file's text, given the last success recorded before.
pub fn render(m: &RunMetrics, repo: &str, previous: Option<f64>) -> String {
    let last_success = if m.success { Some(m.end_time) } else { previous };
    let l = format!("{{repo=\"{}\"}}", label(repo));
    let mut out = String::new();
    let mut metric = |name: &str, help: &str, value: String| {
        out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} gauge\n{name}{l} {value}\n"));
    };
    metric(
        "rdbkit_backup_last_run_success",
        "1 if the last backup run succeeded, else 0.",
        u8::from(m.success).to_string(),
    );
    metric("rdbkit_backup_last_run_timestamp_seconds", "When the last backup run ended.", format!("{:.3}", m.end_time));
    if let Some(t) = last_success {
        metric(LAST_SUCCESS, "When the last successful backup ended.", format!("{t:.3}"));
    }
    if m.success {
        metric(
            "rdbkit_backup_duration_seconds",
            "Duration of the last successful backup.",
            format!("{:.3}", m.duration_seconds),
        );
        metric(
            "rdbkit_backup_raw_bytes",
            "Bytes read from the source by the last successful backup.",
            m.raw_bytes.to_string(),
        );
        metric("rdbkit_backup_stored_bytes", "Bytes stored by the last successful backup.", m.stored_bytes.to_string());
        metric("rdbkit_backup_keys", "Keys in the last successful backup.", m.keys.to_string());
    }
    out
}

/// Writes the textfile for `m` at `path` (atomically).
pub fn write(path: &Path, m: &RunMetrics, repo: &str) -> std::io::Result<()> {
    let previous = std::fs::read_to_string(path).ok().and_then(|t| previous_success(&t));
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new().prefix(".rdbkit-metrics-").tempfile_in(dir)?;
    tmp.write_all(render(m, repo, previous).as_bytes())?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_keep_the_last_success_time() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("rdbkit.prom");
        let ok = RunMetrics {
            success: true,
            end_time: 1000.0,
            duration_seconds: 2.5,
            raw_bytes: 10,
            stored_bytes: 4,
            keys: 3,
        };
        write(&path, &ok, "s3://b/p")?;
        let text = std::fs::read_to_string(&path)?;
        assert!(text.contains("rdbkit_backup_last_success_timestamp_seconds{repo=\"s3://b/p\"} 1000.000\n"), "{text}");
        assert!(text.contains("rdbkit_backup_keys{repo=\"s3://b/p\"} 3\n"));
        write(&path, &RunMetrics { success: false, end_time: 2000.0, ..Default::default() }, "s3://b/p")?;
        let text = std::fs::read_to_string(&path)?;
        assert!(text.contains("rdbkit_backup_last_run_success{repo=\"s3://b/p\"} 0\n"), "{text}");
        assert!(text.contains("rdbkit_backup_last_success_timestamp_seconds{repo=\"s3://b/p\"} 1000.000\n"), "{text}");
        assert!(!text.contains("rdbkit_backup_keys"));
        assert_eq!(label("a\"b\\"), "a\\\"b\\\\");
        Ok(())
    }
}
