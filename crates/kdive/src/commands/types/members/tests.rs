use super::*;

const TEXT: &str = "struct demo {
  list = {
    next = 0x1,
    prev = 0x2
  },
  pid = 5,
  links = {{
      next = 0x0,
      pprev = 0x3
    }, {
      next = 0x4,
      pprev = 0x5
    }},
  {
    rcu = {
      next = 0x6,
      func = 0x0
    },
    users = 1
  },
  last = 9
}
";

#[test]
fn members_keep_their_lines() {
    assert_eq!(parse_for_member(TEXT, "pid"), "  pid = 5,\n");
    assert_eq!(parse_for_member(TEXT, "last"), "  last = 9\n");
    assert_eq!(
        parse_for_member(TEXT, "list"),
        "  list = {\n    next = 0x1,\n    prev = 0x2\n  },\n"
    );
    assert_eq!(
        parse_for_member(TEXT, "links"),
        "  links = {{\n      next = 0x0,\n      pprev = 0x3\n    }, {\n      next = 0x4,\n      pprev = 0x5\n    }},\n"
    );
    assert_eq!(
        parse_for_member(TEXT, "rcu"),
        "    rcu = {\n      next = 0x6,\n      func = 0x0\n    },\n"
    );
    // A member of a named inner struct is not one of the outer's.
    assert_eq!(parse_for_member(TEXT, "prev"), "");
}

#[test]
fn paths_are_reindented() {
    assert_eq!(
        parse_for_member_extended(TEXT, "list.next").as_deref(),
        Some("  list.next = 0x1,\n")
    );
    assert_eq!(
        parse_for_member_extended(TEXT, "rcu.func").as_deref(),
        Some("  rcu.func = 0x0\n")
    );
    assert_eq!(
        parse_for_member_extended(TEXT, "rcu").as_deref(),
        Some("  rcu = {\n    next = 0x6,\n    func = 0x0\n  },\n")
    );
    assert_eq!(parse_for_member_extended(TEXT, "nope.x"), None);
}

#[test]
fn long_lines_arrive_in_pieces() {
    let long = format!(
        "struct x {{\n  a = {{{}0}},\n  b = 1\n}}\n",
        "0, ".repeat(600)
    );
    assert_eq!(
        fgets_chunks(&long).iter().map(|c| c.len()).max(),
        Some(BUFSIZE - 1)
    );
    // The piece after the first is printed too: crash sees `= {` first.
    let a = parse_for_member(&long, "a");
    assert_eq!(a, long.lines().nth(1).unwrap().to_string() + "\n");
}
