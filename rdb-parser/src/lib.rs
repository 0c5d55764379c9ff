//! Streaming reader for Redis and Valkey RDB files.
//!
//! # Brief overview
//!
//! [`RdbReader`] reads any RDB version from 1 to 15 and Valkey's `VALKEY080` from an
//! [`std::io::Read`], one record at a time, through a fixed buffer: a file of any size
//! is visited in constant memory (plus one element, and whole compact blobs such as a
//! listpack, up to [`Limits::max_blob_bytes`]). The dialect (Redis or Valkey numbering of
//! types and opcodes) comes from the header.
//!
//! Records are pushed into a [`Visitor`], whose methods all default to doing nothing;
//! collections arrive element by element, large strings in chunks. [`Entries`] builds
//! one owned [`Entry`] per key on top of that.
//!
//! Every value is checked the way the servers check it when they load a file with deep
//! sanitization (listpack and ziplist structure, unique members and fields, sorted
//! sorted-set listpacks, stream structure), and the CRC-64 trailer is verified. Errors
//! carry the byte offset of the item that failed and the key being read.
//!
//! ```
//! use rdb_parser::{Entries, RdbReader, Value};
//!
//! let file = b"REDIS0011\xfe\x00\xfb\x01\x00\x00\x03foo\x03bar\xff\x8d\x86\xb9\x4c\x67\x6e\xab\x95";
//! let entries: Vec<_> = Entries::new(RdbReader::new(&file[..])).collect::<Result<_, _>>()?;
//! assert_eq!(entries[0].key, b"foo");
//! assert_eq!(entries[0].value, Value::String(b"bar".to_vec()));
//! # Ok::<(), rdb_parser::Error>(())
//! ```
#![deny(missing_docs)]

mod checks;
mod context;
mod copied;
pub mod crc64;
mod decode;
mod defer;
pub mod dupkeys;
mod entries;
mod error;
mod escape;
mod fanout;
mod filter;
#[doc(hidden)]
pub mod fuzzing;
mod glob;
mod header;
mod layout;
mod lzf;
pub mod memory;
mod model;
mod module;
mod prim;
mod reader;
mod reader_options;
mod source;
mod stream;
mod types;
mod values;
mod visitor;
pub mod writer;

pub use checks::MAX_DUPLICATE_CHECK;
pub use entries::{replay_entry, Entries, EntryBuilder};
pub use error::{Error, ErrorKind, Result, VisitError};
pub use escape::{escape_bytes, escape_hidden, is_hidden_char};
pub use fanout::Forked;
pub use filter::{Filtered, KeyFilter, KeyPredicate};
pub use glob::KeyPattern;
pub use header::{Dialect, Header, MAX_REDIS_VERSION, VALKEY_VERSIONS};
pub use model::{
    Consumer, Entry, HashField, IdmpProducer, KeyMeta, ModuleAux, ModuleOp, ModuleValue, PendingEntry, PreGaFunction,
    SparseArray, Stream, StreamEntry, StreamGroup, StreamId, StreamIdmp, StreamMeta, Value,
};
pub use module::{module_type_id, module_type_name};
pub use prim::{Limits, DEFAULT_MAX_BLOB_BYTES, DEFAULT_MAX_TEMPLATE_BYTES};
pub use reader::{RdbReader, Step, Stopped};
pub use reader_options::ReaderOptions;
pub use source::{DEFAULT_BUFFER_BYTES, MIN_BUFFER_BYTES};
pub use types::{Kind, RdbType};
pub use visitor::{
    Checksum, Container, ContainerKind, KeyEnd, KeyStart, NullVisitor, StreamEntryRef, Visit, VisitResult, Visitor,
};
pub use writer::{Loss, RdbWriter, Target, WriteSummary, WriterOptions};
