//! The static table (RFC 7541 Appendix A) and the dynamic table (§2.3.2, §4).
//!
//! One index space (§2.3.3): 1 to 61 is the static table, 62 on the dynamic
//! table, newest entry first. An entry's size is its name and value lengths plus
//! 32 (§4.1); inserting evicts the oldest entries until the new one fits, and an
//! entry larger than the whole table empties it and is not added (§4.4).

use std::collections::VecDeque;

/// Bytes counted for each entry on top of its name and value (§4.1).
pub const ENTRY_OVERHEAD: usize = 32;

/// RFC 7541 Appendix A: index 1 is the first entry.
pub const STATIC: [(&[u8], &[u8]); 61] = [
    (b":authority", b""),
    (b":method", b"GET"),
    (b":method", b"POST"),
    (b":path", b"/"),
    (b":path", b"/index.html"),
    (b":scheme", b"http"),
    (b":scheme", b"https"),
    (b":status", b"200"),
    (b":status", b"204"),
    (b":status", b"206"),
    (b":status", b"304"),
    (b":status", b"400"),
    (b":status", b"404"),
    (b":status", b"500"),
    (b"accept-charset", b""),
    (b"accept-encoding", b"gzip, deflate"),
    (b"accept-language", b""),
    (b"accept-ranges", b""),
    (b"accept", b""),
    (b"access-control-allow-origin", b""),
    (b"age", b""),
    (b"allow", b""),
    (b"authorization", b""),
    (b"cache-control", b""),
    (b"content-disposition", b""),
    (b"content-encoding", b""),
    (b"content-language", b""),
    (b"content-length", b""),
    (b"content-location", b""),
    (b"content-range", b""),
    (b"content-type", b""),
    (b"cookie", b""),
    (b"date", b""),
    (b"etag", b""),
    (b"expect", b""),
    (b"expires", b""),
    (b"from", b""),
    (b"host", b""),
    (b"if-match", b""),
    (b"if-modified-since", b""),
    (b"if-none-match", b""),
    (b"if-range", b""),
    (b"if-unmodified-since", b""),
    (b"last-modified", b""),
    (b"link", b""),
    (b"location", b""),
    (b"max-forwards", b""),
    (b"proxy-authenticate", b""),
    (b"proxy-authorization", b""),
    (b"range", b""),
    (b"referer", b""),
    (b"refresh", b""),
    (b"retry-after", b""),
    (b"server", b""),
    (b"set-cookie", b""),
    (b"strict-transport-security", b""),
    (b"transfer-encoding", b""),
    (b"user-agent", b""),
    (b"vary", b""),
    (b"via", b""),
    (b"www-authenticate", b""),
];

/// One dynamic table entry: a name and a value.
type Entry = (Box<[u8]>, Box<[u8]>);

/// The dynamic table of one direction of one connection.
#[derive(Debug, Default)]
pub struct DynamicTable {
    /// Newest first, as indexed.
    entries: VecDeque<Entry>,
    /// Sum of the entries' sizes (§4.1).
    size: usize,
    /// The current maximum, as last set by a size update.
    max_size: usize,
}

impl DynamicTable {
    /// An empty table of at most `max_size` bytes.
    pub fn new(max_size: usize) -> DynamicTable {
        DynamicTable {
            entries: VecDeque::new(),
            size: 0,
            max_size,
        }
    }

    /// The entries' total size (§4.1).
    pub fn size(&self) -> usize {
        self.size
    }

    /// The current maximum size.
    pub fn max_size(&self) -> usize {
        self.max_size
    }

    /// Bytes held on the heap (entries and their slots), roughly.
    pub fn heap_bytes(&self) -> usize {
        let slots = self.entries.capacity() * std::mem::size_of::<Entry>();
        slots
            + self
                .entries
                .iter()
                .map(|(n, v)| n.len() + v.len())
                .sum::<usize>()
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// No entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry at `index` of the combined index space (§2.3.3), if any.
    pub fn get(&self, index: usize) -> Option<(&[u8], &[u8])> {
        match index {
            0 => None,
            1..=61 => Some(STATIC[index - 1]),
            _ => {
                let (name, value) = self.entries.get(index - 62)?;
                Some((name, value))
            }
        }
    }

    /// Change the maximum size, evicting entries that no longer fit (§4.3).
    pub fn set_max_size(&mut self, max_size: usize) {
        self.max_size = max_size;
        self.evict_to(max_size);
    }

    /// Add an entry as the newest (§4.4).
    pub fn insert(&mut self, name: &[u8], value: &[u8]) {
        let size = name.len() + value.len() + ENTRY_OVERHEAD;
        if size > self.max_size {
            self.entries.clear();
            self.size = 0;
            return;
        }
        self.evict_to(self.max_size - size);
        self.entries.push_front((name.into(), value.into()));
        self.size += size;
    }

    fn evict_to(&mut self, room: usize) {
        while self.size > room {
            let Some((name, value)) = self.entries.pop_back() else {
                break;
            };
            self.size -= name.len() + value.len() + ENTRY_OVERHEAD;
        }
    }
}

/// The static index of the entry `name: value`, or of the first with `name`.
pub fn find_static(name: &[u8], value: &[u8]) -> Option<(usize, bool)> {
    let exact = STATIC.iter().position(|&(n, v)| n == name && v == value);
    if let Some(i) = exact {
        return Some((i + 1, true));
    }
    let named = STATIC.iter().position(|&(n, _)| n == name)?;
    Some((named + 1, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_entries_and_lookup() {
        let table = DynamicTable::new(4096);
        assert_eq!(table.get(1), Some((&b":authority"[..], &b""[..])));
        assert_eq!(table.get(8), Some((&b":status"[..], &b"200"[..])));
        assert_eq!(table.get(61), Some((&b"www-authenticate"[..], &b""[..])));
        assert_eq!(table.get(0), None);
        assert_eq!(table.get(62), None);
        assert_eq!(find_static(b":status", b"200"), Some((8, true)));
        assert_eq!(find_static(b":status", b"418"), Some((8, false)));
        assert_eq!(find_static(b"date", b"x"), Some((33, false)));
        assert_eq!(find_static(b"x-custom", b""), None);
    }

    #[test]
    fn insertion_evicts_the_oldest_and_counts_32_per_entry() {
        let mut table = DynamicTable::new(100);
        table.insert(b"aaaa", b"1111"); // 40
        table.insert(b"bbbb", b"2222"); // 80
        assert_eq!((table.len(), table.size()), (2, 80));
        assert_eq!(table.get(62), Some((&b"bbbb"[..], &b"2222"[..])));
        table.insert(b"cccc", b"3333"); // evicts aaaa
        assert_eq!((table.len(), table.size()), (2, 80));
        assert_eq!(table.get(63), Some((&b"bbbb"[..], &b"2222"[..])));
        assert_eq!(table.get(64), None);
        table.set_max_size(40);
        assert_eq!((table.len(), table.size()), (1, 40));
        table.insert(b"too", &[b'x'; 10]); // 45 > 40: empties the table
        assert!(table.is_empty());
        assert_eq!(table.size(), 0);
        table.set_max_size(0);
        table.insert(b"", b"");
        assert!(table.is_empty());
        assert_eq!(table.max_size(), 0);
    }
}
