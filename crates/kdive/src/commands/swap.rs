//! `swap`: the swap areas in use, as crash 8.0.2 prints them
//! (`dump_swap_info()`): with none, the header alone.

use std::io::Write;

use super::text::center;
use super::{io, CmdResult, Command};
use crate::session::Session;

pub const USAGE: &str = "swap";

pub const COMMAND: Command = Command {
    name: "swap",
    aliases: &[],
    summary: "list the swap areas in use",
    usage: USAGE,
    run,
    without_dump: false,
    minimal: false,
    json: true,
    foreach: false,
};

pub fn run(s: &mut Session, args: &[String], out: &mut dyn Write) -> CmdResult {
    if let Some(a) = args.first() {
        return Err(format!("invalid argument: {a}\nUsage: {USAGE}"));
    }
    let (areas, notices) = s.kernel.swap_areas().map_err(|e| e.to_string())?;
    if s.json {
        super::tell(s, "swap: ", &notices);
        let v: Vec<serde_json::Value> = areas
            .iter()
            .map(|a| {
                serde_json::json!({
                    "swap_info_struct": super::json::hex(a.addr),
                    "type": if a.partition { "partition" } else { "file" },
                    "pages": a.pages,
                    "used_pages": a.used,
                    "priority": a.prio,
                    "filename": a.path,
                })
            })
            .collect();
        return super::json::emit(out, &v);
    }
    let mut t =
        String::from("SWAP_INFO_STRUCT    TYPE       SIZE       USED     PCT  PRI  FILENAME\n");
    for a in &areas {
        t += &line(a);
    }
    out.write_all(t.as_bytes()).map_err(io)?;
    let _ = out.flush();
    super::tell(s, "swap: ", &notices);
    Ok(())
}

/// One area: sizes in KiB (4 KiB pages), the use in percent.
fn line(a: &kdive_kernel::SwapArea) -> String {
    let size_k = a.pages * 4;
    let used_k = a.used * 4;
    let pct = (used_k * 100).checked_div(size_k).unwrap_or(0);
    format!(
        "{}  {} {} {} {} {:>4}  {}\n",
        center(&format!("{:x}", a.addr), 16, false),
        if a.partition {
            "PARTITION"
        } else {
            "  FILE   "
        },
        center(&format!("{size_k}k"), 10, true),
        center(&format!("{used_k}k"), 10, true),
        center(&format!("{pct:2}%"), 4, true),
        a.prio,
        a.path.as_deref().unwrap_or("(unknown)")
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn swap_lines_as_crash_prints_them() {
        let mut a = kdive_kernel::SwapArea {
            addr: 0xff11_0000_0123_4000,
            partition: false,
            pages: 262_144,
            used: 65_536,
            prio: -2,
            path: Some("/var/swap/file".into()),
        };
        assert_eq!(
            super::line(&a),
            "ff11000001234000    FILE     1048576k    262144k   25%   -2  /var/swap/file\n"
        );
        (a.partition, a.used, a.path) = (true, 0, None);
        assert_eq!(
            super::line(&a),
            "ff11000001234000  PARTITION  1048576k      0k       0%   -2  (unknown)\n"
        );
    }
}
