//! How the configuration's commands run — data-set dumps, hooks, drill and restore
//! checks: `sh -c`, as the server's user, or as `[server] commands_user` when set, so a
//! dump command need not run as root. Only an administrator writes `reprise.toml`, so only
//! an administrator chooses what runs (SECURITY.md).

use crate::error::{AppError, AppResult};

/// `sh -c command`, as `user` when given (its uid, primary group and home; supplementary
/// groups dropped).
pub fn shell(command: &str, user: Option<&str>) -> AppResult<tokio::process::Command> {
    let mut cmd = tokio::process::Command::new("sh");
    cmd.args(["-c", command]);
    if let Some(name) = user {
        let account = nix::unistd::User::from_name(name)
            .map_err(|e| AppError::Failed(format!("cannot look up user `{name}`: {e}")))?
            .ok_or_else(|| {
                AppError::Invalid(format!(
                    "[server] commands_user: no user `{name}` on this machine"
                ))
            })?;
        // The standard library drops supplementary groups when it changes the uid.
        cmd.uid(account.uid.as_raw())
            .gid(account.gid.as_raw())
            .env("HOME", &account.dir)
            .env("USER", name)
            .env("LOGNAME", name);
    }
    Ok(cmd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_user_is_named() {
        let err = shell("true", Some("no-such-user-here")).unwrap_err();
        assert!(
            err.to_string().contains("no user `no-such-user-here`"),
            "{err}"
        );
    }
}
