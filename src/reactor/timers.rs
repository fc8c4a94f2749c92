//! The precise timer queue: "call connection `key` at time `T`", to the millisecond.
//!
//! The coarse sweep (`ticker.rs`) finds the ordinary timeouts: they are long (seconds)
//! and rarely fire, so a pass over the slab a few times a second is cheaper than
//! keeping a timer per request. A deadline that must be met to the millisecond (a
//! `--delay`ed answer) cannot wait for the next tick, which may be up to a second
//! away; it goes here instead, and the loop sleeps no longer than the first entry
//! ([`Timers::next_due`] bounds the `poll` timeout). mio has no timers: it leaves
//! them to the user by design, and a heap is all it takes.
//!
//! A min-heap of `(due, key)`. Entries are never removed early (lazy deletion): when
//! one is popped, the caller looks the key up and acts only if that connection still
//! has a deadline that has passed. A connection that changed its plans, closed, or
//! whose key now names a newer connection is skipped at no cost, and cancelling is
//! free. Pushing and popping cost O(log n); with ten thousand entries that is about
//! fourteen comparisons.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Wake-ups ordered by due time (ms on the loop's clock).
#[derive(Debug, Default)]
pub struct Timers {
    heap: BinaryHeap<Reverse<(u64, usize)>>,
}

impl Timers {
    /// Call connection `key` at `due` (or as soon after as the loop can).
    pub fn schedule(&mut self, due: u64, key: usize) {
        self.heap.push(Reverse((due, key)));
    }

    /// When the first entry is due: the loop sleeps no longer than this.
    pub fn next_due(&self) -> Option<u64> {
        self.heap.peek().map(|Reverse((due, _))| *due)
    }

    /// Move the keys of every entry due at `now` or earlier into `keys`, earliest
    /// first. The caller checks each is still wanted.
    pub fn pop_due(&mut self, now: u64, keys: &mut Vec<usize>) {
        while let Some(&Reverse((due, key))) = self.heap.peek() {
            if due > now {
                break;
            }
            self.heap.pop();
            keys.push(key);
        }
    }

    /// Entries queued, stale ones included.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// No entries.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_come_out_when_due_earliest_first() {
        let mut timers = Timers::default();
        assert_eq!(timers.next_due(), None);
        timers.schedule(300, 3);
        timers.schedule(100, 1);
        timers.schedule(200, 2);
        timers.schedule(100, 7);
        assert_eq!(timers.next_due(), Some(100));
        let mut keys = Vec::new();
        timers.pop_due(99, &mut keys);
        assert!(keys.is_empty(), "nothing is due a millisecond early");
        timers.pop_due(200, &mut keys);
        assert_eq!(keys, [1, 7, 2]);
        assert_eq!((timers.len(), timers.next_due()), (1, Some(300)));
        keys.clear();
        timers.pop_due(10_000, &mut keys);
        assert_eq!(keys, [3]);
        assert!(timers.is_empty());
    }

    #[test]
    fn ten_thousand_wake_ups_in_order() {
        let mut timers = Timers::default();
        // Due times in a scrambled order (7919 is prime, so this visits each once).
        for i in 0..10_000u64 {
            timers.schedule((i * 7919) % 10_000, i as usize);
        }
        let mut keys = Vec::new();
        let mut last = 0;
        for now in (0..10_000).step_by(10) {
            keys.clear();
            timers.pop_due(now, &mut keys);
            for &key in &keys {
                let due = (key as u64 * 7919) % 10_000;
                assert!(due <= now && due >= last, "{key} due {due} popped at {now}");
                last = due;
            }
        }
        keys.clear();
        timers.pop_due(u64::MAX, &mut keys);
        assert!(timers.is_empty());
    }
}
