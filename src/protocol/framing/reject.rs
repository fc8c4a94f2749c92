//! Why a request is refused: [`Reject`], its status and the line that explains it.
//!
//! Every refusal names its reason, and the error answer says it in one line,
//! `400 Bad Request: HTTP/1.1 request without a Host header`, so that someone
//! typing a request by hand learns what to fix. The line is static text: nothing
//! of the request is echoed back (an echo would make the answer depend on what
//! an attacker sent, and render per request).
//!
//! Each reason is rendered once at startup into its own complete response
//! ([`Responses::error`](crate::protocol::response::Responses::error) looks it up
//! by `reject as usize`), so a more precise reason costs nothing per request.
//!
//! The reasons are listed once, in [`reasons!`]: the variant, its status and its
//! text, from which the enum, [`Reject::ALL`], [`Reject::status`] and
//! [`Reject::reason`] are generated, so the lists cannot drift apart.

use std::fmt;

use crate::protocol::status::Status;

/// Declare [`Reject`] from one table of `Variant => STATUS, "text";`.
macro_rules! reasons {
    ($($variant:ident => $status:ident, $text:literal;)*) => {
        /// Why a request is refused (or, for [`Reject::RequestTimeout`], why the
        /// connection gives up on it). Each has one status and one line of text.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Reject {
            $(
                #[doc = concat!("`", stringify!($status), ": ", $text, "`")]
                $variant,
            )*
        }

        impl Reject {
            /// Every reason, in the order of their discriminants: one rendered
            /// answer each, looked up by `reject as usize`.
            pub const ALL: [Reject; [$(stringify!($variant)),*].len()] = [$(Reject::$variant),*];

            /// The status of the answer.
            pub const fn status(self) -> Status {
                match self {
                    $(Reject::$variant => Status::$status,)*
                }
            }

            /// One line saying what was wrong, for the answer's body and the log.
            pub const fn reason(self) -> &'static str {
                match self {
                    $(Reject::$variant => $text,)*
                }
            }
        }
    };
}

reasons! {
    RequestLine => BAD_REQUEST, "malformed request line";
    TargetByte => BAD_REQUEST, "request-target has a character not allowed in a URI";
    TargetPercent => BAD_REQUEST, "request-target has a % not followed by two hex digits";
    TargetForm => BAD_REQUEST, "request-target is not /path, an absolute URI, host:port or *";
    AsteriskNotOptions => BAD_REQUEST, "request-target * is only for OPTIONS";
    AuthorityNotConnect => BAD_REQUEST, "request-target host:port is only for CONNECT";
    ConnectTarget => BAD_REQUEST, "CONNECT needs a host:port request-target";
    HeaderName => BAD_REQUEST, "malformed header field name (or a line folded onto the next)";
    HeaderValue => BAD_REQUEST, "malformed header field value";
    LineEnding => BAD_REQUEST, "malformed line ending in the request head";
    MissingHost => BAD_REQUEST, "HTTP/1.1 request without a Host header";
    RepeatedHost => BAD_REQUEST, "more than one Host header";
    EmptyHost => BAD_REQUEST, "Host header is empty";
    InvalidHost => BAD_REQUEST, "Host is not host[:port]";
    InvalidContentLength => BAD_REQUEST, "Content-Length is not a decimal number";
    ConflictingContentLength => BAD_REQUEST, "Content-Length values differ";
    ContentLengthAndTransferEncoding => BAD_REQUEST, "both Content-Length and Transfer-Encoding";
    InvalidTransferEncoding => BAD_REQUEST, "malformed Transfer-Encoding";
    ChunkedNotLast => BAD_REQUEST, "Transfer-Encoding does not end in exactly one chunked";
    ChunkSize => BAD_REQUEST, "malformed chunk size";
    ChunkExtension => BAD_REQUEST, "malformed chunk extension";
    ChunkLineEnding => BAD_REQUEST, "a chunk line not ended by CRLF";
    ChunkDataEnd => BAD_REQUEST, "chunk data not followed by CRLF";
    Trailer => BAD_REQUEST, "malformed trailer field";
    ChunkMetadataTooLarge => BAD_REQUEST, "chunk extensions and trailers over the head limit";
    RequestTimeout => REQUEST_TIMEOUT, "the request did not arrive in time";
    ContentTooLarge => CONTENT_TOO_LARGE, "request body larger than this server accepts";
    UriTooLong => URI_TOO_LONG, "request line longer than this server accepts";
    HeaderFieldsTooLarge => HEADER_FIELDS_TOO_LARGE, "request head larger than this server accepts";
    TooManyHeaders => HEADER_FIELDS_TOO_LARGE, "more than 64 header fields";
    UnknownTransferCoding => NOT_IMPLEMENTED, "unknown transfer coding";
    Connect => NOT_IMPLEMENTED, "CONNECT: this server is not a proxy";
    MethodTooLong => NOT_IMPLEMENTED, "method longer than any this server knows";
    VersionNotSupported => VERSION_NOT_SUPPORTED, "only HTTP/1.x is supported";
}

/// `400 Bad Request: HTTP/1.1 request without a Host header`: the status line's
/// text, then why. This is the error answer's body, without its CRLF.
impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.status(), self.reason())
    }
}

#[cfg(test)]
mod tests {
    use super::Reject::{self, *};

    #[test]
    fn reject_statuses() {
        let table = [
            (MissingHost, 400),
            (RequestTimeout, 408),
            (ContentTooLarge, 413),
            (UriTooLong, 414),
            (HeaderFieldsTooLarge, 431),
            (UnknownTransferCoding, 501),
            (VersionNotSupported, 505),
        ];
        for (reject, status) in table {
            assert_eq!(reject.status().code(), status, "{reject:?}");
        }
    }

    /// `Reject::ALL` lists every reason at the index of its discriminant, so a
    /// table indexed by `reject as usize` holds the answer for that reason.
    #[test]
    fn all_reasons_are_listed_in_order() {
        for (index, reject) in Reject::ALL.into_iter().enumerate() {
            assert_eq!(reject as usize, index, "{reject:?}");
        }
    }
}
