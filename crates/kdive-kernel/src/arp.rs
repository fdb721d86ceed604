//! The ARP table (`arp_tbl`), as crash 8.0.2's `net -a` reads it: the
//! buckets of `arp_tbl.nht` (`1 << hash_shift` of them, or `hash_mask + 1`
//! before 3.x), each a chain of `struct neighbour` by `next` (or, from
//! 6.13, an `hlist` by `hash` under `hash_heads`).

use std::collections::HashSet;

use crate::offsets::Layouts;
use crate::{Error, Kernel};

/// At most this many buckets, and entries in one chain.
const MAX_BUCKETS: u64 = 1 << 24;
const MAX_CHAIN: usize = 1 << 20;

/// One ARP entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Neighbour {
    /// The `struct neighbour`.
    pub addr: u64,
    /// `primary_key`: the IPv4 address, as stored.
    pub ip: [u8; 4],
    /// `ha`, the hardware address, all of the array.
    pub ha: Vec<u8>,
    /// The device's name, `type` (`ARPHRD_*`) and `addr_len`.
    pub dev_name: String,
    pub dev_type: u16,
    pub dev_addr_len: u8,
    /// `nud_state` (`NUD_*` bits).
    pub state: u8,
}

impl Kernel {
    /// The ARP table's entries, bucket by bucket, and what could not be read.
    pub fn arp_table(&self) -> Result<(Vec<Neighbour>, Vec<crate::Finding>), Error> {
        let l = Layouts::of(self)?;
        let tbl = self.symbol("arp_tbl").ok_or_else(|| {
            Error::no_symbol_said("arp_tbl", "arp_tbl does not exist in this kernel")
        })?;
        let nht = self
            .read_u64(tbl + l.off("neigh_table", "nht")?)
            .map_err(|e| Error::read("arp_tbl.nht", e))?;
        let nbuckets = if let Ok(o) = l.off("neigh_hash_table", "hash_shift") {
            1u64 << (self
                .read_u32(nht + o)
                .map_err(|e| Error::read("hash_shift", e))?
                & 31)
        } else {
            u64::from(self.read_u32(nht + l.off("neigh_hash_table", "hash_mask")?)?) + 1
        };
        let (buckets_off, hlist) = match l.off("neigh_hash_table", "hash_buckets") {
            Ok(o) => (o, None),
            Err(_) => (
                l.off("neigh_hash_table", "hash_heads")?,
                Some(l.off("neighbour", "hash")?),
            ),
        };
        let next_off = if hlist.is_some() {
            0
        } else {
            l.off("neighbour", "next")?
        };
        let buckets = self
            .read_u64(nht + buckets_off)
            .map_err(|e| Error::read("hash buckets", e))?;
        let mut notices = Vec::new();
        let mut out = Vec::new();
        for i in 0..nbuckets.min(MAX_BUCKETS) {
            let mut at = match self.read_u64(buckets + 8 * i) {
                Ok(a) => a,
                Err(e) => {
                    notices.push(crate::Finding::unreadable(
                        buckets + 8 * i,
                        format!("arp_tbl bucket {i}: {e}"),
                    ));
                    continue;
                }
            };
            let mut seen = HashSet::new();
            while at != 0 {
                if !seen.insert(at) || seen.len() > MAX_CHAIN {
                    notices.push(crate::Finding::looped(
                        at,
                        format!("arp_tbl bucket {i}: the chain comes back to {at:x}"),
                    ));
                    break;
                }
                let n = at.wrapping_sub(hlist.unwrap_or(0));
                match self.neighbour(&l, n) {
                    Ok(entry) => out.push(entry),
                    Err(e) => {
                        notices.push(crate::Finding::unreadable(
                            n,
                            format!("neighbour {n:x}: {e}"),
                        ));
                        break;
                    }
                }
                at = match self.read_u64(at + next_off) {
                    Ok(a) => a,
                    Err(e) => {
                        notices.push(crate::Finding::unreadable(
                            n,
                            format!("neighbour {n:x}: {e}"),
                        ));
                        break;
                    }
                };
            }
        }
        Ok((out, notices))
    }

    fn neighbour(&self, l: &Layouts, n: u64) -> Result<Neighbour, Error> {
        let mut ip = [0u8; 4];
        self.read(n + l.off("neighbour", "primary_key")?, &mut ip)?;
        let ha_len = l.array_len("neighbour", "ha").unwrap_or(32).min(256) as usize;
        let mut ha = vec![0u8; ha_len];
        self.read(n + l.off("neighbour", "ha")?, &mut ha)?;
        let dev = self.read_u64(n + l.off("neighbour", "dev")?)?;
        let mut state = [0u8];
        self.read(n + l.off("neighbour", "nud_state")?, &mut state)?;
        let dev_name = self.read_cstr(dev + l.off("net_device", "name")?, 16)?;
        let mut ty = [0u8; 2];
        self.read(dev + l.off("net_device", "type")?, &mut ty)?;
        let mut len = [0u8];
        self.read(dev + l.off("net_device", "addr_len")?, &mut len)?;
        Ok(Neighbour {
            addr: n,
            ip,
            ha,
            dev_name,
            dev_type: u16::from_le_bytes(ty),
            dev_addr_len: len[0],
            state: state[0],
        })
    }
}
