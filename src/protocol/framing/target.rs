//! The request-target and the `Host` authority: their form (RFC 9112 §3.2) and
//! their characters (RFC 3986 §2-3).
//!
//! The server answers every target alike, but it still refuses one that no URI
//! could be: a target with a space-like control, a raw non-ASCII byte, `#`,
//! `"`, `<`, `{`, ... is either a broken client or a probe for a parser that
//! reads it differently than the next hop does. The same goes for a form that
//! does not fit the method:
//!
//! | form           | example             | methods                      |
//! |----------------|---------------------|------------------------------|
//! | origin-form    | `/path?query`       | any but CONNECT              |
//! | absolute-form  | `http://host/path`  | any but CONNECT              |
//! | authority-form | `host:port`         | CONNECT only (then 501)      |
//! | asterisk-form  | `*`                 | OPTIONS only                 |
//!
//! CONNECT is answered 501 whatever its target: a 2xx to CONNECT means "the
//! tunnel is open" (RFC 9110 §9.3.6), and this server is not a proxy.
//!
//! Characters are checked with one table lookup per byte (a `%` also looks at
//! the two bytes after it), like the `tchar` table in `fields.rs`: the target is
//! checked on every request the head memo does not answer.

use super::Reject;

/// A byte the class table refuses.
const NO: u8 = 0;
/// A byte the class table allows as it is.
const YES: u8 = 1;
/// `%`: allowed when two hex digits follow (pct-encoded).
const PCT: u8 = 2;

/// `unreserved` and `sub-delims` of RFC 3986 §2.
const UNRESERVED_SUB_DELIMS: &[u8] = b"-._~!$&'()*+,;=";

/// Bytes of a request-target: pchar, `/` and `?` (RFC 3986 §3.3, §3.4), which
/// also covers the scheme and authority of an absolute URI, plus `[` and `]`,
/// which enclose an IPv6 host in absolute-form and authority-form
/// (`http://[::1]:8888/`). RFC 3986 allows them only there; telling where the
/// authority ends would cost a second pass, and a bracket in a path confuses
/// no parser this server stands in front of.
static TARGET: [u8; 256] = classes(UNRESERVED_SUB_DELIMS, b":@/?[]");
/// Bytes of a `reg-name` (RFC 3986 §3.2.2).
static REG_NAME: [u8; 256] = classes(UNRESERVED_SUB_DELIMS, b"");
/// Bytes between `[` and `]` of an IP-literal: IPv6 (hex, `:`, `.`) and IPvFuture.
static IP_LITERAL: [u8; 256] = no_percent(classes(UNRESERVED_SUB_DELIMS, b":"));

/// A class table: ASCII letters and digits, `a`, `b` are [`YES`], `%` is [`PCT`].
const fn classes(a: &[u8], b: &[u8]) -> [u8; 256] {
    let mut table = [NO; 256];
    let mut i = 0;
    while i < 256 {
        if (i as u8).is_ascii_alphanumeric() {
            table[i] = YES;
        }
        i += 1;
    }
    let mut i = 0;
    while i < a.len() {
        table[a[i] as usize] = YES;
        i += 1;
    }
    let mut i = 0;
    while i < b.len() {
        table[b[i] as usize] = YES;
        i += 1;
    }
    table[b'%' as usize] = PCT;
    table
}

/// `table` without `%`.
const fn no_percent(mut table: [u8; 256]) -> [u8; 256] {
    table[b'%' as usize] = NO;
    table
}

/// A `%` not followed by two hex digits.
#[derive(Debug, PartialEq, Eq)]
struct BadPercent;

/// Check bytes of `bytes` against a class table up to the first byte it refuses,
/// and return that byte's index (`bytes.len()` if there is none): one pass, one
/// lookup per byte (a `%` also checks the two after it). The caller decides
/// whether the byte it stopped at may end what it scanned (`:` after a host,
/// `]` after an IP literal) or is an error.
fn scan(bytes: &[u8], table: &[u8; 256]) -> Result<usize, BadPercent> {
    let mut i = 0;
    loop {
        // The common case, a run of plain bytes, is a tight loop of lookups.
        let run = bytes[i..]
            .iter()
            .position(|&b| table[usize::from(b)] != YES);
        let Some(run) = run else {
            return Ok(bytes.len());
        };
        i += run;
        if table[usize::from(bytes[i])] != PCT {
            return Ok(i);
        }
        let hex = bytes.get(i + 1..i + 3);
        if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
            return Err(BadPercent);
        }
        i += 3;
    }
}

/// Check the request line's method and target together (RFC 9112 §3.2).
pub(super) fn check(method: &[u8], target: &[u8]) -> Result<(), Reject> {
    match scan(target, &TARGET) {
        Ok(end) if end == target.len() => {}
        Ok(_) => return Err(Reject::TargetByte),
        Err(BadPercent) => return Err(Reject::TargetPercent),
    }
    let connect = method == b"CONNECT";
    match target {
        [b'/', ..] if !connect => Ok(()),
        b"*" if method == b"OPTIONS" => Ok(()),
        b"*" => Err(Reject::AsteriskNotOptions),
        _ if connect && is_authority(target, true) => Err(Reject::Connect),
        _ if connect => Err(Reject::ConnectTarget),
        _ if looks_like_authority(target) => Err(Reject::AuthorityNotConnect),
        _ if has_scheme(target) => Ok(()),
        _ => Err(Reject::TargetForm),
    }
}

/// `scheme ":"` starts `target` (RFC 3986 §3.1: a letter, then letters,
/// digits, `+`, `-`, `.`): an absolute URI (its bytes are already checked).
fn has_scheme(target: &[u8]) -> bool {
    let Some(colon) = target.iter().position(|&b| b == b':') else {
        return false;
    };
    let scheme = &target[..colon];
    scheme.first().is_some_and(u8::is_ascii_alphabetic)
        && scheme
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

/// `host:port` and nothing else: read as authority-form rather than as a URI
/// whose scheme is a host name (`localhost:80` is what a client means by it).
fn looks_like_authority(target: &[u8]) -> bool {
    is_authority(target, true)
        && target
            .iter()
            .rposition(|&b| b == b':')
            .is_some_and(|colon| target[colon + 1..].iter().all(u8::is_ascii_digit))
}

/// `uri-host [ ":" port ]` (RFC 3986 §3.2.2, §3.2.3), with the port required
/// for authority-form; the host is an IP-literal in brackets or a non-empty
/// reg-name (which covers IPv4 addresses).
pub(super) fn is_authority(bytes: &[u8], port_required: bool) -> bool {
    let rest = match bytes {
        [b'[', inside @ ..] => match scan(inside, &IP_LITERAL) {
            Ok(end) if end > 0 && inside.get(end) == Some(&b']') => &inside[end + 1..],
            _ => return false,
        },
        _ => match scan(bytes, &REG_NAME) {
            Ok(end) if end > 0 => &bytes[end..],
            _ => return false,
        },
    };
    match rest {
        [] => !port_required,
        [b':', port @ ..] => port.iter().all(u8::is_ascii_digit),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The class tables say what RFC 3986's grammar says, for all 256 bytes.
    #[test]
    fn tables_match_rfc_3986() {
        for b in 0..=255u8 {
            let unreserved = b.is_ascii_alphanumeric() || b"-._~".contains(&b);
            let sub_delim = b"!$&'()*+,;=".contains(&b);
            let class = |yes: bool| match (b, yes) {
                (b'%', _) => PCT,
                (_, true) => YES,
                (_, false) => NO,
            };
            let pchar = unreserved || sub_delim || b":@".contains(&b);
            assert_eq!(TARGET[usize::from(b)], class(pchar || b"/?[]".contains(&b)));
            assert_eq!(REG_NAME[usize::from(b)], class(unreserved || sub_delim));
            let literal = unreserved || sub_delim || b == b':';
            let expected = if literal { YES } else { NO };
            assert_eq!(IP_LITERAL[usize::from(b)], expected, "{b:#04x}");
        }
    }

    #[test]
    fn authorities() {
        #[rustfmt::skip]
        let table: &[(&str, bool, bool)] = &[
            // (bytes, valid as Host, valid as authority-form)
            ("a", true, false),
            ("example.com", true, false),
            ("example.com:", true, true),
            ("example.com:8080", true, true),
            ("127.0.0.1:80", true, true),
            ("[::1]", true, false),
            ("[::1]:443", true, true),
            ("[v1.fe80::a+en1]:1", true, true),
            ("xn--bcher-kva.example", true, false),
            ("a%41b", true, false),
            ("", false, false),
            (":80", false, false),
            ("a:b", false, false),
            ("a:80:80", false, false),
            ("a b", false, false),
            ("a/b", false, false),
            ("a@b", false, false),
            ("a%4", false, false),
            ("a%zz", false, false),
            ("[]", false, false),
            ("[::1", false, false),
            ("[::1]x", false, false),
            ("[::1]:x", false, false),
            ("[::%1]", false, false),
            ("b\u{e9}b", false, false),
        ];
        for &(bytes, host, authority) in table {
            assert_eq!(is_authority(bytes.as_bytes(), false), host, "{bytes:?}");
            assert_eq!(is_authority(bytes.as_bytes(), true), authority, "{bytes:?}");
        }
    }
}
