//! The Reprise catalog in SQL, on SQLite (the zero-setup default) or PostgreSQL.
//!
//! The queries are written once, in `body.rs`, with `$1` placeholders that both drivers
//! take; each dialect's module names its pool and row types and the few things it really
//! does differently (how a write transaction starts, which tables it locks, the newest row
//! per group, how it exports a consistent copy). Both run the conformance suite of
//! `reprise-catalog` on a real database.

mod postgres;
mod sqlite;

pub use postgres::{PostgresCatalog, redact};
pub use sqlite::SqliteCatalog;
