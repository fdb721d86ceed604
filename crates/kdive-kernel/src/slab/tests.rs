//! The walk on a made-up SLUB: hand-made BTF (5.17+ `struct slab` with
//! its bitfields), memory holding one cache with a CPU slab and a node
//! partial slab, then damaged one way at a time: a loop, a pointer between
//! objects, a pointer outside the slab, a list that does not link back, a
//! list that loops, a slab page the dump lacks.

use kdive_debuginfo::btf::Btf;

use super::*;

use kdive_debuginfo::btf::writer::BtfWriter;

/// SLUB's types as 6.1 lays them out (the members the walk reads).
fn btf() -> Btf {
    let mut b = BtfWriter::new();
    let ulong = b.raw("unsigned long", 1 << 24, 8, &[64]);
    let uint = b.raw("unsigned int", 1 << 24, 4, &[32]);
    let ptr = b.raw("", 2 << 24, 0, &[]);
    let list = b.st_bits(
        "list_head",
        16,
        &[("next", ptr, 0, 0), ("prev", ptr, 64, 0)],
    );
    let oo = b.st_bits("kmem_cache_order_objects", 4, &[("x", uint, 0, 0)]);
    let nodes = b.raw("", 3 << 24, 0, &[ptr, uint, 4]);
    b.st_bits(
        "kmem_cache",
        248,
        &[
            ("cpu_slab", ptr, 0, 0),
            ("flags", ulong, 64, 0),
            ("size", uint, 192, 0),
            ("object_size", uint, 224, 0),
            ("offset", uint, 320, 0),
            ("oo", oo, 416, 0),
            ("red_left_pad", uint, 704, 0),
            ("name", ptr, 768, 0),
            ("list", list, 832, 0),
            ("random", ulong, 1472, 0),
            ("node", nodes, 1728, 0),
        ],
    );
    b.st_bits(
        "kmem_cache_cpu",
        32,
        &[
            ("freelist", ptr, 0, 0),
            ("tid", ulong, 64, 0),
            ("slab", ptr, 128, 0),
            ("partial", ptr, 192, 0),
        ],
    );
    b.st_bits(
        "kmem_cache_node",
        64,
        &[
            ("nr_partial", ulong, 64, 0),
            ("partial", list, 128, 0),
            ("nr_slabs", ulong, 256, 0),
            ("total_objects", ulong, 320, 0),
            ("full", list, 384, 0),
        ],
    );
    b.st_bits(
        "slab",
        64,
        &[
            ("__page_flags", ulong, 0, 0),
            ("slab_list", list, 64, 0),
            ("next", ptr, 64, 0),
            ("slab_cache", ptr, 192, 0),
            ("freelist", ptr, 256, 0),
            ("inuse", uint, 320, 16),
            ("objects", uint, 336, 15),
            ("frozen", uint, 351, 1),
        ],
    );
    b.st_bits(
        "page",
        64,
        &[("flags", ulong, 0, 0), ("compound_head", ulong, 64, 0)],
    );
    let (locked, slab) = (b.str("PG_locked"), b.str("PG_slab"));
    b.raw("pageflags", (6 << 24) | 2, 4, &[locked, 0, slab, 9]);
    Btf::parse(&b.finish()).unwrap()
}

const PAGE_OFFSET: u64 = 0xffff_8880_0000_0000;
const VMEMMAP: u64 = 0xffff_ea00_0000_0000;
const CACHE: u64 = PAGE_OFFSET + 0x1000;
const NODE: u64 = PAGE_OFFSET + 0x2000;
const PERCPU: [u64; 2] = [PAGE_OFFSET + 0x800_0000, PAGE_OFFSET + 0x800_1000];
const CPU_SLAB: u64 = 0x40;
const HEAD: u64 = PAGE_OFFSET + 0x3000;
const RANDOM: u64 = 0x1234_5678_9abc_def0;
const SIZE: u64 = 64;
const OFFSET: u64 = 32;
/// The CPU 0 slab and the node's partial slab, by page frame.
const PFN_A: u64 = 0x100;
const PFN_B: u64 = 0x101;

fn page(pfn: u64) -> u64 {
    VMEMMAP + pfn * 64
}

fn obj(pfn: u64, i: u64) -> u64 {
    PAGE_OFFSET + pfn * PAGE_SIZE + i * SIZE
}

/// Made-up memory holding a SLUB (see [`crate::fake_mem`]).
#[derive(Default, Clone)]
struct Fake {
    mem: crate::fake_mem::FakeMem,
    /// Encode free pointers as before 5.7 (no byte-swapped address).
    plain: bool,
}

impl Fake {
    fn region(&mut self, base: u64, len: usize) {
        self.mem.region(base, len);
    }

    fn put(&mut self, addr: u64, v: u64) {
        self.mem.u64(addr, v);
    }

    /// Store `next` as the free pointer of `object`, scrambled.
    fn link(&mut self, object: u64, next: u64) {
        let at = object + OFFSET;
        let mix = if self.plain { at } else { at.swap_bytes() };
        self.put(at, next ^ RANDOM ^ mix);
    }

    /// A free list through `objects`, in order, ending in NULL.
    fn chain(&mut self, objects: &[u64]) {
        for (i, &o) in objects.iter().enumerate() {
            self.link(o, objects.get(i + 1).copied().unwrap_or(0));
        }
    }

    fn slab(&mut self, pfn: u64, freelist: u64, inuse: u32, frozen: bool) {
        let p = page(pfn);
        self.put(p, 1 << 9);
        self.put(p + 24, CACHE);
        self.put(p + 32, freelist);
        self.mem
            .u32(p + 40, inuse | (64 << 16) | (u32::from(frozen) << 31));
    }
}

impl crate::memory::Memory for Fake {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), crate::MemError> {
        self.mem.read(addr, buf)
    }

    fn read_cstr(&self, addr: u64, max: usize) -> Result<String, crate::MemError> {
        self.mem.read_cstr(addr, max)
    }
}

/// A healthy cache: CPU 0's slab A has objects 3, 5, 7 on the CPU's free
/// list; the node's partial slab B has 0 and 1 free; CPU 1 has nothing.
fn healthy() -> Fake {
    let mut m = Fake::default();
    m.region(HEAD, 16);
    m.region(CACHE, 248);
    m.region(NODE, 64);
    for base in PERCPU {
        m.region(base + CPU_SLAB, 32);
    }
    m.region(PAGE_OFFSET + 0x4000, 16);
    m.mem.write(PAGE_OFFSET + 0x4000, b"test");
    m.region(VMEMMAP + PFN_A * 64, 64 * 8);
    m.region(obj(PFN_A, 0), 8 * PAGE_SIZE as usize);
    // slab_caches -> the one cache.
    m.put(HEAD, CACHE + 104);
    m.put(HEAD + 8, CACHE + 104);
    m.put(CACHE + 104, HEAD);
    m.put(CACHE + 112, HEAD);
    m.put(CACHE, CPU_SLAB);
    m.mem.u32(CACHE + 24, SIZE as u32);
    m.mem.u32(CACHE + 28, 60);
    m.mem.u32(CACHE + 40, OFFSET as u32);
    m.mem.u32(CACHE + 52, 64);
    m.put(CACHE + 96, PAGE_OFFSET + 0x4000);
    m.put(CACHE + 184, RANDOM);
    m.put(CACHE + 216, NODE);
    // CPU 0: slab A, its free list on the CPU.
    m.slab(PFN_A, 0, 64, true);
    m.put(PERCPU[0] + CPU_SLAB, obj(PFN_A, 3));
    m.put(PERCPU[0] + CPU_SLAB + 16, page(PFN_A));
    m.chain(&[obj(PFN_A, 3), obj(PFN_A, 5), obj(PFN_A, 7)]);
    // Node 0: slab B on its partial list.
    m.slab(PFN_B, obj(PFN_B, 0), 62, false);
    m.chain(&[obj(PFN_B, 0), obj(PFN_B, 1)]);
    m.put(NODE + 8, 1);
    m.put(NODE + 16, page(PFN_B) + 8);
    m.put(NODE + 24, page(PFN_B) + 8);
    m.put(page(PFN_B) + 8, NODE + 16);
    m.put(page(PFN_B) + 16, NODE + 16);
    m.put(NODE + 32, 2);
    m.put(NODE + 40, 128);
    m
}

fn env() -> Env {
    Env {
        page_offset: PAGE_OFFSET,
        direct_size: 1 << 40,
        vmemmap: VMEMMAP,
        vmemmap_size: 1 << 40,
        cpu_offsets: PERCPU.iter().map(|&p| Some(p)).collect(),
        nr_node_ids: 1,
        node_spans: Vec::new(),
        slab_caches: Some(HEAD),
    }
}

/// The one cache of `m`, walked.
fn walk(m: &Fake) -> (Cache, CacheState) {
    let b = btf();
    let slub = Slub::new(
        m,
        Offsets::from_layouts(crate::offsets::test_layouts(&b)).unwrap(),
        env(),
    );
    let (addrs, list) = slub.cache_addrs();
    assert_eq!(addrs, vec![CACHE]);
    assert!(list.is_empty(), "{list:?}");
    let c = slub.cache(CACHE).unwrap();
    let st = slub.state(&c);
    (c, st)
}

fn free_objects(so: &SlabObjects, c: &Cache) -> Vec<u64> {
    so.objects(c).filter(|o| o.1).map(|o| o.0).collect()
}

#[test]
fn a_healthy_cache_has_crashs_counts_and_no_findings() {
    for plain in [false, true] {
        let mut m = healthy();
        m.plain = plain;
        // Scrambled the pre-5.7 way: the walk must learn which.
        m.chain(&[obj(PFN_A, 3), obj(PFN_A, 5), obj(PFN_A, 7)]);
        m.chain(&[obj(PFN_B, 0), obj(PFN_B, 1)]);
        let (c, st) = walk(&m);
        assert_eq!(
            (c.name.as_str(), c.objects, c.order, c.slab_bytes()),
            ("test", 64, 0, 4096)
        );
        assert!(st.findings.is_empty(), "{:#?}", st.findings);
        let cpu = st.cpus[0].slab.as_ref().unwrap();
        assert_eq!(free_objects(cpu, &c), [3, 5, 7].map(|i| obj(PFN_A, i)));
        assert_eq!((cpu.cpu, cpu.allocated, cpu.cpu_free), (Some(0), 61, 3));
        assert!(st.cpus[1].slab.is_none());
        let part = &st.nodes[0].partial;
        assert_eq!(part.len(), 1);
        assert_eq!(free_objects(&part[0], &c), [0, 1].map(|i| obj(PFN_B, i)));
        assert_eq!(st.nodes[0].per_cpu, 1);
        assert!(st.nodes[0].full.is_none());
        let want = Usage {
            allocated: 128 - 3 - 2,
            total: 128,
            slabs: 2,
        };
        assert_eq!(st.usage, want);
    }
}

#[test]
fn a_freelist_loop_is_reported_and_the_walk_goes_on() {
    let mut m = healthy();
    // 7 -> 3 again.
    m.link(obj(PFN_A, 7), obj(PFN_A, 3));
    let (c, st) = walk(&m);
    assert_eq!(st.findings.len(), 1, "{:#?}", st.findings);
    let f = &st.findings[0];
    assert_eq!(
        (f.place, f.addr, f.kind),
        (Place::Cpu(0), obj(PFN_A, 3), Kind::Corrupt)
    );
    assert!(f.what.contains("already on a free list"), "{f}");
    assert!(
        f.to_string().contains(&format!("{:x}", obj(PFN_A, 7))),
        "{f}"
    );
    // What was found before the loop stays free; the node is still read.
    assert_eq!(free_objects(st.cpus[0].slab.as_ref().unwrap(), &c).len(), 3);
    assert_eq!(st.nodes[0].partial.len(), 1);
}

#[test]
fn a_pointer_between_objects_is_reported() {
    let mut m = healthy();
    m.link(obj(PFN_A, 5), obj(PFN_A, 7) + 8);
    let (_, st) = walk(&m);
    assert_eq!(st.findings.len(), 1, "{:#?}", st.findings);
    let f = &st.findings[0];
    assert_eq!((f.place, f.addr), (Place::Cpu(0), obj(PFN_A, 7) + 8));
    assert!(f.what.contains("not on an object boundary"), "{f}");
}

#[test]
fn a_pointer_outside_the_slab_is_reported() {
    // The head itself (what the seed crash has), then a link into the
    // node's slab, then a node slab's link to garbage.
    let mut m = healthy();
    m.put(PERCPU[0] + CPU_SLAB, 0x4141_4141_4141_4141);
    m.link(obj(PFN_B, 0), obj(PFN_A, 9));
    let (_, st) = walk(&m);
    let places: Vec<(Place, u64)> = st.findings.iter().map(|f| (f.place, f.addr)).collect();
    assert_eq!(
        places,
        vec![
            (Place::Cpu(0), 0x4141_4141_4141_4141),
            (Place::NodePartial(0), obj(PFN_A, 9))
        ],
        "{:#?}",
        st.findings
    );
    assert!(st.findings.iter().all(|f| f.what.contains("not in slab")));
    assert!(st.findings[0]
        .what
        .starts_with("freelist head 4141414141414141"));
    // Nothing on CPU 0's list: all 64 allocated, as crash counts it.
    assert_eq!(st.cpus[0].slab.as_ref().unwrap().allocated, 64);
    // Each names its slab; the whole-allocator check finds the same.
    let slabs: Vec<_> = st.findings.iter().map(|f| f.slab).collect();
    assert_eq!(slabs, [Some(page(PFN_A)), Some(page(PFN_B))]);
    let b = btf();
    let slub = Slub::new(
        &m,
        Offsets::from_layouts(crate::offsets::test_layouts(&b)).unwrap(),
        env(),
    );
    assert_eq!(slub.check(), st.findings);
}

#[test]
fn a_list_that_does_not_link_back_or_loops_is_reported() {
    let mut m = healthy();
    m.put(page(PFN_B) + 16, 0xdead_0000);
    let (_, st) = walk(&m);
    assert_eq!(st.findings.len(), 1, "{:#?}", st.findings);
    assert!(st.findings[0].what.contains("its prev is dead0000"));
    assert_eq!(st.nodes[0].partial.len(), 1);

    // B's next is B: the list never comes back to its head.
    let mut m = healthy();
    m.put(page(PFN_B) + 8, page(PFN_B) + 8);
    let (_, st) = walk(&m);
    assert!(
        st.findings.iter().any(|f| f.what.contains("loops back")),
        "{:#?}",
        st.findings
    );
    assert_eq!(st.nodes[0].partial.len(), 1);

    // A per-CPU partial list through slab->next that comes back.
    let mut m = healthy();
    m.put(PERCPU[1] + CPU_SLAB + 24, page(PFN_B));
    m.put(page(PFN_B) + 8, page(PFN_B));
    let (_, st) = walk(&m);
    assert_eq!(st.cpus[1].partial.len(), 1);
    assert!(st
        .findings
        .iter()
        .any(|f| f.place == Place::CpuPartial(1) && f.what.contains("loops")));
}

#[test]
fn a_missing_slab_page_is_unreadable_not_corrupt() {
    let mut m = healthy();
    // The partial list's entry is a page the dump does not hold.
    let far = page(0x9999) + 8;
    m.put(NODE + 16, far);
    let (_, st) = walk(&m);
    assert!(!st.findings.is_empty());
    assert!(
        st.findings.iter().all(|f| f.kind == Kind::Unreadable),
        "{:#?}",
        st.findings
    );
    // Not a page at all: corrupt.
    let mut m = healthy();
    m.put(NODE + 16, CACHE + 104);
    let (_, st) = walk(&m);
    assert!(st
        .findings
        .iter()
        .any(|f| f.kind == Kind::Corrupt && f.what.contains("not a struct page")));
}

#[test]
fn an_address_finds_its_slab_and_object() {
    let m = healthy();
    let b = btf();
    let slub = Slub::new(
        &m,
        Offsets::from_layouts(crate::offsets::test_layouts(&b)).unwrap(),
        env(),
    );
    let hit = slub.find(obj(PFN_A, 5) + 10).unwrap();
    assert_eq!((hit.cache.addr, hit.slab.addr), (CACHE, page(PFN_A)));
    assert_eq!(hit.object, Some((obj(PFN_A, 5), 5)));
    let hit = slub.find(page(PFN_B)).unwrap();
    assert_eq!((hit.slab.addr, hit.object), (page(PFN_B), None));
    // A page without PG_slab is no slab.
    assert!(slub.find(obj(PFN_A + 2, 0)).is_none());
}
