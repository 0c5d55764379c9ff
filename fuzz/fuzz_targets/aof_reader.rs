//! The AOF reader and the redis-check-aof walk over arbitrary bytes (RESP commands,
//! annotations, an RDB preamble): both must return without panicking, every command
//! handed out must lie inside the input with increasing offsets, error offsets must lie
//! inside the input, and the check's "ok up to" offset never passes the end.
#![no_main]

use std::path::Path;

use aof_tools::reader::{read_stream, Command, Handler, ReadOptions};
use aof_tools::{Position, Result};
use libfuzzer_sys::fuzz_target;
use rdb_parser::{Limits, NullVisitor, ReaderOptions};

struct Touch {
    len: u64,
    last: Option<u64>,
    bytes: usize,
    rdb: NullVisitor,
}

impl Handler for Touch {
    type Rdb = NullVisitor;
    fn rdb(&mut self) -> &mut NullVisitor {
        &mut self.rdb
    }
    fn command(&mut self, cmd: &Command<'_>) -> Result<()> {
        assert!(cmd.offset < self.len, "command at {} beyond {}", cmd.offset, self.len);
        assert!(self.last.is_none_or(|l| cmd.offset > l), "offsets must increase");
        self.last = Some(cmd.offset);
        assert!(!cmd.is_empty());
        self.bytes = self.bytes.wrapping_add(cmd.args().map(<[u8]>::len).sum::<usize>() + cmd.raw().len());
        let _ = cmd.position();
        Ok(())
    }
    fn annotation(&mut self, text: &[u8], at: &Position) -> Result<()> {
        assert!(at.offset < self.len);
        let _ = aof_tools::reader::timestamp(text);
        Ok(())
    }
}

fuzz_target!(|data: &[u8]| {
    let options = ReadOptions {
        max_command_bytes: 1 << 20,
        max_bulk: 1 << 20,
        rdb: ReaderOptions {
            buffer_bytes: 4096,
            limits: Limits { max_blob_bytes: 1 << 20, ..Limits::default() },
            ..ReaderOptions::default()
        },
        ..ReadOptions::default()
    };
    let mut h = Touch { len: data.len() as u64, last: None, bytes: 0, rdb: NullVisitor };
    if let Err(e) = read_stream(Path::new("fuzz"), data.to_vec(), true, &options, &mut h) {
        if let Some(at) = e.position() {
            assert!(at.offset <= data.len() as u64, "error offset {} beyond {}: {e}", at.offset, data.len());
        }
        let _ = e.to_string();
    }
    std::hint::black_box(h.bytes);
    if let Ok(Ok(f)) = aof_tools::check::check_bytes(data, Some(1_700_000_000)) {
        assert!(f.ok_up_to <= data.len() as u64, "ok_up_to {} beyond {}", f.ok_up_to, data.len());
    }
});
