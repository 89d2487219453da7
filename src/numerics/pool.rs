//! Running a computation on the rayon pool's own threads.
//!
//! A parallel iterator started from a thread outside the pool is handed to a pool thread
//! while the caller sleeps until it is done: a futex wake and a wait, each time. Continuation
//! starts one at every Newton step of every cycle (the intervals of the collocation system),
//! thousands in a diagram, and those round trips were about a quarter of the default `hh`
//! diagram's time when the library is called from outside the pool, as from Python or a
//! program of one's own (0.19 s against 0.14 s on one thread, 0.16 s against 0.13 s wall on
//! two; `benches/ode_speed.rs`, 4 December 2026). Started from a pool thread, a parallel iterator
//! runs on that thread and lends work to the others, with no round trip; with one thread it
//! is a plain loop.

/// Run `f` on a thread of the global rayon pool, so the parallel iterators inside it start
/// from there; `f` runs where it is if this thread already belongs to the pool (a study's
/// jobs, which the command line runs, already do). Its stack is a pool thread's (2 MB): the library's
/// evaluations are bounded for that (the `.ode` compiler refuses an expression nested too deep
/// to evaluate there). While `f` waits inside a parallel step, its thread may take up other
/// work of the pool, including another caller's whole `f`: calls made at once from several
/// threads outside the pool share its threads.
///
/// ```
/// let n = excitable::numerics::pool::on_pool(|| rayon::current_thread_index().is_some());
/// assert!(n);
/// ```
pub fn on_pool<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    rayon::scope(|_| f())
}
