//! Builds the key filter of `--db`, `--key PATTERN` and `--type T`.

use rdb_parser::{KeyFilter, KeyPattern, Kind};

use crate::exit::usage;

/// The filter the command-line values describe (patterns use Redis `MATCH` rules).
pub fn key_filter(dbs: &[u64], patterns: &[String], kinds: &[String]) -> anyhow::Result<KeyFilter> {
    let kinds = kinds
        .iter()
        .map(|k| {
            Kind::from_name(k).ok_or_else(|| {
                usage(format!(
                    "unknown --type {k:?}; expected string, list, set, zset, hash, stream, module, array or gcra"
                ))
            })
        })
        .collect::<anyhow::Result<_>>()?;
    let patterns = patterns.iter().map(|p| KeyPattern::new(p.as_bytes())).collect();
    Ok(KeyFilter { dbs: dbs.to_vec(), patterns, kinds })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_types_are_usage_errors() {
        assert!(key_filter(&[], &[], &["nope".into()]).is_err());
        assert!(key_filter(&[0], &["{u1}:*".into()], &["hash".into()]).is_ok());
    }
}
