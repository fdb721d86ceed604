//! `struct NAME.member ADDR`: crash prints the whole object into a
//! temporary file and picks the member's lines back out of gdb's text
//! (its `parse_for_member()`; for a path with dots,
//! `parse_for_member_extended()`, which parses the text into a tree).
//! Both read the text with `fgets()` into 1500-byte buffers, so a longer
//! line arrives in pieces; the pieces are kept, since they decide what
//! crash prints. The member keeps the indentation and the trailing comma
//! it had in the whole object (`  pid = 0,`).

/// crash's line buffer (`BUFSIZE`): `fgets()` returns at most one less.
const BUFSIZE: usize = 1500;

/// `text` as successive `fgets()` calls return it.
fn fgets_chunks(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for line in text.split_inclusive('\n') {
        let mut rest = line;
        while rest.len() > BUFSIZE - 1 {
            let mut cut = BUFSIZE - 1;
            while !rest.is_char_boundary(cut) {
                cut -= 1;
            }
            out.push(&rest[..cut]);
            rest = &rest[cut..];
        }
        out.push(rest);
    }
    out
}

fn leading_spaces(s: &str) -> usize {
    s.bytes().take_while(|&b| b == b' ' || b == b'\t').count()
}

/// The lines of member `member` (a plain name) in `text`, the object as
/// `struct` prints it whole.
pub fn parse_for_member(text: &str, member: &str) -> String {
    let look1 = format!("  {member} ");
    let look2 = format!("  {member}[");
    let chunks = fgets_chunks(text);
    let mut out = String::new();
    let (mut indent, mut on, mut array, mut embed) = (0usize, 0usize, false, 0usize);
    let mut i = 0;
    loop {
        while i < chunks.len() {
            let buf = chunks[i];
            i += 1;
            let lead = leading_spaces(buf);
            if (embed != 0 && lead == embed)
                || (buf.contains("}}") && embed as isize == lead as isize - 2)
            {
                embed = 0;
            }
            if on == 0 && embed == 0 && buf.contains("= {") && !buf.contains(&look1) {
                embed = lead;
            }
            if embed != 0 {
                continue;
            }
            if buf.contains(&look1) || buf.contains(&look2) {
                on += 1;
                if buf.contains("= {") {
                    indent = lead;
                }
                if buf.contains('[') {
                    array = true;
                }
            }
            if on == 0 {
                continue;
            }
            if (indent != 0 && on > 1 && lead == indent && !buf.contains('}'))
                || buf.starts_with('}')
            {
                break;
            }
            if indent != 0 && on > 1 && indent as isize == lead as isize - 2 && buf.contains("}}") {
                out.push_str(buf);
                break;
            }
            if indent == 0 {
                match buf.find(", \n") {
                    Some(p) => {
                        out.push_str(&buf[..p]);
                        out.push('\n');
                    }
                    None => out.push_str(buf),
                }
                break;
            }
            if buf.contains('}') && lead == indent {
                match buf.find("}, \n") {
                    Some(p) => {
                        out.push_str(&buf[..p]);
                        out.push_str("}\n");
                    }
                    None => out.push_str(buf),
                }
                break;
            }
            out.push_str(buf);
            on += 1;
        }
        if array && i < chunks.len() {
            on = 0;
            array = false;
            continue;
        }
        return out;
    }
}

/// A node of crash's tree of the printed object.
#[derive(Default)]
struct Node {
    name: String,
    value: String,
    array_root: bool,
    parent: Option<usize>,
    inner: Option<usize>,
    next: Option<usize>,
}

struct Tree {
    nodes: Vec<Node>,
    current: Option<usize>,
}

impl Tree {
    /// crash's ALLOC_INNER_ELEMENT / ALLOC_NEXT_ELEMENT.
    fn alloc(&mut self, inner: bool) {
        let Some(cur) = self.current else { return };
        let parent = if inner {
            Some(cur)
        } else {
            self.nodes[cur].parent
        };
        let id = self.nodes.len();
        self.nodes.push(Node {
            parent,
            ..Node::default()
        });
        if inner {
            self.nodes[cur].inner = Some(id);
        } else {
            self.nodes[cur].next = Some(id);
        }
        self.current = Some(id);
    }
}

/// crash's `is_right_brace()`: 1 for a line `}`, 2 for `}}`, else 0.
fn right_braces(b: &str) -> usize {
    let b = b.trim_start_matches(' ');
    let (r, rest) = if let Some(r) = b.strip_prefix("}}") {
        (2, r)
    } else if let Some(r) = b.strip_prefix('}') {
        (1, r)
    } else {
        (0, b)
    };
    let rest = rest.strip_prefix(',').unwrap_or(rest);
    if rest.is_empty() {
        r
    } else {
        0
    }
}

/// The lines crash prints for member path `path` (with dots or indices)
/// of the object printed as `text`; `None` when crash does not find it
/// ("invalid data structure member reference").
pub fn parse_for_member_extended(text: &str, path: &str) -> Option<String> {
    let mut t = Tree {
        nodes: vec![Node::default()],
        current: Some(0),
    };
    t.alloc(true);
    for chunk in fgets_chunks(text) {
        let mut buf = chunk.trim_end_matches(|c: char| c <= ' ').to_string();
        let comma = buf.ends_with(',');
        if comma {
            buf.pop();
        }
        let braces = right_braces(&buf);
        if braces > 0 {
            for _ in 0..braces {
                t.current = t.current.and_then(|c| t.nodes[c].parent);
            }
            let cur = t.current?;
            if t.nodes[cur].parent == Some(0) || comma {
                t.alloc(false);
            }
            continue;
        }
        let p1 = buf.len() - buf.trim_start_matches(' ').len();
        let eq = buf.find(" = ");
        let se = match eq {
            Some(p) => &buf[p + 3..],
            None => &buf[p1..],
        };
        if let (Some(cur), Some(p)) = (t.current, eq) {
            if p >= p1 {
                t.nodes[cur].name = buf[p1..p].to_string();
            }
        }
        if eq.is_some() && (!se.starts_with('{') || buf.ends_with('}')) {
            if let Some(cur) = t.current {
                t.nodes[cur].value = se.to_string();
            }
            if comma {
                t.alloc(false);
            }
        } else if let Some(after) = se.strip_prefix('{') {
            t.alloc(true);
            if after.starts_with('{') {
                if let Some(parent) = t.current.and_then(|c| t.nodes[c].parent) {
                    t.nodes[parent].array_root = true;
                }
                t.alloc(true);
            }
        } else if se.contains("}, {") {
            t.current = t.current.and_then(|c| t.nodes[c].parent);
            t.alloc(false);
            t.alloc(true);
        } else if let Some(rest) = buf.strip_prefix("struct ") {
            let tag = rest.find(" {").map_or(rest, |e| &rest[..e]);
            if let Some(cur) = t.current {
                t.nodes[cur].name = tag.to_string();
            }
            t.alloc(true);
        }
    }
    let mut top = t.nodes[0].inner;
    while let Some(i) = top {
        if let Some(found) = find_node(&t.nodes, t.nodes[i].inner, path, 0) {
            let mut out = String::new();
            dump_node(&t.nodes, found, Some(path), 0, false, &mut out);
            return Some(out);
        }
        top = t.nodes[i].next;
    }
    None
}

/// crash's `find_node()`: `path`'s node among `s` and its siblings, by
/// name and index, looking into anonymous members.
fn find_node(nodes: &[Node], s: Option<usize>, path: &str, depth: u32) -> Option<usize> {
    let s0 = s?;
    if path.is_empty() || depth > 64 {
        return Some(s0);
    }
    let p = path.find('.').unwrap_or(path.len());
    let b = path[..p].find('[').unwrap_or(p);
    let name = &path[..b];
    let mut cur = Some(s0);
    while let Some(i) = cur {
        let n = &nodes[i];
        cur = n.next;
        if n.name.is_empty() || n.name != name {
            continue;
        }
        if n.array_root && b == p && p < path.len() {
            return None;
        }
        let mut node = i;
        if b < p {
            let idx = &path[b + 1..];
            let digits = idx.bytes().take_while(u8::is_ascii_digit).count();
            let closed = idx[digits..].starts_with(']');
            if !(n.array_root && closed && digits > 0) {
                return None;
            }
            let mut k: usize = idx[..digits].parse().ok()?;
            let mut e = n.inner;
            while let (Some(x), true) = (e, k > 0) {
                e = nodes[x].next;
                k -= 1;
            }
            node = e?;
        }
        if p == path.len() {
            return Some(node);
        }
        return find_node(nodes, nodes[node].inner, &path[p + 1..], depth + 1);
    }
    let mut cur = Some(s0);
    while let Some(i) = cur {
        if nodes[i].name.is_empty() {
            if let Some(f) = find_node(nodes, nodes[i].inner, path, depth + 1) {
                return Some(f);
            }
        }
        cur = nodes[i].next;
    }
    None
}

/// crash's `dump_node()`: the node (and at inner levels its siblings),
/// re-indented from the top.
fn dump_node(
    nodes: &[Node],
    p: usize,
    f: Option<&str>,
    level: usize,
    is_array: bool,
    out: &mut String,
) {
    let pad = |m: usize| " ".repeat(2 + 2 * (m * usize::from(is_array) + level));
    let mut cur = Some(p);
    while let Some(i) = cur {
        let n = &nodes[i];
        let name = f.unwrap_or(&n.name);
        if let Some(inner) = n.inner {
            let open = if nodes[inner].array_root { "{{" } else { "{" };
            if !n.name.is_empty() {
                out.push_str(&format!("{}{name} = {open}\n", pad(1)));
            } else {
                if let Some(f) = f {
                    out.push_str(&format!("{}{f} = ", pad(1)));
                }
                out.push_str(&format!("{}{open}\n", pad(1)));
            }
            dump_node(
                nodes,
                inner,
                None,
                usize::from(is_array) + level + 1,
                nodes[inner].array_root,
                out,
            );
            let close = if nodes[inner].array_root { "}}" } else { "}" };
            let comma = n.next.is_some_and(|x| !nodes[x].array_root);
            out.push_str(&format!(
                "{}{close}{}\n",
                pad(1),
                if comma { "," } else { "" }
            ));
        } else {
            let end = if n.next.is_some() { ",\n" } else { "\n" };
            out.push_str(&format!("{}{name} = {}{end}", pad(1), n.value));
        }
        if level == 0 {
            break;
        }
        cur = n.next;
        if let Some(x) = cur {
            if nodes[x].array_root {
                out.push_str(&format!("{}}}, {{\n", pad(0)));
            }
        }
    }
}

#[cfg(test)]
mod tests;
