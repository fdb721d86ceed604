//! Kernel versions, for the layout rules that changed over time.

use std::fmt;

/// A kernel version, `major.minor.patch`, ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KernelVersion {
    /// 2 in 2.6.31.
    pub major: u16,
    /// 6 in 2.6.31.
    pub minor: u16,
    /// 31 in 2.6.31 (the third number, 0 when absent).
    pub patch: u16,
}

impl KernelVersion {
    /// `major.minor.patch`.
    pub const fn new(major: u16, minor: u16, patch: u16) -> KernelVersion {
        KernelVersion {
            major,
            minor,
            patch,
        }
    }

    /// From `LINUX_VERSION_CODE` form: `major << 16 | minor << 8 | patch`.
    pub fn from_code(code: u32) -> KernelVersion {
        KernelVersion::new(
            (code >> 16) as u16,
            (code >> 8 & 0xff) as u16,
            (code & 0xff) as u16,
        )
    }

    /// From a release string such as `6.1.0-47-cloud-amd64` or `2.6.31.5`:
    /// the leading numbers, up to three.
    pub fn parse(release: &str) -> Option<KernelVersion> {
        let mut nums = release
            .split(|c: char| !c.is_ascii_digit())
            .take(3)
            .map(|s| s.parse::<u16>().ok());
        let major = nums.next()??;
        let minor = nums.next()??;
        let patch = nums.next().flatten().unwrap_or(0);
        Some(KernelVersion::new(major, minor, patch))
    }
}

impl fmt::Display for KernelVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_releases_and_codes() {
        assert_eq!(
            KernelVersion::parse("6.1.0-47-cloud-amd64"),
            Some(KernelVersion::new(6, 1, 0))
        );
        assert_eq!(
            KernelVersion::parse("2.6.31.5-x"),
            Some(KernelVersion::new(2, 6, 31))
        );
        assert_eq!(
            KernelVersion::parse("6.12"),
            Some(KernelVersion::new(6, 12, 0))
        );
        assert_eq!(KernelVersion::parse("x"), None);
        assert_eq!(
            KernelVersion::from_code(0x02061f),
            KernelVersion::new(2, 6, 31)
        );
        assert!(KernelVersion::new(2, 6, 27) < KernelVersion::new(2, 6, 31));
    }
}
