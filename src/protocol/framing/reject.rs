//! Why a request is refused: [`Reject`], its status and the line that explains it.

use crate::protocol::status::Status;

/// Why a request is refused. Each maps to one status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reject {
    /// 400
    BadRequest,
    /// 408: not a framing outcome, but the connection answers a request that
    /// does not arrive in time like a refused one.
    RequestTimeout,
    /// 413
    ContentTooLarge,
    /// 414
    UriTooLong,
    /// 431
    HeaderFieldsTooLarge,
    /// 501
    NotImplemented,
    /// 505
    VersionNotSupported,
}

impl Reject {
    /// Every reason, in the order of their discriminants: one rendered answer
    /// each, looked up by `reject as usize`.
    pub const ALL: [Reject; 7] = [
        Reject::BadRequest,
        Reject::RequestTimeout,
        Reject::ContentTooLarge,
        Reject::UriTooLong,
        Reject::HeaderFieldsTooLarge,
        Reject::NotImplemented,
        Reject::VersionNotSupported,
    ];

    /// The status of the answer.
    pub const fn status(self) -> Status {
        match self {
            Reject::BadRequest => Status::BAD_REQUEST,
            Reject::RequestTimeout => Status::REQUEST_TIMEOUT,
            Reject::ContentTooLarge => Status::CONTENT_TOO_LARGE,
            Reject::UriTooLong => Status::URI_TOO_LONG,
            Reject::HeaderFieldsTooLarge => Status::HEADER_FIELDS_TOO_LARGE,
            Reject::NotImplemented => Status::NOT_IMPLEMENTED,
            Reject::VersionNotSupported => Status::VERSION_NOT_SUPPORTED,
        }
    }
}
