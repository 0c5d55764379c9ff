//! `rdbkit backup`: turns flags into [`backup`] library calls and prints the outcome.
//! Everything else (sources, repositories, verification, retention) lives in the
//! library.

pub mod args;
mod progress;
mod report;
mod schedule;

use std::sync::Arc;

use backup::check::{restore_into_server, restore_to_files, verify_backup};
use backup::job::{run_job, JobConfig, LOCK_WAIT};
use backup::progress::Progress;
use backup::prune::prune;
use backup::repo::Repository;
use backup::restore::RestoreOptions;

use crate::exit::{usage, Code, Coded};
use crate::CmdResult;
use args::{BackupArgs, BackupCommand, CompressArg, JobArgs, KeepArgs, RepoArgs, S3Args};

/// `rdbkit 0.1.0`.
pub fn tool() -> String {
    format!("rdbkit {}", env!("CARGO_PKG_VERSION"))
}

pub fn run(a: &BackupArgs, quiet: bool) -> CmdResult {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))?;
    runtime.block_on(dispatch(a, quiet)).map_err(coded)
}

/// A failed backup command exits with the code of its cause, and only that: a broken
/// pipe deep inside (a closed socket) must never read as the closed-stdout case that
/// `main` treats as success.
fn coded(err: anyhow::Error) -> anyhow::Error {
    let code = crate::exit::classify(&err);
    Coded { code, message: format!("{err:#}") }.into()
}

async fn dispatch(a: &BackupArgs, quiet: bool) -> CmdResult {
    match &a.command {
        BackupCommand::Run(r) => {
            let job = job_config(&r.job, None)?;
            let progress = Arc::new(Progress::default());
            let bar = progress::show(&progress, quiet, "backup");
            let outcome = run_job(&job, &tool(), progress).await;
            drop(bar);
            let outcome = outcome?;
            if r.verbose {
                report::run_summary(&outcome);
            }
            Ok(Code::Ok)
        }
        BackupCommand::List(l) => {
            let repo = open(&l.repo).await?;
            let catalog = repo.catalog().await?;
            report::list(&catalog, l.format)?;
            Ok(Code::Ok)
        }
        BackupCommand::Verify(v) => {
            let repo = open(&v.repo).await?;
            let manifest = repo.manifest(&v.id).await?;
            let progress = Arc::new(Progress::default());
            let bar = progress::show(&progress, quiet, "verify");
            let checked = verify_backup(&repo, &manifest, progress).await;
            drop(bar);
            checked?;
            stdout!(
                "backup {}: ok ({} part{}, {} keys, {} bytes stored, SHA-256 and RDB checksums match)",
                manifest.id,
                manifest.parts.len(),
                if manifest.parts.len() == 1 { "" } else { "s" },
                manifest.keys,
                manifest.stored_bytes
            )?;
            Ok(Code::Ok)
        }
        BackupCommand::Restore(r) => {
            let repo = open(&r.repo).await?;
            let manifest = repo.manifest(&r.id).await?;
            let progress = Arc::new(Progress::default());
            let bar = progress::show(&progress, quiet, "restore");
            match (&r.output, &r.into) {
                (Some(out), _) => {
                    let written = restore_to_files(&repo, &manifest, out, progress).await;
                    drop(bar);
                    for path in written? {
                        eprintln!("restored backup {} to {}", manifest.id, path.display());
                    }
                    Ok(Code::Ok)
                }
                (None, Some(url)) => {
                    let options = RestoreOptions {
                        connect: r.server.connect_options(url)?,
                        cluster: r.cluster,
                        replace: r.replace,
                        dry_run: false,
                        pipeline: 256,
                        target: None,
                        lossy: false,
                        rename_db: Default::default(),
                        filter: Default::default(),
                    };
                    let summaries = restore_into_server(&repo, &manifest, &options, progress).await;
                    drop(bar);
                    let mut code = Code::Ok;
                    for s in &summaries? {
                        code = code.max(crate::cmd::restore::report(crate::args::ReportFormat::Text, s)?);
                    }
                    Ok(code)
                }
                (None, None) => Err(usage("give -o PATH or --into URL")),
            }
        }
        BackupCommand::Prune(p) => {
            let policy = keep_policy(&p.keep);
            if policy.is_empty() {
                return Err(usage(
                    "give a retention policy: --keep-last, --keep-daily, --keep-weekly or --keep-monthly",
                ));
            }
            let repo = open(&p.repo).await?;
            let plan = prune(&repo, &policy, p.dry_run, LOCK_WAIT).await?;
            report::prune(&plan, p.dry_run, p.format)?;
            Ok(Code::Ok)
        }
        BackupCommand::Schedule(s) => schedule::run(s).await,
    }
}

fn keep_policy(k: &KeepArgs) -> backup::policy::Policy {
    backup::policy::Policy { last: k.keep_last, daily: k.keep_daily, weekly: k.keep_weekly, monthly: k.keep_monthly }
}

fn repo_config(repo: &str, s3: &S3Args) -> JobConfig {
    JobConfig {
        repo: repo.to_string(),
        endpoint: s3.endpoint.clone(),
        path_style: s3.path_style,
        sse: s3.sse.clone(),
        sse_kms_key_id: s3.sse_kms_key_id.clone(),
        ..Default::default()
    }
}

async fn open(r: &RepoArgs) -> anyhow::Result<Repository> {
    Ok(repo_config(&r.repo, &r.s3).open_repo().await?)
}

/// The job the flags describe.
pub fn job_config(j: &JobArgs, schedule: Option<String>) -> anyhow::Result<JobConfig> {
    let (Some(source), Some(repo)) = (&j.source, &j.repo) else {
        return Err(usage("the following required arguments were not provided: --source <SRC> --repo <REPO>"));
    };
    let compress = match j.compress {
        CompressArg::Zstd => "zstd",
        CompressArg::Gzip => "gzip",
        CompressArg::None => "none",
    };
    Ok(JobConfig {
        name: "backup".into(),
        source: source.clone(),
        schedule,
        cluster: j.cluster,
        password_file: j.server.password_file.clone(),
        sentinel_password_file: j.sentinel_password_file.clone(),
        tls_ca: j.server.tls_ca.clone(),
        tls_cert: j.server.tls_cert.clone(),
        tls_key: j.server.tls_key.clone(),
        tls_insecure: j.server.tls_insecure,
        compress: Some(compress.into()),
        keep_last: j.keep.keep_last,
        keep_daily: j.keep.keep_daily,
        keep_weekly: j.keep.keep_weekly,
        keep_monthly: j.keep.keep_monthly,
        metrics: j.metrics.clone(),
        ..repo_config(repo, &j.s3)
    })
}
