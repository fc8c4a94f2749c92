//! Defences, each with the attack it stops: rapid reset, CONTINUATION flood,
//! SETTINGS, PING, empty DATA and WINDOW_UPDATE floods.

use super::super::super::frame::{flag, kind};
use super::super::super::hpack::encoder;
use super::super::super::testing::client;
use super::*;

/// `frame` repeated `n` times in one read.
fn flood(f: &mut Fixture, frame: &[u8], n: usize) -> Vec<Out> {
    f.input(&frame.repeat(n))
}

#[test]
fn rapid_reset_ends_in_enhance_your_calm() {
    let mut f = ready();
    let budget = f.limits.budgets.resets;
    let mut bytes = Vec::new();
    for i in 0..=budget {
        bytes.extend(client::headers(2 * i + 1, &client::GET, false));
        bytes.extend(client::reset(2 * i + 1, ErrorCode::CANCEL));
    }
    assert!(goaway(&f.input(&bytes), ErrorCode::ENHANCE_YOUR_CALM));
}

#[test]
fn resets_spread_over_time_are_fine() {
    let mut f = ready();
    let budget = f.limits.budgets.resets;
    for i in 0..2 * budget {
        f.input(&client::headers(2 * i + 1, &client::GET, false));
        f.input(&client::reset(2 * i + 1, ErrorCode::CANCEL));
        f.advance(f.limits.budgets.window / u64::from(budget) + 1);
    }
    assert_eq!(f.session.stage(), super::super::Stage::Open);
}

#[test]
fn a_continuation_flood_ends_before_it_is_buffered() {
    let mut f = ready();
    f.input(&client::frame(kind::HEADERS, 0, 1, &[0x82]));
    let piece = client::frame(kind::CONTINUATION, 0, 1, &[0x0; 1000]);
    let n = f.limits.max_head / 1000;
    assert_eq!(flood(&mut f, &piece, n), []);
    assert!(goaway(&f.input(&piece), ErrorCode::ENHANCE_YOUR_CALM));
    let mut f = ready();
    f.input(&client::frame(kind::HEADERS, 0, 1, &[0x82]));
    let empty = client::frame(kind::CONTINUATION, 0, 1, b"");
    assert!(goaway(
        &flood(&mut f, &empty, 1000),
        ErrorCode::ENHANCE_YOUR_CALM
    ));
}

#[test]
fn settings_and_ping_floods_end_in_enhance_your_calm() {
    let mut f = ready();
    let n = f.limits.budgets.control as usize;
    assert!(goaway(
        &flood(&mut f, &client::settings(&[]), n + 1),
        ErrorCode::ENHANCE_YOUR_CALM
    ));
    let mut f = ready();
    let ping = client::frame(kind::PING, 0, 0, b"12345678");
    assert!(goaway(
        &flood(&mut f, &ping, n + 1),
        ErrorCode::ENHANCE_YOUR_CALM
    ));
}

#[test]
fn empty_data_priority_and_unknown_floods_end_in_enhance_your_calm() {
    let n = Fixture::new().limits.budgets.empty as usize;
    let priority = client::frame(kind::PRIORITY, 0, 3, &[0, 0, 0, 0, 16]);
    let unknown = client::frame(0xfa, 0, 0, b"");
    for frame in [client::data(1, b"", false), priority, unknown] {
        let mut f = ready();
        f.input(&client::headers(1, &client::GET, false));
        assert!(goaway(
            &flood(&mut f, &frame, n + 1),
            ErrorCode::ENHANCE_YOUR_CALM
        ));
    }
}

#[test]
fn window_update_flood_ends_in_enhance_your_calm() {
    let mut f = ready();
    let n = f.limits.budgets.window_updates as usize;
    f.input(&client::headers(1, &client::GET, false));
    assert!(goaway(
        &flood(&mut f, &client::window(1, 1), n + 1),
        ErrorCode::ENHANCE_YOUR_CALM
    ));
}

#[test]
fn an_oversized_frame_is_refused_from_its_header() {
    let mut f = ready();
    let header = &client::frame(kind::HEADERS, flag::END_HEADERS, 1, &[0; 16_385])[..9];
    assert!(goaway(&f.input(header), ErrorCode::FRAME_SIZE_ERROR));
}

#[test]
fn resets_we_are_made_to_send_spend_the_same_budget() {
    let mut f = ready();
    let budget = f.limits.budgets.resets;
    let mut fields = client::GET.to_vec();
    fields.push(("te", "gzip")); // malformed: we reset each one
    let mut bytes = Vec::new();
    for i in 0..=budget {
        bytes.extend(client::headers(2 * i + 1, &fields, true));
    }
    let out = f.input(&bytes);
    assert_eq!(
        out.len() as u32,
        budget + 2,
        "{} resets, then GOAWAY",
        budget + 1
    );
    assert!(goaway(&out, ErrorCode::ENHANCE_YOUR_CALM));
}

#[test]
fn an_hpack_bomb_resets_its_stream_and_the_table_follows() {
    let mut f = ready();
    // x: 4000 bytes, added to the table, then named 10 times: a 4 KiB block
    // that decodes to 40 KiB, over `max_head`.
    let mut block = client::block(&client::GET);
    block.extend([0x40, 0x01, b'x']);
    encoder::integer(&mut block, 4000, 7, 0);
    block.extend(std::iter::repeat_n(b'v', 4000));
    block.extend(std::iter::repeat_n(0xbe, 10));
    let flags = flag::END_HEADERS | flag::END_STREAM;
    let bomb = client::frame(kind::HEADERS, flags, 1, &block);
    assert_eq!(
        f.input(&bomb),
        [Out::Reset(1, ErrorCode::ENHANCE_YOUR_CALM)]
    );
    let mut once = client::block(&client::GET);
    once.push(0xbe); // x, once: within the limit
    let next = client::frame(kind::HEADERS, flags, 3, &once);
    assert_eq!(f.input(&next), answered(3), "the table followed the bomb");
}
