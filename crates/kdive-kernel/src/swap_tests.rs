//! The swap walk on made-up memory: a swap file on a mounted file system,
//! a partition on devtmpfs, a free slot, and an unreadable one.

use super::*;
use crate::radix_tree::tests::Fake;

/// Made-up offsets (6.1's sizes: flags 8 bytes, prio 2, counts 4).
const O: SwapOffsets = SwapOffsets {
    flags: (0, 8),
    prio: (8, 2),
    pages: (12, 4),
    inuse: (16, 4),
    old_block_size: Some((20, 4)),
    swap_file: 24,
    f_dentry: 0,
    f_mnt: 8,
    d_parent: 0,
    d_name: 8,
    mnt_root: 0,
    m_mnt: 32,
    m_parent: 0,
    m_point: 8,
    m_dev: 16,
};
const BASE: u64 = 0xffff_8880_0100_0000;

fn at(i: u64) -> u64 {
    BASE + i * 0x100
}

fn put_str(m: &mut Fake, addr: u64, s: &str) {
    for (i, b) in s.bytes().chain([0]).enumerate() {
        m.u8(addr + i as u64, b);
    }
}

/// A dentry named `name` at `at(i)`, under `parent` (itself for a root).
fn dentry(m: &mut Fake, i: u64, parent: u64, name: &str) -> u64 {
    let d = at(i);
    m.u64(d, if parent == 0 { d } else { parent });
    m.u64(d + 8, d + 0x40);
    put_str(m, d + 0x40, name);
    d
}

/// A mount at `at(i)`: root dentry, parent mount, mount point, devname.
fn mount(m: &mut Fake, i: u64, root: u64, parent: u64, point: u64, dev: &str) -> u64 {
    let mnt = at(i);
    m.u64(mnt, if parent == 0 { mnt } else { parent });
    m.u64(mnt + 8, point);
    m.u64(mnt + 16, mnt + 0x60);
    put_str(m, mnt + 0x60, dev);
    m.u64(mnt + 32, root);
    mnt
}

fn area(m: &mut Fake, i: u64, used: bool, prio: i16, block: u32, file: u64) -> u64 {
    let a = at(i);
    m.u64(a, u64::from(used) | 2);
    m.u16(a + 8, prio as u16);
    m.u32(a + 12, 262_144);
    m.u32(a + 16, 65_536);
    m.u32(a + 20, block);
    m.u64(a + 24, file);
    a
}

#[test]
fn swap_areas_with_their_paths() {
    let mut m = Fake::default();
    m.region(BASE, 0x4000);
    // "/" (rootfs), "/var" on it, a file system mounted on /var holding
    // "swap/file"; devtmpfs (its own root) holding "vda2".
    let root = dentry(&mut m, 1, 0, "/");
    let var = dentry(&mut m, 2, root, "var");
    let rootmnt = mount(&mut m, 3, root, 0, root, "/dev/vda1");
    let fsroot = dentry(&mut m, 4, 0, "/");
    let dir = dentry(&mut m, 5, fsroot, "swap");
    let file_d = dentry(&mut m, 6, dir, "file");
    let varmnt = mount(&mut m, 7, fsroot, rootmnt, var, "/dev/vdb");
    let file = at(8);
    m.u64(file, file_d);
    m.u64(file + 8, varmnt + 32);
    let devroot = dentry(&mut m, 9, 0, "/");
    let vda2 = dentry(&mut m, 10, devroot, "vda2");
    let devmnt = mount(&mut m, 11, devroot, 0, devroot, "devtmpfs");
    let part = at(12);
    m.u64(part, vda2);
    m.u64(part + 8, devmnt + 32);

    let info = at(20);
    let a0 = area(&mut m, 21, true, -2, 0, file);
    let a2 = area(&mut m, 22, true, 5, 4096, part);
    let free = area(&mut m, 23, false, 0, 0, 0);
    m.u64(info, a0);
    m.u64(info + 8, 0);
    m.u64(info + 16, a2);
    m.u64(info + 24, free);
    // Memory the dump lacks.
    m.u64(info + 32, 0xffff_8880_0900_0000);

    let (areas, notices) = swap_areas(&m, &O, info, 5);
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(
        notices[0]
            .text
            .starts_with("swap_info[4] ffff888009000000: "),
        "{notices:?}"
    );
    let want = |addr, partition, prio, path: &str| SwapArea {
        addr,
        partition,
        pages: 262_144,
        used: 65_536,
        prio,
        path: Some(path.to_string()),
    };
    assert_eq!(
        areas,
        vec![
            want(a0, false, -2, "/var/swap/file"),
            want(a2, true, 5, "/dev/vda2")
        ]
    );
}
