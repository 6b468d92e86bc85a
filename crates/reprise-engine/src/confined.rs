//! Writing inside a restore target, and nowhere else.
//!
//! Every directory below the target is opened from the target's own descriptor, one
//! component at a time, with `O_NOFOLLOW | O_DIRECTORY`: a symbolic link met on the way
//! (planted in the target before the restore, or while it runs) makes the open fail
//! instead of being followed, and the restore stops with a message naming it. Entries are
//! then created or replaced *in* such a directory descriptor (`openat` with `O_EXCL`,
//! `symlinkat`, `linkat`, `mknodat`, `renameat`), and metadata is set through the open
//! file or with `AT_SYMLINK_NOFOLLOW`. So the only things a restore can create or replace
//! are directory entries inside the target; a file outside it (even one hard-linked into
//! it) is never opened for writing, since an existing file is replaced by renaming a new
//! one over its name, not by truncating it.

use std::collections::HashMap;
use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

use rustic_core::repofile::{Metadata, Node, NodeType};
use rustix::fs::{self as rfs, AtFlags, FileType, Mode, OFlags, Timespec, Timestamps};
use rustix::io::Errno;

use crate::{EngineError, Result};

/// What a name in the target is now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Existing {
    Absent,
    File,
    Dir,
    Symlink,
    /// A FIFO, socket or device.
    Special,
}

/// An entry made in `dir`: at `name`, or under `temp` until it replaces what is there.
struct Placed<T> {
    dir: OwnedFd,
    name: std::ffi::OsString,
    made: T,
    temp: Option<std::ffi::OsString>,
}

/// Owners by user and group name, as found on this machine (looked up once each).
type Owners = HashMap<(Option<String>, Option<String>), (Option<u32>, Option<u32>)>;

/// The target directory, opened once; every path handed to it is relative to it.
pub(crate) struct Confined {
    root: OwnedFd,
    shown: PathBuf,
    owners: Mutex<Owners>,
}

fn dir_flags() -> OFlags {
    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC
}

impl Confined {
    /// Opens the target, creating it when asked. The target itself is the caller's
    /// choice (resolved and checked before); only what lies below it is confined.
    /// `None` when it does not exist and `create` is false.
    pub(crate) fn open(target: &Path, create: bool) -> Result<Option<Self>> {
        if create {
            std::fs::create_dir_all(target)
                .map_err(|e| EngineError::Io(format!("cannot create {}: {e}", target.display())))?;
        }
        match rfs::open(
            target,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(root) => Ok(Some(Self {
                root,
                shown: target.to_path_buf(),
                owners: Mutex::new(HashMap::new()),
            })),
            Err(Errno::NOENT) if !create => Ok(None),
            Err(Errno::NOTDIR) => Err(EngineError::Refused(format!(
                "the target {} is not a directory",
                target.display()
            ))),
            Err(e) => Err(EngineError::Io(format!(
                "cannot open {}: {e}",
                target.display()
            ))),
        }
    }

    fn shown(&self, rel: &Path) -> String {
        self.shown.join(rel).display().to_string()
    }

    fn io(&self, what: &str, rel: &Path, e: impl std::fmt::Display) -> EngineError {
        EngineError::Io(format!("cannot {what} {}: {e}", self.shown(rel)))
    }

    /// The refusal for `kind` found at `rel`, where the restore needs a directory.
    pub(crate) fn not_followed(&self, rel: &Path, kind: Existing) -> EngineError {
        let what = match kind {
            Existing::Symlink => "a symbolic link",
            Existing::Special => "a special file (FIFO, socket or device)",
            _ => "a file",
        };
        EngineError::Refused(format!(
            "{} is {what} already in the target, where the restore needs a directory; \
             a restore never follows or writes through one: remove it or choose another target",
            self.shown(rel)
        ))
    }

    /// Splits a relative path into its parent's components and its last name.
    fn split(rel: &Path) -> Result<(Vec<&std::ffi::OsStr>, &std::ffi::OsStr)> {
        let mut parts = Vec::new();
        for c in rel.components() {
            match c {
                Component::Normal(name) => parts.push(name),
                _ => {
                    return Err(EngineError::Refused(format!(
                        "the path {} would leave the target",
                        rel.display()
                    )));
                }
            }
        }
        let last = parts.pop().ok_or_else(|| {
            EngineError::Refused("an empty path names the target itself".to_string())
        })?;
        Ok((parts, last))
    }

    /// Opens the directory `parts` below the root without following any link; creates
    /// the missing ones when `create`. `None` when one is missing and `create` is false.
    fn walk(&self, parts: &[&std::ffi::OsStr], create: bool) -> Result<Option<OwnedFd>> {
        let mut dir = self
            .root
            .try_clone()
            .map_err(|e| self.io("open", Path::new(""), e))?;
        let mut done = PathBuf::new();
        for name in parts {
            done.push(name);
            let next = match rfs::openat(&dir, *name, dir_flags(), Mode::empty()) {
                Ok(fd) => fd,
                Err(Errno::NOENT) if create => {
                    match rfs::mkdirat(&dir, *name, Mode::from_raw_mode(0o700)) {
                        Ok(()) | Err(Errno::EXIST) => {}
                        Err(e) => return Err(self.io("create", &done, e)),
                    }
                    rfs::openat(&dir, *name, dir_flags(), Mode::empty())
                        .map_err(|e| self.refusal_or_io(&dir, name, &done, e))?
                }
                Err(Errno::NOENT) => return Ok(None),
                Err(e) => return Err(self.refusal_or_io(&dir, name, &done, e)),
            };
            dir = next;
        }
        Ok(Some(dir))
    }

    /// An open that failed on an existing entry: a link or a non-directory is a
    /// refusal, anything else an I/O error.
    fn refusal_or_io(
        &self,
        dir: &OwnedFd,
        name: &std::ffi::OsStr,
        rel: &Path,
        e: Errno,
    ) -> EngineError {
        match kind_at(dir, name) {
            Ok(kind @ (Existing::Symlink | Existing::Special | Existing::File)) => {
                self.not_followed(rel, kind)
            }
            _ => self.io("open", rel, e),
        }
    }

    /// What `rel` is now, found without following a link on the way; a link or a file
    /// where a directory of the path should be is a refusal.
    pub(crate) fn probe(&self, rel: &Path) -> Result<Existing> {
        if rel.as_os_str().is_empty() {
            return Ok(Existing::Dir);
        }
        let (parts, last) = Self::split(rel)?;
        match self.walk(&parts, false)? {
            None => Ok(Existing::Absent),
            Some(dir) => kind_at(&dir, last).map_err(|e| self.io("inspect", rel, e)),
        }
    }

    /// Makes the directory `rel` (and its parents) below the target.
    pub(crate) fn mkdir(&self, rel: &Path) -> Result<()> {
        if rel.as_os_str().is_empty() {
            return Ok(());
        }
        let (mut parts, last) = Self::split(rel)?;
        parts.push(last);
        self.walk(&parts, true).map(|_| ())
    }

    fn parent(&self, rel: &Path) -> Result<(OwnedFd, std::ffi::OsString)> {
        let (parts, last) = Self::split(rel)?;
        let dir = self.walk(&parts, true)?.expect("created when missing");
        Ok((dir, last.to_os_string()))
    }

    /// Creates a new entry `name` in `dir` through `make(dir, name)`. An entry already
    /// there is replaced only when `overwrite`, by making the new one under a temporary
    /// name and renaming it over the old (a file outside the target hard-linked here is
    /// never written); a directory is never replaced.
    fn place<T>(
        &self,
        rel: &Path,
        overwrite: bool,
        make: impl Fn(&OwnedFd, &std::ffi::OsStr) -> rustix::io::Result<T>,
    ) -> Result<Placed<T>> {
        let (dir, name) = self.parent(rel)?;
        match make(&dir, &name) {
            Ok(made) => Ok(Placed {
                dir,
                name,
                made,
                temp: None,
            }),
            Err(Errno::EXIST) => {
                let kind = kind_at(&dir, &name).map_err(|e| self.io("inspect", rel, e))?;
                if kind == Existing::Dir {
                    return Err(EngineError::Refused(format!(
                        "{} is a directory in the target, where the restore point has a file",
                        self.shown(rel)
                    )));
                }
                if !overwrite {
                    return Err(EngineError::Refused(format!(
                        "{} already exists in the target; choose an empty target or pass --overwrite",
                        self.shown(rel)
                    )));
                }
                let temp = temp_name(&name);
                let made = make(&dir, &temp).map_err(|e| self.io("create", rel, e))?;
                Ok(Placed {
                    dir,
                    name,
                    made,
                    temp: Some(temp),
                })
            }
            Err(e) => Err(self.io("create", rel, e)),
        }
    }

    /// Gives an entry made under a temporary name its real name.
    fn settle<T>(&self, rel: &Path, placed: &Placed<T>) -> Result<()> {
        match &placed.temp {
            Some(temp) => self.commit(rel, &placed.dir, &placed.name, temp),
            None => Ok(()),
        }
    }

    fn commit(
        &self,
        rel: &Path,
        dir: &OwnedFd,
        name: &std::ffi::OsStr,
        temp: &std::ffi::OsStr,
    ) -> Result<()> {
        rfs::renameat(dir, temp, dir, name).map_err(|e| {
            let _ = rfs::unlinkat(dir, temp, AtFlags::empty());
            self.io("replace", rel, e)
        })
    }

    /// Writes a regular file: `fill` receives it open for writing, then its metadata is
    /// set through the open file before it takes its name.
    pub(crate) fn write_file(
        &self,
        rel: &Path,
        node: &Node,
        overwrite: bool,
        fill: impl FnOnce(&mut File) -> Result<()>,
    ) -> Result<()> {
        let flags =
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let Placed {
            dir,
            name,
            made: fd,
            temp: temp_name,
        } = self.place(rel, overwrite, |dir, name| {
            rfs::openat(dir, name, flags, Mode::from_raw_mode(0o600))
        })?;
        let mut file = File::from(fd);
        let written =
            fill(&mut file).and_then(|()| self.set_fd_meta(rel, file.as_fd(), &node.meta, true));
        drop(file);
        match (written, temp_name) {
            (Ok(()), Some(temp)) => self.commit(rel, &dir, &name, &temp),
            (Ok(()), None) => Ok(()),
            (Err(e), temp) => {
                let _ = rfs::unlinkat(&dir, temp.as_deref().unwrap_or(&name), AtFlags::empty());
                Err(e)
            }
        }
    }

    /// Makes a symbolic link (its target is stored as is: it is never followed here).
    pub(crate) fn symlink(&self, rel: &Path, node: &Node, overwrite: bool) -> Result<()> {
        let target = node.node_type.to_link().to_path_buf();
        let placed = self.place(rel, overwrite, |dir, name| {
            rfs::symlinkat(&target, dir, name)
        })?;
        self.settle(rel, &placed)?;
        self.set_entry_meta(&placed.dir, &placed.name, &node.meta);
        Ok(())
    }

    /// Links `rel` to the file already restored at `first`.
    pub(crate) fn hard_link(&self, first: &Path, rel: &Path, overwrite: bool) -> Result<()> {
        let (first_dir, first_name) = self.parent(first)?;
        let placed = self.place(rel, overwrite, |dir, name| {
            rfs::linkat(&first_dir, &first_name, dir, name, AtFlags::empty())
        })?;
        self.settle(rel, &placed)?;
        Ok(())
    }

    /// Makes a FIFO, socket or device node (devices need the privilege to).
    pub(crate) fn special(&self, rel: &Path, node: &Node, overwrite: bool) -> Result<()> {
        let (kind, dev) = match &node.node_type {
            NodeType::Fifo => (FileType::Fifo, 0),
            NodeType::Socket => (FileType::Socket, 0),
            NodeType::Dev { device } => (FileType::BlockDevice, *device),
            NodeType::Chardev { device } => (FileType::CharacterDevice, *device),
            _ => return Ok(()),
        };
        let mode = Mode::from_raw_mode(node.meta.mode.map_or(0o600, permissions_from_go));
        let placed = match self.place(rel, overwrite, |dir, name| {
            rfs::mknodat(dir, name, kind, mode, dev as rfs::Dev)
        }) {
            Ok(placed) => placed,
            // Device nodes need privileges: without them they are left out, as restic
            // and the engine library do, rather than failing the whole restore.
            Err(_) if dev != 0 && !is_privileged() => return Ok(()),
            Err(e) => return Err(e),
        };
        self.settle(rel, &placed)?;
        self.set_entry_meta(&placed.dir, &placed.name, &node.meta);
        Ok(())
    }

    /// Sets a directory's owner, mode, attributes and times (after its content, whose
    /// writing changes its modification time).
    pub(crate) fn set_dir_meta(&self, rel: &Path, meta: &Metadata) -> Result<()> {
        let parts: Vec<_> = match rel.as_os_str().is_empty() {
            true => Vec::new(),
            false => {
                let (mut parts, last) = Self::split(rel)?;
                parts.push(last);
                parts
            }
        };
        let dir = self.walk(&parts, false)?.ok_or_else(|| {
            EngineError::Io(format!(
                "{} disappeared during the restore",
                self.shown(rel)
            ))
        })?;
        self.set_fd_meta(rel, dir.as_fd(), meta, !parts.is_empty())
    }

    fn owner(&self, meta: &Metadata) -> (Option<u32>, Option<u32>) {
        let key = (meta.user.clone(), meta.group.clone());
        let mut cache = self.owners.lock().expect("not poisoned");
        *cache.entry(key).or_insert_with(|| {
            let uid = meta
                .user
                .as_deref()
                .and_then(|n| nix::unistd::User::from_name(n).ok().flatten())
                .map(|u| u.uid.as_raw())
                .or(meta.uid);
            let gid = meta
                .group
                .as_deref()
                .and_then(|n| nix::unistd::Group::from_name(n).ok().flatten())
                .map(|g| g.gid.as_raw())
                .or(meta.gid);
            (uid, gid)
        })
    }

    fn set_fd_meta(
        &self,
        rel: &Path,
        fd: std::os::fd::BorrowedFd<'_>,
        meta: &Metadata,
        mode: bool,
    ) -> Result<()> {
        // Ownership as restic restores it: only a privileged process can, others keep
        // their own (the failure is expected and silent, as in restic).
        let (uid, gid) = self.owner(meta);
        let _ = rfs::fchown(fd, uid.map(rfs::Uid::from_raw), gid.map(rfs::Gid::from_raw));
        if mode && let Some(go) = meta.mode {
            rfs::fchmod(fd, Mode::from_raw_mode(permissions_from_go(go)))
                .map_err(|e| self.io("set the mode of", rel, e))?;
        }
        for attr in &meta.extended_attributes {
            let value = attr.value.as_deref().unwrap_or_default();
            let _ = rfs::fsetxattr(fd, attr.name.as_str(), value, rfs::XattrFlags::empty());
        }
        if let Some(times) = timestamps(meta) {
            rfs::futimens(fd, &times).map_err(|e| self.io("set the times of", rel, e))?;
        }
        Ok(())
    }

    /// Owner and times of a link or special file, never following it; best effort, as
    /// restic does for these.
    fn set_entry_meta(&self, dir: &OwnedFd, name: &std::ffi::OsStr, meta: &Metadata) {
        let (uid, gid) = self.owner(meta);
        let _ = rfs::chownat(
            dir,
            name,
            uid.map(rfs::Uid::from_raw),
            gid.map(rfs::Gid::from_raw),
            AtFlags::SYMLINK_NOFOLLOW,
        );
        if let Some(times) = timestamps(meta) {
            let _ = rfs::utimensat(dir, name, &times, AtFlags::SYMLINK_NOFOLLOW);
        }
    }
}

/// Whether this process may make device nodes and give files away (it is root).
fn is_privileged() -> bool {
    nix::unistd::geteuid().is_root()
}

/// What the entry `name` of `dir` is, not following it.
fn kind_at(dir: &OwnedFd, name: &std::ffi::OsStr) -> rustix::io::Result<Existing> {
    match rfs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(stat) => Ok(match FileType::from_raw_mode(stat.st_mode) {
            FileType::RegularFile => Existing::File,
            FileType::Directory => Existing::Dir,
            FileType::Symlink => Existing::Symlink,
            _ => Existing::Special,
        }),
        Err(Errno::NOENT) => Ok(Existing::Absent),
        Err(e) => Err(e),
    }
}

/// A name beside `name` for the new entry that replaces it.
fn temp_name(name: &std::ffi::OsStr) -> std::ffi::OsString {
    let mut random = [0u8; 6];
    getrandom::fill(&mut random).unwrap_or_default();
    let tag: String = random.iter().map(|b| format!("{b:02x}")).collect();
    let mut temp = std::ffi::OsString::from(".reprise-");
    temp.push(tag);
    temp.push("-");
    // Names are at most 255 bytes: keep the temporary one within that.
    let lossy = name.to_string_lossy();
    temp.push(lossy.chars().take(200).collect::<String>());
    temp
}

/// The Unix permission bits of a mode as restic records it (Go's `os.FileMode`: the
/// permission bits, and setuid, setgid and sticky as high flags).
pub(crate) fn permissions_from_go(go: u32) -> u32 {
    const GO_SETUID: u32 = 1 << 23;
    const GO_SETGID: u32 = 1 << 22;
    const GO_STICKY: u32 = 1 << 20;
    let mut mode = go & 0o777;
    if go & GO_SETUID != 0 {
        mode |= 0o4000;
    }
    if go & GO_SETGID != 0 {
        mode |= 0o2000;
    }
    if go & GO_STICKY != 0 {
        mode |= 0o1000;
    }
    mode
}

fn timestamps(meta: &Metadata) -> Option<Timestamps> {
    let spec = |t: &jiff::Timestamp| Timespec {
        tv_sec: t.as_second(),
        tv_nsec: i64::from(t.subsec_nanosecond()) as _,
    };
    let mtime = meta.mtime.as_ref()?;
    Some(Timestamps {
        last_access: spec(meta.atime.as_ref().unwrap_or(mtime)),
        last_modification: spec(mtime),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_modes_become_unix_permissions() {
        assert_eq!(permissions_from_go(0o644), 0o644);
        assert_eq!(
            permissions_from_go((1 << 31) | 0o755),
            0o755,
            "the directory flag is not a permission"
        );
        assert_eq!(permissions_from_go((1 << 23) | 0o755), 0o4755);
        assert_eq!(permissions_from_go((1 << 20) | (1 << 31) | 0o777), 0o1777);
    }

    #[test]
    fn a_link_on_the_way_is_refused_and_nothing_is_written_through_it() {
        let outside = tempfile::tempdir().unwrap();
        let target = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), target.path().join("evil")).unwrap();
        let confined = Confined::open(target.path(), false).unwrap().unwrap();
        let err = confined.probe(Path::new("evil/x.txt")).unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        let err = confined.mkdir(Path::new("evil/sub")).unwrap_err();
        assert!(err.to_string().contains("evil"), "{err}");
        let node = Node::new_node(
            std::ffi::OsStr::new("x.txt"),
            NodeType::File,
            Metadata::default(),
        );
        let err = confined
            .write_file(Path::new("evil/x.txt"), &node, true, |_| Ok(()))
            .unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    }

    #[test]
    fn an_overwrite_replaces_the_name_never_the_file_behind_it() {
        let outside = tempfile::tempdir().unwrap();
        let target = tempfile::tempdir().unwrap();
        let precious = outside.path().join("precious");
        std::fs::write(&precious, b"keep me").unwrap();
        std::fs::hard_link(&precious, target.path().join("linked")).unwrap();
        std::os::unix::fs::symlink(&precious, target.path().join("pointing")).unwrap();
        let confined = Confined::open(target.path(), false).unwrap().unwrap();
        let node = Node::new_node(
            std::ffi::OsStr::new("f"),
            NodeType::File,
            Metadata::default(),
        );
        for name in ["linked", "pointing"] {
            let refused = confined.write_file(Path::new(name), &node, false, |f| {
                std::io::Write::write_all(f, b"new").map_err(|e| EngineError::Io(e.to_string()))
            });
            assert!(
                refused.is_err(),
                "{name} exists and --overwrite was not given"
            );
            confined
                .write_file(Path::new(name), &node, true, |f| {
                    std::io::Write::write_all(f, b"new").map_err(|e| EngineError::Io(e.to_string()))
                })
                .unwrap();
            assert_eq!(std::fs::read(target.path().join(name)).unwrap(), b"new");
        }
        assert_eq!(std::fs::read(&precious).unwrap(), b"keep me");
        let left: Vec<_> = std::fs::read_dir(target.path()).unwrap().collect();
        assert_eq!(left.len(), 2, "no temporary file is left behind");
    }

    #[test]
    fn a_fifo_in_the_way_is_refused_without_blocking() {
        let target = tempfile::tempdir().unwrap();
        let confined = Confined::open(target.path(), false).unwrap().unwrap();
        let root = rfs::open(
            target.path(),
            OFlags::RDONLY | OFlags::DIRECTORY,
            Mode::empty(),
        )
        .unwrap();
        rfs::mknodat(&root, "pipe", FileType::Fifo, Mode::from_raw_mode(0o600), 0).unwrap();
        assert_eq!(
            confined.probe(Path::new("pipe")).unwrap(),
            Existing::Special
        );
        let err = confined.probe(Path::new("pipe/below")).unwrap_err();
        assert!(err.to_string().contains("special file"), "{err}");
    }
}
