//! The command line of `struct` and `union`, read as crash reads it: GNU
//! `getopt()` with options anywhere (`task_struct ADDR -o`), then the
//! name, an address or symbol (with an optional `:cpuspec`), and a count.

/// The options of `struct` and `union`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct StructArgs {
    /// `-o`: offsets.
    pub offsets: bool,
    /// `-x` (or `-h`) / `-d`: the radix of integers; `None`, the default.
    pub hex: Option<bool>,
    /// `-c COUNT`.
    pub count: Option<String>,
    /// `-l OFFSET|struct.member`: the address is of that member.
    pub list_offset: Option<String>,
    /// `-p`, `-r`, `-f`, `-u`, `-v`: kdive does not have these yet.
    pub unsupported: Vec<char>,
    /// `NAME[.member[,member...]]`, then the address and count words.
    pub words: Vec<String>,
}

/// `struct`'s synopsis, as crash prints it after a usage error.
pub fn usage(cmd: &str) -> String {
    let first = if cmd == "union" {
        "union_name[.member[,member]] [-o][-l offset][-rfuxdp]"
    } else {
        "struct_name[.member[,member]][-o][-l offset][-rfuxdp]"
    };
    format!(
        "Usage:\n  {cmd} {first}\n         [address | symbol][:cpuspec] [count | -c count]\nEnter \"help {cmd}\" for details.\n"
    )
}

/// Why the arguments were refused: crash's one-line error, and whether
/// the synopsis follows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgError {
    pub message: Option<String>,
    pub usage: bool,
}

/// Read `args` (the words after the command's name).
pub fn parse(args: &[String]) -> Result<StructArgs, ArgError> {
    let mut a = StructArgs::default();
    let mut it = args.iter();
    let mut only_words = false;
    while let Some(w) = it.next() {
        if only_words || !w.starts_with('-') || w.len() == 1 {
            a.words.push(w.clone());
            continue;
        }
        if w == "--" {
            only_words = true;
            continue;
        }
        let flags: Vec<char> = w[1..].chars().collect();
        let mut i = 0;
        while i < flags.len() {
            let c = flags[i];
            i += 1;
            match c {
                'o' => a.offsets = true,
                'x' | 'h' => {
                    if a.hex == Some(false) {
                        return Err(fatal("-d and -x are mutually exclusive"));
                    }
                    a.hex = Some(true);
                }
                'd' => {
                    if a.hex == Some(true) {
                        return Err(fatal("-d and -x are mutually exclusive"));
                    }
                    a.hex = Some(false);
                }
                'c' | 'l' => {
                    let rest: String = flags[i..].iter().collect();
                    let value = if !rest.is_empty() {
                        rest
                    } else {
                        match it.next() {
                            Some(v) => v.clone(),
                            None => {
                                return Err(ArgError {
                                    message: Some(format!("option requires an argument -- '{c}'")),
                                    usage: true,
                                })
                            }
                        }
                    };
                    if c == 'c' {
                        a.count = Some(value);
                    } else {
                        a.list_offset = Some(value);
                    }
                    break;
                }
                'p' | 'r' | 'f' | 'u' | 'v' => a.unsupported.push(c),
                other => {
                    return Err(ArgError {
                        message: Some(format!("invalid option -- '{other}'")),
                        usage: true,
                    })
                }
            }
        }
    }
    if a.words.is_empty() {
        return Err(ArgError {
            message: None,
            usage: true,
        });
    }
    Ok(a)
}

fn fatal(m: &str) -> ArgError {
    ArgError {
        message: Some(m.to_string()),
        usage: false,
    }
}

/// crash's `IS_A_NUMBER()`: all decimal digits, or hex digits with an
/// optional `0x` (`0x` alone too: crash reads it as 0).
pub fn is_a_number(s: &str) -> bool {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => h.bytes().all(|b| b.is_ascii_hexdigit()),
        None => !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit()),
    }
}

/// crash's `stol()`: decimal when all decimal digits, else hex.
pub fn stol(s: &str) -> Option<u64> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().ok();
    }
    let h = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    u64::from_str_radix(h, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn options_anywhere() {
        let a = parse(&v("task_struct ff29412bc18820c0 -o")).unwrap();
        assert!(a.offsets);
        assert_eq!(a.words, v("task_struct ff29412bc18820c0"));
        let a = parse(&v("-xo list_head -c 2 ffff")).unwrap();
        assert_eq!((a.hex, a.count.as_deref()), (Some(true), Some("2")));
        let a = parse(&v("list_head -c3 x")).unwrap();
        assert_eq!(a.count.as_deref(), Some("3"));
    }

    #[test]
    fn refused_as_crash_refuses() {
        let e = parse(&v("list_head x -2")).unwrap_err();
        assert_eq!(e.message.as_deref(), Some("invalid option -- '2'"));
        assert!(e.usage);
        let e = parse(&v("-x -d list_head")).unwrap_err();
        assert_eq!(
            e.message.as_deref(),
            Some("-d and -x are mutually exclusive")
        );
        assert!(!e.usage);
        assert_eq!(parse(&v("-o")).unwrap_err().message, None);
    }

    #[test]
    fn numbers() {
        assert!(is_a_number("ffffffffa1f507a0") && is_a_number("0x10") && is_a_number("1000"));
        assert!(!is_a_number("list_head") && !is_a_number(""));
        assert_eq!(stol("10"), Some(10));
        assert_eq!(stol("a"), Some(10));
    }
}
