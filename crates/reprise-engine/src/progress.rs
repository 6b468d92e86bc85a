//! Progress reporting without naming the engine library: the CLI implements [`Progress`]
//! with terminal bars, the server with events, tests with nothing.

use std::fmt::Debug;
use std::sync::Arc;

use rustic_core::{ProgressBars, ProgressType, RusticProgress};

/// What a task counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressKind {
    /// No measurable length: show activity only.
    Spinner,
    /// Items (files, snapshots, packs).
    Count,
    /// Bytes, so a rate can be shown.
    Bytes,
}

/// Receives the tasks of a long operation.
pub trait Progress: Send + Sync + Debug + 'static {
    /// A new task, labelled for people (`backing up…`).
    fn task(&self, kind: ProgressKind, label: &str) -> Box<dyn Task>;
}

/// One task's progress.
pub trait Task: Send + Sync + Debug {
    fn set_length(&self, len: u64);
    fn set_label(&self, label: &str);
    fn advance(&self, by: u64);
    fn finish(&self);
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

#[derive(Debug)]
struct Silent;

impl Task for Silent {
    fn set_length(&self, _: u64) {}
    fn set_label(&self, _: &str) {}
    fn advance(&self, _: u64) {}
    fn finish(&self) {}
}

impl Progress for NoProgress {
    fn task(&self, _: ProgressKind, _: &str) -> Box<dyn Task> {
        Box::new(Silent)
    }
}

/// Adapts a [`Progress`] to the engine library's progress bars.
#[derive(Debug, Clone)]
pub(crate) struct Bars(pub Arc<dyn Progress>);

#[derive(Debug)]
struct Adapter(Box<dyn Task>);

impl RusticProgress for Adapter {
    fn is_hidden(&self) -> bool {
        false
    }
    fn set_length(&self, len: u64) {
        self.0.set_length(len);
    }
    fn set_title(&self, title: &str) {
        self.0.set_label(title);
    }
    fn inc(&self, inc: u64) {
        self.0.advance(inc);
    }
    fn finish(&self) {
        self.0.finish();
    }
}

impl ProgressBars for Bars {
    fn progress(&self, kind: ProgressType, prefix: &str) -> rustic_core::Progress {
        let kind = match kind {
            ProgressType::Spinner => ProgressKind::Spinner,
            ProgressType::Counter => ProgressKind::Count,
            ProgressType::Bytes => ProgressKind::Bytes,
        };
        rustic_core::Progress::new(Adapter(self.0.task(kind, prefix)))
    }
}
