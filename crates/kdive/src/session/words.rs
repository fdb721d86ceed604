//! Splitting a command line into words, as crash does: on blanks, keeping
//! quoted strings whole. Parenthesized expressions are left to commands that
//! take expressions (they join their arguments back).

/// The words of `line`. Quotes group, and are removed; a backslash escapes
/// the next character.
pub fn split(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn blanks_and_quotes() {
        assert_eq!(split("  rd -64  jiffies 4 "), ["rd", "-64", "jiffies", "4"]);
        assert_eq!(split(r#"search -s "a b" x"#), ["search", "-s", "a b", "x"]);
        assert_eq!(split(r"echo a\ b ''"), ["echo", "a b", ""]);
        assert!(split("   ").is_empty());
    }
}
