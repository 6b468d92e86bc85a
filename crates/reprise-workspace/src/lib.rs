//! The workspace: what an administrator wrote and where it lives. Nothing here touches a
//! catalog or a repository.
//!
//! - [`config`]: `reprise.toml` read into the domain's inventory, every problem located
//!   at file, line, column and field;
//! - [`workspace`]: finding a workspace like git does, creating one, loading it, what only
//!   the disk can tell, where its catalog is;
//! - [`import`]: an inventory table (CSV, English or French) planned into a new
//!   configuration text, then written atomically;
//! - [`graph`]: the dependency graph as Graphviz DOT, Mermaid or JSON;
//! - [`dates`], [`text`]: times as people write them, hexadecimal, short ids, durations;
//! - [`html`], [`pdf`], [`charts`]: the text of documents (escaping, a PDF of plain
//!   pages) and their pictures (SVG charts of an asset's history, a plan's timeline).

pub mod charts;
pub mod config;
pub mod dates;
pub mod graph;
pub mod html;
pub mod import;
pub mod pdf;
pub mod text;
pub mod workspace;
