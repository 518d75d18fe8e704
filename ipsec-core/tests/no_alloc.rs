//! protect and unprotect allocate nothing: a counting global allocator watches this thread.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use ipsec_core::Instant;
use ipsec_core::sa::SecurityProtocol;
use ipsec_core::testing::packets;
use ipsec_core::testing::sa::{AH_ALGORITHMS, ESP_ALGORITHMS, Shape, addrs, pair};

struct Counting;

thread_local! {
    static WATCHING: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator unchanged; the thread-locals are const-initialised
// `Cell`s, so touching them never allocates or recurses into the allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if WATCHING.with(Cell::get) {
            COUNT.with(|c| c.set(c.get() + 1));
        }
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn protect_and_unprotect_do_not_allocate() {
    let protocols = ESP_ALGORITHMS
        .iter()
        .map(|a| SecurityProtocol::Esp(*a))
        .chain(AH_ALGORITHMS.iter().map(|a| SecurityProtocol::Ah(*a)));
    let mut checked = 0;
    for protocol in protocols {
        for tunnel in [None, Some(false), Some(true)] {
            let shape = Shape {
                protocol,
                tunnel,
                esn: false,
                encap: false,
                tfc: None,
            };
            let mut p = pair(shape, 1);
            let a = addrs(tunnel.unwrap_or(false));
            let inner = packets::udp(a.host_a, a.host_b, 1400, 0);
            let mut buf = vec![0u8; 256 + inner.len() + 256];
            for _ in 0..3 {
                buf[128..128 + inner.len()].copy_from_slice(&inner);
                WATCHING.with(|w| w.set(true));
                let prot = p.tx.protect(Instant::ZERO, p.out, &mut buf, 128, inner.len());
                let r = prot.as_ref().ok().map(|prot| {
                    let (s, l) = (prot.packet.start, prot.packet.len());
                    p.rx.unprotect(Instant::ZERO, &mut buf, s, l)
                });
                WATCHING.with(|w| w.set(false));
                assert!(
                    prot.is_ok() && matches!(r, Some(Ok(_))),
                    "{protocol:?} {tunnel:?}"
                );
                checked += 1;
            }
        }
    }
    assert_eq!(COUNT.with(Cell::get), 0, "allocations on the data path");
    assert_eq!(checked, (ESP_ALGORITHMS.len() + AH_ALGORITHMS.len()) * 3 * 3);
}
