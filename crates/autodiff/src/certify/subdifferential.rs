//! The whole subdifferential at a point where every tie is an independent convex kink of two
//! affine branches: a zonotope, computed from the tape, with its minimum-norm element.
//!
//! # The class
//! Write the output as `F(θ) = G(θ, y₁(θ), …, y_k(θ))`, where `y_j` is the value of the `j`-th
//! tied element and `G` is the rest of the tape. Near the point every kink that is not tied
//! keeps its branch, so `G` is smooth there. [`Tape::subdifferential`] requires, and checks,
//! that
//! 1. each tie has **two branches**, each affine in the kink's inputs (`relu`, `leaky_relu`,
//!    `abs`, `clamp` at a bound, a binary `max`/`min`, an n-ary one or a reduction with exactly
//!    two tied inputs): `y_j = max(b₀, b₁)` (a convex kink) or `min(b₀, b₁)` (a concave one) of
//!    smooth functions of `θ` — else [`Error::ManyPieces`] or [`Error::CurvedTie`];
//! 2. the ties are **independent**: no tied element's value feeds another tied element's
//!    inputs, so neither the weights `∂G/∂y_j` nor the branches' gradients depend on how the
//!    other ties are resolved — else [`Error::NestedTies`];
//! 3. each tie enters **convexly**: `∂G/∂y_j ≥ 0` for a convex kink, `≤ 0` for a concave one
//!    (ties whose two branches give the same gradient are exempt: they split nothing) — else
//!    [`Error::NonConvexTie`].
//!
//! # The set
//! Under these conditions `F` is Clarke regular at the point and the chain rule holds with
//! equality (Clarke 1983, Theorems 2.3.9 and 2.3.10), so
//! ```text
//! ∂F(θ) = c + { Σⱼ tⱼ·gⱼ : t ∈ [0, 1]ᵏ }
//! c  = ∇F with every tie on its branch 0
//! gⱼ = ∂G/∂yⱼ · (∇b₁ − ∇b₀)        the two branches' gradients, pushed to the inputs
//! ```
//! exactly (a zonotope). A convex piecewise-linear loss summed over examples — hinge,
//! Weston–Watkins, Crammer–Singer, L1 — plus smooth terms such as `½‖w‖²`, at a point where
//! examples sit exactly on their kinks, is of this class: one generator per example on a kink.
//!
//! # The method
//! One reverse marking pass from the root finds the tied elements and checks condition 2 (a
//! tied element reached from a later tie's inputs is nested). Each tie's primitive sets its
//! mask to branch 0 or 1 (`Op::branch`); one backward with every tie on branch 0 gives `c`
//! and the weights `∂G/∂yⱼ`, and per tie two backward passes seeded at the tied element only
//! (branch 1, then branch 0) give `gⱼ` as their difference.

use crate::ops;
use crate::ops::rule::{Branch, Need, Pieces};
use crate::tape::{run_backward, Inner};
use crate::{Error, Gradients, NodeId, Real, Result, Tape, Var};

/// The most sweeps of coordinate descent [`Subdifferential::min_norm`] and
/// [`Subdifferential::contains_zero`] run.
pub const MAX_SWEEPS: usize = 10_000;

/// One tied element of the tape: the kink primitive, its node and the element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TiedElement {
    /// The kink primitive's name (as in [`crate::primitives`]).
    pub op: &'static str,
    /// The kink node.
    pub node: NodeId,
    /// The tied output element (flat, row-major).
    pub element: usize,
}

/// The subdifferential of an output with respect to chosen parameters, a zonotope: a centre
/// and one generator per tied element ([`Tape::subdifferential`]).
///
/// ```text
/// ∂F = { c + Σⱼ tⱼ·gⱼ : t ∈ [0, 1]ᵏ }
/// ```
/// Coordinates are the parameters' elements end to end, in the order they were asked for.
///
/// # Example
/// ```
/// use autodiff::Tape;
/// # fn main() -> autodiff::Result<()> {
/// let tape = Tape::<f64>::new();
/// let w = tape.param_scalar(1.0)?;
/// let f = (1.0 - w).relu() + w.square() * 0.5; // hinge at its margin, plus ½w²
/// let sub = tape.subdifferential(f, &[w])?;
/// assert_eq!(sub.center, vec![1.0]); // w, with relu'(0) taken as 0
/// assert_eq!(sub.generators, vec![vec![-1.0]]); // ∂ = [0, 1]: 1 + t·(−1)
/// assert!(sub.contains_zero(1e-12)); // w = 1 minimises f
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Subdifferential<T> {
    /// The centre `c`: the gradient with every tie on its branch 0.
    pub center: Vec<T>,
    /// The generators `gⱼ`, each as long as the centre and none zero (a tie whose two branches
    /// have the same gradient adds nothing and is left out), in the order of [`Self::ties`].
    pub generators: Vec<Vec<T>>,
    /// The tied element each generator comes from (by node, then element).
    pub ties: Vec<TiedElement>,
}

/// The minimum-norm element of a [`Subdifferential`] (the negative steepest-descent direction:
/// `−point/‖point‖` decreases `F` fastest), with its multipliers.
#[derive(Debug, Clone, PartialEq)]
pub struct MinNorm<T> {
    /// The element `c + Σⱼ tⱼ·gⱼ` found.
    pub point: Vec<T>,
    /// Its multipliers `tⱼ ∈ [0, 1]`, one per generator.
    pub multipliers: Vec<T>,
    /// A bound on `‖point − p*‖`, with `p*` the exact minimum-norm element:
    /// `min(√(2·gap), ‖point‖)` for the Frank–Wolfe duality gap of the box-constrained problem
    /// at `t`, since `‖point − p*‖² ≤ ‖point‖² − ‖p*‖²` (exact arithmetic; the rounding of
    /// `point` itself, about `ε·(‖c‖ + Σ‖gⱼ‖)`, comes on top).
    pub error_bound: T,
    /// Sweeps of coordinate descent run.
    pub sweeps: usize,
}

/// Coordinate-descent state of `min ½‖c + G·t‖²` over `t ∈ [0, 1]ᵏ`.
struct Descent<'a, T> {
    set: &'a Subdifferential<T>,
    t: Vec<T>,
    point: Vec<T>,
    squares: Vec<T>,
}

fn dot<T: Real>(a: &[T], b: &[T]) -> T {
    a.iter().zip(b).map(|(&x, &y)| x * y).sum()
}

impl<'a, T: Real> Descent<'a, T> {
    fn new(set: &'a Subdifferential<T>) -> Self {
        let squares = set.generators.iter().map(|g| dot(g, g)).collect();
        let mut d = Descent {
            set,
            t: vec![T::zero(); set.generators.len()],
            point: set.center.clone(),
            squares,
        };
        d.refresh();
        d
    }

    /// Recomputes `point = c + Σ tⱼ·gⱼ` from `t` (so rounding does not build up over sweeps).
    fn refresh(&mut self) {
        self.point.clone_from(&self.set.center);
        for (g, &tj) in self.set.generators.iter().zip(&self.t) {
            if tj != T::zero() {
                for (p, &gi) in self.point.iter_mut().zip(g) {
                    *p += tj * gi;
                }
            }
        }
    }

    /// The Frank–Wolfe gap `Σⱼ (ρⱼ·tⱼ − min(ρⱼ, 0))`, `ρⱼ = gⱼ·point`: an upper bound on
    /// `½‖point‖² − ½‖p*‖²`, hence `‖point − p*‖² ≤ 2·gap`.
    fn gap(&self) -> T {
        self.set
            .generators
            .iter()
            .zip(&self.t)
            .map(|(g, &tj)| {
                let rho = dot(g, &self.point);
                rho * tj - rho.min(T::zero())
            })
            .sum::<T>()
            .max(T::zero())
    }

    /// One cyclic sweep: each `tⱼ` set to the minimiser along `gⱼ`, clipped to `[0, 1]`.
    /// Returns the largest change of a multiplier.
    fn sweep(&mut self) -> T {
        let mut largest = T::zero();
        for (j, g) in self.set.generators.iter().enumerate() {
            if self.squares[j] == T::zero() {
                continue;
            }
            let along = dot(&self.point, g);
            let next = (self.t[j] - along / self.squares[j])
                .max(T::zero())
                .min(T::one());
            let step = next - self.t[j];
            if step != T::zero() {
                for (p, &gi) in self.point.iter_mut().zip(g) {
                    *p += step * gi;
                }
                self.t[j] = next;
                largest = largest.max(step.abs());
            }
        }
        self.refresh();
        largest
    }

    fn norm(&self) -> T {
        dot(&self.point, &self.point).sqrt()
    }
}

impl<T: Real> Subdifferential<T> {
    /// The minimum-norm element, by cyclic coordinate descent on
    /// ```text
    /// min ½‖c + Σⱼ tⱼ·gⱼ‖²  over  t ∈ [0, 1]ᵏ
    /// ```
    /// from `t = 0`, until no multiplier moves by more than a few ulps in a sweep (or after
    /// [`MAX_SWEEPS`] sweeps). The problem is convex, so the descent converges to the
    /// minimum-norm element (linearly when the generators are independent); the result states
    /// its own accuracy in [`MinNorm::error_bound`]. The multipliers are unique when the
    /// generators are linearly independent; otherwise they are one optimal choice.
    ///
    /// # Example
    /// ```
    /// use autodiff::certify::Subdifferential;
    /// // c = (1, 1), g₁ = (−2, 0), g₂ = (0, −4): the nearest point to 0 is 0, at t = (½, ¼).
    /// let z = Subdifferential::<f64> {
    ///     center: vec![1.0, 1.0],
    ///     generators: vec![vec![-2.0, 0.0], vec![0.0, -4.0]],
    ///     ties: Vec::new(),
    /// };
    /// let m = z.min_norm();
    /// assert!(m.point.iter().all(|p| p.abs() < 1e-12));
    /// assert!((m.multipliers[0] - 0.5).abs() < 1e-12 && (m.multipliers[1] - 0.25).abs() < 1e-12);
    /// # let _ = autodiff::certify::MAX_SWEEPS;
    /// ```
    pub fn min_norm(&self) -> MinNorm<T> {
        let mut d = Descent::new(self);
        let still = T::cst(4.0) * T::epsilon();
        let mut sweeps = 0;
        while sweeps < MAX_SWEEPS {
            sweeps += 1;
            if d.sweep() <= still {
                break;
            }
        }
        MinNorm {
            // ‖p − p*‖² ≤ ‖p‖² − ‖p*‖² (p* is the nearest point of a convex set), which is at
            // most 2·gap and at most ‖p‖²; `+ 0` turns the −0 of an empty sum into 0.
            error_bound: (T::cst(2.0) * d.gap()).sqrt().min(d.norm()) + T::zero(),
            point: d.point,
            multipliers: d.t,
            sweeps,
        }
    }

    /// Whether 0 lies in the set up to a Euclidean distance `tol`: a point of the set within
    /// `tol` of 0 is found (true), or the duality gap proves every point is farther (false).
    ///
    /// The same descent as [`Self::min_norm`], stopped as soon as either is certain: true when
    /// `‖c + Σ tⱼ·gⱼ‖ ≤ tol` at the current `t`, false when `‖point‖² − 2·gap > tol²` (the gap
    /// bounds how far `‖point‖²` can exceed the minimum). If [`MAX_SWEEPS`] sweeps decide
    /// neither, the answer is false: no point within `tol` was found.
    ///
    /// # Example
    /// ```
    /// use autodiff::certify::Subdifferential;
    /// let segment = Subdifferential { center: vec![1.0], generators: vec![vec![-3.0]], ties: Vec::new() };
    /// assert!(segment.contains_zero(1e-12)); // [−2, 1] ∋ 0
    /// let short = Subdifferential { center: vec![1.0], generators: vec![vec![-0.5]], ties: Vec::new() };
    /// assert!(!short.contains_zero(0.1)); // [0.5, 1]
    /// ```
    pub fn contains_zero(&self, tol: T) -> bool {
        let mut d = Descent::new(self);
        for _ in 0..=MAX_SWEEPS {
            let norm = d.norm();
            if norm <= tol {
                return true;
            }
            if norm * norm - T::cst(2.0) * d.gap() > tol * tol {
                return false;
            }
            if d.sweep() == T::zero() {
                // A fixed point of the descent is the minimum: the distance is ‖point‖.
                return d.norm() <= tol;
            }
        }
        false
    }
}

/// The tied elements the root depends on, by node then element, after checking that none
/// feeds another (one reverse marking pass: a tied element reached from a later tie's inputs
/// is nested).
fn tied_elements<T: Real>(inner: &Inner<T>, root: u32) -> Result<Vec<(usize, usize)>> {
    let n = root as usize + 1;
    let mut ancestor = vec![false; n];
    ancestor[root as usize] = true;
    for i in (0..n).rev() {
        if ancestor[i] {
            inner.nodes[i]
                .op
                .for_each_input(inner, |x| ancestor[x as usize] = true);
        }
    }
    let mut need = vec![false; inner.grad_len];
    let mut ties = Vec::new();
    for i in (0..n).rev() {
        let node = &inner.nodes[i];
        if !ancestor[i] || !node.needs_grad() {
            continue;
        }
        let tied = &inner.ties[node.ties.0..node.ties.1];
        // Flags below this node were set only by later ties' inputs: one set here is nested.
        if let Some(&e) = tied.iter().find(|&&e| need[node.grad + e]) {
            return Err(Error::NestedTies {
                op: node.op.name(),
                node: NodeId(i as u32),
                element: e,
            });
        }
        for &e in tied.iter().rev() {
            need[node.grad + e] = true;
            ties.push((i, e));
        }
        let (lower, upper) = need.split_at_mut(node.grad);
        let out = &upper[..node.shape.len()];
        if out.iter().any(|&b| b) {
            node.op.need(&mut Need {
                inner,
                node: i as u32,
                out,
                lower,
            });
        }
    }
    ties.reverse();
    Ok(ties)
}

/// Sets tie `(i, e)`'s mask to branch `which`; returns whether the kink is convex.
fn select<T: Real>(
    inner: &Inner<T>,
    masks: &mut [T],
    (i, e): (usize, usize),
    which: usize,
) -> Result<bool> {
    let node = &inner.nodes[i];
    let mut b = Branch {
        vals: inner.values(),
        node: i as u32,
        mask: &mut masks[node.mask..],
        e,
        which,
    };
    let (op, id) = (node.op.name(), NodeId(i as u32));
    // Only kink ops record ties, and every kink op has a branch rule.
    match node.op.branch(inner, &mut b) {
        Some(Pieces::Two { convex }) => Ok(convex),
        Some(Pieces::Many { count }) => Err(Error::ManyPieces {
            op,
            node: id,
            element: e,
            count,
        }),
        Some(Pieces::Curved) | None => Err(Error::CurvedTie { op, node: id }),
    }
}

/// A reverse pass seeded at one element of an inner node, reusing its buffers.
struct Seeded<T> {
    data: Vec<T>,
    touched: Vec<bool>,
    /// As [`crate::Gradients`]' partials.
    partials: Vec<T>,
}

impl<T: Real> Seeded<T> {
    fn new(inner: &Inner<T>) -> Self {
        Seeded {
            data: vec![T::zero(); inner.grad_len],
            touched: vec![false; inner.nodes.len()],
            partials: Vec::new(),
        }
    }

    /// `weight·∂y_e/∂(everything below node i)` with the given masks.
    fn run(
        &mut self,
        inner: &Inner<T>,
        (i, e): (usize, usize),
        weight: T,
        masks: &[T],
    ) -> Result<()> {
        self.data[inner.nodes[i].grad + e] = weight;
        self.touched[i] = true;
        ops::backward(
            inner,
            i as u32,
            masks,
            &mut self.data,
            &mut self.touched,
            &mut self.partials,
        )
    }

    /// Zeroes what the last run wrote (only the touched nodes' slots).
    fn reset(&mut self, inner: &Inner<T>) {
        for (node, touched) in inner.nodes.iter().zip(self.touched.iter_mut()) {
            if *touched && node.needs_grad() {
                self.data[node.grad..node.grad + node.shape.len()].fill(T::zero());
            }
            *touched = false;
        }
    }
}

impl<T: Real> Tape<T> {
    /// The whole subdifferential of the scalar `y` with respect to the parameters `wrt`, where
    /// every tie is an independent convex kink of two affine branches: the zonotope of the
    /// [module docs](self), whose class, guarantee and method they state.
    ///
    /// ```text
    /// ∂y = { c + Σⱼ tⱼ·gⱼ : t ∈ [0, 1]ᵏ },  one generator gⱼ per tied element
    /// ```
    /// With no tie the set is the gradient alone; a tie whose two branches have the same gradient
    /// (with respect to `wrt`) has no generator. The other parameters are held fixed.
    ///
    /// # Errors
    /// As [`Tape::backward`]; [`Error::ForeignVar`] or [`Error::NoGradient`] for a `wrt` that
    /// is not a parameter of this tape; outside the class, [`Error::ManyPieces`],
    /// [`Error::CurvedTie`], [`Error::NestedTies`] or [`Error::NonConvexTie`];
    /// [`Error::NonFinite`] for a generator that overflows.
    ///
    /// # Example
    /// ```
    /// use autodiff::{Error, Tape};
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let w = tape.param_vec(&[1.0, 0.0])?;
    /// let x = tape.constant(&[1.0, 2.0, 1.0, -1.0], autodiff::Shape::matrix(2, 2))?;
    /// let hinge = (1.0 - x.matvec(w)).relu().sum(); // both margins exactly 1
    /// let sub = tape.subdifferential(hinge, &[w])?;
    /// assert_eq!(sub.center, vec![0.0, 0.0]);
    /// assert_eq!(sub.generators, vec![vec![-1.0, -2.0], vec![-1.0, 1.0]]); // −xᵢ
    /// assert_eq!(sub.ties[1].element, 1);
    /// let cancel = w.relu().sum() - w.relu().sum(); // ≡ 0, but each tie alone is a segment
    /// assert!(matches!(tape.subdifferential(cancel, &[w]), Err(Error::NonConvexTie { .. })));
    /// # Ok(()) }
    /// ```
    pub fn subdifferential(&self, y: Var<'_, T>, wrt: &[Var<'_, T>]) -> Result<Subdifferential<T>> {
        let inner = self.check_root(y, "subdifferential")?;
        let mut coords = Vec::with_capacity(wrt.len());
        for &x in wrt {
            if !std::ptr::eq(x.tape, self) {
                return Err(Error::ForeignVar {
                    op: "subdifferential",
                });
            }
            let node = inner.node(x.id);
            if !node.is_param() {
                return Err(Error::NoGradient {
                    node: x.id as usize,
                });
            }
            coords.push(node.grad..node.grad + node.shape.len());
        }
        let pick = |data: &[T]| -> Vec<T> {
            coords
                .iter()
                .flat_map(|r| data[r.clone()].iter().copied())
                .collect()
        };
        let mut grads = Gradients::new();
        if !inner.node(y.id).needs_grad() {
            run_backward(&inner, y.id, &inner.masks, &mut grads)?;
            return Ok(Subdifferential {
                center: pick(&grads.data),
                generators: Vec::new(),
                ties: Vec::new(),
            });
        }
        let tied = tied_elements(&inner, y.id)?;
        let mut masks = inner.masks.clone();
        let mut convex = Vec::with_capacity(tied.len());
        for &tie in &tied {
            convex.push(select(&inner, &mut masks, tie, 0)?);
        }
        run_backward(&inner, y.id, &masks, &mut grads)?;
        let center = pick(&grads.data);
        let (mut up, mut down) = (Seeded::new(&inner), Seeded::new(&inner));
        let mut generators = Vec::with_capacity(tied.len());
        let mut ties = Vec::with_capacity(tied.len());
        for (&(i, e), &is_convex) in tied.iter().zip(&convex) {
            let node = &inner.nodes[i];
            // ∂G/∂y_e: independent of every tie's branch, as no tie feeds another.
            let weight = grads.data[node.grad + e];
            select(&inner, &mut masks, (i, e), 1)?;
            up.run(&inner, (i, e), weight, &masks)?;
            select(&inner, &mut masks, (i, e), 0)?;
            down.run(&inner, (i, e), weight, &masks)?;
            let g: Vec<T> = pick(&up.data)
                .into_iter()
                .zip(pick(&down.data))
                .map(|(a, b)| a - b)
                .collect();
            up.reset(&inner);
            down.reset(&inner);
            crate::data::check_finite("subdifferential", &g)?;
            let splits = g.iter().any(|&v| v != T::zero());
            let concave_entry = if is_convex {
                weight < T::zero()
            } else {
                weight > T::zero()
            };
            if splits && concave_entry {
                return Err(Error::NonConvexTie {
                    op: node.op.name(),
                    node: NodeId(i as u32),
                    element: e,
                    weight: weight.to_f64_lossless(),
                });
            }
            // A tie whose branches give the same gradient adds nothing to the set.
            if splits {
                generators.push(g);
                ties.push(TiedElement {
                    op: node.op.name(),
                    node: NodeId(i as u32),
                    element: e,
                });
            }
        }
        Ok(Subdifferential {
            center,
            generators,
            ties,
        })
    }
}
