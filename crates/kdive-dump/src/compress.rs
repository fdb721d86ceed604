//! Page decompression for kdump-compressed dumps. Each page is compressed on
//! its own; the descriptor's flags say how.

use crate::kdump::{
    DUMP_DH_COMPRESSED_LZO, DUMP_DH_COMPRESSED_SNAPPY, DUMP_DH_COMPRESSED_ZLIB,
    DUMP_DH_COMPRESSED_ZSTD,
};

/// A page compression method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compression {
    None,
    Zlib,
    Lzo,
    Snappy,
    Zstd,
}

impl Compression {
    /// The page descriptor / header flag for this method.
    pub fn flag(self) -> u32 {
        match self {
            Compression::None => 0,
            Compression::Zlib => DUMP_DH_COMPRESSED_ZLIB,
            Compression::Lzo => DUMP_DH_COMPRESSED_LZO,
            Compression::Snappy => DUMP_DH_COMPRESSED_SNAPPY,
            Compression::Zstd => DUMP_DH_COMPRESSED_ZSTD,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Zlib => "zlib",
            Compression::Lzo => "lzo",
            Compression::Snappy => "snappy",
            Compression::Zstd => "zstd",
        }
    }

    /// The methods named in a header's status word.
    pub fn from_status(status: u32) -> Vec<Compression> {
        [
            Compression::Zlib,
            Compression::Lzo,
            Compression::Snappy,
            Compression::Zstd,
        ]
        .into_iter()
        .filter(|c| status & c.flag() != 0)
        .collect()
    }
}

/// A compression method's name that is not one ([`Compression`]'s
/// `FromStr`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown compression {0:?} (none, zlib, lzo, snappy, zstd)")]
pub struct UnknownCompression(pub String);

impl std::str::FromStr for Compression {
    type Err = UnknownCompression;
    fn from_str(s: &str) -> Result<Self, UnknownCompression> {
        Ok(match s {
            "none" | "raw" => Compression::None,
            "zlib" => Compression::Zlib,
            "lzo" => Compression::Lzo,
            "snappy" => Compression::Snappy,
            "zstd" => Compression::Zstd,
            _ => return Err(UnknownCompression(s.to_string())),
        })
    }
}

/// Decompress one page. `out` is the page; the data must fill it exactly.
pub(crate) fn decompress(flags: u32, data: &[u8], out: &mut [u8]) -> Result<(), String> {
    let method = [
        Compression::Zlib,
        Compression::Lzo,
        Compression::Snappy,
        Compression::Zstd,
    ]
    .into_iter()
    .find(|c| flags & c.flag() != 0)
    .unwrap_or(Compression::None);
    let got = match method {
        Compression::None => {
            if data.len() != out.len() {
                return Err(format!(
                    "uncompressed page of {} bytes, expected {}",
                    data.len(),
                    out.len()
                ));
            }
            out.copy_from_slice(data);
            data.len()
        }
        Compression::Zlib => {
            let mut z = flate2::Decompress::new(true);
            match z.decompress(data, out, flate2::FlushDecompress::Finish) {
                Ok(flate2::Status::StreamEnd) => z.total_out() as usize,
                Ok(_) => return Err("zlib stream does not end within the page".into()),
                Err(e) => return Err(format!("zlib: {e}")),
            }
        }
        Compression::Lzo => lzo::decompress_into(data, out).map_err(|e| format!("lzo: {e:?}"))?,
        Compression::Snappy => {
            let n = snap::raw::decompress_len(data).map_err(|e| format!("snappy: {e}"))?;
            if n != out.len() {
                return Err(format!("snappy page of {n} bytes, expected {}", out.len()));
            }
            snap::raw::Decoder::new()
                .decompress(data, out)
                .map_err(|e| format!("snappy: {e}"))?
        }
        Compression::Zstd => {
            zstd::bulk::decompress_to_buffer(data, out).map_err(|e| format!("zstd: {e}"))?
        }
    };
    if got != out.len() {
        return Err(format!(
            "{} data decompresses to {got} bytes, expected {}",
            method.name(),
            out.len()
        ));
    }
    Ok(())
}

/// Compress one page; `None` when compression does not make it smaller
/// (the page is then stored raw, as makedumpfile does).
pub fn compress(method: Compression, page: &[u8]) -> Option<Vec<u8>> {
    let out = match method {
        Compression::None => return None,
        Compression::Zlib => {
            use std::io::Write;
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(1));
            e.write_all(page).ok()?;
            e.finish().ok()?
        }
        Compression::Lzo => return None,
        Compression::Snappy => snap::raw::Encoder::new().compress_vec(page).ok()?,
        Compression::Zstd => zstd::bulk::compress(page, 1).ok()?,
    };
    (out.len() < page.len()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> Vec<u8> {
        (0..4096u32).map(|i| (i / 7) as u8).collect()
    }

    #[test]
    fn round_trip_every_writable_method() {
        for m in [Compression::Zlib, Compression::Snappy, Compression::Zstd] {
            let p = page();
            let c = compress(m, &p).expect("compressible");
            let mut out = vec![0u8; 4096];
            decompress(m.flag(), &c, &mut out).unwrap();
            assert_eq!(out, p, "{m:?}");
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let junk: Vec<u8> = (0..300u32).map(|i| (i * 37 % 251) as u8).collect();
        for m in [
            Compression::Zlib,
            Compression::Lzo,
            Compression::Snappy,
            Compression::Zstd,
            Compression::None,
        ] {
            let mut out = vec![0u8; 4096];
            assert!(decompress(m.flag(), &junk, &mut out).is_err(), "{m:?}");
        }
    }

    #[test]
    fn short_output_is_an_error() {
        let c = compress(Compression::Zstd, &[0u8; 1024]).unwrap();
        let mut out = vec![0u8; 4096];
        assert!(decompress(Compression::Zstd.flag(), &c, &mut out).is_err());
    }
}
