use super::*;
use crate::gdb::fixture::fixture;

#[test]
fn a_struct_as_ptype_prints_it() {
    let f = fixture();
    let demo = f.find(Namespace::Struct, "demo").unwrap();
    let want = "\
struct demo {
    struct list_head list;
    char comm[16];
    int pid;
    unsigned int flag : 1;
    unsigned int mode : 3;
    union {
        int a;
        unsigned int b;
    };
    enum state st;
    void (*fn)(void *);
    const char *name;
    _Bool on;
    u8 raw[4];
    unsigned long arr[3];
    struct empty e;
    u8 marker[0];
    unsigned long tail;
    u8 flex[];
}";
    assert_eq!(declaration(&f, demo, "", PTYPE, 0), want);
}

#[test]
fn whatis_names_and_declarators() {
    let f = fixture();
    let d = |id: u64| declaration(&f, TypeId(id), "", WHATIS, 0);
    assert_eq!(d(12), "void (*)(void *)");
    assert_eq!(d(14), "const char *");
    assert_eq!(d(23), "void (void)");
    assert_eq!(d(17), "union {...}");
    assert_eq!(d(20), "unsigned long [3]");
    assert_eq!(declaration(&f, TypeId(12), "f", 0, 0), "void (*f)(void *)");
    // ptype looks through a typedef; whatis names it.
    assert_eq!(declaration(&f, TypeId(24), "", PTYPE, 0), "int");
    assert_eq!(declaration(&f, TypeId(24), "", WHATIS, 0), "pid_t");
    let empty = f.find(Namespace::Struct, "empty").unwrap();
    assert_eq!(
        declaration(&f, empty, "", PTYPE, 0),
        "struct empty {\n    <no data fields>\n}"
    );
    let state = f.find(Namespace::Enum, "state").unwrap();
    assert_eq!(
        declaration(&f, state, "", PTYPE, 0),
        "enum state {IDLE, RUNNING, DEAD = 4}"
    );
}
