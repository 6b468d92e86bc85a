//! Oversight: what people watch and what auditors take away.
//!
//! - [`supervise`]: the conditions people must hear about (RPO, missed and failed
//!   backups, damage, anomalies, 3-2-1, drills, incidents), as alerts;
//! - [`export`]: CSV sheets, on demand or on a schedule;
//! - [`evidence`]: the auditors' pack for a period, with its control mapping;
//! - [`devices`]: routers, switches and cameras as people watch them;
//! - [`demo`]: the showcase workspace built from the seed documents.

pub mod camera;
pub mod demo;
pub mod devices;
pub mod evidence;
pub mod export;
pub mod supervise;
