//! `log -a`: the audit records the kernel had queued and not yet handed
//! to auditd, as crash prints them (`type=N TEXT`).

use std::io::Write;

use kdive_kernel::Kernel;

use crate::commands::{io, CmdResult};

/// More queued records than this is a damaged queue.
const MAX_RECORDS: usize = 100_000;
/// `NLMSG_HDRLEN`: the netlink header before the text, aligned to 4.
const NLMSG_HDRLEN: u64 = 16;

pub fn run(k: &Kernel, out: &mut dyn Write) -> CmdResult {
    let queues: &[&str] = if k.symbol("audit_skb_queue").is_some() {
        &["audit_skb_hold_queue", "audit_skb_queue"]
    } else if k.symbol("audit_queue").is_some() {
        &["audit_hold_queue", "audit_retry_queue", "audit_queue"]
    } else {
        return Err("-a: this kernel has no audit queues".into());
    };
    let btf = k
        .layouts_or_err()
        .map_err(|e| format!("-a: the kernel's types are unknown ({e})"))?;
    let off = |t: &str, m: &str| {
        btf.member_offset(t, m)
            .map(|i| i.offset())
            .ok_or_else(|| format!("-a: the kernel's types have no `{t}.{m}`"))
    };
    let (head_next, qlen) = (off("sk_buff_head", "next")?, off("sk_buff_head", "qlen")?);
    let (skb_next, skb_len, skb_data) = (
        off("sk_buff", "next")?,
        off("sk_buff", "len")?,
        off("sk_buff", "data")?,
    );
    let mut total = 0u64;
    for q in queues {
        let Some(head) = k.symbol(q) else { continue };
        let n = k.read_u32(head + qlen).map_err(|e| e.to_string())?;
        if n == 0 {
            continue;
        }
        total += u64::from(n);
        let mut skb = k.read_u64(head + head_next).map_err(|e| e.to_string())?;
        for _ in 0..MAX_RECORDS {
            if skb == head || skb == 0 {
                break;
            }
            let len = u64::from(k.read_u32(skb + skb_len).map_err(|e| e.to_string())?);
            let data = k.read_u64(skb + skb_data).map_err(|e| e.to_string())?;
            let mut ty = [0u8; 2];
            k.read(data + 4, &mut ty).map_err(|e| e.to_string())?;
            let mut text = vec![0u8; len.saturating_sub(NLMSG_HDRLEN).min(1 << 16) as usize];
            k.read(data + NLMSG_HDRLEN, &mut text)
                .map_err(|e| e.to_string())?;
            let end = text.iter().position(|&c| c == 0).unwrap_or(text.len());
            let text = String::from_utf8_lossy(&text[..end]);
            writeln!(out, "type={} {text}", u16::from_le_bytes(ty)).map_err(io)?;
            skb = k.read_u64(skb + skb_next).map_err(|e| e.to_string())?;
        }
    }
    if total == 0 {
        // crash's informational message, in the output.
        writeln!(out, "log: kernel audit log is empty").map_err(io)?;
    }
    Ok(())
}
