//! A kink-aware gradient checker for users testing their own losses.
//!
//! At a smooth point it compares the gradient's component along random directions with central
//! differences. Near or at a kink, central differences are meaningless (the problem with
//! `torch.autograd.gradcheck`), so it checks instead that the component lies between the
//! one-sided difference quotients, taken at the point and at a few random points around it:
//!
//! ```text
//! lower = min over base points b of { (f(b + h·d) − f(b))/h, (f(b) − f(b − h·d))/h }
//! upper = max of the same quotients
//! pass  ⇔  lower − tol ≤ g·d ≤ upper + tol        for every direction d
//! ```
//! For a convex or concave kink the quotients at the point alone are the exact ends of
//! `{g·d : g ∈ ∂f(x)}`, so a correct subgradient never fails. For other kinks the points around
//! sample Clarke's generalised directional derivative; a failure there means no sampled nearby
//! piece explains the gradient.

use crate::certify::random_direction;
use crate::{Certify, KinkPolicy, KinkReport, Result, Tape, Var};

/// Settings of [`gradcheck`].
#[derive(Debug, Clone, PartialEq)]
pub struct GradCheck {
    /// Finite-difference step `h`.
    pub step: f64,
    /// Number of random directions checked.
    pub directions: usize,
    /// Random base points around `x` used at a kink, besides `x` itself.
    pub samples: usize,
    /// Distance of those base points from `x`.
    pub radius: f64,
    /// Absolute tolerance, added to `rel_tolerance · max(1, |g·d|)`.
    pub tolerance: f64,
    /// Relative tolerance.
    pub rel_tolerance: f64,
    /// Elements within this distance of a kink make the point a kink point.
    pub kink_tolerance: f64,
    /// Seed of the directions and base points.
    pub seed: u64,
    /// The policy of the tape the gradient is computed on.
    pub policy: KinkPolicy,
    /// Check the certified gradient ([`Tape::backward_certified`]) instead of the plain one.
    pub certified: bool,
}

impl Default for GradCheck {
    fn default() -> Self {
        GradCheck {
            step: 1e-6,
            directions: 8,
            samples: 16,
            radius: 1e-4,
            tolerance: 1e-5,
            rel_tolerance: 1e-4,
            kink_tolerance: 1e-4,
            seed: 0x5eed,
            policy: KinkPolicy::MinNorm,
            certified: false,
        }
    }
}

/// The check along one direction.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectionCheck {
    /// `g·d`: the gradient's component along the (unit) direction.
    pub projected: f64,
    /// Lower end of what the differences allow.
    pub lower: f64,
    /// Upper end (equal to `lower` at a smooth point: the central difference).
    pub upper: f64,
    /// Whether `projected` is within `[lower, upper]` up to the tolerance.
    pub passed: bool,
}

/// The outcome of [`gradcheck`].
#[derive(Debug, Clone, PartialEq)]
pub struct GradCheckReport {
    /// Every direction passed.
    pub passed: bool,
    /// Whether the point was treated as a kink (some element within `kink_tolerance`).
    pub at_kink: bool,
    /// The gradient that was checked.
    pub gradient: Vec<f64>,
    /// The kinks within `kink_tolerance`, exact and near.
    pub kinks: KinkReport,
    /// One entry per direction.
    pub checks: Vec<DirectionCheck>,
}

fn value<F>(f: &F, x: &[f64]) -> Result<f64>
where
    F: for<'t> Fn(&'t Tape<f64>, Var<'t, f64>) -> Result<Var<'t, f64>>,
{
    let tape = Tape::<f64>::new();
    let w = tape.param_vec(x)?;
    f(&tape, w)?.try_item()
}

fn shifted(x: &[f64], d: &[f64], t: f64) -> Vec<f64> {
    x.iter().zip(d).map(|(a, b)| a + t * b).collect()
}

fn unit(mut v: Vec<f64>) -> Vec<f64> {
    let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|a| *a /= norm);
    }
    v
}

/// Checks the gradient of `f` at `x`, kink-aware; see the [module docs](self).
///
/// `f` builds a scalar from the parameter vector it is given, on the tape it is given.
///
/// # Errors
/// Whatever `f` or the engine returns (e.g. a non-scalar output, [`crate::Error::NotScalar`]).
///
/// # Example
/// ```
/// use autodiff::gradcheck::{gradcheck, GradCheck};
/// # fn main() -> autodiff::Result<()> {
/// // Hinge loss max(0, 1 − w·x) exactly at the margin: a kink, where central differences fail.
/// // Write the closure inline (or pass a `fn`), so its lifetimes are inferred as generic.
/// let report = gradcheck(
///     |tape, w| {
///         let x = tape.constant_vec(&[1.0, 2.0])?;
///         Ok((1.0 - w.try_dot(x)?).relu())
///     },
///     &[1.0, 0.0],
///     &GradCheck::default(),
/// )?;
/// assert!(report.at_kink);
/// assert!(report.passed);
/// # Ok(()) }
/// ```
pub fn gradcheck<F>(f: F, x: &[f64], config: &GradCheck) -> Result<GradCheckReport>
where
    F: for<'t> Fn(&'t Tape<f64>, Var<'t, f64>) -> Result<Var<'t, f64>>,
{
    let tape = Tape::<f64>::with_policy(config.policy);
    let w = tape.param_vec(x)?;
    let y = f(&tape, w)?;
    let gradient = if config.certified {
        tape.backward_certified(y, Certify::Random { seed: config.seed })?
            .wrt(w)
            .to_vec()
    } else {
        y.backward()?.wrt(w).to_vec()
    };
    let kinks = tape.kinks_near(config.kink_tolerance);
    let at_kink = !kinks.is_empty();
    let f0 = y.try_item()?;
    let p = x.len();
    let h = config.step;
    let mut checks = Vec::with_capacity(config.directions);
    for k in 0..config.directions {
        let d = unit(random_direction(config.seed.wrapping_add(1 + k as u64), p));
        let projected: f64 = gradient.iter().zip(&d).map(|(g, v)| g * v).sum();
        let (lower, upper) = if at_kink {
            let mut lo = f64::INFINITY;
            let mut hi = f64::NEG_INFINITY;
            let mut bases = vec![(x.to_vec(), f0)];
            for s in 0..config.samples {
                let u = unit(random_direction(
                    config.seed ^ (0x9e37 + 31 * s as u64 + 7919 * k as u64),
                    p,
                ));
                let b = shifted(x, &u, config.radius);
                let fb = value(&f, &b)?;
                bases.push((b, fb));
            }
            for (b, fb) in &bases {
                let right = (value(&f, &shifted(b, &d, h))? - fb) / h;
                let left = (fb - value(&f, &shifted(b, &d, -h))?) / h;
                lo = lo.min(right).min(left);
                hi = hi.max(right).max(left);
            }
            (lo, hi)
        } else {
            let central =
                (value(&f, &shifted(x, &d, h))? - value(&f, &shifted(x, &d, -h))?) / (2.0 * h);
            (central, central)
        };
        let tol = config.tolerance + config.rel_tolerance * projected.abs().max(1.0);
        let passed = projected >= lower - tol && projected <= upper + tol;
        checks.push(DirectionCheck {
            projected,
            lower,
            upper,
            passed,
        });
    }
    Ok(GradCheckReport {
        passed: checks.iter().all(|c| c.passed),
        at_kink,
        gradient,
        kinks,
        checks,
    })
}
