//! Agents: `reprise agent` on the hosts whose data the server does not hold.
//!
//! - [`fleet`]: the server's side — one-time codes, credentials, check-ins, the jobs it
//!   hands each host (backups when due, restores, drills) and their reports, recorded
//!   as the server's own runs; which agents are silent; [`fleet::restore`], the restore
//!   every front end asks for, done by the host's agent when the asset lives there.
//! - [`host`]: the agent's side — its enrolment kept owner-only, and the pass that checks
//!   in, runs the jobs through the server's append-only REST endpoint, and reports.

pub mod fleet;
pub mod host;
