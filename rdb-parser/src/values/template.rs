//! Hash templates (RDB 15, Redis 8.10 "compact hashes"): the opcode 242 records a file
//! declares once, and the four template hash types (29–32), which arrive at the visitor
//! as ordinary hash fields.

use std::collections::HashMap;
use std::io::Read;

use crate::context::{blob_err, Buf, Ctx, Gate};
use crate::decode::listpack::Listpack;
use crate::decode::Elem;
use crate::error::{Error, ErrorKind, Result};
use crate::prim::StringOrigin;
use crate::types::RdbType;
use crate::visitor::{Container, ContainerKind, KeyStart, Visitor};

/// Bookkeeping bytes counted per field name against [`crate::Limits::max_template_bytes`].
const FIELD_OVERHEAD: u64 = 16;
/// Bookkeeping bytes counted per template (its table entry and buffers).
const TEMPLATE_OVERHEAD: u64 = 64;
/// Field-name formats of the self-contained types 29 and 31.
const FIELDS_LP: u64 = 0;
const FIELDS_RAW: u64 = 1;

/// The field names of one template, strictly ascending by (length, bytes), in one arena.
#[derive(Default)]
pub(crate) struct FieldSet {
    data: Vec<u8>,
    ends: Vec<usize>,
}

impl FieldSet {
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    pub(crate) fn get(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.data[start..self.ends[i]]
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    /// Bytes charged against the template budget.
    fn cost(&self) -> u64 {
        TEMPLATE_OVERHEAD + self.data.len() as u64 + FIELD_OVERHEAD * self.ends.len() as u64
    }

    fn clear(&mut self) {
        self.data.clear();
        self.ends.clear();
    }

    /// Appends `name`; false when it does not sort strictly after the last name in
    /// Redis' template order (length first, then bytes).
    fn push_sorted(&mut self, name: &[u8]) -> bool {
        if let Some(last) = self.len().checked_sub(1).map(|i| self.get(i)) {
            if (last.len(), last) >= (name.len(), name) {
                return false;
            }
        }
        self.data.extend_from_slice(name);
        self.ends.push(self.data.len());
        true
    }
}

/// The templates a file declared so far, by id, and their total cost.
#[derive(Default)]
pub(crate) struct Templates {
    by_id: HashMap<u64, FieldSet>,
    bytes: u64,
    /// Field names of the current self-contained template hash (types 29, 31).
    own: FieldSet,
}

impl Templates {
    pub(crate) fn get(&self, id: u64) -> Option<&FieldSet> {
        self.by_id.get(&id)
    }
}

/// Fails when holding `set` on top of the file's templates would exceed the budget.
fn check_budget(at: u64, held: u64, set: &FieldSet, limit: u64) -> Result<()> {
    let len = held.saturating_add(set.cost());
    if len > limit {
        return Err(Error::new(at, ErrorKind::TooLarge { what: "hash template field names", len, limit }));
    }
    Ok(())
}

impl<R: Read> Ctx<R> {
    /// Reads one opcode 242 record and keeps the template; returns its id.
    pub(crate) fn hash_template(&mut self) -> Result<u64> {
        let at = self.src.offset();
        let id = self.src.length()?;
        if self.templates.by_id.contains_key(&id) {
            return Err(Error::corrupt(at, format!("hash template id {id} is declared twice")));
        }
        let n = self.count()?;
        if n == 0 {
            return Err(Error::corrupt(at, format!("hash template id {id} has zero fields")));
        }
        let mut set = FieldSet::default();
        for _ in 0..n {
            let field_at = self.src.offset();
            self.string(Buf::A, "a hash template field")?;
            if !set.push_sorted(&self.a) {
                return Err(Error::corrupt(field_at, format!("hash template id {id}: fields not strictly sorted")));
            }
            check_budget(at, self.templates.bytes, &set, self.limits.max_template_bytes)?;
        }
        self.templates.bytes += set.cost();
        self.templates.by_id.insert(id, set);
        Ok(id)
    }

    /// The field names of a self-contained template hash, into `templates.own`.
    fn own_fields(&mut self) -> Result<()> {
        let at = self.src.offset();
        let mut set = std::mem::take(&mut self.templates.own);
        set.clear();
        let r = self.own_fields_into(at, &mut set);
        self.templates.own = set;
        r
    }

    fn own_fields_into(&mut self, at: u64, set: &mut FieldSet) -> Result<()> {
        let (held, limit) = (self.templates.bytes, self.limits.max_template_bytes);
        let unsorted = |at| Error::corrupt(at, "template hash fields not strictly sorted");
        match self.src.length()? {
            FIELDS_LP => {
                let origin = self.string(Buf::Blob, "a template field listpack")?;
                let what = "template field listpack";
                let lp = Listpack::new(&self.blob).map_err(|e| blob_err(&origin, what, e))?;
                let mut text = itoa::Buffer::new();
                for item in lp {
                    let name = item.map_err(|e| blob_err(&origin, what, e))?.bytes(&mut text).to_vec();
                    if !set.push_sorted(&name) {
                        return Err(unsorted(origin.header));
                    }
                    check_budget(at, held, set, limit)?;
                }
            }
            FIELDS_RAW => {
                for _ in 0..self.count()? {
                    let field_at = self.src.offset();
                    self.string(Buf::A, "a template hash field")?;
                    if !set.push_sorted(&self.a) {
                        return Err(unsorted(field_at));
                    }
                    check_budget(at, held, set, limit)?;
                }
            }
            other => return Err(Error::corrupt(at, format!("template hash field format {other}, expected 0 or 1"))),
        }
        if set.len() == 0 {
            return Err(Error::corrupt(at, "template hash has zero fields"));
        }
        Ok(())
    }
}

/// Whether `t` is one of the template hash types.
pub(crate) fn is_template(t: RdbType) -> bool {
    matches!(
        t,
        RdbType::HashTemplateListpack
            | RdbType::HashTemplateListpackRef
            | RdbType::HashTemplateArray
            | RdbType::HashTemplateArrayRef
    )
}

/// Reads a template hash (types 29–32), delivering its fields as hash fields.
pub(crate) fn read<R: Read, V: Visitor>(cx: &mut Ctx<R>, head: &KeyStart<'_>, g: &mut Gate<'_, V>) -> Result<()> {
    let t = head.rdb_type;
    let id = match t {
        RdbType::HashTemplateListpack | RdbType::HashTemplateArray => {
            cx.own_fields()?;
            None
        }
        RdbType::HashTemplateArrayRef => {
            let at = cx.src.offset();
            let id = cx.src.length()?;
            known(cx, id, at)?;
            Some(id)
        }
        _ => None,
    };
    if matches!(t, RdbType::HashTemplateListpack | RdbType::HashTemplateListpackRef) {
        return listpack_values(cx, head, g);
    }
    let fields = match id {
        Some(id) => cx.templates.by_id.get(&id),
        None => Some(&cx.templates.own),
    };
    let fields = fields.ok_or_else(|| Error::corrupt(head.offset, "hash template vanished"))?;
    g.begin(head, Some(fields.len() as u64))?;
    for name in fields.iter() {
        cx.src.string_into(&mut cx.b, &mut cx.scratch, &cx.limits, "a template hash value")?;
        g.hash_field(name, &cx.b, None)?;
    }
    Ok(())
}

fn known<R>(cx: &Ctx<R>, id: u64, at: u64) -> Result<()> {
    match cx.templates.by_id.contains_key(&id) {
        true => Ok(()),
        false => Err(Error::corrupt(at, format!("unknown hash template id {id}"))),
    }
}

/// Types 29 and 30: a listpack of the template id, then one value per field.
fn listpack_values<R: Read, V: Visitor>(cx: &mut Ctx<R>, head: &KeyStart<'_>, g: &mut Gate<'_, V>) -> Result<()> {
    let what = "template hash listpack";
    let origin = cx.string(Buf::Blob, "a template hash listpack")?;
    let mut lp = Listpack::new(&cx.blob).map_err(|e| blob_err(&origin, what, e))?;
    // Type 30 names a template; type 29 carries its source's id, which the loader
    // ignores (any integer).
    let by_ref = head.rdb_type == RdbType::HashTemplateListpackRef;
    let id = match lp.next() {
        Some(Ok(Elem::Int(id))) if id >= 0 || !by_ref => id as u64,
        Some(Err(e)) => return Err(blob_err(&origin, what, e)),
        _ => return Err(origin.error(0, what, "first entry is not a template id (a non-negative integer)")),
    };
    let fields = match by_ref {
        true => {
            known(cx, id, origin.header)?;
            cx.templates.by_id.get(&id)
        }
        false => Some(&cx.templates.own),
    };
    let fields = fields.ok_or_else(|| Error::corrupt(origin.header, "hash template vanished"))?;
    let mismatch = |origin: &StringOrigin, found: usize| {
        origin.error(0, what, format!("{found} values for a template of {} fields", fields.len()))
    };
    match lp.declared_len() {
        Some(n) if n != fields.len() + 1 => return Err(mismatch(&origin, n.saturating_sub(1))),
        _ => {}
    }
    g.begin(head, Some(fields.len() as u64))?;
    let mut text = itoa::Buffer::new();
    let mut n = 0usize;
    for item in lp {
        let value = item.map_err(|e| blob_err(&origin, what, e))?;
        if n == fields.len() {
            return Err(mismatch(&origin, n + 1));
        }
        g.hash_field(fields.get(n), value.bytes(&mut text), None)?;
        n += 1;
    }
    if n != fields.len() {
        return Err(mismatch(&origin, n));
    }
    g.container(&Container {
        kind: ContainerKind::Listpack,
        bytes: cx.blob.len(),
        entries: n + 1,
        compressed: origin.raw_data.is_none(),
    })
}
