//! The command line's observer: a progress bar on stderr (drawn only on a terminal, and only
//! once a run has taken a second).

use excitable::progress::{Flow, Observer, Progress};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A progress bar that appears after a second of work.
pub struct Bar {
    bar: ProgressBar,
    started: Instant,
    task: Mutex<String>,
}

impl Bar {
    /// A hidden bar; it shows itself once a run has taken a second.
    pub fn new() -> Bar {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {prefix} {pos}/{len} [{elapsed}] {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Bar {
            bar,
            started: Instant::now(),
            task: Mutex::new(String::new()),
        }
    }
}

impl Observer for Bar {
    fn observe(&self, p: &Progress) -> Flow {
        if self.bar.is_hidden() && self.started.elapsed() > Duration::from_secs(1) {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
        if let Ok(mut t) = self.task.lock()
            && *t != p.task
        {
            *t = p.task.to_string();
            self.bar.set_prefix(p.task.to_string());
            self.bar.set_length(p.total.unwrap_or(0));
        }
        self.bar.set_position(p.done);
        if !p.detail.is_empty() {
            self.bar.set_message(p.detail.to_string());
        }
        Flow::Continue
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
