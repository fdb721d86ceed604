//! Several sources of types seen as one: the kernel's (its DWARF or BTF)
//! and, added while a session runs, each module's DWARF (crash's `mod -s`,
//! gdb's `add-symbol-file`).
//!
//! Lookups by name ask the kernel's source first, then the modules' in the
//! order they were added, so that `struct kmem_cache` is the kernel's while
//! `struct seed_dev`, which only a module defines, comes from that module.
//! A forward declaration (`struct x;`) found early gives way to a later
//! source's definition.
//!
//! Ids are tagged with their source in bits 48..56: the kernel's source has
//! tag 0, so its ids pass through unchanged (and stay valid for code that
//! holds them from before a module was added); a module's ids are
//! rewritten, in every type handed out, to carry its tag.

use std::sync::{Arc, RwLock};

use crate::types::{Global, Kind, Namespace, Type, TypeId, TypeSource};

/// Where the tag sits in an id.
const TAG_SHIFT: u32 = 48;
const INNER_MASK: u64 = (1 << TAG_SHIFT) - 1;
/// The most sources beside the kernel's. Ids with a tag above 0xef stay
/// free for callers' own synthetic types (ids from 0xfff0 << 48).
pub const MAX_ADDED: usize = 0xef;

/// The kernel's source and the ones added after it.
pub struct Layered {
    base: Option<Arc<dyn TypeSource>>,
    added: RwLock<Vec<(String, Arc<dyn TypeSource>)>>,
}

/// Why a source could not be added.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AddError {
    #[error("too many sources of types (at most {MAX_ADDED} besides the kernel's)")]
    Full,
}

impl Layered {
    /// Start from the kernel's source, if there is one.
    pub fn new(base: Option<Arc<dyn TypeSource>>) -> Layered {
        Layered {
            base,
            added: RwLock::new(Vec::new()),
        }
    }

    /// Whether there is any source at all.
    pub fn is_empty(&self) -> bool {
        self.base.is_none() && self.read().is_empty()
    }

    /// Add (or, under a name already added, replace) a source; later
    /// lookups see it.
    pub fn add(&self, name: &str, src: Arc<dyn TypeSource>) -> Result<(), AddError> {
        let mut added = self.added.write().unwrap_or_else(|e| e.into_inner());
        if let Some(slot) = added.iter_mut().find(|(n, _)| n == name) {
            slot.1 = src;
            return Ok(());
        }
        if added.len() >= MAX_ADDED {
            return Err(AddError::Full);
        }
        added.push((name.to_string(), src));
        Ok(())
    }

    /// Remove the source added under `name`; `false` when there is none.
    /// Its slot stays (empty), so other sources' ids keep their meaning.
    pub fn remove(&self, name: &str) -> bool {
        let mut added = self.added.write().unwrap_or_else(|e| e.into_inner());
        match added.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => {
                slot.0.clear();
                slot.1 = Arc::new(Empty);
                true
            }
            None => false,
        }
    }

    /// The names of the sources added, in order.
    pub fn added_names(&self) -> Vec<String> {
        self.read()
            .iter()
            .filter(|(n, _)| !n.is_empty())
            .map(|(n, _)| n.clone())
            .collect()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<(String, Arc<dyn TypeSource>)>> {
        self.added.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Every source with its tag, the kernel's first.
    fn sources(&self) -> Vec<(u64, Arc<dyn TypeSource>)> {
        let mut all: Vec<(u64, Arc<dyn TypeSource>)> = Vec::new();
        if let Some(b) = &self.base {
            all.push((0, Arc::clone(b)));
        }
        for (i, (_, s)) in self.read().iter().enumerate() {
            all.push((i as u64 + 1, Arc::clone(s)));
        }
        all
    }

    fn source(&self, tag: u64) -> Option<Arc<dyn TypeSource>> {
        match tag {
            0 => self.base.clone(),
            t => self.read().get(t as usize - 1).map(|(_, s)| Arc::clone(s)),
        }
    }
}

impl Layered {
    /// [`TypeSource::get`] without resolving declarations.
    fn get_direct(&self, id: TypeId) -> Option<Arc<Type>> {
        let (tag, inner) = split(id);
        if tag == 0 {
            return self.source(0)?.get(id);
        }
        let t = self.source(tag)?.get(inner)?;
        Some(Arc::new(retag(tag, &t)))
    }
}

fn tagged(tag: u64, id: TypeId) -> TypeId {
    if tag == 0 {
        id
    } else {
        TypeId(tag << TAG_SHIFT | (id.0 & INNER_MASK))
    }
}

fn split(id: TypeId) -> (u64, TypeId) {
    (id.0 >> TAG_SHIFT, TypeId(id.0 & INNER_MASK))
}

/// `t` with every id it holds tagged.
fn retag(tag: u64, t: &Type) -> Type {
    let f = |id: TypeId| tagged(tag, id);
    let kind = match &t.kind {
        Kind::Pointer { target } => Kind::Pointer { target: f(*target) },
        Kind::Array { elem, len } => Kind::Array {
            elem: f(*elem),
            len: *len,
        },
        Kind::Struct { members } => Kind::Struct {
            members: members
                .iter()
                .map(|m| crate::types::Member {
                    ty: f(m.ty),
                    ..m.clone()
                })
                .collect(),
        },
        Kind::Union { members } => Kind::Union {
            members: members
                .iter()
                .map(|m| crate::types::Member {
                    ty: f(m.ty),
                    ..m.clone()
                })
                .collect(),
        },
        Kind::Typedef { target } => Kind::Typedef { target: f(*target) },
        Kind::Qualified { target, qualifier } => Kind::Qualified {
            target: f(*target),
            qualifier: *qualifier,
        },
        Kind::Function {
            ret,
            params,
            variadic,
        } => Kind::Function {
            ret: f(*ret),
            params: params
                .iter()
                .map(|p| crate::types::Param {
                    ty: f(p.ty),
                    ..p.clone()
                })
                .collect(),
            variadic: *variadic,
        },
        other => other.clone(),
    };
    Type {
        name: t.name.clone(),
        size: t.size,
        kind,
    }
}

impl TypeSource for Layered {
    fn find(&self, ns: Namespace, name: &str) -> Option<TypeId> {
        let mut forward = None;
        for (tag, src) in self.sources() {
            let Some(id) = src.find(ns, name) else {
                continue;
            };
            let is_forward = src
                .get(id)
                .is_some_and(|t| matches!(t.kind, Kind::Forward { .. }));
            if !is_forward {
                return Some(tagged(tag, id));
            }
            forward.get_or_insert(tagged(tag, id));
        }
        forward
    }

    fn get(&self, id: TypeId) -> Option<Arc<Type>> {
        let (tag, inner) = split(id);
        let t = self.source(tag)?.get(if tag == 0 { id } else { inner })?;
        // A declaration (`struct kmem_cache;` in a module that never
        // includes its definition) is the type another source defines, as
        // gdb resolves an opaque type across objfiles. With no source
        // added, the kernel's source has already chosen its definition.
        let across = tag != 0 || !self.read().is_empty();
        if let (true, Kind::Forward { ns }, Some(name)) = (across, &t.kind, &t.name) {
            if let Some(def) = self.find(*ns, name).filter(|&d| d != id) {
                if let Some(dt) = self.get_direct(def) {
                    if !matches!(dt.kind, Kind::Forward { .. }) {
                        return Some(dt);
                    }
                }
            }
        }
        if tag == 0 {
            return Some(t);
        }
        Some(Arc::new(retag(tag, &t)))
    }

    fn variable(&self, name: &str) -> Option<Global> {
        self.sources().into_iter().find_map(|(tag, s)| {
            s.variable(name).map(|g| Global {
                ty: tagged(tag, g.ty),
                ..g
            })
        })
    }

    fn function(&self, name: &str) -> Option<Global> {
        self.sources().into_iter().find_map(|(tag, s)| {
            s.function(name).map(|g| Global {
                ty: tagged(tag, g.ty),
                ..g
            })
        })
    }

    /// The kernel's constant first, as for variables: a module that
    /// declares a constant of the same name sees the kernel's.
    fn enumerator(&self, name: &str) -> Option<(TypeId, i64)> {
        self.sources().into_iter().find_map(|(tag, s)| s.enumerator(name).map(|(id, v)| (tagged(tag, id), v)))
    }

    fn describe(&self) -> String {
        let mut d = self
            .base
            .as_ref()
            .map_or_else(|| "no kernel types".to_string(), |b| b.describe());
        let names = self.added_names();
        if !names.is_empty() {
            d.push_str(&format!(" + {}", names.join(", ")));
        }
        d
    }
}

/// A removed source's place.
struct Empty;

impl TypeSource for Empty {
    fn find(&self, _: Namespace, _: &str) -> Option<TypeId> {
        None
    }
    fn get(&self, _: TypeId) -> Option<Arc<Type>> {
        None
    }
    fn variable(&self, _: &str) -> Option<Global> {
        None
    }
    fn function(&self, _: &str) -> Option<Global> {
        None
    }
    fn describe(&self) -> String {
        "removed".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{IntEncoding, Member};
    use std::collections::HashMap;

    /// A source of named types: (namespace, name) -> id, id -> type.
    #[derive(Default)]
    struct Src {
        names: HashMap<(String, u8), u64>,
        types: HashMap<u64, Arc<Type>>,
        vars: HashMap<String, u64>,
        consts: HashMap<String, (u64, i64)>,
    }

    fn ns_key(ns: Namespace) -> u8 {
        ns as u8
    }

    impl Src {
        fn ty(mut self, id: u64, ns: Namespace, name: &str, kind: Kind) -> Src {
            self.names.insert((name.into(), ns_key(ns)), id);
            self.types.insert(
                id,
                Arc::new(Type {
                    name: Some(name.into()),
                    size: Some(8),
                    kind,
                }),
            );
            self
        }
        fn anon(mut self, id: u64, kind: Kind) -> Src {
            self.types.insert(
                id,
                Arc::new(Type {
                    name: None,
                    size: Some(8),
                    kind,
                }),
            );
            self
        }
        fn var(mut self, name: &str, ty: u64) -> Src {
            self.vars.insert(name.into(), ty);
            self
        }
        fn constant(mut self, name: &str, ty: u64, value: i64) -> Src {
            self.consts.insert(name.into(), (ty, value));
            self
        }
    }

    impl TypeSource for Src {
        fn find(&self, ns: Namespace, name: &str) -> Option<TypeId> {
            self.names
                .get(&(name.to_string(), ns_key(ns)))
                .map(|&i| TypeId(i))
        }
        fn get(&self, id: TypeId) -> Option<Arc<Type>> {
            self.types.get(&id.0).cloned()
        }
        fn variable(&self, name: &str) -> Option<Global> {
            self.vars.get(name).map(|&t| Global {
                name: name.into(),
                ty: TypeId(t),
                addr: None,
                optimized_out: false,
            })
        }
        fn function(&self, _: &str) -> Option<Global> {
            None
        }
        fn describe(&self) -> String {
            "test".into()
        }
        fn enumerator(&self, name: &str) -> Option<(TypeId, i64)> {
            self.consts.get(name).map(|&(t, v)| (TypeId(t), v))
        }
    }

    fn int() -> Kind {
        Kind::Int {
            signed: true,
            encoding: IntEncoding::Plain,
        }
    }

    #[test]
    fn the_kernel_first_then_modules_and_definitions_over_forwards() {
        let base = Src::default()
            .ty(
                1,
                Namespace::Struct,
                "kmem_cache",
                Kind::Struct { members: vec![] },
            )
            .ty(
                2,
                Namespace::Struct,
                "seed_dev",
                Kind::Forward {
                    ns: Namespace::Struct,
                },
            );
        let module = Src::default()
            .ty(
                1,
                Namespace::Struct,
                "kmem_cache",
                Kind::Struct { members: vec![] },
            )
            .ty(5, Namespace::Plain, "int", int())
            .ty(
                2,
                Namespace::Struct,
                "seed_dev",
                Kind::Struct {
                    members: vec![Member {
                        name: Some("refs".into()),
                        ty: TypeId(5),
                        offset_bits: 0,
                        bit_size: None,
                    }],
                },
            )
            .anon(3, Kind::Pointer { target: TypeId(2) })
            .var("seed_device", 3);
        let l = Layered::new(Some(Arc::new(base)));
        assert_eq!(l.find(Namespace::Struct, "kmem_cache"), Some(TypeId(1)));
        // Only a forward in the kernel: the kernel's id until a module defines it.
        assert_eq!(l.find(Namespace::Struct, "seed_dev"), Some(TypeId(2)));
        l.add("crashme", Arc::new(module)).unwrap();
        assert_eq!(l.find(Namespace::Struct, "kmem_cache"), Some(TypeId(1)));
        let dev = l.find(Namespace::Struct, "seed_dev").unwrap();
        assert_eq!(dev, TypeId(1 << 48 | 2));
        let Kind::Struct { members } = &l.get(dev).unwrap().kind else {
            panic!("not a struct")
        };
        assert_eq!(members[0].ty, TypeId(1 << 48 | 5));
        assert_eq!(l.get(members[0].ty).unwrap().name.as_deref(), Some("int"));
        let g = l.variable("seed_device").unwrap();
        let Kind::Pointer { target } = l.get(g.ty).unwrap().kind else {
            panic!("not a pointer")
        };
        assert_eq!(target, dev);
        assert_eq!(l.added_names(), vec!["crashme".to_string()]);
        assert!(l.remove("crashme"));
        assert_eq!(l.find(Namespace::Struct, "seed_dev"), Some(TypeId(2)));
        assert!(l.variable("seed_device").is_none());
        assert!(l.get(dev).is_none());
    }

    #[test]
    fn no_kernel_source_still_takes_modules() {
        let l = Layered::new(None);
        assert!(l.is_empty());
        l.add(
            "m",
            Arc::new(Src::default().ty(7, Namespace::Plain, "u8", int())),
        )
        .unwrap();
        assert!(!l.is_empty());
        assert_eq!(l.find(Namespace::Plain, "u8"), Some(TypeId(1 << 48 | 7)));
    }

    #[test]
    fn enumerators_from_the_kernel_first_then_modules() {
        let base = Src::default().constant("PIDTYPE_PID", 4, 0).constant("SHARED", 4, 1);
        let module = Src::default().constant("SEED_ON", 9, 2).constant("SHARED", 9, 5);
        let l = Layered::new(Some(Arc::new(base)));
        assert_eq!(l.enumerator("SEED_ON"), None);
        l.add("crashme", Arc::new(module)).unwrap();
        assert_eq!(l.enumerator("PIDTYPE_PID"), Some((TypeId(4), 0)));
        assert_eq!(l.enumerator("SHARED"), Some((TypeId(4), 1)));
        assert_eq!(l.enumerator("SEED_ON"), Some((TypeId(1 << 48 | 9), 2)));
        assert_eq!(l.enumerator("nothing"), None);
        assert!(l.remove("crashme"));
        assert_eq!(l.enumerator("SEED_ON"), None);
    }
}
