//! Clocks for the profiler: the calling thread's CPU time where the platform gives it
//! (Linux, macOS: `clock_gettime(CLOCK_THREAD_CPUTIME_ID)` through `rustix`), else wall time.
//!
//! cedar profiles with Python's `time.process_time_ns()` (CPU time), so the profiler reports
//! CPU time too: it does not count the time the thread waited for a core, which matters on a
//! shared machine. (`/proc/thread-self/schedstat` is no substitute: it advances only at
//! scheduler ticks, 4 ms apart on a 250 Hz kernel.)

/// Which clock a measurement used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// CPU time of the measuring thread.
    ThreadCpu,
    /// Wall-clock time (`std::time::Instant`).
    Wall,
}

impl Clock {
    /// The thread CPU clock if this platform has one, else the wall clock.
    pub fn best() -> Clock {
        if thread_cpu_ns().is_some() { Clock::ThreadCpu } else { Clock::Wall }
    }

    /// How profiles name it.
    pub fn describe(self) -> &'static str {
        match self {
            Clock::ThreadCpu => "thread CPU time",
            Clock::Wall => "wall-clock time",
        }
    }
}

/// Nanoseconds of CPU the calling thread has used, or `None` where the platform does not say.
#[cfg(any(target_os = "linux", target_os = "macos"))]
pub fn thread_cpu_ns() -> Option<u64> {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    let secs = u64::try_from(t.tv_sec).ok()?;
    let nanos = u64::try_from(t.tv_nsec).ok()?;
    Some(secs * 1_000_000_000 + nanos)
}

/// Nanoseconds of CPU the calling thread has used, or `None` where the platform does not say.
#[cfg(not(any(target_os = "linux", target_os = "macos")))]
pub fn thread_cpu_ns() -> Option<u64> {
    None
}
