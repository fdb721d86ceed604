//! `dev`: the character and block device majors, as crash 8.0.2 prints
//! them (`dump_chrdevs()`, `dump_blkdevs_v3()`).

use std::io::Write;

use super::{io, CmdResult};
use crate::session::Session;

pub const USAGE: &str = "dev [-d | -D]";

pub fn run(s: &mut Session, args: &[String], out: &mut dyn Write) -> CmdResult {
    match args.first().map(String::as_str) {
        None => {}
        Some("-d") => return disk_io(s, false, out),
        Some("-D") => return disk_io(s, true, out),
        Some(a) => {
            return Err(format!(
                "invalid argument: {a} (only -d and -D are supported)\nUsage: {USAGE}"
            ))
        }
    }
    let k = &s.kernel;
    let (chr, mut notices) = k.char_devices()?;
    let mut t = format!(
        "CHRDEV    NAME           {}  {:<16}\n",
        center("CDEV", 16, false),
        "OPERATIONS"
    );
    for d in &chr {
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
    let (blk, n) = k.block_devices()?;
    notices.extend(n);
    t += &format!(
        "BLKDEV    NAME           {}  {:<16}\n",
        center("GENDISK", 16, true),
        "OPERATIONS"
    );
    for d in &blk {
        t += &line(s, d.major, &d.name, d.gendisk, d.fops);
    }
    out.write_all(t.as_bytes()).map_err(io)?;
    let _ = out.flush();
    for n in &notices {
        eprintln!("dev: {n}");
    }
    Ok(())
}

/// `dev -d`: each disk's requests in flight (`display_all_diskio()`);
/// `-D` only the disks that have some.
fn disk_io(s: &Session, nonzero: bool, out: &mut dyn Write) -> CmdResult {
    let (disks, notices) = s.kernel.disk_io()?;
    let mut t =
        String::from("MAJOR GENDISK            NAME       REQUEST_QUEUE      TOTAL  READ WRITE \n");
    for d in disks.iter().filter(|d| !nonzero || d.read + d.write > 0) {
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
    out.write_all(t.as_bytes()).map_err(io)?;
    let _ = out.flush();
    for n in &notices {
        eprintln!("dev: {n}");
    }
    Ok(())
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

/// crash's `mkstring(CENTER)`: an odd space goes right, or left with RJUST.
fn center(s: &str, width: usize, rjust: bool) -> String {
    let extra = width.saturating_sub(s.len());
    let (l, r) = if extra % 2 == 1 && rjust {
        (extra / 2 + 1, extra / 2)
    } else {
        (extra / 2, extra - extra / 2)
    };
    format!("{}{s}{}", " ".repeat(l), " ".repeat(r))
}
