//! Values visited on worker threads (`RdbReader::read_fanned`, as `memory` reads) must
//! show a visitor exactly what an ordinary read shows, in the same order: on every
//! fixture dump, intact, cut short and with damaged bytes, the same callbacks with the
//! same arguments, or the same error (message, offset, key); also when some keys are
//! left out by a filter (they are still checked).

mod common;

use rdb_parser::fuzzing::fanned_read_verdict;

fn same(bytes: &[u8], what: &str, all_keys: bool) {
    assert_eq!(
        fanned_read_verdict(bytes, false, all_keys),
        fanned_read_verdict(bytes, true, all_keys),
        "{what}, all keys: {all_keys}"
    );
}

#[test]
fn fanned_reads_show_what_an_ordinary_read_shows() {
    let files = common::fixture_dumps();
    for f in &files {
        let name = f.display();
        let data = std::fs::read(f).expect("read dump");
        same(&data, &format!("{name}: intact"), true);
        same(&data, &format!("{name}: intact"), false);
        assert!(fanned_read_verdict(&data, true, true).is_ok_and(|(_, keys)| !keys.is_empty()), "{name} reads");
        common::for_each_damaged(&data, 40, 60, 0x9e37_79b9_7f4a_7c15, |what, bytes, i| {
            same(bytes, &format!("{name}: {what}"), i % 3 != 0);
        });
    }
}

#[test]
fn outputs_keep_file_order_across_many_batches() {
    use common::Rdb;
    // 20,000 strings: many batches, some visited on workers and some here; and a set
    // too large to copy between them, visited on the reading thread in its turn.
    let mut rdb = Rdb::new("REDIS0009").raw(&[0xfe, 0]);
    for i in 0..20_000u32 {
        rdb = rdb.byte(0).str(format!("k{i}").as_bytes()).str(&[b'a' + (i % 26) as u8; 100]);
        if i == 10_000 {
            rdb = rdb.byte(2).str(b"big").len(70_000);
            for m in 0..70_000u32 {
                rdb = rdb.str(format!("m{m}").as_bytes());
            }
        }
    }
    let data = rdb.finish();
    let (_, keys) = fanned_read_verdict(&data, true, true).expect("reads");
    let names: Vec<&str> = keys.iter().filter(|l| l.starts_with("key ")).map(String::as_str).collect();
    assert_eq!(names.len(), 20_001);
    assert!(names[10_001].contains("key: [98, 105, 103]"), "{}", names[10_001]);
    same(&data, "many keys", true);
    same(&data, "many keys", false);
}

/// Found by fuzzing: an LZF-compressed key name is longer in the batch than in the
/// file, so a later value can lie further into its batch than into the file; its file
/// offsets must still come out right (here in the error for a value cut short).
#[test]
fn compressed_key_names_do_not_shift_offsets() {
    use common::Rdb;
    // "a" then a back reference copying it 99 times: 100 bytes from 5.
    let name = [0xc3, 5, 0x40, 100, 0x00, b'a', 0xe0, 90, 0x00];
    let data = Rdb::new("REDIS0009").raw(&[0xfe, 0, 0]).raw(&name).str(b"v").byte(0).str(b"k").raw(&[10, b'x']).buf;
    let ordinary = fanned_read_verdict(&data, false, true);
    assert!(ordinary.as_ref().is_err_and(|e| e.starts_with("at 28:") && e.contains("a string value")), "{ordinary:?}");
    same(&data, "cut after a compressed key name", true);
}
