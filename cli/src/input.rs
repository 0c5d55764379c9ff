//! Opening inputs (a file or `-` for stdin), with a progress bar on a terminal.

use std::fs::File;
use std::io::{self, IsTerminal, Read};
use std::path::Path;

use anyhow::Context;

use crate::readahead::ReadAhead;
use indicatif::{ProgressBar, ProgressStyle};

/// Inputs smaller than this get no progress bar.
const PROGRESS_MIN_BYTES: u64 = 64 << 20;

/// An opened input: its display name, a reader, and the progress bar (cleared on drop).
pub struct Input {
    pub name: String,
    pub reader: Box<dyn Read>,
    pub progress: Progress,
}

/// A progress bar that clears itself when dropped.
pub struct Progress(Option<ProgressBar>);

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

impl Input {
    /// Opens `path` (`-` is stdin), read ahead on a second thread. A progress bar is
    /// drawn on stderr when it is a terminal, the input is a large file, and `quiet` is
    /// off.
    pub fn open(path: &Path, quiet: bool) -> anyhow::Result<Input> {
        Input::open_with(path, quiet, true)
    }

    /// [`Input::open`] for commands that keep every core busy themselves: a file is
    /// read on the calling thread (reading ahead would only add a copy of each byte).
    pub fn open_inline(path: &Path, quiet: bool) -> anyhow::Result<Input> {
        Input::open_with(path, quiet, false)
    }

    fn open_with(path: &Path, quiet: bool, ahead: bool) -> anyhow::Result<Input> {
        if path == Path::new("-") {
            return Ok(Input {
                name: "<stdin>".into(),
                reader: Box::new(ReadAhead::new(io::stdin())?),
                progress: Progress(None),
            });
        }
        let name = path.display().to_string();
        let file = File::open(path).with_context(|| format!("{name}: cannot open"))?;
        if file.metadata().is_ok_and(|m| m.is_dir()) {
            let e = io::Error::new(io::ErrorKind::IsADirectory, "it is a directory, not a file");
            return Err(anyhow::Error::new(e).context(format!("{name}: cannot read")));
        }
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let progress = (!quiet && len >= PROGRESS_MIN_BYTES && io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(len);
            let style = ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar
        });
        // Read on a second thread, so reading overlaps with parsing.
        let reader: Box<dyn Read> = match (&progress, ahead) {
            (Some(bar), true) => Box::new(ReadAhead::new(bar.wrap_read(file))?),
            (Some(bar), false) => Box::new(bar.wrap_read(file)),
            (None, true) => Box::new(ReadAhead::new(file)?),
            (None, false) => Box::new(file),
        };
        Ok(Input { name, reader, progress: Progress(progress) })
    }
}
