//! `dev -p`: the PCI buses and devices, as crash 8.0.2 prints them
//! (`do_pci2()`, `walk_devices()`, `walk_buses()`).

use std::io::Write;

use kdive_kernel::{PciBus, PciDev};

use crate::commands::text::center;
use crate::commands::{io, CmdResult};
use crate::session::Session;

pub fn run(s: &Session, out: &mut dyn Write) -> CmdResult {
    let (roots, notices) = s.kernel.pci_buses().map_err(|e| e.to_string())?;
    if roots.is_empty() {
        return Err("no PCI devices found on this system.".into());
    }
    if s.json {
        let v: Vec<_> = roots.iter().map(|r| bus_json(r, true)).collect();
        crate::commands::json::emit(out, &v)?;
        crate::commands::tell(s, "dev: ", &notices);
        return Ok(());
    }
    let mut t = String::new();
    for root in &roots {
        t += &format!(
            "{} {}\n",
            center("ROOT BUS", 16, false),
            center("BUSNAME", 7, false)
        );
        t += &format!("{:<16x} {}\n", root.addr, center(&root.name, 7, false));
        devices(root, &mut t);
        buses(root, &mut t);
        t += "\n";
    }
    out.write_all(t.as_bytes()).map_err(io)?;
    let _ = out.flush();
    crate::commands::tell(s, "dev: ", &notices);
    Ok(())
}

/// `dev -p --json`: a root bus `{root_bus, name, devices, buses}`, a child
/// bus `{pci_bus, parent, devices, buses}`; each device (the bridge first)
/// `{pci_dev, name, class, pci_id, type}` with the text's columns.
fn bus_json(bus: &PciBus, root: bool) -> serde_json::Value {
    use crate::commands::json::hex;
    let devices: Vec<_> = bus
        .bridge
        .iter()
        .chain(&bus.devices)
        .map(|d| {
            serde_json::json!({
                "pci_dev": hex(d.addr),
                "name": d.name,
                "class": format!("{:04x}", d.class >> 8),
                "pci_id": format!("{:x}:{:x}", d.vendor, d.device),
                "type": Some(kind(d)).filter(|k| !k.is_empty()),
            })
        })
        .collect();
    let buses: Vec<_> = bus.children.iter().map(|c| bus_json(c, false)).collect();
    if root {
        serde_json::json!({ "root_bus": hex(bus.addr), "name": bus.name, "devices": devices, "buses": buses })
    } else {
        serde_json::json!({ "pci_bus": hex(bus.addr), "parent": hex(bus.parent), "devices": devices, "buses": buses })
    }
}

/// A bus's bridge and devices, under their header.
fn devices(bus: &PciBus, t: &mut String) {
    // The TYPE column only where the kernel records PCIe flags.
    let pcie = bus.pcie;
    *t += &format!(
        "  {} {} {} {}{}\n",
        center("PCI DEV", 16, false),
        center("DO:BU:SL.FN", 12, false),
        center("CLASS", 6, false),
        center("PCI_ID", 9, false),
        if pcie {
            format!(" {}", center("TYPE", 10, false))
        } else {
            String::new()
        }
    );
    for d in bus.bridge.iter().chain(&bus.devices) {
        *t += &format!(
            "  {:<16x} {} {} {} {}\n",
            d.addr,
            center(&d.name, 12, false),
            center(&format!("{:04x}", d.class >> 8), 6, false),
            center(&format!("{:x}:{:x}", d.vendor, d.device), 9, false),
            center(&kind(d), 10, false)
        );
    }
}

/// The child buses, each with its devices, depth first.
fn buses(bus: &PciBus, t: &mut String) {
    for child in &bus.children {
        *t += &format!(
            "  {} {}\n",
            center("PCI BUS", 16, false),
            center("PARENT BUS", 16, false)
        );
        *t += &format!("  {:<16x} {:<16x}\n", child.addr, child.parent);
        devices(child, t);
        *t += "\n";
        buses(child, t);
    }
}

/// crash's TYPE column: the PCIe port type from `pcie_flags_reg` (0, an
/// endpoint, for plain PCI devices too), and ` [BRIDGE]` for bridge and
/// CardBus headers.
fn kind(d: &PciDev) -> String {
    let mut s = match d.pcie_flags.map(|f| (f & 0xf0) >> 4) {
        Some(0x0) => "ENDPOINT",
        Some(0x1) => "LEG_END",
        Some(0x4) => "ROOT_PORT",
        Some(0x5) => "UPSTREAM",
        Some(0x6) => "DOWNSTREAM",
        Some(0x7) => "PCI_BRIDGE",
        Some(0x8) => "PCIE_BRIDGE",
        Some(0x9) => "RC_END",
        Some(0xa) => "RC_EC",
        _ => "",
    }
    .to_string();
    if matches!(d.hdr_type, 1 | 2) {
        s += " [BRIDGE]";
    }
    s
}
