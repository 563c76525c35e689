//! Linear algebra: `dot`, `matvec`, `matmul`. Either operand may be a parameter (a constant data
//! matrix times a parameter vector, or a parameter matrix times data).
//!
//! ```text
//! dot(a, b)    = Σᵢ aᵢbᵢ               ∂/∂a = g·b,   ∂/∂b = g·a
//! matvec(A, v) = A·v     [r,c]·[c]→[r]  ∂/∂v = Aᵀ·g,  ∂/∂A = g·vᵀ
//! matmul(A, B) = A·B     [n,k]·[k,m]    ∂/∂A = G·Bᵀ,  ∂/∂B = Aᵀ·G
//! ```
//! No kinks. Rows whose upstream gradient is exactly 0 are skipped in `Aᵀ·g` (a hinge loss has
//! many), and so are zero coefficients in `matmul`'s `Aᵀ·G` and, for a right operand of more
//! than 4096 elements, zeros of `A` in its forward pass: a zero factor stands for an exact zero
//! term, as a sparse product's missing entries do (so `0·∞` there is 0, not NaN; a non-finite
//! value that does reach a parameter's gradient is `Error::NonFinite`).

use super::kernels::{self, axpy, dot};
use super::rule::{Need, TangentCx};
use super::{build, fuse, info, parallel, Op, Sink};
use crate::{Error, Real, Result, Shape, Var};

impl<'t, T: Real> Var<'t, T> {
    /// Inner product of two values of equal shape (a scalar).
    ///
    /// ```text
    /// dot(a, b) = Σᵢ aᵢ·bᵢ        ∂/∂a = b, ∂/∂b = a
    /// ```
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if the shapes differ; [`Error::ForeignVar`].
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let w = tape.param_vec(&[1.0, 2.0])?;
    /// let x = tape.constant_vec(&[3.0, 4.0])?;
    /// let s = w.try_dot(x)?;
    /// assert_eq!(s.item(), 11.0);
    /// assert_eq!(s.backward()?.wrt(w), &[3.0, 4.0]);
    /// # Ok(()) }
    /// ```
    pub fn try_dot(self, b: Var<'t, T>) -> Result<Var<'t, T>> {
        self.same_tape(b, "dot")?;
        let ((sa, na), (sb, nb)) = (info(self), info(b));
        if sa != sb {
            return Err(Error::ShapeMismatch {
                op: "dot",
                lhs: sa,
                rhs: sb,
            });
        }
        Ok(build(
            self.tape,
            Op::Dot(self.id, b.id),
            Shape::scalar(),
            na || nb,
            |p| {
                p.out[0] = dot(p.vals.get(self.id), p.vals.get(b.id));
            },
        ))
    }

    /// Inner product; see [`Var::try_dot`].
    ///
    /// # Panics
    /// On a shape mismatch or a handle of another tape.
    #[track_caller]
    pub fn dot(self, b: Var<'t, T>) -> Var<'t, T> {
        crate::var::unwrap_op(self.try_dot(b))
    }

    /// Matrix–vector product `A·v` of this `[r, c]` matrix and a vector of length `c`.
    ///
    /// ```text
    /// (A·v)ᵢ = Σⱼ Aᵢⱼ·vⱼ        ∂/∂v = Aᵀ·g,  ∂/∂A = g·vᵀ
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidShape`] unless `self` is a matrix and `v` a vector;
    /// [`Error::ShapeMismatch`] if `v`'s length is not the column count; [`Error::ForeignVar`].
    ///
    /// # Example
    /// ```
    /// use autodiff::{Shape, Tape};
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let a = tape.constant(&[1.0, 2.0, 3.0, 4.0], Shape::matrix(2, 2))?;
    /// let v = tape.param_vec(&[1.0, 1.0])?;
    /// let y = a.try_matvec(v)?;
    /// assert_eq!(y.value(), vec![3.0, 7.0]);
    /// assert_eq!(y.sum().backward()?.wrt(v), &[4.0, 6.0]); // Aᵀ·1
    /// # Ok(()) }
    /// ```
    pub fn try_matvec(self, v: Var<'t, T>) -> Result<Var<'t, T>> {
        self.same_tape(v, "matvec")?;
        let ((sa, na), (sv, nv)) = (info(self), info(v));
        if sa.rank() != 2 {
            return Err(Error::InvalidShape {
                op: "matvec",
                expected: "a matrix on the left",
                shape: sa,
            });
        }
        if sv.rank() != 1 {
            return Err(Error::InvalidShape {
                op: "matvec",
                expected: "a vector on the right",
                shape: sv,
            });
        }
        if sv.len() != sa.cols() {
            return Err(Error::ShapeMismatch {
                op: "matvec",
                lhs: sa,
                rhs: sv,
            });
        }
        let op = Op::MatVec(self.id, v.id);
        Ok(build(
            self.tape,
            op,
            Shape::vector(sa.rows()),
            na || nv,
            |p| fuse::dense_product(p, self.id, v.id),
        ))
    }

    /// Matrix–vector product; see [`Var::try_matvec`].
    ///
    /// # Panics
    /// On bad shapes or a handle of another tape.
    #[track_caller]
    pub fn matvec(self, v: Var<'t, T>) -> Var<'t, T> {
        crate::var::unwrap_op(self.try_matvec(v))
    }

    /// Matrix product `A·B` of this `[n, k]` matrix and a `[k, m]` matrix.
    ///
    /// ```text
    /// (A·B)ᵢⱼ = Σₖ Aᵢₖ·Bₖⱼ        ∂/∂A = G·Bᵀ,  ∂/∂B = Aᵀ·G
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidShape`] unless both are matrices; [`Error::ShapeMismatch`] if the inner
    /// dimensions differ; [`Error::ForeignVar`]; [`Error::ShapeOverflow`] or
    /// [`Error::Allocation`] if the `n × m` product cannot be held.
    ///
    /// # Example
    /// ```
    /// use autodiff::{Shape, Tape};
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.constant(&[1.0, 2.0], Shape::matrix(1, 2))?;
    /// let w = tape.param(&[1.0, 0.0, 0.0, 1.0], Shape::matrix(2, 2))?;
    /// let s = x.try_matmul(w)?;
    /// assert_eq!(s.value(), vec![1.0, 2.0]);
    /// assert_eq!(s.sum().backward()?.wrt(w), &[1.0, 1.0, 2.0, 2.0]); // xᵀ·1
    /// # Ok(()) }
    /// ```
    pub fn try_matmul(self, b: Var<'t, T>) -> Result<Var<'t, T>> {
        self.same_tape(b, "matmul")?;
        let ((sa, na), (sb, nb)) = (info(self), info(b));
        for s in [sa, sb] {
            if s.rank() != 2 {
                return Err(Error::InvalidShape {
                    op: "matmul",
                    expected: "two matrices",
                    shape: s,
                });
            }
        }
        if sa.cols() != sb.rows() {
            return Err(Error::ShapeMismatch {
                op: "matmul",
                lhs: sa,
                rhs: sb,
            });
        }
        let (k, m) = (sa.cols(), sb.cols());
        let shape = Shape::try_matrix(sa.rows(), m)?;
        // The one product whose output can be far larger than its operands (an outer product).
        self.tape.borrow_mut().reserve("matmul", shape.len())?;
        Ok(build(
            self.tape,
            Op::MatMul(self.id, b.id),
            shape,
            na || nb,
            |p| {
                let (a, bv) = (p.vals.get(self.id), p.vals.get(b.id));
                if m == 0 || k == 0 {
                    return; // the output is already zero
                }
                let rows = a.chunks_exact(k).zip(p.out.chunks_exact_mut(m));
                if k * m <= TINY_RIGHT {
                    let mut bt = [T::zero(); TINY_RIGHT];
                    transposed_rows(bv, k, m, &mut bt[..k * m], rows);
                } else if k * m <= SMALL_RIGHT {
                    let mut bt = [T::zero(); SMALL_RIGHT];
                    transposed_rows(bv, k, m, &mut bt[..k * m], rows);
                } else {
                    // Row i of A·B is Σₖ aᵢₖ·B[k]: the `Xᵀg` kernel over B's rows (four at a
                    // time, zeros of aᵢ skipped), into the zeroed output row.
                    for (arow, row) in rows {
                        kernels::matvec_transpose_add(bv, arow, row);
                    }
                }
            },
        ))
    }

    /// Matrix product; see [`Var::try_matmul`].
    ///
    /// # Panics
    /// On bad shapes or a handle of another tape.
    #[track_caller]
    pub fn matmul(self, b: Var<'t, T>) -> Var<'t, T> {
        crate::var::unwrap_op(self.try_matmul(b))
    }
}

/// The most elements of a `matmul` right operand that its forward pass transposes on the stack
/// (32 KiB in f64), and the size below which a smaller buffer does (so a tiny product does not
/// zero 32 KiB).
const SMALL_RIGHT: usize = 4096;
const TINY_RIGHT: usize = 256;

/// A small B (a linear model's weights: d × K): row i of A·B is Bᵀ·aᵢ, four dot products at a
/// time over the transposed copy `bt` of the `k × m` matrix `b`.
fn transposed_rows<'a, T: Real>(
    b: &[T],
    k: usize,
    m: usize,
    bt: &mut [T],
    rows: impl Iterator<Item = (&'a [T], &'a mut [T])>,
) {
    for (kk, brow) in b.chunks_exact(m).enumerate() {
        for (c, &v) in brow.iter().enumerate() {
            bt[c * k + kk] = v;
        }
    }
    for (arow, row) in rows {
        kernels::matvec(bt, arow, row);
    }
}

pub(super) fn dot_backward<T: Real>(s: &mut Sink<'_, T>, a: u32, b: u32, g: &[T]) {
    let (x, y) = (s.vals.get(a), s.vals.get(b));
    if let Some(ga) = s.grad(a) {
        axpy(g[0], y, ga);
    }
    if let Some(gb) = s.grad(b) {
        axpy(g[0], x, gb);
    }
}

/// `∂v += Aᵀ·g` (computed by the forward pass if [`fuse`] speculated it right), `∂A += g·vᵀ`.
pub(super) fn matvec_backward<T: Real>(s: &mut Sink<'_, T>, id: u32, a: u32, v: u32, g: &[T]) {
    let c = s.vals.shape(a).cols();
    let (am, x) = (s.vals.get(a), s.vals.get(v));
    let fusion = s.fusion;
    if let Some((gv, partials)) = s.grad_and_partials(v) {
        if !fusion.backward(id, g, gv) {
            parallel::matvec_transpose_add(am, g, gv, partials);
        }
    }
    if let Some(ga) = s.grad(a) {
        for (i, &gi) in g.iter().enumerate() {
            axpy(gi, x, &mut ga[i * c..(i + 1) * c]);
        }
    }
}

pub(super) fn matmul_backward<T: Real>(s: &mut Sink<'_, T>, a: u32, b: u32, g: &[T]) {
    let (sa, sb) = (s.vals.shape(a), s.vals.shape(b));
    let (n, k, m) = (sa.rows(), sa.cols(), sb.cols());
    let (am, bm) = (s.vals.get(a), s.vals.get(b));
    if let Some(ga) = s.grad(a) {
        for i in 0..n {
            let gi = &g[i * m..(i + 1) * m];
            for kk in 0..k {
                ga[i * k + kk] += dot(gi, &bm[kk * m..(kk + 1) * m]);
            }
        }
    }
    if let Some(gb) = s.grad(b) {
        // ∂B = Aᵀ·G, formed transposed (Gᵀ·A: four examples per update of each row, rows of
        // length k) in scratch — on the stack when small — and added into ∂B once.
        let add = |bt: &mut [T], gb: &mut [T]| {
            kernels::outer_add(am, g, k, bt);
            if k > 0 {
                for (kk, row) in gb.chunks_exact_mut(m.max(1)).enumerate() {
                    for (c, d) in row.iter_mut().enumerate() {
                        *d += bt[c * k + kk];
                    }
                }
            }
        };
        if k * m <= TINY_RIGHT {
            add(&mut [T::zero(); TINY_RIGHT][..k * m], gb);
        } else if k * m <= SMALL_RIGHT {
            add(&mut [T::zero(); SMALL_RIGHT][..k * m], gb);
        } else {
            // The size of B, an operand already on the tape.
            add(&mut vec![T::zero(); k * m], gb);
        }
    }
}

impl<T: Real> crate::Tape<T> {
    /// `X·v` for a constant sparse matrix `X` ([`crate::SparseData`], shared without copying)
    /// and a vector `v` with `X.cols()` elements. Smooth (no kink): `∂/∂v = Xᵀ·g`, one pass
    /// over the non-zeros each way.
    ///
    /// # Errors
    /// [`Error::ForeignVar`] if `v` belongs to another tape; [`Error::InvalidShape`] if `v` is
    /// not a vector; [`Error::ShapeMismatch`] if its length is not `X.cols()`.
    ///
    /// # Example
    /// ```
    /// use autodiff::{SparseData, Tape};
    /// # fn main() -> autodiff::Result<()> {
    /// let x = SparseData::new(vec![0, 1, 2], vec![1, 0], vec![2.0, -1.0], 2)?; // [[0, 2], [−1, 0]]
    /// let tape = Tape::<f64>::new();
    /// let w = tape.param_vec(&[3.0, 4.0])?;
    /// assert_eq!(tape.sparse_matvec(&x, w)?.value(), vec![8.0, -3.0]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn sparse_matvec<'t>(
        &'t self,
        x: &crate::SparseData<T>,
        v: Var<'t, T>,
    ) -> Result<Var<'t, T>> {
        if !std::ptr::eq(v.tape, self) {
            return Err(Error::ForeignVar {
                op: "sparse_matvec",
            });
        }
        let (sv, nv) = info(v);
        if sv.rank() != 1 {
            return Err(Error::InvalidShape {
                op: "sparse_matvec",
                expected: "a vector on the right",
                shape: sv,
            });
        }
        if sv.len() != x.cols() {
            return Err(Error::ShapeMismatch {
                op: "sparse_matvec",
                lhs: Shape::matrix(x.rows(), x.cols()),
                rhs: sv,
            });
        }
        let m = {
            let mut inner = self.borrow_mut();
            inner.sparse.push(x.clone());
            (inner.sparse.len() - 1) as u32
        };
        let op = Op::SparseMatVec { m, v: v.id };
        Ok(build(self, op, Shape::vector(x.rows()), nv, |p| {
            fuse::sparse_product(p, x, m, v.id)
        }))
    }
}

/// `ẏ = ȧ·b + a·ḃ`.
pub(super) fn dot_tangent<T: Real>(cx: &TangentCx<'_, T>, a: u32, b: u32, out: &mut [T]) {
    let vals = cx.tv.vals;
    let mut s = T::zero();
    if let Some(ta) = cx.tv.tan(a) {
        s += dot(ta, vals.get(b));
    }
    if let Some(tb) = cx.tv.tan(b) {
        s += dot(vals.get(a), tb);
    }
    out[0] = s;
}

/// `ẏ = Ȧ·x + A·ẋ` at the needed rows only (four at a time through the blocked kernel).
pub(super) fn matvec_tangent<T: Real>(cx: &TangentCx<'_, T>, a: u32, x: u32, out: &mut [T]) {
    let vals = cx.tv.vals;
    let c = vals.shape(a).cols();
    let (am, xv) = (vals.get(a), vals.get(x));
    match cx.tv.tan(x) {
        Some(tx) => kernels::matvec_rows(am, tx, cx.need, out),
        None => out.fill(T::zero()),
    }
    if let Some(ta) = cx.tv.tan(a) {
        for (row, o) in out.iter_mut().enumerate().filter(|&(e, _)| cx.need[e]) {
            *o += dot(&ta[row * c..(row + 1) * c], xv);
        }
    }
}

/// `Ẏ = Ȧ·B + A·Ḃ` at the rows holding a needed element.
pub(super) fn matmul_tangent<T: Real>(cx: &TangentCx<'_, T>, a: u32, b: u32, out: &mut [T]) {
    let vals = cx.tv.vals;
    let (sa, sb) = (vals.shape(a), vals.shape(b));
    let (k, m) = (sa.cols(), sb.cols());
    let (am, bm) = (vals.get(a), vals.get(b));
    let (ta, tb) = (cx.tv.tan(a), cx.tv.tan(b));
    for r in 0..sa.rows() {
        if !cx.need[r * m..(r + 1) * m].iter().any(|&b| b) {
            continue;
        }
        let row = &mut out[r * m..(r + 1) * m];
        row.fill(T::zero());
        for kk in 0..k {
            if let Some(ta) = ta {
                axpy(ta[r * k + kk], &bm[kk * m..(kk + 1) * m], row);
            }
            if let Some(tb) = tb {
                axpy(am[r * k + kk], &tb[kk * m..(kk + 1) * m], row);
            }
        }
    }
}

/// Need of `A·x` and `A·B`: a needed output row reads that row of `A`'s tangent, and all of
/// the right operand's.
pub(super) fn product_need<T: Real>(need: &mut Need<'_, T>, a: u32, v: u32) {
    let n = need.out.len();
    let rows = need.inner.nodes[a as usize].shape.rows();
    let per_row = n / rows.max(1);
    if let Some((off, len)) = need.slot(a) {
        let c = len / rows.max(1);
        for r in 0..rows {
            if need.out[r * per_row..(r + 1) * per_row].iter().any(|&b| b) {
                need.lower[off + r * c..off + (r + 1) * c].fill(true);
            }
        }
    }
    need.all(v);
}

/// `X·v` with the sparse constant `sparse[m]`: `ẏ = X·v̇` at the needed rows.
pub(super) fn sparse_matvec_tangent<T: Real>(cx: &TangentCx<'_, T>, m: u32, v: u32, out: &mut [T]) {
    match cx.tv.tan(v) {
        Some(tv) => cx.inner.sparse[m as usize].matvec(0, tv, Some(cx.need), out),
        None => out.fill(T::zero()),
    }
}

/// `Xᵀ·g` into `v`'s gradient (computed by the forward pass if [`fuse`] speculated it right).
pub(super) fn sparse_matvec_backward<T: Real>(
    s: &mut Sink<'_, T>,
    id: u32,
    x: &crate::SparseData<T>,
    v: u32,
    g: &[T],
) {
    let fusion = s.fusion;
    if let Some((gv, partials)) = s.grad_and_partials(v) {
        if !fusion.backward(id, g, gv) {
            parallel::sparse_matvec_transpose_add(x, g, gv, partials);
        }
    }
}

/// A needed row of `X·v` needs the tangent of exactly its stored columns of `v`.
pub(super) fn sparse_matvec_need<T: Real>(need: &mut Need<'_, T>, m: u32, v: u32) {
    if let Some((off, _)) = need.slot(v) {
        let x = &need.inner.sparse[m as usize];
        for r in (0..need.out.len()).filter(|&r| need.out[r]) {
            for &j in x.row(r).0 {
                need.lower[off + j as usize] = true;
            }
        }
    }
}

/// Magnitude of `a·b`: `Σ m(a)ₖ·m(b)ₖ`.
pub(super) fn dot_magnitude<T: Real>(cx: &TangentCx<'_, T>, a: u32, b: u32, out: &mut [T]) {
    let (ma, mb) = (cx.m_raw(a), cx.m_raw(b));
    let n = cx.tv.vals.shape(a).len();
    out[0] = (0..n).map(|k| ma.at(k) * mb.at(k)).sum();
}

/// Magnitude of `A·x`: `Σⱼ m(A)ᵢⱼ·m(x)ⱼ` at the needed rows.
pub(super) fn matvec_magnitude<T: Real>(cx: &TangentCx<'_, T>, a: u32, x: u32, out: &mut [T]) {
    let c = cx.tv.vals.shape(a).cols();
    let (ma, mx) = (cx.m_raw(a), cx.m_raw(x));
    for e in cx.needed() {
        out[e] = (0..c).map(|j| ma.at(e * c + j) * mx.at(j)).sum();
    }
}

/// Magnitude of `A·B`: `Σₖ m(A)ᵣₖ·m(B)ₖₛ` at the needed elements.
pub(super) fn matmul_magnitude<T: Real>(cx: &TangentCx<'_, T>, a: u32, b: u32, out: &mut [T]) {
    let k = cx.tv.vals.shape(a).cols();
    let m = cx.tv.vals.shape(b).cols();
    let (ma, mb) = (cx.m_raw(a), cx.m_raw(b));
    for e in cx.needed() {
        let (r, s) = (e / m, e % m);
        out[e] = (0..k).map(|kk| ma.at(r * k + kk) * mb.at(kk * m + s)).sum();
    }
}

/// Magnitude of `X·v` (sparse `X`): `Σⱼ |Xᵢⱼ|·m(v)ⱼ` over the stored columns of the needed rows.
pub(super) fn sparse_matvec_magnitude<T: Real>(
    cx: &TangentCx<'_, T>,
    m: u32,
    v: u32,
    out: &mut [T],
) {
    let x = &cx.inner.sparse[m as usize];
    let mv = cx.m_raw(v);
    for e in cx.needed() {
        let (idx, val) = x.row(e);
        out[e] = idx
            .iter()
            .zip(val)
            .map(|(&j, &xv)| xv.abs() * mv.at(j as usize))
            .sum();
    }
}

/// Bound of `a·b`: `n·bound(a)·bound(b)`.
pub(super) fn dot_bound<T: Real>(vals: crate::tape::Values<'_, T>, a: u32, ua: T, ub: T) -> T {
    T::cst(vals.shape(a).len() as f64) * ua * ub
}

/// Bound of `A·x` and `A·B`: the inner dimension times `bound(A)·bound(x)`.
pub(super) fn product_bound<T: Real>(vals: crate::tape::Values<'_, T>, a: u32, ua: T, ub: T) -> T {
    T::cst(vals.shape(a).cols() as f64) * ua * ub
}

/// Bound of `X·v` (sparse `X`): `maxᵢ Σⱼ |Xᵢⱼ|·bound(v)` (the row sum kept by `SparseData`).
pub(super) fn sparse_matvec_bound<T: Real>(x: &crate::SparseData<T>, uv: T) -> T {
    x.row_abs_sum_max() * uv
}
