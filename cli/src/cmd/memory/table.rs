//! The summary as text for people (`--format table`).

use std::fmt::Write as _;

use serde_json::Value;

use super::summary::{Summary, Totals, EXPIRY_BUCKETS};

/// Prefix tree lines shown per node.
pub const TABLE_CHILDREN: usize = 10;

/// `1536` → `1.5 KiB`.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

fn share(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "-".into();
    }
    format!("{:.1}%", part as f64 * 100.0 / whole as f64)
}

fn row(out: &mut String, label: &str, t: Totals, whole: u64) {
    let _ = writeln!(out, "  {label:<28} {:>10} {:>12} {:>7}", t.keys, human(t.bytes), share(t.bytes, whole));
}

/// Renders the whole summary.
pub fn render(s: &Summary, about: &Value) -> String {
    let mut out = String::new();
    let whole = s.total.bytes;
    let _ = writeln!(
        out,
        "{}: estimated for {} with {}{}",
        about["file"].as_str().unwrap_or("?"),
        about["server"].as_str().unwrap_or("?"),
        about["allocator"].as_str().unwrap_or("?"),
        if about["validated"] == Value::Bool(false) { " (rules not validated for this version)" } else { "" }
    );
    let _ = writeln!(out, "total: {} keys, {} ({} bytes)\n", s.total.keys, human(whole), whole);
    let _ = writeln!(out, "  {:<28} {:>10} {:>12} {:>7}", "database", "keys", "memory", "share");
    for (db, t) in &s.by_db {
        row(&mut out, &format!("db {db}"), *t, whole);
    }
    let _ = writeln!(out, "\n  {:<28} {:>10} {:>12} {:>7}", "type / encoding", "keys", "memory", "share");
    for (kind, t) in &s.by_type {
        row(&mut out, kind.name(), *t, whole);
        for ((_, enc), t) in
            s.by_encoding.range((*kind, rdb_parser::memory::Encoding::Int)..).take_while(|e| e.0 .0 == *kind)
        {
            row(&mut out, &format!("  {}", enc.name()), *t, whole);
        }
    }
    let _ = writeln!(out, "\n  {:<28} {:>10} {:>12} {:>7}", "expiry (time left)", "keys", "memory", "share");
    row(&mut out, "no expiry", s.persistent, whole);
    row(&mut out, "with expiry", s.expiring, whole);
    for ((_, label), t) in EXPIRY_BUCKETS.iter().zip(&s.expiry) {
        row(&mut out, &format!("  {label}"), *t, whole);
    }
    keys(&mut out, "biggest keys", "memory", &s.top.sorted(), |k| human(k.size_in_bytes));
    keys(&mut out, "biggest elements", "element", &s.top_elements.sorted(), |k| human(k.len_largest_element));
    if let Some(t) = &s.prefixes {
        let _ = writeln!(out, "\n  {:<10} {:>12} {:>7}  prefix", "keys", "memory", "share");
        tree(&mut out, &t.to_json(TABLE_CHILDREN), whole, 0);
    }
    out
}

fn keys(
    out: &mut String,
    title: &str,
    measure: &str,
    list: &[&rdb_parser::memory::KeyMemory],
    value: impl Fn(&rdb_parser::memory::KeyMemory) -> String,
) {
    if list.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{title}:");
    let _ = writeln!(out, "  {measure:>12} {:<7} {:<11} {:>10} {:>4}  key", "type", "encoding", "elements", "db");
    for k in list {
        let _ = writeln!(
            out,
            "  {:>12} {:<7} {:<11} {:>10} {:>4}  {}",
            value(k),
            k.kind.name(),
            k.encoding.name(),
            k.num_elements,
            k.db,
            rdb_parser::escape_bytes(&k.key, 80)
        );
    }
}

fn tree(out: &mut String, node: &Value, whole: u64, depth: usize) {
    let n = |v: &Value| v.as_u64().unwrap_or(0);
    if depth > 0 {
        let _ = writeln!(
            out,
            "  {:<10} {:>12} {:>7}  {}{}",
            n(&node["keys"]),
            human(n(&node["bytes"])),
            share(n(&node["bytes"]), whole),
            "  ".repeat(depth - 1),
            node["prefix"].as_str().unwrap_or("")
        );
    }
    for child in node["children"].as_array().into_iter().flatten() {
        tree(out, child, whole, depth + 1);
    }
    let other = &node["other"];
    if n(&other["keys"]) > 0 {
        let _ = writeln!(
            out,
            "  {:<10} {:>12} {:>7}  {}(other)",
            n(&other["keys"]),
            human(n(&other["bytes"])),
            share(n(&other["bytes"]), whole),
            "  ".repeat(depth)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_sizes() {
        assert_eq!(human(512), "512 B");
        assert_eq!(human(1536), "1.5 KiB");
        assert_eq!(human(3 << 30), "3.0 GiB");
    }
}
