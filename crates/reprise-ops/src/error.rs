//! The errors of the use cases.

use reprise_catalog::CatalogError;
use reprise_engine::EngineError;

use reprise_workspace::workspace::WorkspaceError;

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
    /// Understood, and refused by a rule (a protected restore target, a role's limit):
    /// nothing was done.
    #[error("{0}")]
    Refused(String),
    /// Something runs that this must not run beside (a backup beside a prune): nothing
    /// was done; try again when it ends.
    #[error("{0}")]
    Busy(String),
    /// What the request names does not exist (an asset, an incident, a request, an
    /// erasure, an account, a repository).
    #[error("{0}")]
    NotFound(String),
    /// Someone else changed it meanwhile, or it is no longer in a state that allows this.
    #[error("{0}")]
    Conflict(String),
}

/// What kind of failure an error is: what the API answers (404, 409, 400, 403, 500),
/// what the web UI says, and the CLI's exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    NotFound,
    /// The user's input is wrong (an unknown word, a missing field).
    Invalid,
    /// Changed meanwhile by someone else (a stale save), or in the wrong state.
    Conflict,
    /// Something else runs that this must not run beside: try again when it ends.
    Busy,
    /// Refused by a rule: nothing was done.
    Refused,
    /// The operation itself failed (I/O, a repository, the catalog).
    Failed,
}

impl AppError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            AppError::NotFound(_) => ErrorKind::NotFound,
            AppError::Invalid(_) => ErrorKind::Invalid,
            AppError::Workspace(WorkspaceError::Invalid { .. }) => ErrorKind::Invalid,
            AppError::Conflict(_) | AppError::Catalog(CatalogError::Conflict { .. }) => {
                ErrorKind::Conflict
            }
            AppError::Busy(_) => ErrorKind::Busy,
            AppError::Refused(_) => ErrorKind::Refused,
            AppError::Engine(EngineError::NoSuchSnapshot(_) | EngineError::NoSuchPath(_)) => {
                ErrorKind::NotFound
            }
            // The target holds what the restore would replace, or a link in its way.
            AppError::Engine(EngineError::Refused(_)) => ErrorKind::Conflict,
            _ => ErrorKind::Failed,
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;
