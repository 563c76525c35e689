//! The AVX-512 kernels (x86-64), chosen at run time by [`super::table`] when the CPU has
//! AVX-512F: 512-bit vectors (16 `f32` or 8 `f64` lanes) and fused multiply–adds.
//!
//! Every function here is `#[target_feature(enable = "avx512f")]`, so it must only run on a CPU
//! with that feature: the only path to them is the kernel table that [`super::table`] builds
//! after `is_x86_feature_detected!("avx512f")` said yes. Row remainders are read with masked
//! loads (the lanes past the end read as 0 and are never touched in memory), as in `avx2.rs`,
//! whose structure these kernels follow lane for lane at twice the width.

use std::arch::x86_64::*;

/// The mask of the first `k` of 16 lanes (`k ≤ 16`).
#[inline]
#[target_feature(enable = "avx512f")]
fn mask16(k: usize) -> __mmask16 {
    debug_assert!(k <= 16);
    ((1u32 << k) - 1) as __mmask16
}

/// The mask of the first `k` of 8 lanes (`k ≤ 8`).
#[inline]
#[target_feature(enable = "avx512f")]
fn mask8(k: usize) -> __mmask8 {
    debug_assert!(k <= 8);
    ((1u32 << k) - 1) as __mmask8
}

/// Generates one element type's kernels from its intrinsics.
macro_rules! avx512_kernels {
    (
        $t:ty, $lanes:expr, $mask:ident, $hsum:ident,
        $zero:ident, $set1:ident, $loadu:ident, $storeu:ident, $maskload:ident, $maskstore:ident,
        $add:ident, $mul:ident, $fmadd:ident,
        $dot:ident, $dot4:ident, $add_rows4:ident
    ) => {
        /// `Σᵢ aᵢ·bᵢ` over the common length: four vector accumulators, then the masked remainder.
        #[inline]
        #[target_feature(enable = "avx512f")]
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
                    unsafe { $fmadd($maskload(m, pa.add(j)), $maskload(m, pb.add(j)), acc[1]) };
            }
            $hsum($add($add(acc[0], acc[1]), $add(acc[2], acc[3])))
        }

        /// `[r₀·x, r₁·x, r₂·x, r₃·x]`, each row as long as `x`: two accumulators per row, so
        /// eight independent FMA chains share each load of `x`.
        #[inline]
        #[target_feature(enable = "avx512f")]
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
                let x1 = unsafe { $maskload(m, px.add(j)) };
                for r in 0..4 {
                    hi[r] = unsafe { $fmadd($maskload(m, p[r].add(j)), x1, hi[r]) };
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
        #[target_feature(enable = "avx512f")]
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
                        $maskload(m, py.add(j)),
                        $maskload(m, p[0].add(j)),
                        $maskload(m, p[1].add(j)),
                        $maskload(m, p[2].add(j)),
                        $maskload(m, p[3].add(j))
                    );
                    $maskstore(py.add(j), m, v);
                }
            }
        }
    };
}

avx512_kernels!(
    f32,
    16,
    mask16,
    _mm512_reduce_add_ps,
    _mm512_setzero_ps,
    _mm512_set1_ps,
    _mm512_loadu_ps,
    _mm512_storeu_ps,
    _mm512_maskz_loadu_ps,
    _mm512_mask_storeu_ps,
    _mm512_add_ps,
    _mm512_mul_ps,
    _mm512_fmadd_ps,
    dot_f32,
    dot4_f32,
    add_rows4_f32
);
avx512_kernels!(
    f64,
    8,
    mask8,
    _mm512_reduce_add_pd,
    _mm512_setzero_pd,
    _mm512_set1_pd,
    _mm512_loadu_pd,
    _mm512_storeu_pd,
    _mm512_maskz_loadu_pd,
    _mm512_mask_storeu_pd,
    _mm512_add_pd,
    _mm512_mul_pd,
    _mm512_fmadd_pd,
    dot_f64,
    dot4_f64,
    add_rows4_f64
);
