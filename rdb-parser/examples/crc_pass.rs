//! The floor under `rdbkit verify`: read a file through a buffer of the reader's size
//! and CRC-64 every byte, nothing else. `bench/run.sh` times it next to `verify`.
//!
//!     cargo run --release -p rdb-parser --example crc_pass -- FILE

use std::io::Read;

use rdb_parser::crc64::Crc64;

fn main() -> std::io::Result<()> {
    let path = std::env::args_os().nth(1).ok_or_else(|| std::io::Error::other("usage: crc_pass FILE"))?;
    let mut file = std::fs::File::open(path)?;
    let mut buf = vec![0u8; rdb_parser::DEFAULT_BUFFER_BYTES];
    let (mut crc, mut bytes) = (Crc64::new(), 0u64);
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        crc.update(&buf[..n]);
        bytes += n as u64;
    }
    println!("{bytes} bytes, CRC-64 {:016x}", crc.value());
    Ok(())
}
