//! A backup job: source, repository, retention and metrics, as `backup run` takes them
//! from flags and `backup schedule --config` from a TOML file (`[[job]]` tables).
//! [`run_job`] takes the backup, prunes when a retention policy is set, and writes the
//! metrics file.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::backend::s3::{S3Options, Sse};
use crate::backend::RepoLocation;
use crate::compress::Compression;
use crate::error::{Error, Result};
use crate::metrics::{self, RunMetrics};
use crate::policy::Policy;
use crate::progress::Progress;
use crate::prune::{prune, PrunePlan};
use crate::repo::{Manifest, Repository};
use crate::run::{run_backup, RunOptions};
use crate::schedule::Schedule;
use crate::source::Source;
use resp::sentinel::SentinelUrl;
use resp::{resolve_password, ConnectOptions, ServerUrl, TlsOptions, DEFAULT_TIMEOUT};

/// How long a run waits for a prune's exclusive lock.
pub const LOCK_WAIT: Duration = Duration::from_secs(60);

/// One job.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct JobConfig {
    /// Name, for logs.
    #[serde(default)]
    pub name: String,
    /// `redis://`, `rediss://`, `redis+sentinel://`, an RDB file or an AOF directory.
    pub source: String,
    /// A path, `file:///path` or `s3://bucket/prefix`.
    pub repo: String,
    /// Cron expression (schedule only).
    #[serde(default)]
    pub schedule: Option<String>,
    /// The source is a cluster node: back up every master.
    #[serde(default)]
    pub cluster: bool,
    /// Password of the data nodes, first line of this file.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// Password of the Sentinels, first line of this file.
    #[serde(default)]
    pub sentinel_password_file: Option<PathBuf>,
    /// CA certificate for `rediss://`.
    #[serde(default)]
    pub tls_ca: Option<PathBuf>,
    /// Client certificate.
    #[serde(default)]
    pub tls_cert: Option<PathBuf>,
    /// Client key.
    #[serde(default)]
    pub tls_key: Option<PathBuf>,
    /// Do not verify the server certificate.
    #[serde(default)]
    pub tls_insecure: bool,
    /// `zstd` (default), `gzip` or `none`.
    #[serde(default)]
    pub compress: Option<String>,
    /// S3-compatible endpoint.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Path-style S3 requests.
    #[serde(default)]
    pub path_style: bool,
    /// Server-side encryption: `AES256` or `aws:kms`.
    #[serde(default)]
    pub sse: Option<String>,
    /// KMS key for `aws:kms`.
    #[serde(default)]
    pub sse_kms_key_id: Option<String>,
    /// Retention: the newest N.
    #[serde(default)]
    pub keep_last: u32,
    /// Retention: one per day for N days.
    #[serde(default)]
    pub keep_daily: u32,
    /// Retention: one per week for N weeks.
    #[serde(default)]
    pub keep_weekly: u32,
    /// Retention: one per month for N months.
    #[serde(default)]
    pub keep_monthly: u32,
    /// Prometheus textfile to write after each run.
    #[serde(default)]
    pub metrics: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default, rename = "job")]
    jobs: Vec<JobConfig>,
}

/// Parses a configuration file's text: `[[job]]` tables, each with a schedule.
pub fn parse_config(text: &str) -> Result<Vec<JobConfig>> {
    let file: ConfigFile = toml::from_str(text).map_err(|e| Error::Usage(format!("invalid configuration: {e}")))?;
    if file.jobs.is_empty() {
        return Err(Error::Usage("the configuration has no [[job]]".into()));
    }
    let mut names = std::collections::BTreeSet::new();
    for (i, job) in file.jobs.iter().enumerate() {
        let name = if job.name.is_empty() { format!("job {}", i + 1) } else { job.name.clone() };
        if !names.insert(name.clone()) {
            return Err(Error::Usage(format!("two jobs are named {name:?}")));
        }
        let schedule = job.schedule.as_deref().ok_or_else(|| Error::Usage(format!("{name}: no schedule")))?;
        Schedule::parse(schedule)?;
        job.compression()?;
        job.policy();
        RepoLocation::parse(&job.repo)?;
    }
    Ok(file
        .jobs
        .into_iter()
        .enumerate()
        .map(|(i, j)| if j.name.is_empty() { JobConfig { name: format!("job {}", i + 1), ..j } } else { j })
        .collect())
}

impl JobConfig {
    /// The compression asked for.
    pub fn compression(&self) -> Result<Compression> {
        match &self.compress {
            None => Ok(Compression::Zstd),
            Some(c) => Compression::parse(c)
                .ok_or_else(|| Error::Usage(format!("unknown compression {c:?} (zstd, gzip, none)"))),
        }
    }

    /// The retention policy (empty: no prune after the backup).
    pub fn policy(&self) -> Policy {
        Policy { last: self.keep_last, daily: self.keep_daily, weekly: self.keep_weekly, monthly: self.keep_monthly }
    }

    fn tls(&self) -> TlsOptions {
        TlsOptions {
            ca: self.tls_ca.clone(),
            cert: self.tls_cert.clone(),
            key: self.tls_key.clone(),
            insecure: self.tls_insecure,
        }
    }

    /// The source, with passwords resolved (URL, then file, then `REDISCLI_AUTH`).
    pub fn source(&self) -> Result<Source> {
        let s = self.source.as_str();
        if SentinelUrl::matches(s) {
            if self.cluster {
                return Err(Error::Usage("--cluster does not go with a Sentinel URL".into()));
            }
            let url = SentinelUrl::parse(s)?;
            let as_server = url.node_url("sentinel", 0);
            let password = resolve_password(&as_server, self.password_file.as_deref())?;
            let sentinel_password = match &self.sentinel_password_file {
                Some(f) => resolve_password(&ServerUrl { password: None, ..as_server }, Some(f))?,
                None => None,
            };
            return Ok(Source::Sentinel {
                url,
                password,
                sentinel_password,
                tls: self.tls(),
                timeout: DEFAULT_TIMEOUT,
            });
        }
        if s.starts_with("redis://") || s.starts_with("rediss://") {
            let url = ServerUrl::parse(s)?;
            let password = resolve_password(&url, self.password_file.as_deref())?;
            let options = ConnectOptions { password, tls: self.tls(), ..ConnectOptions::new(url) };
            options.validate()?;
            return Ok(if self.cluster { Source::Cluster(options) } else { Source::Server(options) });
        }
        if s.contains("://") {
            return Err(Error::Usage(format!(
                "{}: unknown source (redis://, rediss://, redis+sentinel://, an RDB file or an AOF directory)",
                resp::redact(s)
            )));
        }
        if self.cluster {
            return Err(Error::Usage("--cluster needs a redis:// source".into()));
        }
        let path = PathBuf::from(s);
        match std::fs::metadata(&path) {
            Ok(m) if m.is_dir() => Ok(Source::AofDir(path)),
            Ok(_) => Ok(Source::RdbFile(path)),
            Err(e) => Err(Error::Io(std::io::Error::new(e.kind(), format!("{s}: {e}")))),
        }
    }

    /// S3 settings (the bucket comes from the repository location).
    pub fn s3_options(&self) -> Result<S3Options> {
        let sse = match (self.sse.as_deref(), &self.sse_kms_key_id) {
            (None, None) => None,
            (Some("AES256"), None) => Some(Sse::Aes256),
            (Some("aws:kms"), key) => Some(Sse::Kms(key.clone())),
            (None, Some(_)) => return Err(Error::Usage("--sse-kms-key-id needs --sse aws:kms".into())),
            (Some(other), _) => return Err(Error::Usage(format!("unknown --sse {other:?} (AES256, aws:kms)"))),
        };
        Ok(S3Options { endpoint: self.endpoint.clone(), path_style: self.path_style, sse, ..Default::default() })
    }

    /// Opens the repository.
    pub async fn open_repo(&self) -> Result<Repository> {
        Repository::open(&RepoLocation::parse(&self.repo)?, self.s3_options()?).await
    }
}

/// What a job run did.
#[derive(Debug)]
pub struct JobOutcome {
    /// The backup taken.
    pub manifest: Manifest,
    /// The prune that followed, if the job has a retention policy.
    pub pruned: Option<PrunePlan>,
    /// Wall time of the whole job.
    pub seconds: f64,
}

/// Runs a job: backup, prune if a policy is set, metrics. `tool` names the program.
pub async fn run_job(job: &JobConfig, tool: &str, progress: Arc<Progress>) -> Result<JobOutcome> {
    let started = Instant::now();
    let result = async {
        let source = job.source()?;
        let repo = job.open_repo().await?;
        let options = RunOptions { compression: job.compression()?, lock_wait: LOCK_WAIT, tool: tool.to_string() };
        let manifest = run_backup(source, &repo, &options, progress).await?;
        let policy = job.policy();
        let pruned = if policy.is_empty() { None } else { Some(prune(&repo, &policy, false, LOCK_WAIT).await?) };
        Ok(JobOutcome { manifest, pruned, seconds: started.elapsed().as_secs_f64() })
    }
    .await;
    if let Some(path) = &job.metrics {
        let m = match &result {
            Ok(o) => RunMetrics {
                success: true,
                end_time: unix_now(),
                duration_seconds: o.manifest.duration_seconds,
                raw_bytes: o.manifest.raw_bytes,
                stored_bytes: o.manifest.stored_bytes,
                keys: o.manifest.keys,
            },
            Err(_) => RunMetrics { success: false, end_time: unix_now(), ..Default::default() },
        };
        metrics::write(path, &m, &job.repo).map_err(|e| {
            Error::Io(std::io::Error::new(e.kind(), format!("{}: cannot write the metrics: {e}", path.display())))
        })?;
    }
    result
}

fn unix_now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configurations_parse_and_are_checked() -> Result<()> {
        let text = r#"
[[job]]
name = "cache"
source = "redis://10.0.0.5:6379"
repo = "s3://backups/cache"
schedule = "0 3 * * *"
keep_daily = 7
keep_weekly = 4

[[job]]
source = "redis+sentinel://10.0.0.9:26379/main"
repo = "/srv/backups/main"
schedule = "@hourly"
compress = "gzip"
"#;
        let jobs = parse_config(text)?;
        assert_eq!(jobs.len(), 2);
        assert_eq!(jobs[0].policy(), Policy { daily: 7, weekly: 4, ..Default::default() });
        assert_eq!(jobs[1].name, "job 2");
        assert_eq!(jobs[1].compression()?, Compression::Gzip);
        for bad in [
            "",
            "[[job]]\nsource = \"x\"\nrepo = \"y\"\n",
            "[[job]]\nsource = \"x\"\nrepo = \"y\"\nschedule = \"nope\"\n",
            "[[job]]\nsource = \"x\"\nrepo = \"y\"\nschedule = \"@daily\"\nkeep_lats = 3\n",
            "[[job]]\nsource = \"x\"\nrepo = \"gs://y\"\nschedule = \"@daily\"\n",
            "[[job]]\nsource = \"x\"\nrepo = \"y\"\nschedule = \"@daily\"\ncompress = \"lz4\"\n",
        ] {
            assert!(parse_config(bad).is_err(), "{bad}");
        }
        Ok(())
    }

    #[test]
    fn sources_are_told_apart() -> Result<()> {
        let job = |s: &str| JobConfig { source: s.into(), repo: "r".into(), ..Default::default() };
        assert!(matches!(job("redis://h:1").source()?, Source::Server(_)));
        assert!(matches!(JobConfig { cluster: true, ..job("redis://h:1") }.source()?, Source::Cluster(_)));
        assert!(matches!(job("redis+sentinel://h/m").source()?, Source::Sentinel { .. }));
        assert!(matches!(job(env!("CARGO_MANIFEST_DIR")).source()?, Source::AofDir(_)));
        assert!(matches!(job(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).source()?, Source::RdbFile(_)));
        assert!(job("http://x").source().is_err());
        assert!(job("/no/such/file").source().is_err());
        let sse = JobConfig { sse: Some("aws:kms".into()), sse_kms_key_id: Some("k".into()), ..job("redis://h") };
        assert_eq!(sse.s3_options()?.sse, Some(Sse::Kms(Some("k".into()))));
        assert!(JobConfig { sse: Some("x".into()), ..job("redis://h") }.s3_options().is_err());
        Ok(())
    }
}
