//! Reprise's use cases: everything a front end (the CLI today, the HTTP server later) asks
//! of Reprise, expressed without knowing how it is asked. Each module is one concept:
//!
//! - [`config`]: reading `reprise.toml` into the domain's inventory, with located errors;
//! - [`workspace`]: finding, creating and opening a workspace (configuration, catalog,
//!   keys, repository location);
//! - [`import`]: importing an inventory table (CSV, English or French) into the
//!   configuration;
//! - [`graph`]: the dependency graph as Graphviz DOT, Mermaid or JSON;
//! - [`demo`]: the showcase workspace built from the seed documents;
//! - [`backup`], [`restore`] (with [`target`]: where a restore may write), [`verify`], [`retention`], [`snapshots`], [`status`]: the
//!   engine's work, recorded in the catalog;
//! - [`scheduler`], [`leases`], [`supervise`], [`notify`]: what `reprise serve` runs
//!   unattended, and who hears about it;
//! - [`drill`]: restore tests into sandboxes that measure real RTO and RPO;
//! - [`incident`]: incidents from detection to the signed report and the review;
//! - [`plan`]: the recovery plan for the situation at hand or a simulated one, with
//!   predictions from measured restores;
//! - [`readiness`]: the go-live checklist of seed 003, from facts;
//! - [`runbook`]: the offline runbook, one self-contained HTML file;
//! - [`selfbackup`]: Reprise backing up its own catalog and configuration, and rebuilding
//!   a workspace from them.
//!
//! This crate never picks a catalog implementation: it receives a `dyn Catalog` from the
//! binary.

pub mod backup;
pub mod categories;
pub mod commands;
pub mod config;
pub mod context;
pub mod dates;
pub mod demo;
pub mod drill;
pub mod erase;
pub mod error;
pub mod evidence;
pub mod export;
pub mod graph;
pub mod html;
pub mod import;
pub mod incident;
pub mod journal;
pub mod keys;
pub mod leases;
pub mod notify;
pub mod pdf;
pub mod plan;
pub mod points;
pub mod readiness;
pub mod repos;
pub mod request;
pub mod restore;
pub mod retention;
pub mod runbook;
pub mod scheduler;
pub mod secrets;
pub mod selfbackup;
pub mod snapshots;
pub mod status;
pub mod supervise;
pub mod target;
pub mod text;
pub mod tokens;
pub mod verify;
pub mod workspace;
