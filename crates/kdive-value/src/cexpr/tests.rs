//! Expressions over a small fake kernel: a few types shaped like the real
//! ones, and memory with `init_task`, a second task, `jiffies`, a per-CPU
//! `runqueues`.

use std::collections::HashMap;
use std::sync::Arc;

use kdive_debuginfo::types::{
    type_name, Global, IntEncoding, Kind, Member, Namespace, Param, Type, TypeId, TypeSource,
};

use super::*;

#[derive(Default)]
struct Src {
    types: Vec<Type>,
    names: HashMap<(u8, String), u64>,
    vars: HashMap<String, Global>,
    funcs: HashMap<String, Global>,
}

fn ns_tag(ns: Namespace) -> u8 {
    ns as u8
}

impl Src {
    fn add(&mut self, name: Option<&str>, size: Option<u64>, kind: Kind) -> TypeId {
        let ns = match kind {
            Kind::Struct { .. }
            | Kind::Forward {
                ns: Namespace::Struct,
            } => Namespace::Struct,
            Kind::Union { .. } => Namespace::Union,
            Kind::Enum { .. } => Namespace::Enum,
            _ => Namespace::Plain,
        };
        let id = self.types.len() as u64 + 1;
        if let Some(n) = name {
            self.names.insert((ns_tag(ns), n.to_string()), id);
        }
        self.types.push(Type {
            name: name.map(str::to_string),
            size,
            kind,
        });
        TypeId(id)
    }
}

impl TypeSource for Src {
    fn find(&self, ns: Namespace, name: &str) -> Option<TypeId> {
        self.names
            .get(&(ns_tag(ns), name.to_string()))
            .map(|&i| TypeId(i))
    }
    fn get(&self, id: TypeId) -> Option<Arc<Type>> {
        self.types
            .get((id.0 as usize).checked_sub(1)?)
            .cloned()
            .map(Arc::new)
    }
    fn variable(&self, name: &str) -> Option<Global> {
        self.vars.get(name).cloned()
    }
    fn function(&self, name: &str) -> Option<Global> {
        self.funcs.get(name).cloned()
    }
    fn describe(&self) -> String {
        "test".into()
    }
}

fn m(name: &str, ty: TypeId, offset_bits: u64) -> Member {
    Member {
        name: Some(name.into()),
        ty,
        offset_bits,
        bit_size: None,
    }
}

const INIT_TASK: u64 = 0xffff_ffff_a1e1_aa40;
const TASK1: u64 = 0xff29_412b_c11f_0000;
const JIFFIES: u64 = 0xffff_ffff_a200_0000;
const COUNTERS: u64 = 0xffff_ffff_a200_1000;
const TASK_PTR: u64 = 0xffff_ffff_a200_2000;
const UNTYPED: u64 = 0xffff_ffff_a200_3000;
const SCHEDULE: u64 = 0xffff_ffff_a0e0_6090;
const RUNQUEUES: u64 = 0x2c1c0;
const CPU_OFF: [u64; 2] = [0xff29_412b_ffc0_0000, 0xff29_412b_ffd0_0000];

struct Fake {
    src: Src,
    mem: Vec<(u64, Vec<u8>)>,
    syms: HashMap<&'static str, u64>,
    enums: HashMap<&'static str, (TypeId, i64)>,
}

impl Ctx for Fake {
    fn types(&self) -> &dyn TypeSource {
        &self.src
    }
    fn symbol_addr(&self, name: &str) -> Option<u64> {
        self.syms.get(name).copied()
    }
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), kdive_dump::MemError> {
        for (i, b) in buf.iter_mut().enumerate() {
            let a = addr.wrapping_add(i as u64);
            let r = self
                .mem
                .iter()
                .find(|(base, d)| a >= *base && a - base < d.len() as u64);
            let Some((base, d)) = r else {
                return Err(kdive_dump::MemError::Invalid {
                    vaddr: a,
                    why: "not in the fake".into(),
                });
            };
            *b = d[(a - base) as usize];
        }
        Ok(())
    }
    fn per_cpu_offset(&self, cpu: u32) -> Option<u64> {
        CPU_OFF.get(cpu as usize).copied()
    }
    fn current_cpu(&self) -> Option<u32> {
        Some(1)
    }
    fn enumerator(&self, name: &str) -> Option<(TypeId, i64)> {
        self.enums.get(name).copied()
    }
}

fn task_bytes(pid: i32, comm: &str, next: u64, prev: u64, parent: u64) -> Vec<u8> {
    let mut t = vec![0u8; 56];
    t[8..12].copy_from_slice(&pid.to_le_bytes());
    // in_execve:1 = 1 at bit 96; sbits:3 = -2 (0b110) at bits 98..101.
    t[12] = 0b0001_1001;
    t[16..24].copy_from_slice(&next.to_le_bytes());
    t[24..32].copy_from_slice(&prev.to_le_bytes());
    t[32..32 + comm.len()].copy_from_slice(comm.as_bytes());
    t[48..56].copy_from_slice(&parent.to_le_bytes());
    t
}

fn fake() -> Fake {
    let mut s = Src::default();
    let int = s.add(
        Some("int"),
        Some(4),
        Kind::Int {
            signed: true,
            encoding: IntEncoding::Plain,
        },
    );
    let uint = s.add(
        Some("unsigned int"),
        Some(4),
        Kind::Int {
            signed: false,
            encoding: IntEncoding::Plain,
        },
    );
    let long = s.add(
        Some("long int"),
        Some(8),
        Kind::Int {
            signed: true,
            encoding: IntEncoding::Plain,
        },
    );
    let ulong = s.add(
        Some("long unsigned int"),
        Some(8),
        Kind::Int {
            signed: false,
            encoding: IntEncoding::Plain,
        },
    );
    let ull = s.add(
        Some("long long unsigned int"),
        Some(8),
        Kind::Int {
            signed: false,
            encoding: IntEncoding::Plain,
        },
    );
    let char_ = s.add(
        Some("char"),
        Some(1),
        Kind::Int {
            signed: true,
            encoding: IntEncoding::Char,
        },
    );
    s.add(Some("u64"), None, Kind::Typedef { target: ull });
    let pid_t = s.add(Some("pid_t"), None, Kind::Typedef { target: int });
    let lh_id = TypeId(s.types.len() as u64 + 2);
    let lh_ptr = s.add(None, Some(8), Kind::Pointer { target: lh_id });
    let lh = s.add(
        Some("list_head"),
        Some(16),
        Kind::Struct {
            members: vec![m("next", lh_ptr, 0), m("prev", lh_ptr, 64)],
        },
    );
    assert_eq!(lh, lh_id);
    let comm = s.add(
        None,
        Some(16),
        Kind::Array {
            elem: char_,
            len: Some(16),
        },
    );
    let anon = s.add(
        None,
        Some(16),
        Kind::Union {
            members: vec![m("tasks", lh, 0)],
        },
    );
    let task_id = TypeId(s.types.len() as u64 + 2);
    let task_ptr = s.add(None, Some(8), Kind::Pointer { target: task_id });
    let bit = |name: &str, ty, off, w| Member {
        name: Some(String::from(name)),
        ty,
        offset_bits: off,
        bit_size: Some(w),
    };
    let task = s.add(
        Some("task_struct"),
        Some(56),
        Kind::Struct {
            members: vec![
                m("state", long, 0),
                m("pid", pid_t, 64),
                bit("in_execve", uint, 96, 1),
                bit("sbits", int, 98, 3),
                Member {
                    name: None,
                    ty: anon,
                    offset_bits: 128,
                    bit_size: None,
                },
                m("comm", comm, 256),
                m("parent", task_ptr, 384),
            ],
        },
    );
    assert_eq!(task, task_id);
    let rq = s.add(
        Some("rq"),
        Some(8),
        Kind::Struct {
            members: vec![m("nr_running", uint, 0), m("cpu", int, 32)],
        },
    );
    let pid_type = s.add(
        Some("pid_type"),
        Some(4),
        Kind::Enum {
            values: vec![("PIDTYPE_PID".into(), 0), ("PIDTYPE_TGID".into(), 1)],
        },
    );
    let opaque = s.add(
        Some("opaque"),
        None,
        Kind::Forward {
            ns: Namespace::Struct,
        },
    );
    let longs = s.add(
        None,
        Some(32),
        Kind::Array {
            elem: long,
            len: Some(4),
        },
    );
    let void = s.add(Some("void"), None, Kind::Void);
    let func = s.add(
        None,
        None,
        Kind::Function {
            ret: void,
            params: vec![],
            variadic: false,
        },
    );
    let _ = (
        opaque,
        Param {
            name: None,
            ty: void,
        },
    );
    let g = |name: &str, ty, addr: Option<u64>| {
        (
            name.to_string(),
            Global {
                name: name.into(),
                ty,
                addr,
                optimized_out: false,
            },
        )
    };
    // Link-time addresses differ from the relocated ones: the symbol table wins.
    s.vars.extend([
        g("init_task", task, Some(0xffff_ffff_8260_0000)),
        g("jiffies", ulong, None),
        g("counters", longs, None),
        g("task_ptr", task_ptr, None),
        g("runqueues", rq, Some(RUNQUEUES)),
    ]);
    s.funcs.extend([g("schedule", func, None)]);
    let syms = HashMap::from([
        ("init_task", INIT_TASK),
        ("jiffies", JIFFIES),
        ("counters", COUNTERS),
        ("task_ptr", TASK_PTR),
        ("untyped_sym", UNTYPED),
        ("schedule", SCHEDULE),
        ("runqueues", RUNQUEUES),
        ("__per_cpu_start", 0),
        ("__per_cpu_end", 0x40000),
    ]);
    let counters: Vec<u8> = [10i64, -20, 30, 40]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let rq_bytes = |n: u32, cpu: i32| [n.to_le_bytes(), cpu.to_le_bytes()].concat();
    let mem = vec![
        (
            INIT_TASK,
            task_bytes(0, "swapper/0", TASK1 + 16, TASK1 + 16, INIT_TASK),
        ),
        (
            TASK1,
            task_bytes(1, "init", INIT_TASK + 16, INIT_TASK + 16, INIT_TASK),
        ),
        (JIFFIES, 4294894342u64.to_le_bytes().to_vec()),
        (COUNTERS, counters),
        (TASK_PTR, TASK1.to_le_bytes().to_vec()),
        (UNTYPED, 0x1122_3344_5566_7788u64.to_le_bytes().to_vec()),
        (CPU_OFF[0] + RUNQUEUES, rq_bytes(3, 0)),
        (CPU_OFF[1] + RUNQUEUES, rq_bytes(5, 1)),
    ];
    let enums = HashMap::from([("PIDTYPE_TGID", (pid_type, 1))]);
    Fake {
        src: s,
        mem,
        syms,
        enums,
    }
}

/// The value of `e` as an integer, and its type's name.
fn num(f: &Fake, e: &str) -> (i128, String) {
    let ev = Evaluator::new(f);
    let v = ev.eval(e).unwrap_or_else(|err| panic!("{e}: {err}"));
    (
        ev.as_i128(&v).unwrap_or_else(|err| panic!("{e}: {err}")),
        type_name(ev.types(), v.ty),
    )
}

fn err(f: &Fake, e: &str) -> String {
    match Evaluator::new(f).eval(e) {
        Ok(v) => panic!("{e}: expected an error, got {v:?}"),
        Err(x) => x.to_string(),
    }
}

#[test]
fn variables_and_members() {
    let f = fake();
    assert_eq!(num(&f, "jiffies"), (4294894342, "unsigned long".into()));
    assert_eq!(num(&f, "init_task.pid"), (0, "pid_t".into()));
    assert_eq!(
        num(&f, "&init_task"),
        (INIT_TASK as i128, "struct task_struct *".into())
    );
    // Through the anonymous union, and container_of by hand.
    assert_eq!(num(&f, "init_task.tasks.next").0, (TASK1 + 16) as i128);
    assert_eq!(
        num(
            &f,
            "((struct task_struct *)((char *)init_task.tasks.next - 16))->pid"
        )
        .0,
        1
    );
    // gdb follows pointers for `.` and accepts `->` on a struct.
    assert_eq!(num(&f, "task_ptr.pid").0, 1);
    assert_eq!(num(&f, "init_task->pid").0, 0);
    assert_eq!(
        num(&f, "task_ptr->parent->comm[1]"),
        (b'w' as i128, "char".into())
    );
    assert_eq!(num(&f, "(*task_ptr).comm[0]").0, b'i' as i128);
    let ev = Evaluator::new(&f);
    let comm = ev.eval("init_task.comm").unwrap();
    assert_eq!(comm.place, Place::Memory(INIT_TASK + 32));
    assert_eq!(&ev.bytes(&comm).unwrap()[..9], b"swapper/0");
    let t = ev.eval("*task_ptr").unwrap();
    assert_eq!(
        (t.place, type_name(ev.types(), t.ty)),
        (Place::Memory(TASK1), "struct task_struct".into())
    );
}

#[test]
fn bitfields_and_enums() {
    let f = fake();
    assert_eq!(num(&f, "init_task.in_execve"), (1, "unsigned int".into()));
    assert_eq!(num(&f, "init_task.sbits").0, -2);
    assert_eq!(
        err(&f, "&init_task.in_execve"),
        "Attempt to take address of value not located in memory."
    );
    assert_eq!(num(&f, "PIDTYPE_TGID"), (1, "enum pid_type".into()));
    assert_eq!(num(&f, "counters[PIDTYPE_TGID]").0, -20);
}

#[test]
fn literals_and_arithmetic() {
    let f = fake();
    let cases: &[(&str, i128, &str)] = &[
        ("1 + 2 * 3", 7, "int"),
        ("(1 + 2) * 3", 9, "int"),
        ("-1", -1, "int"),
        ("-1U", 4294967295, "unsigned int"),
        ("0xffffffff", 4294967295, "unsigned int"),
        ("2147483648", 2147483648, "long"),
        ("0xffff888003a2c040", 0xffff888003a2c040, "unsigned long"),
        ("017", 15, "int"),
        ("0b101", 5, "int"),
        ("~0", -1, "int"),
        ("!5", 0, "int"),
        ("-7 / 2", -3, "int"),
        ("-7 % 2", -1, "int"),
        ("7u / 2", 3, "unsigned int"),
        ("1 << 40", 0, "int"),
        ("1L << 40", 1 << 40, "long"),
        ("-16 >> 2", -4, "int"),
        ("-1 < 0", 1, "int"),
        ("-1 < 0U", 0, "int"),
        ("-1L < 0U", 1, "int"),
        ("0 && 1 / 0", 0, "int"),
        ("1 || *(int *)0", 1, "int"),
        ("1 ? 2 : 3", 2, "int"),
        ("0 ? 2 : 3", 3, "int"),
        ("1, 2", 2, "int"),
        ("'A'", 65, "char"),
        ("'\\n'", 10, "char"),
        ("'\\x41' + 1", 66, "int"),
        ("(unsigned char)-1", 255, "unsigned char"),
        ("(char)0x141", 0x41, "char"),
        ("(_Bool)256", 1, "_Bool"),
        ("(unsigned long)-1", u64::MAX as i128, "unsigned long"),
        ("(u64)1 + 1", 2, "unsigned long"),
        ("(u64)1", 1, "u64"),
        ("jiffies - 4294894342", 0, "unsigned long"),
        ("sizeof(struct task_struct)", 56, "int"),
        ("sizeof init_task", 56, "int"),
        ("sizeof init_task.comm", 16, "int"),
        ("sizeof(int)", 4, "int"),
        ("sizeof(long)", 8, "int"),
        ("sizeof (char *) * 2", 16, "int"),
        ("sizeof(struct list_head [3])", 48, "int"),
        ("sizeof(*(int *)0)", 4, "int"),
        ("sizeof(\"abc\")", 4, "int"),
        ("sizeof(void)", 1, "int"),
    ];
    for (e, v, t) in cases {
        assert_eq!(num(&f, e), (*v, t.to_string()), "{e}");
    }
}

#[test]
fn pointers() {
    let f = fake();
    assert_eq!(num(&f, "task_ptr + 1").0, (TASK1 + 56) as i128);
    assert_eq!(num(&f, "1 + task_ptr").0, (TASK1 + 56) as i128);
    assert_eq!(num(&f, "(char *)task_ptr + 1").0, (TASK1 + 1) as i128);
    assert_eq!(num(&f, "(void *)task_ptr + 1").0, (TASK1 + 1) as i128);
    assert_eq!(num(&f, "&counters[3] - &counters[0]"), (3, "long".into()));
    assert_eq!(num(&f, "counters[1]"), (-20, "long".into()));
    assert_eq!(num(&f, "*(counters + 2)").0, 30);
    assert_eq!(num(&f, "*counters").0, 10);
    assert_eq!(num(&f, "task_ptr == 0").0, 0);
    assert_eq!(num(&f, "task_ptr < &init_task").0, 1);
    assert_eq!(num(&f, "(long)&init_task & 0xfff").0, 0xa40);
    assert_eq!(num(&f, "&((struct list_head *)0)->prev").0, 8);
    assert_eq!(num(&f, "&((struct task_struct *)0)->comm").0, 32);
    assert_eq!(
        num(&f, "({struct list_head} &init_task.tasks).next").0,
        (TASK1 + 16) as i128
    );
    assert_eq!(num(&f, "{long} counters").0, 10);
    let ev = Evaluator::new(&f);
    let a = ev.eval("counters[1]@2").unwrap();
    assert_eq!(
        (a.place, type_name(ev.types(), a.ty)),
        (Place::Memory(COUNTERS + 8), "long [2]".into())
    );
    let names = [
        ("(char (*)[4])0", "char (*)[4]"),
        ("(void (*)(void))0", "void (*)(void)"),
        ("(int (*)(int, long))0", "int (*)(int, long)"),
        ("(unsigned long long)1", "unsigned long long"),
        ("(const char *)0", "const char *"),
        ("(struct task_struct **)0", "struct task_struct **"),
        ("&schedule", "void (*)(void)"),
        ("*schedule", "void (void)"),
        ("&counters", "long (*)[4]"),
        ("\"ab\" \"c\"", "char [4]"),
    ];
    for (e, want) in names {
        let v = ev.eval(e).unwrap_or_else(|x| panic!("{e}: {x}"));
        assert_eq!(type_name(ev.types(), v.ty), want, "{e}");
    }
    assert_eq!(ev.eval("schedule").unwrap().place, Place::Memory(SCHEDULE));
}

#[test]
fn symbols_without_types() {
    let f = fake();
    assert_eq!(
        err(&f, "untyped_sym"),
        "'untyped_sym' has unknown type; cast it to its declared type"
    );
    assert_eq!(num(&f, "(long)untyped_sym").0, 0x1122_3344_5566_7788);
    assert_eq!(num(&f, "(int)untyped_sym").0, 0x5566_7788);
    assert_eq!(
        num(&f, "&untyped_sym"),
        (UNTYPED as i128, "<data variable, no debug info> *".into())
    );
    assert_eq!(num(&f, "*(long *)&untyped_sym").0, 0x1122_3344_5566_7788);
}

#[test]
fn gdb_errors() {
    let f = fake();
    let cases = [
        ("foo", "No symbol \"foo\" in current context."),
        ("init_task.bar", "There is no member named bar."),
        ("*init_task", "Attempt to take contents of a non-pointer value."),
        ("*(void *)0", "Attempt to take contents of a non-pointer value."),
        ("jiffies.x", "Attempt to extract a component of a value that is not a structure."),
        ("jiffies->x", "Attempt to extract a component of a value that is not a structure pointer."),
        ("&1", "Attempt to take address of value not located in memory."),
        ("(struct nope *)0", "No struct type named nope."),
        ("(union nope *)0", "No union type named nope."),
        ("1 +", "A syntax error in expression, near `'."),
        ("1 2", "A syntax error in expression, near `2'."),
        ("(1", "A syntax error in expression, near `'."),
        ("", "A syntax error in expression, near `'."),
        ("init_task.", "A syntax error in expression, near `'."),
        ("#", "Invalid character '#' in expression."),
        ("0x", "Invalid number \"0x\"."),
        ("1f", "Invalid number \"1f\"."),
        ("99999999999999999999", "Numeric constant too large."),
        ("'", "Unmatched single quote."),
        ("''", "Empty character constant."),
        ("\"abc", "Unterminated string in expression."),
        ("jiffies[1]", "cannot subscript something of type `unsigned long'"),
        ("schedule(1)", "You can't do that without a process to debug."),
        ("u64", "Attempt to use a type name as an expression"),
        ("7 / 0", "Division by zero"),
        ("7 % (1 - 1)", "Division by zero"),
        ("-init_task", "Argument to negate operation not a number."),
        ("~task_ptr", "Argument to complement operation not an integer, boolean."),
        ("init_task + 1", "Argument to arithmetic operation not a number or boolean."),
        ("task_ptr * 2", "Argument to arithmetic operation not a number or boolean."),
        ("init_task == 1", "Invalid type combination in equality test."),
        ("task_ptr - &counters[0]", "First argument of `-' is a pointer and second argument is neither\nan integer nor a pointer of the same type."),
        ("(struct opaque *)0 + 1", "Cannot perform pointer math on incomplete type \"struct opaque\", try casting to a known type, or void *."),
        ("1@2", "Only values in memory can be extended with '@'."),
        ("counters@0", "Invalid number 0 of repetitions."),
        ("(struct list_head)1", "Invalid cast."),
        ("jiffies = 1", "Writing to the dump is not supported."),
        ("jiffies++", "Writing to the dump is not supported."),
        ("$1", "History and convenience variables ($1) are not supported."),
        ("1.5", "Floating-point numbers are not supported."),
        ("(unsigned char int)1", "A syntax error in expression, near `)1'."),
    ];
    for (e, want) in cases {
        assert_eq!(err(&f, e), want, "{e}");
    }
}

#[test]
fn memory_errors_name_the_address() {
    let f = fake();
    let ev = Evaluator::new(&f);
    let e = ev.eval("*(long *)0x1234").unwrap();
    let x = ev.bytes(&e).unwrap_err();
    assert_eq!(x.to_string(), "Cannot access memory at address 0x1234");
    assert_eq!(
        x.reason().map(ToString::to_string).as_deref(),
        Some("invalid kernel virtual address: 1234")
    );
    let x = ev
        .eval("((struct task_struct *)0x10)->parent->pid")
        .unwrap_err();
    assert_eq!(
        x,
        Error::Memory {
            addr: 0x40,
            reason: kdive_dump::MemError::Invalid {
                vaddr: 0x40,
                why: "not in the fake".into()
            }
        }
    );
    // Types need no memory.
    let t = ev
        .type_of("((struct task_struct *)0x10)->parent->comm")
        .unwrap();
    assert_eq!(type_name(ev.types(), t), "char [16]");
}

#[test]
fn per_cpu_requests() {
    let f = fake();
    let ev = Evaluator::new(&f);
    let pc = |cpus: Vec<u32>| Request::PerCpu {
        name: "runqueues".into(),
        cpus,
    };
    assert_eq!(ev.request("runqueues:1").unwrap(), pc(vec![1]));
    assert_eq!(ev.request("runqueues:a").unwrap(), pc(vec![0, 1]));
    assert_eq!(ev.request("runqueues:all").unwrap(), pc(vec![0, 1]));
    assert_eq!(ev.request("runqueues:").unwrap(), pc(vec![1]));
    assert_eq!(
        ev.request("runqueues:7").unwrap_err().to_string(),
        "invalid cpu specification: 7"
    );
    let rq = f.src.find(Namespace::Struct, "rq");
    let summary = Request::PerCpuSummary {
        name: "runqueues".into(),
        ty: rq,
        addrs: vec![(0, CPU_OFF[0] + RUNQUEUES), (1, CPU_OFF[1] + RUNQUEUES)],
    };
    assert_eq!(ev.request("runqueues").unwrap(), summary);
    assert_eq!(
        ev.request("jiffies:1").unwrap(),
        Request::NotPerCpu {
            name: "jiffies".into()
        }
    );
    assert_eq!(
        ev.request("jiffies").unwrap(),
        Request::Expr("jiffies".into())
    );
    assert_eq!(
        ev.request("a ? b : c").unwrap(),
        Request::Expr("a ? b : c".into())
    );
    let one = ev.per_cpu("runqueues", 1).unwrap();
    assert_eq!(one.value.place, Place::Memory(CPU_OFF[1] + RUNQUEUES));
    assert_eq!(ev.bytes(&one.value).unwrap(), [5, 0, 0, 0, 1, 0, 0, 0]);
    assert_eq!(parse_cpus("0,2-3", 4, None).unwrap(), [0, 2, 3]);
    assert_eq!(
        parse_cpus("3-1", 4, None).unwrap_err(),
        "invalid cpu specification: 3-1"
    );
    assert!(parse_cpus("x", 4, None).is_err());
    assert!(parse_cpus("", 4, None).is_err());
}

/// Odd inputs give errors, never panics, and deep nesting is refused.
#[test]
fn odd_inputs_do_not_panic() {
    let f = fake();
    let ev = Evaluator::new(&f);
    let odd = [
        "(".repeat(5000) + "1" + &")".repeat(5000),
        "-".repeat(5000) + "1",
        "*".repeat(5000) + "task_ptr",
        "1".to_string() + &"+1".repeat(1500),
        "task_ptr".to_string() + &"->parent".repeat(300),
        "(char (*(*(*)[2])[3])[4])0".into(),
        "((((((((int))))))))1".into(),
        "sizeof sizeof sizeof 1".into(),
        "'\\".into(),
        "'\\x'".into(),
        "'ab'".into(),
        "(int)".into(),
        "(int".into(),
        "{int}".into(),
        "init_task.comm[-1]".into(),
        "\"abc\"[5]".into(),
        "\"abc\"[-1]".into(),
        "(struct list_head [0x7fffffffffffffff])0".into(),
        "sizeof(struct list_head [0x7fffffffffffffff][0x7fffffffffffffff])".into(),
        "counters@0xffffffff".into(),
        "1 << -1".into(),
        "-9223372036854775807L - 1 / -1".into(),
        "(-9223372036854775807L - 1) / -1".into(),
        "(-9223372036854775807L - 1) % -1".into(),
        "ä".into(),
        "\u{0}".into(),
        "init_task.comm@3".into(),
        "(void)0 + 1".into(),
        "!(void)0".into(),
        "(int (*)(...))0".into(),
        "(int (*)(int,))0".into(),
        "sizeof(int[-1])".into(),
        "{struct list_head} 0".into(),
        "*(struct list_head *)0 == 0".into(),
    ];
    for e in &odd {
        let _ = ev.eval(e);
        let _ = ev.type_of(e);
        let _ = ev.request(e);
    }
    assert!(ev.eval(&odd[0]).is_err());
    assert_eq!(num(&f, "1 + 1 + 1 + 1"), (4, "int".into()));
    // Every sequence of a few tokens from a kernel engineer's alphabet.
    let alphabet = [
        "(",
        ")",
        "*",
        "&",
        "-",
        "!",
        "~",
        "init_task",
        "task_ptr",
        "counters",
        ".",
        "->",
        "comm",
        "pid",
        "[",
        "]",
        "0",
        "1",
        "0xffffffff81000000",
        "sizeof",
        "(int)",
        "(struct task_struct *)",
        "@",
        "?",
        ":",
        ",",
        "+",
        "/",
        "<<",
        "'a'",
        "\"s\"",
        "{long}",
        "untyped_sym",
        "schedule",
        "==",
        "&&",
    ];
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..20_000 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let n = 1 + (seed % 7) as usize;
        let e: Vec<&str> = (0..n)
            .map(|i| alphabet[((seed >> (i * 6)) % alphabet.len() as u64) as usize])
            .collect();
        let e = e.join(" ");
        let _ = ev.eval(&e);
        let _ = ev.type_of(&e);
    }
}
