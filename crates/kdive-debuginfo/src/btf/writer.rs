//! Writing BTF by hand: a small encoder of the format [`super::Btf`]
//! reads, for tests that need a kernel's types without a kernel (made-up
//! `struct module`, `task_struct`, printk ring, SLUB layouts) and for tools
//! that want to describe a few types.
//!
//! Types are numbered from 1 in the order they are added; each method
//! returns the new type's id, for use in later types.

/// `BTF_KIND_*` numbers.
pub mod kind {
    pub const INT: u32 = 1;
    pub const PTR: u32 = 2;
    pub const ARRAY: u32 = 3;
    pub const STRUCT: u32 = 4;
    pub const UNION: u32 = 5;
    pub const ENUM: u32 = 6;
    pub const TYPEDEF: u32 = 8;
    pub const VAR: u32 = 14;
}

/// A BTF blob being written (little-endian, version 1).
#[derive(Debug, Clone, Default)]
pub struct BtfWriter {
    strings: Vec<u8>,
    types: Vec<u8>,
    count: u32,
}

impl BtfWriter {
    pub fn new() -> BtfWriter {
        BtfWriter::default()
    }

    /// The offset of `s` in the string section (0 for the empty string).
    pub fn str(&mut self, s: &str) -> u32 {
        if self.strings.is_empty() {
            self.strings.push(0);
        }
        if s.is_empty() {
            return 0;
        }
        let off = self.strings.len() as u32;
        self.strings.extend_from_slice(s.as_bytes());
        self.strings.push(0);
        off
    }

    /// A type from its raw words: name, `info` (kind << 24, kind flag <<
    /// 31, vlen), size or type, and the words that follow.
    pub fn raw(&mut self, name: &str, info: u32, size_type: u32, extra: &[u32]) -> u32 {
        let name = self.str(name);
        for w in [name, info, size_type].iter().chain(extra) {
            self.types.extend_from_slice(&w.to_le_bytes());
        }
        self.count += 1;
        self.count
    }

    /// A type of `kind` with `vlen` entries (see [`Self::raw`]).
    pub fn ty(&mut self, name: &str, kind: u32, vlen: u32, size_type: u32, extra: &[u32]) -> u32 {
        self.raw(name, (kind << 24) | vlen, size_type, extra)
    }

    /// An integer of `size` bytes.
    pub fn int(&mut self, name: &str, size: u32, signed: bool) -> u32 {
        self.ty(
            name,
            kind::INT,
            0,
            size,
            &[(u32::from(signed) << 24) | (size * 8)],
        )
    }

    pub fn ptr(&mut self, target: u32) -> u32 {
        self.ty("", kind::PTR, 0, target, &[])
    }

    /// An array of `len` elements of type `elem`, indexed by type `index`.
    pub fn array(&mut self, elem: u32, index: u32, len: u32) -> u32 {
        self.ty("", kind::ARRAY, 0, 0, &[elem, index, len])
    }

    /// A struct from `(name, type, offset in bytes)`.
    pub fn st(&mut self, name: &str, size: u32, members: &[(&str, u32, u32)]) -> u32 {
        let bits: Vec<(&str, u32, u32, u32)> = members
            .iter()
            .map(|&(n, t, off)| (n, t, off * 8, 0))
            .collect();
        self.st_bits(name, size, &bits)
    }

    /// A struct from `(name, type, offset in bits, bitfield width or 0)`;
    /// with any bitfield, the kind flag is set and each offset holds the
    /// width in its top byte, as the kernel writes bitfields.
    pub fn st_bits(&mut self, name: &str, size: u32, members: &[(&str, u32, u32, u32)]) -> u32 {
        let kflag = members.iter().any(|m| m.3 != 0);
        let mut extra = Vec::new();
        for &(n, t, bits, width) in members {
            let off = if kflag { (width << 24) | bits } else { bits };
            extra.extend([self.str(n), t, off]);
        }
        let info = (kind::STRUCT << 24) | (u32::from(kflag) << 31) | members.len() as u32;
        self.raw(name, info, size, &extra)
    }

    /// An enum of 4-byte values.
    pub fn enumeration(&mut self, name: &str, values: &[(&str, i32)]) -> u32 {
        let mut extra = Vec::new();
        for &(n, v) in values {
            extra.extend([self.str(n), v as u32]);
        }
        self.ty(name, kind::ENUM, values.len() as u32, 4, &extra)
    }

    /// The blob: header, types, strings.
    pub fn finish(&mut self) -> Vec<u8> {
        self.str("");
        let mut out = vec![0x9f, 0xeb, 1, 0];
        let tl = self.types.len() as u32;
        for w in [24, 0, tl, tl, self.strings.len() as u32] {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out.extend_from_slice(&self.types);
        out.extend_from_slice(&self.strings);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::btf::Btf;

    #[test]
    fn what_is_written_reads_back() {
        let mut w = BtfWriter::new();
        let int = w.int("int", 4, true);
        let u8_ = w.int("unsigned char", 1, false);
        let p = w.ptr(int);
        let arr = w.array(u8_, int, 16);
        let s = w.st(
            "task",
            32,
            &[("pid", int, 0), ("comm", arr, 8), ("next", p, 24)],
        );
        let b = w.st_bits("bits", 4, &[("a", int, 0, 3), ("b", int, 3, 5)]);
        let e = w.enumeration("mode", &[("A", 0), ("B", 7)]);
        let btf = Btf::parse(&w.finish()).unwrap();
        assert_eq!(btf.find_aggregate("task"), Some(s));
        assert_eq!(btf.member_offset("task", "next").unwrap().offset(), 24);
        assert_eq!(btf.member_offset("task", "comm[3]").unwrap().offset(), 11);
        let bb = btf.member_offset("bits", "b").unwrap();
        assert_eq!((bb.offset_bits, bb.bitfield_size), (3, 5));
        assert_eq!(btf.find_aggregate("bits"), Some(b));
        assert_eq!(btf.enum_value("mode", "B"), Some(7));
        assert_eq!(btf.size_of(e), Some(4));
    }
}
