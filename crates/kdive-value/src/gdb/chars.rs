//! gdb's characters and strings: `65 'A'`, `"swapper/0\000\000"`.
//!
//! crash's gdb reads bytes as ASCII: printable ones as they are, the C
//! escapes `\a \b \f \n \r \t \v`, everything else (NUL, bytes of 128 and
//! up) in three octal digits. crash sets gdb's repeat threshold out of
//! reach, so runs are never folded into `<repeats N times>`.

/// How many characters of a string, or elements of an array, gdb prints
/// (`set print elements`: crash sets 256).
pub const PRINT_MAX: usize = 256;

/// One byte inside `quote`s, escaped as gdb does.
pub fn escape(b: u8, quote: u8, out: &mut String) {
    escape_after(b, quote, &mut false, out);
}

/// [`escape`] in a string: a digit right after an octal escape is escaped
/// too (`"\000\061"`), so that it cannot be read as part of it.
/// `octal_before` says whether the byte before was an octal escape, and
/// is updated.
fn escape_after(b: u8, quote: u8, octal_before: &mut bool, out: &mut String) {
    let after_octal = std::mem::replace(octal_before, false);
    match b {
        b'0'..=b'9' if after_octal => {
            out.push_str(&format!("\\{b:03o}"));
            *octal_before = true;
        }
        7 => out.push_str("\\a"),
        8 => out.push_str("\\b"),
        9 => out.push_str("\\t"),
        10 => out.push_str("\\n"),
        11 => out.push_str("\\v"),
        12 => out.push_str("\\f"),
        13 => out.push_str("\\r"),
        0x20..=0x7e => {
            if b == quote || b == b'\\' {
                out.push('\\');
            }
            out.push(b as char);
        }
        _ => {
            out.push_str(&format!("\\{b:03o}"));
            *octal_before = true;
        }
    }
}

/// A character constant: `'A'`, `'\000'`, `'\''`.
pub fn char_literal(b: u8) -> String {
    let mut s = String::from("'");
    escape(b, b'\'', &mut s);
    s.push('\'');
    s
}

/// The bytes of a char array or of a string read behind a pointer, as gdb
/// prints them (its generic_printstr): one final NUL is dropped unless
/// `ellipsis` is forced; at most [`PRINT_MAX`] characters, except that a
/// run of one repeated byte that crosses the limit is printed whole (gdb
/// counts characters by runs); `...` after the closing quote when bytes
/// are left or `ellipsis` is forced.
pub fn string(bytes: &[u8], ellipsis: bool) -> String {
    let mut len = bytes.len();
    if !ellipsis && len > 0 && bytes[len - 1] == 0 {
        len -= 1;
    }
    if len == 0 {
        return "\"\"".to_string();
    }
    let mut pos = 0;
    while pos < PRINT_MAX && pos < len {
        let run = bytes[pos..len]
            .iter()
            .take_while(|&&b| b == bytes[pos])
            .count();
        pos += run;
    }
    let mut s = String::from("\"");
    let mut octal = false;
    for &b in &bytes[..pos] {
        escape_after(b, b'"', &mut octal, &mut s);
    }
    s.push('"');
    if ellipsis || pos < len {
        s.push_str("...");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(char_literal(0), "'\\000'");
        assert_eq!(char_literal(64), "'@'");
        assert_eq!(char_literal(b'\''), "'\\''");
        assert_eq!(char_literal(0xff), "'\\377'");
        assert_eq!(char_literal(b'\n'), "'\\n'");
        assert_eq!(char_literal(b'"'), "'\"'");
    }

    #[test]
    fn arrays_lose_one_nul() {
        let comm = b"swapper/0\0\0\0\0\0\0\0";
        assert_eq!(
            string(comm, false),
            "\"swapper/0\\000\\000\\000\\000\\000\\000\""
        );
        assert_eq!(string(&[0], false), "\"\"");
        assert_eq!(string(b"a\"\\", false), "\"a\\\"\\\\\"");
        assert_eq!(string(b"ab", true), "\"ab\"...");
        assert_eq!(string(b"\x001a2\x01", false), "\"\\000\\061a2\\001\"");
    }

    #[test]
    fn limit_counts_runs() {
        // More than the limit: cut there, with "...".
        let v: Vec<u8> = (0..400).map(|i| b'a' + (i % 2) as u8).collect();
        let s = string(&v, false);
        assert_eq!(s.len(), PRINT_MAX + 2 + 3);
        assert!(s.ends_with("\"..."));
        // Exactly the limit: no ellipsis.
        assert!(!string(&v[..PRINT_MAX], false).ends_with("..."));
        // A run crossing the limit is printed whole.
        let mut w = vec![b'x'; 250];
        w.extend(vec![0u8; 1000]);
        w.push(1);
        let s = string(&w, false);
        assert_eq!(s.matches("\\000").count(), 1000);
        assert!(s.ends_with("\"..."));
    }
}
