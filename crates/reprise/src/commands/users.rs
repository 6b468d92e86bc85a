//! `reprise user add|list|set|passwd`, `reprise token create|list|revoke` and
//! `reprise secret set|list|show|delete`.

use std::io::BufRead;

use jiff::Timestamp;
use reprise_domain::Interval;
use reprise_ops::tokens::{self, UserChange};

use super::Session;
use crate::cli::{Global, SecretCommand, TokenCommand, UserCommand};
use crate::exit::{self, UsageError};
use crate::output::{Table, local_time, print_json};

/// One line of standard input, without its line ending: passwords never go through
/// arguments, where other users of the machine could read them.
fn password_from_stdin() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\n', '\r']).to_string();
    if password.is_empty() {
        return Err(UsageError("no password on standard input".into()).into());
    }
    Ok(password)
}

pub async fn user(global: &Global, cmd: UserCommand) -> anyhow::Result<u8> {
    let session = Session::open(global).await?;
    let catalog = &*session.catalog;
    let now = Timestamp::now();
    match cmd {
        UserCommand::Add {
            name,
            role,
            scope,
            password_stdin,
        } => {
            let password = password_stdin.then(password_from_stdin).transpose()?;
            let user =
                tokens::add_user(catalog, &name, &role, &scope, password.as_deref(), now).await?;
            println!(
                "Account `{}` created: {}{}{}.",
                user.name,
                user.role,
                if user.scope.is_empty() {
                    String::new()
                } else {
                    format!(", limited to {}", user.scope)
                },
                if password.is_some() {
                    ", with a password"
                } else {
                    ", tokens only (`reprise user passwd` sets a password)"
                }
            );
        }
        UserCommand::List { json } => {
            let users = catalog.users().await?;
            if json {
                print_json(&users)?;
                return Ok(exit::SUCCESS);
            }
            let mut table =
                Table::new(&["ACCOUNT", "ROLE", "SCOPE", "PASSWORD", "STATE", "CREATED"]);
            for u in &users {
                let state = match (u.disabled, u.locked_until) {
                    (Some(_), _) => "disabled".to_string(),
                    (None, Some(until)) if until > now => {
                        format!("locked until {}", local_time(until, &session.tz))
                    }
                    _ => "active".into(),
                };
                table.row(vec![
                    u.name.clone(),
                    u.role.clone(),
                    if u.scope.is_empty() {
                        "everything".into()
                    } else {
                        u.scope.clone()
                    },
                    if u.password_hash.is_some() {
                        "set"
                    } else {
                        "-"
                    }
                    .into(),
                    state,
                    local_time(u.created, &session.tz),
                ]);
            }
            print!("{}", table.render());
        }
        UserCommand::Set {
            name,
            role,
            scope,
            lang,
            disable,
            enable,
            unlock,
        } => {
            let change = UserChange {
                role,
                scope,
                lang,
                disabled: if disable {
                    Some(true)
                } else if enable {
                    Some(false)
                } else {
                    None
                },
                unlock,
                password: None,
            };
            let u = tokens::change_user(catalog, &name, &change, now).await?;
            println!(
                "Account `{}`: {}, {}{}.",
                u.name,
                u.role,
                if u.scope.is_empty() {
                    "everything"
                } else {
                    &u.scope
                },
                if u.disabled.is_some() {
                    ", disabled"
                } else {
                    ""
                }
            );
        }
        UserCommand::Passwd { name } => {
            let change = UserChange {
                password: Some(password_from_stdin()?),
                ..UserChange::default()
            };
            tokens::change_user(catalog, &name, &change, now).await?;
            println!("Password of `{name}` changed.");
        }
    }
    Ok(exit::SUCCESS)
}

pub async fn token(global: &Global, cmd: TokenCommand) -> anyhow::Result<u8> {
    let session = Session::open(global).await?;
    let catalog = &*session.catalog;
    let now = Timestamp::now();
    match cmd {
        TokenCommand::Create {
            name,
            user,
            role,
            scope,
            expires,
        } => {
            let expires = expires
                .map(|e| Interval::parse(&e).map_err(|e| UsageError(format!("--expires: {e}"))))
                .transpose()?;
            let (token, row) = tokens::create(
                catalog,
                &user,
                &name,
                role.as_deref(),
                scope.as_deref(),
                expires,
                now,
            )
            .await?;
            println!(
                "API token `{name}` of `{user}`{} (shown once; store it in your secrets manager):",
                row.expires
                    .map(|e| format!(", until {}", local_time(e, &session.tz)))
                    .unwrap_or_default()
            );
            println!("{token}");
        }
        TokenCommand::List { json } => {
            let all = catalog.tokens().await?;
            if json {
                print_json(&all)?;
                return Ok(exit::SUCCESS);
            }
            let mut table = Table::new(&["TOKEN", "ACCOUNT", "ROLE", "SCOPE", "CREATED", "STATE"]);
            for t in &all {
                let state = match (t.revoked, t.expires) {
                    (Some(at), _) => format!("revoked {}", local_time(at, &session.tz)),
                    (None, Some(e)) if e <= now => {
                        format!("expired {}", local_time(e, &session.tz))
                    }
                    (None, Some(e)) => format!("until {}", local_time(e, &session.tz)),
                    (None, None) => "active".into(),
                };
                table.row(vec![
                    t.name.clone(),
                    t.user
                        .clone()
                        .unwrap_or_else(|| "(before accounts: every right)".into()),
                    t.role.clone().unwrap_or_else(|| "account's".into()),
                    t.scope.clone().unwrap_or_else(|| "account's".into()),
                    local_time(t.created, &session.tz),
                    state,
                ]);
            }
            print!("{}", table.render());
        }
        TokenCommand::Revoke { name, user } => {
            if !tokens::revoke(catalog, &user, &name, now).await? {
                return Err(UsageError(format!(
                    "`{user}` has no live token `{name}` (see `reprise token list`)"
                ))
                .into());
            }
            println!("Token `{name}` of `{user}` revoked.");
        }
    }
    Ok(exit::SUCCESS)
}

/// Secrets need the workspace and its master key, not the catalog: `secret show` runs as
/// restic's password command, possibly while the catalog is down.
pub async fn secret(global: &Global, cmd: SecretCommand) -> anyhow::Result<u8> {
    use std::io::{IsTerminal, Write};
    let ws = super::find_workspace(global)?;
    let now = Timestamp::now();
    match cmd {
        SecretCommand::Set { name } => {
            let value = password_from_stdin()?;
            let stored = reprise_ops::secrets::set(&ws, &name, &value, now)?;
            let session = Session::open(global).await?;
            session
                .catalog
                .note(
                    "secret.set",
                    &format!("secret {name}"),
                    "value replaced, never recorded",
                )
                .await?;
            println!(
                "Secret `{name}` stored, encrypted under the master key{}.",
                if stored.created == stored.rotated {
                    String::new()
                } else {
                    " (replacing the previous value)".into()
                }
            );
        }
        SecretCommand::List { json } => {
            let all = reprise_ops::secrets::list(&ws)?;
            if json {
                print_json(&all)?;
                return Ok(exit::SUCCESS);
            }
            let tz = super::zone(None);
            let mut table = Table::new(&["SECRET", "CREATED", "CHANGED"]);
            for s in &all {
                table.row(vec![
                    s.name.clone(),
                    local_time(s.created, &tz),
                    local_time(s.rotated, &tz),
                ]);
            }
            print!("{}", table.render());
        }
        SecretCommand::Show { name } => {
            if std::io::stdout().is_terminal() {
                return Err(UsageError(format!(
                    "secret `{name}` is not shown on a terminal: it is for programs (RESTIC_PASSWORD_COMMAND), through a pipe"
                ))
                .into());
            }
            let value = reprise_ops::secrets::get(&ws, &name)?;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{value}")?;
        }
        SecretCommand::Delete { name } => {
            if !reprise_ops::secrets::delete(&ws, &name)? {
                return Err(UsageError(format!("no secret `{name}`")).into());
            }
            let session = Session::open(global).await?;
            session
                .catalog
                .note("secret.deleted", &format!("secret {name}"), "")
                .await?;
            println!("Secret `{name}` removed.");
        }
    }
    Ok(exit::SUCCESS)
}
