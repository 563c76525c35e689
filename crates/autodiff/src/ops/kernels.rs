//! Dense inner loops shared by the linear-algebra primitives.
//!
//! `dot`, `matvec` and the four-row update of `matvec_transpose_add` use explicit SIMD vectors
//! from [`wide`] (SSE2 on a baseline x86-64 build, AVX with `-C target-cpu` that has it, plain
//! arrays elsewhere): left to itself, LLVM's SLP vectoriser transposes the four-row blocks through
//! shuffles and ran these loops 1.2× (f64) to 2.3× (f32) slower. Each vector lane is an independent
//! partial sum, so results may differ from a left-to-right sum in the last bits, never more.

use crate::real::sealed::Sealed;
use crate::Real;

/// `Σᵢ aᵢ·bᵢ` over the common length.
#[inline]
pub(crate) fn dot<T: Real>(a: &[T], b: &[T]) -> T {
    T::simd_dot(a, b)
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

/// `out[i] = A[i]·x` for the rows of the row-major `A` (`out.len()` rows of `x.len()` columns).
///
/// Four rows at a time share each load of `x`.
#[inline]
pub(crate) fn matvec<T: Real>(a: &[T], x: &[T], out: &mut [T]) {
    let c = x.len();
    if c == 0 {
        out.fill(T::zero());
        return;
    }
    for (block, o) in a.chunks_exact(4 * c).zip(out.chunks_exact_mut(4)) {
        let (r0, rest) = block.split_at(c);
        let (r1, rest) = rest.split_at(c);
        let (r2, r3) = rest.split_at(c);
        o.copy_from_slice(&T::simd_dot4([r0, r1, r2, r3], x));
    }
    let done = out.len() / 4 * 4;
    for (o, row) in out[done..].iter_mut().zip(a[done * c..].chunks_exact(c)) {
        *o = dot(row, x);
    }
}

/// `out[i] = A[i]·x` for the rows `i` with `need[i]`; the other entries of `out` are left as
/// they are. The needed rows are gathered without branches and computed four at a time.
#[inline]
pub(crate) fn matvec_rows<T: Real>(a: &[T], x: &[T], need: &[bool], out: &mut [T]) {
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
        let mut groups = buf[..count].chunks_exact(4);
        for p in &mut groups {
            let v = T::simd_dot4([p[0], p[1], p[2], p[3]].map(|i| row(base + i)), x);
            for (&i, v) in p.iter().zip(v) {
                out[i] = v;
            }
        }
        for &i in groups.remainder() {
            out[i] = dot(row(base + i), x);
        }
    }
}

/// Rows gathered per flush of [`matvec_transpose_add`]'s index buffer.
const BLOCK: usize = 256;

/// `y += Σᵢ g[i]·A[i]` over the rows of the row-major `A` (`g.len()` rows of `y.len()` columns),
/// skipping rows whose `g[i]` is 0.
///
/// The rows with `g[i] ≠ 0` are gathered without branches (a hinge loss makes that test a coin
/// toss) and added four at a time, so each load and store of `y` serves four rows. Rows are
/// visited last to first: in a backward pass the last rows are the ones the forward pass read most
/// recently, so they are still in cache, and by the time the sweep reaches the first rows the
/// cache has not been flushed by a sweep in the same direction.
#[inline]
pub(crate) fn matvec_transpose_add<T: Real>(a: &[T], g: &[T], y: &mut [T]) {
    let c = y.len();
    let row = |i: usize| &a[i * c..(i + 1) * c];
    let mut buf = [0usize; BLOCK + 4];
    let mut count = 0;
    let mut end = g.len();
    while end > 0 {
        let start = end.saturating_sub(BLOCK);
        for (i, &gi) in g[start..end].iter().enumerate().rev() {
            // `count ≤ 3` on entry, so at most BLOCK + 3 slots are written.
            buf[count] = start + i;
            count += usize::from(gi != T::zero());
        }
        let full = count / 4 * 4;
        for p in buf[..full].chunks_exact(4) {
            let gs = [p[0], p[1], p[2], p[3]].map(|i| g[i]);
            T::simd_add_rows4(gs, [row(p[0]), row(p[1]), row(p[2]), row(p[3])], y);
        }
        buf.copy_within(full..count, 0);
        count -= full;
        end = start;
    }
    for &i in &buf[..count] {
        axpy(g[i], row(i), y);
    }
}

/// Implements the vector kernels of [`Sealed`] for one element type and its `wide` vector.
macro_rules! simd_kernels {
    ($t:ty, $v:ty, $lanes:expr) => {
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
simd_kernels!(f32, wide::f32x4, 4);
#[cfg(not(target_feature = "avx"))]
simd_kernels!(f64, wide::f64x2, 2);
#[cfg(target_feature = "avx")]
simd_kernels!(f32, wide::f32x8, 8);
#[cfg(target_feature = "avx")]
simd_kernels!(f64, wide::f64x4, 4);

#[cfg(test)]
mod tests {
    use super::*;

    fn naive_matvec(a: &[f64], x: &[f64], rows: usize) -> Vec<f64> {
        let c = x.len();
        (0..rows)
            .map(|i| (0..c).map(|j| a[i * c + j] * x[j]).sum())
            .collect()
    }

    /// Integer-valued data, so every summation order gives the exact same result.
    fn ints(n: usize, seed: u64) -> Vec<f64> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                ((s >> 33) % 7) as f64 - 3.0
            })
            .collect()
    }

    #[test]
    fn kernels_match_naive_loops_for_every_shape_remainder() {
        for rows in 0..11 {
            for cols in 0..19 {
                let a = ints(rows * cols, (rows * 31 + cols) as u64);
                let x = ints(cols, 7 + cols as u64);
                let mut out = vec![f64::NAN; rows];
                matvec(&a, &x, &mut out);
                assert_eq!(out, naive_matvec(&a, &x, rows), "matvec {rows}×{cols}");
                let a32: Vec<f32> = a.iter().map(|&v| v as f32).collect();
                let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
                let mut out32 = vec![f32::NAN; rows];
                matvec(&a32, &x32, &mut out32);
                let want32: Vec<f32> = naive_matvec(&a, &x, rows)
                    .iter()
                    .map(|&v| v as f32)
                    .collect();
                assert_eq!(out32, want32, "f32 matvec {rows}×{cols}");
                if rows > 0 {
                    assert_eq!(dot(&a[..cols], &x), naive_matvec(&a, &x, 1)[0]);
                }
                // Only the needed rows are written.
                let need: Vec<bool> = (0..rows).map(|i| i % 3 != 1).collect();
                let mut some = vec![f64::NAN; rows];
                matvec_rows(&a, &x, &need, &mut some);
                for (i, (&got, want)) in some.iter().zip(naive_matvec(&a, &x, rows)).enumerate() {
                    if need[i] {
                        assert_eq!(got, want, "matvec_rows {rows}×{cols} row {i}");
                    } else {
                        assert!(got.is_nan(), "matvec_rows wrote unneeded row {i}");
                    }
                }

                // Every third g is zero (skipped), the rest are small integers.
                let g: Vec<f64> = ints(rows, 99 + rows as u64)
                    .iter()
                    .enumerate()
                    .map(|(i, &v)| if i % 3 == 1 { 0.0 } else { v })
                    .collect();
                let mut y = ints(cols, 5);
                let mut want = y.clone();
                for (i, &gi) in g.iter().enumerate() {
                    for j in 0..cols {
                        want[j] += gi * a[i * cols + j];
                    }
                }
                matvec_transpose_add(&a, &g, &mut y);
                assert_eq!(y, want, "matvec_transpose_add {rows}×{cols}");
            }
        }
    }

    #[test]
    fn row_selection_crosses_index_blocks() {
        let (rows, cols) = (2 * BLOCK + 9, 6);
        let a = ints(rows * cols, 11);
        let x = ints(cols, 12);
        let need: Vec<bool> = (0..rows)
            .map(|i| (i / 7) % 3 == 0 || i + 1 == rows)
            .collect();
        let mut out = vec![-1.0; rows];
        matvec_rows(&a, &x, &need, &mut out);
        let full = naive_matvec(&a, &x, rows);
        for i in 0..rows {
            assert_eq!(out[i], if need[i] { full[i] } else { -1.0 }, "row {i}");
        }
    }

    #[test]
    fn transpose_add_crosses_index_blocks() {
        // More rows than one index block, with runs of zeros across block boundaries.
        let (rows, cols) = (3 * BLOCK + 7, 5);
        let a = ints(rows * cols, 3);
        let g: Vec<f64> = (0..rows)
            .map(|i| {
                if (i / 50) % 2 == 0 {
                    (i % 5) as f64 - 2.0
                } else {
                    0.0
                }
            })
            .collect();
        let mut y = vec![0.0; cols];
        matvec_transpose_add(&a, &g, &mut y);
        let want: Vec<f64> = (0..cols)
            .map(|j| (0..rows).map(|i| g[i] * a[i * cols + j]).sum())
            .collect();
        assert_eq!(y, want);
    }

    #[test]
    fn sum_is_exact_on_integers() {
        for n in 0..40 {
            let x = ints(n, n as u64);
            assert_eq!(sum(&x), x.iter().sum::<f64>());
        }
    }
}
