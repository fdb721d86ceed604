//! `Kernel::identify` on real dumps: every address asked about is taken
//! from the dump itself (the task list, the symbol table), so KASLR and
//! the kernel release change nothing.

use kdive_kernel::{Kernel, VmlinuxChoice};

/// Each corpus dump, opened without its vmlinux (BTF from memory: the
/// case every dump has).
fn kernels() -> Vec<(String, Kernel)> {
    kdive_testkit::require("identify tests")
        .into_iter()
        .filter_map(|c| {
            let dump = c.variant("kdump-zlib")?;
            let k = Kernel::open_with(dump, VmlinuxChoice::None).ok()?;
            Some((c.kernel.clone(), k))
        })
        .collect()
}

#[test]
fn addresses_are_what_the_kernel_says() {
    let mut checked = 0;
    for (name, k) in kernels() {
        if k.slub().is_err() || k.pages().is_err() {
            continue;
        }
        checked += 1;
        a_task_is_its_slab_object(&name, &k);
        a_stack_is_its_tasks(&name, &k);
        init_task_is_kernel_data(&name, &k);
        a_function_is_its_symbol(&name, &k);
    }
    assert!(checked > 0 || kdive_testkit::crashes().is_empty());
}

/// A forked task's `task_struct` (and a word inside it) is that task, an
/// allocated object of the `task_struct` cache, in a page; so is its
/// physical address.
fn a_task_is_its_slab_object(name: &str, k: &Kernel) {
    let list = k.tasks();
    let t = list
        .tasks()
        .iter()
        .find(|t| t.pid > 1)
        .unwrap_or_else(|| panic!("{name}: no forked task"));
    for addr in [t.addr, t.addr + 8] {
        let id = k.identify(addr).unwrap();
        assert!(!id.physical, "{name}");
        assert_eq!(id.task.as_ref().map(|x| x.addr), Some(t.addr), "{name}");
        assert!(id.symbol.is_none(), "{name}: a slab object has no symbol");
        let sa = id
            .slab
            .unwrap_or_else(|| panic!("{name}: task {:#x} not in a slab", t.addr));
        assert_eq!(sa.hit.cache.name, "task_struct", "{name}");
        assert_eq!(sa.hit.object.map(|o| o.0), Some(t.addr), "{name}");
        assert_eq!(sa.free(), Some(false), "{name}: a live task is allocated");
        assert!(id.page.is_some(), "{name}");
    }
    let phys = k.vtop(t.addr).unwrap();
    let id = k.identify(phys).unwrap();
    assert!(id.physical, "{name}");
    assert_eq!(id.vaddr, t.addr, "{name}");
    assert_eq!(id.task.map(|x| x.addr), Some(t.addr), "{name}");
}

/// A word on a task's kernel stack belongs to that task's stack.
fn a_stack_is_its_tasks(name: &str, k: &Kernel) {
    let list = k.tasks();
    let Some(t) = list.tasks().iter().find(|t| t.pid > 1 && t.stack != 0) else {
        return;
    };
    let id = k.identify(t.stack + 64).unwrap();
    assert_eq!(id.stack_of.map(|x| x.addr), Some(t.addr), "{name}");
    assert!(id.task.is_none(), "{name}: a stack is no task_struct");
}

/// `init_task` is data in the kernel image, and the idle task of CPU 0,
/// in no slab.
fn init_task_is_kernel_data(name: &str, k: &Kernel) {
    let addr = k.symbol("init_task").unwrap();
    let id = k.identify(addr).unwrap();
    let (sym, off) = id.symbol.unwrap();
    assert_eq!((sym.name.as_str(), off), ("init_task", 0), "{name}");
    assert!(!k.is_code(&sym), "{name}: init_task is data");
    assert!(id.module.is_none() && id.slab.is_none(), "{name}");
    assert_eq!(id.task.map(|t| t.addr), Some(addr), "{name}");
}

/// A function's address, and one inside it, are that symbol.
fn a_function_is_its_symbol(name: &str, k: &Kernel) {
    let addr = k.symbol("schedule").unwrap();
    for (at, want) in [(addr, 0), (addr + 1, 1)] {
        let id = k.identify(at).unwrap();
        let (sym, off) = id.symbol.unwrap();
        assert_eq!((sym.addr, off), (addr, want), "{name}: {}", sym.name);
        assert!(k.is_code(&sym), "{name}: {}", sym.name);
        assert!(id.slab.is_none() && id.task.is_none(), "{name}");
        assert!(id.vmalloc.is_none(), "{name}");
    }
}
