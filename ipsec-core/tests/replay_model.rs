//! The anti-replay window against a plain set-based model, ESN wrap-around included.

use std::collections::HashSet;

use ipsec_core::replay::{ReplayError, ReplayWindow, replay_words};
use proptest::prelude::*;

const SIZE: u32 = 200;
type Win = ReplayWindow<{ replay_words(256) }>;

/// The RFC 4303 §3.4.3 rule, stated over full sequence numbers.
struct Model {
    seen: HashSet<u64>,
    top: u64,
}

impl Model {
    fn accepts(&self, seq: u64) -> bool {
        seq != 0 && !self.seen.contains(&seq) && (seq > self.top || self.top - seq < u64::from(SIZE))
    }
    fn accept(&mut self, seq: u64) {
        self.seen.insert(seq);
        self.top = self.top.max(seq);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Packets arrive around a starting point (near the 2^32 boundary for ESN), with jumps ahead,
    /// duplicates and stragglers; the window must decide exactly as the model does.
    #[test]
    fn window_matches_the_set_model(
        esn in any::<bool>(),
        start in prop_oneof![Just(0u64), (1u64 << 32) - 300..(1u64 << 32) + 10, 0u64..(1u64 << 31)],
        steps in prop::collection::vec((-400i64..600, any::<bool>()), 1..400),
    ) {
        let mut w = Win::new(SIZE, esn).unwrap();
        let mut m = Model { seen: HashSet::new(), top: 0 };
        let start = if esn { start } else { start.min(u64::from(u32::MAX) - 1000) };
        let mut cursor = start;
        // Start from a window that has seen `start` (a long-running SA); from there every packet
        // lies within the inference range of RFC 4303 A2.2 (less than 2^31 ahead).
        if start > 0 {
            w.accept(start).unwrap();
            m.accept(start);
        }
        for (delta, icv_ok) in steps {
            let seq = cursor.saturating_add_signed(delta);
            if !esn && seq > u64::from(u32::MAX) {
                continue;
            }
            cursor = cursor.max(seq);
            let low = seq as u32;
            let decided = w.check(low);
            // With ESN, a number below the window is inferred into the next 2^32 block (RFC 4303
            // A2.2); that wrong guess fails the ICV, so it counts as refused.
            let window_says_yes = matches!(decided, Ok(s) if s == seq);
            prop_assert_eq!(window_says_yes, m.accepts(seq), "seq {:#x} top {:#x} got {:?}", seq, m.top, decided);
            if let Ok(s) = decided {
                if s != seq {
                    prop_assert!(esn && seq <= m.top);
                }
            }
            if window_says_yes && icv_ok {
                w.accept(seq).unwrap();
                m.accept(seq);
                prop_assert_eq!(w.top(), m.top);
            }
        }
    }
}

#[test]
fn reasons_are_distinct() {
    let mut w = Win::new(SIZE, false).unwrap();
    assert_eq!(w.check(0), Err(ReplayError::Zero));
    w.accept(1000).unwrap();
    assert_eq!(w.check(1000), Err(ReplayError::Replayed));
    assert_eq!(w.check(800), Err(ReplayError::TooOld));
    assert_eq!(w.accept(1000), Err(ReplayError::Replayed));
}
