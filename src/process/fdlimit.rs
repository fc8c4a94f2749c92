//! Raising the file-descriptor limit, so that 10,000 connections just work.
//!
//! Every connection is a file descriptor, and most systems start processes with a
//! soft `RLIMIT_NOFILE` of 1024. The hard limit, which an unprivileged process may
//! raise its soft limit up to, is usually far higher. So the binary raises the soft
//! limit to the hard one at start-up, and the default `--max-connections` is
//! derived from the result.

use std::io;

/// Raise the soft fd limit to the hard limit; returns the new soft limit.
pub fn raise_to_hard_limit() -> io::Result<u64> {
    let (soft, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE)?;
    if soft < hard {
        rlimit::setrlimit(rlimit::Resource::NOFILE, hard, hard)?;
    }
    current_soft_limit()
}

/// The current soft fd limit.
pub fn current_soft_limit() -> io::Result<u64> {
    Ok(rlimit::getrlimit(rlimit::Resource::NOFILE)?.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raising_reaches_the_hard_limit() {
        let (_, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap();
        assert_eq!(raise_to_hard_limit().unwrap(), hard);
        assert_eq!(current_soft_limit().unwrap(), hard);
    }
}
