//! The session's own features in batch mode, on a real dump: redirection
//! (`>`, `>>`, `|`, `< FILE`), aliases (built-in, made, from a startup
//! file), `set radix`, the exit status, `-i`, `--osrelease`,
//! `--build-id`, `--minimal`, `--json`, `search`, and `help` for every
//! command.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use kdive_testkit::{require, Crash};

/// A fresh directory for one test, used as HOME and working directory so
/// that no startup file or history of the person running the tests counts.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kdive-shell-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// kdive on `dump` with `args`, `input` on stdin, in `dir` (also HOME).
fn kdive(dir: &Path, args: &[&str], input: &str) -> (String, String, bool) {
    kdive_env(dir, args, input, &[])
}

fn kdive_env(
    dir: &Path,
    args: &[&str],
    input: &str,
    env: &[(&str, &Path)],
) -> (String, String, bool) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kdive"))
        .envs(env.iter().copied())
        .current_dir(dir)
        .env("HOME", dir)
        .env_remove("XDG_STATE_HOME")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kdive");
    // kdive may have stopped already (a dump it refuses): no input needed.
    let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!err.contains("panicked"), "kdive panicked: {err}");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        err,
        out.status.success(),
    )
}

/// One dump of each slab crash (the seed scenario), as its first variant.
fn dumps() -> Vec<(Crash, PathBuf)> {
    require("shell")
        .into_iter()
        .filter(|c| c.scenario == "slab")
        .filter_map(|c| {
            let v = c
                .variant("kdump-zlib")
                .or(c.variants.first().map(|v| v.1.as_path()))?
                .to_path_buf();
            Some((c, v))
        })
        .collect()
}

#[test]
fn redirection_aliases_and_radix() {
    for (c, dump) in dumps() {
        let d = scratch("redir");
        // `p jiffies` needs the vmlinux's types.
        let open = c.open_args(dump.to_str().unwrap());
        let dump: Vec<&str> = open.iter().map(String::as_str).collect();
        let (plain, _, ok) = kdive(&d, &dump, "sym jiffies\n");
        assert!(ok, "{}", c.name());
        let addr = plain.split_whitespace().next().unwrap().to_string();
        // A startup file makes an alias before the first command.
        std::fs::write(d.join(".kdiverc"), "alias jf sym jiffies\n").unwrap();
        let script = "sym jiffies > out.txt\nsym jiffies >> out.txt\nsym jiffies | tr a-f A-F\n\
                      jf\nalias js sym\njs jiffies\nhex\np jiffies\ndec\np jiffies\n\
                      sym < words.txt\nalias\n";
        std::fs::write(d.join("words.txt"), "jiffies\n\njiffies\n").unwrap();
        let (out, err, ok) = kdive(&d, &dump, script);
        assert!(ok, "{}: {err}", c.name());
        let file = std::fs::read_to_string(d.join("out.txt")).unwrap();
        assert_eq!(file, format!("{plain}{plain}"), "{}: > then >>", c.name());
        let mut lines = out.lines();
        let upper: String = plain
            .trim_end()
            .chars()
            .map(|c| {
                if ('a'..='f').contains(&c) {
                    c.to_ascii_uppercase()
                } else {
                    c
                }
            })
            .collect();
        assert_eq!(lines.next(), Some(upper.as_str()));
        // jf (startup file) and js (made here) both run sym jiffies.
        assert_eq!(lines.next(), Some(plain.trim_end()));
        assert!(
            out.lines()
                .any(|l| l.split_whitespace().eq(["runtime", "js", "sym"])),
            "{out}"
        );
        assert!(
            out.lines()
                .any(|l| l.contains(".kdiverc") && l.split_whitespace().nth(1) == Some("jf")),
            "{out}"
        );
        // hex: p prints hexadecimal; dec: decimal, of the same value.
        let values: Vec<&str> = out
            .lines()
            .filter_map(|l| l.strip_prefix("jiffies = $"))
            .map(|l| l.split(" = ").nth(1).unwrap())
            .collect();
        assert_eq!(values.len(), 2, "{out}");
        let hexv = u64::from_str_radix(values[0].trim_start_matches("0x"), 16).unwrap();
        assert!(values[0].starts_with("0x"));
        assert_eq!(hexv, values[1].parse::<u64>().unwrap());
        // sym < words.txt: once per non-empty line.
        assert_eq!(out.matches(plain.trim_end()).count(), 4, "{out}");
        assert!(addr.len() == 16);
    }
}

#[test]
fn failures_set_the_exit_status_and_the_session_goes_on() {
    for (c, dump) in dumps() {
        let d = scratch("fail");
        let dump = dump.to_str().unwrap();
        let (out, err, ok) = kdive(
            &d,
            &[dump],
            "nosuchcommand\nsym nosuchsymbol_xyz\nsym jiffies\n",
        );
        assert!(!ok, "{}", c.name());
        assert!(err.contains("command not found: nosuchcommand"), "{err}");
        assert!(
            out.contains("(D) jiffies"),
            "{}: went on after the failure: {out}",
            c.name()
        );
        let (_, _, ok) = kdive(&d, &[dump], "sym jiffies\n");
        assert!(ok);
        // -i FILE: the same commands from a file, same status.
        std::fs::write(d.join("cmds"), "sym jiffies\nnosuchcommand\n").unwrap();
        let (out, _, ok) = kdive(&d, &["-i", "cmds", dump], "");
        assert!(!ok && out.contains("(D) jiffies"));
    }
}

#[test]
fn osrelease_build_id_and_minimal() {
    for (c, dump) in dumps() {
        let d = scratch("rel");
        let dump = dump.to_str().unwrap();
        let (rel, _, ok) = kdive(&d, &["--osrelease", dump], "");
        assert!(ok);
        assert_eq!(
            rel.trim(),
            c.kernel.strip_prefix("linux-").unwrap(),
            "{}",
            c.name()
        );
        let (id, err, ok) = kdive(&d, &["--build-id", dump], "");
        assert!(ok, "{err}");
        assert!(
            id.trim().len() >= 40 && id.trim().bytes().all(|b| b.is_ascii_hexdigit()),
            "{id}"
        );
        let (out, err, ok) = kdive(&d, &["--minimal", dump], "sym jiffies\nps\n");
        assert!(!ok && out.contains("(D) jiffies"), "{out}");
        assert!(err.contains("ps: not available in minimal mode"), "{err}");
    }
}

#[test]
fn json_output_parses_and_agrees_with_the_text() {
    for (c, dump) in dumps() {
        let d = scratch("json");
        let dump = dump.to_str().unwrap();
        // One line, `{"command": ..., "result": VALUE}`: the value.
        let doc = |cmd: &str| -> serde_json::Value {
            let (out, err, ok) = kdive(&d, &[dump], &format!("{cmd} --json\n"));
            assert!(ok, "{}: {cmd}: {err}", c.name());
            assert_eq!(out.lines().count(), 1, "{cmd}: one line: {out}");
            let mut v: serde_json::Value =
                serde_json::from_str(&out).unwrap_or_else(|e| panic!("{cmd}: {e}: {out}"));
            assert_eq!(v["command"], format!("{cmd} --json"));
            v["result"].take()
        };
        let (text, _, _) = kdive(&d, &[dump], "sym jiffies\nsys\nps\nmod\n");
        let sym = doc("sym jiffies");
        assert!(text.starts_with(&format!(
            "{} ",
            sym[0]["address"].as_str().unwrap().trim_start_matches("0x")
        )));
        let sys = doc("sys");
        assert!(text.contains(&format!("RELEASE: {}", sys["release"].as_str().unwrap())));
        let ps = doc("ps");
        let n = ps.as_array().unwrap().len();
        assert_eq!(
            sys["tasks"].as_u64().unwrap() as usize,
            n,
            "sys TASKS and ps --json"
        );
        let panic_tasks: Vec<_> = ps
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["panic"] == true)
            .collect();
        assert_eq!(panic_tasks.len(), 1);
        let bt = doc("bt");
        assert_eq!(bt[0]["task"], panic_tasks[0]["task"]);
        assert!(bt[0]["frames"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["exception"].is_object()));
        let m = doc("mod");
        for module in m.as_array().unwrap() {
            assert!(text.contains(module["name"].as_str().unwrap()));
        }
        let log = doc("log");
        let (text_log, _, _) = kdive(&d, &[dump], "log\n");
        let records = log.as_array().unwrap();
        assert!(records.len() > 10 && records.len() <= text_log.lines().count());
        for r in records {
            let first = r["text"].as_str().unwrap().lines().next().unwrap_or("");
            assert!(
                text_log.contains(first),
                "log record not in the text: {first}"
            );
        }
        // The session-wide flag, `set json on|off`, and a command without
        // a view: an error line, not its text.
        let (out, _, ok) = kdive(&d, &["--json", dump], "sym jiffies\n");
        assert!(
            ok && out.starts_with(r#"{"command":"sym jiffies","result":[{"#),
            "{out}"
        );
        let (out, _, ok) = kdive(
            &d,
            &[dump],
            "sym jiffies\nset json on\nsym jiffies\nset json off\nsym jiffies\n",
        );
        assert!(ok);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 5, "{out}");
        assert_eq!(lines[0], lines[4], "text before and after");
        assert_eq!(lines[1], "json: on");
        assert!(lines[2].starts_with(r#"{"command":"sym jiffies","result":"#));
        assert!(
            lines[3].starts_with(r#"{"command":"set json off","result":{"#),
            "{out}"
        );
        let (out, _, ok) = kdive(&d, &[dump], "runq -t --json\n");
        assert!(!ok);
        assert_eq!(
            out,
            "{\"command\":\"runq -t --json\",\"error\":\"no JSON view for runq -t yet\"}\n"
        );
    }
}

/// The lines of `text` that start, after blanks, with `prefix`, each
/// without it.
fn after<'a>(text: &'a str, prefix: &str) -> Vec<&'a str> {
    text.lines()
        .filter_map(|l| l.trim_start().strip_prefix(prefix))
        .collect()
}

/// An address JSON shows (`0x...`) as the text shows it.
fn bare(v: &serde_json::Value) -> &str {
    v.as_str().unwrap().trim_start_matches("0x")
}

/// `runq`, `net`, `dev`, `irq`, `vtop`, `ptov`, `eval`, `list`, `search`,
/// `task`, `alias` and `foreach` in JSON: the same tasks, devices,
/// addresses and counts as their text.
#[test]
fn json_views_agree_with_the_text() {
    for (c, dump) in dumps() {
        let open = c.open_args(dump.to_str().unwrap());
        let args: Vec<&str> = open.iter().map(String::as_str).collect();
        let name = c.name();
        let bin = env!("CARGO_BIN_EXE_kdive");
        // The results of `cmds` in one --json session, by command.
        let json = |cmds: &[&str]| -> Vec<serde_json::Value> {
            let mut a = vec!["--json"];
            a.extend(&args);
            let m = kdive_testkit::run_marked(bin, &a, cmds);
            cmds.iter()
                .map(|cmd| {
                    let line = m.sections[*cmd].trim();
                    let v: serde_json::Value = serde_json::from_str(line)
                        .unwrap_or_else(|e| panic!("{name}: {cmd}: {e}: {line}"));
                    assert_eq!(v["command"], *cmd);
                    assert!(v["error"].is_null(), "{name}: {cmd}: {line}");
                    v["result"].clone()
                })
                .collect()
        };
        let first = json(&["sym jiffies", "rd -64 jiffies 1", "set"]);
        let jiffies = first[0][0]["address"].as_str().unwrap().to_string();
        let word = first[1]["words"][0].as_str().unwrap().to_string();
        let pid = first[2]["pid"].as_i64().unwrap();
        let vtop = format!("vtop {jiffies}");
        let search = format!("search -s {jiffies} -l 64 {word}");
        let list = "list task_struct.tasks -h init_task";
        let list_s = "list task_struct.tasks -s task_struct.pid -h init_task";
        let mut cmds = vec![
            "runq",
            "net",
            "dev",
            "irq",
            "eval 0x400",
            "eval -b 0xffffffffffffff00",
            list,
            list_s,
            "task",
            "alias",
            "foreach active ps",
        ];
        cmds.extend([vtop.as_str(), search.as_str()]);
        let values = json(&cmds);
        let v = |cmd: &str| &values[cmds.iter().position(|c| *c == cmd).unwrap()];
        let m = kdive_testkit::run_marked(bin, &args, &cmds);
        let text = |cmd: &str| m.sections[cmd].as_str();

        // runq: per CPU its runqueue, then the current and queued pids.
        let runq = v("runq").as_array().unwrap();
        let rqs = after(text("runq"), "CPU ");
        assert_eq!(rqs.len(), runq.len(), "{name}: runq CPUs");
        let mut json_pids = Vec::new();
        for (cpu, line) in runq.iter().zip(&rqs) {
            assert_eq!(
                *line,
                format!("{} RUNQUEUE: {}", cpu["cpu"], bare(&cpu["runqueue"]))
            );
            // A current task that does not read shows no PID.
            if !cpu["current"]["pid"].is_null() {
                json_pids.push(cpu["current"]["pid"].to_string());
            }
            for q in ["rt", "cfs"] {
                for t in cpu[q].as_array().unwrap() {
                    json_pids.push(t["pid"].to_string());
                }
            }
        }
        let text_pids: Vec<String> = text("runq")
            .lines()
            .filter_map(|l| l.split_once("PID: "))
            .map(|(_, r)| r.split_whitespace().next().unwrap().to_string())
            .collect();
        assert_eq!(text_pids, json_pids, "{name}: runq pids");

        // net: the same devices, names and addresses.
        let devices = v("net")["devices"].as_array().unwrap();
        let rows: Vec<&str> = text("net").lines().skip(1).collect();
        assert_eq!(rows.len(), devices.len(), "{name}: net");
        for (d, row) in devices.iter().zip(&rows) {
            let cols: Vec<&str> = row.split_whitespace().collect();
            assert_eq!(cols[0], bare(&d["net_device"]));
            assert_eq!(cols[1], d["name"]);
            let ips: Vec<&str> = d["ipv4"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect();
            assert_eq!(cols[2..].join(" "), ips.join(", "));
        }

        // dev: the same majors and names, character then block devices.
        let dev = v("dev");
        let mut json_majors = Vec::new();
        for k in ["chrdevs", "blkdevs"] {
            for d in dev[k].as_array().unwrap() {
                json_majors.push(format!("{} {}", d["major"], d["name"].as_str().unwrap()));
            }
        }
        let text_majors: Vec<String> = text("dev")
            .lines()
            .filter(|l| !l.starts_with("CHRDEV") && !l.starts_with("BLKDEV"))
            .filter_map(|l| {
                let mut w = l.split_whitespace();
                Some(format!("{} {}", w.next()?, w.next()?))
            })
            .collect();
        assert_eq!(text_majors, json_majors, "{name}: dev");
        assert!(!json_majors.is_empty(), "{name}: dev");

        // irq: the same IRQs, descriptors and actions.
        let irqs = v("irq").as_array().unwrap();
        let rows: Vec<&str> = text("irq")
            .lines()
            .skip(1)
            .filter(|l| !l.starts_with("      "))
            .collect();
        assert_eq!(rows.len(), irqs.len(), "{name}: irq");
        for (i, row) in irqs.iter().zip(&rows) {
            let cols: Vec<&str> = row.split_whitespace().collect();
            assert_eq!(cols[0], i["irq"].to_string());
            match i["irq_desc"].as_str() {
                Some(a) => assert_eq!(cols[1], a.trim_start_matches("0x")),
                None => assert_eq!(cols[1], "(unused)"),
            }
            if let Some(a) = i["actions"].get(0) {
                assert_eq!(cols[2], bare(&a["irqaction"]), "{name}: {row}");
            }
        }
        let actions: usize = irqs
            .iter()
            .flat_map(|i| i["actions"].as_array().unwrap())
            .filter(|a| a["name"].is_string())
            .count();
        assert_eq!(
            actions,
            text("irq").lines().filter(|l| l.contains('"')).count(),
            "{name}: irq actions"
        );

        // eval: each base as the text shows it.
        for cmd in ["eval 0x400", "eval -b 0xffffffffffffff00"] {
            let e = v(cmd);
            let t = text(cmd);
            assert!(t.contains(&format!("hexadecimal: {}", bare(&e["hexadecimal"]))));
            assert!(t.contains(&format!("decimal: {}", e["decimal"].as_str().unwrap())));
            assert!(t.contains(&format!("octal: {}\n", e["octal"].as_str().unwrap())));
            assert!(t.contains(&format!("binary: {}\n", e["binary"].as_str().unwrap())));
            for k in ["size", "signed"] {
                if let Some(x) = e[k].as_str() {
                    assert!(t.contains(&format!("({x})")), "{name}: {cmd} {k}");
                }
            }
        }
        assert_eq!(v("eval 0x400")["size"], "1KB");
        let bits = v("eval -b 0xffffffffffffff00")["bits_set"]
            .as_array()
            .unwrap();
        assert_eq!(bits.len(), 56);
        assert_eq!(
            after(text("eval -b 0xffffffffffffff00"), "bits set: ")[0]
                .split_whitespace()
                .next(),
            Some(bits[0].to_string().as_str())
        );

        // list: the same entries, in order; with -s, each one's pid.
        let entries: Vec<&str> = v(list).as_array().unwrap().iter().map(bare).collect();
        assert_eq!(
            entries,
            text(list).lines().collect::<Vec<_>>(),
            "{name}: list"
        );
        let with_s = v(list_s).as_array().unwrap();
        assert_eq!(with_s.len(), entries.len(), "{name}: list -s");
        let mut joined = String::new();
        for (e, addr) in with_s.iter().zip(&entries) {
            assert_eq!(bare(&e["address"]), *addr);
            joined += &format!("{addr}\n{}", e["text"].as_str().unwrap());
        }
        assert_eq!(joined, text(list_s), "{name}: list -s");

        // vtop and ptov: the same physical address, and back.
        let vt = &v(&vtop)[0];
        assert_eq!(vt["virtual"], jiffies);
        let phys = vt["physical"].as_str().unwrap();
        assert!(
            text(&vtop).contains(&format!(
                "{}  {}",
                bare(&vt["virtual"]),
                bare(&vt["physical"])
            )),
            "{name}: vtop"
        );
        assert_eq!(
            after(text(&vtop), "PAGE DIRECTORY: "),
            [bare(&vt["levels"][0]["entry"])]
        );
        assert_eq!(
            after(text(&vtop), "PAGE: ")[0].split_whitespace().next(),
            Some(bare(&vt["page"]))
        );
        for l in &vt["levels"].as_array().unwrap()[1..] {
            let line = format!(
                "{}: {} => {}",
                l["table"].as_str().unwrap(),
                bare(&l["address"]),
                bare(&l["entry"])
            );
            assert!(text(&vtop).contains(&line), "{name}: vtop: {line}");
        }
        let pt = json(&[&format!("ptov {phys}")]);
        assert_eq!(pt[0][0]["physical"], phys);
        let pv = u64::from_str_radix(bare(&pt[0][0]["virtual"]), 16).unwrap();
        assert_eq!(
            pv & 0xfff,
            u64::from_str_radix(&jiffies[2..], 16).unwrap() & 0xfff
        );

        // search: jiffies' own word is found at jiffies, as in the text.
        let hits = v(&search).as_array().unwrap();
        assert!(
            hits.iter()
                .any(|h| h["address"] == jiffies && h["value"] == word),
            "{name}: search"
        );
        let text_hits: Vec<String> = text(&search)
            .lines()
            .map(|l| l.trim_end().to_string())
            .collect();
        let json_hits: Vec<String> = hits
            .iter()
            .map(|h| format!("{}: {}", bare(&h["address"]), bare(&h["value"])))
            .collect();
        assert_eq!(text_hits, json_hits, "{name}: search");

        // task: the current task, its task_struct as the text shows it.
        let task = &v("task")[0];
        assert_eq!(task["pid"], pid, "{name}: task");
        let body = task["text"].as_str().unwrap();
        assert!(body.starts_with("struct task_struct {"), "{name}: task");
        assert!(text("task").contains(body), "{name}: task text");
        assert!(text("task").contains(&format!("TASK: {}", bare(&task["task"]))));

        // alias: the same aliases.
        let aliases: Vec<String> = v("alias")
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["alias"].as_str().unwrap().to_string())
            .collect();
        let text_aliases: Vec<String> = text("alias")
            .lines()
            .skip(1)
            .filter_map(|l| l.split_whitespace().nth(1).map(String::from))
            .collect();
        assert_eq!(aliases, text_aliases, "{name}: alias");

        // foreach: per active task, ps's own value for it.
        let each = v("foreach active ps").as_array().unwrap();
        let text_rows: Vec<&str> = text("foreach active ps").lines().skip(1).collect();
        assert_eq!(each.len(), text_rows.len(), "{name}: foreach");
        for (e, row) in each.iter().zip(&text_rows) {
            assert_eq!(e["run"], "ps");
            assert_eq!(e["result"][0]["pid"], e["pid"]);
            let text_pid = row.trim_start_matches('>').split_whitespace().next();
            assert_eq!(
                text_pid,
                Some(e["pid"].to_string().as_str()),
                "{name}: foreach"
            );
        }
    }
}

/// The commands `every_command_prints_one_json_line` runs: the common ones,
/// with and without a JSON view, and one that fails.
const JSON_COMMANDS: &[&str] = &[
    "sys",
    "ps",
    "bt",
    "log",
    "mod",
    "kmem -s",
    "kmem -i",
    "sym jiffies",
    "sym schedule",
    "rd -64 jiffies 4",
    "rd -s init_task 4",
    "rd -a linux_banner",
    "p jiffies",
    "px jiffies",
    "p init_task.comm",
    "set",
    "help",
    "help ps",
    "dis schedule 4",
    "task",
    "files",
    "vm",
    "net",
    "dev",
    "irq",
    "timer",
    "runq",
    "runq -t",
    "swap",
    "mach",
    "whatis task_struct",
    "struct list_head",
    "eval 1+1",
    "vtop init_task",
    "list task_struct.tasks -h init_task",
    "search -s jiffies -l 8 0",
    "alias",
    "foreach active ps",
    "ptov 0",
    "nosuchcommand",
    "rd nosuchsymbol_xyz",
];

/// `--json` over many commands: one line each, each a JSON object with the
/// command as typed and exactly one of `result` and `error`; the values of
/// ps, bt, kmem -s and rd agree with the text.
#[test]
fn every_command_prints_one_json_line() {
    for (c, dump) in dumps() {
        let d = scratch("jsonl");
        let open = c.open_args(dump.to_str().unwrap());
        let mut args: Vec<&str> = open.iter().map(String::as_str).collect();
        let script: String = JSON_COMMANDS.iter().map(|l| format!("{l}\n")).collect();
        let (text, _, _) = kdive(&d, &args, &script);
        args.insert(0, "--json");
        let (out, err, ok) = kdive(&d, &args, &script);
        assert!(!ok, "{}: nosuchcommand fails", c.name());
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines.len(),
            JSON_COMMANDS.len(),
            "{}: one line per command:\n{out}\n{err}",
            c.name()
        );
        let mut values = std::collections::BTreeMap::new();
        for (cmd, line) in JSON_COMMANDS.iter().zip(&lines) {
            let v: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{}: {cmd}: {e}: {line}", c.name()));
            let o = v.as_object().unwrap();
            assert_eq!(o["command"], *cmd, "{line}");
            assert_eq!(o.len(), 2, "{line}");
            assert!(
                o.get("result").is_some() != o.get("error").is_some_and(|e| e.is_string()),
                "{}: exactly one of result and error: {line}",
                c.name()
            );
            values.insert(*cmd, v);
        }
        let result = |cmd: &str| &values[cmd]["result"];
        assert!(values["nosuchcommand"]["error"]
            .as_str()
            .unwrap()
            .starts_with("command not found"));
        let dis = result("dis schedule 4").as_array().unwrap();
        assert_eq!(dis.len(), 4, "{}: dis", c.name());
        assert_eq!(dis[0]["symbol"], "schedule");
        // files: the current task's, the one set shows.
        assert_eq!(
            result("files")[0]["pid"],
            result("set")["pid"],
            "{}: files",
            c.name()
        );
        assert_eq!(
            result("vm")[0]["pid"],
            result("set")["pid"],
            "{}: vm",
            c.name()
        );
        assert_eq!(result("struct list_head")["type"], "list_head");
        assert!(result("struct list_head")["text"]
            .as_str()
            .unwrap()
            .contains("SIZE: 16"));
        // A command's option without a view says so, and is not run.
        assert_eq!(values["runq -t"]["error"], "no JSON view for runq -t yet");
        assert!(
            !result("timer")["bases"].as_array().unwrap().is_empty(),
            "{}: timer",
            c.name()
        );
        for cmd in [
            "sys",
            "ps",
            "bt",
            "log",
            "mod",
            "kmem -s",
            "sym jiffies",
            "rd -64 jiffies 4",
            "p jiffies",
            "set",
            "help",
        ] {
            assert!(!result(cmd).is_null(), "{}: {cmd} has a value", c.name());
        }
        // The text of each command, by running them marked.
        let m = kdive_testkit::run_marked(
            env!("CARGO_BIN_EXE_kdive"),
            &args[1..],
            &["ps", "bt", "kmem -s", "rd -64 jiffies 4"],
        );
        // ps: the same pids.
        let text_pids: Vec<i64> = m.sections["ps"]
            .lines()
            .skip(1)
            .filter_map(|l| {
                l.trim_start_matches('>')
                    .split_whitespace()
                    .next()?
                    .parse()
                    .ok()
            })
            .collect();
        let json_pids: Vec<i64> = result("ps")
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["pid"].as_i64().unwrap())
            .collect();
        assert_eq!(text_pids, json_pids, "{}: ps", c.name());
        // bt: the same frames, function by function.
        let text_frames: Vec<&str> = m.sections["bt"]
            .lines()
            .filter(|l| l.trim_start().starts_with('#'))
            .collect();
        let frames = result("bt")[0]["frames"].as_array().unwrap();
        assert_eq!(text_frames.len(), frames.len(), "{}: bt", c.name());
        for (l, f) in text_frames.iter().zip(frames) {
            if let Some(func) = f["function"].as_str() {
                assert!(
                    l.contains(&format!(" {func} ")),
                    "{}: {l} is not {func}",
                    c.name()
                );
            }
        }
        // kmem -s: the same caches and counts.
        let caches = result("kmem -s")["caches"].as_array().unwrap();
        let rows: Vec<&str> = m.sections["kmem -s"].lines().skip(1).collect();
        assert_eq!(caches.len(), rows.len(), "{}: kmem -s", c.name());
        for (cache, row) in caches.iter().zip(&rows) {
            let cols: Vec<&str> = row.split_whitespace().collect();
            assert_eq!(cache["allocated"].as_u64().unwrap().to_string(), cols[2]);
            assert_eq!(cache["total"].as_u64().unwrap().to_string(), cols[3]);
        }
        // rd: the same words.
        let text_words: Vec<u64> = m.sections["rd -64 jiffies 4"]
            .lines()
            .flat_map(|l| l.split_whitespace().skip(1).take(2))
            .map(|w| u64::from_str_radix(w, 16).unwrap())
            .collect();
        let json_words: Vec<u64> = result("rd -64 jiffies 4")["words"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| u64::from_str_radix(w.as_str().unwrap().trim_start_matches("0x"), 16).unwrap())
            .collect();
        assert_eq!(text_words, json_words, "{}: rd", c.name());
        // The text mode is unchanged by all this: no JSON in it.
        assert!(
            !text.lines().any(|l| l.starts_with("{\"command\"")),
            "{}",
            c.name()
        );
    }
}

#[test]
fn search_finds_what_rd_reads() {
    for (c, dump) in dumps() {
        let d = scratch("search");
        let dump = dump.to_str().unwrap();
        // The words after jiffies, and the value of one of them.
        let (rd, _, ok) = kdive(&d, &[dump], "rd -64 jiffies 4\n");
        assert!(ok);
        let words: Vec<&str> = rd
            .lines()
            .flat_map(|l| l.split_whitespace().skip(1).take(2))
            .collect();
        let want = words[0].trim_start_matches('0');
        let want = if want.is_empty() { "0" } else { want };
        let (out, err, ok) = kdive(&d, &[dump], &format!("search -s jiffies -l 32 {want}\n"));
        assert!(ok, "{}: {err}", c.name());
        let hits: Vec<&str> = out.lines().collect();
        assert!(!hits.is_empty(), "{}: nothing found", c.name());
        for h in &hits {
            let (addr, value) = h.split_once(": ").unwrap();
            assert_eq!(value.trim(), want);
            let (check, _, _) = kdive(&d, &[dump], &format!("rd -64 {addr}\n"));
            assert_eq!(
                check
                    .split_whitespace()
                    .nth(1)
                    .unwrap()
                    .trim_start_matches('0')
                    .max("0"),
                want.max("0")
            );
        }
        // -t: a word of the panic task's stack, found there under its header.
        let (bt, _, _) = kdive(&d, &[dump], "bt\n");
        let rsp = bt
            .split("RSP: ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .unwrap()
            .to_string();
        let (word, _, _) = kdive(&d, &[dump], &format!("rd -64 {rsp} 1\n"));
        let word = word
            .split_whitespace()
            .nth(1)
            .unwrap()
            .trim_start_matches('0')
            .to_string();
        if !word.is_empty() {
            let (out, _, ok) = kdive(&d, &[dump], &format!("search -t {word}\n"));
            assert!(ok);
            let header = bt.lines().next().unwrap();
            let at = out
                .find(header)
                .unwrap_or_else(|| panic!("no {header} in:\n{out}"));
            let rsp = rsp.trim_start_matches('0');
            assert!(out[at..].contains(&format!("\n{rsp}: {word} ")), "{out}");
        }
        // A string in the kernel's banner, found in the image's copy too.
        let (out, _, ok) = kdive(&d, &[dump], "search -c \"Linux version\"\n");
        assert!(ok);
        let (banner, _, _) = kdive(&d, &[dump], "sym linux_banner\n");
        let at = banner.split_whitespace().next().unwrap();
        assert!(
            out.lines()
                .any(|l| l.starts_with(&format!("{at}: Linux version"))),
            "{out}"
        );
    }
}

/// Every command has help, and `help` lists each.
#[test]
fn help_for_every_command() {
    let d = scratch("help");
    // A vmlinux alone is enough for help; else any dump.
    let Some((_, dump)) = dumps().into_iter().next() else {
        return;
    };
    let (list, _, ok) = kdive(&d, &[dump.to_str().unwrap()], "help\n");
    assert!(ok);
    let names: Vec<&str> = list
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(names.len() > 20, "{list}");
    let script: String = names.iter().map(|n| format!("help {n}\n")).collect();
    let (out, err, ok) = kdive(&d, &[dump.to_str().unwrap()], &script);
    assert!(ok, "{err}");
    for n in &names {
        assert!(out.contains(&format!("NAME\n  {n} - ")), "help {n}");
    }
    let (out, _, ok) = kdive(&d, &["--help"], "");
    assert!(ok && out.contains("--json") && out.contains("--minimal"));
    let (out, _, ok) = kdive(&d, &["--version"], "");
    assert!(ok && out.starts_with("kdive "));
}

/// With no vmlinux installed for the dump's release, kdive says where it
/// looked and which package has it, and works from the dump's own kallsyms
/// and BTF.
#[test]
fn no_vmlinux_installed() {
    for (c, dump) in dumps() {
        let d = scratch("novmlinux");
        let dump = dump.to_str().unwrap();
        let script = "sys\nbt\nstruct task_struct.comm init_task\n";
        let (out, err, ok) = kdive_env(&d, &[dump], script, &[("KDIVE_SYSROOT", &d)]);
        assert!(ok, "{}: {err}", c.name());
        let release = c.kernel.strip_prefix("linux-").unwrap();
        let looked = d
            .join("usr/lib/debug/boot")
            .join(format!("vmlinux-{release}"));
        assert!(err.contains(&format!("no vmlinux for {release}")), "{err}");
        assert!(
            err.contains(looked.to_str().unwrap()),
            "the path looked at: {err}"
        );
        assert!(
            err.contains(&format!("linux-image-{release}-dbg")),
            "the package: {err}"
        );
        assert!(out.contains("KERNEL: (no vmlinux"), "{out}");
        assert!(out.contains("[exception RIP: "), "bt from kallsyms: {out}");
        assert!(out.contains("comm = \"swapper"), "types from BTF: {out}");
    }
}

/// `--minimal` opens a dump even when the vmlinux given is of another
/// build (refused otherwise), from the dump's own kallsyms.
#[test]
fn minimal_goes_on_without_a_wrong_vmlinux() {
    let all = require("minimal");
    for (c, dump) in dumps() {
        let other = all
            .iter()
            .filter(|o| o.kernel != c.kernel)
            .find_map(|o| kdive_testkit::vmlinux(o.kernel.trim_start_matches("linux-")));
        let Some(other) = other else {
            eprintln!(
                "{}: no vmlinux of another kernel installed; skipped",
                c.name()
            );
            continue;
        };
        let d = scratch("minimal");
        let (dump, other) = (dump.to_str().unwrap(), other.to_str().unwrap());
        let (_, err, ok) = kdive(&d, &[other, dump], "sym jiffies\n");
        assert!(!ok && err.contains("build id"), "{err}");
        let (out, err, ok) = kdive(&d, &["--minimal", other, dump], "sym jiffies\nlog\n");
        assert!(ok, "{}: {err}", c.name());
        assert!(err.contains("going on without it (--minimal)"), "{err}");
        assert!(
            out.contains("(D) jiffies") && out.contains("Linux version"),
            "{out}"
        );
    }
}
