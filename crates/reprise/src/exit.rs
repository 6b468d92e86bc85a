//! Exit codes, documented in the README and relied on by scripts:
//! - 0: success;
//! - 1: the operation failed (I/O, catalog unreachable, a check that found problems in
//!   what it checked);
//! - 2: bad usage or invalid input: unknown arguments, no workspace, an invalid
//!   configuration, an unreadable import file, an unknown asset, a restore target
//!   refused (a protected place);
//! - 3: done, and a person must look: a backup whose restore point is suspect.

use reprise_ops::error::{AppError, ErrorKind};
use reprise_workspace::config::Severity;
use reprise_workspace::import::ImportError;
use reprise_workspace::workspace::WorkspaceError;

pub const SUCCESS: u8 = 0;
pub const FAILURE: u8 = 1;
pub const USAGE: u8 = 2;
pub const ATTENTION: u8 = 3;

/// An error that is the user's input, not the operation: exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

pub fn code_for(err: &anyhow::Error) -> u8 {
    if err.downcast_ref::<UsageError>().is_some() {
        return USAGE;
    }
    if let Some(ws) = err.downcast_ref::<WorkspaceError>() {
        return match ws {
            WorkspaceError::NotFound { .. }
            | WorkspaceError::NotAWorkspace { .. }
            | WorkspaceError::AlreadyExists { .. }
            | WorkspaceError::Invalid { .. } => USAGE,
            _ => FAILURE,
        };
    }
    if let Some(app) = err.downcast_ref::<AppError>() {
        return match app.kind() {
            ErrorKind::Invalid | ErrorKind::NotFound | ErrorKind::Refused => USAGE,
            // Asked of something in the wrong state (a cancelled erasure run): the
            // user's request. A save made stale by someone else is a failure: retry.
            ErrorKind::Conflict if matches!(app, AppError::Conflict(_)) => USAGE,
            _ => FAILURE,
        };
    }
    if let Some(import) = err.downcast_ref::<ImportError>() {
        return match import {
            ImportError::Rows { .. } | ImportError::Invalid { .. } => USAGE,
            _ => FAILURE,
        };
    }
    FAILURE
}

/// Prints an error to standard error, with every located problem it carries.
pub fn report(err: &anyhow::Error) {
    if let Some(WorkspaceError::Invalid { file, diagnostics }) = err.downcast_ref() {
        for d in diagnostics {
            eprintln!("{d}");
        }
        let errors = diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count();
        eprintln!(
            "error: {} is invalid ({errors} error{})",
            file.display(),
            if errors == 1 { "" } else { "s" }
        );
        return;
    }
    if let Some(ImportError::Rows { file, errors }) = err.downcast_ref() {
        for e in errors {
            match &e.column {
                Some(c) => eprintln!("{}:{}: column `{c}`: {}", file.display(), e.line, e.message),
                None => eprintln!("{}:{}: {}", file.display(), e.line, e.message),
            }
        }
    }
    if let Some(ImportError::Invalid { diagnostics, .. }) = err.downcast_ref() {
        for d in diagnostics {
            eprintln!("{d}");
        }
    }
    eprintln!("error: {}", crate::output::term(&err.to_string()));
    let mut source = err.source();
    while let Some(cause) = source {
        eprintln!("  caused by: {}", crate::output::term(&cause.to_string()));
        source = cause.source();
    }
}

/// What kind of error it is, in one word scripts can match (`invalid_configuration`,
/// `not_found`…): the `code` of the JSON error.
pub fn code_name(err: &anyhow::Error) -> &'static str {
    if err.downcast_ref::<UsageError>().is_some() {
        return "usage";
    }
    if let Some(ws) = err.downcast_ref::<WorkspaceError>() {
        return match ws {
            WorkspaceError::NotFound { .. } | WorkspaceError::NotAWorkspace { .. } => {
                "no_workspace"
            }
            WorkspaceError::AlreadyExists { .. } => "already_exists",
            WorkspaceError::Invalid { .. } => "invalid_configuration",
            _ => "failed",
        };
    }
    if let Some(app) = err.downcast_ref::<AppError>() {
        return match app.kind() {
            ErrorKind::NotFound => "not_found",
            ErrorKind::Invalid => "invalid",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Busy => "busy",
            ErrorKind::Refused => "refused",
            ErrorKind::Failed => "failed",
        };
    }
    if let Some(ImportError::Rows { .. } | ImportError::Invalid { .. }) = err.downcast_ref() {
        return "invalid_import";
    }
    "failed"
}

/// The error as one JSON object on standard error: `code`, `message` (with its causes),
/// and the located problems of a configuration or an import when there are any.
pub fn report_json(err: &anyhow::Error) {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        message = format!("{message}: {cause}");
        source = cause.source();
    }
    let mut problems: Vec<String> = Vec::new();
    if let Some(WorkspaceError::Invalid { diagnostics, .. }) = err.downcast_ref() {
        problems.extend(diagnostics.iter().map(ToString::to_string));
    }
    if let Some(ImportError::Rows { file, errors }) = err.downcast_ref() {
        problems.extend(errors.iter().map(|e| match &e.column {
            Some(c) => format!("{}:{}: column `{c}`: {}", file.display(), e.line, e.message),
            None => format!("{}:{}: {}", file.display(), e.line, e.message),
        }));
    }
    if let Some(ImportError::Invalid { diagnostics, .. }) = err.downcast_ref() {
        problems.extend(diagnostics.iter().map(ToString::to_string));
    }
    let mut body = serde_json::json!({ "code": code_name(err), "message": message });
    if !problems.is_empty() {
        body["problems"] = serde_json::json!(problems);
    }
    eprintln!("{body}");
}

/// A command line clap could not read, as JSON.
pub fn report_usage_json(text: &str) {
    let message = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim_start_matches("error: ")
        .to_string();
    eprintln!(
        "{}",
        serde_json::json!({ "code": "usage", "message": message })
    );
}
