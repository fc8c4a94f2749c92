//! Whether a request's fields make a well-formed request (RFC 9113 §8.2, §8.3).
//!
//! A malformed request is a stream error `PROTOCOL_ERROR` (§8.1.1), not a `400`:
//! the fields are checked one at a time as the decoder hands them out, and
//! [`Fields::finish`] checks what must be there. Rules:
//! - **Names**: not empty, no uppercase letters, no controls, space, DEL or
//!   bytes over 0x7f, no colon except a pseudo-header's first byte (§8.2.1).
//! - **Values**: no NUL, CR or LF; no leading or trailing space or tab (§8.2.1).
//! - **Connection-specific fields** (`connection`, `keep-alive`,
//!   `proxy-connection`, `transfer-encoding`, `upgrade`) are malformed, and `te`
//!   may only say `trailers` (§8.2.2).
//! - **Pseudo-headers** (§8.3): only `:method`, `:scheme`, `:authority` and
//!   `:path`, each at most once, all before the first regular field, none in
//!   trailers; `:method` always; `:scheme` and a non-empty `:path` unless the
//!   method is CONNECT, which instead needs `:authority` and neither of the two.
//! - **`content-length`**: digits; repeats must agree (RFC 9110 §8.6). DATA is
//!   checked against it by the session (§8.1.1).

/// The request's fields so far, and what the session needs from them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Fields {
    /// These are trailers: no pseudo-headers allowed.
    trailers: bool,
    /// A regular field was seen: pseudo-headers may no longer follow.
    regular: bool,
    /// Pseudo-headers seen, one bit each (`PSEUDO` order).
    pseudo: u8,
    /// `:method` is CONNECT.
    connect: bool,
    /// `:method` is HEAD: the answer has no DATA.
    pub head: bool,
    /// `:path` was empty.
    empty_path: bool,
    /// The declared `content-length`.
    pub content_length: Option<u64>,
    /// A rule was broken.
    malformed: bool,
}

const PSEUDO: [&[u8]; 4] = [b":method", b":scheme", b":authority", b":path"];
const METHOD: u8 = 1;
const SCHEME: u8 = 2;
const AUTHORITY: u8 = 4;
const PATH: u8 = 8;

const CONNECTION_SPECIFIC: [&[u8]; 5] = [
    b"connection",
    b"keep-alive",
    b"proxy-connection",
    b"transfer-encoding",
    b"upgrade",
];

impl Fields {
    /// Checking a request's first field block.
    pub fn request() -> Fields {
        Fields::default()
    }

    /// Checking a trailer block.
    pub fn trailers() -> Fields {
        Fields {
            trailers: true,
            regular: true,
            ..Fields::default()
        }
    }

    /// Check one field.
    pub fn field(&mut self, name: &[u8], value: &[u8]) {
        let ok = valid_value(value)
            && match name.strip_prefix(b":") {
                Some(_) => self.pseudo_field(name, value),
                None => self.regular_field(name, value),
            };
        self.malformed |= !ok;
    }

    fn pseudo_field(&mut self, name: &[u8], value: &[u8]) -> bool {
        let Some(i) = PSEUDO.iter().position(|p| *p == name) else {
            return false; // unknown, or `:status` in a request
        };
        let bit = 1 << i;
        if self.regular || self.pseudo & bit != 0 {
            return false;
        }
        self.pseudo |= bit;
        match bit {
            METHOD => {
                self.connect = value == b"CONNECT";
                self.head = value == b"HEAD";
            }
            PATH => self.empty_path = value.is_empty(),
            _ => {}
        }
        true
    }

    fn regular_field(&mut self, name: &[u8], value: &[u8]) -> bool {
        self.regular = true;
        if !valid_name(name) || CONNECTION_SPECIFIC.contains(&name) {
            return false;
        }
        match name {
            b"te" => value == b"trailers",
            b"content-length" => {
                let Some(length) = parse_length(value) else {
                    return false;
                };
                let agrees = self.content_length.is_none_or(|l| l == length);
                self.content_length = Some(length);
                agrees
            }
            _ => true,
        }
    }

    /// Whether the block made a well-formed request (or trailers).
    pub fn finish(&self) -> bool {
        if self.malformed {
            return false;
        }
        if self.trailers {
            return self.pseudo == 0;
        }
        if self.connect {
            return self.pseudo == METHOD | AUTHORITY;
        }
        let needed = METHOD | SCHEME | PATH;
        self.pseudo & needed == needed && !self.empty_path
    }
}

/// §8.2.1: a name with no uppercase, controls, space, DEL, non-ASCII or colon.
fn valid_name(name: &[u8]) -> bool {
    !name.is_empty()
        && name
            .iter()
            .all(|&b| matches!(b, 0x21..=0x7e) && b != b':' && !b.is_ascii_uppercase())
}

/// §8.2.1: a value with no NUL, CR or LF and no whitespace at either end.
fn valid_value(value: &[u8]) -> bool {
    let edge = |b: Option<&u8>| matches!(b, Some(b' ' | b'\t'));
    !value.iter().any(|&b| matches!(b, 0 | b'\r' | b'\n'))
        && !edge(value.first())
        && !edge(value.last())
}

fn parse_length(value: &[u8]) -> Option<u64> {
    if value.is_empty() || value.len() > 19 || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    value.iter().try_fold(0u64, |n, &d| {
        n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GET: [(&[u8], &[u8]); 4] = [
        (b":method", b"GET"),
        (b":scheme", b"https"),
        (b":path", b"/"),
        (b":authority", b"a"),
    ];

    fn check(mut fields: Fields, list: &[(&[u8], &[u8])]) -> bool {
        for (name, value) in list {
            fields.field(name, value);
        }
        fields.finish()
    }

    fn with(extra: &[(&'static [u8], &'static [u8])]) -> bool {
        let mut list = GET.to_vec();
        list.extend_from_slice(extra);
        check(Fields::request(), &list)
    }

    #[test]
    fn well_formed_requests() {
        assert!(with(&[]));
        assert!(with(&[
            (b"te", b"trailers"),
            (b"accept", b"*/*"),
            (b"x", b"")
        ]));
        assert!(with(&[
            (b"content-length", b"5"),
            (b"content-length", b"5")
        ]));
        assert!(check(
            Fields::request(),
            &[(b":method", b"CONNECT"), (b":authority", b"a:443")]
        ));
        assert!(
            check(Fields::request(), &GET[..3]),
            ":authority is optional"
        );
        assert!(check(Fields::trailers(), &[(b"x-checksum", b"1")]));
        let mut head = Fields::request();
        head.field(b":method", b"HEAD");
        assert!(head.head);
    }

    #[test]
    fn malformed_fields() {
        let bad: [(&[u8], &[u8]); 16] = [
            (b"Accept", b"x"),
            (b"connection", b"keep-alive"),
            (b"keep-alive", b"5"),
            (b"proxy-connection", b"x"),
            (b"transfer-encoding", b"chunked"),
            (b"upgrade", b"h2c"),
            (b"te", b"gzip"),
            (b"x y", b"1"),
            (b"x:y", b"1"),
            (b"", b"1"),
            (b"x", b"a\r\nb"),
            (b"x", b" a"),
            (b"x", b"a\t"),
            (b"content-length", b"5x"),
            (b":status", b"200"),
            (b":method", b"GET"),
        ];
        for field in bad {
            assert!(!with(&[field]), "{field:?}");
        }
        assert!(!with(&[
            (b"content-length", b"5"),
            (b"content-length", b"6")
        ]));
        assert!(!with(&[(b"x", b"\x00")]));
        assert!(!with(&[(b"x", &[0xc3, 0xa9]), (b"\xc3\xa9", b"x")]));
    }

    #[test]
    fn pseudo_header_rules() {
        let missing: [&[(&[u8], &[u8])]; 4] = [
            &[(b":scheme", b"http"), (b":path", b"/")],
            &[(b":method", b"GET"), (b":path", b"/")],
            &[(b":method", b"GET"), (b":scheme", b"http")],
            &[(b":method", b"GET"), (b":scheme", b"http"), (b":path", b"")],
        ];
        for list in missing {
            assert!(!check(Fields::request(), list), "{list:?}");
        }
        let late = [
            (b":method" as &[u8], b"GET" as &[u8]),
            (b"x", b"1"),
            (b":scheme", b"http"),
            (b":path", b"/"),
        ];
        assert!(!check(Fields::request(), &late));
        let connect = [
            (b":method" as &[u8], b"CONNECT" as &[u8]),
            (b":authority", b"a"),
            (b":path", b"/"),
        ];
        assert!(!check(Fields::request(), &connect));
        assert!(!check(Fields::trailers(), &[(b":path", b"/")]));
        assert!(!check(Fields::request(), &[(b":foo", b"x")]));
    }
}
