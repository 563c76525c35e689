//! Small convex-hull geometry for `grad`'s subdifferential: the point of a hull nearest to
//! another (Wolfe's algorithm), a hull's vertices, its dimension, and a polygon's cyclic order.
//!
//! The point sets are the gradients of a few branches (at most a few hundred points in as many
//! dimensions as the expression has variables), so plain dense linear algebra is enough.

/// The relative tolerance of every test here: distances below `TOLERANCE · scale` are 0,
/// where `scale` is the largest coordinate magnitude of the points (at least 1).
pub const TOLERANCE: f64 = 1e-9;

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn sub(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x - y).collect()
}

/// The largest coordinate magnitude of `points`, at least 1: the unit of the tolerances.
pub fn scale(points: &[Vec<f64>]) -> f64 {
    points.iter().flatten().fold(1.0_f64, |m, v| m.max(v.abs()))
}

/// Solves `a·x = b` in place by Gaussian elimination with partial pivoting; `None` if a pivot
/// is below `tiny`.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>, tiny: f64) -> Option<Vec<f64>> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() <= tiny {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        let (top, rest) = a.split_at_mut(col + 1);
        let pivot_row = &top[col];
        for (offset, row) in rest.iter_mut().enumerate() {
            let f = row[col] / pivot_row[col];
            for (r, p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                *r -= f * p;
            }
            b[col + 1 + offset] -= f * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let s: f64 = (row + 1..n).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    Some(x)
}

/// The weights `α` (summing to 1) of the point of the affine hull of `points[s]` nearest to the
/// origin: `[G 1; 1ᵀ 0]·[α; μ] = [0; 1]` with `G` the Gram matrix.
fn affine_minimizer(points: &[Vec<f64>], s: &[usize], tiny: f64) -> Option<Vec<f64>> {
    let m = s.len();
    let mut a = vec![vec![0.0; m + 1]; m + 1];
    for (i, &p) in s.iter().enumerate() {
        for (j, &q) in s.iter().enumerate() {
            a[i][j] = dot(&points[p], &points[q]);
        }
        a[i][m] = 1.0;
        a[m][i] = 1.0;
    }
    let mut b = vec![0.0; m + 1];
    b[m] = 1.0;
    let mut x = solve(a, b, tiny)?;
    x.truncate(m);
    Some(x)
}

/// The point of the convex hull of `points` nearest to the origin, by Wolfe's algorithm (1976):
/// keep a set `S` of points and the nearest point of its hull; add the point most opposed to it
/// while one improves, and drop points whose weight the affine minimiser would make negative.
/// Exact in finitely many steps up to rounding.
///
/// # Panics
/// If `points` is empty.
pub fn nearest_to_origin(points: &[Vec<f64>]) -> Vec<f64> {
    assert!(!points.is_empty(), "the hull of no points");
    let unit = scale(points);
    let eps = (TOLERANCE * unit).powi(2);
    let tiny = 1e-14 * unit * unit;
    let combine = |s: &[usize], w: &[f64]| {
        let mut x = vec![0.0; points[0].len()];
        for (&p, &wp) in s.iter().zip(w) {
            for (xi, pi) in x.iter_mut().zip(&points[p]) {
                *xi += wp * pi;
            }
        }
        x
    };
    let first = (0..points.len())
        .min_by(|&i, &j| dot(&points[i], &points[i]).total_cmp(&dot(&points[j], &points[j])))
        .unwrap_or(0);
    let mut s = vec![first];
    let mut w = vec![1.0];
    let mut x = points[first].clone();
    // Each major step strictly decreases ‖x‖ and S never repeats, so this bound is generous.
    for _ in 0..10 * points.len() + 100 {
        let (j, along) = (0..points.len())
            .map(|j| (j, dot(&x, &points[j])))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap_or((first, 0.0));
        if along >= dot(&x, &x) - eps || s.contains(&j) {
            return x;
        }
        s.push(j);
        w.push(0.0);
        loop {
            let Some(alpha) = affine_minimizer(points, &s, tiny) else {
                // S became affinely dependent through rounding: x is as good as it gets.
                return x;
            };
            if alpha.iter().all(|&a| a > 1e-15) {
                w = alpha;
                x = combine(&s, &w);
                break;
            }
            // Move from w towards alpha until a weight reaches 0, and drop those points.
            let theta = w
                .iter()
                .zip(&alpha)
                .filter(|(_, &a)| a <= 1e-15)
                .map(|(&wi, &a)| wi / (wi - a))
                .fold(1.0_f64, f64::min);
            for (wi, a) in w.iter_mut().zip(&alpha) {
                *wi = (1.0 - theta) * *wi + theta * a;
            }
            let mut k = 0;
            while k < s.len() {
                if w[k] <= 1e-15 {
                    s.remove(k);
                    w.remove(k);
                } else {
                    k += 1;
                }
            }
            let total: f64 = w.iter().sum();
            w.iter_mut().for_each(|wi| *wi /= total);
            x = combine(&s, &w);
        }
    }
    x
}

/// The Euclidean distance from `p` to the convex hull of `points`.
///
/// # Panics
/// If `points` is empty.
pub fn distance(points: &[Vec<f64>], p: &[f64]) -> f64 {
    let shifted: Vec<Vec<f64>> = points.iter().map(|q| sub(q, p)).collect();
    let x = nearest_to_origin(&shifted);
    dot(&x, &x).sqrt()
}

/// Whether `p` lies in the convex hull of `points`, within the tolerance.
pub fn contains(points: &[Vec<f64>], p: &[f64]) -> bool {
    !points.is_empty() && distance(points, p) <= TOLERANCE * scale(points).max(scale(&[p.to_vec()]))
}

/// The vertices of the convex hull of `points`: duplicates merged, then every point dropped that
/// lies in the hull of the others. A polygon's vertices come in cyclic order.
///
/// # Example
/// ```
/// use subgrad_cli::hull;
/// // The square's centre and an edge's midpoint are not vertices.
/// let pts = [[0.0, 0.0], [1.0, 0.0], [0.5, 0.5], [1.0, 1.0], [0.0, 1.0], [0.5, 0.0]];
/// let pts: Vec<Vec<f64>> = pts.iter().map(|p| p.to_vec()).collect();
/// assert_eq!(hull::vertices(&pts).len(), 4);
/// ```
pub fn vertices(points: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let tol = TOLERANCE * scale(points);
    let mut distinct: Vec<Vec<f64>> = Vec::new();
    for p in points {
        if !distinct
            .iter()
            .any(|q| q.iter().zip(p).all(|(a, b)| (a - b).abs() <= tol))
        {
            distinct.push(p.clone());
        }
    }
    if distinct.len() <= 2 {
        return distinct;
    }
    let mut kept: Vec<Vec<f64>> = Vec::new();
    for (i, p) in distinct.iter().enumerate() {
        let others: Vec<Vec<f64>> = distinct
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != i)
            .map(|(_, q)| q.clone())
            .collect();
        if distance(&others, p) > tol {
            kept.push(p.clone());
        }
    }
    if dimension(&kept) == 2 {
        cyclic_order(&mut kept);
    }
    kept
}

/// An orthonormal basis of the span of the differences `pᵢ − p₀` (Gram–Schmidt with the
/// tolerance).
fn difference_basis(points: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let tol = TOLERANCE * scale(points);
    let mut basis: Vec<Vec<f64>> = Vec::new();
    let Some(origin) = points.first() else {
        return basis;
    };
    for p in &points[1..] {
        let mut v = sub(p, origin);
        for b in &basis {
            let c = dot(&v, b);
            for (vi, bi) in v.iter_mut().zip(b) {
                *vi -= c * bi;
            }
        }
        let norm = dot(&v, &v).sqrt();
        if norm > tol {
            basis.push(v.iter().map(|vi| vi / norm).collect());
        }
    }
    basis
}

/// The dimension of the affine hull of `points` (0 for one point, 1 for a segment, …).
pub fn dimension(points: &[Vec<f64>]) -> usize {
    difference_basis(points).len()
}

/// Sorts a planar polygon's vertices by angle around their centroid, in the plane they span.
fn cyclic_order(points: &mut [Vec<f64>]) {
    let basis = difference_basis(points);
    let n = points.len() as f64;
    let dim = points[0].len();
    let centroid: Vec<f64> = (0..dim)
        .map(|k| points.iter().map(|p| p[k]).sum::<f64>() / n)
        .collect();
    let angle = |p: &Vec<f64>| {
        let v = sub(p, &centroid);
        dot(&v, &basis[1]).atan2(dot(&v, &basis[0]))
    };
    points.sort_by(|a, b| angle(a).total_cmp(&angle(b)));
}

/// The name of a hull of this dimension: point, segment, polygon, polytope.
pub fn shape(dimension: usize) -> &'static str {
    match dimension {
        0 => "point",
        1 => "segment",
        2 => "polygon",
        _ => "polytope",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(p: &[&[f64]]) -> Vec<Vec<f64>> {
        p.iter().map(|q| q.to_vec()).collect()
    }

    #[test]
    fn nearest_point_of_a_segment_and_a_triangle() {
        // The segment from (1, −1) to (1, 1): nearest to 0 is (1, 0).
        assert_eq!(
            nearest_to_origin(&pts(&[&[1.0, -1.0], &[1.0, 1.0]])),
            [1.0, 0.0]
        );
        // A triangle around the origin contains it.
        let t = pts(&[&[1.0, 0.0], &[-1.0, 1.0], &[-1.0, -1.0]]);
        assert!(contains(&t, &[0.0, 0.0]));
        assert!(!contains(&t, &[2.0, 0.0]));
        // Distance from (0, 3) to the segment (−1, 0)–(1, 0) is 3.
        assert_eq!(
            distance(&pts(&[&[-1.0, 0.0], &[1.0, 0.0]]), &[0.0, 3.0]),
            3.0
        );
    }

    #[test]
    fn vertices_drop_interior_and_repeated_points_and_order_a_polygon() {
        // The zonotope of two generators (1, 0), (0, 1) from 0: the unit square, with the
        // centre given twice.
        let p = pts(&[
            &[0.0, 0.0],
            &[1.0, 1.0],
            &[0.5, 0.5],
            &[1.0, 0.0],
            &[0.5, 0.5],
            &[0.0, 1.0],
        ]);
        let v = vertices(&p);
        assert_eq!(v.len(), 4);
        assert_eq!(dimension(&v), 2);
        // Cyclic: consecutive vertices differ in one coordinate (edges, not diagonals).
        for k in 0..4 {
            let (a, b) = (&v[k], &v[(k + 1) % 4]);
            assert_eq!((a[0] != b[0]) as u8 + (a[1] != b[1]) as u8, 1, "{v:?}");
        }
        // Collinear points: a segment's two ends.
        let s = vertices(&pts(&[
            &[0.0, 0.0, 0.0],
            &[-0.5, -1.0, -0.25],
            &[-1.0, -2.0, -0.5],
        ]));
        assert_eq!(s, pts(&[&[0.0, 0.0, 0.0], &[-1.0, -2.0, -0.5]]));
        assert_eq!(shape(dimension(&s)), "segment");
    }
}
