//! `log -a`: the audit records the kernel had queued and not yet handed
//! to auditd, as crash prints them (`type=N TEXT`).

use std::io::Write;

use kdive_kernel::Kernel;

use crate::commands::{io, CmdResult};

/// `NLMSG_HDRLEN`: the netlink header before the text, aligned to 4.
const NLMSG_HDRLEN: usize = 16;
/// The most text read of one record.
const MAX_TEXT: usize = 1 << 16;

pub fn run(k: &Kernel, out: &mut dyn Write) -> CmdResult {
    let queues: &[&str] = if k.symbol("audit_skb_queue").is_some() {
        &["audit_skb_hold_queue", "audit_skb_queue"]
    } else if k.symbol("audit_queue").is_some() {
        &["audit_hold_queue", "audit_retry_queue", "audit_queue"]
    } else {
        return Err("-a: this kernel has no audit queues".into());
    };
    let mut total = 0;
    for q in queues {
        let Some(head) = k.symbol(q) else { continue };
        let queue = k.skb_queue(head).map_err(|e| format!("-a: {q}: {e}"))?;
        total += queue.skbs.len().max(queue.qlen as usize);
        for skb in &queue.skbs {
            let b = k
                .skb_bytes(skb, NLMSG_HDRLEN + MAX_TEXT)
                .map_err(|e| format!("-a: {q}: sk_buff {:x}: {e}", skb.addr))?;
            // nlmsghdr: the length (4 bytes), then the type.
            let ty = match b.get(4..6) {
                Some(t) => u16::from_le_bytes([t[0], t[1]]),
                None => 0,
            };
            let text = b.get(NLMSG_HDRLEN..).unwrap_or_default();
            let end = text.iter().position(|&c| c == 0).unwrap_or(text.len());
            let text = String::from_utf8_lossy(&text[..end]);
            writeln!(out, "type={ty} {text}").map_err(io)?;
        }
        if !queue.findings.is_empty() {
            out.flush().map_err(io)?;
            for f in &queue.findings {
                eprintln!("log: {f}");
            }
        }
    }
    if total == 0 {
        // crash's informational message, in the output.
        writeln!(out, "log: kernel audit log is empty").map_err(io)?;
    }
    Ok(())
}
