//! The scalar types a [`Tape`](crate::Tape) can hold: `f32` and `f64`.

use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::{AddAssign, DivAssign, MulAssign, SubAssign};

pub(crate) mod sealed {
    use crate::ops::kernels::Kernels;

    /// Keeps [`Real`](super::Real) closed to `f32` and `f64`, and carries the explicitly
    /// vectorised inner loops of `ops::kernels`, implemented there for each type: the portable
    /// row kernels, and the kernel tables (portable and, where the CPU has the features, AVX2 +
    /// FMA) with the one chosen at run time.
    pub trait Sealed: Sized + 'static {
        /// `Σᵢ aᵢ·bᵢ` over the common length.
        fn simd_dot(a: &[Self], b: &[Self]) -> Self;
        /// `[r₀·x, r₁·x, r₂·x, r₃·x]`, each row as long as `x`.
        fn simd_dot4(rows: [&[Self]; 4], x: &[Self]) -> [Self; 4];
        /// `y += g₀·r₀ + g₁·r₁ + g₂·r₂ + g₃·r₃`, each row as long as `y`.
        fn simd_add_rows4(g: [Self; 4], rows: [&[Self]; 4], y: &mut [Self]);
        /// Every kernel table this CPU can run: the portable one first, then each variant whose
        /// CPU features were detected, best last.
        fn variants() -> Vec<&'static Kernels<Self>>;
        /// The table the kernels run: the best of [`Sealed::variants`], chosen on the first call
        /// and cached.
        fn kernels() -> &'static Kernels<Self>;
    }
}

/// A floating-point element type of the engine, implemented for `f32` and `f64` only (sealed).
///
/// It is [`num_traits::Float`] plus the few conversions the engine needs.
///
/// # Example
/// ```
/// use autodiff::Real;
/// fn half<T: Real>() -> T {
///     T::cst(0.5)
/// }
/// assert_eq!(half::<f32>(), 0.5_f32);
/// ```
pub trait Real:
    num_traits::Float
    + Default
    + Debug
    + Display
    + Send
    + Sync
    + 'static
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Sum
    + sealed::Sealed
{
    /// The type's name, `"f32"` or `"f64"`, for reports.
    const NAME: &'static str;

    /// Converts an `f64` constant to this type (rounding to nearest for `f32`).
    fn cst(x: f64) -> Self;

    /// Widens this value to `f64` (exact for both types), for error messages and reports.
    fn to_f64_lossless(self) -> f64;
}

impl Real for f32 {
    const NAME: &'static str = "f32";

    #[inline]
    fn cst(x: f64) -> Self {
        x as f32
    }

    #[inline]
    fn to_f64_lossless(self) -> f64 {
        f64::from(self)
    }
}

impl Real for f64 {
    const NAME: &'static str = "f64";

    #[inline]
    fn cst(x: f64) -> Self {
        x
    }

    #[inline]
    fn to_f64_lossless(self) -> f64 {
        self
    }
}
