//! `backup schedule`: the foreground daemon. One JSON line per run on stdout; SIGTERM
//! and SIGINT let the current run finish, then the process exits 0.

use std::sync::Arc;

use anyhow::Context;
use backup::job::{parse_config, run_job, JobConfig};
use backup::progress::Progress;
use backup::schedule::{run_loop, Schedule, SystemClock};
use chrono::{DateTime, Utc};
use serde_json::json;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::watch;

use super::args::ScheduleArgs;
use super::{job_config, tool};
use crate::exit::{backup_code, usage, Code};
use crate::CmdResult;

fn jobs(a: &ScheduleArgs) -> anyhow::Result<Vec<JobConfig>> {
    if let Some(path) = &a.config {
        let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))?;
        return parse_config(&text).with_context(|| path.display().to_string());
    }
    match &a.cron {
        Some(cron) => {
            Schedule::parse(cron)?;
            Ok(vec![job_config(&a.job, Some(cron.clone()))?])
        }
        None => Err(usage("give --config FILE, or --cron EXPR with --source and --repo")),
    }
}

/// One JSON line about a run.
fn log_line(job: &JobConfig, due: DateTime<Utc>, outcome: &Result<backup::job::JobOutcome, backup::Error>) -> String {
    let mut line = json!({"time": Utc::now(), "job": job.name, "due": due, "repo": job.repo});
    match outcome {
        Ok(o) => {
            let m = &o.manifest;
            line["ok"] = json!(true);
            line["backup"] = json!(m.id);
            line["keys"] = json!(m.keys);
            line["raw_bytes"] = json!(m.raw_bytes);
            line["stored_bytes"] = json!(m.stored_bytes);
            line["seconds"] = json!(o.seconds);
            if let Some(p) = &o.pruned {
                line["pruned"] = json!(p.remove.len());
            }
        }
        Err(e) => {
            line["ok"] = json!(false);
            line["error"] = json!(e.to_string());
            line["exit_code"] = json!(backup_code(e) as u8);
        }
    }
    line.to_string()
}

pub async fn run(a: &ScheduleArgs) -> CmdResult {
    let jobs = jobs(a)?;
    let schedules = jobs
        .iter()
        .map(|j| Schedule::parse(j.schedule.as_deref().unwrap_or_default()))
        .collect::<Result<Vec<_>, _>>()?;
    let (stop, shutdown) = watch::channel(false);
    let mut term = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot watch SIGINT")?;
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        let _ = stop.send(true);
    });
    for (job, s) in jobs.iter().zip(&schedules) {
        let next = s.next_local(Utc::now()).map_or_else(|| "never".to_string(), |t| t.to_rfc3339());
        eprintln!("rdbkit backup schedule: job {} ({}): next run {next}", job.name, s.text());
    }
    let tool = tool();
    run_loop(
        jobs.len(),
        &SystemClock,
        shutdown,
        |j, t| schedules[j].next_local(t),
        |j, due| {
            let (job, tool) = (&jobs[j], &tool);
            async move {
                let outcome = run_job(job, tool, Arc::new(Progress::default())).await;
                // A daemon whose log reader went away keeps running its jobs.
                let _ = stdout!("{}", log_line(job, due, &outcome));
            }
        },
    )
    .await;
    Ok(Code::Ok)
}
