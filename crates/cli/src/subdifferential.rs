//! `grad`'s subdifferential: the Clarke set of an expression at a kink, from the branches of the
//! kinks the forward pass hit.
//!
//! # The method
//! Near the point, every kink that did not sit exactly on its kink keeps its branch, so `f`
//! equals, on each small region, one *piece*: the expression with each tied kink replaced by
//! one of its branches (`relu(z)` by `z` or `0`, `leaky_relu(z, α)` by `z` or `α·z`, `abs(z)`
//! by `z` or `−z`, a tied `max`/`min` by one of its tied arguments, `clamp` at a bound by `x` or
//! the bound). Each piece is smooth, and its gradient at the point is an ordinary backward pass
//! ([`expr::build_pieces`]).
//!
//! Which pieces are taken on an open set? A piece holds where every tied kink is on its chosen
//! side: `z > 0` for `relu → z`, `a − b > 0` for `max → a`, and so on. To first order near the
//! point these are the strict inequalities `rᵢ·d > 0` in the direction `d`, with `rᵢ` the
//! gradient of each *switch* (`z`, `a − b`, …) on that piece; by Gordan's theorem a `d` exists
//! unless 0 lies in the hull of the `rᵢ` ([`hull::contains`]). Switches with a zero gradient
//! split nothing (both sides have the same gradient) and are left out.
//!
//! Then:
//! - every piece the test keeps holds on an open cone at the point, so its gradient is in the
//!   Clarke set `∂f` (a limit of gradients at nearby points), and so is their hull: the *inner*
//!   set;
//! - every gradient near the point is some piece's, so `∂f` lies in the hull of all the pieces'
//!   gradients: the *outer* set.
//!
//! The two agree, and the result is **exact**, when the test dropped no piece (the kinks are
//! independent: e.g. a single kink, or kinks of different variables), when the dropped pieces'
//! gradients already lie in the inner set, or when every switch is affine in the variables near
//! the point (then the first-order test is the whole truth, as for `relu(x) − relu(−x)`, whose
//! pieces `2x` and `0` are dropped: `∂f = {1}`). Otherwise a dropped piece might still hold on
//! a thin region that only second-order terms decide (`y > 0 > y − x²`), and both sets are
//! reported.
//!
//! The pieces are enumerated, so the kinks hit must be few: at most [`MAX_COMBINATIONS`]
//! combinations of branches, and at most [`MAX_WORK`] nodes built in all.

use std::collections::HashMap;

use autodiff::{KinkReport, NodeId, Tape};
use serde::Serialize;

use crate::expr::{self, Built, Expr, Func, Kind, Origins, Piece, Pieces};
use crate::{hull, CliError};

/// The most combinations of branches enumerated (2¹⁰: ten binary kinks).
pub const MAX_COMBINATIONS: usize = 1024;

/// The most expression nodes built over all combinations (each combination builds the whole
/// expression once).
pub const MAX_WORK: usize = 20_000_000;

/// A switch: a linear combination of expression nodes, `Σ c·node`, positive on one branch.
type Switch = Vec<(usize, f64)>;

/// One branch of a tied kink: the piece it becomes and the switches that are positive on it.
#[derive(Debug, Clone)]
pub struct Branch {
    /// The piece replacing the kink on this branch.
    pub piece: Piece,
    /// The switches, each positive where this branch holds.
    switches: Vec<Switch>,
}

/// A kink sub-expression the forward pass hit exactly, with its branches.
#[derive(Debug, Clone)]
pub struct Tie {
    /// The call node's index in the expression.
    pub node: usize,
    /// Its branches.
    pub branches: Vec<Branch>,
}

/// The tied kinks of `e` as built in `built`, from the tape's kink report; ties on nodes that
/// depend on no variable are left out (their branches all have the same gradient, 0).
///
/// # Errors
/// [`CliError::Usage`] if a reported kink is not a kink call of the expression (a bug).
pub fn ties(e: &Expr, built: &Built<'_>, report: &KinkReport) -> Result<Vec<Tie>, CliError> {
    let by_id: HashMap<NodeId, usize> = built
        .vars
        .iter()
        .enumerate()
        .map(|(i, v)| (v.id(), i))
        .collect();
    let mut out = Vec::new();
    for site in report.sites() {
        let node = by_id.get(&site.node).copied().ok_or_else(|| {
            CliError::Usage(format!("kink at {} is no sub-expression", site.node))
        })?;
        if !built.vars[node].requires_grad() {
            continue;
        }
        let Kind::Call(func, args) = &e.nodes()[node].kind else {
            return Err(CliError::Usage(format!(
                "kink at node {node} is not a call"
            )));
        };
        let value = built.value(node);
        let arg = |k: usize| args[k];
        let branch = |piece, switches| Branch { piece, switches };
        let branches = match func {
            Func::Relu => vec![
                branch(Piece::Arg(0), vec![vec![(arg(0), 1.0)]]),
                branch(Piece::Const(0.0), vec![vec![(arg(0), -1.0)]]),
            ],
            // leaky_relu(z, α) is z for z > 0 and α·z for z < 0.
            Func::LeakyRelu => vec![
                branch(Piece::Arg(0), vec![vec![(arg(0), 1.0)]]),
                branch(
                    Piece::ScaledArg(0, built.value(arg(1))),
                    vec![vec![(arg(0), -1.0)]],
                ),
            ],
            Func::Abs => vec![
                branch(Piece::Arg(0), vec![vec![(arg(0), 1.0)]]),
                branch(Piece::NegArg(0), vec![vec![(arg(0), -1.0)]]),
            ],
            Func::Max | Func::Min => {
                // `max → a_j` holds where a_j − a_i > 0 for every other tied i (reversed for min).
                let sign = if *func == Func::Max { 1.0 } else { -1.0 };
                let tied: Vec<usize> = (0..args.len())
                    .filter(|&k| built.value(arg(k)) == value)
                    .collect();
                tied.iter()
                    .map(|&j| {
                        let switches = tied
                            .iter()
                            .filter(|&&i| i != j)
                            .map(|&i| vec![(arg(j), sign), (arg(i), -sign)])
                            .collect();
                        branch(Piece::Arg(j), switches)
                    })
                    .collect()
            }
            Func::Clamp => {
                let (x, lo, hi) = (arg(0), built.value(arg(1)), built.value(arg(2)));
                let v = built.value(x);
                let mut inside = Vec::new();
                let mut out = Vec::new();
                if v == lo {
                    inside.push(vec![(x, 1.0)]);
                    out.push(branch(Piece::Const(lo), vec![vec![(x, -1.0)]]));
                }
                if v == hi {
                    inside.push(vec![(x, -1.0)]);
                    out.push(branch(Piece::Const(hi), vec![vec![(x, 1.0)]]));
                }
                out.insert(0, branch(Piece::Arg(0), inside));
                out
            }
            Func::Exp
            | Func::Ln
            | Func::Log1p
            | Func::Sqrt
            | Func::Square
            | Func::Softplus
            | Func::Sigmoid
            | Func::Tanh
            | Func::Pow => {
                return Err(CliError::Usage(format!(
                    "kink reported on the smooth `{}`",
                    func.name()
                )))
            }
        };
        out.push(Tie { node, branches });
    }
    Ok(out)
}

/// The subdifferential `grad` reports, as printed by `--json` (`"status"` tells which).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Subdifferential {
    /// The Clarke subdifferential exactly: the convex hull of `vertices`.
    Exact {
        /// `point`, `segment`, `polygon` or `polytope`.
        shape: &'static str,
        /// Its vertices, coordinates in the order of the gradient's variables (a polygon's in
        /// cyclic order).
        vertices: Vec<Vec<f64>>,
        /// Whether the returned gradient lies in it.
        contains_gradient: bool,
        /// Branch combinations enumerated.
        combinations: usize,
        /// Those that hold on an open set near the point.
        realized: usize,
    },
    /// Bounds: the Clarke set contains the hull of `inner` and lies in the hull of `outer`.
    Bounds {
        /// The shape of the inner set.
        shape: &'static str,
        /// The inner set's vertices.
        inner: Vec<Vec<f64>>,
        /// The outer set's vertices.
        outer: Vec<Vec<f64>>,
        /// `true` if the returned gradient is in the inner set, `false` if it is outside the
        /// outer one, `null` if in between.
        contains_gradient: Option<bool>,
        /// Branch combinations enumerated.
        combinations: usize,
        /// Those that hold on an open set near the point, to first order.
        realized: usize,
    },
    /// Not computed, and why; the one-sided derivatives along each variable remain.
    NotComputed {
        /// Why.
        reason: String,
    },
}

/// The gradient of node `i` of `built` with respect to `params`, or zeros if it depends on none.
fn node_gradient(
    built: &Built<'_>,
    i: usize,
    params: &[autodiff::Var<'_, f64>],
) -> Result<Vec<f64>, CliError> {
    let v = built.vars[i];
    if !v.requires_grad() {
        return Ok(vec![0.0; params.len()]);
    }
    let grads = v.backward()?;
    // `+ 0.0` turns −0 into 0: the same number, printed without a sign.
    Ok(params.iter().map(|p| grads.wrt(*p)[0] + 0.0).collect())
}

/// The Clarke subdifferential of `e` at `point` (one value per variable, in the order of
/// `e.variables()`), from its tied kinks `ties` (see the module docs), and where the returned
/// `gradient` lies in it.
///
/// # Errors
/// Engine failures while building a piece or differentiating it (the pieces have the values of
/// `f`, so the expression's own checks have passed already).
pub fn compute(
    e: &Expr,
    point: &[(String, f64)],
    ties: &[Tie],
    gradient: &[f64],
) -> Result<Subdifferential, CliError> {
    let combinations = ties
        .iter()
        .try_fold(1usize, |n, t| n.checked_mul(t.branches.len()))
        .filter(|&n| n <= MAX_COMBINATIONS);
    let Some(combinations) = combinations else {
        return Ok(Subdifferential::NotComputed {
            reason: format!(
                "the {} kinks hit have more than {MAX_COMBINATIONS} combinations of branches",
                ties.len()
            ),
        });
    };
    if combinations.saturating_mul(e.nodes().len()) > MAX_WORK {
        return Ok(Subdifferential::NotComputed {
            reason: format!(
                "{combinations} combinations of branches × {} nodes exceed {MAX_WORK} nodes to build",
                e.nodes().len()
            ),
        });
    }
    let to_cli = |err: expr::ExprError| CliError::Usage(format!("a piece of f: {err}"));
    let mut realized = Vec::new();
    let mut dropped = Vec::new();
    let mut affine_switches = true;
    let mut choice = vec![0usize; ties.len()];
    for _ in 0..combinations {
        let tape = Tape::<f64>::new();
        let mut vars = Vec::with_capacity(point.len());
        for (name, value) in point {
            vars.push((name.clone(), tape.param_scalar(*value)?));
        }
        let params: Vec<_> = vars.iter().map(|(_, v)| *v).collect();
        let pieces: Pieces = ties
            .iter()
            .zip(&choice)
            .map(|(t, &c)| (t.node, t.branches[c].piece))
            .collect();
        let built = expr::build_pieces(e, &tape, &vars, &mut Origins::default(), &pieces)
            .map_err(to_cli)?;
        let g = node_gradient(&built, built.vars.len() - 1, &params)?;
        let mut cache: HashMap<usize, Vec<f64>> = HashMap::new();
        let mut rows: Vec<Vec<f64>> = Vec::new();
        for (t, &c) in ties.iter().zip(&choice) {
            for switch in &t.branches[c].switches {
                let mut row = vec![0.0; params.len()];
                for &(node, coefficient) in switch {
                    affine_switches &= built.affine[node];
                    let node_grad = match cache.entry(node) {
                        std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
                        std::collections::hash_map::Entry::Vacant(v) => {
                            v.insert(node_gradient(&built, node, &params)?)
                        }
                    };
                    for (r, gn) in row.iter_mut().zip(node_grad.iter()) {
                        *r += coefficient * gn;
                    }
                }
                if row.iter().any(|&r| r != 0.0) {
                    rows.push(row);
                }
            }
        }
        // Gordan: some d has r·d > 0 for every row unless 0 is in the rows' hull.
        let holds = rows.is_empty() || !hull::contains(&rows, &vec![0.0; params.len()]);
        if holds {
            realized.push(g);
        } else {
            dropped.push(g);
        }
        // The next combination, counting in mixed radix.
        for (c, t) in choice.iter_mut().zip(ties) {
            *c += 1;
            if *c < t.branches.len() {
                break;
            }
            *c = 0;
        }
    }
    if realized.is_empty() {
        return Ok(Subdifferential::NotComputed {
            reason: "no combination of branches holds on an open set to first order".into(),
        });
    }
    let inner = hull::vertices(&realized);
    let shape = hull::shape(hull::dimension(&inner));
    let exact = affine_switches || dropped.iter().all(|g| hull::contains(&inner, g));
    let realized_count = realized.len();
    if exact {
        return Ok(Subdifferential::Exact {
            shape,
            contains_gradient: hull::contains(&inner, gradient),
            vertices: inner,
            combinations,
            realized: realized_count,
        });
    }
    realized.extend(dropped);
    let outer = hull::vertices(&realized);
    let contains_gradient = if hull::contains(&inner, gradient) {
        Some(true)
    } else if !hull::contains(&outer, gradient) {
        Some(false)
    } else {
        None
    };
    Ok(Subdifferential::Bounds {
        shape,
        inner,
        outer,
        contains_gradient,
        combinations,
        realized: realized_count,
    })
}

/// `grad --subdifferential`: the engine's exact set ([`Tape::subdifferential`]), for
/// expressions whose ties are independent convex kinks of two branches (sums of hinges, `abs`,
/// `max` of two, … with positive weights, plus smooth terms); its class and guarantee are in
/// `docs/certified.md`.
///
/// ```text
/// ∂f = { c + Σⱼ tⱼ·gⱼ : t ∈ [0, 1]ᵏ }
/// ```
#[derive(Debug, Clone, Serialize)]
pub struct Zonotope {
    /// The centre `c`: the gradient with every tied kink on its branch 0 (`relu → 0`,
    /// `abs → −x`, `max → its later tied argument`, `clamp → the bound`).
    pub center: Vec<f64>,
    /// One generator per tied kink whose branches differ, with the kink it comes from.
    pub generators: Vec<Generator>,
    /// The minimum-norm element (its negation is the steepest-descent direction).
    pub min_norm: Vec<f64>,
    /// Its multipliers `tⱼ`, one per generator.
    pub multipliers: Vec<f64>,
    /// A bound on the distance from `min_norm` to the exact minimum-norm element.
    pub error_bound: f64,
    /// Whether 0 is in the set (within `tolerance`): the point is stationary, and for a
    /// convex `f` a minimum.
    pub contains_zero: bool,
    /// The distance within which `contains_zero` counts 0 as in the set:
    /// `1e-9·max(1, |c|∞, |gⱼ|∞)`.
    pub tolerance: f64,
}

/// One generator of a [`Zonotope`].
#[derive(Debug, Clone, Serialize)]
pub struct Generator {
    /// The tied sub-expression.
    pub expr: String,
    /// The kink primitive.
    pub op: String,
    /// First and last column of the sub-expression.
    pub columns: [usize; 2],
    /// `gⱼ`: the difference of the gradients of the kink's two branches, in the order of the
    /// gradient's variables.
    pub direction: Vec<f64>,
}

/// The text and columns of the sub-expression tape node `node` came from (the primitive's name
/// and `[0, 0]` if none).
pub fn kink_text(source: &str, origins: &Origins, node: NodeId, op: &str) -> (String, [usize; 2]) {
    match origins.span(node) {
        Some(s) => (
            source
                .chars()
                .skip(s.start - 1)
                .take(s.end - s.start)
                .collect(),
            [s.start, s.end - 1],
        ),
        None => (op.to_string(), [0, 0]),
    }
}

/// The exact subdifferential of `y` with respect to `params` (the expression's variables), its
/// minimum-norm element and whether 0 is in it.
///
/// # Errors
/// [`CliError::NotZonotope`] naming the sub-expression whose tie is outside the class (nested
/// in another tie, more than two tied arguments, or entering with the wrong sign);
/// [`CliError::Engine`] for other engine failures.
///
/// # Example
/// ```
/// use autodiff::Tape;
/// use subgrad_cli::expr::{self, Origins, Pieces};
/// use subgrad_cli::subdifferential::zonotope;
/// let source = "relu(1 - w) + 0.5*w^2"; // the hinge at its margin plus ½w²
/// let e = expr::parse(source).unwrap();
/// let tape = Tape::<f64>::new();
/// let w = tape.param_scalar(1.0)?;
/// let mut origins = Origins::default();
/// let built = expr::build_pieces(&e, &tape, &[("w".into(), w)], &mut origins, &Pieces::new())
///     .unwrap();
/// let z = zonotope(&tape, built.root(), &[w], source, &origins)?;
/// assert_eq!(z.center, vec![1.0]); // w, with the hinge on its 0 branch
/// assert_eq!(z.generators[0].direction, vec![-1.0]);
/// assert_eq!(z.generators[0].expr, "relu(1 - w)");
/// assert!(z.contains_zero); // ∂f(1) = [0, 1] ∋ 0: w = 1 is the minimum
/// # Ok::<(), subgrad_cli::CliError>(())
/// ```
pub fn zonotope(
    tape: &Tape<f64>,
    y: autodiff::Var<'_, f64>,
    params: &[autodiff::Var<'_, f64>],
    source: &str,
    origins: &Origins,
) -> Result<Zonotope, CliError> {
    use autodiff::Error;
    let set = tape.subdifferential(y, params).map_err(|err| {
        let at = match err {
            Error::NestedTies { op, node, .. }
            | Error::ManyPieces { op, node, .. }
            | Error::NonConvexTie { op, node, .. }
            | Error::CurvedTie { op, node } => Some(kink_text(source, origins, node, op)),
            _ => None,
        };
        match at {
            Some((expr, columns)) => CliError::NotZonotope {
                expr,
                columns,
                source: err,
            },
            None => CliError::Engine(err),
        }
    })?;
    let largest = |v: &[f64]| v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let scale = set
        .generators
        .iter()
        .map(|g| largest(g))
        .fold(largest(&set.center).max(1.0), f64::max);
    let tolerance = 1e-9 * scale;
    let nearest = set.min_norm();
    // `+ 0.0` turns −0 into 0: the same number, printed without a sign.
    let clean = |v: &[f64]| v.iter().map(|x| x + 0.0).collect::<Vec<_>>();
    let generators = set
        .ties
        .iter()
        .zip(&set.generators)
        .map(|(tie, g)| {
            let (expr, columns) = kink_text(source, origins, tie.node, tie.op);
            Generator {
                expr,
                op: tie.op.to_string(),
                columns,
                direction: clean(g),
            }
        })
        .collect();
    Ok(Zonotope {
        center: clean(&set.center),
        generators,
        min_norm: clean(&nearest.point),
        multipliers: clean(&nearest.multipliers),
        error_bound: nearest.error_bound,
        contains_zero: set.contains_zero(tolerance),
        tolerance,
    })
}

/// `(a, b, …)` for a report: each number to 12 decimals, and below 10⁻⁶ (but not 0) in
/// scientific notation, so a minimum-norm element that is 0 up to rounding reads as such.
///
/// # Example
/// ```
/// use subgrad_cli::subdifferential::rounded;
/// assert_eq!(rounded(&[0.2000000000000051, 1.1e-14, -2.0]), "(0.2, 1.1e-14, -2)");
/// ```
pub fn rounded(v: &[f64]) -> String {
    let parts: Vec<String> = v
        .iter()
        .map(|&x| {
            if x != 0.0 && x.abs() < 1e-6 {
                format!("{x:.1e}")
            } else {
                ((x * 1e12).round() / 1e12 + 0.0).to_string()
            }
        })
        .collect();
    format!("({})", parts.join(", "))
}
