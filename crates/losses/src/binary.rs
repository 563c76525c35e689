//! Binary margin losses `ℓ(z)` of the margin `z = y·s` (label `y = ±1`, score `s`), and the
//! linear model `s = w·x (+ b)`.
//!
//! Each loss exists twice: [`MarginLoss::on_tape`] builds it from the engine's primitives (so
//! autodiff differentiates it), and [`MarginLoss::value`] / [`MarginLoss::derivative`] are the
//! hand-derived closed forms. The closed forms' kink choices are exactly what the engine's
//! default `MinNorm` policy produces on the primitive forms.

use std::f64::consts::{FRAC_1_SQRT_2, PI};
use std::sync::Arc;

use autodiff::{BackwardContext, CustomOp, Inputs, Real, Shape, Tape, Var};

use crate::error::{check_binary_labels, check_finite, check_len, Error, Result};
use crate::zonotope::Zonotope;

/// A loss of the margin `z = y·s`.
///
/// ```text
/// Hinge{m}           ℓ(z) = max(0, m − z)              ℓ'(z) = −1 (z < m), 0 (z ≥ m)
/// SquaredHinge{m}    ℓ(z) = max(0, m − z)²             ℓ'(z) = −2·max(0, m − z)
/// SmoothGaussian{σ}  ψ_G(z) = Φ(v)·(1 − z) + σ·φ(v)   ψ_G'(z) = −Φ(v),   v = (1 − z)/σ
/// SmoothSqrt{σ}      ψ_M(z) = ((1 − z) + √((1 − z)² + σ²))/2
///                                                       ψ_M'(z) = −(1 + (1 − z)/√((1 − z)² + σ²))/2
/// Huberized{γ}       ℓ(z) = 0 (z ≥ 1), (1 − z)²/(2γ) (1 − γ < z < 1), 1 − z − γ/2 (z ≤ 1 − γ)
///                                                       ℓ'(z) = 0, −(1 − z)/γ, −1
/// ModifiedHuber      ℓ(z) = max(0, 1 − z)² (z ≥ −1), −4z (z < −1)
///                                                       ℓ'(z) = −2·max(0, 1 − z), −4
/// ```
/// Only the hinge has a kink (at `z = m`): its subdifferential there is `[−1, 0]`, and the
/// closed form returns 0, which is `relu'(0) = 0` in its primitive form `relu(m − z)` under the
/// engine's default `MinNorm` policy.
/// The others are continuously differentiable, so their gradient is unique everywhere (ψ_G and
/// ψ_M are smooth; Φ, φ are the standard normal CDF and density, Luo, Qiao & Zhang,
/// arXiv 2103.00233), even where their primitive forms pass through a `relu` kink.
///
/// # Example
/// ```
/// use losses::MarginLoss;
/// let hinge = MarginLoss::hinge();
/// assert_eq!(hinge.value(0.5), 0.5);
/// assert_eq!(hinge.derivative(0.5), -1.0);
/// assert_eq!(hinge.derivative(1.0), 0.0); // the kink: relu'(0) = 0
/// assert_eq!(hinge.subdifferential(1.0), (-1.0, 0.0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MarginLoss {
    /// `max(0, m − z)`.
    Hinge {
        /// The margin `m` (1 by default).
        margin: f64,
    },
    /// `max(0, m − z)²`.
    SquaredHinge {
        /// The margin `m` (1 by default).
        margin: f64,
    },
    /// ψ_G, the Gaussian-smoothed hinge (`σ > 0`).
    SmoothGaussian {
        /// Smoothing `σ > 0`.
        sigma: f64,
    },
    /// ψ_M, the square-root-smoothed hinge (`σ > 0`).
    SmoothSqrt {
        /// Smoothing `σ > 0`.
        sigma: f64,
    },
    /// The Huberised (γ-smoothed) hinge (`γ > 0`).
    Huberized {
        /// Width `γ > 0` of the quadratic piece.
        gamma: f64,
    },
    /// The modified Huber loss.
    ModifiedHuber,
}

/// The standard normal CDF `Φ(v) = erfc(−v/√2)/2` (accurate in both tails).
///
/// # Example
/// ```
/// assert_eq!(losses::normal_cdf(0.0), 0.5);
/// assert!((losses::normal_cdf(1.96) - 0.975).abs() < 1e-4);
/// ```
pub fn normal_cdf(v: f64) -> f64 {
    0.5 * libm::erfc(-v * FRAC_1_SQRT_2)
}

/// The standard normal density `φ(v) = e^{−v²/2}/√(2π)`.
///
/// # Example
/// ```
/// assert!((losses::normal_pdf(0.0) - 0.398_942_280_401_432_7).abs() < 1e-15);
/// ```
pub fn normal_pdf(v: f64) -> f64 {
    (-0.5 * v * v).exp() / (2.0 * PI).sqrt()
}

/// Φ as an engine primitive (a custom op whose backward and tangent rules are φ).
struct NormalCdf;

/// Φ and φ evaluated in f64 (erfc-based, accurate in both tails) and rounded to `T`.
fn cdf_t<T: Real>(v: T) -> T {
    T::cst(normal_cdf(v.to_f64_lossless()))
}

fn pdf_t<T: Real>(v: T) -> T {
    T::cst(normal_pdf(v.to_f64_lossless()))
}

impl<T: Real> CustomOp<T> for NormalCdf {
    fn name(&self) -> &str {
        "normal_cdf"
    }
    fn output_shape(&self, inputs: &Inputs<'_, T>) -> autodiff::Result<Shape> {
        Ok(inputs.shape(0))
    }
    fn forward(&self, inputs: &Inputs<'_, T>, out: &mut [T]) -> autodiff::Result<()> {
        for (o, &v) in out.iter_mut().zip(inputs.value(0)) {
            *o = cdf_t(v);
        }
        Ok(())
    }
    fn backward(
        &self,
        _: usize,
        cx: &BackwardContext<'_, T>,
        grad: &mut [T],
    ) -> autodiff::Result<()> {
        // Φ' = φ: Φ is smooth, so there is no kink rule.
        for ((d, &v), &g) in grad.iter_mut().zip(cx.inputs.value(0)).zip(cx.grad_output) {
            *d += g * pdf_t(v);
        }
        Ok(())
    }
    fn tangent(
        &self,
        _: usize,
        inputs: &Inputs<'_, T>,
        t: &[T],
        _: &[T],
        out: &mut [T],
    ) -> autodiff::Result<()> {
        for ((o, &v), &tv) in out.iter_mut().zip(inputs.value(0)).zip(t) {
            *o += tv * pdf_t(v);
        }
        Ok(())
    }
}

impl MarginLoss {
    /// The hinge with margin 1.
    pub fn hinge() -> Self {
        MarginLoss::Hinge { margin: 1.0 }
    }

    /// The squared hinge with margin 1.
    pub fn squared_hinge() -> Self {
        MarginLoss::SquaredHinge { margin: 1.0 }
    }

    /// A short name: `hinge`, `squared-hinge`, `smooth-gaussian`, `smooth-sqrt`, `huberized`,
    /// `modified-huber`.
    pub fn name(&self) -> &'static str {
        match self {
            MarginLoss::Hinge { .. } => "hinge",
            MarginLoss::SquaredHinge { .. } => "squared-hinge",
            MarginLoss::SmoothGaussian { .. } => "smooth-gaussian",
            MarginLoss::SmoothSqrt { .. } => "smooth-sqrt",
            MarginLoss::Huberized { .. } => "huberized",
            MarginLoss::ModifiedHuber => "modified-huber",
        }
    }

    /// Checks the loss's parameter.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a non-finite margin or a non-positive σ or γ.
    pub fn validate(&self) -> Result<()> {
        let (name, value, ok, range) = match *self {
            MarginLoss::Hinge { margin } | MarginLoss::SquaredHinge { margin } => {
                ("margin", margin, margin.is_finite(), "finite")
            }
            MarginLoss::SmoothGaussian { sigma } | MarginLoss::SmoothSqrt { sigma } => {
                ("sigma", sigma, sigma.is_finite() && sigma > 0.0, "> 0")
            }
            MarginLoss::Huberized { gamma } => {
                ("gamma", gamma, gamma.is_finite() && gamma > 0.0, "> 0")
            }
            MarginLoss::ModifiedHuber => return Ok(()),
        };
        if ok {
            Ok(())
        } else {
            Err(Error::InvalidParameter { name, value, range })
        }
    }

    /// `ℓ(z)`, the closed form.
    pub fn value(&self, z: f64) -> f64 {
        match *self {
            MarginLoss::Hinge { margin } => (margin - z).max(0.0),
            MarginLoss::SquaredHinge { margin } => (margin - z).max(0.0).powi(2),
            MarginLoss::SmoothGaussian { sigma } => {
                let u = 1.0 - z;
                let v = u / sigma;
                normal_cdf(v) * u + sigma * normal_pdf(v)
            }
            MarginLoss::SmoothSqrt { sigma } => {
                let u = 1.0 - z;
                (u + (u * u + sigma * sigma).sqrt()) / 2.0
            }
            MarginLoss::Huberized { gamma } => {
                let u = (1.0 - z).max(0.0);
                if u <= gamma {
                    u * u / (2.0 * gamma)
                } else {
                    u - gamma / 2.0
                }
            }
            MarginLoss::ModifiedHuber => {
                if z >= -1.0 {
                    (1.0 - z).max(0.0).powi(2)
                } else {
                    -4.0 * z
                }
            }
        }
    }

    /// `ℓ'(z)`, the closed form; at the hinge's kink `z = m` it returns 0 (see the type docs).
    pub fn derivative(&self, z: f64) -> f64 {
        match *self {
            MarginLoss::Hinge { margin } => {
                if z < margin {
                    -1.0
                } else {
                    0.0
                }
            }
            MarginLoss::SquaredHinge { margin } => -2.0 * (margin - z).max(0.0),
            MarginLoss::SmoothGaussian { sigma } => -normal_cdf((1.0 - z) / sigma),
            MarginLoss::SmoothSqrt { sigma } => {
                let u = 1.0 - z;
                -(1.0 + u / (u * u + sigma * sigma).sqrt()) / 2.0
            }
            MarginLoss::Huberized { gamma } => {
                let u = (1.0 - z).max(0.0);
                if u <= gamma {
                    -u / gamma
                } else {
                    -1.0
                }
            }
            MarginLoss::ModifiedHuber => {
                if z >= -1.0 {
                    -2.0 * (1.0 - z).max(0.0)
                } else {
                    -4.0
                }
            }
        }
    }

    /// `(ℓ(z), ℓ'(z))`, sharing the work (Φ is evaluated once for ψ_G).
    fn value_and_derivative(&self, z: f64) -> (f64, f64) {
        match *self {
            MarginLoss::SmoothGaussian { sigma } => {
                let u = 1.0 - z;
                let v = u / sigma;
                let cdf = normal_cdf(v);
                (cdf * u + sigma * normal_pdf(v), -cdf)
            }
            _ => (self.value(z), self.derivative(z)),
        }
    }

    /// The subdifferential `[lo, hi]` of `ℓ` at `z`: a single point except at the hinge's kink,
    /// where it is `[−1, 0]`.
    ///
    /// ```text
    /// Hinge{m}:  ∂ℓ(z) = {−1} (z < m),  [−1, 0] (z = m),  {0} (z > m)
    /// others:    ∂ℓ(z) = {ℓ'(z)}
    /// ```
    ///
    /// # Example
    /// ```
    /// use losses::MarginLoss;
    /// assert_eq!(MarginLoss::hinge().subdifferential(1.0), (-1.0, 0.0));
    /// assert_eq!(MarginLoss::squared_hinge().subdifferential(0.0), (-2.0, -2.0));
    /// ```
    pub fn subdifferential(&self, z: f64) -> (f64, f64) {
        match *self {
            MarginLoss::Hinge { margin } if z == margin => (-1.0, 0.0),
            _ => {
                let d = self.derivative(z);
                (d, d)
            }
        }
    }

    /// Whether `g` lies in [`MarginLoss::subdifferential`] at `z`, up to `tol`
    /// (`lo − tol ≤ g ≤ hi + tol`).
    ///
    /// # Example
    /// ```
    /// use losses::MarginLoss;
    /// let hinge = MarginLoss::hinge();
    /// assert!(hinge.in_subdifferential(1.0, -0.3, 0.0)); // at the kink: any of [−1, 0]
    /// assert!(!hinge.in_subdifferential(0.5, -0.3, 1e-12)); // violated: only −1
    /// ```
    pub fn in_subdifferential(&self, z: f64, g: f64, tol: f64) -> bool {
        let (lo, hi) = self.subdifferential(z);
        lo - tol <= g && g <= hi + tol
    }

    /// Builds `ℓ(z)` elementwise on `z`'s tape from primitives:
    ///
    /// ```text
    /// Hinge            relu(m − z)
    /// SquaredHinge     relu(m − z)²
    /// SmoothGaussian   Φ(v)·u + σ·exp(−v²/2)/√(2π),  u = 1 − z, v = u/σ   (Φ a custom op)
    /// SmoothSqrt       (u + sqrt(u² + σ²))/2
    /// Huberized        (u₊² − relu(u₊ − γ)²)/(2γ),   u₊ = relu(1 − z)
    /// ModifiedHuber    relu(1 − z)² − relu(−1 − z)²
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] from [`MarginLoss::validate`]; engine errors.
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// use losses::MarginLoss;
    /// # fn main() -> losses::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let z = tape.param_vec(&[0.0, 1.0, 2.0])?;
    /// let l = MarginLoss::hinge().on_tape(z)?;
    /// assert_eq!(l.value(), vec![1.0, 0.0, 0.0]);
    /// assert_eq!(l.sum().backward()?.wrt(z), &[-1.0, 0.0, 0.0]); // at the kink z = 1: 0
    /// # Ok(()) }
    /// ```
    pub fn on_tape<'t, T: Real>(&self, z: Var<'t, T>) -> Result<Var<'t, T>> {
        self.validate()?;
        let c = T::cst;
        let tape = z.tape();
        // `a − z` as one affine node: −1·z + a.
        let minus = |a: f64| z.affine(c(-1.0), c(a));
        Ok(match *self {
            MarginLoss::Hinge { margin } => minus(margin).relu(),
            MarginLoss::SquaredHinge { margin } => minus(margin).relu().square(),
            MarginLoss::SmoothGaussian { sigma } => {
                let u = minus(1.0);
                let v = u.scale(c(1.0 / sigma));
                let cdf = tape.custom(Arc::new(NormalCdf), &[v])?;
                let pdf = v
                    .square()
                    .scale(c(-0.5))
                    .try_exp()?
                    .scale(c(sigma / (2.0 * PI).sqrt()));
                cdf.try_mul(u)?.try_add(pdf)?
            }
            MarginLoss::SmoothSqrt { sigma } => {
                let u = minus(1.0);
                let root = (u.square() + c(sigma * sigma)).try_sqrt()?;
                u.try_add(root)?.scale(c(0.5))
            }
            MarginLoss::Huberized { gamma } => {
                let u = minus(1.0).relu();
                let over = (u - c(gamma)).relu().square();
                u.square().try_sub(over)?.scale(c(1.0 / (2.0 * gamma)))
            }
            MarginLoss::ModifiedHuber => minus(1.0)
                .relu()
                .square()
                .try_sub(minus(-1.0).relu().square())?,
        })
    }
}

/// Value and gradient of `Σᵢ ℓ(yᵢ·(w·xᵢ + b))` for a linear model.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearGrad {
    /// `Σᵢ ℓ(zᵢ)`.
    pub value: f64,
    /// `∂/∂w = Σᵢ ℓ'(zᵢ)·yᵢ·xᵢ`.
    pub w: Vec<f64>,
    /// `∂/∂b = Σᵢ ℓ'(zᵢ)·yᵢ`, if the model has a bias.
    pub b: Option<f64>,
}

/// `Σ aᵢbᵢ` with four independent accumulators (so the loop vectorises).
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0; 4];
    for (x, y) in a.chunks_exact(4).zip(b.chunks_exact(4)) {
        for k in 0..4 {
            acc[k] += x[k] * y[k];
        }
    }
    let tail = a.len() / 4 * 4;
    let rest: f64 = a[tail..].iter().zip(&b[tail..]).map(|(x, y)| x * y).sum();
    (acc[0] + acc[2]) + (acc[1] + acc[3]) + rest
}

fn check_linear(x: &[f64], d: usize, y: &[f64], w: &[f64]) -> Result<usize> {
    let n = y.len();
    check_len("w", d, w.len())?;
    check_len("x (n·d)", n * d, x.len())?;
    check_binary_labels(y)?;
    check_finite("x", x)?;
    check_finite("w", w)?;
    Ok(n)
}

/// The closed form for a linear model: `Σᵢ ℓ(zᵢ)`, `zᵢ = yᵢ·(w·xᵢ + b)`, and its gradient.
///
/// ```text
/// ∂/∂w = Σᵢ ℓ'(zᵢ)·yᵢ·xᵢ        ∂/∂b = Σᵢ ℓ'(zᵢ)·yᵢ
/// hinge:  ℓ'(zᵢ)·yᵢ·xᵢ = −yᵢ·xᵢ while zᵢ < m,  0 when zᵢ > m,  and 0 at zᵢ = m (the kink)
/// ```
/// At the kink the example's full subdifferential is `{−t·yᵢ·xᵢ : t ∈ [0, 1]}`; 0 is chosen, as
/// the engine's default `MinNorm` policy (`relu'(0) = 0`) gives on [`linear_on_tape`]
/// ([`linear_subdifferential`] returns the whole set).
///
/// `x` is row-major `n × d`; labels are ±1.
///
/// # Errors
/// [`Error::InvalidLabel`], [`Error::LengthMismatch`], [`Error::NonFinite`],
/// [`Error::InvalidParameter`].
///
/// # Example
/// ```
/// use losses::{linear_value_grad, MarginLoss};
/// # fn main() -> losses::Result<()> {
/// // One example x = (1, 2), y = +1, w = (0.5, 0): margin 0.5 < 1, so ∂/∂w = −y·x.
/// let g = linear_value_grad(MarginLoss::hinge(), &[1.0, 2.0], 2, &[1.0], &[0.5, 0.0], None)?;
/// assert_eq!(g.value, 0.5);
/// assert_eq!(g.w, vec![-1.0, -2.0]);
/// # Ok(()) }
/// ```
pub fn linear_value_grad(
    loss: MarginLoss,
    x: &[f64],
    d: usize,
    y: &[f64],
    w: &[f64],
    bias: Option<f64>,
) -> Result<LinearGrad> {
    loss.validate()?;
    check_linear(x, d, y, w)?;
    check_finite("b", bias.as_slice())?;
    let b = bias.unwrap_or(0.0);
    let mut value = 0.0;
    // Pass 1: each example's coefficient ℓ'(zᵢ)·yᵢ.
    let mut coef = Vec::with_capacity(y.len());
    for (row, &yi) in x.chunks_exact(d.max(1)).zip(y) {
        let (l, slope) = loss.value_and_derivative(yi * (dot(row, w) + b));
        value += l;
        coef.push(slope * yi);
    }
    let gb: f64 = coef.iter().sum();
    // Pass 2: ∂/∂w = Xᵀ·coef, four rows per sweep over ∂/∂w (so it is loaded and stored once
    // per four rows, and the inner loop vectorises over j).
    let mut gw = vec![0.0; d];
    if d > 0 {
        let mut blocks = x.chunks_exact(4 * d);
        let mut coefs = coef.chunks_exact(4);
        for (block, c) in (&mut blocks).zip(&mut coefs) {
            if c.iter().all(|&v| v == 0.0) {
                continue;
            }
            let (r0, rest) = block.split_at(d);
            let (r1, rest) = rest.split_at(d);
            let (r2, r3) = rest.split_at(d);
            for j in 0..d {
                gw[j] += (c[0] * r0[j] + c[1] * r1[j]) + (c[2] * r2[j] + c[3] * r3[j]);
            }
        }
        for (row, &c) in blocks.remainder().chunks_exact(d).zip(coefs.remainder()) {
            for (g, &a) in gw.iter_mut().zip(row) {
                *g += c * a;
            }
        }
    }
    Ok(LinearGrad {
        value,
        w: gw,
        b: bias.map(|_| gb),
    })
}

/// The primitive form for a linear model on a tape: `Σᵢ ℓ(yᵢ·(X·w + b)ᵢ)` as a scalar node.
///
/// `x` is an `[n, d]` matrix, `y` a vector of ±1 (usually [`autodiff::Data`] constants), `w` a
/// vector of length `d`, `b` an optional scalar.
///
/// ```text
/// s = X·w (+ b),   z = y ⊙ s,   L = sum(ℓ(z))     (ℓ from MarginLoss::on_tape)
/// ```
/// Kink: the hinge's `relu(m − z)` hits `relu'(0) = 0` (default policy) for examples exactly on
/// the margin, which is the closed form's choice in [`linear_value_grad`].
///
/// # Errors
/// [`Error::InvalidLabel`] if `y` holds a value other than ±1; engine errors on bad shapes
/// (wrapped in [`Error::Engine`]); [`Error::InvalidParameter`].
///
/// # Example
/// ```
/// use autodiff::{Shape, Tape};
/// use losses::{linear_on_tape, MarginLoss};
/// # fn main() -> losses::Result<()> {
/// let tape = Tape::<f64>::new();
/// let x = tape.constant(&[1.0, 2.0], Shape::matrix(1, 2))?;
/// let y = tape.constant_vec(&[1.0])?;
/// let w = tape.param_vec(&[0.5, 0.0])?;
/// let loss = linear_on_tape(MarginLoss::hinge(), x, y, w, None)?;
/// assert_eq!(loss.backward()?.wrt(w), &[-1.0, -2.0]);
/// # Ok(()) }
/// ```
pub fn linear_on_tape<'t, T: Real>(
    loss: MarginLoss,
    x: Var<'t, T>,
    y: Var<'t, T>,
    w: Var<'t, T>,
    b: Option<Var<'t, T>>,
) -> Result<Var<'t, T>> {
    check_binary_labels(&y.value())?;
    let mut s = x.try_matvec(w)?;
    if let Some(b) = b {
        s = s.try_add(b)?;
    }
    let z = y.try_mul(s)?;
    Ok(loss.on_tape(z)?.sum())
}

/// The primitive form's value and gradient, computed by the engine (default policy): the
/// counterpart of [`linear_value_grad`], for comparisons.
///
/// # Errors
/// As [`linear_value_grad`].
///
/// # Example
/// ```
/// use losses::{linear_autodiff, linear_value_grad, MarginLoss};
/// # fn main() -> losses::Result<()> {
/// let (x, y, w) = ([1.0, 2.0, -1.0, 0.5], [1.0, -1.0], [0.3, 0.1]);
/// let by_engine = linear_autodiff(MarginLoss::squared_hinge(), &x, 2, &y, &w, Some(0.2))?;
/// let by_hand = linear_value_grad(MarginLoss::squared_hinge(), &x, 2, &y, &w, Some(0.2))?;
/// assert!((by_engine.w[0] - by_hand.w[0]).abs() < 1e-12);
/// # Ok(()) }
/// ```
pub fn linear_autodiff(
    loss: MarginLoss,
    x: &[f64],
    d: usize,
    y: &[f64],
    w: &[f64],
    bias: Option<f64>,
) -> Result<LinearGrad> {
    let n = check_linear(x, d, y, w)?;
    let tape = Tape::<f64>::new();
    let xv = tape.constant(x, Shape::matrix(n, d))?;
    let yv = tape.constant_vec(y)?;
    let wv = tape.param_vec(w)?;
    let bv = bias.map(|b| tape.param_scalar(b)).transpose()?;
    let l = linear_on_tape(loss, xv, yv, wv, bv)?;
    let g = l.backward()?;
    Ok(LinearGrad {
        value: l.item(),
        w: g.wrt(wv).to_vec(),
        b: bv.map(|b| g.wrt(b)[0]),
    })
}

/// The closed form's whole subdifferential for a linear model, as a [`Zonotope`] over the
/// gradient `(∂/∂w, ∂/∂b)` (the bias coordinate last, if `bias` is given).
///
/// ```text
/// ∂L(w, b) = { Σᵢ ξᵢ·yᵢ·(xᵢ, 1) : ξᵢ ∈ ∂ℓ(zᵢ) }
///          = c + { Σ_{i : zᵢ = m} tᵢ·(−yᵢ·(xᵢ, 1)) : tᵢ ∈ [0, 1] }   (hinge)
/// ```
/// `c` is [`linear_value_grad`]'s gradient (0 chosen at each kink).
/// Only the hinge has generators; every other margin loss is C¹, so its set is one point.
///
/// # Errors
/// As [`linear_value_grad`].
///
/// # Example
/// ```
/// use losses::{linear_subdifferential, MarginLoss};
/// # fn main() -> losses::Result<()> {
/// // x = (1, 2), y = +1, w = (1, 0): y·w·x = 1, exactly on the margin.
/// let sub = linear_subdifferential(MarginLoss::hinge(), &[1.0, 2.0], 2, &[1.0], &[1.0, 0.0], None)?;
/// assert_eq!(sub.center, vec![0.0, 0.0]); // the kink choice, relu'(0) = 0
/// assert_eq!(sub.generators, vec![vec![-1.0, -2.0]]); // −y·x
/// assert!(sub.contains(&[-0.5, -1.0], 1e-12));
/// # Ok(()) }
/// ```
pub fn linear_subdifferential(
    loss: MarginLoss,
    x: &[f64],
    d: usize,
    y: &[f64],
    w: &[f64],
    bias: Option<f64>,
) -> Result<Zonotope> {
    let grad = linear_value_grad(loss, x, d, y, w, bias)?;
    let mut center = grad.w;
    center.extend(grad.b);
    let mut generators = Vec::new();
    if let MarginLoss::Hinge { margin } = loss {
        let b = bias.unwrap_or(0.0);
        for (row, &yi) in x.chunks_exact(d.max(1)).zip(y) {
            if yi * (dot(row, w) + b) == margin {
                let mut g: Vec<f64> = row.iter().map(|&a| -yi * a).collect();
                if bias.is_some() {
                    g.push(-yi);
                }
                generators.push(g);
            }
        }
    }
    Ok(Zonotope { center, generators })
}
