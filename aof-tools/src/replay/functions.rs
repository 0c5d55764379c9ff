//! Function libraries (FUNCTION LOAD / DELETE / FLUSH / RESTORE), and the script
//! commands that cannot be replayed from an AOF.

use rdb_parser::{Header, RdbReader, VisitResult, Visitor};

use super::args::{at_least, is};
use super::{Ctx, Fail, Outcome};
use crate::dataset::Dataset;

pub fn dispatch(cx: &mut Ctx, name: &[u8], argv: &[&[u8]]) -> Option<Outcome> {
    Some(match name {
        b"FUNCTION" => function(cx, argv),
        b"EVAL" | b"EVALSHA" | b"EVAL_RO" | b"EVALSHA_RO" | b"FCALL" | b"FCALL_RO" | b"SCRIPT" => {
            Err(Fail::Unsupported(
                "scripts in an AOF mean verbatim script replication (servers before 5.0, or \
             lua-replicate-commands no); rdbkit replays only their effects"
                    .into(),
            ))
        }
        _ => return None,
    })
}

/// The library name in the `#!<engine> name=<name>` first line.
pub fn library_name(code: &[u8]) -> Option<Vec<u8>> {
    let first = code.split(|&b| b == b'\n').next()?;
    let first = first.strip_prefix(b"#!")?;
    first.split(|&b| b == b' ').find_map(|w| w.strip_prefix(b"name=")).map(<[u8]>::to_vec)
}

/// Adds a library; with `replace` an existing one of the same name is replaced.
pub fn load(data: &mut Dataset, code: &[u8], replace: bool) -> Outcome {
    let name = library_name(code).ok_or_else(|| Fail::Reply("ERR Missing library metadata".into()))?;
    if !replace && data.functions.contains_key(&name) {
        return Err(Fail::Reply(format!("ERR Library '{}' already exists", String::from_utf8_lossy(&name))));
    }
    data.functions.insert(name, code.to_vec());
    Ok(())
}

struct Libraries(Vec<Vec<u8>>);

impl Visitor for Libraries {
    fn function(&mut self, code: &[u8]) -> VisitResult {
        self.0.push(code.to_vec());
        Ok(())
    }
}

fn restore(cx: &mut Ctx, argv: &[&[u8]]) -> Outcome {
    let bad = |why: String| Fail::Reply(format!("ERR payload version or checksum are wrong ({why})"));
    let (version, body) = rdb_parser::writer::split_payload(argv[2]).ok_or_else(|| bad("footer".into()))?;
    let header = Header::for_version(u32::from(version)).map_err(|e| bad(e.to_string()))?;
    let mut rdb = header.to_bytes().to_vec();
    rdb.extend_from_slice(body);
    rdb.push(0xff);
    rdb.extend_from_slice(&[0; 8]);
    let mut libs = Libraries(Vec::new());
    RdbReader::new(&rdb[..]).read_all(&mut libs).map_err(|e| bad(e.to_string()))?;
    let policy = argv.get(3).copied().unwrap_or(b"APPEND");
    if is(policy, "FLUSH") {
        cx.data.functions.clear();
    }
    let replace = is(policy, "REPLACE");
    if is(policy, "APPEND")
        && libs.0.iter().any(|c| library_name(c).is_some_and(|n| cx.data.functions.contains_key(&n)))
    {
        return Err(Fail::Reply("ERR Library already exists".into()));
    }
    for code in libs.0 {
        load(&mut cx.data, &code, replace || is(policy, "FLUSH"))?;
    }
    Ok(())
}

fn function(cx: &mut Ctx, argv: &[&[u8]]) -> Outcome {
    at_least(argv, 2)?;
    let sub = argv[1];
    if is(sub, "LOAD") {
        at_least(argv, 3)?;
        let replace = argv.len() == 4 && is(argv[2], "REPLACE");
        load(&mut cx.data, argv[argv.len() - 1], replace)
    } else if is(sub, "DELETE") {
        at_least(argv, 3)?;
        match cx.data.functions.remove(argv[2]) {
            Some(_) => Ok(()),
            None => Err(Fail::Reply("ERR Library not found".into())),
        }
    } else if is(sub, "FLUSH") {
        cx.data.functions.clear();
        Ok(())
    } else if is(sub, "RESTORE") {
        at_least(argv, 3)?;
        restore(cx, argv)
    } else {
        Err(Fail::Unsupported(format!("FUNCTION {}", String::from_utf8_lossy(sub))))
    }
}
