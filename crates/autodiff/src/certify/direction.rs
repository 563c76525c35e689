//! The seeded direction of [`Certify::Random`](super::Certify::Random).

/// The first direction [`Certify::Random`](super::Certify::Random) `{ seed }` draws: `p`
/// numbers uniform in `[−1, 1]`, one per parameter element, parameters in tape order. Public so
/// a result can be reproduced or checked (e.g. against the gradient at `x + t·q`).
///
/// # Example
/// ```
/// let q = autodiff::certify::random_direction(7, 3);
/// assert_eq!(q.len(), 3);
/// assert!(q.iter().all(|v| (-1.0..=1.0).contains(v)));
/// assert_eq!(q, autodiff::certify::random_direction(7, 3)); // seeded
/// ```
pub fn random_direction(seed: u64, p: usize) -> Vec<f64> {
    let mut rng = SplitMix(seed);
    (0..p).map(|_| rng.next_uniform()).collect()
}

/// SplitMix64: a small, well-mixed generator, so the engine needs no `rand` dependency.
pub(super) struct SplitMix(pub(super) u64);

impl SplitMix {
    pub(super) fn next_uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }
}
