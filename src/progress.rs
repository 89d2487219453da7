//! Progress of long computations, reported to an observer (argmin's style): the run calls
//! [`Observer::observe`] as work finishes; the command line's observer draws a progress bar,
//! Python's calls a callback, and the library's default ([`Silent`]) does nothing. An observer
//! can also stop a run: [`Flow::Stop`] makes it return [`Cancelled`] at the next check.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// What an observer is told.
#[derive(Debug, Clone, Copy)]
pub struct Progress<'a> {
    /// The task (`f-I runs`, `cycle branch`, …).
    pub task: &'a str,
    /// Units of work finished so far.
    pub done: u64,
    /// Units of work in all, when known.
    pub total: Option<u64>,
    /// The latest unit, in words (may be empty).
    pub detail: &'a str,
}

/// Whether the run goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Go on.
    Continue,
    /// Stop at the next check: the run returns [`Cancelled`].
    Stop,
}

/// Watches a long computation. Called from worker threads, so it is `Sync`.
pub trait Observer: Sync {
    /// Some work finished; return [`Flow::Stop`] to stop the run.
    fn observe(&self, progress: &Progress) -> Flow;
}

/// The default observer: sees nothing, never stops a run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Observer for Silent {
    fn observe(&self, _: &Progress) -> Flow {
        Flow::Continue
    }
}

/// The run was stopped by its observer (Ctrl-C in Python, for example).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("stopped by the caller")]
pub struct Cancelled;

/// Counts the work of one task and reports it to an observer, from any thread.
pub struct Tracker<'a> {
    observer: &'a dyn Observer,
    task: &'a str,
    total: Option<u64>,
    done: AtomicU64,
    stopped: AtomicBool,
}

impl<'a> Tracker<'a> {
    /// A task of `total` units (if known), reported to `observer`.
    pub fn new(observer: &'a dyn Observer, task: &'a str, total: Option<u64>) -> Tracker<'a> {
        Tracker {
            observer,
            task,
            total,
            done: AtomicU64::new(0),
            stopped: AtomicBool::new(false),
        }
    }

    /// `n` more units are done (`detail` says which); `Err` once the observer said stop.
    pub fn advance(&self, n: u64, detail: &str) -> Result<(), Cancelled> {
        let done = self.done.fetch_add(n, Ordering::Relaxed) + n;
        let flow = self.observer.observe(&Progress {
            task: self.task,
            done,
            total: self.total,
            detail,
        });
        if flow == Flow::Stop {
            self.stopped.store(true, Ordering::Relaxed);
        }
        self.check()
    }

    /// The progress callback of the batch runners (`simulate::runner`): 0 before a block of
    /// neurons only asks whether to stop ([`Tracker::check`]), `n` > 0 counts `n` done.
    pub fn neurons(&self, n: usize) -> Result<(), Cancelled> {
        if n == 0 {
            self.check()
        } else {
            self.advance(n as u64, "")
        }
    }

    /// Ask the observer, with nothing new done, whether to go on: for a long unit of work
    /// (one long run) to hear a stop before it ends. False once it said stop.
    pub fn go_on(&self) -> bool {
        self.advance(0, "").is_ok()
    }

    /// `Err` once the observer said stop (cheap: call it inside loops).
    pub fn check(&self) -> Result<(), Cancelled> {
        if self.stopped.load(Ordering::Relaxed) {
            Err(Cancelled)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    struct StopAfter(u64, Mutex<Vec<u64>>);
    impl Observer for StopAfter {
        fn observe(&self, p: &Progress) -> Flow {
            self.1.lock().unwrap().push(p.done);
            if p.done >= self.0 {
                Flow::Stop
            } else {
                Flow::Continue
            }
        }
    }

    #[test]
    fn a_tracker_counts_and_stops_when_told() {
        let obs = StopAfter(3, Mutex::new(vec![]));
        let t = Tracker::new(&obs, "test", Some(10));
        assert!(t.advance(1, "").is_ok());
        assert!(t.advance(1, "").is_ok());
        assert_eq!(t.advance(1, ""), Err(Cancelled));
        assert_eq!(t.check(), Err(Cancelled));
        assert_eq!(*obs.1.lock().unwrap(), vec![1, 2, 3]);
        let silent = Tracker::new(&Silent, "quiet", None);
        assert!(silent.advance(100, "x").is_ok());
    }
}
