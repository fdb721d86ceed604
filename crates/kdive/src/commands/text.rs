//! Bits of crash's text layout that many commands share.

/// crash's `mkstring(.., CENTER, ..)`: `s` centered in `width` columns; an
/// odd blank goes right, or left with `rjust` (`CENTER|RJUST`).
pub fn center(s: &str, width: usize, rjust: bool) -> String {
    let pad = width.saturating_sub(s.len());
    let left = if rjust { pad.div_ceil(2) } else { pad / 2 };
    format!("{}{s}{}", " ".repeat(left), " ".repeat(pad - left))
}

/// crash's memory sizes (`sys` MEMORY, `mach` MEMORY SIZE): in GB, MB or
/// KB with one decimal left out when it is 0; a total up to 64 MB short of
/// a whole gigabyte counts as that gigabyte (memory the firmware keeps).
pub fn memory_size(mut total: u64) -> String {
    const GB: u64 = 1 << 30;
    const MB: u64 = 1 << 20;
    let next_gig = total.div_ceil(GB) * GB;
    if next_gig != 0 && next_gig - total <= 64 * MB {
        total = next_gig;
    }
    if total == 0 {
        return "0".into();
    }
    let t = total as f64;
    let s = if total >= GB {
        format!("{:.1} GB", t / GB as f64)
    } else if total >= MB {
        format!("{:.1} MB", t / MB as f64)
    } else {
        format!("{} KB", total / 1024)
    };
    s.replacen(".0 ", " ", 1)
}

/// crash's `convert_time`: jiffies as `[D days, ]HH:MM:SS`.
pub fn convert_time(jiffies: u64, hz: u64) -> String {
    let total = jiffies / hz.max(1);
    let (days, rest) = (total / 86400, total % 86400);
    let hms = format!(
        "{:02}:{:02}:{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    );
    if days > 0 {
        format!("{days} days, {hms}")
    } else {
        hms
    }
}

#[cfg(test)]
mod tests {
    use super::{center, convert_time, memory_size};

    #[test]
    fn memory_sizes_as_crash_rounds_them() {
        assert_eq!(memory_size((1 << 30) - (20 << 20)), "1 GB");
        assert_eq!(memory_size(3 << 29), "1.5 GB");
        assert_eq!(memory_size(512 << 20), "512 MB");
        assert_eq!(memory_size(0), "0");
    }

    #[test]
    fn times_as_crash_converts_them() {
        assert_eq!(convert_time(8 * 250, 250), "00:00:08");
        assert_eq!(
            convert_time((2 * 86400 + 3723) * 100, 100),
            "2 days, 01:02:03"
        );
    }

    #[test]
    fn odd_blanks_go_right_unless_rjust() {
        assert_eq!(center("MODULE", 16, false), "     MODULE     ");
        assert_eq!(center("PTE", 8, false), "  PTE   ");
        assert_eq!(center("PTE", 8, true), "   PTE  ");
        assert_eq!(center("longer than it", 4, true), "longer than it");
    }
}
