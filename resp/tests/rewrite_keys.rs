//! `key_index` finds the key in every command the rewrite generates for a real dump
//! (streams with consumer groups included), so a command can be sent under another name.

use std::collections::HashSet;
use std::path::Path;

use rdb_parser::{KeyStart, RdbReader, Visit, VisitError, Visitor};
use resp::rewrite::{key_index, CommandSink, RespWriter};

#[derive(Default)]
struct Commands(Vec<Vec<Vec<u8>>>);

impl CommandSink for Commands {
    fn command(&mut self, args: &[&[u8]]) -> std::io::Result<()> {
        self.0.push(args.iter().map(|a| a.to_vec()).collect());
        Ok(())
    }
}

#[derive(Default)]
struct Keys(HashSet<Vec<u8>>);

impl Visitor for Keys {
    fn key_start(&mut self, k: &KeyStart<'_>) -> Result<Visit, VisitError> {
        self.0.insert(k.key.to_vec());
        Ok(Visit::Skip)
    }
}

#[test]
fn every_generated_command_names_its_key() -> anyhow::Result<()> {
    let dump = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/redis-7.0.15/dump.rdb");
    let mut keys = Keys::default();
    RdbReader::new(std::fs::File::open(&dump)?).read_all(&mut keys)?;
    let mut commands = Commands::default();
    RdbReader::new(std::fs::File::open(&dump)?).read_all(&mut RespWriter::new(&mut commands))?;
    let commands = commands.0;
    let mut names = HashSet::new();
    for args in &commands {
        let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
        names.insert(String::from_utf8_lossy(&args[0]).into_owned());
        match key_index(&refs) {
            Some(at) => assert!(keys.0.contains(&args[at]), "{:?}: argument {at} is not a key", refs),
            None => assert!(matches!(&args[0][..], b"SELECT" | b"FUNCTION"), "{refs:?}"),
        }
    }
    for expected in ["XGROUP", "XCLAIM", "XSETID", "PEXPIREAT", "HMSET", "ZADD", "SADD", "RPUSH", "SET"] {
        assert!(names.contains(expected), "the dump exercises {expected}: {names:?}");
    }
    Ok(())
}
