//! Integer arithmetic as gdb does it for C (`binop_promote`, `scalar_binop`
//! in gdb's valarith.c): operands narrower than `int` become `int`; of two
//! operands the wider one's type wins; on equal widths, unsigned wins. The
//! result is one of gdb's built-in types, whatever typedefs the operands had.

use kdive_debuginfo::types::TypeId;

use super::overlay::Builtin;
use super::parse::Bin;
use super::Error;

/// An integer or pointer rvalue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scalar {
    /// The value, zero-extended from `size` bytes.
    pub bits: u64,
    /// 1, 2, 4 or 8.
    pub size: u8,
    pub signed: bool,
    /// For a pointer: its type (a `Kind::Pointer` id).
    pub ptr: Option<TypeId>,
}

/// The low `size` bytes of `v`.
pub fn mask(v: u64, size: u8) -> u64 {
    if size >= 8 {
        v
    } else {
        v & ((1u64 << (size * 8)) - 1)
    }
}

/// `v` of `size` bytes, sign-extended.
pub fn sext(v: u64, size: u8) -> i64 {
    let shift = 64 - u32::from(size.clamp(1, 8)) * 8;
    ((v << shift) as i64) >> shift
}

impl Scalar {
    pub fn int(bits: u64, size: u8, signed: bool) -> Scalar {
        Scalar {
            bits: mask(bits, size),
            size,
            signed,
            ptr: None,
        }
    }

    pub fn to_i128(self) -> i128 {
        if self.signed {
            i128::from(sext(self.bits, self.size))
        } else {
            i128::from(self.bits)
        }
    }

    pub fn is_zero(self) -> bool {
        self.bits == 0
    }

    /// C's integer promotion (gdb's `unop_promote`): the width and
    /// signedness the value takes part in arithmetic with.
    fn promoted(self) -> (u8, bool) {
        if self.size < 4 {
            (4, true)
        } else {
            (self.size, self.signed)
        }
    }
}

/// gdb's built-in type for a width and signedness.
pub fn builtin_for(size: u8, signed: bool) -> Builtin {
    match (size <= 4, signed) {
        (true, true) => Builtin::Int,
        (true, false) => Builtin::UInt,
        (false, true) => Builtin::Long,
        (false, false) => Builtin::ULong,
    }
}

/// The common type of two operands (gdb's `binop_promote` for C).
pub fn common(a: Scalar, b: Scalar) -> (u8, bool) {
    let (la, sa) = a.promoted();
    let (lb, sb) = b.promoted();
    match la.cmp(&lb) {
        std::cmp::Ordering::Greater => (la, sa),
        std::cmp::Ordering::Less => (lb, sb),
        std::cmp::Ordering::Equal => (la, sa && sb),
    }
}

/// Unary promotion for `-`, `+`, `~`: the width and signedness of the
/// result, and whether the operand's own type is kept (gdb keeps it when
/// no promotion happens).
pub fn unary_type(a: Scalar) -> (u8, bool, bool) {
    let (size, signed) = a.promoted();
    (size, signed, a.size >= 4)
}

/// `a OP b` on integers, in the common type. Comparisons give 0 or 1 (as
/// `int`, which the caller picks).
pub fn binop(op: Bin, a: Scalar, b: Scalar) -> Result<Scalar, Error> {
    let (size, signed) = common(a, b);
    let x = mask(a.to_i128() as u64, size);
    let y = mask(b.to_i128() as u64, size);
    let (sx, sy) = (sext(x, size), sext(y, size));
    let bits = size * 8;
    let cmp = |o: std::cmp::Ordering| -> Scalar {
        let yes = match op {
            Bin::Lt => o.is_lt(),
            Bin::Gt => o.is_gt(),
            Bin::Le => o.is_le(),
            Bin::Ge => o.is_ge(),
            Bin::Eq => o.is_eq(),
            _ => o.is_ne(),
        };
        Scalar::int(u64::from(yes), 4, true)
    };
    let v = match op {
        Bin::Add => x.wrapping_add(y),
        Bin::Sub => x.wrapping_sub(y),
        Bin::Mul => x.wrapping_mul(y),
        Bin::Div | Bin::Rem if y == 0 => return Err(Error::gdb("Division by zero")),
        Bin::Div if signed => sx.wrapping_div(sy) as u64,
        Bin::Rem if signed => sx.wrapping_rem(sy) as u64,
        Bin::Div => x / y,
        Bin::Rem => x % y,
        Bin::BitAnd => x & y,
        Bin::BitOr => x | y,
        Bin::BitXor => x ^ y,
        Bin::Shl | Bin::Shr => {
            // The count is the right operand's own value, not converted.
            let n = b.to_i128();
            let wide = n < 0 || n >= i128::from(bits);
            match (op, wide) {
                (Bin::Shl, true) => 0,
                (Bin::Shl, false) => x << n,
                (_, true) if signed && sx < 0 => u64::MAX,
                (_, true) => 0,
                (_, false) if signed => (sx >> n) as u64,
                (_, false) => x >> n,
            }
        }
        Bin::Lt | Bin::Gt | Bin::Le | Bin::Ge | Bin::Eq | Bin::Ne => {
            return Ok(if signed {
                cmp(sx.cmp(&sy))
            } else {
                cmp(x.cmp(&y))
            })
        }
    };
    Ok(Scalar::int(v, size, signed))
}

/// Compare two addresses (pointers, or a pointer and an integer).
pub fn compare_addresses(op: Bin, a: u64, b: u64) -> Option<bool> {
    Some(match op {
        Bin::Lt => a < b,
        Bin::Gt => a > b,
        Bin::Le => a <= b,
        Bin::Ge => a >= b,
        Bin::Eq => a == b,
        Bin::Ne => a != b,
        _ => return None,
    })
}
