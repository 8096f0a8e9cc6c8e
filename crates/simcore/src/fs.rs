//! Crash-safe output: files are written under a temporary name and renamed into place, so a
//! reader (or a re-run after Ctrl-C) never sees a half-written file.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// The temporary name `write_atomic` uses for `path`: a hidden sibling in the same directory
/// (so the final rename stays on one file system).
pub fn temp_path_for(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

/// Writes a file through `write` into a temporary sibling, syncs it to disk and renames it to
/// `path`: a reader never sees a partial file, even after a power loss.
///
/// On any error the temporary file is removed and `path` is left as it was.
pub fn write_atomic<F>(path: &Path, write: F) -> io::Result<()>
where
    F: FnOnce(&mut BufWriter<File>) -> io::Result<()>,
{
    write_with(path, true, write)
}

/// Like [`write_atomic`] without syncing to disk: still all-or-nothing if the process dies
/// (the rename happens only after the data is written), much cheaper for many small files, but
/// a power loss may leave an empty file (which readers must treat as missing).
pub fn write_atomic_unsynced<F>(path: &Path, write: F) -> io::Result<()>
where
    F: FnOnce(&mut BufWriter<File>) -> io::Result<()>,
{
    write_with(path, false, write)
}

fn write_with<F>(path: &Path, sync: bool, write: F) -> io::Result<()>
where
    F: FnOnce(&mut BufWriter<File>) -> io::Result<()>,
{
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir)?;
    }
    let tmp = temp_path_for(path);
    let result = (|| {
        let mut w = BufWriter::new(File::create(&tmp)?);
        write(&mut w)?;
        w.flush()?;
        if sync {
            w.get_ref().sync_all()?;
        }
        drop(w);
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_whole_file_or_nothing() {
        let dir = std::env::temp_dir().join(format!("simcore-fs-{}", std::process::id()));
        let path = dir.join("out.txt");
        write_atomic(&path, |w| w.write_all(b"first")).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "first");
        let err = write_atomic(&path, |w| {
            w.write_all(b"partial")?;
            Err(io::Error::other("interrupted"))
        });
        assert!(err.is_err());
        assert_eq!(fs::read_to_string(&path).unwrap(), "first", "old content kept");
        assert!(!temp_path_for(&path).exists(), "temporary removed");
        fs::remove_dir_all(&dir).unwrap();
    }
}
