//! End-to-end tests: each drives the real `reprise` binary in a temporary directory and
//! asserts what a user would see (output, exit code, files). One test binary for the
//! whole CLI keeps link time down.

mod accounts;
mod agents;
mod alerts;
mod architecture;
mod backup;
mod browser;
mod check;
mod demo;
mod devices;
mod drill;
mod habits;
mod immutable;
mod import;
mod incident;
mod init;
mod inventory;
mod journal;
mod plan;
mod postgres;
mod provenance;
mod readiness;
mod records;
mod request;
mod runbook;
mod security;
mod selfbackup;
mod serve;
mod support;
mod suspects;
mod web;
mod writers;
