//! Options as crash's commands take them, through getopt(3): `-x` flags,
//! clustered (`-xl` is `-x -l`); an option with a value takes the rest of
//! its word or else the next word (`-c 1`, `-c1`, `-xc1`); options and
//! other words may come in any order; `--` ends the options, so a word
//! after it that starts with `-` is a plain word. A lone `-` is a word.
//!
//! A command names its flags and its options with a value and gets them
//! back in order with its other words (positionals):
//!
//! ```text
//! let o = options::parse(args, "pmvxd", "fRPM")?;   // vm's
//! if o.has('x') { ... }  o.value('R')  o.words
//! ```

use std::fmt;

/// An error as getopt(3) words it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptError {
    /// An option the command does not take.
    Unknown(char),
    /// An option that takes a value, last on the line.
    NeedsValue(char),
}

impl fmt::Display for OptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptError::Unknown(c) => write!(f, "invalid option -- '{c}'"),
            OptError::NeedsValue(c) => write!(f, "option requires an argument -- '{c}'"),
        }
    }
}

/// What [`parse`] found: each option (with its value, if it takes one),
/// in the order given, and the other words, in order.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Options {
    pub opts: Vec<(char, Option<String>)>,
    pub words: Vec<String>,
}

impl Options {
    /// Whether option `c` was given.
    pub fn has(&self, c: char) -> bool {
        self.opts.iter().any(|(o, _)| *o == c)
    }

    /// The value of option `c`, the last one when given more than once.
    pub fn value(&self, c: char) -> Option<&str> {
        self.opts
            .iter()
            .rev()
            .find(|(o, _)| *o == c)
            .and_then(|(_, v)| v.as_deref())
    }
}

/// Split `args`: `flags` are the options that stand alone, `with_value`
/// those that take a value. Any other option is an error.
pub fn parse(args: &[String], flags: &str, with_value: &str) -> Result<Options, OptError> {
    let mut o = Options::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--" {
            o.words.extend(it.cloned());
            break;
        }
        let Some(cluster) = a.strip_prefix('-').filter(|f| !f.is_empty()) else {
            o.words.push(a.clone());
            continue;
        };
        for (i, c) in cluster.char_indices() {
            if with_value.contains(c) {
                let rest = &cluster[i + c.len_utf8()..];
                let v = if rest.is_empty() {
                    it.next().cloned().ok_or(OptError::NeedsValue(c))?
                } else {
                    rest.to_string()
                };
                o.opts.push((c, Some(v)));
                break;
            } else if flags.contains(c) {
                o.opts.push((c, None));
            } else {
                return Err(OptError::Unknown(c));
            }
        }
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::{parse, OptError, Options};

    fn words(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_string).collect()
    }

    fn p(line: &str) -> Result<Options, OptError> {
        parse(&words(line), "xlda", "cR")
    }

    #[test]
    fn flags_alone_and_clustered() {
        let o = p("-x -l").unwrap();
        assert_eq!(o.opts, vec![('x', None), ('l', None)]);
        assert_eq!(p("-xl").unwrap(), o);
        assert!(o.has('x') && o.has('l') && !o.has('d'));
        assert!(o.words.is_empty());
    }

    #[test]
    fn values_in_the_word_or_the_next() {
        for line in ["-c 1", "-c1"] {
            let o = p(line).unwrap();
            assert_eq!(o.value('c'), Some("1"), "{line}");
            assert!(o.words.is_empty(), "{line}");
        }
        // A flag then an option with a value, in one word.
        let o = p("-xc2 ADDR").unwrap();
        assert_eq!(o.opts, vec![('x', None), ('c', Some("2".into()))]);
        assert_eq!(o.words, ["ADDR"]);
        // The value may start with a minus sign.
        assert_eq!(p("-c -1").unwrap().value('c'), Some("-1"));
        // The last wins; all are kept, in order.
        let o = p("-R a -R b").unwrap();
        assert_eq!(o.value('R'), Some("b"));
        assert_eq!(
            o.opts,
            vec![('R', Some("a".into())), ('R', Some("b".into()))]
        );
        assert_eq!(o.value('x'), None);
    }

    #[test]
    fn positionals_anywhere_and_after_double_dash() {
        let o = p("task_struct -x ADDR -l").unwrap();
        assert_eq!(o.words, ["task_struct", "ADDR"]);
        assert!(o.has('x') && o.has('l'));
        let o = p("-x -- -l -5").unwrap();
        assert_eq!(o.opts, vec![('x', None)]);
        assert_eq!(o.words, ["-l", "-5"]);
        // A lone minus sign is a word.
        assert_eq!(p("-").unwrap().words, ["-"]);
    }

    #[test]
    fn errors_as_getopt_words_them() {
        assert_eq!(p("-z"), Err(OptError::Unknown('z')));
        assert_eq!(p("-xz"), Err(OptError::Unknown('z')));
        assert_eq!(p("-x -c"), Err(OptError::NeedsValue('c')));
        assert_eq!(OptError::Unknown('z').to_string(), "invalid option -- 'z'");
        assert_eq!(
            OptError::NeedsValue('c').to_string(),
            "option requires an argument -- 'c'"
        );
    }
}
