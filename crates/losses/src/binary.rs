//! Binary margin losses `ℓ(z)` of the margin `z = y·s` (label `y = ±1`, score `s`), and the
//! linear model `s = w·x (+ b)`.
//!
//! Each loss exists twice: [`MarginLoss::on_tape`] builds it from the engine's primitives (so
//! autodiff differentiates it), and [`MarginLoss::value`] / [`MarginLoss::derivative`] are the
//! hand-derived closed forms. The closed forms' kink choices are exactly what the engine's
//! default `MinNorm` policy produces on the primitive forms.

use std::f64::consts::{FRAC_1_SQRT_2, PI};
use std::sync::Arc;

use autodiff::{BackwardContext, CustomOp, Inputs, Shape, Tape, Var};

use crate::error::{check_binary_labels, check_finite, check_len, Error, Result};

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
/// closed form returns 0, which is `relu'(0) = 0` in its primitive form `relu(m − z)`.
/// The others are continuously differentiable (ψ_G and ψ_M are smooth; Φ, φ are the standard
/// normal CDF and density, Luo, Qiao & Zhang, arXiv 2103.00233).
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

impl CustomOp<f64> for NormalCdf {
    fn name(&self) -> &str {
        "normal_cdf"
    }
    fn output_shape(&self, inputs: &Inputs<'_, f64>) -> autodiff::Result<Shape> {
        Ok(inputs.shape(0))
    }
    fn forward(&self, inputs: &Inputs<'_, f64>, out: &mut [f64]) -> autodiff::Result<()> {
        for (o, &v) in out.iter_mut().zip(inputs.value(0)) {
            *o = normal_cdf(v);
        }
        Ok(())
    }
    fn backward(
        &self,
        _: usize,
        cx: &BackwardContext<'_, f64>,
        grad: &mut [f64],
    ) -> autodiff::Result<()> {
        for ((d, &v), &g) in grad.iter_mut().zip(cx.inputs.value(0)).zip(cx.grad_output) {
            *d += g * normal_pdf(v);
        }
        Ok(())
    }
    fn tangent(
        &self,
        _: usize,
        inputs: &Inputs<'_, f64>,
        t: &[f64],
        _: &[f64],
        out: &mut [f64],
    ) -> autodiff::Result<()> {
        for ((o, &v), &tv) in out.iter_mut().zip(inputs.value(0)).zip(t) {
            *o += tv * normal_pdf(v);
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

    /// The subdifferential `[lo, hi]` of `ℓ` at `z`: a single point except at the hinge's kink,
    /// where it is `[−1, 0]`.
    pub fn subdifferential(&self, z: f64) -> (f64, f64) {
        match *self {
            MarginLoss::Hinge { margin } if z == margin => (-1.0, 0.0),
            _ => {
                let d = self.derivative(z);
                (d, d)
            }
        }
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
    pub fn on_tape<'t>(&self, z: Var<'t, f64>) -> Result<Var<'t, f64>> {
        self.validate()?;
        let tape = z.tape();
        Ok(match *self {
            MarginLoss::Hinge { margin } => (margin - z).relu(),
            MarginLoss::SquaredHinge { margin } => (margin - z).relu().square(),
            MarginLoss::SmoothGaussian { sigma } => {
                let u = 1.0 - z;
                let v = u * (1.0 / sigma);
                let cdf = tape.custom(Arc::new(NormalCdf), &[v])?;
                let pdf = (v.square() * -0.5).try_exp()? * (1.0 / (2.0 * PI).sqrt());
                cdf * u + pdf * sigma
            }
            MarginLoss::SmoothSqrt { sigma } => {
                let u = 1.0 - z;
                (u + (u.square() + sigma * sigma).try_sqrt()?) * 0.5
            }
            MarginLoss::Huberized { gamma } => {
                let u = (1.0 - z).relu();
                (u.square() - (u - gamma).relu().square()) * (1.0 / (2.0 * gamma))
            }
            MarginLoss::ModifiedHuber => (1.0 - z).relu().square() - (-1.0 - z).relu().square(),
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

/// The closed form for a linear model: `Σᵢ ℓ(zᵢ)`, `zᵢ = yᵢ·(w·xᵢ + b)`, and its gradient
/// `Σᵢ ℓ'(zᵢ)·yᵢ·xᵢ` (with `ℓ'` of [`MarginLoss::derivative`]: the hinge's gradient is `−y·x`
/// while `y·w·x < m` and 0 from `y·w·x = m` on).
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
    let mut gw = vec![0.0; d];
    let mut gb = 0.0;
    let mut value = 0.0;
    let b = bias.unwrap_or(0.0);
    for (row, &yi) in x.chunks_exact(d.max(1)).zip(y) {
        let s = dot(row, w) + b;
        let z = yi * s;
        value += loss.value(z);
        let coef = loss.derivative(z) * yi;
        if coef != 0.0 {
            for (g, &a) in gw.iter_mut().zip(row) {
                *g += coef * a;
            }
            gb += coef;
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
/// # Errors
/// Engine errors on bad shapes; [`Error::InvalidParameter`].
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
pub fn linear_on_tape<'t>(
    loss: MarginLoss,
    x: Var<'t, f64>,
    y: Var<'t, f64>,
    w: Var<'t, f64>,
    b: Option<Var<'t, f64>>,
) -> Result<Var<'t, f64>> {
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
