//! Refuses an output that is the input, or two outputs that are one file: writing one
//! would destroy the other (`convert X -o X`, `memory X --html X`, a hard link to X).

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::atomic::{parent_dir, resolve_links};
use crate::exit::usage;

/// What makes two paths the same file.
#[derive(PartialEq, Eq)]
enum Identity {
    /// An existing regular file: device and inode (hard links, symbolic links).
    Inode(u64, u64),
    /// A file still to be created: its canonical path.
    Path(PathBuf),
}

/// The identity of `path`, or `None` when it cannot be clobbered by a rename: standard
/// input/output, devices and pipes (two outputs to /dev/null are fine).
fn identity(path: &Path) -> Option<Identity> {
    if path == Path::new("-") {
        return None;
    }
    let target = resolve_links(path).ok()?;
    match std::fs::metadata(&target) {
        Ok(m) if m.is_file() => Some(Identity::Inode(m.dev(), m.ino())),
        Ok(_) => None,
        Err(_) => {
            let dir = std::fs::canonicalize(parent_dir(&target)).ok()?;
            Some(Identity::Path(dir.join(target.file_name()?)))
        }
    }
}

/// A usage error (exit 2) when an output is an input or two outputs are one file.
/// `inputs` and `outputs` are (option, path) pairs, e.g. `("-o", path)`.
pub fn check_distinct(inputs: &[(&str, &Path)], outputs: &[(&str, Option<&Path>)]) -> anyhow::Result<()> {
    let ins: Vec<_> = inputs.iter().filter_map(|(what, p)| Some((*what, *p, identity(p)?))).collect();
    let outs: Vec<_> = outputs.iter().filter_map(|(what, p)| p.and_then(|p| Some((*what, p, identity(p)?)))).collect();
    for (i, (what, path, id)) in outs.iter().enumerate() {
        if let Some((in_what, in_path, _)) = ins.iter().find(|(_, _, other)| other == id) {
            return Err(usage(format!(
                "{what} {} is the {in_what} {}: writing it would destroy the input; choose another file",
                path.display(),
                in_path.display()
            )));
        }
        if let Some((other_what, other_path, _)) = outs[..i].iter().find(|(_, _, other)| other == id) {
            return Err(usage(format!(
                "{what} {} and {other_what} {} are the same file; choose two different files",
                path.display(),
                other_path.display()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_files_are_found() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let input = dir.path().join("in.rdb");
        std::fs::write(&input, b"x")?;
        let link = dir.path().join("hard.rdb");
        std::fs::hard_link(&input, &link)?;
        let new = dir.path().join("new.csv");
        let via_dotdot = dir.path().join("sub/../new.csv");
        std::fs::create_dir(dir.path().join("sub"))?;
        let ins = [("input", input.as_path())];
        assert!(check_distinct(&ins, &[("-o", Some(&input))]).is_err());
        assert!(check_distinct(&ins, &[("-o", Some(&link))]).is_err());
        assert!(check_distinct(&ins, &[("-o", Some(&new)), ("--html", Some(&via_dotdot))]).is_err());
        assert!(check_distinct(&ins, &[("-o", Some(&new)), ("--html", None)]).is_ok());
        let null = Path::new("/dev/null");
        assert!(check_distinct(&[("input", null)], &[("-o", Some(null)), ("--html", Some(null))]).is_ok());
        Ok(())
    }
}
