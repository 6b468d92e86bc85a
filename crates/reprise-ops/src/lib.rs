//! Reprise's daily operations: everything that reads or writes the catalog and the
//! repositories on an ordinary day. A front end receives a `dyn Catalog` from the binary
//! and runs these through a [`context::Ctx`].
//!
//! - [`context`], [`error`]: what every use case receives, and its errors by kind;
//! - [`journal`], [`keys`]: the sealed journal every change is written to, the master key;
//! - [`tokens`], [`secrets`]: accounts, sign-in and tokens; the encrypted secret store;
//! - [`repos`], [`points`], [`snapshots`], [`status`]: repositories opened from the
//!   configuration, their restore points in the catalog, RPO from verified points;
//! - [`suspects`]: backups that look like an attack, the points after them, clearing;
//! - [`backup`], [`restore`] (with [`target`]: where a restore may write), [`verify`],
//!   [`retention`], [`erase`], [`selfbackup`]: the engine's work, recorded;
//! - [`devices`], [`watch`]: routers, switches and cameras whose configuration is
//!   collected, watched for changes and pushed back;
//! - [`leases`], [`scheduler`], [`commands`]: one job at a time across processes, what is
//!   due, how configured commands run;
//! - [`notify`], [`categories`]: who hears about conditions; what each data category keeps.

pub mod backup;
pub mod categories;
pub mod commands;
pub mod context;
pub mod devices;
pub mod erase;
pub mod error;
pub mod journal;
/// The master key (in `reprise-journal`, which seals with it).
pub use reprise_journal::keys;
pub mod leases;
pub mod locks;
pub mod notify;
pub mod places;
pub mod points;
pub mod repos;
pub mod restore;
pub mod retention;
pub mod scheduler;
pub mod secrets;
pub mod selfbackup;
pub mod snapshots;
pub mod states;
pub mod status;
pub mod suspects;
pub mod target;
pub mod tokens;
pub mod verify;
pub mod watch;
pub mod writers;
