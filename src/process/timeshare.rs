//! Workers that must share a CPU run under `SCHED_BATCH` (Linux).
//!
//! A worker is a loop that runs a batch (every event one `epoll_wait` returned) and
//! then sleeps in the next `epoll_wait`. When two workers share one CPU, the normal
//! policy lets a worker that wakes up preempt the one running:
//!
//! ```text
//!   SCHED_OTHER (wake-up preemption)      SCHED_BATCH (none)
//!   CPU: w0 w0 | w1 w1 | w0 | w1 | w0      CPU: w0 w0 w0 w0 | w1 w1 w1 w1 | w0 ...
//!              ^ w1 woken, w0 preempted              ^ w0 blocks in epoll_wait
//! ```
//!
//! Every preemption is a context switch that splits two batches, and the preempted
//! worker still has its events to finish. Measured with `--workers 2` on one CPU
//! under wrk's 100 connections (`docs/workers.md`): 13.6k of the workers' 67.6k
//! context switches in 5 s were such preemptions, and CPU per request was 1.087×
//! one worker's. Under `SCHED_BATCH` the preemptions fell to 0.5k and the cost to
//! 1.022× (0.939× the same two workers without it).
//!
//! `SCHED_BATCH` keeps the nice level and the fair share of the CPU; what it takes
//! away is wake-up preemption (sched(7): the thread is "mildly disfavored in
//! scheduling decisions"). A woken worker runs when the running task blocks or its
//! time slice ends; on a CPU two reactors take turns on, that is a batch later.
//!
//! Only then: with no more workers than CPUs the kernel spreads them out, and a
//! worker's wake-up preemption is what keeps its latency low next to other tasks.
//! So the policy is set only when the workers outnumber the CPUs this process may run
//! on (its affinity mask, as `taskset` or a cpuset leaves it), and the process logs it.

use std::io;

use log::warn;

use super::affinity;

/// The number of CPUs this process may run on, if `workers` reactors outnumber
/// them, so that at least two must take turns on one CPU; None if they do not or
/// the set cannot be read.
pub fn workers_share_cpus(workers: usize) -> Option<usize> {
    let cpus = affinity::allowed_cpus().ok()?.len();
    (workers > cpus && cpus > 0).then_some(cpus)
}

/// Put the calling thread under `SCHED_BATCH`, logging a failure under `who` (`w1`).
pub fn batch_logged(who: &str) {
    if let Err(e) = batch_current_thread() {
        warn!("{who}: cannot switch to SCHED_BATCH: {e}");
    }
}

/// The kernel's `struct sched_param` (uapi `linux/sched/types.h`): one `int`.
///
/// Not `libc::sched_param`: musl's has more fields (`sched_ss_*`, kept by the `libc`
/// crate), so a literal of it does not compile there, and musl's
/// `sched_setscheduler` is a stub that always fails with `ENOSYS` (POSIX defines
/// it per process, Linux's system call is per thread, so musl declines). The
/// system call itself reads only this one field, on every C library.
#[cfg(target_os = "linux")]
#[repr(C)]
struct KernelSchedParam {
    sched_priority: libc::c_int,
}

/// Run the calling thread under `SCHED_BATCH` (priority 0, the only one it has).
/// No privilege is needed to move a thread from the normal policy to this one.
/// The system call is made directly, so the same code works with glibc and musl.
#[cfg(target_os = "linux")]
pub fn batch_current_thread() -> io::Result<()> {
    let param = KernelSchedParam { sched_priority: 0 };
    // SAFETY: sched_setscheduler(2) takes (pid_t, int, const struct sched_param *);
    // pid 0 is the calling thread, and `param` has the kernel's layout (repr(C),
    // one int), outlives the call and is only read.
    let result = unsafe {
        libc::syscall(
            libc::SYS_sched_setscheduler,
            0 as libc::pid_t,
            libc::SCHED_BATCH,
            &param as *const KernelSchedParam,
        )
    };
    if result == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// `SCHED_BATCH` is Linux only.
#[cfg(not(target_os = "linux"))]
pub fn batch_current_thread() -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "SCHED_BATCH is Linux only",
    ))
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// The calling thread's scheduling policy, by the system call (musl's
    /// `sched_getscheduler` is a stub too).
    fn current_policy() -> libc::c_long {
        // SAFETY: sched_getscheduler(2) takes one pid_t, 0 for the calling thread;
        // no pointers are involved.
        unsafe { libc::syscall(libc::SYS_sched_getscheduler, 0 as libc::pid_t) }
    }

    #[test]
    fn a_batch_thread_has_the_batch_policy_and_only_it() {
        let policy = std::thread::spawn(|| {
            batch_current_thread().unwrap();
            current_policy()
        })
        .join()
        .unwrap();
        assert_eq!(policy, libc::c_long::from(libc::SCHED_BATCH));
        assert_eq!(current_policy(), libc::c_long::from(libc::SCHED_OTHER));
    }

    #[test]
    fn only_more_workers_than_cpus_share_them() {
        let cpus = affinity::allowed_cpus().unwrap().len();
        assert_eq!(workers_share_cpus(cpus), None);
        assert_eq!(workers_share_cpus(cpus + 1), Some(cpus));
        assert_eq!(workers_share_cpus(1), None);
    }
}
