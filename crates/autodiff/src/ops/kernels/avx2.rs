//! The AVX2 + FMA kernels (x86-64), chosen at run time by [`super::table`] when the CPU has both
//! features: 256-bit vectors (8 `f32` or 4 `f64` lanes) and fused multiply–adds.
//!
//! Every function here is `#[target_feature(enable = "avx2,fma")]`, so it must only run on a CPU
//! with both features: the only path to them is the kernel table that [`super::table`] builds
//! after `is_x86_feature_detected!` said yes. Row remainders are read with masked loads (the lanes
//! past the end read as 0 and are never touched in memory), so no scalar tail loop is needed.
//!
//! FMA rounds `a·b + c` once where the portable kernels round twice, so results differ from the
//! portable ones in the last bits (by at most the bound derived in the tests), never more.

use std::arch::x86_64::*;

/// `MASK32[8 - k..][..8]` has its first `k` lanes set (as `i32`), for masked loads of `k < 8`
/// `f32`s.
static MASK32: [i32; 16] = [-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0];
/// `MASK64[4 - k..][..4]` has its first `k` lanes set (as `i64`), for masked loads of `k < 4`
/// `f64`s.
static MASK64: [i64; 8] = [-1, -1, -1, -1, 0, 0, 0, 0];

/// The lane mask of the first `k` of 8 `f32` lanes (`k ≤ 8`).
#[inline]
#[target_feature(enable = "avx2,fma")]
fn mask32(k: usize) -> __m256i {
    debug_assert!(k <= 8);
    // SAFETY: `8 - k ≤ 8`, so the eight `i32`s read lie within `MASK32`'s sixteen.
    unsafe { _mm256_loadu_si256(MASK32.as_ptr().add(8 - k).cast()) }
}

/// The lane mask of the first `k` of 4 `f64` lanes (`k ≤ 4`).
#[inline]
#[target_feature(enable = "avx2,fma")]
fn mask64(k: usize) -> __m256i {
    debug_assert!(k <= 4);
    // SAFETY: `4 - k ≤ 4`, so the four `i64`s read lie within `MASK64`'s eight.
    unsafe { _mm256_loadu_si256(MASK64.as_ptr().add(4 - k).cast()) }
}

/// The sum of the 8 lanes, as `((0+4)+(2+6)) + ((1+5)+(3+7))`.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn hsum32(v: __m256) -> f32 {
    let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps::<1>(s, s)))
}

/// The sum of the 4 lanes, as `(0+2) + (1+3)`.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn hsum64(v: __m256d) -> f64 {
    let s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd::<1>(v));
    _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)))
}

/// Generates one element type's kernels from its intrinsics.
macro_rules! avx2_kernels {
    (
        $t:ty, $lanes:expr, $mask:ident, $hsum:ident,
        $zero:ident, $set1:ident, $loadu:ident, $storeu:ident, $maskload:ident, $maskstore:ident,
        $add:ident, $mul:ident, $fmadd:ident,
        $dot:ident, $dot4:ident, $add_rows4:ident
    ) => {
        /// `Σᵢ aᵢ·bᵢ` over the common length: four vector accumulators, then the masked remainder.
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        pub(super) fn $dot(a: &[$t], b: &[$t]) -> $t {
            const L: usize = $lanes;
            let n = a.len().min(b.len());
            let (pa, pb) = (a.as_ptr(), b.as_ptr());
            let mut acc = [$zero(); 4];
            let mut j = 0;
            // SAFETY (every load below): `j + L ≤ n` (or the masked remainder's lanes
            // `j..n`), and `n` is within both slices.
            while j + 4 * L <= n {
                for (k, s) in acc.iter_mut().enumerate() {
                    let o = j + k * L;
                    *s = unsafe { $fmadd($loadu(pa.add(o)), $loadu(pb.add(o)), *s) };
                }
                j += 4 * L;
            }
            while j + L <= n {
                acc[0] = unsafe { $fmadd($loadu(pa.add(j)), $loadu(pb.add(j)), acc[0]) };
                j += L;
            }
            if j < n {
                let m = $mask(n - j);
                acc[1] =
                    unsafe { $fmadd($maskload(pa.add(j), m), $maskload(pb.add(j), m), acc[1]) };
            }
            $hsum($add($add(acc[0], acc[1]), $add(acc[2], acc[3])))
        }

        /// `[r₀·x, r₁·x, r₂·x, r₃·x]`, each row as long as `x`: two accumulators per row, so
        /// eight independent FMA chains share each load of `x`.
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        pub(super) fn $dot4(rows: [&[$t]; 4], x: &[$t]) -> [$t; 4] {
            const L: usize = $lanes;
            let n = x.len();
            for r in rows {
                assert!(r.len() >= n, "dot4: a row is shorter than x");
            }
            let p = rows.map(<[$t]>::as_ptr);
            let px = x.as_ptr();
            let mut lo = [$zero(); 4];
            let mut hi = [$zero(); 4];
            let mut j = 0;
            // SAFETY (every load below): the lanes read are `j..j + 2L`, `j..j + L` or the
            // masked `j..n`, all below `n`, and every row holds at least `n` elements (asserted).
            while j + 2 * L <= n {
                let (x0, x1) = unsafe { ($loadu(px.add(j)), $loadu(px.add(j + L))) };
                for r in 0..4 {
                    lo[r] = unsafe { $fmadd($loadu(p[r].add(j)), x0, lo[r]) };
                    hi[r] = unsafe { $fmadd($loadu(p[r].add(j + L)), x1, hi[r]) };
                }
                j += 2 * L;
            }
            if j + L <= n {
                let x0 = unsafe { $loadu(px.add(j)) };
                for r in 0..4 {
                    lo[r] = unsafe { $fmadd($loadu(p[r].add(j)), x0, lo[r]) };
                }
                j += L;
            }
            if j < n {
                let m = $mask(n - j);
                let x1 = unsafe { $maskload(px.add(j), m) };
                for r in 0..4 {
                    hi[r] = unsafe { $fmadd($maskload(p[r].add(j), m), x1, hi[r]) };
                }
            }
            [
                $hsum($add(lo[0], hi[0])),
                $hsum($add(lo[1], hi[1])),
                $hsum($add(lo[2], hi[2])),
                $hsum($add(lo[3], hi[3])),
            ]
        }

        /// `y += (g₀·r₀ + g₁·r₁) + (g₂·r₂ + g₃·r₃)`, each row as long as `y`, with FMAs.
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        pub(super) fn $add_rows4(g: [$t; 4], rows: [&[$t]; 4], y: &mut [$t]) {
            const L: usize = $lanes;
            let n = y.len();
            for r in rows {
                assert!(r.len() >= n, "add_rows4: a row is shorter than y");
            }
            let p = rows.map(<[$t]>::as_ptr);
            let py = y.as_mut_ptr();
            let gv = [$set1(g[0]), $set1(g[1]), $set1(g[2]), $set1(g[3])];
            // `y + ((g₀·r₀ + g₁·r₁) + (g₂·r₂ + g₃·r₃))` of one vector of each.
            macro_rules! step {
                ($y:expr, $r0:expr, $r1:expr, $r2:expr, $r3:expr) => {
                    $add(
                        $y,
                        $add(
                            $fmadd(gv[1], $r1, $mul(gv[0], $r0)),
                            $fmadd(gv[3], $r3, $mul(gv[2], $r2)),
                        ),
                    )
                };
            }
            let mut j = 0;
            // SAFETY (every load and store below): the lanes touched are `j..j + L` with
            // `j + L ≤ n`, or the masked `j..n`; `y` and every row hold at least `n` elements.
            while j + L <= n {
                unsafe {
                    let v = step!(
                        $loadu(py.add(j)),
                        $loadu(p[0].add(j)),
                        $loadu(p[1].add(j)),
                        $loadu(p[2].add(j)),
                        $loadu(p[3].add(j))
                    );
                    $storeu(py.add(j), v);
                }
                j += L;
            }
            if j < n {
                let m = $mask(n - j);
                unsafe {
                    let v = step!(
                        $maskload(py.add(j), m),
                        $maskload(p[0].add(j), m),
                        $maskload(p[1].add(j), m),
                        $maskload(p[2].add(j), m),
                        $maskload(p[3].add(j), m)
                    );
                    $maskstore(py.add(j), m, v);
                }
            }
        }
    };
}

avx2_kernels!(
    f32,
    8,
    mask32,
    hsum32,
    _mm256_setzero_ps,
    _mm256_set1_ps,
    _mm256_loadu_ps,
    _mm256_storeu_ps,
    _mm256_maskload_ps,
    _mm256_maskstore_ps,
    _mm256_add_ps,
    _mm256_mul_ps,
    _mm256_fmadd_ps,
    dot_f32,
    dot4_f32,
    add_rows4_f32
);
avx2_kernels!(
    f64,
    4,
    mask64,
    hsum64,
    _mm256_setzero_pd,
    _mm256_set1_pd,
    _mm256_loadu_pd,
    _mm256_storeu_pd,
    _mm256_maskload_pd,
    _mm256_maskstore_pd,
    _mm256_add_pd,
    _mm256_mul_pd,
    _mm256_fmadd_pd,
    dot_f64,
    dot4_f64,
    add_rows4_f64
);
