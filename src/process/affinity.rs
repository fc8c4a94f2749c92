//! Pinning worker threads to CPUs (`--pin-workers`, Linux).
//!
//! Worker i goes to the i-th CPU of the set this process may run on (its affinity
//! mask, which `taskset` or a container may have narrowed), modulo its size: so
//! `taskset -c 2,3 hello-reactor --workers 2 --pin-workers` puts w0 on CPU 2 and w1
//! on CPU 3. Pinning keeps a worker's connections, caches and TCP state on one core,
//! and with per-worker sockets the kernel can then keep a connection's softirq work
//! there too; it also stops the scheduler from stacking two busy workers on one core.
//! It is off by default: on a machine shared with other work, a pinned worker cannot
//! move away from a busy core.
//!
//! Through `libc` rather than a crate: two system calls and three macros.

use std::io;

use log::{debug, warn};

/// The CPUs `--pin-workers` pins to: the allowed set, or none (with a warning) if
/// it cannot be read.
pub fn cpus_for_pinning() -> Vec<usize> {
    allowed_cpus().unwrap_or_else(|e| {
        warn!("--pin-workers: {e}; not pinned");
        Vec::new()
    })
}

/// Pin the calling thread to `cpu`, logging the outcome under `who` (`w1`).
pub fn pin_logged(who: &str, cpu: usize) {
    match pin_current_thread(cpu) {
        Ok(()) => debug!("{who}: pinned to CPU {cpu}"),
        Err(e) => warn!("{who}: cannot pin to CPU {cpu}: {e}"),
    }
}

/// The CPUs this process may run on, in ascending order.
#[cfg(target_os = "linux")]
pub fn allowed_cpus() -> io::Result<Vec<usize>> {
    // SAFETY: `cpu_set_t` is a plain bit array; all zeros is a valid (empty) set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: pid 0 is the calling thread; the kernel writes at most `cpusetsize`
    // bytes through the pointer, which is exactly the size of `set`.
    let result =
        unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
    if result != 0 {
        return Err(io::Error::last_os_error());
    }
    let cpus = (0..libc::CPU_SETSIZE as usize)
        // SAFETY: `cpu` is below CPU_SETSIZE, the number of bits in `set`.
        .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
        .collect();
    Ok(cpus)
}

/// Run the calling thread on `cpu` only.
#[cfg(target_os = "linux")]
pub fn pin_current_thread(cpu: usize) -> io::Result<()> {
    if cpu >= libc::CPU_SETSIZE as usize {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("CPU {cpu} is beyond CPU_SETSIZE"),
        ));
    }
    // SAFETY: as in `allowed_cpus`, all zeros is a valid empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `cpu` was checked to be below CPU_SETSIZE, the number of bits in `set`.
    unsafe { libc::CPU_SET(cpu, &mut set) };
    // SAFETY: pid 0 is the calling thread; the kernel reads `cpusetsize` bytes
    // through the pointer, exactly the size of `set`.
    let result =
        unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) };
    if result == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Pinning is Linux only.
#[cfg(not(target_os = "linux"))]
pub fn allowed_cpus() -> io::Result<Vec<usize>> {
    Err(unsupported())
}

/// Pinning is Linux only.
#[cfg(not(target_os = "linux"))]
pub fn pin_current_thread(_cpu: usize) -> io::Result<()> {
    Err(unsupported())
}

#[cfg(not(target_os = "linux"))]
fn unsupported() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "pinning threads to CPUs is Linux only",
    )
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn a_pinned_thread_runs_on_its_cpu_only() {
        let cpus = allowed_cpus().unwrap();
        assert!(!cpus.is_empty());
        let last = *cpus.last().unwrap();
        let on = std::thread::spawn(move || {
            pin_current_thread(last).unwrap();
            allowed_cpus().unwrap()
        })
        .join()
        .unwrap();
        assert_eq!(on, vec![last]);
        // Only that thread was pinned.
        assert_eq!(allowed_cpus().unwrap(), cpus);
        assert!(pin_current_thread(usize::MAX).is_err());
    }
}
