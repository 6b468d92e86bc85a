//! Reprise's domain: the model of what an organisation must be able to recover, and the
//! rules over it. Nothing here performs I/O or reads the clock: callers pass text in and
//! `now` in, which keeps every rule testable without files, databases or sleeping.
//!
//! The main types:
//! - [`Inventory`]: sites, [`Asset`]s and their dependencies, with the graph queries the
//!   rest of Reprise needs (dependents, impact, cycles) and [`Inventory::validate`], which
//!   returns every [`Problem`] at once so a user can fix a configuration in one pass.
//! - [`Interval`], [`Schedule`]: durations written `15m`, `4h`, `14d`, and backup
//!   schedules (`daily at 02:00`, `every 6h`, cron), whose longest gap decides whether an
//!   RPO can ever be met.
//! - [`Criticality`], [`AssetState`], [`Category`], [`ZoneRisk`]: the vocabulary of the
//!   seeds, each parsed from English or French words.
//!
//! Problems carry the asset and field they concern but no file positions: the
//! configuration layer (`reprise-workspace`) maps them back to lines and columns.

pub mod access;
pub mod anomaly;
mod asset;
mod category;
pub mod device;
mod id;
pub mod incident;
mod interval;
mod inventory;
mod notifier;
pub mod plan;
mod policy;
pub mod request;
mod retention;
mod schedule;
pub mod signals;
mod vocabulary;

pub use asset::{Asset, DEFAULT_DRILL_TIMEOUT, DataSet, DataSource, is_host_name};
pub use category::{BUILT_IN_CATEGORIES, Breach, DataCategory};
pub use id::{AssetId, IdError, PolicyId, RepoId, SiteId, slugify};
pub use interval::{Interval, IntervalError};
pub use inventory::{Contact, Field, Host, Impact, Inventory, Problem, ProblemKind, Site};
pub use notifier::{
    Channel, Email, Notifier, ServerSettings, SmtpTls, SupervisionSettings, jitter_offset,
    severity_rank,
};
pub use policy::{Immutability, Location, LockMode, Policy, RepoBackend, Repository, Retention};
pub use retention::{RetentionDecision, plan_retention};
pub use schedule::{Schedule, ScheduleError};
pub use vocabulary::{AssetState, Category, Criticality, UnknownWord, ZoneRisk, normalize_word};
