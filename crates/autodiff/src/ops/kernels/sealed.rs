//! The element types' [`Sealed`] implementations: the portable row kernels at the build's
//! vector width (`wide`), and the choice among the kernel tables this CPU can run.

use std::sync::OnceLock;

#[cfg(target_arch = "x86_64")]
use super::{avx2_f32, avx2_f64, avx512_f32, avx512_f64, has_avx2_fma, has_avx512};
use super::{Kernels, PORTABLE_F32, PORTABLE_F64};
use crate::real::sealed::Sealed;

/// Implements [`Sealed`] for one element type: the portable row kernels with its `wide` vector,
/// and the choice among its kernel tables.
macro_rules! simd_kernels {
    ($t:ty, $v:ty, $lanes:expr, $portable:ident, $avx2:path, $avx512:path) => {
        impl Sealed for $t {
            #[inline]
            fn simd_dot(a: &[$t], b: &[$t]) -> $t {
                const L: usize = $lanes;
                let n = a.len().min(b.len());
                let (a, b) = (&a[..n], &b[..n]);
                let ld = |s: &[$t]| <$v>::new(s.try_into().expect("chunk of L lanes"));
                let (mut s0, mut s1) = (<$v>::ZERO, <$v>::ZERO);
                let (ca, cb) = (a.chunks_exact(2 * L), b.chunks_exact(2 * L));
                let (ra, rb) = (ca.remainder(), cb.remainder());
                for (x, y) in ca.zip(cb) {
                    s0 += ld(&x[..L]) * ld(&y[..L]);
                    s1 += ld(&x[L..]) * ld(&y[L..]);
                }
                let mut s = (s0 + s1).reduce_add();
                for (&x, &y) in ra.iter().zip(rb) {
                    s += x * y;
                }
                s
            }

            #[inline]
            fn simd_dot4(rows: [&[$t]; 4], x: &[$t]) -> [$t; 4] {
                const L: usize = $lanes;
                let ld = |s: &[$t]| <$v>::new(s.try_into().expect("chunk of L lanes"));
                let [r0, r1, r2, r3] = rows;
                let mut acc = [<$v>::ZERO; 4];
                let chunks = x
                    .chunks_exact(L)
                    .zip(r0.chunks_exact(L))
                    .zip(r1.chunks_exact(L))
                    .zip(r2.chunks_exact(L))
                    .zip(r3.chunks_exact(L));
                for ((((xs, a0), a1), a2), a3) in chunks {
                    let xs = ld(xs);
                    acc[0] += ld(a0) * xs;
                    acc[1] += ld(a1) * xs;
                    acc[2] += ld(a2) * xs;
                    acc[3] += ld(a3) * xs;
                }
                let tail = x.len() / L * L;
                let mut out = [0.0; 4];
                for (r, (o, row)) in out.iter_mut().zip(rows).enumerate() {
                    let mut s = acc[r].reduce_add();
                    for (&v, &xj) in row[tail..].iter().zip(&x[tail..]) {
                        s += v * xj;
                    }
                    *o = s;
                }
                out
            }

            fn variants() -> Vec<&'static Kernels<$t>> {
                let mut v: Vec<&'static Kernels<$t>> = vec![&$portable];
                #[cfg(target_arch = "x86_64")]
                if has_avx2_fma() {
                    v.push(&$avx2);
                }
                #[cfg(target_arch = "x86_64")]
                if has_avx512() {
                    v.push(&$avx512);
                }
                v
            }

            #[inline]
            fn kernels() -> &'static Kernels<$t> {
                static CHOSEN: OnceLock<&'static Kernels<$t>> = OnceLock::new();
                CHOSEN.get_or_init(|| {
                    *Self::variants()
                        .last()
                        .expect("the portable table is always there")
                })
            }

            #[inline]
            fn simd_add_rows4(g: [$t; 4], rows: [&[$t]; 4], y: &mut [$t]) {
                const L: usize = $lanes;
                let ld = |s: &[$t]| <$v>::new(s.try_into().expect("chunk of L lanes"));
                let gv = g.map(<$v>::splat);
                let [r0, r1, r2, r3] = rows;
                let tail = y.len() / L * L;
                let chunks = y
                    .chunks_exact_mut(L)
                    .zip(r0.chunks_exact(L))
                    .zip(r1.chunks_exact(L))
                    .zip(r2.chunks_exact(L))
                    .zip(r3.chunks_exact(L));
                for ((((d, a0), a1), a2), a3) in chunks {
                    let v = ld(d)
                        + ((gv[0] * ld(a0) + gv[1] * ld(a1)) + (gv[2] * ld(a2) + gv[3] * ld(a3)));
                    d.copy_from_slice(v.as_array());
                }
                for (j, d) in y.iter_mut().enumerate().skip(tail) {
                    *d += (g[0] * r0[j] + g[1] * r1[j]) + (g[2] * r2[j] + g[3] * r3[j]);
                }
            }
        }
    };
}

// The native vector width of the build: two SSE registers' worth is no faster on SSE2 (measured),
// so the 128-bit types unless AVX is enabled at compile time.
#[cfg(not(target_feature = "avx"))]
simd_kernels!(
    f32,
    wide::f32x4,
    4,
    PORTABLE_F32,
    avx2_f32::AVX2_F32,
    avx512_f32::AVX512_F32
);
#[cfg(not(target_feature = "avx"))]
simd_kernels!(
    f64,
    wide::f64x2,
    2,
    PORTABLE_F64,
    avx2_f64::AVX2_F64,
    avx512_f64::AVX512_F64
);
#[cfg(target_feature = "avx")]
simd_kernels!(
    f32,
    wide::f32x8,
    8,
    PORTABLE_F32,
    avx2_f32::AVX2_F32,
    avx512_f32::AVX512_F32
);
#[cfg(target_feature = "avx")]
simd_kernels!(
    f64,
    wide::f64x4,
    4,
    PORTABLE_F64,
    avx2_f64::AVX2_F64,
    avx512_f64::AVX512_F64
);
