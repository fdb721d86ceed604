//! The JSON views of `kmem -i`, `kmem -v`, `kmem -S`, `kmem -p` and
//! `irq -s` say what their text says, on every corpus dump: the same
//! totals, areas, slabs, pages and counts.

use kdive_testkit::{crashes, run_marked};

const BIN: &str = env!("CARGO_BIN_EXE_kdive");

fn hex(v: &serde_json::Value) -> u64 {
    let s = v.as_str().unwrap_or_else(|| panic!("not a string: {v}"));
    u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap()
}

/// One JSON line per command, in order.
fn json_lines(args: &[&str], cmds: &[&str]) -> Vec<serde_json::Value> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(BIN)
        .arg("--json")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let script: String = cmds.iter().map(|c| format!("{c}\n")).collect();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), cmds.len(), "{text}");
    lines
}

#[test]
fn kmem_and_irq_views_agree_with_the_text() {
    for c in crashes() {
        let Some((_, dump)) = c.variants.first() else {
            continue;
        };
        let open = c.open_args(dump.to_str().unwrap());
        let args: Vec<&str> = open.iter().map(String::as_str).collect();
        let name = c.name();
        // A cache to look into: the first with objects, from `kmem -s`.
        let text = run_marked(BIN, &args, &["kmem -s"]);
        let Some(cache) = text.sections["kmem -s"]
            .lines()
            .skip(1)
            .filter_map(|l| {
                let w: Vec<&str> = l.split_whitespace().collect();
                (w.len() == 7 && w[2] != "0").then(|| w[6].to_string())
            })
            .next()
        else {
            continue;
        };
        let kmem_s = format!("kmem -S {cache}");
        let cmds = ["kmem -i", "kmem -v", kmem_s.as_str(), "irq -s"];
        let text = run_marked(BIN, &args, &cmds);
        let js = json_lines(&args, &cmds);
        for (cmd, v) in cmds.iter().zip(&js) {
            assert!(v.get("result").is_some(), "{name}: {cmd}: {v}");
        }

        // kmem -i: the PAGES column.
        let pages = |label: &str| -> u64 {
            let t = &text.sections["kmem -i"];
            let l = t
                .lines()
                .find(|l| l.trim_start().starts_with(label))
                .unwrap();
            l[label.len() + l.find(label).unwrap()..]
                .split_whitespace()
                .next()
                .unwrap()
                .parse()
                .unwrap()
        };
        let i = &js[0]["result"];
        assert_eq!(i["total_mem"], pages("TOTAL MEM"), "{name}");
        assert_eq!(i["free"], pages("FREE"), "{name}");
        assert_eq!(i["slab"], pages("SLAB"), "{name}");

        // kmem -v: one area per line, in order.
        let areas: Vec<u64> = text.sections["kmem -v"]
            .lines()
            .skip(1)
            .filter_map(|l| u64::from_str_radix(l.split_whitespace().next()?, 16).ok())
            .collect();
        let v = js[1]["result"].as_array().unwrap();
        assert_eq!(
            v.iter().map(|a| hex(&a["vmap_area"])).collect::<Vec<_>>(),
            areas,
            "{name}"
        );

        // kmem -S: the cache's counts, and a slab per CPU slab line.
        let cache_v = &js[2]["result"]["caches"][0];
        assert_eq!(cache_v["name"], cache.as_str(), "{name}");
        let t = &text.sections[kmem_s.as_str()];
        let line: Vec<&str> = t.lines().nth(1).unwrap().split_whitespace().collect();
        assert_eq!(cache_v["allocated"].to_string(), line[2], "{name}: {t}");
        assert_eq!(cache_v["total"].to_string(), line[3], "{name}");
        let cpus = cache_v["cpus"].as_array().unwrap();
        let text_cpus = t.lines().filter(|l| l.contains("KMEM_CACHE_CPU:")).count();
        assert_eq!(cpus.len(), text_cpus, "{name}");
        for cpu in cpus {
            if let Some(slab) = cpu["slab"].as_object() {
                let addr = format!("{:x}", hex(&slab["slab"]));
                assert!(t.contains(&addr), "{name}: slab {addr} not in the text");
                let objects = slab["objects"].as_array().unwrap();
                assert_eq!(
                    objects.len() as u64,
                    slab["total"].as_u64().unwrap(),
                    "{name}"
                );
                let allocated = objects.iter().filter(|o| o["free"] == false).count();
                assert_eq!(
                    allocated as u64,
                    slab["allocated"].as_u64().unwrap(),
                    "{name}"
                );
            }
        }

        // irq -s: the same IRQs, and the same counts on CPU 0.
        let rows: Vec<(u64, u64)> = text.sections["irq -s"]
            .lines()
            .skip(1)
            .filter_map(|l| {
                let (irq, rest) = l.split_once(':')?;
                Some((
                    irq.trim().parse().ok()?,
                    rest.split_whitespace().next()?.parse().ok()?,
                ))
            })
            .collect();
        let irqs = js[3]["result"].as_array().unwrap();
        let got: Vec<(u64, u64)> = irqs
            .iter()
            .map(|i| {
                (
                    i["irq"].as_u64().unwrap(),
                    i["counts"]["0"].as_u64().unwrap_or(0),
                )
            })
            .collect();
        assert_eq!(got, rows, "{name}");

        // kmem -p of the first vmalloc area's memory... of a page the
        // text names: the page of the cache's first slab.
        if let Some(slab) = cpus.iter().find_map(|c| c["slab"].as_object()) {
            let memory = format!("{:x}", hex(&slab["memory"]));
            let cmd = format!("kmem -p {memory}");
            let t = run_marked(BIN, &args, &[&cmd]);
            let js = json_lines(&args, &[&cmd]);
            let page = &js[0]["result"][0];
            let text_page = t.sections[cmd.as_str()].lines().nth(1).unwrap();
            assert!(
                text_page.starts_with(&format!("{:x}", hex(&page["page"]))),
                "{name}: {text_page} / {page}"
            );
            assert_eq!(
                hex(&page["page"]),
                hex(&slab["slab"]),
                "{name}: the slab is its page"
            );
        }
    }
}

/// `kmem ADDRESS --json` of pid 1's `task_struct`: the cache, the
/// allocated object, the task and the page the text names.
#[test]
fn kmem_address_view_agrees_with_the_text() {
    for c in crashes() {
        let Some((_, dump)) = c.variants.first() else {
            continue;
        };
        let open = c.open_args(dump.to_str().unwrap());
        let args: Vec<&str> = open.iter().map(String::as_str).collect();
        let name = c.name();
        let ps = &json_lines(&args, &["ps 1"])[0]["result"][0];
        let task = hex(&ps["task"]);
        let cmd = format!("kmem {task:x}");
        let text = run_marked(BIN, &args, &[&cmd]);
        let t = &text.sections[cmd.as_str()];
        let v = &json_lines(&args, &[&cmd])[0]["result"];
        assert_eq!(hex(&v["address"]), task, "{name}");
        assert_eq!(v["task"]["pid"], 1, "{name}: {v}");
        assert_eq!(hex(&v["task"]["task"]), task, "{name}");
        let slab = &v["slab"];
        let cache = slab["cache"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: no slab: {v}"));
        // The text's cache line names the same cache, its object bracketed
        // (allocated).
        assert!(
            t.lines().any(|l| l.ends_with(&format!(" {cache}"))),
            "{name}: {t}"
        );
        assert_eq!(slab["free"], false, "{name}");
        assert!(
            t.contains(&format!("[{:x}]", hex(&slab["object"]))),
            "{name}: {t}"
        );
        // And the page line starts with the page.
        let page = format!("{:x}", hex(&v["page"]["page"]));
        assert!(
            t.lines().any(|l| l.starts_with(&page)),
            "{name}: {page} in {t}"
        );
    }
}
