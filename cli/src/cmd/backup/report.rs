//! What `backup list`, `prune` and `run -v` print.

use backup::job::JobOutcome;
use backup::prune::PrunePlan;
use backup::repo::{Catalog, Manifest};
use indicatif::HumanBytes;
use serde_json::json;

use super::args::ListFormat;

fn time(m: &Manifest) -> String {
    m.time.format("%Y-%m-%d %H:%M:%S").to_string()
}

fn source(m: &Manifest) -> String {
    match (&m.source.node, &m.source.role) {
        (Some(node), Some(role)) => format!("{} ({role} {node})", m.source.name),
        _ => m.source.name.clone(),
    }
}

pub fn list(c: &Catalog, format: ListFormat) -> anyhow::Result<()> {
    for (name, why) in &c.damaged {
        eprintln!("warning: {name}: {why}");
    }
    match format {
        ListFormat::Json => stdout!("{}", serde_json::to_string_pretty(&c.backups)?)?,
        ListFormat::Table => {
            stdout!(
                "{:<23}  {:<19}  {:>5}  {:>12}  {:>10}  {:>10}  {:<5}  source",
                "id",
                "time (UTC)",
                "parts",
                "keys",
                "stored",
                "raw",
                "comp"
            )?;
            for m in &c.backups {
                stdout!(
                    "{:<23}  {:<19}  {:>5}  {:>12}  {:>10}  {:>10}  {:<5}  {}",
                    m.id,
                    time(m),
                    m.parts.len(),
                    m.keys,
                    HumanBytes(m.stored_bytes).to_string(),
                    HumanBytes(m.raw_bytes).to_string(),
                    m.compression.name(),
                    source(m)
                )?;
            }
            stdout!("{} complete backups", c.backups.len())?;
        }
    }
    Ok(())
}

pub fn run_summary(o: &JobOutcome) {
    let m = &o.manifest;
    eprintln!(
        "backup {}: {} keys, {} read, {} stored ({}), {:.1} s",
        m.id,
        m.keys,
        HumanBytes(m.raw_bytes),
        HumanBytes(m.stored_bytes),
        m.compression.name(),
        m.duration_seconds
    );
    if let Some(plan) = &o.pruned {
        eprintln!("prune: kept {}, removed {}", plan.keep.len(), plan.remove.len());
    }
}

pub fn prune(plan: &PrunePlan, dry_run: bool, format: ListFormat) -> anyhow::Result<()> {
    for (name, why) in &plan.damaged {
        eprintln!("warning: {name}: {why} (left alone)");
    }
    let leftovers =
        plan.leftovers.iter().map(|(id, objects)| (id, objects.len(), objects.iter().map(|o| o.size).sum::<u64>()));
    match format {
        ListFormat::Json => {
            let value = json!({
                "dry_run": dry_run,
                "keep": plan.keep.iter().map(|(m, why)| json!({"id": m.id, "time": m.time, "reasons": why})).collect::<Vec<_>>(),
                "remove": plan.remove.iter().map(|m| json!({"id": m.id, "time": m.time})).collect::<Vec<_>>(),
                "incomplete": leftovers.map(|(id, n, bytes)| json!({"id": id, "objects": n, "bytes": bytes})).collect::<Vec<_>>(),
                "unfinished_uploads": plan.unfinished.iter().map(|u| json!({"name": u.name, "started": u.started})).collect::<Vec<_>>(),
            });
            stdout!("{}", serde_json::to_string_pretty(&value)?)?;
        }
        ListFormat::Table => {
            let verb = if dry_run { "would remove" } else { "remove" };
            for (m, why) in &plan.keep {
                stdout!("keep          {}  {}  ({})", m.id, time(m), why.join(", "))?;
            }
            for m in &plan.remove {
                stdout!("{verb:<13} {}  {}", m.id, time(m))?;
            }
            for (id, n, bytes) in leftovers {
                stdout!("{verb:<13} incomplete {id}: {n} objects, {}", HumanBytes(bytes))?;
            }
            for u in &plan.unfinished {
                let started = u.started.map_or_else(|| "unknown time".to_string(), |t| t.to_rfc3339());
                stdout!("{verb:<13} unfinished upload of {} (started {started})", u.name)?;
            }
            if dry_run {
                stdout!("dry run: nothing was removed")?;
            }
        }
    }
    Ok(())
}
