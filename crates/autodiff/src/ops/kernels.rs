//! Dense inner loops shared by the linear-algebra primitives, written so the compiler vectorises
//! them (independent accumulators break the sequential dependence of a float sum).

use crate::Real;

const LANES: usize = 8;

/// `Σᵢ aᵢ·bᵢ` over the common length, with eight independent accumulators.
#[inline]
pub(crate) fn dot<T: Real>(a: &[T], b: &[T]) -> T {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [T::zero(); LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..LANES {
            acc[k] += x[k] * y[k];
        }
    }
    let mut s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (&x, &y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

/// `y += α·x` over the common length.
#[inline]
pub(crate) fn axpy<T: Real>(alpha: T, x: &[T], y: &mut [T]) {
    for (d, &v) in y.iter_mut().zip(x) {
        *d += alpha * v;
    }
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
    let mut rows = a.chunks_exact(4 * c);
    let mut outs = out.chunks_exact_mut(4);
    for (block, o) in (&mut rows).zip(&mut outs) {
        let (r0, rest) = block.split_at(c);
        let (r1, rest) = rest.split_at(c);
        let (r2, r3) = rest.split_at(c);
        let mut acc = [[T::zero(); 4]; 4];
        // Zipped exact chunks: no bounds checks in the loop, so it vectorises.
        let chunks = x
            .chunks_exact(4)
            .zip(r0.chunks_exact(4))
            .zip(r1.chunks_exact(4))
            .zip(r2.chunks_exact(4))
            .zip(r3.chunks_exact(4));
        for ((((xs, a0), a1), a2), a3) in chunks {
            for k in 0..4 {
                acc[0][k] += a0[k] * xs[k];
                acc[1][k] += a1[k] * xs[k];
                acc[2][k] += a2[k] * xs[k];
                acc[3][k] += a3[k] * xs[k];
            }
        }
        let tail = c / 4 * 4;
        let rows = [r0, r1, r2, r3];
        for r in 0..4 {
            let mut s = (acc[r][0] + acc[r][2]) + (acc[r][1] + acc[r][3]);
            for jj in tail..c {
                s += rows[r][jj] * x[jj];
            }
            o[r] = s;
        }
    }
    let done = out.len() / 4 * 4;
    for (i, o) in out[done..].iter_mut().enumerate() {
        let row = &a[(done + i) * c..(done + i + 1) * c];
        *o = dot(row, x);
    }
}

/// `y += Σᵢ g[i]·A[i]` over the rows of the row-major `A` (`g.len()` rows of `y.len()` columns),
/// skipping rows whose `g[i]` is 0; four rows at a time share each load and store of `y`.
#[inline]
pub(crate) fn matvec_transpose_add<T: Real>(a: &[T], g: &[T], y: &mut [T]) {
    let c = y.len();
    let mut pending = [0usize; 4];
    let mut count = 0;
    for (i, &gi) in g.iter().enumerate() {
        if gi == T::zero() {
            continue;
        }
        pending[count] = i;
        count += 1;
        if count == 4 {
            let row = |k: usize| &a[pending[k] * c..(pending[k] + 1) * c];
            let (r0, r1, r2, r3) = (row(0), row(1), row(2), row(3));
            let (g0, g1, g2, g3) = (g[pending[0]], g[pending[1]], g[pending[2]], g[pending[3]]);
            for (j, d) in y.iter_mut().enumerate() {
                *d += (g0 * r0[j] + g1 * r1[j]) + (g2 * r2[j] + g3 * r3[j]);
            }
            count = 0;
        }
    }
    for &i in &pending[..count] {
        axpy(g[i], &a[i * c..(i + 1) * c], y);
    }
}
