//! The one place that picks a catalog implementation.

use reprise_app::workspace::CatalogLocation;
use reprise_catalog::Catalog;
use reprise_catalog_postgres::PostgresCatalog;
use reprise_catalog_sqlite::SqliteCatalog;

pub async fn open(location: &CatalogLocation) -> anyhow::Result<Box<dyn Catalog>> {
    Ok(match location {
        CatalogLocation::Sqlite(path) => Box::new(SqliteCatalog::open(path).await?),
        CatalogLocation::Postgres(url) => Box::new(PostgresCatalog::connect(url).await?),
    })
}
