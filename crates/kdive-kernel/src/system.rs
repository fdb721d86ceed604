//! What the kernel says about the system: its tick rate and uptime, load
//! average, memory size, names, taint and DMI strings, as `sys` shows them.

use crate::memory::Memory;
use crate::printk::cstr;
use crate::Kernel;

/// Ticks since boot and the tick rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Uptime {
    /// `jiffies_64 - INITIAL_JIFFIES`.
    pub jiffies: u64,
    /// `HZ`.
    pub hz: u64,
}

impl Uptime {
    pub fn seconds(&self) -> u64 {
        self.jiffies / self.hz
    }
}

/// The kernel's `struct new_utsname`, from `init_uts_ns`: the same fields
/// as the copy a kdump header keeps.
pub use kdive_dump::Utsname;

/// Taint flag `K`: a live patch is applied.
const TAINT_LIVEPATCH: u32 = 15;

impl Kernel {
    /// The tick rate `HZ`: from the kernel's `tick_nsec` (nanoseconds per
    /// tick, set from HZ at boot and adjusted by NTP by parts per million),
    /// or where later kernels (7.x) have none, from NTP's `tick_length` (the same
    /// in 32.32 fixed point), else from the clocks
    /// ([`Self::hz_from_clocks`]). crash instead guesses it from I/O
    /// scheduler constants.
    pub fn hz(&self) -> Option<u64> {
        let per_second = |t: u64| (t != 0).then(|| (1_000_000_000 + t / 2) / t);
        let from_tick = self
            .symbol("tick_nsec")
            .and_then(|a| self.read_u64(a).ok())
            .and_then(per_second)
            .filter(|hz| (10..=10_000).contains(hz));
        from_tick
            .or_else(|| {
                self.ntp_tick_length()
                    .and_then(|t| per_second(t >> 32))
                    .filter(|hz| (10..=10_000).contains(hz))
            })
            .or_else(|| self.hz_from_clocks())
    }

    /// `tk_ntp_data[TIMEKEEPER_CORE].tick_length` (7.x, where
    /// NTP's state moved into `struct ntp_data`): nanoseconds per tick,
    /// shifted left by `NTP_SCALE_SHIFT` (32).
    fn ntp_tick_length(&self) -> Option<u64> {
        let f = self.shapes()?.field("ntp_data", "tick_length")?;
        let mut b = vec![0u8; f.off + f.size];
        Memory::read(self, self.symbol("tk_ntp_data")?, &mut b).ok()?;
        f.get(&b)
    }

    /// Where the shadow timekeeper is: `shadow_timekeeper`, or
    /// `timekeeper_data[TIMEKEEPER_CORE].shadow_timekeeper` from Linux
    /// 7.x (`struct tk_data`).
    fn shadow_timekeeper(&self) -> Option<u64> {
        if let Some(a) = self.symbol("shadow_timekeeper") {
            return Some(a);
        }
        let f = self.shapes()?.field("tk_data", "shadow_timekeeper")?;
        Some(self.symbol("timekeeper_data")? + f.off as u64)
    }

    /// The tick rate that makes `jiffies_64` agree with the monotonic
    /// clock (the shadow timekeeper's `ktime_sec`, seconds since boot): jiffies
    /// start at `INITIAL_JIFFIES`, five minutes' worth of ticks before the
    /// 32-bit wrap, so a wrong rate is off by minutes, not by a tick.
    pub fn hz_from_clocks(&self) -> Option<u64> {
        const CANDIDATES: [u64; 14] = [
            24, 32, 48, 64, 100, 128, 200, 250, 256, 300, 500, 512, 1000, 1024,
        ];
        let f = self.shapes()?.field("timekeeper", "ktime_sec")?;
        let mut b = vec![0u8; f.off + f.size];
        Memory::read(self, self.shadow_timekeeper()?, &mut b).ok()?;
        let mono = f.get(&b)?;
        let j = self.read_u64(self.symbol("jiffies_64")?).ok()?;
        CANDIDATES
            .iter()
            .map(|&hz| {
                let up = j.wrapping_sub(initial_jiffies(hz)) / hz;
                (up.abs_diff(mono), hz)
            })
            .filter(|&(off, _)| off <= 2 + mono / 100)
            .min()
            .map(|(_, hz)| hz)
    }

    /// Ticks since boot: `jiffies_64` less `INITIAL_JIFFIES`, the 32-bit
    /// value five minutes before wrapping that the kernel starts from.
    pub fn uptime(&self) -> Option<Uptime> {
        let hz = self.hz()?;
        let j = self
            .symbol("jiffies_64")
            .or_else(|| self.symbol("jiffies"))
            .and_then(|a| self.read_u64(a).ok())?;
        Some(Uptime {
            jiffies: j.wrapping_sub(initial_jiffies(hz)),
            hz,
        })
    }

    /// When the kernel stopped: the dump's crash time (VMCOREINFO's
    /// `CRASHTIME`), else [`Self::wall_clock`].
    pub fn crash_date(&self) -> Option<i64> {
        self.dump().crash_time().or_else(|| self.wall_clock())
    }

    /// The wall clock the kernel's timekeeper last set
    /// (`shadow_timekeeper.xtime_sec`, at most a tick behind), in seconds
    /// since the epoch.
    pub fn wall_clock(&self) -> Option<i64> {
        let f = self.shapes()?.field("timekeeper", "xtime_sec")?;
        let tk = self.shadow_timekeeper()?;
        let mut b = vec![0u8; f.off + f.size];
        Memory::read(self, tk, &mut b).ok()?;
        let secs = f.get(&b)? as i64;
        (secs > 0).then_some(secs)
    }

    /// `avenrun[3]`: the 1, 5 and 15 minute load averages, fixed point
    /// with 11 fractional bits.
    pub fn avenrun(&self) -> Option<[u64; 3]> {
        let a = self.symbol("avenrun")?;
        let mut b = [0u8; 24];
        self.read(a, &mut b).ok()?;
        let w = |i: usize| u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().unwrap_or_default());
        Some([w(0), w(1), w(2)])
    }

    /// The CPU clock in MHz, from `cpu_khz`.
    pub fn cpu_mhz(&self) -> Option<u64> {
        let khz = self.read_u32(self.symbol("cpu_khz")?).ok()?;
        (khz != 0).then_some(u64::from(khz) / 1000)
    }

    /// Bytes of memory the kernel's nodes have present
    /// (`pglist_data.node_present_pages`, summed), as crash counts them.
    pub fn node_present_bytes(&self) -> Option<u64> {
        let shapes = self.shapes()?;
        let present = shapes.field("pglist_data", "node_present_pages")?;
        let pages_at = |pgdat: u64| -> Option<u64> {
            let mut b = vec![0u8; present.off + present.size];
            Memory::read(self, pgdat, &mut b).ok()?;
            present.get(&b)
        };
        let pages = if let Some(nodes) = self.symbol("node_data") {
            // nr_node_ids bounds the array; 1024 is MAX_NUMNODES's largest.
            let n = self
                .symbol("nr_node_ids")
                .and_then(|a| self.read_u32(a).ok())
                .map_or(1024, |n| n.min(1024));
            let mut total = 0u64;
            for i in 0..u64::from(n) {
                match self.read_u64(nodes + 8 * i) {
                    Ok(0) => {}
                    Ok(p) => total = total.saturating_add(pages_at(p)?),
                    Err(_) => break,
                }
            }
            total
        } else {
            pages_at(self.symbol("contig_page_data")?)?
        };
        (pages > 0).then(|| pages * self.dump().page_size())
    }

    /// The kernel's names: `init_uts_ns.name`.
    pub fn utsname(&self) -> Option<Utsname> {
        let shapes = self.shapes()?;
        let addr = self.symbol("init_uts_ns")?;
        let size = shapes.size("uts_namespace")? as usize;
        let mut b = vec![0u8; size.min(8192)];
        Memory::read(self, addr, &mut b).ok()?;
        let get = |m: &str| -> Option<String> {
            let f = shapes.field("uts_namespace", &format!("name.{m}"))?;
            Some(String::from_utf8_lossy(cstr(f.bytes(&b)?)).into_owned())
        };
        Some(Utsname {
            sysname: get("sysname")?,
            nodename: get("nodename")?,
            release: get("release")?,
            version: get("version")?,
            machine: get("machine")?,
            domainname: get("domainname").unwrap_or_default(),
        })
    }

    /// The taint mask (`tainted_mask`, or `tainted` before 2.6.28).
    pub fn taint_mask(&self) -> Option<u64> {
        if let Some(a) = self.symbol("tainted_mask") {
            return self.read_u64(a).ok();
        }
        self.read_u32(self.symbol("tainted")?).ok().map(u64::from)
    }

    /// Whether a live patch is applied: taint `K`, or a `kpatch` module.
    pub fn is_livepatched(&self) -> bool {
        self.taint_mask()
            .is_some_and(|m| m & (1 << TAINT_LIVEPATCH) != 0)
            || self.modules().iter().any(|m| m.name == "kpatch")
    }

    /// The DMI strings (`dmi_ident[]`), named by `enum dmi_field`, in its
    /// order, up to `DMI_STRING_MAX`; `None` for a field the firmware did
    /// not give.
    pub fn dmi_strings(&self) -> Option<Vec<(String, Option<String>)>> {
        let layouts = self.layouts()?;
        let base = self.symbol("dmi_ident")?;
        let max = layouts.enum_value("dmi_field", "DMI_STRING_MAX")?;
        let mut out = Vec::new();
        for (name, value) in layouts.enum_values("dmi_field")? {
            if value < 0 || value >= max {
                break;
            }
            let p = self.read_u64(base + 8 * value as u64).ok()?;
            let s = (p != 0).then(|| self.read_cstr(p, 1024).unwrap_or_default());
            out.push((name, s));
        }
        Some(out)
    }
}

/// `INITIAL_JIFFIES`: `(unsigned long)(unsigned int)(-300 * HZ)`.
fn initial_jiffies(hz: u64) -> u64 {
    u64::from((300 * hz as u32).wrapping_neg())
}
