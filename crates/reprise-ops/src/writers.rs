//! Writers: credentials that may only append backups to one local repository, over
//! restic's REST protocol served by `reprise serve` (`/rest/REPO/`) — the rights of
//! restic's rest-server in `--append-only` mode, per credential. A writer reads its
//! repository (restic needs the index and the parent snapshot), adds files that do not
//! exist yet, removes its own lock files; it can neither delete nor rewrite anything, nor
//! reach another repository. Forget, prune, verification and erasure stay with Reprise.
//!
//! A writer is a token of the catalog whose owner is `writer:REPO` (a name no account
//! can take, so it opens no API route), scoped to the assets it backs up: a snapshot it
//! adds becomes a restore point only when it is tagged with one of them.

use jiff::{SignedDuration, Timestamp};
use reprise_catalog::{Catalog, TokenRow};
use reprise_domain::{Interval, RepoBackend};
use serde::Serialize;

use crate::context::Ctx;
use crate::error::{AppError, AppResult};
use crate::tokens;

/// The role of a writer token.
const ROLE: &str = "writer";

/// The owner of the writer tokens of a repository.
fn owner(repository: &str) -> String {
    format!("writer:{repository}")
}

/// One writer, as listed (never its token).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Writer {
    pub repository: String,
    pub name: String,
    /// The assets whose snapshots it adds count as their restore points.
    pub assets: Vec<String>,
    pub created: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked: Option<Timestamp>,
    /// A host's agent (`reprise agent`) rather than a writer made by hand.
    #[serde(skip)]
    pub agent: bool,
}

fn writer_of(row: &TokenRow) -> Option<Writer> {
    if row.role.as_deref() != Some(ROLE) {
        return None;
    }
    let repository = row.user.as_deref()?.strip_prefix("writer:")?.to_string();
    let assets = row
        .scope
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .filter_map(|part| part.strip_prefix("asset:"))
        .map(str::to_string)
        .collect();
    Some(Writer {
        repository,
        name: row.name.clone(),
        assets,
        created: row.created,
        expires: row.expires,
        revoked: row.revoked,
        agent: false,
    })
}

/// Makes a writer for the local repository `repository`, backing up `assets` (each of
/// which must keep its points there); returns its token, shown once.
pub async fn add(
    ctx: &Ctx<'_>,
    repository: &str,
    name: &str,
    assets: &[String],
    expires_in: Option<Interval>,
    now: Timestamp,
) -> AppResult<(String, Writer)> {
    let repo = ctx.repository(repository)?;
    if !matches!(repo.backend, RepoBackend::Local { .. }) {
        return Err(AppError::Invalid(format!(
            "repository `{repository}` is not a local directory: `reprise serve` serves only local repositories to writers"
        )));
    }
    let named = !name.trim().is_empty()
        && name.chars().count() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if !named {
        return Err(AppError::Invalid(format!(
            "`{name}` is not a writer name: 1 to 64 letters, digits, - _ . (the host's name, `mail-01`)"
        )));
    }
    if assets.is_empty() {
        return Err(AppError::Invalid(
            "give the assets this writer backs up (`--asset ID`, repeated)".into(),
        ));
    }
    for id in assets {
        let asset = ctx.asset(id)?;
        let writes_here = ctx
            .repositories_of(asset)?
            .iter()
            .any(|r| r.id.as_str() == repository);
        if !writes_here {
            return Err(AppError::Invalid(format!(
                "asset `{id}` keeps no restore points in repository `{repository}` (its policy's repository and copies)"
            )));
        }
    }
    let user = owner(repository);
    if tokens::has_live(ctx.catalog, &user, name, now).await? {
        return Err(AppError::Invalid(format!(
            "repository `{repository}` already has a writer `{name}`: revoke it first, or choose another name"
        )));
    }
    let token = tokens::new_token()?;
    let row = TokenRow {
        hash: tokens::hash(&token),
        name: name.to_string(),
        user: Some(user),
        role: Some(ROLE.into()),
        scope: Some(
            assets
                .iter()
                .map(|a| format!("asset:{a}"))
                .collect::<Vec<_>>()
                .join(","),
        ),
        created: now,
        expires: expires_in.map(|i| {
            now + SignedDuration::from_secs(i64::try_from(i.as_secs()).unwrap_or(i64::MAX))
        }),
        revoked: None,
    };
    ctx.catalog.create_token(&row).await?;
    let writer = writer_of(&row).expect("a writer row");
    Ok((token, writer))
}

/// The writers of every repository (or of `repository`), revoked ones too.
pub async fn list(catalog: &dyn Catalog, repository: Option<&str>) -> AppResult<Vec<Writer>> {
    let mut out: Vec<Writer> = catalog
        .tokens()
        .await?
        .iter()
        .filter_map(writer_of)
        .filter(|w| repository.is_none_or(|r| w.repository == r))
        .collect();
    out.sort_by(|a, b| (&a.repository, &a.name).cmp(&(&b.repository, &b.name)));
    Ok(out)
}

/// Revokes a writer: its next request is refused. Returns whether there was one.
pub async fn revoke(
    catalog: &dyn Catalog,
    repository: &str,
    name: &str,
    now: Timestamp,
) -> AppResult<bool> {
    tokens::revoke(catalog, &owner(repository), name, now).await
}

/// The live writer a token belongs to, for `repository`; `None` when the token is
/// unknown, revoked, expired, or another repository's.
pub async fn authenticate(
    catalog: &dyn Catalog,
    repository: &str,
    token: &str,
    now: Timestamp,
) -> AppResult<Option<Writer>> {
    let Some(row) = catalog.token(&tokens::hash(token)).await? else {
        return Ok(None);
    };
    if row.revoked.is_some() || row.expires.is_some_and(|e| e <= now) {
        return Ok(None);
    }
    Ok(writer_of(&row).filter(|w| w.repository == repository))
}

/// What became of a snapshot a writer added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Added {
    /// A restore point of one of the writer's assets.
    Point { asset: String },
    /// Tagged for no asset of the writer: kept in the repository, never a restore point.
    Foreign,
}

/// Records a snapshot a writer added to `repository`: the catalog learns it, and it is a
/// restore point (provenance `writer`, by the writer's name) when tagged `asset:ID` for
/// one of the writer's assets; otherwise it stays foreign, journaled.
pub async fn snapshot_added(ctx: &Ctx<'_>, writer: &Writer, snapshot: &str) -> AppResult<Added> {
    let repo = ctx.repository(&writer.repository)?;
    let open = crate::repos::open(ctx.workspace(), repo, ctx.progress.clone()).await?;
    let snaps = crate::points::sync(ctx, &writer.repository, open).await?;
    // The catalog names snapshots as the engine lists them (a prefix of the file's name).
    let listed = snaps.iter().find(|s| snapshot.starts_with(s.id.as_str()));
    let asset = listed
        .and_then(|s| s.tag("asset"))
        .filter(|a| writer.assets.iter().any(|w| w == a))
        .map(str::to_string);
    match (asset, listed) {
        (Some(asset), Some(listed)) => {
            crate::points::trust(
                ctx,
                &writer.repository,
                &listed.id,
                if writer.agent { "agent" } else { "writer" },
                Some(&writer.name),
                None,
            )
            .await?;
            Ok(Added::Point { asset })
        }
        _ => {
            ctx.catalog
                .note(
                    "writer.foreign",
                    &writer.repository,
                    &format!(
                        "writer `{}` added snapshot {} tagged for none of its assets ({}): it is no restore point",
                        writer.name,
                        reprise_workspace::text::short(snapshot),
                        writer.assets.join(", ")
                    ),
                )
                .await?;
            Ok(Added::Foreign)
        }
    }
}

/// Journals a request a writer (or an unknown credential) was refused.
pub async fn refused(catalog: &dyn Catalog, repository: &str, who: &str, what: &str) {
    let _ = catalog
        .note(
            "writer.refused",
            repository,
            &format!("{who}: {what} refused"),
        )
        .await;
}
