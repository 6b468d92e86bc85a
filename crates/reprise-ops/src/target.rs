//! Where a restore may write. A target is resolved first (made absolute, `..` removed,
//! links of the part that exists followed to where they really lead), then refused when
//! it is, holds or lies inside a place Reprise or the system depends on: the workspace's
//! configuration and state, the catalog, keys and secrets, local repositories, system
//! directories. An operator may not write inside the workspace at all (its scripts run
//! as the server's user), only into Reprise's own restore areas there. An administrator
//! may pass an override with a reason, which is journaled with the restore.

use std::path::{Component, Path, PathBuf};

use reprise_domain::RepoBackend;

use crate::error::{AppError, AppResult};
use reprise_workspace::workspace::{CatalogLocation, Loaded};

/// Who asks for the restore.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authority {
    /// An administrator, or the command line (whoever runs it holds the workspace's keys).
    Admin,
    /// An operator of the API or web UI, or a request's requester.
    Operator,
}

/// How the target of a restore is judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guard {
    pub authority: Authority,
    /// An administrator's reason to restore into a protected place anyway.
    pub override_reason: Option<String>,
}

impl Guard {
    pub fn admin() -> Self {
        Self {
            authority: Authority::Admin,
            override_reason: None,
        }
    }

    pub fn operator() -> Self {
        Self {
            authority: Authority::Operator,
            override_reason: None,
        }
    }

    /// The guard of an account of the API or web UI: administrators may override.
    pub fn for_role(role: reprise_domain::access::Role) -> Self {
        match role {
            reprise_domain::access::Role::Admin => Self::admin(),
            _ => Self::operator(),
        }
    }
}

/// Directories of the system a restore never writes into (nor a target that holds them).
const SYSTEM: &[&str] = &[
    "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/run",
    "/sbin", "/sys", "/usr",
];

/// More places only an administrator may restore into: they hold what runs as root.
const OPERATOR_FORBIDDEN: &[&str] = &["/root", "/var/spool", "/var/lib/systemd"];

/// The directories of `.reprise/` that Reprise itself restores into (incident steps,
/// drill sandboxes, restore requests).
pub(crate) const RESTORE_AREAS: &[&str] = &["recovery", "drills", "requests"];

/// Refuses a path that holds control characters: they would be printed raw, and a NUL
/// byte cannot name a file at all.
pub fn check_text(field: &str, path: &Path) -> AppResult<()> {
    let text = path.to_string_lossy();
    if let Some(c) = text.chars().find(|c| c.is_control()) {
        return Err(AppError::Invalid(format!(
            "`{field}` holds a control character ({:?}): not a path a restore can use",
            c
        )));
    }
    Ok(())
}

/// `path` made absolute (from the current directory), without `.` and `..`, and with
/// the part that exists resolved through its links.
pub fn resolve(path: &Path) -> AppResult<PathBuf> {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| AppError::Failed(format!("cannot read the current directory: {e}")))?
            .join(path)
    };
    let mut lexical = PathBuf::from("/");
    for c in absolute.components() {
        match c {
            Component::Normal(name) => lexical.push(name),
            Component::ParentDir => {
                lexical.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    // The deepest part that exists, resolved; the rest does not exist, so holds no link.
    let mut existing = lexical.as_path();
    let mut rest = Vec::new();
    loop {
        match existing.canonicalize() {
            Ok(real) => {
                let mut out = real;
                out.extend(rest.iter().rev());
                return Ok(out);
            }
            Err(_) => match (existing.parent(), existing.file_name()) {
                (Some(parent), Some(name)) => {
                    rest.push(name.to_os_string());
                    existing = parent;
                }
                _ => return Ok(lexical),
            },
        }
    }
}

/// One place a restore must not touch, and why.
struct Protected {
    path: PathBuf,
    what: String,
}

fn protected(loaded: &Loaded, catalog: Option<&CatalogLocation>) -> Vec<Protected> {
    let ws = &loaded.workspace;
    let mut out = Vec::new();
    let mut add = |path: PathBuf, what: String| {
        if let Ok(path) = resolve(&path) {
            out.push(Protected { path, what });
        }
    };
    add(ws.config_path(), "the workspace's configuration".into());
    add(crate::keys::master_key_path(ws), "the master key".into());
    add(crate::secrets::dir(ws), "the encrypted secrets".into());
    if let Some(CatalogLocation::Sqlite(file)) = catalog {
        add(file.clone(), "the catalog".into());
    }
    let inventory = &loaded.config.inventory;
    for repo in &inventory.repositories {
        if let RepoBackend::Local { path } = &repo.backend {
            add(ws.resolve(path), format!("repository `{}`", repo.id));
        }
        if let RepoBackend::Sftp {
            ssh_key: Some(key), ..
        } = &repo.backend
        {
            add(
                ws.resolve(key),
                format!("the ssh key of repository `{}`", repo.id),
            );
        }
        if let Some(file) = &repo.password_file {
            add(
                ws.resolve(file),
                format!("the key file of repository `{}`", repo.id),
            );
        }
    }
    for n in &inventory.notifiers {
        if let reprise_domain::Channel::Email(mail) = &n.channel
            && let Some(file) = &mail.password_file
        {
            add(
                ws.resolve(file),
                format!("the password file of notifier `{}`", n.id),
            );
        }
    }
    let server = &loaded.config.server;
    for file in [&server.tls_cert, &server.tls_key].into_iter().flatten() {
        add(
            ws.resolve(file),
            "the server's TLS certificate or key".into(),
        );
    }
    out
}

/// Resolves a restore target and checks it against the places a restore must not touch.
/// Returns the resolved target, which is where the restore then writes.
pub fn check(
    loaded: &Loaded,
    catalog: Option<&CatalogLocation>,
    target: &Path,
    guard: &Guard,
) -> AppResult<PathBuf> {
    check_text("target", target)?;
    let resolved = resolve(target)?;
    if guard.override_reason.is_some() {
        if guard.authority != Authority::Admin {
            return Err(AppError::Refused(
                "only an administrator may restore into a protected place".into(),
            ));
        }
        return Ok(resolved);
    }
    let refuse = |what: &str, path: &Path| {
        AppError::Refused(format!(
            "the target {} {} {what} ({}): a restore never writes over what Reprise or the \
             system runs from; choose another directory{}",
            resolved.display(),
            if resolved == path {
                "is"
            } else if resolved.starts_with(path) {
                "lies inside"
            } else {
                "holds"
            },
            path.display(),
            if guard.authority == Authority::Admin {
                ", or give an override with its reason (journaled)"
            } else {
                ""
            }
        ))
    };
    let overlaps = |path: &Path| resolved.starts_with(path) || path.starts_with(&resolved);
    let root = resolve(&loaded.workspace.root)?;
    let state = resolve(&loaded.workspace.state_dir())?;
    let in_area = RESTORE_AREAS
        .iter()
        .any(|a| resolved.starts_with(state.join(a)) && resolved != state.join(a));
    // Reprise's own restore areas (under its state directory, wherever the workspace
    // lives: /etc, a home directory) stay allowed.
    if !in_area {
        for dir in SYSTEM {
            if overlaps(Path::new(dir)) {
                return Err(refuse("a system directory", Path::new(dir)));
            }
        }
    }
    if guard.authority == Authority::Operator && !in_area {
        for dir in OPERATOR_FORBIDDEN {
            if overlaps(Path::new(dir)) {
                return Err(refuse(
                    "a directory of the system's administrators",
                    Path::new(dir),
                ));
            }
        }
        if let Some(home) = std::env::var_os("HOME").map(PathBuf::from)
            && let Ok(home) = resolve(&home)
            && home != Path::new("/")
            && overlaps(&home)
        {
            return Err(refuse("the home directory of Reprise's user", &home));
        }
    }
    if !in_area {
        if root.starts_with(&resolved) {
            return Err(refuse("the workspace", &root));
        }
        if resolved.starts_with(&state) {
            return Err(refuse("Reprise's state directory", &state));
        }
        if guard.authority == Authority::Operator && resolved.starts_with(&root) {
            return Err(refuse(
                "the workspace, whose files are the configuration and the scripts it runs",
                &root,
            ));
        }
    }
    for p in protected(loaded, catalog) {
        if overlaps(&p.path) {
            return Err(refuse(&p.what, &p.path));
        }
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolution_removes_dots_and_follows_existing_links() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().canonicalize().unwrap();
        std::fs::create_dir(real.join("a")).unwrap();
        std::os::unix::fs::symlink("/etc", real.join("a/evil")).unwrap();
        assert_eq!(resolve(&real.join("a/./b/../c")).unwrap(), real.join("a/c"));
        assert_eq!(
            resolve(&real.join("a/evil/new")).unwrap(),
            Path::new("/etc/new")
        );
    }

    #[test]
    fn restore_areas_are_allowed_and_the_rest_of_the_state_directory_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (ws, _) = reprise_workspace::workspace::create(
            dir.path(),
            reprise_workspace::workspace::INIT_TEMPLATE,
        )
        .unwrap();
        let loaded = ws.load().unwrap();
        let state = ws.state_dir();
        for guard in [Guard::operator(), Guard::admin()] {
            let sandbox = state.join("drills/app-files-1");
            assert_eq!(
                check(&loaded, None, &sandbox, &guard).unwrap(),
                resolve(&sandbox).unwrap()
            );
            for refused in [state.join("keys/x"), state.join("drills"), ws.root.clone()] {
                let err = check(&loaded, None, &refused, &guard).unwrap_err();
                assert!(matches!(err, AppError::Refused(_)), "{err}");
            }
        }
        let inside = ws.root.join("scripts");
        assert!(check(&loaded, None, &inside, &Guard::operator()).is_err());
        assert!(check(&loaded, None, &inside, &Guard::admin()).is_ok());
        let overridden = Guard {
            override_reason: Some("inspection".into()),
            ..Guard::operator()
        };
        assert!(check(&loaded, None, &ws.root, &overridden).is_err());
    }

    #[test]
    fn control_characters_are_refused() {
        assert!(check_text("target", Path::new("/srv/a\u{1b}[2Jb")).is_err());
        assert!(check_text("target", Path::new("/srv/a\0b")).is_err());
        assert!(check_text("target", Path::new("/srv/restauré")).is_ok());
    }
}
