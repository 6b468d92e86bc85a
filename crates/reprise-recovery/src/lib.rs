//! Recovery: the worst day, and the rehearsals for it.
//!
//! - [`plan`]: the recovery plan for the situation at hand or a simulated one, with
//!   predictions from measured restores;
//! - [`incident`]: incidents from detection and damage assessment to the signed report
//!   and the review;
//! - [`pv`]: the return-to-service report as a document a client signs (PDF);
//! - [`request`]: ticketed restore requests, judged feasible, approved, run in their
//!   window and reported;
//! - [`drill`]: restore tests into sandboxes that measure real RTO and RPO;
//! - [`readiness`]: seed 003's go-live checklist, from facts;
//! - [`runbook`]: the offline runbook, one self-contained HTML file.

pub mod drill;
pub mod incident;
pub mod plan;
pub mod pv;
pub mod readiness;
pub mod request;
pub mod runbook;
