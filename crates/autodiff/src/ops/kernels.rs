//! Dense inner loops shared by the linear-algebra primitives, and the choice of their
//! instruction set at run time.
//!
//! # Variants and dispatch
//! The row kernels (`dot`, the four-row `dot4` of `matvec` and `matvec_rows`, and the four-row
//! update `add_rows4` of `matvec_transpose_add`) exist in several variants, each a [`Kernels`]
//! table of plain function pointers:
//! - **portable**: explicit SIMD vectors from [`wide`] at the build's vector width (SSE2 on a
//!   baseline x86-64 build, AVX with `-C target-cpu` that has it, plain arrays elsewhere). Left to
//!   itself, LLVM's SLP vectoriser transposes the four-row blocks through shuffles and ran these
//!   loops 1.2× (f64) to 2.3× (f32) slower.
//! - **avx2+fma** (x86-64 only, `kernels/avx2.rs`): 256-bit vectors and fused multiply–adds via
//!   `std::arch`, compiled with `#[target_feature(enable = "avx2,fma")]` whatever the build's
//!   baseline, so a default `cargo build` uses them on a CPU that has them;
//! - **avx512f** (x86-64 only, `kernels/avx512.rs`): the same kernels on 512-bit vectors
//!   (`#[target_feature(enable = "avx512f")]`, mask registers for the row remainders). On the
//!   AMD EPYC this was measured on (Zen 4, which splits a 512-bit operation in two), it runs as
//!   fast as the AVX2 variant, within the machine's noise; it is chosen where present as the
//!   widest.
//!
//! The tables and the choice among them: `simd_table!` builds each CPU-specific table,
//! `kernels/sealed.rs` implements [`Sealed`] (the portable kernels, `variants`, `kernels`).
//!
//! The first call of any kernel picks the best variant the CPU supports
//! (`is_x86_feature_detected!`) and caches the choice in a `OnceLock` per element type; every
//! later call is one load of that pointer. The drivers (`matvec`, `matvec_rows`,
//! `matvec_transpose_add`) are written once, generic over the row kernels
//! (`matvec_with` and the rest), and instantiated inside each variant's target-feature context,
//! so the row kernels inline into them.
//!
//! Each vector lane is an independent partial sum and FMA rounds once where a multiply and an
//! add round twice, so the variants' results differ from each other and from a left-to-right sum
//! in the last bits (within `γₙ·Σ|aᵢ·bᵢ|` of the exact value, each), never more.

use crate::real::sealed::Sealed;
use crate::Real;

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;

/// The signature of [`matvec_rows`]: `(A, x, need, out)`.
pub type MatvecRows<T> = fn(&[T], &[T], &[bool], &mut [T]);

/// One variant of the dense row kernels and of the drivers built on them.
///
/// Obtained only through [`Sealed::kernels`] (the variant chosen for this CPU) or
/// [`Sealed::variants`] (every variant this CPU can run), so a table whose code needs a CPU
/// feature exists only where the feature was detected.
pub struct Kernels<T: 'static> {
    /// The variant's name, `"portable"`, `"avx2+fma"` or `"avx512f"`.
    pub name: &'static str,
    /// `Σᵢ aᵢ·bᵢ` over the common length.
    pub dot: fn(&[T], &[T]) -> T,
    /// `[r₀·x, r₁·x, r₂·x, r₃·x]`, each row at least as long as `x`.
    pub dot4: fn([&[T]; 4], &[T]) -> [T; 4],
    /// `y += (g₀·r₀ + g₁·r₁) + (g₂·r₂ + g₃·r₃)`, each row at least as long as `y`.
    pub add_rows4: fn([T; 4], [&[T]; 4], &mut [T]),
    /// [`matvec`] in this variant.
    pub matvec: fn(&[T], &[T], &mut [T]),
    /// [`matvec_rows`] in this variant.
    pub matvec_rows: MatvecRows<T>,
    /// [`matvec_transpose_add`] in this variant.
    pub matvec_transpose_add: fn(&[T], &[T], &mut [T]),
    /// [`transpose_add_rows`] in this variant.
    pub(crate) transpose_add_rows: TransposeAddRows<T>,
    /// [`outer_add`] in this variant.
    pub(crate) outer_add: fn(&[T], &[T], usize, &mut [T]),
    /// [`count_near_zero`] in this variant.
    pub count_near_zero: fn(&[T], T) -> usize,
}

/// The three row kernels a driver is generic over (one implementation per variant).
trait Rows<T> {
    fn dot(a: &[T], b: &[T]) -> T;
    fn dot4(rows: [&[T]; 4], x: &[T]) -> [T; 4];
    fn add_rows4(g: [T; 4], rows: [&[T]; 4], y: &mut [T]);
}

/// The portable row kernels: `wide` vectors at the build's width, in [`Sealed`].
struct Portable;

impl<T: Real> Rows<T> for Portable {
    #[inline(always)]
    fn dot(a: &[T], b: &[T]) -> T {
        T::simd_dot(a, b)
    }
    #[inline(always)]
    fn dot4(rows: [&[T]; 4], x: &[T]) -> [T; 4] {
        T::simd_dot4(rows, x)
    }
    #[inline(always)]
    fn add_rows4(g: [T; 4], rows: [&[T]; 4], y: &mut [T]) {
        T::simd_add_rows4(g, rows, y)
    }
}

/// The name of the kernel variant this CPU runs (`"avx512f"`, `"avx2+fma"` or `"portable"`), the same for
/// both element types.
///
/// # Example
/// ```
/// let name = autodiff::vector_kernels();
/// assert!(["portable", "avx2+fma", "avx512f"].contains(&name));
/// ```
pub fn vector_kernels() -> &'static str {
    f64::kernels().name
}

/// Whether this CPU runs the AVX2 + FMA variant (checked once per element type, then cached).
#[cfg(target_arch = "x86_64")]
fn has_avx2_fma() -> bool {
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
}

/// Whether this CPU runs the AVX-512 variant (AVX-512F: 512-bit vectors and their FMA).
#[cfg(target_arch = "x86_64")]
fn has_avx512() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
}

/// `Σᵢ aᵢ·bᵢ` over the common length.
#[inline]
pub(crate) fn dot<T: Real>(a: &[T], b: &[T]) -> T {
    (T::kernels().dot)(a, b)
}

/// `y += α·x` over the common length (vertical, so the compiler vectorises it as written).
#[inline]
pub(crate) fn axpy<T: Real>(alpha: T, x: &[T], y: &mut [T]) {
    for (d, &v) in y.iter_mut().zip(x) {
        *d += alpha * v;
    }
}

/// `Σᵢ xᵢ` with eight independent partial sums (a sequential float sum is latency-bound).
#[inline]
pub(crate) fn sum<T: Real>(x: &[T]) -> T {
    let mut acc = [T::zero(); 8];
    let chunks = x.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for k in 0..8 {
            acc[k] += c[k];
        }
    }
    let mut s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for &v in rest {
        s += v;
    }
    s
}

/// The number of elements with `0 < |v| ≤ limit` (a NaN is not counted): the certified mode's
/// near-tie scan of a kink at 0, one pass with no branch per element.
#[inline]
pub(crate) fn count_near_zero<T: Real>(v: &[T], limit: T) -> usize {
    (T::kernels().count_near_zero)(v, limit)
}

#[inline(always)]
fn count_near_zero_with<T: Real>(v: &[T], limit: T) -> usize {
    // Both comparisons are false for a NaN; `usize` lanes keep the loop a plain vector sum.
    v.iter()
        .map(|w| {
            let d = w.abs();
            usize::from(d <= limit) & usize::from(d > T::zero())
        })
        .sum()
}

/// `out[i] = A[i]·x` for the rows of the row-major `A` (`out.len()` rows of `x.len()` columns).
///
/// Four rows at a time share each load of `x`.
#[inline]
pub(crate) fn matvec<T: Real>(a: &[T], x: &[T], out: &mut [T]) {
    (T::kernels().matvec)(a, x, out)
}

#[inline(always)]
fn matvec_with<T: Real, K: Rows<T>>(a: &[T], x: &[T], out: &mut [T]) {
    let c = x.len();
    if c == 0 {
        out.fill(T::zero());
        return;
    }
    for (block, o) in a.chunks_exact(4 * c).zip(out.chunks_exact_mut(4)) {
        let (r0, rest) = block.split_at(c);
        let (r1, rest) = rest.split_at(c);
        let (r2, r3) = rest.split_at(c);
        o.copy_from_slice(&K::dot4([r0, r1, r2, r3], x));
    }
    let done = out.len() / 4 * 4;
    for (o, row) in out[done..].iter_mut().zip(a[done * c..].chunks_exact(c)) {
        *o = K::dot(row, x);
    }
}

/// `out[i] = A[i]·x` for the rows `i` with `need[i]`; the other entries of `out` are left as
/// they are. The needed rows are gathered without branches and computed four at a time.
#[inline]
pub(crate) fn matvec_rows<T: Real>(a: &[T], x: &[T], need: &[bool], out: &mut [T]) {
    (T::kernels().matvec_rows)(a, x, need, out)
}

#[inline(always)]
fn matvec_rows_with<T: Real, K: Rows<T>>(a: &[T], x: &[T], need: &[bool], out: &mut [T]) {
    let c = x.len();
    let row = |i: usize| &a[i * c..(i + 1) * c];
    let mut buf = [0usize; BLOCK];
    for (b, (need, out)) in need.chunks(BLOCK).zip(out.chunks_mut(BLOCK)).enumerate() {
        let base = b * BLOCK;
        let mut count = 0;
        for (i, &nd) in need.iter().enumerate() {
            buf[count] = i;
            count += usize::from(nd);
        }
        let full = count / 4 * 4;
        let mut groups = buf[..count].chunks_exact(4);
        for (k, p) in (&mut groups).enumerate() {
            // As in `matvec_transpose_add`: the needed rows are a pattern the hardware
            // prefetchers do not follow, and the ones a few groups ahead are known.
            if let Some(next) = buf[..full].get((k + AHEAD) * 4..(k + AHEAD + 1) * 4) {
                for &i in next {
                    prefetch(row(base + i));
                }
            }
            let v = K::dot4([p[0], p[1], p[2], p[3]].map(|i| row(base + i)), x);
            for (&i, v) in p.iter().zip(v) {
                out[i] = v;
            }
        }
        for &i in groups.remainder() {
            out[i] = K::dot(row(base + i), x);
        }
    }
}

/// Four-row groups between a group's prefetch and its use in [`matvec_transpose_add`].
const AHEAD: usize = 8;

/// Asks the cache hierarchy for the lines of `row` (a hint: it reads nothing and cannot fault).
#[inline(always)]
fn prefetch<T>(row: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let bytes = std::mem::size_of_val(row);
        let base = row.as_ptr().cast::<i8>();
        let mut off = 0;
        while off < bytes {
            // SAFETY: a prefetch is only a hint; `off < bytes` keeps the address inside `row`.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(base.add(off)) };
            off += 64;
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = row;
}

/// Rows gathered per flush of [`matvec_transpose_add`]'s index buffer.
const BLOCK: usize = 256;

/// `y += Σᵢ g[i]·A[i]` over the rows of the row-major `A` (`g.len()` rows of `y.len()` columns),
/// skipping rows whose `g[i]` is 0.
///
/// The rows with `g[i] ≠ 0` are gathered without branches (a hinge loss makes that test a coin
/// toss) and added four at a time, so each load and store of `y` serves four rows. Rows are
/// visited first to last, and each group's rows are prefetched [`AHEAD`] groups before their
/// use: the rows with `g[i] ≠ 0` are a sparse, irregular subset that the hardware prefetchers do
/// not follow. (Measured at n = 10⁶, d = 100, f32, X out of cache: visiting the rows last to
/// first without prefetching read them at about 40 % of the forward `matvec`'s rate; ascending
/// with the prefetch, about 65 %. The old last-to-first order, meant to reuse the rows the
/// forward pass read last, showed no gain at n = 10⁵, where X just exceeds the L3 cache.)
#[inline]
pub(crate) fn matvec_transpose_add<T: Real>(a: &[T], g: &[T], y: &mut [T]) {
    (T::kernels().matvec_transpose_add)(a, g, y)
}

#[inline(always)]
fn matvec_transpose_add_with<T: Real, K: Rows<T>>(a: &[T], g: &[T], y: &mut [T]) {
    let mut carry = Carry::default();
    transpose_add_rows_with::<T, K, true>(a, g, 0, g.len(), &mut carry, y);
    carry.finish(a, g, y);
}

/// The rows with `g[i] ≠ 0` that [`transpose_add_rows`] gathered but has not added yet (fewer
/// than four: the start of the next four-row group).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Carry {
    rows: [usize; 3],
    count: usize,
}

impl Carry {
    /// Adds the rows still carried, one by one (`y += g[i]·A[i]`): the end of a sum over rows.
    #[inline]
    pub(crate) fn finish<T: Real>(&mut self, a: &[T], g: &[T], y: &mut [T]) {
        let c = y.len();
        for &i in &self.rows[..self.count] {
            axpy(g[i], &a[i * c..(i + 1) * c], y);
        }
        self.count = 0;
    }
}

/// [`matvec_transpose_add`] over the rows `start..end` only, carrying the last (fewer than four)
/// gathered rows to the next call in `carry`; [`Carry::finish`] adds them at the end.
///
/// Calls over consecutive windows `0..k₁, k₁..k₂, …` followed by `finish` perform the same
/// additions in the same order as one call of [`matvec_transpose_add`] over all rows, whatever
/// the windows: the rows with `g[i] ≠ 0` form the same list, added in the same groups of four
/// (so `ops::fuse` can add each block of rows while it is still in cache and get the unfused
/// backward's bits). `g` and `a` cover the same rows (`a` has `g.len()·y.len()` values).
///
/// Unlike [`matvec_transpose_add`] it does not prefetch: its caller has just read the window's
/// rows for `X·w`, so they are in cache (measured at n = 10⁶, f64: 35.4 / 35.4 / 33.9 ms a
/// fused step without the prefetch against 38.4 / 37.5 / 34.9 ms with it, alternating runs;
/// f32 unchanged).
#[inline]
pub(crate) fn transpose_add_rows<T: Real>(
    a: &[T],
    g: &[T],
    start: usize,
    end: usize,
    carry: &mut Carry,
    y: &mut [T],
) {
    (T::kernels().transpose_add_rows)(a, g, start, end, carry, y)
}

#[inline(always)]
fn transpose_add_rows_with<T: Real, K: Rows<T>, const PREFETCH: bool>(
    a: &[T],
    g: &[T],
    start: usize,
    end: usize,
    carry: &mut Carry,
    y: &mut [T],
) {
    let c = y.len();
    let row = |i: usize| &a[i * c..(i + 1) * c];
    let mut buf = [0usize; BLOCK + 4];
    buf[..carry.count].copy_from_slice(&carry.rows[..carry.count]);
    let mut count = carry.count;
    let mut start = start;
    while start < end {
        let stop = (start + BLOCK).min(end);
        for (i, &gi) in g[start..stop].iter().enumerate() {
            // `count ≤ 3` on entry, so at most BLOCK + 3 slots are written.
            buf[count] = start + i;
            count += usize::from(gi != T::zero());
        }
        let full = count / 4 * 4;
        for (k, p) in buf[..full].chunks_exact(4).enumerate() {
            // The rows a few groups ahead are known: ask for them now, since a sparse set of
            // rows is a pattern the hardware prefetchers do not follow.
            if PREFETCH {
                if let Some(next) = buf[..full].get((k + AHEAD) * 4..(k + AHEAD + 1) * 4) {
                    for &i in next {
                        prefetch(row(i));
                    }
                }
            }
            let gs = [p[0], p[1], p[2], p[3]].map(|i| g[i]);
            K::add_rows4(gs, [row(p[0]), row(p[1]), row(p[2]), row(p[3])], y);
        }
        buf.copy_within(full..count, 0);
        count -= full;
        start = stop;
    }
    carry.rows[..count].copy_from_slice(&buf[..count]);
    carry.count = count;
}

/// The signature of [`transpose_add_rows`]: `(A, g, start, end, carry, y)`.
pub(crate) type TransposeAddRows<T> = fn(&[T], &[T], usize, usize, &mut Carry, &mut [T]);

/// `y += Gᵀ·A` for the row-major `A` (n × k) and `G` (n × m) into `y` (m × k): the transpose of
/// `matmul`'s gradient with respect to its right operand. Four examples at a time, each row of
/// `y` takes one four-row update (`add_rows4`: `y[c] += Σ_r G[i+r][c]·A[i+r]`, rows of length k),
/// skipped when the four coefficients are 0 (a margin loss's `G` is mostly 0), and the last
/// rows' one by one when their coefficient is 0. (So a zero in `G` may stand for an exact zero
/// term, `0·∞` included, as a sparse product's missing entries do.)
#[inline]
pub(crate) fn outer_add<T: Real>(a: &[T], g: &[T], k: usize, y: &mut [T]) {
    (T::kernels().outer_add)(a, g, k, y)
}

#[inline(always)]
fn outer_add_with<T: Real, K: Rows<T>>(a: &[T], g: &[T], k: usize, y: &mut [T]) {
    if k == 0 || y.is_empty() {
        return;
    }
    let m = y.len() / k;
    let n = g.len() / m;
    let four = n / 4 * 4;
    for i in (0..four).step_by(4) {
        let rows = [i, i + 1, i + 2, i + 3].map(|r| &a[r * k..(r + 1) * k]);
        for (c, yc) in y.chunks_exact_mut(k).enumerate() {
            let coef = [i, i + 1, i + 2, i + 3].map(|r| g[r * m + c]);
            if coef != [T::zero(); 4] {
                K::add_rows4(coef, rows, yc);
            }
        }
    }
    for i in four..n {
        let row = &a[i * k..(i + 1) * k];
        for (c, yc) in y.chunks_exact_mut(k).enumerate() {
            if g[i * m + c] != T::zero() {
                axpy(g[i * m + c], row, yc);
            }
        }
    }
}

/// The portable kernel table of one element type.
macro_rules! portable_table {
    ($t:ty) => {
        Kernels {
            name: "portable",
            dot: <Portable as Rows<$t>>::dot,
            dot4: <Portable as Rows<$t>>::dot4,
            add_rows4: <Portable as Rows<$t>>::add_rows4,
            matvec: matvec_with::<$t, Portable>,
            matvec_rows: matvec_rows_with::<$t, Portable>,
            matvec_transpose_add: matvec_transpose_add_with::<$t, Portable>,
            transpose_add_rows: transpose_add_rows_with::<$t, Portable, false>,
            outer_add: outer_add_with::<$t, Portable>,
            count_near_zero: count_near_zero_with::<$t>,
        }
    };
}

static PORTABLE_F32: Kernels<f32> = portable_table!(f32);
static PORTABLE_F64: Kernels<f64> = portable_table!(f64);

/// The kernel table of one element type and one instruction set (`$kernels`: `avx2` or
/// `avx512`): that module's row kernels, and the drivers instantiated inside
/// `#[target_feature(enable = $feature)]` functions so those kernels inline into them. Each
/// entry is a safe shim over an `unsafe` call, sound because the table is only handed out by
/// `variants`/`kernels` after run-time detection confirmed `$feature` (`has_avx2_fma`,
/// `has_avx512`).
#[cfg(target_arch = "x86_64")]
macro_rules! simd_table {
    (
        $module:ident, $table:ident, $t:ty, $kernels:ident, $feature:literal, $name:literal,
        $dot:ident, $dot4:ident, $add_rows4:ident
    ) => {
        mod $module {
            use super::outer_add_with;
            use super::{count_near_zero_with, matvec_rows_with, $kernels};
            use super::{matvec_transpose_add_with, matvec_with, transpose_add_rows_with, Carry};
            use super::{Kernels, Rows};

            /// The instruction set's row kernels, for the drivers.
            struct Avx2;

            impl Rows<$t> for Avx2 {
                #[inline(always)]
                fn dot(a: &[$t], b: &[$t]) -> $t {
                    // SAFETY: `Avx2` is used only by the table below, reachable only on a CPU
                    // with `$feature` (detected before the table is handed out).
                    unsafe { $kernels::$dot(a, b) }
                }
                #[inline(always)]
                fn dot4(rows: [&[$t]; 4], x: &[$t]) -> [$t; 4] {
                    // SAFETY: as in `dot`.
                    unsafe { $kernels::$dot4(rows, x) }
                }
                #[inline(always)]
                fn add_rows4(g: [$t; 4], rows: [&[$t]; 4], y: &mut [$t]) {
                    // SAFETY: as in `dot`.
                    unsafe { $kernels::$add_rows4(g, rows, y) }
                }
            }

            #[target_feature(enable = $feature)]
            fn matvec_tf(a: &[$t], x: &[$t], out: &mut [$t]) {
                matvec_with::<$t, Avx2>(a, x, out)
            }
            #[target_feature(enable = $feature)]
            fn matvec_rows_tf(a: &[$t], x: &[$t], need: &[bool], out: &mut [$t]) {
                matvec_rows_with::<$t, Avx2>(a, x, need, out)
            }
            #[target_feature(enable = $feature)]
            fn matvec_transpose_add_tf(a: &[$t], g: &[$t], y: &mut [$t]) {
                matvec_transpose_add_with::<$t, Avx2>(a, g, y)
            }

            fn matvec(a: &[$t], x: &[$t], out: &mut [$t]) {
                // SAFETY: only reachable through the table, handed out after detection.
                unsafe { matvec_tf(a, x, out) }
            }
            fn matvec_rows(a: &[$t], x: &[$t], need: &[bool], out: &mut [$t]) {
                // SAFETY: only reachable through the table, handed out after detection.
                unsafe { matvec_rows_tf(a, x, need, out) }
            }
            fn matvec_transpose_add(a: &[$t], g: &[$t], y: &mut [$t]) {
                // SAFETY: only reachable through the table, handed out after detection.
                unsafe { matvec_transpose_add_tf(a, g, y) }
            }
            #[target_feature(enable = $feature)]
            fn outer_add_tf(a: &[$t], g: &[$t], k: usize, gb: &mut [$t]) {
                outer_add_with::<$t, Avx2>(a, g, k, gb)
            }
            fn outer_add(a: &[$t], g: &[$t], k: usize, gb: &mut [$t]) {
                // SAFETY: only reachable through the table, handed out after detection.
                unsafe { outer_add_tf(a, g, k, gb) }
            }
            #[target_feature(enable = $feature)]
            fn transpose_add_rows_tf(
                a: &[$t],
                g: &[$t],
                start: usize,
                end: usize,
                carry: &mut Carry,
                y: &mut [$t],
            ) {
                transpose_add_rows_with::<$t, Avx2, false>(a, g, start, end, carry, y)
            }
            fn transpose_add_rows(
                a: &[$t],
                g: &[$t],
                start: usize,
                end: usize,
                carry: &mut Carry,
                y: &mut [$t],
            ) {
                // SAFETY: only reachable through the table, handed out after detection.
                unsafe { transpose_add_rows_tf(a, g, start, end, carry, y) }
            }
            #[target_feature(enable = $feature)]
            fn count_near_zero_tf(v: &[$t], limit: $t) -> usize {
                count_near_zero_with::<$t>(v, limit)
            }
            fn count_near_zero(v: &[$t], limit: $t) -> usize {
                // SAFETY: only reachable through the table, handed out after detection.
                unsafe { count_near_zero_tf(v, limit) }
            }

            pub(super) static $table: Kernels<$t> = Kernels {
                name: $name,
                dot: <Avx2 as Rows<$t>>::dot,
                dot4: <Avx2 as Rows<$t>>::dot4,
                add_rows4: <Avx2 as Rows<$t>>::add_rows4,
                matvec,
                matvec_rows,
                matvec_transpose_add,
                transpose_add_rows,
                outer_add,
                count_near_zero,
            };
        }
    };
}

#[cfg(target_arch = "x86_64")]
simd_table!(
    avx2_f32,
    AVX2_F32,
    f32,
    avx2,
    "avx2,fma",
    "avx2+fma",
    dot_f32,
    dot4_f32,
    add_rows4_f32
);
#[cfg(target_arch = "x86_64")]
simd_table!(
    avx2_f64,
    AVX2_F64,
    f64,
    avx2,
    "avx2,fma",
    "avx2+fma",
    dot_f64,
    dot4_f64,
    add_rows4_f64
);
#[cfg(target_arch = "x86_64")]
simd_table!(
    avx512_f32,
    AVX512_F32,
    f32,
    avx512,
    "avx512f",
    "avx512f",
    dot_f32,
    dot4_f32,
    add_rows4_f32
);
#[cfg(target_arch = "x86_64")]
simd_table!(
    avx512_f64,
    AVX512_F64,
    f64,
    avx512,
    "avx512f",
    "avx512f",
    dot_f64,
    dot4_f64,
    add_rows4_f64
);

mod sealed;

#[cfg(test)]
pub(crate) mod tests;
