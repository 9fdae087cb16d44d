//! Any byte stream a host may send into the printer simulator's ESC/POS
//! parser, split at fuzzer-chosen points: no panic, and the same actions
//! whatever the split (a command cut across reads is neither lost nor
//! misread; a text run may arrive in two pieces, so runs are merged).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sim::printer::escpos::{Action, Parser};

fn merged(actions: Vec<Action>) -> Vec<Action> {
    let mut out: Vec<Action> = Vec::new();
    for a in actions {
        if let (Some(Action::Text(prev, prev_style)), Action::Text(more, style)) =
            (out.last_mut(), &a)
            && prev_style == style
        {
            prev.extend_from_slice(more);
            continue;
        }
        out.push(a);
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let cut = usize::from(split).min(rest.len());
    let (a, b) = rest.split_at(cut);
    let mut whole = Parser::new();
    let all = whole.push(rest);
    let mut parts = Parser::new();
    let mut pieces = parts.push(a);
    pieces.extend(parts.push(b));
    assert_eq!(
        merged(all),
        merged(pieces),
        "the same actions whatever the split"
    );
});
