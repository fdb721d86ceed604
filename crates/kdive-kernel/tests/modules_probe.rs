use kdive_kernel::{Kernel, VmlinuxChoice};
use kdive_debuginfo::btf::{Btf, Kind};
use std::path::Path;
use std::time::Instant;
#[test]
fn probe() {
    let c = &kdive_testkit::crashes()[1];
    let p = c.variant("kdump-zlib").unwrap();
    let k = Kernel::open_with(p, VmlinuxChoice::Given(Path::new("/usr/lib/debug/boot/vmlinux-6.1.0-47-cloud-amd64"))).unwrap();
    let sec = k.vmlinux_file().unwrap().section(".BTF").unwrap();
    for _ in 0..3 {
        let t = Instant::now();
        let b = Btf::parse(sec).unwrap();
        let t1 = t.elapsed();
        let m = b.find("module", Kind::Struct);
        let t2 = t.elapsed();
        let o = b.member_offset("module", "core_layout.size");
        let t3 = t.elapsed();
        let e = b.enumerator("MODULE_STATE_COMING");
        let t4 = t.elapsed();
        eprintln!("parse {t1:?} +index {t2:?} +member {t3:?} +enumerator {t4:?} {m:?} {o:?} {e:?} types {}", b.len());
    }
    let (s, e) = (k.symbol("__start_BTF").unwrap(), k.symbol("__stop_BTF").unwrap());
    let t = Instant::now();
    let mut buf = vec![0u8; (e - s) as usize];
    k.read(s, &mut buf).unwrap();
    eprintln!("read from dump {:?} {} bytes, same as vmlinux: {}", t.elapsed(), buf.len(), buf == sec);
}
