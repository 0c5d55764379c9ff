//! Comparing two sets of records the way the schema defines equality.
//!
//! Records are matched by `(db, key)`. Inside a record: sets compare as
//! sets, hashes and `field_expire_at_ms` as maps (object or pairs form),
//! zset scores as `f64` (`-0.0 == 0.0`, `"inf"`/`"-inf"`) with the member
//! order checked separately, stream groups as a map by name with pending
//! entries by ID and consumers as a set. Byte strings are compared as bytes,
//! whichever JSON form they came in.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde_json::Value as Json;

use crate::record::{score_to_json, show_bytes, Bytes, Data, Group, Idmp, Record, Stream, StreamEntry, StreamId};

/// Keys listed in a difference report.
const MAX_KEYS_SHOWN: usize = 8;
/// Detail lines listed per key.
const MAX_DETAILS_PER_KEY: usize = 4;
/// Items named in one detail line ("e.g. a, b, c").
const MAX_ITEMS_NAMED: usize = 3;

/// Compare two lists of NDJSON records (e.g. a fixture's `expected.ndjson`
/// and a converter's output).
///
/// `Ok(())` when they hold the same keys with equal values. Otherwise the
/// error is a short report naming the first differing keys and what
/// differs, or the records that are not in the schema.
pub fn compare(expected: &[Json], actual: &[Json]) -> Result<(), String> {
    let e = parse_all(expected, "expected")?;
    let a = parse_all(actual, "actual")?;
    compare_records(&e, &a)
}

/// [`compare`] for typed records.
pub fn compare_records(expected: &[Record], actual: &[Record]) -> Result<(), String> {
    let e = index(expected, "expected")?;
    let a = index(actual, "actual")?;
    let keys: BTreeSet<&(u32, Bytes)> = e.keys().chain(a.keys()).collect();
    let mut bad: Vec<(String, Vec<String>)> = Vec::new();
    for k in &keys {
        let details = match (e.get(*k), a.get(*k)) {
            (Some(_), None) => vec!["missing from actual".to_owned()],
            (None, Some(r)) => vec![format!("not expected (actual has a {})", r.type_name())],
            (Some(x), Some(y)) => record_diff(x, y),
            (None, None) => Vec::new(),
        };
        if !details.is_empty() {
            bad.push((format!("db {} key {}", k.0, show_bytes(&k.1)), details));
        }
    }
    if bad.is_empty() {
        return Ok(());
    }
    let mut report = format!(
        "{} of {} keys differ (expected {} records, actual {}):",
        bad.len(),
        keys.len(),
        expected.len(),
        actual.len()
    );
    for (label, details) in bad.iter().take(MAX_KEYS_SHOWN) {
        if let [only] = details.as_slice() {
            let _ = write!(report, "\n- {label}: {only}");
            continue;
        }
        let _ = write!(report, "\n- {label}:");
        for d in details.iter().take(MAX_DETAILS_PER_KEY) {
            let _ = write!(report, "\n    {d}");
        }
        if details.len() > MAX_DETAILS_PER_KEY {
            let _ = write!(report, "\n    ... {} more", details.len() - MAX_DETAILS_PER_KEY);
        }
    }
    if bad.len() > MAX_KEYS_SHOWN {
        let _ = write!(report, "\n... and {} more keys", bad.len() - MAX_KEYS_SHOWN);
    }
    Err(report)
}

fn parse_all(records: &[Json], side: &str) -> Result<Vec<Record>, String> {
    let mut out = Vec::with_capacity(records.len());
    let mut errors = Vec::new();
    for (i, v) in records.iter().enumerate() {
        match Record::from_json(v) {
            Ok(r) => out.push(r),
            Err(e) => errors.push(format!("{side} record {}: {e}", i + 1)),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        let n = errors.len();
        errors.truncate(MAX_KEYS_SHOWN);
        Err(format!("{n} {side} record(s) are not in the NDJSON schema:\n- {}", errors.join("\n- ")))
    }
}

fn index<'a>(records: &'a [Record], side: &str) -> Result<BTreeMap<(u32, Bytes), &'a Record>, String> {
    let mut map = BTreeMap::new();
    for r in records {
        if map.insert((r.db, r.key.clone()), r).is_some() {
            return Err(format!("{side} has db {} key {} more than once", r.db, show_bytes(&r.key)));
        }
    }
    Ok(map)
}

fn opt_int(v: Option<i64>) -> String {
    v.map_or_else(|| "null".to_owned(), |n| n.to_string())
}

fn record_diff(e: &Record, a: &Record) -> Vec<String> {
    let mut out = Vec::new();
    if e.type_name() != a.type_name() {
        out.push(format!("type: expected {}, actual {}", e.type_name(), a.type_name()));
    }
    if e.expire_at_ms != a.expire_at_ms {
        out.push(format!("expire_at_ms: expected {}, actual {}", opt_int(e.expire_at_ms), opt_int(a.expire_at_ms)));
    }
    match (&e.data, &a.data) {
        (Data::String(x), Data::String(y)) if x != y => {
            out.push(format!("value: expected {}, actual {}", show_bytes(x), show_bytes(y)));
        }
        (Data::List(x), Data::List(y)) => diff_seq("value", x, y, |b| show_bytes(b), &mut out),
        (Data::Set(x), Data::Set(y)) => diff_sets("value", x, y, |b| show_bytes(b), &mut out),
        (Data::ZSet(x), Data::ZSet(y)) => diff_zset(x, y, &mut out),
        (Data::Hash(x), Data::Hash(y)) => diff_maps("value", x, y, |k| show_bytes(k), |v| show_bytes(v), &mut out),
        (Data::Stream(x), Data::Stream(y)) => diff_stream(x, y, &mut out),
        _ => {} // type mismatch already reported
    }
    diff_maps(
        "field_expire_at_ms",
        &e.field_expire_at_ms,
        &a.field_expire_at_ms,
        |k| show_bytes(k),
        |ms| ms.to_string(),
        &mut out,
    );
    out
}

fn named<'a, T: 'a>(items: impl Iterator<Item = &'a T>, show: impl Fn(&T) -> String) -> String {
    let v: Vec<String> = items.take(MAX_ITEMS_NAMED).map(show).collect();
    v.join(", ")
}

/// Sequences whose order matters: length and the first differing position.
fn diff_seq<T: PartialEq>(label: &str, e: &[T], a: &[T], show: impl Fn(&T) -> String, out: &mut Vec<String>) {
    if e == a {
        return;
    }
    if e.len() != a.len() {
        out.push(format!("{label}: expected {} items, actual {}", e.len(), a.len()));
    }
    let show_at = |s: &[T], i: usize| s.get(i).map_or_else(|| "<end>".to_owned(), &show);
    if let Some(i) = (0..e.len().max(a.len())).find(|&i| e.get(i) != a.get(i)) {
        out.push(format!("{label}[{i}]: expected {}, actual {}", show_at(e, i), show_at(a, i)));
    }
}

fn diff_sets<T: Ord>(
    label: &str,
    e: &BTreeSet<T>,
    a: &BTreeSet<T>,
    show: impl Fn(&T) -> String,
    out: &mut Vec<String>,
) {
    let missing: Vec<&T> = e.difference(a).collect();
    let extra: Vec<&T> = a.difference(e).collect();
    if !missing.is_empty() {
        out.push(format!("{label}: {} missing from actual, e.g. {}", missing.len(), named(missing.into_iter(), &show)));
    }
    if !extra.is_empty() {
        out.push(format!("{label}: {} not expected, e.g. {}", extra.len(), named(extra.into_iter(), &show)));
    }
}

/// Maps: missing and unexpected keys, then keys whose values differ.
fn diff_maps<K: Ord, V: PartialEq>(
    label: &str,
    e: &BTreeMap<K, V>,
    a: &BTreeMap<K, V>,
    show_key: impl Fn(&K) -> String,
    show: impl Fn(&V) -> String,
    out: &mut Vec<String>,
) {
    let ek: BTreeSet<&K> = e.keys().collect();
    let ak: BTreeSet<&K> = a.keys().collect();
    diff_sets(label, &ek, &ak, |k| show_key(k), out);
    let changed: Vec<(&K, &V, &V)> =
        e.iter().filter_map(|(k, v)| a.get(k).filter(|w| *w != v).map(|w| (k, v, w))).collect();
    for (k, v, w) in changed.iter().take(MAX_ITEMS_NAMED) {
        out.push(format!("{label} {}: expected {}, actual {}", show_key(k), show(v), show(w)));
    }
    if changed.len() > MAX_ITEMS_NAMED {
        out.push(format!("{label}: {} more entries differ", changed.len() - MAX_ITEMS_NAMED));
    }
}

fn diff_zset(e: &[(Bytes, f64)], a: &[(Bytes, f64)], out: &mut Vec<String>) {
    let as_map = |z: &[(Bytes, f64)]| z.iter().cloned().collect::<BTreeMap<Bytes, f64>>();
    let (em, am) = (as_map(e), as_map(a));
    if am.len() != a.len() {
        out.push(format!("value: actual repeats members ({} items, {} distinct)", a.len(), am.len()));
    }
    let before = out.len();
    // f64 equality: -0.0 == 0.0, inf == inf; NaN cannot occur in a zset.
    diff_maps("score", &em, &am, |m| show_bytes(m), |s| score_to_json(*s).to_string(), out);
    if out.len() == before {
        let members = |z: &[(Bytes, f64)]| z.iter().map(|(m, _)| m.clone()).collect::<Vec<_>>();
        diff_seq("order", &members(e), &members(a), |m| show_bytes(m), out);
    }
}

fn show_entry(e: &StreamEntry) -> String {
    let fields: Vec<String> = e.fields.iter().map(|(f, v)| format!("{}={}", show_bytes(f), show_bytes(v))).collect();
    let mut s = format!("{} {{{}}}", e.id, fields.join(" "));
    if s.chars().count() > 100 {
        s = s.chars().take(100).collect::<String>() + "…";
    }
    s
}

fn diff_stream(e: &Stream, a: &Stream, out: &mut Vec<String>) {
    diff_seq("entries", &e.entries, &a.entries, show_entry, out);
    if e.length != a.length {
        out.push(format!("length: expected {}, actual {}", e.length, a.length));
    }
    if e.last_id != a.last_id {
        out.push(format!("last_id: expected {}, actual {}", e.last_id, a.last_id));
    }
    let (eg, ag) = (groups_by_name(e), groups_by_name(a));
    let (en, an): (BTreeSet<&Bytes>, BTreeSet<&Bytes>) = (eg.keys().collect(), ag.keys().collect());
    diff_sets("groups", &en, &an, |n| show_bytes(n), out);
    for (name, x) in &eg {
        if let Some(y) = ag.get(name) {
            diff_group(&format!("group {}", show_bytes(name)), x, y, out);
        }
    }
    match (&e.idmp, &a.idmp) {
        (Some(x), Some(y)) => diff_idmp(x, y, out),
        (None, None) => {}
        (x, y) => {
            let show = |i: &Option<Idmp>| if i.is_some() { "IDMP state" } else { "none" };
            out.push(format!("idmp: expected {}, actual {}", show(x), show(y)));
        }
    }
}

fn diff_idmp(e: &Idmp, a: &Idmp, out: &mut Vec<String>) {
    let figures = [
        ("duration_s", e.duration_s, a.duration_s),
        ("max_entries", e.max_entries, a.max_entries),
        ("iids_added", e.iids_added, a.iids_added),
        ("iids_duplicates", e.iids_duplicates, a.iids_duplicates),
    ];
    for (name, x, y) in figures {
        if x != y {
            out.push(format!("idmp {name}: expected {x}, actual {y}"));
        }
    }
    let by_pid = |i: &Idmp| i.producers.iter().map(|p| (p.pid.clone(), p.entries.clone())).collect::<BTreeMap<_, _>>();
    let show = |entries: &Vec<(Bytes, StreamId)>| {
        let items: Vec<String> = entries.iter().map(|(iid, id)| format!("{}={id}", show_bytes(iid))).collect();
        format!("[{}]", items.join(" "))
    };
    diff_maps("idmp producer", &by_pid(e), &by_pid(a), |p| show_bytes(p), show, out);
}

fn groups_by_name(s: &Stream) -> BTreeMap<Bytes, &Group> {
    s.groups.iter().map(|g| (g.name.clone(), g)).collect()
}

fn diff_group(label: &str, e: &Group, a: &Group, out: &mut Vec<String>) {
    if e.last_id != a.last_id {
        out.push(format!("{label} last_id: expected {}, actual {}", e.last_id, a.last_id));
    }
    if e.entries_read != a.entries_read {
        let show = |v: Option<u64>| v.map_or_else(|| "null".to_owned(), |n| n.to_string());
        out.push(format!("{label} entries_read: expected {}, actual {}", show(e.entries_read), show(a.entries_read)));
    }
    let pel = |g: &Group| {
        g.pending
            .iter()
            .map(|p| (p.id, (p.consumer.clone(), p.delivery_count)))
            .collect::<BTreeMap<StreamId, (Bytes, u64)>>()
    };
    diff_maps(
        &format!("{label} pending"),
        &pel(e),
        &pel(a),
        StreamId::to_string,
        |(c, n)| format!("{} delivered {n}x", show_bytes(c)),
        out,
    );
    let cons = |g: &Group| g.consumers.iter().cloned().collect::<BTreeSet<Bytes>>();
    diff_sets(&format!("{label} consumers"), &cons(e), &cons(a), |c| show_bytes(c), out);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recs(lines: &[&str]) -> Vec<Json> {
        lines.iter().map(|l| serde_json::from_str(l).expect("test JSON")).collect()
    }

    fn differs(expected: &[&str], actual: &[&str]) -> String {
        compare(&recs(expected), &recs(actual)).expect_err("a difference must be reported")
    }

    const HASH_OBJ: &str = r#"{"db":0,"key":"h","type":"hash","expire_at_ms":null,"value":{"a":"1","b":"2"},"field_expire_at_ms":{"a":5}}"#;
    const HASH_PAIRS: &str = r#"{"db":0,"key":"h","type":"hash","expire_at_ms":null,"value":[["b","2"],["a","1"]],"field_expire_at_ms":[["a",5]]}"#;
    const STREAM: &str = r#"{"db":0,"key":"x","type":"stream","expire_at_ms":null,"value":{"entries":[{"id":"1-0","fields":[["f","v"]]}],"length":1,"last_id":"1-0","groups":[{"name":"g","last_id":"1-0","entries_read":1,"pending":[{"id":"1-0","consumer":"c","delivery_count":1}],"consumers":[{"name":"c"}]}]}}"#;

    #[test]
    fn equal_records_in_other_allowed_forms_match() {
        // hash as object or pairs, set in any order, score forms, base64 of UTF-8
        let e = [
            HASH_OBJ,
            r#"{"db":0,"key":"s","type":"set","expire_at_ms":null,"value":["a","b"]}"#,
            r#"{"db":0,"key":"z","type":"zset","expire_at_ms":7,"value":[["n",-0.0],["i","inf"]]}"#,
            r#"{"db":1,"key":"k","type":"string","expire_at_ms":null,"value":"hi"}"#,
            STREAM,
        ];
        let a = [
            r#"{"db":1,"key":{"base64":"aw=="},"type":"string","value":{"base64":"aGk="}}"#,
            r#"{"db":0,"key":"z","type":"zset","expire_at_ms":7,"value":[["n",0],["i","+inf"]]}"#,
            STREAM,
            r#"{"db":0,"key":"s","type":"set","expire_at_ms":null,"value":["b","a"]}"#,
            HASH_PAIRS,
        ];
        assert_eq!(compare(&recs(&e), &recs(&a)), Ok(()));
    }

    #[test]
    fn reports_missing_extra_and_type_changes() {
        let k1 = r#"{"db":0,"key":"one","type":"string","expire_at_ms":null,"value":"1"}"#;
        let k2 = r#"{"db":0,"key":"two","type":"string","expire_at_ms":null,"value":"2"}"#;
        let k2_list = r#"{"db":0,"key":"two","type":"list","expire_at_ms":null,"value":["2"]}"#;
        let k3 = r#"{"db":3,"key":"three","type":"string","expire_at_ms":null,"value":"3"}"#;
        let msg = differs(&[k1, k2], &[k2_list, k3]);
        assert!(msg.starts_with("3 of 3 keys differ"), "{msg}");
        assert!(msg.contains(r#"db 0 key "one": missing from actual"#), "{msg}");
        assert!(msg.contains(r#"db 0 key "two": type: expected string, actual list"#), "{msg}");
        assert!(msg.contains(r#"db 3 key "three": not expected"#), "{msg}");
    }

    #[test]
    fn same_key_in_another_db_is_another_key() {
        let a = r#"{"db":0,"key":"k","type":"string","expire_at_ms":null,"value":"v"}"#;
        let b = r#"{"db":1,"key":"k","type":"string","expire_at_ms":null,"value":"v"}"#;
        let msg = differs(&[a], &[b]);
        assert!(msg.contains("db 0 key \"k\": missing") && msg.contains("db 1 key \"k\": not expected"), "{msg}");
    }

    #[test]
    fn reports_value_and_expiry_differences() {
        let msg = differs(
            &[r#"{"db":0,"key":"k","type":"string","expire_at_ms":100,"value":"abc"}"#],
            &[r#"{"db":0,"key":"k","type":"string","expire_at_ms":null,"value":{"base64":"/w=="}}"#],
        );
        assert!(msg.contains("expire_at_ms: expected 100, actual null"), "{msg}");
        assert!(msg.contains(r#"value: expected "abc", actual {"base64":"/w=="}"#), "{msg}");
    }

    #[test]
    fn list_order_matters() {
        let msg = differs(
            &[r#"{"db":0,"key":"l","type":"list","expire_at_ms":null,"value":["a","b","c"]}"#],
            &[r#"{"db":0,"key":"l","type":"list","expire_at_ms":null,"value":["a","c","b"]}"#],
        );
        assert!(msg.contains(r#"value[1]: expected "b", actual "c""#), "{msg}");
        let msg = differs(
            &[r#"{"db":0,"key":"l","type":"list","expire_at_ms":null,"value":["a"]}"#],
            &[r#"{"db":0,"key":"l","type":"list","expire_at_ms":null,"value":["a","x"]}"#],
        );
        assert!(msg.contains("expected 1 items, actual 2") && msg.contains("value[1]: expected <end>"), "{msg}");
    }

    #[test]
    fn set_members_are_compared() {
        let msg = differs(
            &[r#"{"db":0,"key":"s","type":"set","expire_at_ms":null,"value":["a","b"]}"#],
            &[r#"{"db":0,"key":"s","type":"set","expire_at_ms":null,"value":["a","c"]}"#],
        );
        assert!(msg.contains(r#"value: 1 missing from actual, e.g. "b""#), "{msg}");
        assert!(msg.contains(r#"value: 1 not expected, e.g. "c""#), "{msg}");
    }

    #[test]
    fn zset_scores_and_order() {
        let e = r#"{"db":0,"key":"z","type":"zset","expire_at_ms":null,"value":[["a",1.0],["b",2.0]]}"#;
        let msg =
            differs(&[e], &[r#"{"db":0,"key":"z","type":"zset","expire_at_ms":null,"value":[["a",1.0],["b","inf"]]}"#]);
        assert!(msg.contains(r#"score "b": expected 2.0, actual "inf""#), "{msg}");
        let msg =
            differs(&[e], &[r#"{"db":0,"key":"z","type":"zset","expire_at_ms":null,"value":[["b",2.0],["a",1.0]]}"#]);
        assert!(msg.contains(r#"order[0]: expected "a", actual "b""#), "{msg}");
    }

    #[test]
    fn hash_values_and_field_ttls() {
        let changed = r#"{"db":0,"key":"h","type":"hash","expire_at_ms":null,"value":[["a","1"],["b","3"]],"field_expire_at_ms":{"b":5}}"#;
        let msg = differs(&[HASH_OBJ], &[changed]);
        assert!(msg.contains(r#"value "b": expected "2", actual "3""#), "{msg}");
        assert!(msg.contains(r#"field_expire_at_ms: 1 missing from actual, e.g. "a""#), "{msg}");
        assert!(msg.contains(r#"field_expire_at_ms: 1 not expected, e.g. "b""#), "{msg}");
        let no_ttls = r#"{"db":0,"key":"h","type":"hash","expire_at_ms":null,"value":{"a":"1","b":"2"}}"#;
        assert!(differs(&[HASH_OBJ], &[no_ttls]).contains("field_expire_at_ms"));
    }

    #[test]
    fn stream_details_are_compared() {
        let edit = |from: &str, to: &str| STREAM.replacen(from, to, 1);
        let cases = [
            (
                edit(r#""delivery_count":1"#, r#""delivery_count":2"#),
                r#"group "g" pending 1-0: expected "c" delivered 1x, actual "c" delivered 2x"#,
            ),
            (
                edit(r#""entries_read":1"#, r#""entries_read":null"#),
                r#"group "g" entries_read: expected 1, actual null"#,
            ),
            (
                edit(r#""consumers":[{"name":"c"}]"#, r#""consumers":[]"#),
                r#"group "g" consumers: 1 missing from actual"#,
            ),
            (edit(r#""last_id":"1-0","groups""#, r#""last_id":"9-0","groups""#), "last_id: expected 1-0, actual 9-0"),
            (edit(r#"[["f","v"]]"#, r#"[["f","w"]]"#), "entries[0]: expected 1-0"),
            (edit(r#""name":"g""#, r#""name":"h""#), r#"groups: 1 missing from actual, e.g. "g""#),
            (edit(r#"}]}]}}"#, &format!("}}]}}]{IDMP}}}}}")), "idmp: expected none, actual IDMP state"),
        ];
        for (actual, want) in cases {
            let msg = differs(&[STREAM], &[actual.as_str()]);
            assert!(msg.contains(want), "want {want:?} in:\n{msg}");
        }
    }

    const IDMP: &str = r#","idmp":{"duration_s":100,"max_entries":5,"producers":[{"pid":"p","entries":[{"iid":"i1","id":"1-0"}]}],"iids_added":1,"iids_duplicates":0}"#;

    #[test]
    fn stream_idmp_state_is_compared() {
        let with = STREAM.replacen("}]}]}}", &format!("}}]}}]{IDMP}}}}}"), 1);
        assert_eq!(compare(&recs(&[&with]), &recs(&[&with])), Ok(()));
        let cases = [
            (
                with.replacen(r#""duration_s":100"#, r#""duration_s":200"#, 1),
                "idmp duration_s: expected 100, actual 200",
            ),
            (with.replacen(r#""iids_duplicates":0"#, r#""iids_duplicates":2"#, 1), "idmp iids_duplicates"),
            (with.replacen(r#""id":"1-0"}]}]"#, r#""id":"2-0"}]}]"#, 1), r#"idmp producer "p": expected ["i1"=1-0]"#),
            (with.replacen(r#""pid":"p""#, r#""pid":"q""#, 1), r#"idmp producer: 1 missing from actual, e.g. "p""#),
            (STREAM.to_owned(), "idmp: expected IDMP state, actual none"),
        ];
        for (actual, want) in cases {
            let msg = differs(&[&with], &[actual.as_str()]);
            assert!(msg.contains(want), "want {want:?} in:\n{msg}");
        }
    }

    #[test]
    fn long_reports_are_cut() {
        let e: Vec<String> = (0..20)
            .map(|i| format!(r#"{{"db":0,"key":"k{i:02}","type":"string","expire_at_ms":null,"value":"v"}}"#))
            .collect();
        let e: Vec<&str> = e.iter().map(String::as_str).collect();
        let msg = differs(&e, &[]);
        assert!(msg.starts_with("20 of 20 keys differ"), "{msg}");
        assert!(msg.contains("... and 12 more keys"), "{msg}");
        assert_eq!(msg.lines().count(), 1 + MAX_KEYS_SHOWN + 1, "{msg}");
    }

    #[test]
    fn schema_errors_and_duplicates_are_reported() {
        let ok = r#"{"db":0,"key":"k","type":"string","expire_at_ms":null,"value":"v"}"#;
        let msg = differs(&[ok], &[r#"{"db":0,"key":"k","type":"string"}"#]);
        assert!(msg.contains("actual record 1") && msg.contains("missing \"value\""), "{msg}");
        let msg = differs(&[ok], &[ok, ok]);
        assert!(msg.contains("actual has db 0 key \"k\" more than once"), "{msg}");
    }
}
