//! The errors of the use cases.

use reprise_catalog::CatalogError;
use reprise_engine::EngineError;

use crate::workspace::WorkspaceError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request names something that does not exist or cannot work (an unknown asset,
    /// an asset with nothing to back up): the user's input, not the operation.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("{0}")]
    Failed(String),
    /// Something runs that this must not run beside (a backup beside a prune): nothing
    /// was done; try again when it ends.
    #[error("{0}")]
    Busy(String),
}

pub type AppResult<T> = Result<T, AppError>;
