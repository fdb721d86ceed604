//! Evaluation of a parsed expression, after gdb's `evaluate_subexp_c` and
//! valops.c / valarith.c: which operations apply to which types, and
//! gdb's messages when they do not.

use std::sync::Arc;

use kdive_debuginfo::types::{self, FoundMember, Kind, Namespace, Type, TypeId, TypeSource};

use super::arith::{self, builtin_for, mask, Scalar};
use super::lex::LitType;
use super::overlay::{Builtin, Overlay};
use super::parse::{Bin, Expr, Un};
use super::{Error, Evaluator, Place, Value, MAX_VALUE_BYTES};

const NOT_A_NUMBER: &str = "Argument to arithmetic operation not a number or boolean.";
const NOT_A_POINTER: &str = "Attempt to take contents of a non-pointer value.";
const NOT_IN_MEMORY: &str = "Attempt to take address of value not located in memory.";

/// One evaluation. `dry` evaluates for the type only, as gdb does under
/// `sizeof` and `whatis`: memory reads give zeros and nothing faults.
pub struct Ev<'e> {
    ev: &'e Evaluator<'e>,
    dry: bool,
}

impl<'e> Ev<'e> {
    pub fn new(ev: &'e Evaluator<'e>, dry: bool) -> Ev<'e> {
        Ev { ev, dry }
    }

    fn types(&self) -> &'e Overlay<'e> {
        &self.ev.types
    }

    fn strip(&self, id: TypeId) -> Result<(TypeId, Arc<Type>), Error> {
        types::strip(self.types(), id).ok_or_else(|| Error::gdb(format!("Unknown type {id:?}.")))
    }

    fn name_of(&self, id: TypeId) -> String {
        types::type_name(self.types(), id)
    }

    fn read(&self, addr: u64, len: u64) -> Result<Vec<u8>, Error> {
        if len > MAX_VALUE_BYTES {
            return Err(Error::gdb(format!(
                "Value of {len} bytes is too large to read whole."
            )));
        }
        let mut buf = vec![0; len as usize];
        if !self.dry {
            self.ev
                .ctx
                .read(addr, &mut buf)
                .map_err(|reason| Error::Memory { addr, reason })?;
        }
        Ok(buf)
    }

    /// The bytes of a whole value.
    pub fn bytes(&self, v: &Value) -> Result<Vec<u8>, Error> {
        let size = types::size_of(self.types(), v.ty).ok_or_else(|| {
            Error::gdb(format!(
                "Cannot determine the size of type {}.",
                self.name_of(v.ty)
            ))
        })?;
        match &v.place {
            Place::Memory(a) => self.read(*a, size),
            Place::Bytes(b) => Ok(b.clone()),
        }
    }

    fn int(&self, b: Builtin, bits: u64) -> Value {
        let size = types::size_of(self.types(), self.types().builtin(b)).unwrap_or(8);
        self.typed(self.types().builtin(b), bits, size as u8)
    }

    fn typed(&self, ty: TypeId, bits: u64, size: u8) -> Value {
        let bytes = bits.to_le_bytes()[..usize::from(size.min(8))].to_vec();
        Value {
            ty,
            place: Place::Bytes(bytes),
        }
    }

    /// A value as an integer or pointer, or `None` for types that are
    /// neither (structs, unions, void). Arrays and functions decay to
    /// pointers, as in C.
    fn scalar_opt(&self, v: &Value) -> Result<Option<Scalar>, Error> {
        let (_, t) = self.strip(v.ty)?;
        let (size, signed, ptr) = match &t.kind {
            Kind::Int { signed, .. } if !self.types().is_nodebug(v.ty) => {
                let size = t.size.unwrap_or(0);
                if ![1, 2, 4, 8].contains(&size) {
                    return Err(Error::gdb(format!(
                        "Integers of {size} bytes are not supported."
                    )));
                }
                (size as u8, *signed, None)
            }
            Kind::Enum { values } => (
                t.size.unwrap_or(4).clamp(1, 8) as u8,
                values.iter().any(|v| v.1 < 0),
                None,
            ),
            Kind::Pointer { .. } => (8, false, Some(v.ty)),
            Kind::Array { elem, .. } => {
                let a = v.address().ok_or_else(|| Error::gdb(NOT_IN_MEMORY))?;
                return Ok(Some(Scalar {
                    bits: a,
                    size: 8,
                    signed: false,
                    ptr: Some(self.types().pointer(*elem)),
                }));
            }
            Kind::Function { .. } => {
                let a = v.address().ok_or_else(|| Error::gdb(NOT_IN_MEMORY))?;
                return Ok(Some(Scalar {
                    bits: a,
                    size: 8,
                    signed: false,
                    ptr: Some(self.types().pointer(v.ty)),
                }));
            }
            Kind::Float => return Err(Error::gdb("Floating-point values are not supported.")),
            _ => return Ok(None),
        };
        let bytes = match &v.place {
            Place::Memory(a) => self.read(*a, u64::from(size))?,
            Place::Bytes(b) => b.clone(),
        };
        let mut le = [0u8; 8];
        let n = bytes.len().min(usize::from(size));
        le[..n].copy_from_slice(&bytes[..n]);
        Ok(Some(Scalar {
            bits: u64::from_le_bytes(le),
            size,
            signed,
            ptr,
        }))
    }

    /// A value as an integer or pointer; `msg` when it is neither.
    pub fn scalar(&self, v: &Value, msg: &str) -> Result<Scalar, Error> {
        self.scalar_opt(v)?.ok_or_else(|| Error::gdb(msg))
    }

    /// An integer that is not a pointer.
    fn integer(&self, v: &Value, msg: &str) -> Result<Scalar, Error> {
        let s = self.scalar(v, msg)?;
        match s.ptr {
            Some(_) => Err(Error::gdb(msg)),
            None => Ok(s),
        }
    }

    fn truth(&self, e: &Expr) -> Result<bool, Error> {
        let v = self.eval(e)?;
        Ok(!self.scalar(&v, NOT_A_NUMBER)?.is_zero())
    }

    pub fn eval(&self, e: &Expr) -> Result<Value, Error> {
        match e {
            Expr::Int(v, t) => Ok(self.int(
                match t {
                    LitType::Int => Builtin::Int,
                    LitType::UInt => Builtin::UInt,
                    LitType::Long => Builtin::Long,
                    LitType::ULong => Builtin::ULong,
                },
                *v,
            )),
            Expr::Char(c) => Ok(self.int(Builtin::Char, u64::from(*c))),
            Expr::Str(s) => {
                let char_ = self.types().builtin(Builtin::Char);
                let mut bytes = s.clone();
                bytes.push(0);
                let ty = self
                    .types()
                    .array(char_, Some(bytes.len() as u64))
                    .ok_or_else(|| Error::gdb("String too long."))?;
                Ok(Value {
                    ty,
                    place: Place::Bytes(bytes),
                })
            }
            Expr::Name(n) => self.name(n, false),
            Expr::Member { base, name, arrow } => self.member(self.eval(base)?, name, *arrow),
            Expr::Index(a, i) => self.index(self.eval(a)?, self.eval(i)?),
            Expr::Call(f) => {
                self.eval(f)?;
                Err(Error::gdb("You can't do that without a process to debug."))
            }
            Expr::Unary(Un::Addr, inner) => self.address_of(inner),
            Expr::Unary(op, inner) => self.unary(*op, self.eval(inner)?),
            Expr::Cast(t, inner) => self.cast(*t, inner),
            Expr::Memval(t, inner) => {
                let a = self.scalar(&self.eval(inner)?, NOT_A_NUMBER)?;
                Ok(Value {
                    ty: *t,
                    place: Place::Memory(a.bits),
                })
            }
            Expr::SizeofType(t) => self.size_value(*t),
            Expr::SizeofValue(inner) => self.size_value(Ev::new(self.ev, true).eval(inner)?.ty),
            Expr::Binary(op, a, b) => self.binary(*op, self.eval(a)?, self.eval(b)?),
            Expr::And(a, b) => {
                let v = self.truth(a)? && self.truth(b)?;
                Ok(self.int(Builtin::Int, u64::from(v)))
            }
            Expr::Or(a, b) => {
                let v = self.truth(a)? || self.truth(b)?;
                Ok(self.int(Builtin::Int, u64::from(v)))
            }
            Expr::Cond(c, a, b) => self.eval(if self.truth(c)? { a } else { b }),
            Expr::Comma(a, b) => {
                self.eval(a)?;
                self.eval(b)
            }
            Expr::Repeat(a, n) => {
                let v = self.eval(a)?;
                let n = self.integer(&self.eval(n)?, NOT_A_NUMBER)?.to_i128();
                let addr = v
                    .address()
                    .ok_or_else(|| Error::gdb("Only values in memory can be extended with '@'."))?;
                if n <= 0 || n > i128::from(u32::MAX) {
                    return Err(Error::gdb(format!("Invalid number {n} of repetitions.")));
                }
                let ty = self.types().array(v.ty, Some(n as u64));
                let ty =
                    ty.ok_or_else(|| Error::gdb(format!("Invalid number {n} of repetitions.")))?;
                Ok(Value {
                    ty,
                    place: Place::Memory(addr),
                })
            }
        }
    }

    /// A name: a variable, a function, an enumerator, or a symbol with no
    /// type (allowed only where gdb allows it: under `&` and casts).
    fn name(&self, n: &str, untyped_ok: bool) -> Result<Value, Error> {
        let ctx = self.ev.ctx;
        let types = self.types();
        // The session's symbol table is relocated (KASLR); a type source's
        // address is the link-time one, so the symbol table wins.
        if let Some(g) = types.variable(n).or_else(|| types.function(n)) {
            if g.optimized_out && ctx.symbol_addr(n).is_none() {
                return Err(Error::gdb("value has been optimized out"));
            }
            let addr = ctx.symbol_addr(n).or(g.addr).ok_or_else(|| {
                Error::gdb(format!(
                    "Cannot access memory for \"{n}\": its address is unknown."
                ))
            })?;
            return Ok(Value {
                ty: g.ty,
                place: Place::Memory(addr),
            });
        }
        if let Some((ty, v)) = ctx.enumerator(n) {
            let size = types::size_of(types, ty).unwrap_or(4).clamp(1, 8);
            return Ok(self.typed(ty, v as u64, size as u8));
        }
        if let Some(addr) = ctx.symbol_addr(n) {
            if untyped_ok {
                return Ok(Value {
                    ty: types.nodebug(),
                    place: Place::Memory(addr),
                });
            }
            return Err(Error::gdb(format!(
                "'{n}' has unknown type; cast it to its declared type"
            )));
        }
        if types.find(Namespace::Plain, n).is_some() {
            return Err(Error::gdb("Attempt to use a type name as an expression"));
        }
        Err(Error::gdb(format!("No symbol \"{n}\" in current context.")))
    }

    /// `base.name` and `base->name`: both follow pointers (gdb's
    /// `value_struct_elt`), so `task->comm` and `ptr.comm` both work.
    fn member(&self, mut v: Value, name: &str, arrow: bool) -> Result<Value, Error> {
        for _ in 0..8 {
            let (_, t) = self.strip(v.ty)?;
            v = match t.kind {
                Kind::Pointer { target } => {
                    let p = self.scalar(&v, NOT_A_POINTER)?;
                    Value {
                        ty: target,
                        place: Place::Memory(p.bits),
                    }
                }
                Kind::Array { elem, .. } => self.element(&v, elem, 0)?,
                _ => break,
            };
        }
        let (sid, t) = self.strip(v.ty)?;
        match t.kind {
            Kind::Struct { .. } | Kind::Union { .. } => {}
            Kind::Forward {
                ns: Namespace::Struct | Namespace::Union,
            } => {}
            _ => {
                let what = if arrow {
                    "structure pointer"
                } else {
                    "structure"
                };
                return Err(Error::gdb(format!(
                    "Attempt to extract a component of a value that is not a {what}."
                )));
            }
        }
        let found = types::member(self.types(), sid, name)
            .ok_or_else(|| Error::gdb(format!("There is no member named {name}.")))?;
        self.field(&v, &found)
    }

    /// The member `m` of the aggregate `v`.
    fn field(&self, v: &Value, m: &FoundMember) -> Result<Value, Error> {
        let ty = m.member.ty;
        let off = m.offset_bits;
        if m.member.bit_size.is_some() || off % 8 != 0 {
            return self.bitfield(v, ty, off, m.member.bit_size);
        }
        let size = types::size_of(self.types(), ty);
        self.slice(v, ty, off / 8, size)
    }

    /// The part of `v` at byte `off`, of type `ty` and `size` bytes.
    fn slice(&self, v: &Value, ty: TypeId, off: u64, size: Option<u64>) -> Result<Value, Error> {
        let place = match &v.place {
            Place::Memory(a) => Place::Memory(a.wrapping_add(off)),
            Place::Bytes(b) => {
                let start = usize::try_from(off).unwrap_or(usize::MAX);
                let end = match size {
                    Some(s) => start.saturating_add(usize::try_from(s).unwrap_or(usize::MAX)),
                    None => b.len(),
                };
                Place::Bytes(
                    b.get(start..end)
                        .ok_or_else(|| Error::gdb("no such vector element"))?
                        .to_vec(),
                )
            }
        };
        Ok(Value { ty, place })
    }

    /// A bitfield, read out as a value of its declared type (it has no
    /// address, so `&` on it fails as in gdb).
    fn bitfield(
        &self,
        v: &Value,
        ty: TypeId,
        off: u64,
        width: Option<u32>,
    ) -> Result<Value, Error> {
        let size = types::size_of(self.types(), ty).unwrap_or(4).clamp(1, 8) as u8;
        let width = u64::from(width.unwrap_or(u32::from(size) * 8)).clamp(1, 64);
        let first = off / 8;
        let len = (off % 8 + width).div_ceil(8);
        let raw = match &v.place {
            Place::Memory(a) => self.read(a.wrapping_add(first), len)?,
            Place::Bytes(b) => {
                let r = b.get(first as usize..(first + len) as usize);
                r.ok_or_else(|| Error::gdb("no such vector element"))?
                    .to_vec()
            }
        };
        let mut le = [0u8; 16];
        le[..raw.len()].copy_from_slice(&raw);
        let all = u128::from_le_bytes(le) >> (off % 8);
        let bits = (all as u64)
            & if width == 64 {
                u64::MAX
            } else {
                (1 << width) - 1
            };
        let signed = match self.strip(ty)?.1.kind {
            Kind::Int { signed, .. } => signed,
            Kind::Enum { ref values } => values.iter().any(|v| v.1 < 0),
            _ => false,
        };
        let shift = 64 - width;
        let bits = if signed {
            (((bits << shift) as i64) >> shift) as u64
        } else {
            bits
        };
        Ok(self.typed(ty, mask(bits, size), size))
    }

    /// Element `i` of the array `v` whose elements are `elem`.
    fn element(&self, v: &Value, elem: TypeId, i: i128) -> Result<Value, Error> {
        let esz = self.pointee_size(elem)?;
        let off = (i * i128::from(esz)) as u64;
        match &v.place {
            Place::Memory(a) => Ok(Value {
                ty: elem,
                place: Place::Memory(a.wrapping_add(off)),
            }),
            Place::Bytes(_) if i < 0 => Err(Error::gdb("no such vector element")),
            Place::Bytes(_) => self.slice(v, elem, off, Some(esz)),
        }
    }

    /// `a[i]`.
    fn index(&self, a: Value, i: Value) -> Result<Value, Error> {
        let (sid, t) = self.strip(a.ty)?;
        match t.kind {
            Kind::Array { elem, .. } => {
                let i = self.integer(&i, NOT_A_NUMBER)?.to_i128();
                self.element(&a, elem, i)
            }
            Kind::Pointer { .. } => {
                let sum = self.binary(Bin::Add, a, i)?;
                self.unary(Un::Deref, sum)
            }
            // gdb names the type by its own name: `unsigned long` (the
            // canonical spelling), `task_struct` (no `struct`).
            _ => Err(Error::gdb(match (&t.name, &t.kind) {
                (Some(_), Kind::Int { .. } | Kind::Float) => {
                    format!("cannot subscript something of type `{}'", self.name_of(sid))
                }
                (Some(n), _) => format!("cannot subscript something of type `{n}'"),
                (None, _) => "cannot subscript requested type".to_string(),
            })),
        }
    }

    /// The size pointer arithmetic steps by: gdb takes `void` and
    /// functions as 1, and refuses incomplete types.
    fn pointee_size(&self, target: TypeId) -> Result<u64, Error> {
        let (_, t) = self.strip(target)?;
        if matches!(t.kind, Kind::Void | Kind::Function { .. }) {
            return Ok(1);
        }
        match types::size_of(self.types(), target) {
            Some(s) if s > 0 || matches!(t.kind, Kind::Struct { .. } | Kind::Union { .. } | Kind::Array { .. }) => Ok(s),
            _ => Err(Error::gdb(format!(
                "Cannot perform pointer math on incomplete type \"{}\", try casting to a known type, or void *.",
                self.name_of(target)
            ))),
        }
    }

    fn unary(&self, op: Un, v: Value) -> Result<Value, Error> {
        if op == Un::Deref {
            return self.deref(v);
        }
        let s = self.scalar(
            &v,
            match op {
                Un::Neg => "Argument to negate operation not a number.",
                Un::Compl => "Argument to complement operation not an integer, boolean.",
                _ => NOT_A_NUMBER,
            },
        )?;
        if op == Un::Not {
            return Ok(self.int(Builtin::Int, u64::from(s.is_zero())));
        }
        if s.ptr.is_some() {
            return Err(Error::gdb(match op {
                Un::Neg => "Argument to negate operation not a number.",
                Un::Compl => "Argument to complement operation not an integer, boolean.",
                _ => NOT_A_NUMBER,
            }));
        }
        let (size, signed, keep) = arith::unary_type(s);
        let x = mask(s.to_i128() as u64, size);
        let bits = match op {
            Un::Neg => x.wrapping_neg(),
            Un::Compl => !x,
            _ => x,
        };
        let ty = if keep {
            v.ty
        } else {
            self.types().builtin(builtin_for(size, signed))
        };
        Ok(self.typed(ty, mask(bits, size), size))
    }

    /// `*v`: a pointer's target, an array's first element, a function
    /// itself, or (gdb's rule) an `int` at an integer address.
    fn deref(&self, v: Value) -> Result<Value, Error> {
        let (_, t) = self.strip(v.ty)?;
        match t.kind {
            Kind::Pointer { target } => {
                let (_, tt) = self.strip(target)?;
                if matches!(tt.kind, Kind::Void) || self.types().is_nodebug(target) {
                    return Err(Error::gdb(NOT_A_POINTER));
                }
                let p = self.scalar(&v, NOT_A_POINTER)?;
                Ok(Value {
                    ty: target,
                    place: Place::Memory(p.bits),
                })
            }
            Kind::Array { elem, .. } => self.element(&v, elem, 0),
            Kind::Function { .. } => Ok(v),
            Kind::Int { .. } if !self.types().is_nodebug(v.ty) => {
                let p = self.scalar(&v, NOT_A_POINTER)?;
                let addr = p.to_i128() as u64;
                Ok(Value {
                    ty: self.types().builtin(Builtin::Int),
                    place: Place::Memory(addr),
                })
            }
            _ => Err(Error::gdb(NOT_A_POINTER)),
        }
    }

    fn address_of(&self, inner: &Expr) -> Result<Value, Error> {
        let v = match inner {
            Expr::Name(n) => self.name(n, true)?,
            _ => self.eval(inner)?,
        };
        let a = v.address().ok_or_else(|| Error::gdb(NOT_IN_MEMORY))?;
        Ok(self.typed(self.types().pointer(v.ty), a, 8))
    }

    /// `(T)e`, after gdb's `value_cast`: integers, enums and pointers
    /// convert; anything else of the same size is reinterpreted, and an
    /// lvalue of another size is read as `T` at its address. A symbol with
    /// no type is read as `T` (gdb: `(long)sym`).
    fn cast(&self, to: TypeId, inner: &Expr) -> Result<Value, Error> {
        let v = match inner {
            Expr::Name(n) => self.name(n, true)?,
            _ => self.eval(inner)?,
        };
        if self.types().is_nodebug(v.ty) {
            return Ok(Value {
                ty: to,
                place: v.place,
            });
        }
        let (_, t) = self.strip(to)?;
        let numeric = matches!(
            t.kind,
            Kind::Int { .. } | Kind::Enum { .. } | Kind::Pointer { .. }
        );
        if matches!(t.kind, Kind::Void) {
            return Ok(Value {
                ty: to,
                place: Place::Bytes(Vec::new()),
            });
        }
        if numeric {
            if let Some(s) = self.scalar_opt(&v)? {
                let size = types::size_of(self.types(), to).unwrap_or(8).clamp(1, 8) as u8;
                let is_bool = matches!(
                    t.kind,
                    Kind::Int {
                        encoding: types::IntEncoding::Bool,
                        ..
                    }
                );
                let bits = if is_bool {
                    u64::from(!s.is_zero())
                } else {
                    s.to_i128() as u64
                };
                return Ok(self.typed(to, mask(bits, size), size));
            }
        }
        let same_size = types::size_of(self.types(), to).is_some()
            && types::size_of(self.types(), to) == types::size_of(self.types(), v.ty);
        match v.place {
            Place::Memory(_) => Ok(Value {
                ty: to,
                place: v.place,
            }),
            Place::Bytes(_) if same_size => Ok(Value {
                ty: to,
                place: v.place,
            }),
            Place::Bytes(_) => Err(Error::gdb("Invalid cast.")),
        }
    }

    /// `sizeof`: an `int`, as in gdb (its "FIXME: This should be size_t"),
    /// which gives 1 for `void` and functions.
    fn size_value(&self, ty: TypeId) -> Result<Value, Error> {
        if self.types().is_nodebug(ty) {
            return Err(Error::gdb(format!(
                "'{}' has unknown type",
                self.name_of(ty)
            )));
        }
        let (_, t) = self.strip(ty)?;
        let size = match t.kind {
            Kind::Void | Kind::Function { .. } => Some(1),
            _ => types::size_of(self.types(), ty),
        };
        let size = size.ok_or_else(|| {
            Error::gdb(format!(
                "Cannot determine the size of type {}.",
                self.name_of(ty)
            ))
        })?;
        Ok(self.int(Builtin::Int, size))
    }

    fn binary(&self, op: Bin, a: Value, b: Value) -> Result<Value, Error> {
        let is_cmp = matches!(
            op,
            Bin::Lt | Bin::Gt | Bin::Le | Bin::Ge | Bin::Eq | Bin::Ne
        );
        let msg = match op {
            Bin::Eq | Bin::Ne => "Invalid type combination in equality test.",
            _ if is_cmp => "Invalid type combination in ordering comparison.",
            _ => NOT_A_NUMBER,
        };
        let x = self.scalar(&a, msg)?;
        let y = self.scalar(&b, msg)?;
        match (op, x.ptr, y.ptr) {
            (_, None, None) => {
                let r = arith::binop(op, x, y)?;
                let ty = if is_cmp {
                    Builtin::Int
                } else {
                    builtin_for(r.size, r.signed)
                };
                Ok(self.typed(
                    self.types().builtin(ty),
                    r.bits,
                    if is_cmp { 4 } else { r.size },
                ))
            }
            (_, _, _) if is_cmp => {
                let yes = arith::compare_addresses(op, x.bits, y.bits).unwrap_or(false);
                Ok(self.int(Builtin::Int, u64::from(yes)))
            }
            (Bin::Add, Some(p), None) => self.pointer_add(p, x.bits, y.to_i128()),
            (Bin::Add, None, Some(p)) => self.pointer_add(p, y.bits, x.to_i128()),
            (Bin::Sub, Some(p), None) => self.pointer_add(p, x.bits, -y.to_i128()),
            (Bin::Sub, Some(p), Some(q)) => {
                let (sp, sq) = (self.pointer_step(p)?, self.pointer_step(q)?);
                if sp != sq {
                    return Err(Error::gdb(
                        "First argument of `-' is a pointer and second argument is neither\nan integer nor a pointer of the same type.",
                    ));
                }
                let diff = x.bits.wrapping_sub(y.bits) as i64;
                let n = if sp == 0 {
                    diff
                } else {
                    diff.wrapping_div(sp as i64)
                };
                Ok(self.int(Builtin::Long, n as u64))
            }
            _ => Err(Error::gdb(NOT_A_NUMBER)),
        }
    }

    /// The step of pointer arithmetic on a pointer type.
    fn pointer_step(&self, ptr: TypeId) -> Result<u64, Error> {
        match self.strip(ptr)?.1.kind {
            Kind::Pointer { target } => self.pointee_size(target),
            _ => Ok(1),
        }
    }

    fn pointer_add(&self, ptr: TypeId, base: u64, n: i128) -> Result<Value, Error> {
        let step = i128::from(self.pointer_step(ptr)?);
        let bits = base.wrapping_add(n.wrapping_mul(step) as u64);
        Ok(self.typed(ptr, bits, 8))
    }
}
