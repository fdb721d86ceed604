//! Types an expression makes that the kernel's sources may not have: the
//! pointer `&x` has, a cast's `char *`, an `@` array, and gdb's built-in
//! base types (`1` and `sizeof x` are gdb's `int`, and a cast to
//! `unsigned long` names gdb's type, not DWARF's `long unsigned int`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use kdive_debuginfo::types::{
    Global, IntEncoding, Kind, Namespace, Param, Qualifier, Type, TypeId, TypeSource,
};

/// Ids from here start at this value; the kernel's sources hand out small
/// ids (BTF type numbers, DWARF offsets), far below it.
const FIRST: u64 = 0xfff0_0000_0000_0000;

/// gdb's built-in types, by the name gdb prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Builtin {
    Void,
    Bool,
    Char,
    SChar,
    UChar,
    Short,
    UShort,
    Int,
    UInt,
    Long,
    ULong,
    LongLong,
    ULongLong,
    Float,
    Double,
    LongDouble,
}

impl Builtin {
    fn def(self) -> Type {
        use Builtin::*;
        let (name, size, signed, encoding) = match self {
            Void => return ty(Some("void"), None, Kind::Void),
            Float => return ty(Some("float"), Some(4), Kind::Float),
            Double => return ty(Some("double"), Some(8), Kind::Float),
            LongDouble => return ty(Some("long double"), Some(16), Kind::Float),
            Bool => ("_Bool", 1, false, IntEncoding::Bool),
            Char => ("char", 1, true, IntEncoding::Char),
            SChar => ("signed char", 1, true, IntEncoding::Char),
            UChar => ("unsigned char", 1, false, IntEncoding::Char),
            Short => ("short", 2, true, IntEncoding::Plain),
            UShort => ("unsigned short", 2, false, IntEncoding::Plain),
            Int => ("int", 4, true, IntEncoding::Plain),
            UInt => ("unsigned int", 4, false, IntEncoding::Plain),
            Long => ("long", 8, true, IntEncoding::Plain),
            ULong => ("unsigned long", 8, false, IntEncoding::Plain),
            LongLong => ("long long", 8, true, IntEncoding::Plain),
            ULongLong => ("unsigned long long", 8, false, IntEncoding::Plain),
        };
        ty(Some(name), Some(size), Kind::Int { signed, encoding })
    }
}

fn ty(name: Option<&str>, size: Option<u64>, kind: Kind) -> Type {
    Type {
        name: name.map(str::to_string),
        size,
        kind,
    }
}

/// What a built type is, to hand out one id per type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Builtin(Builtin),
    Pointer(TypeId),
    Array(TypeId, Option<u64>),
    Qualified(TypeId, u8),
    Function(TypeId, Vec<TypeId>, bool),
    NoDebug,
}

#[derive(Default)]
struct Built {
    types: Vec<Arc<Type>>,
    ids: HashMap<Key, TypeId>,
}

/// The kernel's types with the ones expressions build on top.
pub struct Overlay<'a> {
    base: &'a dyn TypeSource,
    built: Mutex<Built>,
}

impl<'a> Overlay<'a> {
    pub fn new(base: &'a dyn TypeSource) -> Overlay<'a> {
        Overlay {
            base,
            built: Mutex::default(),
        }
    }

    fn intern(&self, key: Key, make: impl FnOnce() -> Type) -> TypeId {
        let mut b = self.built.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(&id) = b.ids.get(&key) {
            return id;
        }
        let id = TypeId(FIRST + b.types.len() as u64);
        b.types.push(Arc::new(make()));
        b.ids.insert(key, id);
        id
    }

    pub fn builtin(&self, b: Builtin) -> TypeId {
        self.intern(Key::Builtin(b), || b.def())
    }

    pub fn pointer(&self, target: TypeId) -> TypeId {
        self.intern(Key::Pointer(target), || {
            ty(None, Some(8), Kind::Pointer { target })
        })
    }

    /// `elem [len]`; `None` when its size would not fit in 64 bits (the
    /// size is always set when known, so `size_of` never multiplies).
    pub fn array(&self, elem: TypeId, len: Option<u64>) -> Option<TypeId> {
        let size = match (len, kdive_debuginfo::types::size_of(self, elem)) {
            (Some(n), Some(e)) => Some(e.checked_mul(n)?),
            _ => None,
        };
        Some(self.intern(Key::Array(elem, len), || {
            ty(None, size, Kind::Array { elem, len })
        }))
    }

    pub fn qualified(&self, target: TypeId, q: Qualifier) -> TypeId {
        let tag = match q {
            Qualifier::Const => 0,
            Qualifier::Volatile => 1,
            Qualifier::Restrict => 2,
            Qualifier::Other => 3,
        };
        self.intern(Key::Qualified(target, tag), || {
            ty(
                None,
                None,
                Kind::Qualified {
                    target,
                    qualifier: q,
                },
            )
        })
    }

    pub fn function_type(&self, ret: TypeId, params: Vec<TypeId>, variadic: bool) -> TypeId {
        let key = Key::Function(ret, params.clone(), variadic);
        self.intern(key, || {
            let params = params
                .into_iter()
                .map(|ty| Param { name: None, ty })
                .collect();
            ty(
                None,
                None,
                Kind::Function {
                    ret,
                    params,
                    variadic,
                },
            )
        })
    }

    /// gdb's type of a symbol with no debug information.
    pub fn nodebug(&self) -> TypeId {
        self.intern(Key::NoDebug, || {
            let kind = Kind::Int {
                signed: true,
                encoding: IntEncoding::Plain,
            };
            ty(Some("<data variable, no debug info>"), None, kind)
        })
    }

    pub fn is_nodebug(&self, id: TypeId) -> bool {
        let b = self.built.lock().unwrap_or_else(|e| e.into_inner());
        b.ids.get(&Key::NoDebug) == Some(&id)
    }
}

impl TypeSource for Overlay<'_> {
    fn find(&self, ns: Namespace, name: &str) -> Option<TypeId> {
        self.base.find(ns, name)
    }
    fn get(&self, id: TypeId) -> Option<Arc<Type>> {
        if id.0 < FIRST {
            return self.base.get(id);
        }
        let b = self.built.lock().unwrap_or_else(|e| e.into_inner());
        b.types.get((id.0 - FIRST) as usize).cloned()
    }
    fn variable(&self, name: &str) -> Option<Global> {
        self.base.variable(name)
    }
    fn function(&self, name: &str) -> Option<Global> {
        self.base.function(name)
    }
    fn describe(&self) -> String {
        self.base.describe()
    }
}
