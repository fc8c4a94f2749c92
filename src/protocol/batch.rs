//! The output batch: every answer to one read, written with one `write`.
//!
//! The answers are rendered once, when the server starts ([`crate::protocol::response`]), so
//! the common case, one request in a read, needs no copy at all: the batch holds a
//! reference to the rendered bytes, and the `write` takes them from there. Only a
//! second answer (pipelining) starts the loop's batch buffer, with the first one
//! copied in, so that the kernel still gets one `write` per batch.
//!
//! ```text
//!   push(A)          -> single: &A                  (no copy)
//!   push(B)          -> bytes:  A B                 (copied: one write for both)
//!   push(C) ...      -> bytes:  A B C ...
//!   as_slice()       -> &A, or &bytes
//! ```

/// The answers queued since the last write.
#[derive(Debug)]
pub struct Batch<'a> {
    /// The only answer so far, where it was rendered.
    single: Option<&'a [u8]>,
    /// Two or more answers, copied back to back (the loop's buffer, kept empty
    /// between calls).
    bytes: &'a mut Vec<u8>,
    /// Bytes of a streamed body (`--body-size`) that follow the last answer's
    /// head; the driver writes them from the shared block. Nothing is pushed after.
    tail: u64,
}

impl<'a> Batch<'a> {
    /// An empty batch that copies into `bytes` once it holds two answers.
    pub fn new(bytes: &'a mut Vec<u8>) -> Batch<'a> {
        debug_assert!(bytes.is_empty());
        Batch {
            single: None,
            bytes,
            tail: 0,
        }
    }

    /// Queue `answer` after the others.
    pub fn push(&mut self, answer: &'a [u8]) {
        debug_assert_eq!(self.tail, 0, "nothing follows a streamed body");
        if self.single.is_none() && self.bytes.is_empty() {
            self.single = Some(answer);
            return;
        }
        if let Some(first) = self.single.take() {
            self.bytes.extend_from_slice(first);
        }
        self.bytes.extend_from_slice(answer);
    }

    /// The last answer is followed by `len` bytes of streamed body.
    pub fn stream(&mut self, len: u64) {
        self.tail = len;
    }

    /// Bytes of streamed body after [`Batch::as_slice`] (0: none).
    pub fn tail(&self) -> u64 {
        self.tail
    }

    /// Everything queued, in order.
    pub fn as_slice(&self) -> &[u8] {
        self.single.unwrap_or(self.bytes)
    }

    /// Bytes queued.
    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// Nothing queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The buffer itself, for output that is not a list of ready-made answers
    /// (HTTP/2's frames): a single answer queued so far is copied in first.
    pub fn bytes_mut(&mut self) -> &mut Vec<u8> {
        if let Some(first) = self.single.take() {
            self.bytes.extend_from_slice(first);
        }
        self.bytes
    }

    /// Forget what was queued (it was written or copied elsewhere).
    pub fn clear(&mut self) {
        self.single = None;
        self.bytes.clear();
        self.tail = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_answer_is_not_copied_and_more_are_joined_in_order() {
        let (a, b, c) = (
            b"first".as_slice(),
            b"second".as_slice(),
            b"third".as_slice(),
        );
        let mut buf = Vec::new();
        let mut batch = Batch::new(&mut buf);
        assert!(batch.is_empty());
        batch.push(a);
        assert_eq!(batch.as_slice().as_ptr(), a.as_ptr(), "copied");
        assert!(batch.bytes.is_empty());
        batch.push(b);
        batch.push(c);
        assert_eq!(batch.as_slice(), b"firstsecondthird");
        assert_eq!(batch.len(), 16);
        batch.clear();
        assert!(batch.is_empty());
        batch.push(b);
        assert_eq!(batch.as_slice(), b"second");
        assert!(
            batch.bytes.is_empty(),
            "cleared bytes reused for one answer"
        );
    }
}
