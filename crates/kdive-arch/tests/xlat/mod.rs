//! Reading libkdumpfile's x86-64 translation test cases: memory images
//! (`.data`), symbols (`.sym`), the layout libkdumpfile derives
//! (`.expect`) and the per-case parameters (`params.tsv`). The formats are
//! described in the corpus's README.md.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use kdive_arch::PhysMem;
use kdive_dump::ReadError;

/// Where the cases are: `KDIVE_CONFORMANCE`, else `../shared/conformance`
/// beside the repository. `None` (after saying so) when missing and
/// `KDIVE_ALLOW_NO_CORPUS=1`; a failed test otherwise.
pub fn cases_dir() -> Option<PathBuf> {
    let root = std::env::var_os("KDIVE_CONFORMANCE")
        .map(PathBuf::from)
        .unwrap_or_else(|| kdive_testkit::repo_root().join("../shared/conformance"));
    let dir = root.join("libkdumpfile-xlat-x86_64");
    if dir.join("params.tsv").is_file() {
        return Some(dir);
    }
    if ["KDIVE_ALLOW_NO_CONFORMANCE", "KDIVE_ALLOW_NO_CORPUS"]
        .iter()
        .any(|v| kdive_testkit::allowed(v))
    {
        eprintln!(
            "skipping: no conformance cases at {} (KDIVE_ALLOW_NO_CONFORMANCE=1)",
            dir.display()
        );
        return None;
    }
    panic!(
        "no conformance cases at {}; set KDIVE_CONFORMANCE or KDIVE_ALLOW_NO_CONFORMANCE=1",
        dir.display()
    );
}

/// One case: its name and `key=value` parameters.
pub struct Case {
    pub name: String,
    pub params: HashMap<String, String>,
}

impl Case {
    /// A parameter as a number (`0x` hex or decimal).
    pub fn number(&self, key: &str) -> Option<u64> {
        self.params.get(key).map(|v| parse_num(v))
    }
}

/// The cases params.tsv lists.
pub fn cases(dir: &Path) -> Vec<Case> {
    let text = std::fs::read_to_string(dir.join("params.tsv")).expect("params.tsv");
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let (name, rest) = l.split_once('\t')?;
            let params = rest
                .split_whitespace()
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            Some(Case {
                name: name.to_string(),
                params,
            })
        })
        .collect()
}

/// `0x`-prefixed hex, or decimal, like C's `strtoull(s, NULL, 0)`.
pub fn parse_num(s: &str) -> u64 {
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16),
        None => s.parse(),
    }
    .unwrap_or_else(|e| panic!("bad number {s:?}: {e}"))
}

/// Memory as `.data` blocks; later blocks win where they overlap, and a read
/// must fall inside one block (the rest of memory is not in the "dump").
#[derive(Default)]
pub struct SparseMem {
    pub blocks: Vec<(u64, Vec<u8>)>,
}

impl PhysMem for SparseMem {
    fn read_phys(&self, addr: u64, buf: &mut [u8]) -> Result<(), ReadError> {
        let end = addr
            .checked_add(buf.len() as u64)
            .ok_or(ReadError::NotInDump { addr })?;
        let (start, bytes) = self
            .blocks
            .iter()
            .rev()
            .find(|(a, b)| *a <= addr && end <= a + b.len() as u64)
            .ok_or(ReadError::NotInDump { addr })?;
        let off = (addr - start) as usize;
        buf.copy_from_slice(&bytes[off..off + buf.len()]);
        Ok(())
    }
}

/// Parse a `.data` file into its blocks.
pub fn parse_data(text: &str) -> Vec<(u64, Vec<u8>)> {
    let mut blocks: Vec<(u64, Vec<u8>)> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(addr) = line.strip_prefix('@') {
            blocks.push((parse_num(addr.trim()), Vec::new()));
            continue;
        }
        let block = &mut blocks.last_mut().expect("data before the first @ADDR").1;
        parse_values(line, block);
    }
    blocks
}

/// Tokens of one data line: `V`, `V*N`, `V*N+S` or `V*N-S`, hex values
/// stored little-endian, as wide as their digits.
fn parse_values(line: &str, out: &mut Vec<u8>) {
    let mut s = line.trim_start();
    while !s.is_empty() && !s.starts_with('#') {
        let digits = s.len() - s.trim_start_matches(|c: char| c.is_ascii_hexdigit()).len();
        assert!(digits > 0 && digits <= 16, "bad data token in {line:?}");
        let size = digits.div_ceil(2);
        let value = u64::from_str_radix(&s[..digits], 16).unwrap();
        s = s[digits..].trim_start();
        let (mut count, mut step) = (1u64, 0u64);
        if let Some(rest) = s.strip_prefix('*') {
            let rest = rest.trim_start();
            let n = rest.len()
                - rest
                    .trim_start_matches(|c: char| c.is_ascii_alphanumeric())
                    .len();
            count = parse_num(&rest[..n]);
            s = rest[n..].trim_start();
            if let Some(sign @ ('+' | '-')) = s.chars().next() {
                let rest = s[1..].trim_start();
                let n = rest.len()
                    - rest
                        .trim_start_matches(|c: char| c.is_ascii_hexdigit())
                        .len();
                let digits = &rest[..n];
                // Wider steps keep their low digits only.
                let step_abs =
                    u64::from_str_radix(&digits[n.saturating_sub(2 * size)..], 16).unwrap();
                step = if sign == '+' {
                    step_abs
                } else {
                    step_abs.wrapping_neg()
                };
                s = rest[n..].trim_start();
            }
        }
        let width_mask = if size == 8 {
            u64::MAX
        } else {
            (1u64 << (8 * size)) - 1
        };
        let mut v = value;
        for _ in 0..count {
            out.extend_from_slice(&v.to_le_bytes()[..size]);
            v = v.wrapping_add(step) & width_mask;
        }
    }
}

/// A `.sym` file: `VALUE(name)`, `NUMBER(name)`, `REG(name)` to values.
pub fn parse_sym(text: &str) -> HashMap<String, u64> {
    let mut out = HashMap::new();
    let mut key: Option<String> = None;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match (line.strip_prefix('@'), key.take()) {
            (Some(k), _) => key = Some(k.to_string()),
            (None, Some(k)) => {
                out.insert(k, u64::from_str_radix(line, 16).expect("hex symbol value"));
            }
            (None, None) => panic!("symbol value {line:?} without a name"),
        }
    }
    out
}

/// A translation method of an `.expect` file.
#[derive(Debug, Default)]
pub struct Method {
    /// `PGT`, `LINEAR`, `MEMARR`...
    pub kind: String,
    pub params: HashMap<String, String>,
}

impl Method {
    /// `off=` of a LINEAR method.
    pub fn off(&self) -> Option<u64> {
        (self.kind == "LINEAR").then(|| parse_num(&self.params["off"]))
    }
}

/// One range of a map: `first..=last` and the method's name (`None`: NONE).
pub type MapRange = (u64, u64, Option<String>);

/// An `.expect` file.
#[derive(Debug, Default)]
pub struct Expect {
    pub methods: HashMap<String, Method>,
    pub maps: HashMap<String, Vec<MapRange>>,
}

/// Parse an `.expect` file.
pub fn parse_expect(text: &str) -> Expect {
    let mut e = Expect::default();
    let mut method: Option<String> = None;
    let mut map: Option<String> = None;
    for line in text.lines() {
        if line.trim().is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix('@') {
            let (name, kind) = rest.split_once(": ").expect("@name: KIND");
            e.methods.insert(
                name.to_string(),
                Method {
                    kind: kind.to_string(),
                    ..Method::default()
                },
            );
            (method, map) = (Some(name.to_string()), None);
        } else if line.starts_with(' ') {
            let (k, v) = line.trim().split_once('=').expect("key=value");
            let m = e.methods.get_mut(method.as_ref().expect("method")).unwrap();
            m.params.insert(k.to_string(), v.to_string());
        } else if let Some(name) = line.strip_suffix(':') {
            e.maps.insert(name.to_string(), Vec::new());
            (method, map) = (None, Some(name.to_string()));
        } else {
            let (range, meth) = line.split_once(": ").expect("range: method");
            let (a, b) = range.split_once('-').expect("first-last");
            let meth = meth.strip_prefix('@').map(str::to_string);
            let hex = |s: &str| u64::from_str_radix(s, 16).unwrap();
            e.maps
                .get_mut(map.as_ref().expect("map"))
                .unwrap()
                .push((hex(a), hex(b), meth));
        }
    }
    e
}

#[test]
fn data_tokens_repeat_and_step() {
    let b = parse_data("@0x10\n01 0203 # c\n80000000000001e3*3+40000000\nff*2-1\n");
    assert_eq!(b[0].0, 0x10);
    let d = &b[0].1;
    assert_eq!(&d[..3], &[1, 3, 2]);
    let w = |i: usize| u64::from_le_bytes(d[3 + 8 * i..11 + 8 * i].try_into().unwrap());
    assert_eq!(w(1), 0x80000000400001e3);
    assert_eq!(w(2), 0x80000000800001e3);
    assert_eq!(&d[27..], &[0xff, 0xfe]);
}
