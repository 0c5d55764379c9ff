//! `rdbkit info`: what a dump holds, from one full pass.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use rdb_parser::{
    Checksum, Header, KeyEnd, KeyStart, Kind, ModuleAux, ModuleValue, RdbType, Visit, VisitError, VisitResult, Visitor,
};
use serde_json::{json, Value};

use super::verify::checksum_text;
use crate::args::{InfoArgs, ReportFormat};
use crate::exit::Code;
use crate::input::Input;
use crate::output::Output;
use crate::CmdResult;

#[derive(Default)]
struct DbInfo {
    keys: u64,
    expires: u64,
    expired: u64,
    empty: u64,
    resize_hint: Option<(u64, u64)>,
    types: BTreeMap<&'static str, u64>,
    /// Keys per type byte while reading (256 counters once a key is met); folded into
    /// `types` and the encodings by [`Collector::fold`].
    by_type: Vec<u64>,
}

/// What `info` lists one by one, at most: a crafted file with millions of AUX fields
/// or databases must not make the report (and the memory) grow without bound. The rest
/// is counted.
const MAX_LISTED: usize = 1000;
/// AUX values are cut to this many bytes.
const MAX_AUX_VALUE: usize = 1024;

#[derive(Default)]
struct Collector {
    header: Option<Header>,
    aux: Vec<(String, String)>,
    aux_omitted: u64,
    dbs: BTreeMap<u64, DbInfo>,
    /// Databases past the first [`MAX_LISTED`], summed.
    other_dbs: DbInfo,
    other_db_count: u64,
    current_db: u64,
    functions: Vec<(String, String)>,
    functions_omitted: u64,
    modules: BTreeMap<String, u64>,
    module_aux: BTreeMap<String, u64>,
    hash_templates: u64,
    encodings: BTreeMap<&'static str, u64>,
    slot_infos: u64,
    slot_imports: u64,
    with_idle: u64,
    with_freq: u64,
    with_meta: u64,
    checksum: Option<Checksum>,
    now_ms: i64,
    pending_expire: Option<i64>,
    last_other: Option<u64>,
}

/// `#!lua name=mylib ...` → ("mylib", "lua").
fn library_name(code: &[u8]) -> (String, String) {
    let first = code.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(first);
    let mut words = line.trim_start_matches("#!").split_whitespace();
    let engine = words.next().unwrap_or("?").to_string();
    let name = words.find_map(|w| w.strip_prefix("name=")).unwrap_or("?").to_string();
    (name, engine)
}

impl Visitor for Collector {
    fn header(&mut self, h: &Header) -> VisitResult {
        self.header = Some(*h);
        Ok(())
    }
    fn aux(&mut self, key: &[u8], value: &[u8]) -> VisitResult {
        if self.aux.len() >= MAX_LISTED {
            self.aux_omitted += 1;
            return Ok(());
        }
        let shown = |b: &[u8], max: usize| match b.len() > max {
            true => format!("{}… ({} bytes)", String::from_utf8_lossy(&b[..max]), b.len()),
            false => String::from_utf8_lossy(b).into_owned(),
        };
        self.aux.push((shown(key, MAX_AUX_VALUE), shown(value, MAX_AUX_VALUE)));
        Ok(())
    }
    fn select_db(&mut self, db: u64) -> VisitResult {
        self.current_db = db;
        self.db(db);
        Ok(())
    }
    fn resize_db(&mut self, keys: u64, expires: u64) -> VisitResult {
        self.db(self.current_db).resize_hint = Some((keys, expires));
        Ok(())
    }
    fn hash_template(&mut self, _: u64, _: &[&[u8]]) -> VisitResult {
        self.hash_templates += 1;
        Ok(())
    }
    fn slot_info(&mut self, _: u64, _: u64, _: u64) -> VisitResult {
        self.slot_infos += 1;
        Ok(())
    }
    fn slot_import(&mut self, _: &[u8], _: &[(u64, u64)]) -> VisitResult {
        self.slot_imports += 1;
        Ok(())
    }
    fn function(&mut self, code: &[u8]) -> VisitResult {
        if self.functions.len() >= MAX_LISTED {
            self.functions_omitted += 1;
        } else {
            self.functions.push(library_name(code));
        }
        Ok(())
    }
    fn module_aux(&mut self, aux: &ModuleAux) -> VisitResult {
        count_name(&mut self.module_aux, &aux.value.name);
        Ok(())
    }
    fn key_start(&mut self, k: &KeyStart<'_>) -> Result<Visit, VisitError> {
        self.current_db = k.db;
        let now_ms = self.now_ms;
        let db = self.db(k.db);
        db.keys += 1;
        if db.by_type.is_empty() {
            db.by_type.resize(256, 0);
        }
        db.by_type[usize::from(k.rdb_type.byte())] += 1;
        if let Some(t) = k.expire_at_ms {
            db.expires += 1;
            if t <= now_ms {
                db.expired += 1;
            }
        }
        self.pending_expire = k.expire_at_ms;
        self.with_idle += u64::from(k.lru_idle_s.is_some());
        self.with_freq += u64::from(k.lfu_freq.is_some());
        self.with_meta += u64::from(!k.meta.is_empty());
        // A module value is read either way; delivering it names its module type.
        Ok(if k.rdb_type.kind() == Kind::Module { Visit::Value } else { Visit::Skip })
    }
    fn module_value(&mut self, v: &ModuleValue) -> VisitResult {
        count_name(&mut self.modules, &v.name);
        Ok(())
    }
    fn key_end(&mut self, end: &KeyEnd) -> VisitResult {
        if end.empty {
            self.db(self.current_db).empty += 1;
        }
        Ok(())
    }
    fn deferred_empty(&mut self, db: u64, keys: u64) -> VisitResult {
        self.db(db).empty += keys;
        Ok(())
    }
    fn end(&mut self, c: Checksum) -> VisitResult {
        self.checksum = Some(c);
        Ok(())
    }
}

/// Counts one more of `name`; past [`MAX_LISTED`] names, under "(others)".
fn count_name(map: &mut BTreeMap<String, u64>, name: &str) {
    let name = if map.len() >= MAX_LISTED && !map.contains_key(name) { "(others)" } else { name };
    *map.entry(name.to_string()).or_default() += 1;
}

fn db_json(db: Value, d: &DbInfo) -> Value {
    json!({
        "db": db, "keys": d.keys, "expires": d.expires, "already_expired": d.expired,
        "empty_keys": d.empty,
        "resizedb_hint": d.resize_hint.map(|(k, e)| json!({"keys": k, "expires": e})),
        "types": d.types,
    })
}

impl Collector {
    /// Turns the per-type-byte counts into counts by type name and by encoding.
    fn fold(&mut self) {
        let Some(dialect) = self.header.map(|h| h.dialect) else {
            return;
        };
        for d in self.dbs.values_mut().chain(std::iter::once(&mut self.other_dbs)) {
            for (byte, n) in std::mem::take(&mut d.by_type).into_iter().enumerate().filter(|&(_, n)| n > 0) {
                if let Some(t) = u8::try_from(byte).ok().and_then(|b| RdbType::from_byte(b, dialect)) {
                    *d.types.entry(t.kind().name()).or_default() += n;
                    *self.encodings.entry(t.encoding_name()).or_default() += n;
                }
            }
        }
    }

    /// The table of a database; past [`MAX_LISTED`] databases, one shared summary
    /// (whose count is of runs of records in one database: each database's keys are
    /// contiguous in files servers write).
    fn db(&mut self, db: u64) -> &mut DbInfo {
        if self.dbs.len() < MAX_LISTED || self.dbs.contains_key(&db) {
            return self.dbs.entry(db).or_default();
        }
        if self.last_other != Some(db) {
            self.other_db_count += 1;
            self.last_other = Some(db);
        }
        &mut self.other_dbs
    }

    fn to_json(&self, name: &str, size: Option<u64>) -> Value {
        let h = self.header;
        json!({
            "file": name,
            "bytes": size,
            "magic": h.map(|h| h.label()),
            "rdb_version": h.map(|h| h.version),
            "dialect": h.map(|h| h.dialect.name()),
            "checksum": checksum_text(self.checksum),
            "aux": self.aux.iter().map(|(k, v)| json!({"key": k, "value": v})).collect::<Vec<_>>(),
            "aux_fields_omitted": self.aux_omitted,
            "databases": self.dbs.iter().map(|(db, d)| db_json((*db).into(), d)).collect::<Vec<_>>(),
            "other_databases": (self.other_db_count > 0)
                .then(|| json!({"count": self.other_db_count, "totals": db_json(Value::Null, &self.other_dbs)})),
            "keys": self.dbs.values().map(|d| d.keys).sum::<u64>() + self.other_dbs.keys,
            "encodings": self.encodings,
            "functions": self.functions.iter().map(|(n, e)| json!({"library": n, "engine": e})).collect::<Vec<_>>(),
            "functions_omitted": self.functions_omitted,
            "hash_templates": self.hash_templates,
            "module_types": self.modules,
            "module_aux": self.module_aux,
            "slot_info_records": self.slot_infos,
            "slot_import_records": self.slot_imports,
            "keys_with_lru_idle": self.with_idle,
            "keys_with_lfu_freq": self.with_freq,
            "keys_with_metadata": self.with_meta,
        })
    }
}

/// The report for people.
fn text(j: &Value) -> String {
    let mut out = String::new();
    let s = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    };
    let _ = writeln!(out, "file:       {} ({} bytes)", s(&j["file"]), s(&j["bytes"]));
    let _ =
        writeln!(out, "format:     {} (RDB {}, {} dialect)", s(&j["magic"]), s(&j["rdb_version"]), s(&j["dialect"]));
    let _ = writeln!(out, "checksum:   {}", s(&j["checksum"]));
    if let Some(p) = j["partial"].as_str() {
        let _ = writeln!(out, "PARTIAL:    {p}");
    }
    let _ = writeln!(out, "keys:       {}", s(&j["keys"]));
    if j["trailing_bytes"].as_u64().unwrap_or(0) > 0 {
        let _ = writeln!(out, "trailing:   {} bytes after the checksum (servers ignore them)", s(&j["trailing_bytes"]));
    }
    if let Some(aux) = j["aux"].as_array().filter(|a| !a.is_empty()) {
        let _ = writeln!(out, "aux fields:");
        for a in aux {
            let _ = writeln!(out, "  {} = {}", s(&a["key"]), s(&a["value"]));
        }
        if j["aux_fields_omitted"].as_u64().unwrap_or(0) > 0 {
            let _ = writeln!(out, "  ... and {} more (not listed)", s(&j["aux_fields_omitted"]));
        }
    }
    let _ = writeln!(out, "databases:");
    for d in j["databases"].as_array().into_iter().flatten() {
        let hint = match &d["resizedb_hint"] {
            Value::Null => String::new(),
            h => format!(", RESIZEDB hint {}/{}", s(&h["keys"]), s(&h["expires"])),
        };
        let _ = writeln!(
            out,
            "  db {}: {} keys, {} with expiry ({} already expired), {} empty{hint}",
            s(&d["db"]),
            s(&d["keys"]),
            s(&d["expires"]),
            s(&d["already_expired"]),
            s(&d["empty_keys"])
        );
        let types: Vec<String> =
            d["types"].as_object().into_iter().flatten().map(|(k, v)| format!("{k} {}", s(v))).collect();
        if !types.is_empty() {
            let _ = writeln!(out, "        {}", types.join(", "));
        }
    }
    if let Some(other) = j["other_databases"].as_object() {
        let t = &other["totals"];
        let _ = writeln!(
            out,
            "  {} more databases (not listed): {} keys, {} with expiry, {} empty",
            s(&other["count"]),
            s(&t["keys"]),
            s(&t["expires"]),
            s(&t["empty_keys"])
        );
    }
    let enc: Vec<String> =
        j["encodings"].as_object().into_iter().flatten().map(|(k, v)| format!("{k} {}", s(v))).collect();
    let _ = writeln!(out, "encodings:  {}", if enc.is_empty() { "-".into() } else { enc.join(", ") });
    let funcs: Vec<String> = j["functions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| format!("{} ({})", s(&f["library"]), s(&f["engine"])))
        .collect();
    let _ = writeln!(out, "functions:  {}", if funcs.is_empty() { "none".into() } else { funcs.join(", ") });
    if j["functions_omitted"].as_u64().unwrap_or(0) > 0 {
        let _ = writeln!(out, "            ... and {} more libraries (not listed)", s(&j["functions_omitted"]));
    }
    if j["hash_templates"].as_u64().unwrap_or(0) > 0 {
        let _ = writeln!(out, "templates:  {} hash templates", s(&j["hash_templates"]));
    }
    let mods: Vec<String> =
        j["module_types"].as_object().into_iter().flatten().map(|(k, v)| format!("{k} ({} keys)", s(v))).collect();
    let _ = writeln!(out, "modules:    {}", if mods.is_empty() { "none".into() } else { mods.join(", ") });
    for (label, key) in
        [("slot info", "slot_info_records"), ("LRU idle", "keys_with_lru_idle"), ("LFU freq", "keys_with_lfu_freq")]
    {
        if j[key].as_u64().unwrap_or(0) > 0 {
            let _ = writeln!(out, "{:<11} {} keys/records", format!("{label}:"), s(&j[key]));
        }
    }
    out
}

pub fn run(a: &InfoArgs, quiet: bool) -> CmdResult {
    if super::aof::is_aof_input(&a.file) {
        let args = super::aof::args::InfoArgs { path: a.file.clone(), format: a.format };
        return super::aof::info::run(&args, quiet);
    }
    let size = std::fs::metadata(&a.file).ok().filter(|m| m.is_file()).map(|m| m.len());
    let input = Input::open(&a.file, quiet)?;
    let name = input.name.clone();
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
    let mut c = Collector { now_ms, ..Default::default() };
    let trailing = super::read_file_with(input, &mut c, super::checking_options(a.read.relaxed))?;
    c.fold();
    let mut j = c.to_json(&name, size);
    j["trailing_bytes"] = trailing.into();
    let partial = super::take_partial();
    j["partial"] = partial.first().map(|p| p.as_str()).into();
    let text = match a.format {
        ReportFormat::Json => serde_json::to_string_pretty(&j)? + "\n",
        ReportFormat::Text => text(&j),
    };
    let mut out = Output::stdout();
    out.write_all(text.as_bytes())?;
    out.commit()?;
    if let Some(note) = partial.first() {
        eprintln!("warning: {note}");
        return Ok(Code::BadData);
    }
    Ok(Code::Ok)
}
