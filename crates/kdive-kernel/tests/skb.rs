//! `Kernel::skb_queue` on real dumps: the audit queues (the sk_buff_heads
//! every kernel with audit has) walk to their own count, with nothing
//! wrong found.

use kdive_kernel::{Kernel, VmlinuxChoice};

#[test]
fn audit_queues_walk_to_their_count() {
    let mut checked = 0;
    for c in kdive_testkit::require("skb queue tests") {
        let Some(dump) = c.variant("kdump-zlib") else {
            continue;
        };
        let k = Kernel::open_with(dump, VmlinuxChoice::None).unwrap();
        let queues = [
            "audit_skb_hold_queue",
            "audit_skb_queue",
            "audit_hold_queue",
            "audit_retry_queue",
            "audit_queue",
        ];
        for head in queues.iter().filter_map(|q| k.symbol(q)) {
            let q = k.skb_queue(head).unwrap();
            assert!(q.findings.is_empty(), "{}: {:?}", c.kernel, q.findings);
            assert_eq!(q.skbs.len(), q.qlen as usize, "{}", c.kernel);
            checked += 1;
        }
    }
    assert!(checked > 0 || kdive_testkit::crashes().is_empty());
}
