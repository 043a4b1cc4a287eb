//! Output files that can neither destroy what a run reads nor be left half-written.
//!
//! Two guards, both taken before anything is opened for writing:
//! - [`refuse_clobber`]: an output path (`-o`, `--rejects`, `--errors`) that is the input,
//!   the database or one of its `-wal`/`-shm` files, or another output, is refused, whatever
//!   its spelling (`./f.csv`, `../dir/f.csv`, a symlink, a hard link): files are compared by
//!   device and inode when both exist, by resolved path otherwise.
//! - [`AtomicFile`]: an output is written to a temporary file beside its target (created
//!   owner-only, 0600) and renamed into place only when complete, so a failed or killed run
//!   never leaves a truncated file where a good one was. A replaced file keeps its mode; a
//!   target that is not a regular file (`/dev/null`, a FIFO) is written directly.

use crate::error::{Error, Result};
use std::fs::File;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// A file the run reads or owns, which no output may be.
pub struct Protected<'a> {
    /// What it is, for the message ("the input file", "the database").
    pub what: &'static str,
    /// Its path as given.
    pub path: &'a Path,
}

/// An output file asked for on the command line.
pub struct Output<'a> {
    /// The option that names it (`--rejects`).
    pub flag: &'static str,
    /// Its path as given.
    pub path: &'a Path,
}

/// Where a path leads: its resolved form and, if the file exists, its device and inode.
struct Identity {
    resolved: PathBuf,
    inode: Option<(u64, u64)>,
}

impl Identity {
    fn of(path: &Path) -> Identity {
        let inode = std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()));
        Identity {
            resolved: resolve(path),
            inode,
        }
    }

    fn same(&self, other: &Identity) -> bool {
        match (self.inode, other.inode) {
            (Some(a), Some(b)) => a == b,
            _ => self.resolved == other.resolved,
        }
    }
}

/// The absolute path a (possibly missing) file would have: the existing part canonicalized,
/// symlinks followed, even a dangling one.
fn resolve(path: &Path) -> PathBuf {
    if let Ok(p) = std::fs::canonicalize(path) {
        return p;
    }
    // A dangling symlink: where it points, relative to its directory.
    if let Ok(target) = std::fs::read_link(path) {
        let dir = path.parent().unwrap_or(Path::new("."));
        return resolve_missing(&dir.join(target));
    }
    resolve_missing(path)
}

/// A missing file: its directory canonicalized (when it exists), then its name.
fn resolve_missing(path: &Path) -> PathBuf {
    let name = path.file_name().map(PathBuf::from).unwrap_or_default();
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::canonicalize(&dir)
        .unwrap_or_else(|_| std::env::current_dir().unwrap_or_default().join(dir))
        .join(name)
}

/// The database file with its WAL companions, as protected files.
pub fn database(path: &Path) -> Vec<(&'static str, PathBuf)> {
    ["", "-wal", "-shm"]
        .into_iter()
        .zip([
            "the database",
            "the database's WAL file",
            "the database's shared-memory file",
        ])
        .map(|(suffix, what)| {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            (what, PathBuf::from(p))
        })
        .collect()
}

/// Refuses any output that is a protected file or another output (exit 2, both named).
pub fn refuse_clobber(protected: &[Protected], outputs: &[Output]) -> Result<()> {
    let kept: Vec<(&Protected, Identity)> = protected
        .iter()
        .map(|p| (p, Identity::of(p.path)))
        .collect();
    let mut seen: Vec<(&Output, Identity)> = Vec::new();
    for out in outputs {
        let id = Identity::of(out.path);
        if let Some((p, _)) = kept.iter().find(|(_, k)| k.same(&id)) {
            return Err(Error::Usage {
                message: format!(
                    "{} {} is {} {}: writing it would destroy it",
                    out.flag,
                    out.path.display(),
                    p.what,
                    p.path.display()
                ),
                help: format!("choose another path for {}", out.flag),
            });
        }
        if let Some((first, _)) = seen.iter().find(|(_, k)| k.same(&id)) {
            return Err(Error::Usage {
                message: format!(
                    "{} {} and {} {} are the same file",
                    first.flag,
                    first.path.display(),
                    out.flag,
                    out.path.display()
                ),
                help: "give each output its own path".into(),
            });
        }
        seen.push((out, id));
    }
    Ok(())
}

/// An output written beside its target and renamed into place by [`AtomicFile::commit`];
/// dropped without a commit, it leaves the target as it was.
pub struct AtomicFile {
    /// The path as given, for messages.
    shown: PathBuf,
    state: State,
}

enum State {
    /// A temporary file in the target's directory.
    Temp {
        temp: tempfile::NamedTempFile,
        target: PathBuf,
    },
    /// A target that is not a regular file (a device, a FIFO): written in place.
    Direct(File),
}

impl AtomicFile {
    /// Starts writing `path`: a new owner-only temporary file beside it.
    pub fn create(path: &Path) -> Result<AtomicFile> {
        let err = |source| Error::Output {
            path: path.display().to_string(),
            source,
        };
        let shown = path.to_path_buf();
        if let Ok(meta) = std::fs::metadata(path) {
            if !meta.is_file() {
                let file = File::options().write(true).open(path).map_err(err)?;
                return Ok(AtomicFile {
                    shown,
                    state: State::Direct(file),
                });
            }
        }
        // Through a symlink, the file it points to is replaced, not the link.
        let target = resolve(path);
        let dir = target.parent().unwrap_or(Path::new("."));
        let temp = tempfile::Builder::new()
            .prefix(".ucsv-")
            .suffix(".tmp")
            .permissions(std::fs::Permissions::from_mode(0o600))
            .tempfile_in(dir)
            .map_err(err)?;
        Ok(AtomicFile {
            shown,
            state: State::Temp { temp, target },
        })
    }

    /// A handle to write through (the same open file).
    pub fn writer(&self) -> Result<File> {
        match &self.state {
            State::Temp { temp, .. } => temp.as_file().try_clone(),
            State::Direct(f) => f.try_clone(),
        }
        .map_err(|source| self.error(source))
    }

    /// Puts the complete file in place: synced, given the replaced file's mode (0600 for a
    /// new one, whatever the umask), renamed over the target.
    pub fn commit(self) -> Result<()> {
        let State::Temp { temp, target } = self.state else {
            return Ok(());
        };
        let shown = self.shown;
        let err = |source| Error::Output {
            path: shown.display().to_string(),
            source,
        };
        let mode = std::fs::metadata(&target).map_or(0o600, |m| m.permissions().mode() & 0o7777);
        let file = temp.as_file();
        file.set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(err)?;
        file.sync_all().map_err(err)?;
        temp.persist(&target).map_err(|e| err(e.error))?;
        Ok(())
    }

    /// A write error on this file.
    pub fn error(&self, source: std::io::Error) -> Error {
        Error::Output {
            path: self.shown.display().to_string(),
            source,
        }
    }

    /// A CSV writer's error on this file.
    pub fn csv_error(&self, e: csv::Error) -> Error {
        Error::csv_output(self.shown.display().to_string(), e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_file_are_the_same_file() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f.csv");
        std::fs::write(&f, "x").unwrap();
        let other = dir.path().join("sub/../f.csv");
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        assert!(Identity::of(&f).same(&Identity::of(&other)));
        let link = dir.path().join("hard.csv");
        std::fs::hard_link(&f, &link).unwrap();
        assert!(Identity::of(&f).same(&Identity::of(&link)));
        let missing = dir.path().join("sub/../new.csv");
        assert!(Identity::of(&dir.path().join("new.csv")).same(&Identity::of(&missing)));
        assert!(!Identity::of(&f).same(&Identity::of(&missing)));
    }

    #[test]
    fn a_dropped_file_leaves_the_target_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("out.csv");
        std::fs::write(&f, "good").unwrap();
        let out = AtomicFile::create(&f).unwrap();
        std::io::Write::write_all(&mut out.writer().unwrap(), b"half").unwrap();
        drop(out);
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "good");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary left"
        );
    }
}
