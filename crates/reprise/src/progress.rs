//! Progress bars on a terminal (files, bytes, throughput), nothing otherwise: scripts and
//! logs get the one-line summaries only.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use reprise_engine::{NoProgress, Progress, ProgressKind, Task};

#[derive(Debug)]
struct Bars;

#[derive(Debug)]
struct Bar(ProgressBar);

impl Task for Bar {
    fn set_length(&self, len: u64) {
        self.0.set_length(len);
    }
    fn set_label(&self, label: &str) {
        self.0.set_prefix(label.to_string());
    }
    fn advance(&self, by: u64) {
        self.0.inc(by);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl Progress for Bars {
    fn task(&self, kind: ProgressKind, label: &str) -> Box<dyn Task> {
        let bar = ProgressBar::new(0).with_prefix(label.to_string());
        let template = match kind {
            ProgressKind::Spinner => "{spinner} {prefix} {elapsed}",
            ProgressKind::Count => "{spinner} {prefix} {wide_bar} {pos}/{len} {elapsed}",
            ProgressKind::Bytes => {
                "{spinner} {prefix} {wide_bar} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}"
            }
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(120));
        Box::new(Bar(bar))
    }
}

/// Bars when standard error is a terminal, silence otherwise.
pub fn for_terminal() -> Arc<dyn Progress> {
    if std::io::stderr().is_terminal() {
        Arc::new(Bars)
    } else {
        Arc::new(NoProgress)
    }
}
