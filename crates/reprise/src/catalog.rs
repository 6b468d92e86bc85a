//! The one place that picks a catalog implementation.

use reprise_catalog::Catalog;
use reprise_catalog_sql::{PostgresCatalog, SqliteCatalog};
use reprise_workspace::workspace::CatalogLocation;

pub async fn open(location: &CatalogLocation) -> anyhow::Result<Box<dyn Catalog>> {
    Ok(match location {
        CatalogLocation::Sqlite(path) => Box::new(SqliteCatalog::open(path).await?),
        CatalogLocation::Postgres(url) => Box::new(PostgresCatalog::connect(url).await?),
    })
}

/// The catalog at `location`, journaling every change of state as `actor` under the
/// workspace's master key (created the first time, while the journal is empty).
pub async fn open_journaled(
    ws: &reprise_workspace::workspace::Workspace,
    location: &CatalogLocation,
    actor: &str,
) -> anyhow::Result<Box<dyn Catalog>> {
    let inner = open(location).await?;
    let journaled = reprise_ops::journal::open(ws, inner, actor)
        .await
        .map_err(anyhow::Error::msg)?;
    Ok(Box::new(journaled))
}
