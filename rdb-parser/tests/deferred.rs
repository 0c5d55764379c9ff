//! Deferred checks (`ReaderOptions::defer_checks`) must not change what a read reports:
//! on every fixture dump, intact, cut short and with damaged bytes, a read that checks
//! compact values on a second thread fails with the same error (message, offset, key)
//! as an ordinary read, and counts the same keys and empty collections; a read that
//! copies stored values also gets the same bytes.

mod common;

use rdb_parser::fuzzing::{copy_read_verdict, skip_read_verdict};

fn same(bytes: &[u8], what: &str) {
    assert_eq!(skip_read_verdict(bytes, false), skip_read_verdict(bytes, true), "{what}, skipping");
    assert_eq!(copy_read_verdict(bytes, false), copy_read_verdict(bytes, true), "{what}, copying");
}

#[test]
fn deferred_checks_report_what_an_ordinary_read_reports() {
    let files = common::fixture_dumps();
    for f in &files {
        let name = f.display();
        let data = std::fs::read(f).expect("read dump");
        same(&data, &format!("{name}: intact"));
        assert!(skip_read_verdict(&data, true).is_ok(), "{name} reads");
        assert!(copy_read_verdict(&data, true).is_ok_and(|(c, _)| c.keys > 0), "{name} copies");
        common::for_each_damaged(&data, 150, 300, 0x2545_f491_4f6c_dd1d, |what, bytes, _| {
            same(bytes, &format!("{name}: {what}"));
        });
    }
}

/// An empty ziplist: `zlbytes 11, zltail 10, zllen 0, 0xFF`.
fn empty_ziplist() -> Vec<u8> {
    let mut z = 11u32.to_le_bytes().to_vec();
    z.extend_from_slice(&10u32.to_le_bytes());
    z.extend_from_slice(&[0, 0, 0xff]);
    z
}

/// `blob` as an LZF string made of literal runs only.
fn lzf_literal(blob: &[u8]) -> Vec<u8> {
    let packed: Vec<u8> =
        blob.chunks(32).flat_map(|c| std::iter::once(c.len() as u8 - 1).chain(c.iter().copied())).collect();
    let mut s = vec![0xc3];
    common::put_len(&mut s, packed.len() as u64);
    common::put_len(&mut s, blob.len() as u64);
    s.extend_from_slice(&packed);
    s
}

#[test]
fn copied_values_say_whether_they_are_empty() {
    use common::{listpack, Lp, Rdb};
    let empty_lp = listpack(&[]);
    let one_int = listpack(&[Lp::I(7)]);
    let field = listpack(&[Lp::S(b"field"), Lp::S(b"value")]);
    // (type, value bytes, empty) in RDB 11.
    let keys: Vec<(u8, Vec<u8>, bool)> = vec![
        (20, Rdb::new("REDIS0011").str(&empty_lp).buf[9..].to_vec(), true),
        (20, Rdb::new("REDIS0011").str(&one_int).buf[9..].to_vec(), false),
        (16, Rdb::new("REDIS0011").str(&field).buf[9..].to_vec(), false),
        (16, lzf_literal(&field), false),
        (16, lzf_literal(&empty_lp), true),
        (11, Rdb::new("REDIS0011").str(&[2, 0, 0, 0, 1, 0, 0, 0, 5, 0]).buf[9..].to_vec(), false),
        (2, vec![0], true),
        (2, Rdb::new("REDIS0011").len(1).str(b"m").buf[9..].to_vec(), false),
        (18, vec![0], true),
        (18, Rdb::new("REDIS0011").len(1).len(2).str(&empty_lp).buf[9..].to_vec(), true),
        (18, Rdb::new("REDIS0011").len(2).len(2).str(&empty_lp).len(2).str(&one_int).buf[9..].to_vec(), false),
        (18, Rdb::new("REDIS0011").len(1).len(1).str(b"plain").buf[9..].to_vec(), false),
    ];
    let mut file = Rdb::new("REDIS0011").byte(0xfe).len(0);
    for (i, (t, value, _)) in keys.iter().enumerate() {
        file = file.byte(*t).str(format!("k{i}").as_bytes()).raw(value);
    }
    let file = file.finish();
    let want = keys.iter().filter(|k| k.2).count() as u64;
    let (counts, _) = copy_read_verdict(&file, true).expect("valid");
    assert_eq!((counts.keys, counts.empty), (keys.len() as u64, want));
    assert_eq!(copy_read_verdict(&file, false), copy_read_verdict(&file, true));

    // RDB 9: ziplists, and quicklists of them.
    let z = empty_ziplist();
    let file = Rdb::new("REDIS0009")
        .byte(0xfe)
        .len(0)
        .byte(13)
        .str(b"h")
        .str(&z)
        .byte(14)
        .str(b"l0")
        .len(0)
        .byte(14)
        .str(b"l1")
        .len(1)
        .str(&z)
        .byte(14)
        .str(b"l2")
        .len(1)
        .raw(&lzf_literal(&z))
        .finish();
    let (counts, _) = copy_read_verdict(&file, true).expect("valid");
    assert_eq!((counts.keys, counts.empty), (4, 4));
    assert_eq!(copy_read_verdict(&file, false), copy_read_verdict(&file, true));
}

/// Values whose headers state more than a copy's worth (elements, quicklist nodes; for
/// stored bytes see `defer::probe`) are read on the spot instead of copied for the checker: the verdicts
/// stay those of an ordinary read, intact, damaged late in the value and cut short.
#[test]
fn large_values_read_on_the_spot_report_the_same() {
    use common::Rdb;
    let members = 70_000;
    let mut set = Rdb::new("REDIS0011").len(members);
    for i in 0..members {
        set = set.str(format!("member:{i}").as_bytes());
    }
    let set = set.buf[9..].to_vec();
    let mut nodes = Rdb::new("REDIS0011").len(200);
    for _ in 0..200 {
        nodes = nodes.len(1).str(b"plain node");
    }
    let nodes = nodes.buf[9..].to_vec();
    let file = |set: &[u8]| {
        Rdb::new("REDIS0011")
            .byte(0xfe)
            .len(0)
            .byte(2)
            .str(b"set")
            .raw(set)
            .byte(18)
            .str(b"list")
            .raw(&nodes)
            .byte(0)
            .str(b"after")
            .str(b"v")
            .finish()
    };
    let intact = file(&set);
    same(&intact, "intact");
    assert_eq!(skip_read_verdict(&intact, true).map(|c| c.keys), Ok(3));
    // The last member repeats an early one: found only at the end of the big set.
    let mut repeated = set.clone();
    let last = repeated.len() - b"member:69999".len();
    repeated.truncate(last);
    repeated.extend_from_slice(b"member:10000");
    let repeated = file(&repeated);
    assert!(skip_read_verdict(&repeated, true).is_err());
    same(&repeated, "a member repeated at the end");
    for cut in [100, set.len() / 2, set.len() + 500, intact.len() - 1000, intact.len() - 20] {
        same(&intact[..cut], &format!("cut at {cut}"));
    }
}
