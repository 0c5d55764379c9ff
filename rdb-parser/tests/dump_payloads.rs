//! `DumpEncoder::stored_values`: values the target loads as stored are copied without
//! visiting their elements; the payloads must be the very bytes an encoder that visits
//! every element produces, on every fixture dump, for its own version. For an older
//! target, where lists and streams are rewritten from their stored bytes (node by node,
//! nodes copied), the payloads must hold the same values.

mod common;

use rdb_parser::writer::{DumpEncoder, DumpedKey, PayloadSink};
use rdb_parser::{Entries, Entry, RdbReader, ReaderOptions, Target, Value, VisitResult};

#[derive(Default)]
struct Collect(Vec<(Vec<u8>, Vec<u8>)>);

impl PayloadSink for Collect {
    fn key(&mut self, k: &DumpedKey<'_>) -> VisitResult {
        self.0.push((k.key.to_vec(), k.payload.to_vec()));
        Ok(())
    }
}

fn payloads(data: &[u8], target: &Target, stored: bool) -> rdb_parser::Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut r = RdbReader::with_options(data, ReaderOptions { raw_values: true, ..Default::default() });
    let encoder = DumpEncoder::new(target.clone(), Collect::default()).uncompressed();
    let mut v = if stored { encoder.stored_values() } else { encoder };
    r.read_all(&mut v)?;
    Ok(v.into_inner().0)
}

#[test]
fn copied_values_give_the_payloads_of_visited_ones() {
    let files = common::fixture_dumps();
    for f in &files {
        let data = std::fs::read(f).expect("read dump");
        let Ok(header) = RdbReader::new(&data[..]).header() else { continue };
        let own = Target::for_version(header.version, header.dialect == rdb_parser::Dialect::Valkey);
        for target in own.into_iter().chain(Target::named("redis-6.2")) {
            let visited = payloads(&data, &target, false);
            let copied = payloads(&data, &target, true);
            let own_version = target.version() == header.version;
            match (visited, copied) {
                (Ok(a), Ok(b)) if own_version => assert_eq!(a, b, "{} for {}", f.display(), target.name),
                (Ok(a), Ok(b)) => assert_eq!(
                    values(&a, target.version()),
                    values(&b, target.version()),
                    "{} for {}",
                    f.display(),
                    target.name
                ),
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{}", f.display()),
                (a, b) => panic!("{} for {}: {a:?} vs {b:?}", f.display(), target.name),
            }
        }
    }
}

/// The keys and values the payloads hold, read back from a file of RDB `version` made
/// of them (payloads without key metadata: type byte, value, version, CRC64).
fn values(payloads: &[(Vec<u8>, Vec<u8>)], version: u32) -> Vec<(Vec<u8>, Value)> {
    let mut file = format!("REDIS{version:04}").into_bytes();
    file.extend_from_slice(&[0xfe, 0]);
    for (key, payload) in payloads.iter().filter(|(_, p)| !p.is_empty()) {
        let body = &payload[..payload.len() - 10];
        file.push(body[0]);
        common::put_len(&mut file, key.len() as u64);
        file.extend_from_slice(key);
        file.extend_from_slice(&body[1..]);
    }
    // End of file, checksum left out (zero).
    file.push(0xff);
    file.extend_from_slice(&[0; 8]);
    let entries: Vec<Entry> = Entries::new(RdbReader::new(&file[..])).collect::<Result<_, _>>().expect("payloads read");
    entries.into_iter().map(|e| (e.key, e.value)).collect()
}

#[test]
fn copying_needs_a_reader_that_hands_over_stored_values() {
    // RDB 11, one set stored as a listpack (type 20): `{"m"}`.
    let lp = [10, 0, 0, 0, 1, 0, 0x81, b'm', 2, 0xff];
    let mut file = b"REDIS0011\xfe\x00\x14\x01s".to_vec();
    file.push(lp.len() as u8);
    file.extend_from_slice(&lp);
    file.extend_from_slice(b"\xff\0\0\0\0\0\0\0\0");
    let target = Target::for_version(11, false).expect("target");
    let mut v = DumpEncoder::new(target, Collect::default()).stored_values();
    let err = RdbReader::new(&file[..]).read_all(&mut v).expect_err("no stored values to copy");
    assert!(err.to_string().contains("ReaderOptions::raw_values"), "{err}");
}
