//! `dev`: the character and block device majors, as crash 8.0.2 prints
//! them (`dump_chrdevs()`, `dump_blkdevs_v3()`).

mod pci;

use std::io::Write;

use super::text::center;
use super::{io, CmdResult, Command};
use crate::session::Session;

pub const USAGE: &str = "dev [-d | -D | -i | -p]";

pub const COMMAND: Command = Command {
    name: "dev",
    aliases: &[],
    summary: "list device majors (-d disk I/O, -i I/O resources, -p PCI devices)",
    usage: USAGE,
    run,
    without_dump: false,
    minimal: false,
    json: true,
    foreach: false,
};

pub fn run(s: &mut Session, args: &[String], out: &mut dyn Write) -> CmdResult {
    match args.first().map(String::as_str) {
        None => {}
        Some("-d") => return disk_io(s, false, out),
        Some("-D") => return disk_io(s, true, out),
        Some("-i") if s.json => return Err("no JSON view for dev -i yet".into()),
        Some("-i") => return io_resources(s, out),
        Some("-p") => return self::pci::run(s, out),
        Some(a) => {
            return Err(format!(
                "invalid argument: {a} (only -d, -D, -i and -p are supported)\nUsage: {USAGE}"
            ))
        }
    }
    let k = &s.kernel;
    let (chr, mut notices) = k.char_devices().map_err(|e| e.to_string())?;
    // JSON: `{chrdevs, blkdevs}`, each major `{major, name, cdev|gendisk,
    // operations, unreadable}`.
    let (mut chr_v, mut blk_v) = (Vec::new(), Vec::new());
    let mut t = format!(
        "CHRDEV    NAME           {}  {:<16}\n",
        center("CDEV", 16, false),
        "OPERATIONS"
    );
    for d in &chr {
        chr_v.push(major_json(
            s,
            d.major,
            &d.name,
            "cdev",
            d.cdev,
            d.fops,
            d.unreadable,
        ));
        if d.unreadable {
            let cdev = if d.cdev != 0 {
                format!("{:16x}", d.cdev)
            } else {
                center("(unknown)", 16, false)
            };
            t += &format!(" {:3}      {:<13}  {cdev}  (unreadable)\n", d.major, d.name);
            continue;
        }
        t += &line(s, d.major, &d.name, d.cdev, d.fops);
    }
    t += "\n";
    let (blk, n) = k.block_devices().map_err(|e| e.to_string())?;
    notices.extend(n);
    t += &format!(
        "BLKDEV    NAME           {}  {:<16}\n",
        center("GENDISK", 16, true),
        "OPERATIONS"
    );
    for d in &blk {
        let unread = d.unreadable;
        blk_v.push(major_json(
            s, d.major, &d.name, "gendisk", d.gendisk, d.fops, unread,
        ));
        if d.unreadable {
            let unknown = center("(unknown)", 16, false);
            t += &format!(
                " {:3}      {:<13}  {unknown}  (unreadable)
",
                d.major, d.name
            );
            continue;
        }
        t += &line(s, d.major, &d.name, d.gendisk, d.fops);
    }
    if s.json {
        let v = serde_json::json!({ "chrdevs": chr_v, "blkdevs": blk_v });
        super::json::emit(out, &v)?;
    } else {
        out.write_all(t.as_bytes()).map_err(io)?;
    }
    let _ = out.flush();
    super::tell(s, "dev: ", &notices);
    Ok(())
}

/// One major for JSON: the object (`key`) null where the text shows none
/// or `(unknown)`, `operations` the symbol the text shows, null for
/// `(none)` or an unreadable major.
fn major_json(
    s: &Session,
    major: u32,
    name: &str,
    key: &str,
    obj: u64,
    fops: u64,
    unreadable: bool,
) -> serde_json::Value {
    let shown = (unreadable && obj != 0) || (!unreadable && fops != 0);
    let mut v = serde_json::json!({
        "major": major,
        "name": name,
        "operations": (!unreadable && fops != 0).then(|| symstr(s, fops)),
        "unreadable": unreadable,
    });
    v[key] = shown.then(|| super::json::hex(obj)).into();
    v
}

/// `dev -d`: each disk's requests in flight (`display_all_diskio()`);
/// `-D` only the disks that have some.
fn disk_io(s: &Session, nonzero: bool, out: &mut dyn Write) -> CmdResult {
    let (disks, notices) = s.kernel.disk_io().map_err(|e| e.to_string())?;
    // crash names the columns after the kernel's BLK_RW_ASYNC and
    // BLK_RW_SYNC where it has them (before 5.18); the counts are the same.
    let sync = s
        .kernel
        .layouts()
        .is_some_and(|b| b.enumerator("BLK_RW_SYNC").is_some());
    let (a, b) = if sync {
        ("ASYNC", "SYNC")
    } else {
        ("READ", "WRITE")
    };
    let mut t =
        format!("MAJOR GENDISK            NAME       REQUEST_QUEUE      TOTAL {a:>5} {b:>5} \n");
    let mut listed = Vec::new();
    for d in disks.iter().filter(|d| !nonzero || d.read + d.write > 0) {
        listed.push(serde_json::json!({
            "major": d.major,
            "gendisk": super::json::hex(d.gendisk),
            "name": d.name,
            "request_queue": super::json::hex(d.queue),
            "total": d.read + d.write,
            "read": d.read,
            "write": d.write,
        }));
        t += &format!(
            "{:>5} {:<16x}   {:<10} {:<16x}   {:5} {:>5} {:>5} \n",
            d.major,
            d.gendisk,
            d.name,
            d.queue,
            d.read + d.write,
            d.read,
            d.write
        );
    }
    if s.json {
        super::json::emit(out, &listed)?;
    } else {
        out.write_all(t.as_bytes()).map_err(io)?;
    }
    let _ = out.flush();
    super::tell(s, "dev: ", &notices);
    Ok(())
}

/// `dev -i`: the I/O port and I/O memory resource trees (`do_io()`),
/// ranges 4 or 8 digits wide by the tree's end.
fn io_resources(s: &Session, out: &mut dyn Write) -> CmdResult {
    let mut t = String::new();
    let mut notices = Vec::new();
    for (i, root) in ["ioport_resource", "iomem_resource"]
        .into_iter()
        .enumerate()
    {
        let (list, n) = s.kernel.resources(root).map_err(|e| e.to_string())?;
        notices.extend(n);
        let digits = if list.first().is_some_and(|r| r.end > 0xffff) {
            8
        } else {
            4
        };
        if i > 0 {
            t += "\n";
        }
        t += &format!(
            "{}  {}  NAME\n",
            center("RESOURCE", 16, false),
            center("RANGE", digits * 2 + 1, false)
        );
        for r in &list {
            t += &format!("{:8x}  {:0digits$x}-{:0digits$x}", r.addr, r.start, r.end);
            t += &wrap_name(
                r.name.as_deref().unwrap_or("(unknown)"),
                16 + 2 + digits * 2 + 1 + 2,
            );
        }
    }
    out.write_all(t.as_bytes()).map_err(io)?;
    let _ = out.flush();
    super::tell(s, "dev: ", &notices);
    Ok(())
}

/// crash's 80-column wrap of a resource name after `wrap` columns: cut at
/// the last space that moves enough of it to a line of its own.
fn wrap_name(name: &str, wrap: usize) -> String {
    if wrap + name.len() <= 80 {
        return format!("  {name}\n");
    }
    let excess = wrap + name.len() - 80;
    let b = name.as_bytes();
    let cut = (1..b.len())
        .rev()
        .find(|&j| b[j] == b' ' && b.len() - 1 - j >= excess);
    match cut {
        Some(j) => format!("  {}\n{}{}\n", &name[..j], " ".repeat(wrap), &name[j + 1..]),
        None => format!("  {name}\n"),
    }
}

/// One major: the object's address and its operations' symbol, or
/// `(none)` without operations.
fn line(s: &Session, major: u32, name: &str, obj: u64, fops: u64) -> String {
    if fops == 0 {
        return format!(
            " {major:3}      {name:<13}  {}\n",
            center("(none)", 16, false)
        );
    }
    format!(
        " {major:3}      {name:<13}  {obj:16x}  {}\n",
        symstr(s, fops)
    )
}

/// crash's `value_to_symstr()`: the symbol, `+offset` in decimal, or the
/// address in hexadecimal when no symbol holds it.
fn symstr(s: &Session, addr: u64) -> String {
    match s.kernel.symbols().lookup(addr) {
        Some((sym, 0)) => sym.name.clone(),
        Some((sym, off)) => format!("{}+{off}", sym.name),
        None => format!("{addr:x}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn long_resource_names_wrap_as_crash_wraps_them() {
        assert_eq!(
            super::wrap_name("PCI Bus 0000:00", 29),
            "  PCI Bus 0000:00\n"
        );
        let long = "a name long enough that it cannot fit in eighty columns here";
        let got = super::wrap_name(long, 29);
        let (first, second) = got.split_once('\n').unwrap();
        assert!(29 + first.len() - 2 <= 80, "{got}");
        assert_eq!(
            format!("{} {}", &first[2..], second.trim_start().trim_end()),
            long
        );
        assert!(second.starts_with(&" ".repeat(29)));
    }
}
