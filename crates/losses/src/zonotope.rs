//! Subdifferentials of linear-model losses: zonotopes `{c + Σᵢ tᵢ·gᵢ : tᵢ ∈ [0, 1]}`.

/// The set `{c + Σᵢ tᵢ·gᵢ : tᵢ ∈ [0, 1]}`: a centre `c` (the closed form's gradient) and one
/// generator `gᵢ` per example exactly at a kink.
///
/// ```text
/// Z = { c + Σᵢ tᵢ·gᵢ : t ∈ [0, 1]ᵏ }
/// ```
/// For the hinge on a linear model, `c` is the closed-form gradient (which takes 0 at each kink)
/// and `gᵢ = −yᵢ·xᵢ` for each example on the margin: the whole subdifferential, by the sum rule
/// for convex functions. With no kink it is the single point `c`.
///
/// # Example
/// ```
/// use losses::Zonotope;
/// // [0, 1] × {0} ⊕ t·(1, 1): the parallelogram (0, 0), (1, 0), (2, 1), (1, 1).
/// let z = Zonotope { center: vec![0.0, 0.0], generators: vec![vec![1.0, 0.0], vec![1.0, 1.0]] };
/// assert!(z.contains(&[1.5, 0.75], 1e-9));
/// assert!(!z.contains(&[0.0, 1.0], 1e-9));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Zonotope {
    /// The centre `c` (the point at `t = 0`).
    pub center: Vec<f64>,
    /// The generators `gᵢ`, each as long as the centre.
    pub generators: Vec<Vec<f64>>,
}

impl Zonotope {
    /// Whether `p` lies in the set, up to a Euclidean distance `tol`.
    ///
    /// Solves `min ‖c + Σ tᵢ·gᵢ − p‖` over the box `t ∈ [0, 1]ᵏ` by cyclic coordinate descent (a
    /// convex problem, so the descent converges to the minimum distance; it stops as soon as the
    /// residual is within `tol`, or after 20,000 sweeps).
    ///
    /// # Panics
    /// If `p` or a generator is not as long as the centre.
    pub fn contains(&self, p: &[f64], tol: f64) -> bool {
        assert_eq!(
            p.len(),
            self.center.len(),
            "point and centre lengths differ"
        );
        for g in &self.generators {
            assert_eq!(
                g.len(),
                self.center.len(),
                "generator and centre lengths differ"
            );
        }
        // r = c + Σ tᵢ·gᵢ − p, starting from t = ½ (the centre of the box).
        let mut t = vec![0.5; self.generators.len()];
        let mut r: Vec<f64> = self.center.iter().zip(p).map(|(c, q)| c - q).collect();
        for g in &self.generators {
            for (rj, gj) in r.iter_mut().zip(g) {
                *rj += 0.5 * gj;
            }
        }
        let norm2 = |v: &[f64]| v.iter().map(|a| a * a).sum::<f64>();
        let squares: Vec<f64> = self.generators.iter().map(|g| norm2(g)).collect();
        for _ in 0..20_000 {
            if norm2(&r) <= tol * tol {
                return true;
            }
            for (i, g) in self.generators.iter().enumerate() {
                if squares[i] == 0.0 {
                    continue;
                }
                // Minimise ‖r + δ·gᵢ‖ over δ, then clip tᵢ + δ to [0, 1].
                let along: f64 = r.iter().zip(g).map(|(a, b)| a * b).sum();
                let next = (t[i] - along / squares[i]).clamp(0.0, 1.0);
                let step = next - t[i];
                if step != 0.0 {
                    for (rj, gj) in r.iter_mut().zip(g) {
                        *rj += step * gj;
                    }
                    t[i] = next;
                }
            }
        }
        norm2(&r) <= tol * tol
    }
}
