//! The walk on a made-up SLUB of Linux 7.x: per-CPU sheaves and a barn,
//! no per-CPU slab, `per_node[]`, `compound_info` and `page_type`. A
//! healthy cache first, then damaged one way at a time: an object freed
//! twice, a sheaf of another cache, an overfull sheaf, an object in two
//! sheaves, an object of no slab, a sheaf the dump lacks.

use kdive_debuginfo::btf::writer::BtfWriter;
use kdive_debuginfo::btf::Btf;

use super::*;

/// SLUB's types as 7.3 lays them out (the members the walk reads).
fn btf() -> Btf {
    let mut b = BtfWriter::new();
    let ulong = b.int("unsigned long", 8, false);
    let uint = b.int("unsigned int", 4, false);
    let ptr = b.ptr(0);
    let list = b.st("list_head", 16, &[("next", ptr, 0), ("prev", ptr, 8)]);
    let oo = b.st("kmem_cache_order_objects", 4, &[("x", uint, 0)]);
    let pn = b.st(
        "kmem_cache_per_node_ptrs",
        16,
        &[("barn", ptr, 0), ("node", ptr, 8)],
    );
    let per_node = b.array(pn, uint, 4);
    let objects = b.array(ptr, uint, 0);
    b.st(
        "kmem_cache",
        272,
        &[
            ("cpu_sheaves", ptr, 0),
            ("flags", ulong, 8),
            ("size", uint, 24),
            ("object_size", uint, 28),
            ("offset", uint, 40),
            ("sheaf_capacity", uint, 44),
            ("oo", oo, 48),
            ("red_left_pad", uint, 80),
            ("name", ptr, 88),
            ("list", list, 96),
            ("random", ulong, 176),
            ("per_node", per_node, 208),
        ],
    );
    b.st(
        "slub_percpu_sheaves",
        32,
        &[
            ("lock", ulong, 0),
            ("main", ptr, 8),
            ("spare", ptr, 16),
            ("rcu_free", ptr, 24),
        ],
    );
    b.st(
        "slab_sheaf",
        32,
        &[
            ("barn_list", list, 0),
            ("cache", ptr, 16),
            ("size", uint, 24),
            ("objects", objects, 32),
        ],
    );
    b.st(
        "node_barn",
        48,
        &[
            ("lock", ulong, 0),
            ("sheaves_full", list, 8),
            ("sheaves_empty", list, 24),
            ("nr_full", uint, 40),
            ("nr_empty", uint, 44),
        ],
    );
    b.st(
        "kmem_cache_node",
        64,
        &[
            ("nr_partial", ulong, 8),
            ("partial", list, 16),
            ("nr_slabs", ulong, 32),
            ("total_objects", ulong, 40),
            ("full", list, 48),
        ],
    );
    b.st_bits(
        "slab",
        64,
        &[
            ("flags", ulong, 0, 0),
            ("slab_cache", ptr, 64, 0),
            ("slab_list", list, 128, 0),
            ("freelist", ptr, 256, 0),
            ("inuse", uint, 320, 16),
            ("objects", uint, 336, 15),
            ("frozen", uint, 351, 1),
        ],
    );
    b.st(
        "page",
        64,
        &[
            ("flags", ulong, 0),
            ("compound_info", ulong, 8),
            ("page_type", uint, 48),
        ],
    );
    b.enumeration("pagetype", &[("PGTY_buddy", 0xf0), ("PGTY_slab", 0xf5)]);
    b.enumeration(
        "_slab_flag_bits",
        &[("_SLAB_RED_ZONE", 1), ("_SLAB_STORE_USER", 7)],
    );
    Btf::parse(&b.finish()).unwrap()
}

const PAGE_OFFSET: u64 = 0xffff_8880_0000_0000;
const VMEMMAP: u64 = 0xffff_ea00_0000_0000;
const HEAD: u64 = PAGE_OFFSET + 0x3000;
const CACHE: u64 = PAGE_OFFSET + 0x1000;
const NODE: u64 = PAGE_OFFSET + 0x2000;
const SHEAF0: u64 = PAGE_OFFSET + 0x5000;
const SPARE0: u64 = PAGE_OFFSET + 0x9000;
const FULL: u64 = PAGE_OFFSET + 0x6000;
const BOOT: u64 = PAGE_OFFSET + 0x6800;
const BARN: u64 = PAGE_OFFSET + 0x7000;
const PERCPU: [u64; 2] = [PAGE_OFFSET + 0x800_0000, PAGE_OFFSET + 0x800_1000];
const PCS: u64 = 0x40;
const RANDOM: u64 = 0x1234_5678_9abc_def0;
const SIZE: u64 = 64;
const OFFSET: u64 = 32;
/// A full slab on no list, and the node's partial slab.
const PFN_A: u64 = 0x100;
const PFN_B: u64 = 0x101;
/// A page that is no slab.
const PFN_C: u64 = 0x102;

fn page(pfn: u64) -> u64 {
    VMEMMAP + pfn * 64
}

fn obj(pfn: u64, i: u64) -> u64 {
    PAGE_OFFSET + pfn * PAGE_SIZE + i * SIZE
}

#[derive(Default, Clone)]
struct Fake {
    mem: crate::fake_mem::FakeMem,
}

impl crate::memory::Memory for Fake {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), crate::MemError> {
        self.mem.read(addr, buf)
    }

    fn read_cstr(&self, addr: u64, max: usize) -> Result<String, crate::MemError> {
        self.mem.read_cstr(addr, max)
    }
}

impl Fake {
    fn put(&mut self, addr: u64, v: u64) {
        self.mem.u64(addr, v);
    }

    fn slab(&mut self, pfn: u64, freelist: u64, inuse: u32) {
        let p = page(pfn);
        self.put(p + 8, CACHE);
        self.put(p + 32, freelist);
        self.mem.u32(p + 40, inuse | (64 << 16));
        self.mem.u32(p + 48, 0xf500_0000);
    }

    /// Store `next` as the scrambled free pointer of `object`.
    fn link(&mut self, object: u64, next: u64) {
        let at = object + OFFSET;
        self.put(at, next ^ RANDOM ^ at.swap_bytes());
    }

    fn sheaf(&mut self, at: u64, cache: u64, objects: &[u64]) {
        self.put(at + 16, cache);
        self.mem.u32(at + 24, objects.len() as u32);
        for (i, &o) in objects.iter().enumerate() {
            self.put(at + 32 + 8 * i as u64, o);
        }
    }

    /// An empty list head at `at`, or one with the single entry `entry`.
    fn list(&mut self, at: u64, entry: Option<u64>) {
        let e = entry.unwrap_or(at);
        self.put(at, e);
        self.put(at + 8, e);
        if entry.is_some() {
            self.put(e, at);
            self.put(e + 8, at);
        }
    }
}

/// CPU 0's main sheaf holds A3 and A5, its spare is empty; CPU 1 has the
/// bootstrap sheaf; the barn has one full sheaf holding B7; the node's
/// partial slab B has B0 and B1 on its free list.
fn healthy() -> Fake {
    let mut m = Fake::default();
    m.mem.region(PAGE_OFFSET + 0x4000, 16);
    m.mem.write(PAGE_OFFSET + 0x4000, b"test");
    m.mem.region(obj(PFN_A, 0), 3 * PAGE_SIZE as usize);
    m.list(HEAD, Some(CACHE + 96));
    m.put(CACHE, PCS);
    m.mem.u32(CACHE + 24, SIZE as u32);
    m.mem.u32(CACHE + 28, 60);
    m.mem.u32(CACHE + 40, OFFSET as u32);
    m.mem.u32(CACHE + 44, 4);
    m.mem.u32(CACHE + 48, 64);
    m.put(CACHE + 88, PAGE_OFFSET + 0x4000);
    m.put(CACHE + 176, RANDOM);
    m.put(CACHE + 208, BARN);
    m.put(CACHE + 216, NODE);
    m.put(PERCPU[0] + PCS + 8, SHEAF0);
    m.put(PERCPU[0] + PCS + 16, SPARE0);
    m.put(PERCPU[0] + PCS + 24, 0);
    m.put(PERCPU[1] + PCS + 8, BOOT);
    m.sheaf(SHEAF0, CACHE, &[obj(PFN_A, 3), obj(PFN_A, 5)]);
    m.sheaf(SPARE0, CACHE, &[]);
    m.sheaf(BOOT, 0, &[]);
    m.sheaf(FULL, CACHE, &[obj(PFN_B, 7)]);
    m.list(BARN + 8, Some(FULL));
    m.list(BARN + 24, None);
    m.mem.u32(BARN + 40, 1);
    m.slab(PFN_A, 0, 64);
    m.slab(PFN_B, obj(PFN_B, 0), 62);
    m.link(obj(PFN_B, 0), obj(PFN_B, 1));
    m.link(obj(PFN_B, 1), 0);
    m.put(page(PFN_C) + 48, 0xffff_ffff);
    m.put(NODE + 8, 1);
    m.list(NODE + 16, Some(page(PFN_B) + 16));
    m.put(NODE + 32, 2);
    m.put(NODE + 40, 128);
    m.list(NODE + 48, None);
    m
}

fn walk(m: &Fake) -> (Cache, CacheState) {
    let b = btf();
    let env = Env {
        page_offset: PAGE_OFFSET,
        direct_size: 1 << 40,
        vmemmap: VMEMMAP,
        vmemmap_size: 1 << 40,
        cpu_offsets: PERCPU.iter().map(|&p| Some(p)).collect(),
        nr_node_ids: 1,
        node_spans: Vec::new(),
        slab_caches: Some(HEAD),
    };
    let slub = Slub::new(
        m,
        Offsets::from_layouts(crate::offsets::test_layouts(&b)).unwrap(),
        env,
    );
    let (addrs, list) = slub.cache_addrs();
    assert_eq!(addrs, vec![CACHE]);
    assert!(list.is_empty(), "{list:?}");
    let c = slub.cache(CACHE).unwrap();
    let st = slub.state(&c);
    (c, st)
}

/// The one finding of `st`.
fn only(st: &CacheState) -> &Finding {
    assert_eq!(st.findings.len(), 1, "{:#?}", st.findings);
    &st.findings[0]
}

#[test]
fn sheaves_count_as_free_and_mark_their_objects() {
    let (c, st) = walk(&healthy());
    assert!(st.findings.is_empty(), "{:#?}", st.findings);
    assert!(st.cpus.is_empty());
    assert_eq!(
        (c.sheaf_capacity, c.nodes.clone(), c.barns.clone()),
        (4, vec![(0, NODE)], vec![(0, BARN)])
    );
    let main = st.sheaves[0].main.as_ref().unwrap();
    assert_eq!(main.objects, [obj(PFN_A, 3), obj(PFN_A, 5)]);
    assert_eq!(st.sheaves[0].spare.as_ref().unwrap().objects, []);
    assert!(st.sheaves[0].rcu_free.is_none());
    assert_eq!(st.sheaves[1].main.as_ref().unwrap().objects, []);
    let barn = st.nodes[0].barn.as_ref().unwrap();
    assert_eq!((barn.nr_full, barn.full.len()), (1, 1));
    // B: B0, B1 free on its list, B7 in the barn: allocated 62 - 1.
    let b = &st.nodes[0].partial[0];
    assert_eq!(b.held, [(7, SheafHolder::Barn(0))]);
    assert_eq!(b.allocated, 61);
    assert!(b.free[0] && b.free[1] && b.free[7]);
    // Free: 2 on B's list, 3 in sheaves.
    let want = Usage {
        allocated: 128 - 2 - 3,
        total: 128,
        slabs: 2,
    };
    assert_eq!(st.usage, want);
}

#[test]
fn an_object_in_a_sheaf_and_on_its_slabs_free_list_is_freed_twice() {
    let mut m = healthy();
    m.sheaf(SHEAF0, CACHE, &[obj(PFN_A, 3), obj(PFN_B, 1)]);
    let (_, st) = walk(&m);
    let f = only(&st);
    assert_eq!(
        (f.place, f.addr, f.kind),
        (Place::CpuSheaves(0), obj(PFN_B, 1), Kind::Corrupt)
    );
    assert!(f.what.contains("freed twice"), "{f}");
}

#[test]
fn a_sheaf_of_another_cache_or_overfull_is_reported() {
    let mut m = healthy();
    m.sheaf(SHEAF0, CACHE + 0x100, &[obj(PFN_A, 3)]);
    let (_, st) = walk(&m);
    let f = only(&st);
    assert_eq!((f.place, f.addr), (Place::CpuSheaves(0), SHEAF0));
    assert!(f.what.contains("belongs to cache"), "{f}");
    assert!(st.sheaves[0].main.is_none());

    let mut m = healthy();
    let five: Vec<u64> = (10..15).map(|i| obj(PFN_A, i)).collect();
    m.sheaf(SHEAF0, CACHE, &five);
    let (_, st) = walk(&m);
    assert!(only(&st)
        .what
        .contains("holds 5 objects, its cache's capacity is 4"));
    assert_eq!(st.sheaves[0].main.as_ref().unwrap().objects, five[..4]);
}

#[test]
fn an_object_in_two_sheaves_or_of_no_slab_is_reported() {
    let mut m = healthy();
    m.sheaf(FULL, CACHE, &[obj(PFN_A, 5)]);
    let (_, st) = walk(&m);
    assert!(
        only(&st).what.contains("is in two sheaves"),
        "{:#?}",
        st.findings
    );

    let mut m = healthy();
    m.sheaf(SHEAF0, CACHE, &[obj(PFN_C, 0)]);
    let (_, st) = walk(&m);
    let f = only(&st);
    assert_eq!((f.addr, f.kind), (obj(PFN_C, 0), Kind::Corrupt));
    assert!(f.what.contains("not an object of a slab cache"), "{f}");
}

#[test]
fn a_sheaf_the_dump_lacks_is_unreadable_and_the_walk_goes_on() {
    let mut m = healthy();
    m.mem.hole(SHEAF0);
    let (_, st) = walk(&m);
    let f = only(&st);
    assert_eq!((f.place, f.kind), (Place::CpuSheaves(0), Kind::Unreadable));
    assert!(st.sheaves[0].main.as_ref().unwrap().unreadable);
    assert_eq!(st.nodes[0].partial.len(), 1);
    // Only the barn's object and B's list are known free.
    assert_eq!(st.usage.allocated, 128 - 2 - 1);
}

#[test]
fn a_tail_page_finds_its_head_by_mask() {
    let mut m = healthy();
    // An order-1 slab at C: its second page's compound_info is the mask
    // of an order-1 folio of 64-byte pages, tail bit set.
    m.slab(PFN_C, 0, 64);
    m.mem.u32(page(PFN_C) + 40, 128 | (128 << 16));
    m.mem.region(obj(PFN_C + 1, 0), PAGE_SIZE as usize);
    m.put(page(PFN_C + 1) + 8, !((1u64 << 7) - 1) | 1);
    let (c, _) = walk(&m);
    let b = btf();
    let env = Env {
        page_offset: PAGE_OFFSET,
        direct_size: 1 << 40,
        vmemmap: VMEMMAP,
        vmemmap_size: 1 << 40,
        cpu_offsets: Vec::new(),
        nr_node_ids: 1,
        node_spans: Vec::new(),
        slab_caches: Some(HEAD),
    };
    let slub = Slub::new(
        &m,
        Offsets::from_layouts(crate::offsets::test_layouts(&b)).unwrap(),
        env,
    );
    let hit = slub.find(obj(PFN_C + 1, 2)).unwrap();
    assert_eq!(
        (hit.cache.addr, hit.slab.addr, hit.page),
        (c.addr, page(PFN_C), page(PFN_C + 1))
    );
    assert_eq!(hit.object, Some((obj(PFN_C + 1, 2), 66)));
}
