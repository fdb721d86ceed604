//! Where each section of a loaded module is: what gdb's `add-symbol-file`
//! needs to place a module's `.ko` (its DWARF and line table) at the
//! addresses the module was loaded at, as crash's `mod -s` does.
//!
//! The kernel keeps them for `/sys/module/NAME/sections/`: `mod->sect_attrs`
//! is a `struct module_sect_attrs` with `nsections` entries of `struct
//! module_sect_attr`, each a section name and its `address`. Since 5.8 the
//! name is the entry's `battr.attr.name`; before, a `name` member of its
//! own. Later kernels (7.x) have no `struct module_sect_attr`: the entries
//! are plain `struct bin_attribute`s, the address in `private`, found
//! through the NULL-terminated `grp.bin_attrs` (what the BTF says exists
//! decides). Kernels without CONFIG_KALLSYMS or sysfs have no such table:
//! then the caller places `.text` at the module's text and the rest after
//! it.

use crate::offsets::Layouts;

use crate::{Error, Kernel, LayoutError, MemError, Module};

/// At most this many sections are read (modules have some tens).
const MAX_SECTIONS: u64 = 4096;

/// The longest section name read.
const MAX_NAME: usize = 256;

impl Kernel {
    /// Each section of `m` with its address, in the kernel's order; an
    /// error says why the table could not be read.
    pub fn module_sections(&self, m: &Module) -> Result<Vec<(String, u64)>, Error> {
        let layouts = self.layouts_or_err()?;
        let o = Offsets::from_layouts(layouts)?;
        let what = |w: String, e: MemError| Error::read(format!("module {}: {w}", m.name), e);
        let attrs = self
            .read_u64(m.addr + o.sect_attrs)
            .map_err(|e| what("sect_attrs".into(), e))?;
        if attrs == 0 {
            return Err(Error::Unsupported(format!(
                "module {}: no section table (sect_attrs is NULL)",
                m.name
            )));
        }
        let entries: Vec<u64> = match o.count {
            Count::Number(nsections) => {
                let n = u64::from(
                    self.read_u32(attrs + nsections)
                        .map_err(|e| what("nsections".into(), e))?,
                );
                if n > MAX_SECTIONS {
                    return Err(Error::corrupt(
                        format!("module {}: {n} sections at {attrs:#x}: damaged", m.name),
                        attrs,
                    ));
                }
                (0..n).map(|i| attrs + o.attrs + i * o.attr_size).collect()
            }
            Count::Pointers(bin_attrs) => {
                let table = self
                    .read_u64(attrs + bin_attrs)
                    .map_err(|e| what("grp.bin_attrs".into(), e))?;
                let mut v = Vec::new();
                loop {
                    if v.len() as u64 >= MAX_SECTIONS {
                        return Err(Error::corrupt(
                            format!("module {}: more than {MAX_SECTIONS} sections at {table:#x}: damaged", m.name),
                            table,
                        ));
                    }
                    let at = table + 8 * v.len() as u64;
                    match self
                        .read_u64(at)
                        .map_err(|e| what(format!("grp.bin_attrs[{}]", v.len()), e))?
                    {
                        0 => break v,
                        p => v.push(p),
                    }
                }
            }
        };
        let mut out = Vec::with_capacity(entries.len());
        for (i, entry) in entries.into_iter().enumerate() {
            let name_ptr = self
                .read_u64(entry + o.name)
                .map_err(|e| what(format!("section {i}"), e))?;
            let name = self
                .read_cstr(name_ptr, MAX_NAME)
                .map_err(|e| what(format!("section {i} name"), e))?;
            let addr = self
                .read_u64(entry + o.address)
                .map_err(|e| what(format!("section {name}"), e))?;
            out.push((name, addr));
        }
        Ok(out)
    }
}

/// How the entries are counted.
enum Count {
    /// `module_sect_attrs.nsections`.
    Number(u64),
    /// The NULL-terminated pointers at `module_sect_attrs.grp.bin_attrs`.
    Pointers(u64),
}

/// Offsets in bytes, from the BTF.
struct Offsets {
    /// `module.sect_attrs`.
    sect_attrs: u64,
    count: Count,
    /// `module_sect_attrs.attrs`.
    attrs: u64,
    /// The size of an entry and where its name pointer and address are.
    attr_size: u64,
    name: u64,
    address: u64,
}

impl Offsets {
    fn from_layouts(layouts: Layouts<'_>) -> Result<Offsets, LayoutError> {
        let off = |outer: &str, path: &str| {
            layouts
                .member_offset(outer, path)
                .map(|m| m.offset())
                .ok_or_else(|| LayoutError::member(outer, path))
        };
        let Some(attr) = layouts.find_aggregate("module_sect_attr") else {
            return Offsets::bin_attributes(layouts);
        };
        let name = match layouts.member_offset("module_sect_attr", "name") {
            Some(m) => m.offset(),
            None => off("module_sect_attr", "battr.attr.name")?,
        };
        Ok(Offsets {
            sect_attrs: off("module", "sect_attrs")?,
            count: Count::Number(off("module_sect_attrs", "nsections")?),
            attrs: off("module_sect_attrs", "attrs")?,
            attr_size: layouts
                .size_of(attr)
                .filter(|&s| s > 0)
                .ok_or_else(|| LayoutError::shape("module_sect_attr", None, "has no size"))?,
            name,
            address: off("module_sect_attr", "address")?,
        })
    }
}

impl Offsets {
    /// Entries that are `struct bin_attribute`s (7.x).
    fn bin_attributes(layouts: Layouts<'_>) -> Result<Offsets, LayoutError> {
        let off = |outer: &str, path: &str| {
            layouts
                .member_offset(outer, path)
                .map(|m| m.offset())
                .ok_or_else(|| LayoutError::member(outer, path))
        };
        let attr = layouts
            .find_aggregate("bin_attribute")
            .ok_or_else(|| LayoutError::ty("bin_attribute"))?;
        Ok(Offsets {
            sect_attrs: off("module", "sect_attrs")?,
            count: Count::Pointers(off("module_sect_attrs", "grp.bin_attrs")?),
            attrs: off("module_sect_attrs", "attrs")?,
            attr_size: layouts
                .size_of(attr)
                .filter(|&s| s > 0)
                .ok_or_else(|| LayoutError::shape("bin_attribute", None, "has no size"))?,
            name: off("bin_attribute", "attr.name")?,
            address: off("bin_attribute", "private")?,
        })
    }
}
