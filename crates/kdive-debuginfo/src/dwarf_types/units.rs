//! Opening a unit for reading its DIEs, and following references between
//! DIEs: what the scan and the conversion share.

use gimli::AttributeValue;

use super::scan::R;

/// A unit ready for reading its DIEs: what `gimli::Unit::new` makes, but
/// without the line program's header, which it parses too (with every
/// file name: a tenth of the time of a scan, and most of a small lookup's).
pub(super) fn open_unit<'a>(
    dwarf: &gimli::Dwarf<R<'a>>,
    header: gimli::UnitHeader<R<'a>>,
    abbreviations: std::sync::Arc<gimli::Abbreviations>,
) -> gimli::Result<gimli::Unit<R<'a>>> {
    let encoding = header.encoding();
    let file = dwarf.file_type;
    let mut unit = gimli::Unit {
        header,
        abbreviations,
        name: None,
        comp_dir: None,
        low_pc: 0,
        str_offsets_base: gimli::DebugStrOffsetsBase::default_for_encoding_and_file(encoding, file),
        addr_base: gimli::DebugAddrBase(0),
        loclists_base: gimli::DebugLocListsBase::default_for_encoding_and_file(encoding, file),
        rnglists_base: gimli::DebugRngListsBase::default_for_encoding_and_file(encoding, file),
        line_program: None,
        dwo_id: None,
    };
    let root = unit
        .header
        .entry(&unit.abbreviations, unit.header.root_offset())?;
    for attr in root.attrs() {
        match attr.value() {
            AttributeValue::DebugStrOffsetsBase(b) => unit.str_offsets_base = b,
            AttributeValue::DebugAddrBase(b) => unit.addr_base = b,
            AttributeValue::DebugLocListsBase(b) => unit.loclists_base = b,
            AttributeValue::DebugRngListsBase(b) => unit.rnglists_base = b,
            _ => {}
        }
    }
    Ok(unit)
}

/// The `.debug_info` offset a reference attribute points to.
pub(super) fn global_ref(unit: &gimli::Unit<R<'_>>, value: AttributeValue<R<'_>>) -> Option<u64> {
    match value {
        AttributeValue::UnitRef(o) => o.to_debug_info_offset(&unit.header).map(|o| o.0 as u64),
        AttributeValue::DebugInfoRef(o) => Some(o.0 as u64),
        _ => None,
    }
}

/// The offset of the unit holding `.debug_info` offset `at`, by walking
/// the unit headers.
pub(super) fn unit_holding(dwarf: &gimli::Dwarf<R<'_>>, at: u64) -> Option<usize> {
    let mut it = dwarf.units();
    while let Ok(Some(h)) = it.next() {
        let start = h.debug_info_offset()?.0;
        if (start as u64..start as u64 + h.length_including_self() as u64).contains(&at) {
            return Some(start);
        }
    }
    None
}
