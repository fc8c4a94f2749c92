//! The HTTP/2 frame parser (src/protocol/h2/frame.rs) on arbitrary bytes.
//!
//! Input: byte 0 picks `max_frame_size` (16,384 shifted left by `b % 11`,
//! capped at 2^24-1), the rest is the buffer. Checks: no panic; the same
//! outcome twice; a frame's length is its header's plus 9 and within the
//! buffer; every proper prefix of a whole frame is `Partial`, except that an
//! oversized length is refused as soon as the 9-byte header is there; the
//! outcome does not change when more bytes follow.

#![no_main]

use hello_reactor::protocol::h2::frame::{self, FrameHeader, HEADER_LEN, Parsed};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&b, buf)) = data.split_first() else {
        return;
    };
    let max = (frame::MIN_MAX_FRAME_SIZE << (b % 11)).min(frame::MAX_MAX_FRAME_SIZE);
    let outcome = frame::parse(buf, max);
    assert_eq!(outcome, frame::parse(buf, max), "not deterministic");
    let header = FrameHeader::read(buf);
    match outcome {
        Parsed::Partial => {
            let whole = header.is_some_and(|h| buf.len() >= HEADER_LEN + h.len as usize);
            assert!(!whole, "Partial with a whole frame");
        }
        Parsed::Frame(_, len) | Parsed::StreamError(_, _, len) => {
            let h = header.expect("a frame without a header");
            assert_eq!(len, HEADER_LEN + h.len as usize);
            assert!(len <= buf.len() && h.len <= max);
            for cut in 0..len {
                let prefix = frame::parse(&buf[..cut], max);
                assert_eq!(prefix, Parsed::Partial, "prefix {cut} of a whole frame");
            }
            let mut longer = buf[..len].to_vec();
            longer.extend_from_slice(&[0xff; 16]);
            assert_eq!(frame::parse(&longer, max), frame::parse(&buf[..len], max));
        }
        Parsed::ConnectionError(_) => {
            let h = header.expect("an error without a header");
            if h.len > max {
                assert_eq!(frame::parse(&buf[..HEADER_LEN], max), outcome, "length checked late");
            }
        }
    }
});
