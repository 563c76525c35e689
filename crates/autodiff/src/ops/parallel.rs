//! Row blocks over a thread pool: `X·v` and `Xᵀg` for dense and sparse `X`, split into fixed
//! blocks of rows that the serial kernels (`kernels::matvec`, `kernels::matvec_transpose_add`,
//! `SparseData::matvec`, `SparseData::matvec_transpose_add`) compute, on rayon's pool.
//!
//! # When
//! A product of at least [`MIN_PARALLEL_WORK`] multiply–adds (`rows·cols` for dense `X`, the
//! stored values for sparse `X`) is split; a smaller one runs the serial kernel as one block (for
//! `Xᵀg`: its sum formed in a zeroed partial and added to the gradient once), since
//! below about a millisecond of work the hand-off to the pool costs more than a second core
//! gains. The split is automatic: there is nothing to switch on, and the pool is rayon's current
//! one (the global pool, sized by `RAYON_NUM_THREADS` or the core count, or the pool a caller
//! `install`s).
//!
//! # Determinism: results do not depend on the number of threads
//! The blocks ([`Blocks`]) depend on the shape alone — the row count, the work and the column
//! count — never on the thread count, and each block is computed by the same serial code:
//! - `X·v`: each output row is one dot product of the serial kernel. Dense blocks start at
//!   multiples of [`ROW_ALIGN`] rows, so the kernel's own row groups (four rows) are never cut:
//!   the result equals the serial kernel's bit for bit.
//! - `Xᵀg`: block `b` computes its partial sum `pᵦ = Σ_{i ∈ b} gᵢ·xᵢ` with the serial kernel into
//!   its own `d`-vector, and the partials are then added into the gradient on the calling thread
//!   in block order, `y ← (((y + p₀) + p₁) + …)`. Every thread count, one included, gives these
//!   same operations in the same order, so the same bits; against the serial kernel only the
//!   order of the sum over rows differs (within the rounding bound of any summation order).
//!
//! # Memory
//! The partials are `blocks × d` values, at most [`MAX_BLOCKS`]` × d` and at most
//! 1/[`REDUCTION_SHARE`] of the product's work. They live in the [`Gradients`](crate::Gradients)
//! the backward pass fills, grown on first use and reused by every later pass into it, so a
//! training loop that reuses its `Gradients` allocates nothing per step here either.

use std::sync::OnceLock;

use rayon::prelude::*;

use super::kernels;
use crate::{Real, SparseData};

/// Multiply–adds from which a product is split into row blocks (2²⁰: about a millisecond of
/// work on one core, where the pool's hand-off, a few microseconds, is noise).
pub(crate) const MIN_PARALLEL_WORK: usize = 1 << 20;

/// The most blocks one product is split into: enough for work stealing to balance uneven blocks
/// (the rows a hinge loss skips) over any core count we expect, and a bound on the partials.
pub(crate) const MAX_BLOCKS: usize = 64;

/// Dense blocks hold a multiple of this many rows, so a block boundary never cuts one of the
/// serial kernel's row groups (any power of two up to 64 rows).
pub(crate) const ROW_ALIGN: usize = 64;

/// A reduction's partials cost `blocks·d` additions: at most 1/16 of the product's work, or the
/// product runs serially (a sparse matrix with few values per column).
pub(crate) const REDUCTION_SHARE: usize = 16;

/// How a product's rows are split: `count` blocks of `rows` rows (the last one shorter).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Blocks {
    /// Rows per block.
    pub rows: usize,
    /// Number of blocks (at least 2).
    pub count: usize,
}

impl Blocks {
    /// The blocks of a product whose rows are independent (`X·v`), or `None` to run serially.
    pub(crate) fn for_rows(rows: usize, work: usize) -> Option<Self> {
        Self::plan(rows, work, MAX_BLOCKS)
    }

    /// The blocks of a sum over rows into `cols` columns (`Xᵀg`), or `None` to run serially.
    pub(crate) fn for_sum(rows: usize, work: usize, cols: usize) -> Option<Self> {
        let affordable = work / REDUCTION_SHARE.saturating_mul(cols.max(1));
        Self::plan(rows, work, MAX_BLOCKS.min(affordable))
    }

    fn plan(rows: usize, work: usize, max_blocks: usize) -> Option<Self> {
        if work < MIN_PARALLEL_WORK || max_blocks < 2 {
            return None;
        }
        let per = rows.div_ceil(max_blocks).next_multiple_of(ROW_ALIGN);
        let count = rows.div_ceil(per);
        (count >= 2).then_some(Blocks { rows: per, count })
    }
}

/// Whether the blocks may go to rayon's pool (else they run in order on the calling thread,
/// with the same result).
///
/// Inside a pool, yes. Outside, the global pool is started here on first use rather than by
/// rayon's lazy start, which panics if its threads cannot be spawned: a failure (an
/// `io::Error`, the error's `source`) leaves the engine serial instead. An error without a source
/// means the global pool already exists, built by the user or an earlier rayon call.
pub(crate) fn pool_available() -> bool {
    if rayon::current_thread_index().is_some() {
        return rayon::current_num_threads() > 1;
    }
    static GLOBAL: OnceLock<bool> = OnceLock::new();
    let started = *GLOBAL.get_or_init(|| match rayon::ThreadPoolBuilder::new().build_global() {
        Ok(()) => true,
        Err(e) => std::error::Error::source(&e).is_none(),
    });
    // With one thread, the same blocks in order on this thread skip the hand-off.
    started && rayon::current_num_threads() > 1
}

/// `out[i] = A[i]·x`, split into row blocks above the threshold; bit-identical to
/// `kernels::matvec` (every row is computed by the same row group of the serial kernel).
pub(crate) fn matvec<T: Real>(a: &[T], x: &[T], out: &mut [T]) {
    let c = x.len();
    let rows = out.len();
    match Blocks::for_rows(rows, rows.saturating_mul(c)) {
        Some(b) if pool_available() => out
            .par_chunks_mut(b.rows)
            .zip(a.par_chunks(b.rows * c))
            .for_each(|(o, a)| kernels::matvec(a, x, o)),
        _ => kernels::matvec(a, x, out),
    }
}

/// `y += Σᵢ g[i]·A[i]`: one partial per block (in `partials`, reused) added into `y` in block
/// order; below the threshold one block, the serial kernel's sum added to `y` once. (So the sum
/// over rows never depends on what `y` held before, and `ops::fuse` can compute it early.)
pub(crate) fn matvec_transpose_add<T: Real>(a: &[T], g: &[T], y: &mut [T], partials: &mut Vec<T>) {
    let c = y.len();
    let rows = g.len();
    let Some(b) = Blocks::for_sum(rows, rows.saturating_mul(c), c) else {
        let p = partial_buffer(partials, c);
        p.fill(T::zero());
        kernels::matvec_transpose_add(a, g, p);
        return add_in_block_order(p, y);
    };
    let parts = partial_buffer(partials, b.count * c);
    let block = |(p, (a, g)): (&mut [T], (&[T], &[T]))| {
        p.fill(T::zero());
        kernels::matvec_transpose_add(a, g, p);
    };
    if pool_available() {
        parts
            .par_chunks_mut(c)
            .zip(a.par_chunks(b.rows * c).zip(g.par_chunks(b.rows)))
            .for_each(block);
    } else {
        parts
            .chunks_mut(c)
            .zip(a.chunks(b.rows * c).zip(g.chunks(b.rows)))
            .for_each(block);
    }
    add_in_block_order(parts, y);
}

/// `out[i] = xᵢ·v` for every row of the sparse `x`, split into row blocks above the threshold
/// (the stored values); bit-identical to the serial kernel (rows are independent).
pub(crate) fn sparse_matvec<T: Real>(x: &SparseData<T>, v: &[T], out: &mut [T]) {
    match Blocks::for_rows(out.len(), x.nnz()) {
        Some(b) if pool_available() => out
            .par_chunks_mut(b.rows)
            .enumerate()
            .for_each(|(k, o)| x.matvec(k * b.rows, v, None, o)),
        _ => x.matvec(0, v, None, out),
    }
}

/// `gv += Xᵀ·g` for the sparse `x`, blocked as [`matvec_transpose_add`].
pub(crate) fn sparse_matvec_transpose_add<T: Real>(
    x: &SparseData<T>,
    g: &[T],
    gv: &mut [T],
    partials: &mut Vec<T>,
) {
    let c = gv.len();
    let Some(b) = Blocks::for_sum(g.len(), x.nnz(), c) else {
        let p = partial_buffer(partials, c);
        p.fill(T::zero());
        x.matvec_transpose_add(0, g, p);
        return add_in_block_order(p, gv);
    };
    let parts = partial_buffer(partials, b.count * c);
    let block = |(k, (p, g)): (usize, (&mut [T], &[T]))| {
        p.fill(T::zero());
        x.matvec_transpose_add(k * b.rows, g, p);
    };
    if pool_available() {
        parts
            .par_chunks_mut(c)
            .zip(g.par_chunks(b.rows))
            .enumerate()
            .for_each(block);
    } else {
        parts
            .chunks_mut(c)
            .zip(g.chunks(b.rows))
            .enumerate()
            .for_each(block);
    }
    add_in_block_order(parts, gv);
}

/// The first `len` values of the reused partials buffer, grown (never shrunk) to fit.
pub(crate) fn partial_buffer<T: Real>(partials: &mut Vec<T>, len: usize) -> &mut [T] {
    if partials.len() < len {
        partials.resize(len, T::zero());
    }
    &mut partials[..len]
}

/// `y ← (((y + p₀) + p₁) + …)`: the fixed order that makes the sum independent of the threads.
pub(crate) fn add_in_block_order<T: Real>(parts: &[T], y: &mut [T]) {
    if y.is_empty() {
        return; // a product with no columns: nothing to add (and `chunks_exact(0)` panics)
    }
    for p in parts.chunks_exact(y.len()) {
        for (d, &v) in y.iter_mut().zip(p) {
            *d += v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::kernels::tests::{gamma, uniform};

    fn pools() -> Vec<rayon::ThreadPool> {
        (1..=4)
            .map(|k| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(k)
                    .build()
                    .expect("a test pool")
            })
            .collect()
    }

    #[test]
    fn blocks_depend_on_the_shape_alone() {
        // Below the threshold: serial.
        assert_eq!(Blocks::for_rows(1000, MIN_PARALLEL_WORK - 1), None);
        // 2²⁰ rows of one column: 64 blocks of 2¹⁴ rows (a multiple of 64).
        assert_eq!(
            Blocks::for_rows(1 << 20, 1 << 20),
            Some(Blocks {
                rows: 1 << 14,
                count: 64
            })
        );
        // 10⁴ rows: ⌈10⁴/64⌉ = 157 → 192 rows per block, ⌈10⁴/192⌉ = 53 blocks.
        assert_eq!(
            Blocks::for_sum(10_000, 10_000 * 105, 105),
            Some(Blocks {
                rows: 192,
                count: 53
            })
        );
        // A sparse matrix of 2²⁰ values over 2¹⁷ columns: 2²⁰/(16·2¹⁷) = 0 affordable partials.
        assert_eq!(Blocks::for_sum(1 << 20, 1 << 20, 1 << 17), None);
        // Too few rows for two aligned blocks.
        assert_eq!(Blocks::for_rows(64, 1 << 30), None);
    }

    #[test]
    fn dense_blocks_equal_the_serial_kernel_for_every_thread_count() {
        let pools = pools();
        // Shapes above the threshold, with row counts that leave a short last block and a
        // remainder of the kernel's four-row groups.
        for (k, &(n, d)) in [(10_487, 100), (4_099, 257), (70_001, 15)]
            .iter()
            .enumerate()
        {
            assert!(n * d >= MIN_PARALLEL_WORK);
            let a = uniform::<f64>(n * d, 11 + k as u64);
            let x = uniform::<f64>(d, 23 + k as u64);
            // Every third gradient entry is zero, as the rows a hinge loss skips.
            let g: Vec<f64> = uniform::<f64>(n, 37 + k as u64)
                .iter()
                .enumerate()
                .map(|(i, &v)| if i % 3 == 0 { 0.0 } else { v })
                .collect();
            let y0 = uniform::<f64>(d, 41 + k as u64);

            let mut serial_out = vec![0.0; n];
            kernels::matvec(&a, &x, &mut serial_out);
            let mut serial_y = y0.clone();
            kernels::matvec_transpose_add(&a, &g, &mut serial_y);

            let mut first: Option<Vec<f64>> = None;
            for pool in &pools {
                let (out, y) = pool.install(|| {
                    let mut out = vec![f64::NAN; n];
                    matvec(&a, &x, &mut out);
                    let mut y = y0.clone();
                    let mut partials = Vec::new();
                    matvec_transpose_add(&a, &g, &mut y, &mut partials);
                    assert!(partials.len() <= MAX_BLOCKS * d);
                    (out, y)
                });
                // Rows are independent and computed by the same code: exact.
                assert_eq!(out, serial_out, "{n}×{d} matvec");
                let bits: Vec<u64> = y.iter().map(|v| v.to_bits()).collect();
                match &first {
                    None => first = Some(y.clone()),
                    Some(f) => assert_eq!(
                        bits,
                        f.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                        "{n}×{d} Xᵀg with {} threads",
                        pool.current_num_threads()
                    ),
                }
                // Both are orders of the same n + 1 rounded products and sums, each within
                // γ_{n+blocks+1}·(|y₀| + Σ|gᵢ·aᵢⱼ|) of the exact value.
                for j in 0..d {
                    let scale =
                        y0[j].abs() + (0..n).map(|i| (g[i] * a[i * d + j]).abs()).sum::<f64>();
                    let bound = 2.0 * gamma::<f64>(n + MAX_BLOCKS + 1) * scale;
                    assert!(
                        (y[j] - serial_y[j]).abs() <= bound,
                        "{n}×{d} column {j}: {} vs serial {}",
                        y[j],
                        serial_y[j]
                    );
                }
            }
        }
    }

    #[test]
    fn sparse_blocks_equal_the_serial_kernel_for_every_thread_count() {
        let pools = pools();
        let (n, d) = (60_000, 300);
        // About 1 in 13 entries stored: ≈ 1.4·10⁶ values, above the threshold.
        let pattern = uniform::<f64>(n * d, 5);
        let vals = uniform::<f64>(n * d, 6);
        let (mut indptr, mut indices, mut values) = (vec![0], Vec::new(), Vec::new());
        for i in 0..n {
            for j in 0..d {
                if pattern[i * d + j] > 0.85 {
                    indices.push(j as u32);
                    values.push(vals[i * d + j]);
                }
            }
            indptr.push(values.len());
        }
        let x = SparseData::new(indptr, indices, values, d).expect("valid CSR");
        assert!(x.nnz() >= MIN_PARALLEL_WORK);
        let v = uniform::<f64>(d, 7);
        let g = uniform::<f64>(n, 8);

        let mut serial_out = vec![0.0; n];
        x.matvec(0, &v, None, &mut serial_out);
        let mut serial_y = vec![0.0; d];
        x.matvec_transpose_add(0, &g, &mut serial_y);

        let mut first: Option<Vec<u64>> = None;
        for pool in &pools {
            let (out, y) = pool.install(|| {
                let mut out = vec![f64::NAN; n];
                sparse_matvec(&x, &v, &mut out);
                let mut y = vec![0.0; d];
                sparse_matvec_transpose_add(&x, &g, &mut y, &mut Vec::new());
                (out, y)
            });
            assert_eq!(out, serial_out, "sparse X·v");
            let bits: Vec<u64> = y.iter().map(|v| v.to_bits()).collect();
            match &first {
                None => first = Some(bits),
                Some(f) => assert_eq!(&bits, f, "sparse Xᵀg"),
            }
            // As the dense test: any order of the column's terms is within γ of the exact sum.
            for j in 0..d {
                let scale: f64 = (0..n)
                    .map(|i| {
                        let (idx, val) = x.row(i);
                        idx.iter()
                            .zip(val)
                            .filter(|(&c, _)| c as usize == j)
                            .map(|(_, &xv)| (g[i] * xv).abs())
                            .sum::<f64>()
                    })
                    .sum();
                let bound = 2.0 * gamma::<f64>(n + MAX_BLOCKS + 1) * scale;
                assert!((y[j] - serial_y[j]).abs() <= bound, "column {j}");
            }
        }
    }

    #[test]
    fn partials_are_reused_not_regrown() {
        let (n, d) = (20_000, 64);
        let a = uniform::<f64>(n * d, 3);
        let g = uniform::<f64>(n, 4);
        let mut partials = Vec::new();
        let mut y = vec![0.0; d];
        matvec_transpose_add(&a, &g, &mut y, &mut partials);
        let blocks = Blocks::for_sum(n, n * d, d).expect("above the threshold");
        // Exactly blocks × d values, and the second call keeps the same buffer.
        assert_eq!(partials.len(), blocks.count * d);
        let (ptr, cap) = (partials.as_ptr(), partials.capacity());
        matvec_transpose_add(&a, &g, &mut y, &mut partials);
        assert_eq!((partials.as_ptr(), partials.capacity()), (ptr, cap));
    }
}
