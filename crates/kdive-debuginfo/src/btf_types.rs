//! The kernel's BTF as a [`TypeSource`]: type ids are BTF ids, each record
//! turned into a [`Type`] on first use and kept.
//!
//! What BTF has and lacks, as a source: every struct, union, enum and
//! typedef of the kernel; functions with their parameters' names (a FUNC
//! and its FUNC_PROTO); and, as variables, only the per-CPU ones (`VAR`s in
//! the `.data..percpu` DATASEC, with their offsets in that section). Other
//! globals (`jiffies`, `init_task`) have no type here: that takes DWARF.
//!
//! BTF cannot tell `x[0]` from `x[]`: both are arrays of length 0, given
//! here as arrays of unknown length (the kernel now writes `[]`).

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use crate::btf::{self, Btf};
use crate::types::{
    Global, IntEncoding, Kind, Member, Namespace, Param, Qualifier, Type, TypeId, TypeSource,
};

/// The section whose variables are per-CPU: their offsets in it are the
/// link-time addresses of the per-CPU symbols.
const PERCPU_SECTION: &str = ".data..percpu";

/// A [`TypeSource`] over a [`Btf`].
pub struct BtfTypes {
    btf: Arc<Btf>,
    /// One slot per BTF id, filled on first `get`.
    cache: Vec<OnceLock<Option<Arc<Type>>>>,
    /// Variable id to (section name, offset in the section), built on the
    /// first lookup of a variable.
    vars: OnceLock<HashMap<u32, (String, u64)>>,
}

impl BtfTypes {
    pub fn new(btf: Arc<Btf>) -> BtfTypes {
        let cache = (0..btf.len()).map(|_| OnceLock::new()).collect();
        BtfTypes {
            btf,
            cache,
            vars: OnceLock::new(),
        }
    }

    /// The BTF underneath.
    pub fn btf(&self) -> &Btf {
        &self.btf
    }

    fn convert(&self, id: u32) -> Option<Type> {
        let t = self.btf.ty(id)?;
        let name = (!t.name().is_empty()).then(|| t.name().to_string());
        let target = || TypeId(u64::from(t.target().unwrap_or(0)));
        let qualified = |qualifier| Kind::Qualified {
            target: target(),
            qualifier,
        };
        let (size, kind) = match t.kind {
            btf::Kind::Void => (None, Kind::Void),
            btf::Kind::Int => {
                let i = t.int()?;
                let encoding = if i.bool {
                    IntEncoding::Bool
                } else if i.char || is_char_name(t.name()) {
                    IntEncoding::Char
                } else {
                    IntEncoding::Plain
                };
                (
                    t.size(),
                    Kind::Int {
                        signed: i.signed,
                        encoding,
                    },
                )
            }
            btf::Kind::Float => (t.size(), Kind::Float),
            btf::Kind::Ptr => (Some(8), Kind::Pointer { target: target() }),
            btf::Kind::Array => {
                let a = t.array()?;
                let len = (a.len != 0).then_some(u64::from(a.len));
                let elem = TypeId(u64::from(a.elem));
                let size = len.and_then(|n| self.btf.size_of(a.elem).map(|s| s * n));
                (size, Kind::Array { elem, len })
            }
            btf::Kind::Struct | btf::Kind::Union => {
                let members = t
                    .members()
                    .map(|m| Member {
                        name: (!m.name.is_empty()).then(|| m.name.to_string()),
                        ty: TypeId(u64::from(m.type_id)),
                        offset_bits: u64::from(m.offset_bits),
                        bit_size: (m.bitfield_size != 0).then_some(m.bitfield_size),
                    })
                    .collect();
                let kind = if t.kind == btf::Kind::Struct {
                    Kind::Struct { members }
                } else {
                    Kind::Union { members }
                };
                (t.size(), kind)
            }
            btf::Kind::Enum | btf::Kind::Enum64 => {
                let values = t
                    .enumerators()
                    .map(|e| (e.name.to_string(), e.value))
                    .collect();
                (t.size(), Kind::Enum { values })
            }
            btf::Kind::Fwd => {
                let ns = if t.kflag() {
                    Namespace::Union
                } else {
                    Namespace::Struct
                };
                (None, Kind::Forward { ns })
            }
            btf::Kind::Typedef => (None, Kind::Typedef { target: target() }),
            btf::Kind::Const => (None, qualified(Qualifier::Const)),
            btf::Kind::Volatile => (None, qualified(Qualifier::Volatile)),
            btf::Kind::Restrict => (None, qualified(Qualifier::Restrict)),
            btf::Kind::TypeTag => (None, qualified(Qualifier::Other)),
            // A function is its prototype (which has the parameters' names).
            btf::Kind::Func => return self.convert(t.target()?).map(|p| Type { name, ..p }),
            btf::Kind::FuncProto => {
                let mut params: Vec<Param> = t
                    .params()
                    .map(|p| Param {
                        name: (!p.name.is_empty()).then(|| p.name.to_string()),
                        ty: TypeId(u64::from(p.type_id)),
                    })
                    .collect();
                // `...` is a last parameter of type void with no name.
                let variadic = params
                    .last()
                    .is_some_and(|p| p.ty.0 == 0 && p.name.is_none());
                if variadic {
                    params.pop();
                }
                let kind = Kind::Function {
                    ret: target(),
                    params,
                    variadic,
                };
                (None, kind)
            }
            // A variable stands for its type; declaration tags and data
            // sections are not types.
            btf::Kind::Var => return self.convert(t.target()?),
            btf::Kind::DeclTag | btf::Kind::Datasec => return None,
        };
        Some(Type { name, size, kind })
    }

    fn var_index(&self) -> &HashMap<u32, (String, u64)> {
        self.vars.get_or_init(|| {
            let mut m = HashMap::new();
            for sec in self.btf.types().filter(|t| t.kind == btf::Kind::Datasec) {
                for (var, offset, _) in sec.datasec_vars() {
                    m.insert(var, (sec.name().to_string(), u64::from(offset)));
                }
            }
            m
        })
    }
}

/// The C character types, which gdb prints with the character: BTF marks
/// only some of them as chars.
fn is_char_name(name: &str) -> bool {
    matches!(name, "char" | "signed char" | "unsigned char")
}

impl TypeSource for BtfTypes {
    fn find(&self, ns: Namespace, name: &str) -> Option<TypeId> {
        let wanted = |k: btf::Kind| match ns {
            Namespace::Struct => k == btf::Kind::Struct,
            Namespace::Union => k == btf::Kind::Union,
            Namespace::Enum => matches!(k, btf::Kind::Enum | btf::Kind::Enum64),
            Namespace::Plain => matches!(k, btf::Kind::Typedef | btf::Kind::Int | btf::Kind::Float),
        };
        let mut forward = None;
        for t in self.btf.find_all(name) {
            if wanted(t.kind) {
                return Some(TypeId(u64::from(t.id)));
            }
            let fwd_ns = if t.kflag() {
                Namespace::Union
            } else {
                Namespace::Struct
            };
            if t.kind == btf::Kind::Fwd && fwd_ns == ns && forward.is_none() {
                forward = Some(TypeId(u64::from(t.id)));
            }
        }
        forward
    }

    fn get(&self, id: TypeId) -> Option<Arc<Type>> {
        let i = u32::try_from(id.0).ok()?;
        let slot = self.cache.get(i as usize)?;
        slot.get_or_init(|| self.convert(i).map(Arc::new)).clone()
    }

    fn variable(&self, name: &str) -> Option<Global> {
        let t = self.btf.find_all(name).find(|t| t.kind == btf::Kind::Var)?;
        let addr = match self.var_index().get(&t.id) {
            Some((sec, off)) if sec == PERCPU_SECTION => Some(*off),
            _ => None,
        };
        Some(Global {
            name: name.to_string(),
            ty: TypeId(u64::from(t.target()?)),
            addr,
            optimized_out: false,
        })
    }

    fn function(&self, name: &str) -> Option<Global> {
        let t = self
            .btf
            .find_all(name)
            .find(|t| t.kind == btf::Kind::Func)?;
        Some(Global {
            name: name.to_string(),
            ty: TypeId(u64::from(t.target()?)),
            addr: None,
            optimized_out: false,
        })
    }

    fn describe(&self) -> String {
        "BTF".into()
    }

    fn enumerator(&self, name: &str) -> Option<(TypeId, i64)> {
        let (id, value) = self.btf.enumerator_of(name)?;
        Some((TypeId(u64::from(id)), value))
    }
}

#[cfg(test)]
mod tests;
