//! The threads of a server process, read from `/proc/PID/task` (Linux): their names,
//! which are workers, the CPUs they may run on and their scheduling policy.
#![allow(dead_code)] // each test crate uses a different subset

use std::path::PathBuf;

/// The `/proc/PID/task/TID` directories of process `pid` and their thread names
/// (`comm`, at most 15 bytes: `hello-reactor-0` fits exactly).
pub fn tasks(pid: u32) -> Vec<(PathBuf, String)> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|task| {
            let name = std::fs::read_to_string(task.path().join("comm")).ok()?;
            Some((task.path(), name.trim_end().to_string()))
        })
        .collect()
}

pub fn thread_names(pid: u32) -> Vec<String> {
    tasks(pid).into_iter().map(|(_, name)| name).collect()
}

/// Whether a thread name is a worker's: `hello-reactor-<digit>...`.
pub fn is_worker(name: &str) -> bool {
    name.strip_prefix("hello-reactor-")
        .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
}

/// The task directories of the worker threads.
pub fn worker_tasks(pid: u32) -> Vec<PathBuf> {
    let tasks = tasks(pid).into_iter();
    tasks
        .filter(|(_, name)| is_worker(name))
        .map(|(path, _)| path)
        .collect()
}

pub fn worker_threads(pid: u32) -> usize {
    worker_tasks(pid).len()
}

/// `Cpus_allowed_list` of every worker thread of process `pid`.
pub fn worker_cpu_lists(pid: u32) -> Vec<String> {
    let status = |task: &PathBuf| std::fs::read_to_string(task.join("status")).ok();
    let list = |status: String| {
        let line = status
            .lines()
            .find(|l| l.starts_with("Cpus_allowed_list:"))?;
        Some(line["Cpus_allowed_list:".len()..].trim().to_string())
    };
    worker_tasks(pid)
        .iter()
        .filter_map(status)
        .filter_map(list)
        .collect()
}

/// The scheduling policy of every thread of process `pid` (`/proc/PID/task/TID/stat`
/// field 41: 0 SCHED_OTHER, 3 SCHED_BATCH), with the thread's name.
pub fn policies(pid: u32) -> Vec<(String, u32)> {
    let policy = |task: &PathBuf| {
        let stat = std::fs::read_to_string(task.join("stat")).ok()?;
        // Fields from the third (state) on follow the name in parentheses.
        let rest = &stat[stat.rfind(") ")? + 2..];
        rest.split(' ').nth(41 - 3)?.parse().ok()
    };
    let tasks = tasks(pid).into_iter();
    tasks
        .filter_map(|(path, name)| Some((name, policy(&path)?)))
        .collect()
}
