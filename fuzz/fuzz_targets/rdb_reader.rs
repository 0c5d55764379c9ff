//! The whole-file streaming reader over arbitrary bytes, with a visitor that looks at
//! every callback's data. The reader must return (Ok or Err) without panicking, and an
//! error's offset must lie inside the input. A second pass skips every key (the
//! reader then checks some values without decoding them) and must reach the same
//! verdict at the same offset.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdb_parser::{
    Checksum, Container, Header, KeyEnd, KeyStart, Limits, ModuleAux, ModuleOp, ModuleValue, RdbReader, ReaderOptions,
    StreamEntryRef, StreamGroup, StreamId, StreamMeta, Visit, VisitError, VisitResult, Visitor,
};

/// Adds up lengths and values so that every callback reads what it was given.
#[derive(Default)]
struct Touch {
    bytes: u64,
    calls: u64,
    in_key: bool,
    /// Answer `Visit::Skip` to every key.
    skip: bool,
}

impl Touch {
    fn add(&mut self, b: &[u8]) {
        self.calls += 1;
        // Read every byte, not just the length, so that bad slices would show up.
        self.bytes = self.bytes.wrapping_add(b.iter().map(|&x| u64::from(x)).sum::<u64>()).wrapping_add(b.len() as u64);
    }

    fn ops(&mut self, ops: &[ModuleOp]) {
        for op in ops {
            match op {
                ModuleOp::SInt(v) | ModuleOp::UInt(v) => self.bytes = self.bytes.wrapping_add(*v),
                ModuleOp::Float(f) => self.bytes = self.bytes.wrapping_add(f.to_bits().into()),
                ModuleOp::Double(d) => self.bytes = self.bytes.wrapping_add(d.to_bits()),
                ModuleOp::String(s) => self.add(s),
            }
        }
    }

    fn module(&mut self, m: &ModuleValue) {
        self.add(m.name.as_bytes());
        self.bytes = self.bytes.wrapping_add(m.module_id).wrapping_add(m.encver.into());
        self.ops(&m.ops);
    }

    fn id(&mut self, id: StreamId) {
        self.bytes = self.bytes.wrapping_add(id.ms).wrapping_add(id.seq);
    }

    fn element(&mut self, b: &[u8]) {
        assert!(self.in_key, "element delivered outside key_start/key_end");
        self.add(b);
    }
}

impl Visitor for Touch {
    fn header(&mut self, h: &Header) -> VisitResult {
        self.add(h.magic.as_bytes());
        self.bytes = self.bytes.wrapping_add(h.version.into());
        Ok(())
    }
    fn aux(&mut self, key: &[u8], value: &[u8]) -> VisitResult {
        self.add(key);
        self.add(value);
        Ok(())
    }
    fn select_db(&mut self, db: u64) -> VisitResult {
        self.bytes = self.bytes.wrapping_add(db);
        Ok(())
    }
    fn resize_db(&mut self, keys: u64, expires: u64) -> VisitResult {
        self.bytes = self.bytes.wrapping_add(keys).wrapping_add(expires);
        Ok(())
    }
    fn slot_info(&mut self, slot: u64, keys: u64, expires: u64) -> VisitResult {
        self.bytes = self.bytes.wrapping_add(slot).wrapping_add(keys).wrapping_add(expires);
        Ok(())
    }
    fn slot_import(&mut self, job: &[u8], ranges: &[(u64, u64)]) -> VisitResult {
        self.add(job);
        for (a, b) in ranges {
            self.bytes = self.bytes.wrapping_add(*a).wrapping_add(*b);
        }
        Ok(())
    }
    fn function(&mut self, code: &[u8]) -> VisitResult {
        self.add(code);
        Ok(())
    }
    fn module_aux(&mut self, aux: &ModuleAux) -> VisitResult {
        self.module(&aux.value);
        self.bytes = self.bytes.wrapping_add(aux.when);
        Ok(())
    }
    fn key_start(&mut self, k: &KeyStart<'_>) -> Result<Visit, VisitError> {
        assert!(!self.in_key, "key_start inside a key");
        self.in_key = true;
        self.add(k.key);
        self.bytes = self
            .bytes
            .wrapping_add(k.db)
            .wrapping_add(k.offset)
            .wrapping_add(k.len.unwrap_or(0))
            .wrapping_add(k.expire_at_ms.unwrap_or(0) as u64)
            .wrapping_add(k.lru_idle_s.unwrap_or(0))
            .wrapping_add(k.lfu_freq.unwrap_or(0).into());
        for m in k.meta {
            self.bytes = self.bytes.wrapping_add(m.class_spec.into());
            self.ops(&m.ops);
        }
        let _ = k.rdb_type.kind();
        Ok(if self.skip { Visit::Skip } else { Visit::Value })
    }
    fn string_chunk(&mut self, chunk: &[u8]) -> VisitResult {
        self.element(chunk);
        Ok(())
    }
    fn array_insert_idx(&mut self, insert_idx: Option<u64>) -> VisitResult {
        assert!(self.in_key, "array cursor outside a key");
        self.bytes = self.bytes.wrapping_add(insert_idx.unwrap_or(1));
        Ok(())
    }
    fn array_element(&mut self, index: u64, value: &[u8]) -> VisitResult {
        self.bytes = self.bytes.wrapping_add(index);
        self.element(value);
        Ok(())
    }
    fn gcra(&mut self, tat_us: u64) -> VisitResult {
        assert!(self.in_key, "GCRA value outside a key");
        self.bytes = self.bytes.wrapping_add(tat_us);
        Ok(())
    }
    fn hash_template(&mut self, id: u64, fields: &[&[u8]]) -> VisitResult {
        assert!(!self.in_key, "hash template inside a key");
        self.bytes = self.bytes.wrapping_add(id);
        fields.iter().for_each(|f| self.add(f));
        Ok(())
    }
    fn list_item(&mut self, item: &[u8]) -> VisitResult {
        self.element(item);
        Ok(())
    }
    fn set_member(&mut self, member: &[u8]) -> VisitResult {
        self.element(member);
        Ok(())
    }
    fn zset_member(&mut self, member: &[u8], score: f64) -> VisitResult {
        assert!(!score.is_nan(), "NaN score delivered");
        self.element(member);
        self.bytes = self.bytes.wrapping_add(score.to_bits());
        Ok(())
    }
    fn hash_field(&mut self, field: &[u8], value: &[u8], expire_at_ms: Option<i64>) -> VisitResult {
        self.element(field);
        self.element(value);
        self.bytes = self.bytes.wrapping_add(expire_at_ms.unwrap_or(0) as u64);
        Ok(())
    }
    fn stream_node(&mut self, master_id: StreamId, listpack_bytes: usize) -> VisitResult {
        self.id(master_id);
        self.bytes = self.bytes.wrapping_add(listpack_bytes as u64);
        Ok(())
    }
    fn stream_entry(&mut self, entry: &StreamEntryRef<'_>) -> VisitResult {
        self.id(entry.id);
        let n = entry.len();
        let mut seen = 0;
        for (f, v) in entry.fields() {
            self.element(f);
            self.element(v);
            seen += 1;
        }
        assert_eq!(seen, n, "stream entry field count");
        assert_eq!(entry.is_empty(), n == 0);
        Ok(())
    }
    fn stream_meta(&mut self, meta: &StreamMeta) -> VisitResult {
        self.id(meta.last_id);
        self.bytes = self.bytes.wrapping_add(meta.length);
        if let Some(idmp) = &meta.idmp {
            for p in &idmp.producers {
                self.add(&p.pid);
                for (iid, id) in &p.entries {
                    self.add(iid);
                    self.id(*id);
                }
            }
        }
        Ok(())
    }
    fn stream_group(&mut self, g: &StreamGroup) -> VisitResult {
        self.add(&g.name);
        self.id(g.last_id);
        for p in &g.pending {
            self.id(p.id);
            if let Some(c) = &p.consumer {
                self.add(c);
            }
        }
        for c in &g.consumers {
            self.add(&c.name);
            for id in &c.pending {
                self.id(*id);
            }
        }
        g.nacked.iter().for_each(|id| self.id(*id));
        Ok(())
    }
    fn module_value(&mut self, value: &ModuleValue) -> VisitResult {
        self.module(value);
        Ok(())
    }
    fn container(&mut self, c: &Container) -> VisitResult {
        self.bytes = self.bytes.wrapping_add(c.bytes as u64).wrapping_add(c.entries as u64);
        Ok(())
    }
    fn key_end(&mut self, end: &KeyEnd) -> VisitResult {
        assert!(self.in_key, "key_end without key_start");
        self.in_key = false;
        self.bytes = self.bytes.wrapping_add(end.elements).wrapping_add(end.record_bytes);
        Ok(())
    }
    fn end(&mut self, checksum: Checksum) -> VisitResult {
        if let Checksum::Ok(c) = checksum {
            self.bytes = self.bytes.wrapping_add(c);
        }
        Ok(())
    }
}

const OPTIONS: ReaderOptions = ReaderOptions {
    buffer_bytes: 4096,
    limits: Limits { max_blob_bytes: 1 << 20, max_template_bytes: 1 << 20 },
    raw_values: false,
    relaxed: false,
    defer_checks: false,
};

fuzz_target!(|data: &[u8]| {
    let mut touch = Touch::default();
    let mut reader = RdbReader::with_options(data, OPTIONS);
    match reader.read_all(&mut touch) {
        Ok(()) => {
            assert!(!touch.in_key, "read_all returned inside a key");
            assert!(reader.offset() <= data.len() as u64, "offset past the input");
            let _ = reader.at_eof();
        }
        Err(err) => {
            assert!(
                err.offset() <= data.len() as u64,
                "error offset {} beyond input length {}: {err}",
                err.offset(),
                data.len()
            );
            // Formatting the error must not panic either.
            let _ = err.to_string();
        }
    }
    std::hint::black_box(touch.bytes);

    let full = RdbReader::with_options(data, OPTIONS).read_all(&mut Touch::default()).map_err(|e| e.offset());
    let skipped = RdbReader::with_options(data, OPTIONS)
        .read_all(&mut Touch { skip: true, ..Default::default() })
        .map_err(|e| e.offset());
    assert_eq!(full, skipped, "skipping every key changed the verdict");
});
