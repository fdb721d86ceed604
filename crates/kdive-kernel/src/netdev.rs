//! Network devices of a network namespace and their IPv4 addresses, as
//! crash 8.0.2's `net` finds them: the namespace of a task's
//! `nsproxy->net_ns` (or `init_net`), its `dev_base_head` list of
//! `struct net_device`s by `dev_list`, and each device's
//! `ip_ptr->ifa_list` chain of `struct in_ifaddr`.

use crate::offsets::Layouts;
use crate::{Error, Kernel};

/// At most this many addresses are read from one device.
const MAX_ADDRS: usize = 4096;

/// One network device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetDevice {
    /// The `struct net_device`.
    pub addr: u64,
    pub name: String,
    /// IPv4 addresses in `ifa_list` order, as stored (network byte order).
    pub ipv4: Vec<[u8; 4]>,
}

impl Kernel {
    /// The network namespace of `task` (a `task_struct`), or of the first
    /// task (`init_task`, crash's PID 0) when `None`.
    pub fn net_namespace(&self, task: Option<u64>) -> Result<u64, Error> {
        let l = Layouts::of(self)?;
        let task = match task {
            Some(t) => t,
            None => self
                .symbol("init_task")
                .ok_or_else(|| Error::no_symbol("init_task"))?,
        };
        let (Ok(nsproxy_off), Ok(net_off)) =
            (l.off("task_struct", "nsproxy"), l.off("nsproxy", "net_ns"))
        else {
            return self
                .symbol("init_net")
                .ok_or_else(|| Error::no_symbol("init_net"));
        };
        let nsproxy = self
            .read_u64(task + nsproxy_off)
            .map_err(|e| Error::read("task_struct.nsproxy", e))?;
        self.read_u64(nsproxy + net_off)
            .map_err(|e| Error::Undetermined {
                what: "net_namespace location!".into(),
                source: Some(e),
            })
    }

    /// The devices of network namespace `net` (a `struct net`), in
    /// `dev_base_head` order, and what could not be read.
    pub fn net_devices(&self, net: u64) -> Result<(Vec<NetDevice>, Vec<crate::Finding>), Error> {
        let l = Layouts::of(self)?;
        let head = net + l.off("net", "dev_base_head")?;
        let dev_list = l.off("net_device", "dev_list")?;
        let name_off = l.off("net_device", "name")?;
        let ip_ptr = l.off("net_device", "ip_ptr")?;
        let ifa_list = l.off("in_device", "ifa_list")?;
        let ifa_address = l.off("in_ifaddr", "ifa_address")?;
        let ifa_next = l.off("in_ifaddr", "ifa_next")?;
        let mut notices = Vec::new();
        let nodes = crate::tasks::list::list_nodes(self, head, "net.dev_base_head", &mut notices);
        let mut out = Vec::new();
        for n in nodes {
            let addr = n.wrapping_sub(dev_list);
            let name = match self.read_cstr(addr + name_off, 16) {
                Ok(s) => s,
                Err(e) => {
                    notices.push(crate::Finding::unreadable(
                        addr,
                        format!("net_device {addr:x}: {e}"),
                    ));
                    continue;
                }
            };
            let mut ipv4 = Vec::new();
            let mut ifa = self
                .read_u64(addr + ip_ptr)
                .ok()
                .filter(|&p| p != 0)
                .and_then(|p| self.read_u64(p + ifa_list).ok())
                .unwrap_or(0);
            while ifa != 0 && ipv4.len() < MAX_ADDRS {
                let mut a = [0u8; 4];
                if let Err(e) = self.read(ifa + ifa_address, &mut a) {
                    notices.push(crate::Finding::unreadable(
                        ifa,
                        format!("net_device {addr:x}: in_ifaddr {ifa:x}: {e}"),
                    ));
                    break;
                }
                ipv4.push(a);
                ifa = match self.read_u64(ifa + ifa_next) {
                    Ok(x) => x,
                    Err(e) => {
                        notices.push(crate::Finding::unreadable(
                            ifa,
                            format!("net_device {addr:x}: in_ifaddr {ifa:x}: {e}"),
                        ));
                        break;
                    }
                };
            }
            out.push(NetDevice { addr, name, ipv4 });
        }
        Ok((out, notices))
    }
}
