//! The path walk on made-up dentries and mounts: a file on a file system
//! mounted under the root, a name stored in the dentry, a mount root, and
//! the damage a dump can hold (a loop, a dentry that does not read).

use super::*;
use crate::fake_mem::FakeMem;

const D: u64 = 0xffff_8880_0100_0000;
const M: u64 = 0xffff_8880_0200_0000;
const NAMES: u64 = 0xffff_8880_0300_0000;

fn offsets() -> PathOffsets {
    PathOffsets {
        d_parent: 24,
        d_name_len: 36,
        d_name_name: 40,
        d_inode: 48,
        d_iname: Some(56),
        mounts: MountOffsets::Mount {
            mnt: 32,
            parent: 16,
            mountpoint: 24,
            devname: None,
        },
    }
}

fn dentry(i: u64) -> u64 {
    D + i * 0x100
}

fn mount(i: u64) -> u64 {
    M + i * 0x100
}

fn vfsmnt(i: u64) -> u64 {
    mount(i) + 32
}

/// A dentry named `name` (stored in the dentry when `inline`).
fn put(m: &mut FakeMem, i: u64, parent: u64, name: &str, inline: bool) {
    let d = dentry(i);
    m.u64(d + 24, dentry(parent));
    m.u32(d + 36, name.len() as u32);
    let at = if inline { d + 56 } else { NAMES + i * 0x40 };
    m.str(at, name);
    m.u64(d + 40, at);
    m.u64(d + 48, 0x1234);
}

/// Root fs: 0 "/" with 1 "proc" and 2 "bin"; procfs: 3 "/" with 4
/// "sysrq-trigger", mounted on 1. Mount 0 is its own parent.
fn tree() -> FakeMem {
    let mut m = FakeMem::default();
    put(&mut m, 0, 0, "/", true);
    put(&mut m, 1, 0, "proc", true);
    put(&mut m, 2, 0, "bin", false);
    put(&mut m, 3, 3, "/", true);
    put(&mut m, 4, 3, "sysrq-trigger", false);
    m.u64(mount(0) + 16, mount(0));
    m.u64(mount(0) + 24, dentry(0));
    m.u64(mount(1) + 16, mount(0));
    m.u64(mount(1) + 24, dentry(1));
    m
}

#[test]
fn paths_through_mounts() {
    let m = tree();
    let o = offsets();
    assert_eq!(
        dentry_path(&m, dentry(4), vfsmnt(1), &o).unwrap(),
        "/proc/sysrq-trigger"
    );
    assert_eq!(dentry_path(&m, dentry(2), vfsmnt(0), &o).unwrap(), "/bin");
    assert_eq!(dentry_path(&m, dentry(0), vfsmnt(0), &o).unwrap(), "/");
    // Without the mount, the path stops at the file system's root.
    assert_eq!(dentry_path(&m, dentry(4), 0, &o).unwrap(), "/sysrq-trigger");
    // A mount's root is named as crash names it: with a slash after.
    assert_eq!(dentry_path(&m, dentry(3), vfsmnt(1), &o).unwrap(), "/proc/");
}

#[test]
fn a_name_of_the_wrong_length_ends_the_path() {
    let mut m = tree();
    let o = offsets();
    m.u32(dentry(1) + 36, 9);
    assert_eq!(
        dentry_path(&m, dentry(4), vfsmnt(1), &o).unwrap(),
        "/sysrq-trigger"
    );
}

#[test]
fn loops_and_unreadable_dentries_are_errors() {
    let mut m = tree();
    let o = offsets();
    // 1 and 2 each other's parent.
    m.u64(dentry(1) + 24, dentry(2));
    m.u64(dentry(2) + 24, dentry(1));
    let e = dentry_path(&m, dentry(2), vfsmnt(0), &o)
        .unwrap_err()
        .to_string();
    assert!(e.contains("loop"), "{e}");
    let e = dentry_path(&m, 0xffff_8880_0900_0000, vfsmnt(0), &o).unwrap_err();
    assert!(matches!(e, crate::Error::Read { .. }), "{e:?}");
    let e = e.to_string();
    assert!(e.contains("ffff888009000000"), "{e}");
    // A mount that is not its own parent and never reaches one: a loop.
    let mut m = tree();
    m.u64(mount(0) + 16, mount(1));
    m.u64(mount(0) + 24, dentry(3));
    let e = dentry_path(&m, dentry(4), vfsmnt(1), &o).unwrap_err();
    assert!(matches!(e, crate::Error::Corrupt { .. }), "{e:?}");
    let e = e.to_string();
    assert!(e.contains("loop"), "{e}");
}
