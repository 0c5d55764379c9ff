//! Module data, kept opaque: module values (type 7), module AUX (opcode 247) and Redis
//! key metadata (opcode 243), all made of the self-describing opcode stream.

use std::io::Read;

use crate::context::{Buf, Ctx, Gate};
use crate::error::{Error, Result};
use crate::model::{KeyMeta, ModuleAux, ModuleOp, ModuleValue, PreGaFunction};
use crate::visitor::KeyStart;
use crate::visitor::Visitor;

/// Characters of module type names, 6 bits each.
const NAME_CHARSET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

const OP_EOF: u64 = 0;
const OP_SINT: u64 = 1;
const OP_UINT: u64 = 2;
const OP_FLOAT: u64 = 3;
const OP_DOUBLE: u64 = 4;
const OP_STRING: u64 = 5;

/// Most metadata classes a key can carry (Redis RDB 13).
const MAX_KEY_META_CLASSES: u64 = 7;

/// Characters of key metadata class names, 6 bits each (`_` and `-` in the other
/// order than in module type names).
const KEY_META_CHARSET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

impl KeyMeta {
    /// The class's 4-character name (bits 31..8 of the class spec).
    pub fn class_name(&self) -> String {
        (0..4).map(|i| char::from(KEY_META_CHARSET[((self.class_spec >> (8 + 6 * (3 - i))) & 63) as usize])).collect()
    }

    /// The class version, 0 to 31 (bits 7..3).
    pub fn class_version(&self) -> u8 {
        ((self.class_spec >> 3) & 31) as u8
    }

    /// The class flags (bits 2..0; bit 0: the loader may drop the class when no module
    /// claims it).
    pub fn class_flags(&self) -> u8 {
        (self.class_spec & 7) as u8
    }
}

/// Decodes a module type ID into its 9-character name and encoding version.
pub fn module_type_name(id: u64) -> (String, u16) {
    let name = (0..9).map(|i| char::from(NAME_CHARSET[((id >> (10 + 6 * (8 - i))) & 63) as usize])).collect();
    (name, (id & 1023) as u16)
}

/// Encodes a 9-character name and encoding version into a module type ID.
pub fn module_type_id(name: &str, encver: u16) -> Option<u64> {
    let bytes = name.as_bytes();
    if bytes.len() != 9 || encver > 1023 {
        return None;
    }
    let mut id = 0u64;
    for &c in bytes {
        let pos = NAME_CHARSET.iter().position(|&x| x == c)? as u64;
        id = (id << 6) | pos;
    }
    Some((id << 10) | u64::from(encver))
}

impl<R: Read> Ctx<R> {
    /// Reads annotated module items up to and including the EOF opcode.
    pub(crate) fn module_ops(&mut self) -> Result<Vec<ModuleOp>> {
        let mut ops = Vec::new();
        loop {
            let at = self.src.offset();
            let op = match self.src.length()? {
                OP_EOF => return Ok(ops),
                OP_SINT => ModuleOp::SInt(self.src.length()?),
                OP_UINT => ModuleOp::UInt(self.src.length()?),
                OP_FLOAT => ModuleOp::Float(f32::from_le_bytes(self.src.array("a module float")?)),
                OP_DOUBLE => ModuleOp::Double(self.src.f64_le("a module double")?),
                OP_STRING => {
                    self.string(Buf::A, "a module string")?;
                    ModuleOp::String(self.a.clone())
                }
                other => return Err(Error::corrupt(at, format!("unknown module data opcode {other}"))),
            };
            ops.push(op);
        }
    }

    fn module_value(&mut self) -> Result<ModuleValue> {
        let module_id = self.src.length()?;
        let (name, encver) = module_type_name(module_id);
        let ops = self.module_ops()?;
        Ok(ModuleValue { module_id, name, encver, ops })
    }

    /// The body of a MODULE_AUX opcode.
    pub(crate) fn module_aux(&mut self) -> Result<ModuleAux> {
        let module_id = self.src.length()?;
        let at = self.src.offset();
        let marker = self.src.length()?;
        if marker != OP_UINT {
            return Err(Error::corrupt(at, format!("module aux marker is {marker}, expected 2")));
        }
        let when = self.src.length()?;
        let (name, encver) = module_type_name(module_id);
        let ops = self.module_ops()?;
        Ok(ModuleAux { value: ModuleValue { module_id, name, encver, ops }, when })
    }

    /// The body of a FUNCTION_PRE_GA opcode (Redis 7.0 release candidates): name,
    /// engine, optional description, code.
    pub(crate) fn function_pre_ga(&mut self) -> Result<PreGaFunction> {
        self.string(Buf::A, "a function name")?;
        let name = self.a.clone();
        self.string(Buf::A, "a function engine")?;
        let engine = self.a.clone();
        let at = self.src.offset();
        let description = match self.src.length()? {
            0 => None,
            1 => {
                self.string(Buf::A, "a function description")?;
                Some(self.a.clone())
            }
            n => return Err(Error::corrupt(at, format!("function description flag is {n}, expected 0 or 1"))),
        };
        self.string(Buf::A, "a function body")?;
        Ok(PreGaFunction { name, engine, description, code: self.a.clone() })
    }

    /// The body of a Redis KEY_META opcode.
    pub(crate) fn key_meta(&mut self) -> Result<Vec<KeyMeta>> {
        let at = self.src.offset();
        let n = self.src.length()?;
        if n == 0 || n > MAX_KEY_META_CLASSES {
            return Err(Error::corrupt(at, format!("key metadata with {n} classes (1 to 7 allowed)")));
        }
        let mut out = Vec::new();
        for _ in 0..n {
            let class_spec = u32::from_le_bytes(self.src.array("a key metadata class")?);
            let ops = self.module_ops()?;
            out.push(KeyMeta { class_spec, ops });
        }
        Ok(out)
    }
}

/// A module value (type 7).
pub(crate) fn read_value<R: Read, V: Visitor>(cx: &mut Ctx<R>, head: &KeyStart<'_>, g: &mut Gate<'_, V>) -> Result<()> {
    let value = cx.module_value()?;
    g.begin(head, Some(1))?;
    g.elements += 1;
    if let Some(v) = g.visitor() {
        let r = v.module_value(&value);
        g.wrap(r)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejson_id_from_format_doc() {
        assert_eq!(module_type_name(0x45E2_5238_DF91_2C03), ("ReJSON-RL".to_string(), 3));
        assert_eq!(module_type_id("ReJSON-RL", 3), Some(0x45E2_5238_DF91_2C03));
        assert_eq!(module_type_id("short", 3), None);
    }

    #[test]
    fn key_meta_class_spec_fields() {
        // "KMT1" = K(10) M(12) T(19) 1(53), version 2, flags 1.
        let name = [10u32, 12, 19, 53].iter().fold(0, |acc, c| (acc << 6) | c);
        let meta = KeyMeta { class_spec: (name << 8) | (2 << 3) | 1, ops: Vec::new() };
        assert_eq!((meta.class_name().as_str(), meta.class_version(), meta.class_flags()), ("KMT1", 2, 1));
        let edge = KeyMeta { class_spec: u32::MAX, ops: Vec::new() };
        assert_eq!((edge.class_name().as_str(), edge.class_version(), edge.class_flags()), ("----", 31, 7));
    }
}
