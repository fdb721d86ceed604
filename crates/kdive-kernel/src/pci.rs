//! PCI buses and devices, as crash 8.0.2's `dev -p` walks them: the
//! `pci_root_buses` list, each bus's `devices` (by `bus_list`) and its
//! child buses (`children`, by `node`), depth first.

use crate::offsets::Layouts;
use crate::{Error, Kernel};

/// PCI bus numbers go to 255: no deeper nesting than this.
const MAX_DEPTH: usize = 256;

/// One PCI device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PciDev {
    pub addr: u64,
    /// Its device name (`0000:00:01.0`).
    pub name: String,
    /// `class` (class, subclass and interface, 24 bits).
    pub class: u32,
    pub vendor: u16,
    pub device: u16,
    pub hdr_type: u8,
    /// `pcie_flags_reg`, where the kernel has it.
    pub pcie_flags: Option<u16>,
}

/// One PCI bus, with its devices and child buses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PciBus {
    pub addr: u64,
    /// Its device name (`0000:00`).
    pub name: String,
    pub parent: u64,
    /// The bridge that leads to it.
    pub bridge: Option<PciDev>,
    pub devices: Vec<PciDev>,
    pub children: Vec<PciBus>,
    /// Whether the kernel records PCIe flags (`pci_dev.pcie_flags_reg`).
    pub pcie: bool,
}

struct Offsets {
    bus_node: u64,
    bus_devices: u64,
    bus_children: u64,
    bus_parent: u64,
    bus_self: u64,
    bus_name: u64,
    dev_bus_list: u64,
    dev_name: u64,
    class: u64,
    vendor: u64,
    device: u64,
    hdr_type: u64,
    pcie_flags: Option<u64>,
}

impl Kernel {
    /// The root PCI buses with everything under them, and what could not
    /// be read.
    pub fn pci_buses(&self) -> Result<(Vec<PciBus>, Vec<crate::Finding>), Error> {
        let l = Layouts::of(self)?;
        let name = l.off("device", "kobj.name")?;
        let o = Offsets {
            bus_node: l.off("pci_bus", "node")?,
            bus_devices: l.off("pci_bus", "devices")?,
            bus_children: l.off("pci_bus", "children")?,
            bus_parent: l.off("pci_bus", "parent")?,
            bus_self: l.off("pci_bus", "self")?,
            bus_name: l.off("pci_bus", "dev")? + name,
            dev_bus_list: l.off("pci_dev", "bus_list")?,
            dev_name: l.off("pci_dev", "dev")? + name,
            class: l.off("pci_dev", "class")?,
            vendor: l.off("pci_dev", "vendor")?,
            device: l.off("pci_dev", "device")?,
            hdr_type: l.off("pci_dev", "hdr_type")?,
            pcie_flags: l.off("pci_dev", "pcie_flags_reg").ok(),
        };
        let head = self
            .symbol("pci_root_buses")
            .ok_or_else(|| Error::no_symbol("pci_root_buses"))?;
        let mut notices = Vec::new();
        let roots = crate::tasks::list::list_nodes(self, head, "pci_root_buses", &mut notices);
        let buses = roots
            .into_iter()
            .map(|n| self.pci_bus(&o, n.wrapping_sub(o.bus_node), 0, &mut notices))
            .collect();
        Ok((buses, notices))
    }

    fn pci_bus(
        &self,
        o: &Offsets,
        bus: u64,
        depth: usize,
        notices: &mut Vec<crate::Finding>,
    ) -> PciBus {
        let name = self.kobj_name(bus + o.bus_name);
        let parent = self.read_u64(bus + o.bus_parent).unwrap_or(0);
        let bridge = self
            .read_u64(bus + o.bus_self)
            .ok()
            .filter(|&d| d != 0)
            .map(|d| self.pci_dev(o, d));
        let devices =
            crate::tasks::list::list_nodes(self, bus + o.bus_devices, "pci_bus.devices", notices)
                .into_iter()
                .map(|n| self.pci_dev(o, n.wrapping_sub(o.dev_bus_list)))
                .collect();
        let mut children = Vec::new();
        if depth < MAX_DEPTH {
            for n in crate::tasks::list::list_nodes(
                self,
                bus + o.bus_children,
                "pci_bus.children",
                notices,
            ) {
                children.push(self.pci_bus(o, n.wrapping_sub(o.bus_node), depth + 1, notices));
            }
        } else {
            notices.push(crate::Finding::truncated(format!(
                "pci_bus {bus:x}: buses nested too deep"
            )));
        }
        PciBus {
            addr: bus,
            name,
            parent,
            bridge,
            devices,
            children,
            pcie: o.pcie_flags.is_some(),
        }
    }

    fn pci_dev(&self, o: &Offsets, d: u64) -> PciDev {
        let u16_at = |a: u64| {
            let mut b = [0u8; 2];
            self.read(a, &mut b)
                .map(|()| u16::from_le_bytes(b))
                .unwrap_or(0)
        };
        let mut hdr = [0u8];
        let _ = self.read(d + o.hdr_type, &mut hdr);
        PciDev {
            addr: d,
            name: self.kobj_name(d + o.dev_name),
            class: self.read_u32(d + o.class).unwrap_or(0),
            vendor: u16_at(d + o.vendor),
            device: u16_at(d + o.device),
            hdr_type: hdr[0],
            pcie_flags: o.pcie_flags.map(|f| u16_at(d + f)),
        }
    }

    /// The string a `kobject.name` pointer at `at` points to ("" if none).
    fn kobj_name(&self, at: u64) -> String {
        self.read_u64(at)
            .ok()
            .and_then(|p| self.string_at(p, 256))
            .unwrap_or_default()
    }
}
