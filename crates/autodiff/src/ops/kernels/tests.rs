//! Every kernel variant against naive loops and against the portable variant.

use super::*;

fn naive_matvec(a: &[f64], x: &[f64], rows: usize) -> Vec<f64> {
    let c = x.len();
    (0..rows)
        .map(|i| (0..c).map(|j| a[i * c + j] * x[j]).sum())
        .collect()
}

/// Integer-valued data, so every summation order gives the exact same result.
fn ints(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((s >> 33) % 7) as f64 - 3.0
        })
        .collect()
}

#[test]
fn kernels_match_naive_loops_for_every_shape_remainder() {
    for rows in 0..11 {
        for cols in 0..19 {
            let a = ints(rows * cols, (rows * 31 + cols) as u64);
            let x = ints(cols, 7 + cols as u64);
            let mut out = vec![f64::NAN; rows];
            matvec(&a, &x, &mut out);
            assert_eq!(out, naive_matvec(&a, &x, rows), "matvec {rows}×{cols}");
            let a32: Vec<f32> = a.iter().map(|&v| v as f32).collect();
            let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
            let mut out32 = vec![f32::NAN; rows];
            matvec(&a32, &x32, &mut out32);
            let want32: Vec<f32> = naive_matvec(&a, &x, rows)
                .iter()
                .map(|&v| v as f32)
                .collect();
            assert_eq!(out32, want32, "f32 matvec {rows}×{cols}");
            if rows > 0 {
                assert_eq!(dot(&a[..cols], &x), naive_matvec(&a, &x, 1)[0]);
            }
            // Only the needed rows are written.
            let need: Vec<bool> = (0..rows).map(|i| i % 3 != 1).collect();
            let mut some = vec![f64::NAN; rows];
            matvec_rows(&a, &x, &need, &mut some);
            for (i, (&got, want)) in some.iter().zip(naive_matvec(&a, &x, rows)).enumerate() {
                if need[i] {
                    assert_eq!(got, want, "matvec_rows {rows}×{cols} row {i}");
                } else {
                    assert!(got.is_nan(), "matvec_rows wrote unneeded row {i}");
                }
            }

            // Every third g is zero (skipped), the rest are small integers.
            let g: Vec<f64> = ints(rows, 99 + rows as u64)
                .iter()
                .enumerate()
                .map(|(i, &v)| if i % 3 == 1 { 0.0 } else { v })
                .collect();
            let mut y = ints(cols, 5);
            let mut want = y.clone();
            for (i, &gi) in g.iter().enumerate() {
                for j in 0..cols {
                    want[j] += gi * a[i * cols + j];
                }
            }
            matvec_transpose_add(&a, &g, &mut y);
            assert_eq!(y, want, "matvec_transpose_add {rows}×{cols}");
        }
    }
}

#[test]
fn row_selection_crosses_index_blocks() {
    let (rows, cols) = (2 * BLOCK + 9, 6);
    let a = ints(rows * cols, 11);
    let x = ints(cols, 12);
    let need: Vec<bool> = (0..rows)
        .map(|i| (i / 7) % 3 == 0 || i + 1 == rows)
        .collect();
    let mut out = vec![-1.0; rows];
    matvec_rows(&a, &x, &need, &mut out);
    let full = naive_matvec(&a, &x, rows);
    for i in 0..rows {
        assert_eq!(out[i], if need[i] { full[i] } else { -1.0 }, "row {i}");
    }
}

#[test]
fn transpose_add_crosses_index_blocks() {
    // More rows than one index block, with runs of zeros across block boundaries.
    let (rows, cols) = (3 * BLOCK + 7, 5);
    let a = ints(rows * cols, 3);
    let g: Vec<f64> = (0..rows)
        .map(|i| {
            if (i / 50) % 2 == 0 {
                (i % 5) as f64 - 2.0
            } else {
                0.0
            }
        })
        .collect();
    let mut y = vec![0.0; cols];
    matvec_transpose_add(&a, &g, &mut y);
    let want: Vec<f64> = (0..cols)
        .map(|j| (0..rows).map(|i| g[i] * a[i * cols + j]).sum())
        .collect();
    assert_eq!(y, want);
}

#[test]
fn sum_is_exact_on_integers() {
    for n in 0..40 {
        let x = ints(n, n as u64);
        assert_eq!(sum(&x), x.iter().sum::<f64>());
    }
}

/// Uniform values in [−1, 1) from a seeded xorshift (also for `ops::parallel`'s tests).
pub(crate) fn uniform<T: Real>(n: usize, seed: u64) -> Vec<T> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            T::cst((s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0)
        })
        .collect()
}

/// `γₖ = k·u / (1 − k·u)` with `u` the unit roundoff of `T` (Higham, *Accuracy and Stability
/// of Numerical Algorithms*, §3.1): a sum of products in which each term passes through at
/// most `k` roundings — any order, with or without FMA, which only removes roundings — is
/// within `γₖ·Σ|terms|` of the exact value. Two variants are then within twice that of each
/// other.
pub(crate) fn gamma<T: Real>(k: usize) -> f64 {
    let u = T::epsilon().to_f64_lossless() / 2.0;
    k as f64 * u / (1.0 - k as f64 * u)
}

fn assert_close<T: Real>(what: &str, got: T, want: T, k: usize, abs_terms: f64) {
    let diff = (got.to_f64_lossless() - want.to_f64_lossless()).abs();
    let bound = 2.0 * gamma::<T>(k) * abs_terms;
    assert!(
        diff <= bound,
        "{what}: {got} vs portable {want}, |Δ| = {diff} > {bound}"
    );
}

const LENGTHS: [usize; 17] = [
    0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 100, 1000,
];

/// Every variant this CPU runs against the portable one, kernel by kernel, on random data of
/// lengths with every remainder of the vector widths, within the derived rounding bound; and
/// bit-identical on small integers, where every order and FMA are exact.
fn variants_agree<T: Real>() {
    let all = T::variants();
    let portable = all[0];
    assert_eq!(portable.name, "portable");
    for v in &all {
        for (s, &n) in LENGTHS.iter().enumerate() {
            let seed = 1 + s as u64;
            let rows: Vec<Vec<T>> = (0..4).map(|r| uniform(n, seed * 10 + r)).collect();
            let x = uniform::<T>(n, seed * 10 + 7);
            let r4 = [&rows[0][..], &rows[1], &rows[2], &rows[3]];
            let abs_dot = |r: &[T]| -> f64 {
                r.iter()
                    .zip(&x)
                    .map(|(&a, &b)| (a.to_f64_lossless() * b.to_f64_lossless()).abs())
                    .sum()
            };
            let what = |k: &str| format!("{} {k} n = {n}", v.name);
            // dot: each product passes through ≤ n + 2 roundings in either variant.
            assert_close(
                &what("dot"),
                (v.dot)(r4[0], &x),
                (portable.dot)(r4[0], &x),
                n + 2,
                abs_dot(r4[0]),
            );
            let (got, want) = ((v.dot4)(r4, &x), (portable.dot4)(r4, &x));
            for r in 0..4 {
                assert_close(&what("dot4"), got[r], want[r], n + 2, abs_dot(r4[r]));
            }
            // add_rows4: y + four products, at most 4 roundings per term; 2 of slack.
            let g = [T::cst(0.5), T::cst(-1.25), T::cst(2.0), T::cst(-0.75)];
            let y0 = uniform::<T>(n, seed * 10 + 8);
            let (mut got, mut want) = (y0.clone(), y0.clone());
            (v.add_rows4)(g, r4, &mut got);
            (portable.add_rows4)(g, r4, &mut want);
            for j in 0..n {
                let terms = y0[j].to_f64_lossless().abs()
                    + (0..4)
                        .map(|r| (g[r] * rows[r][j]).to_f64_lossless().abs())
                        .sum::<f64>();
                assert_close(&what("add_rows4"), got[j], want[j], 6, terms);
            }

            // The drivers on an m × c matrix (c from the lengths, m with every remainder
            // of the four-row blocks), with a third of g zero (skipped rows).
            let (m, c) = (n % 13 + 5, n.min(100));
            let a = uniform::<T>(m * c, seed * 10 + 9);
            let xc = &x[..c];
            let (mut got, mut want) = (vec![T::zero(); m], vec![T::zero(); m]);
            (v.matvec)(&a, xc, &mut got);
            (portable.matvec)(&a, xc, &mut want);
            let need: Vec<bool> = (0..m).map(|i| i % 3 != 1).collect();
            let (mut got_rows, mut want_rows) = (vec![T::zero(); m], vec![T::zero(); m]);
            (v.matvec_rows)(&a, xc, &need, &mut got_rows);
            (portable.matvec_rows)(&a, xc, &need, &mut want_rows);
            for i in 0..m {
                let row = &a[i * c..(i + 1) * c];
                let t: f64 = row
                    .iter()
                    .zip(xc)
                    .map(|(&p, &q)| (p * q).to_f64_lossless().abs())
                    .sum();
                assert_close(&what("matvec"), got[i], want[i], c + 2, t);
                assert_close(&what("matvec_rows"), got_rows[i], want_rows[i], c + 2, t);
            }
            let gv: Vec<T> = uniform::<T>(m, seed * 10 + 11)
                .into_iter()
                .enumerate()
                .map(|(i, gi)| if i % 3 == 1 { T::zero() } else { gi })
                .collect();
            let (mut got, mut want) = (xc.to_vec(), xc.to_vec());
            (v.matvec_transpose_add)(&a, &gv, &mut got);
            (portable.matvec_transpose_add)(&a, &gv, &mut want);
            for j in 0..c {
                // Each term passes through at most m + 4 roundings (the group sums, then y).
                let t = xc[j].to_f64_lossless().abs()
                    + (0..m)
                        .map(|i| (gv[i] * a[i * c + j]).to_f64_lossless().abs())
                        .sum::<f64>();
                assert_close(&what("matvec_transpose_add"), got[j], want[j], m + 6, t);
            }

            // Small integers: every partial sum is exact, so the variants agree bit for bit.
            let ia: Vec<T> = ints(4 * n, seed).iter().map(|&e| T::cst(e)).collect();
            let ix: Vec<T> = ints(n, seed + 50).iter().map(|&e| T::cst(e)).collect();
            let ir = [&ia[..n], &ia[n..2 * n], &ia[2 * n..3 * n], &ia[3 * n..]];
            assert_eq!(
                (v.dot4)(ir, &ix),
                (portable.dot4)(ir, &ix),
                "{}",
                what("dot4 on integers")
            );
            assert_eq!(
                (v.dot)(ir[1], &ix),
                (portable.dot)(ir[1], &ix),
                "{}",
                what("dot on integers")
            );
            let (mut got, mut want) = (ix.clone(), ix.clone());
            let gi = [T::cst(2.0), T::cst(-1.0), T::cst(3.0), T::cst(1.0)];
            (v.add_rows4)(gi, ir, &mut got);
            (portable.add_rows4)(gi, ir, &mut want);
            assert_eq!(got, want, "{}", what("add_rows4 on integers"));
        }
    }
}

/// `count_near_zero` in every variant against a count by hand: the values are placed so that
/// each comparison's boundary is hit (`|v| = limit` counts, `0` and `±0.0` do not, NaN does not),
/// at every length remainder of the vector lanes.
fn near_zero_counts<T: Real>() {
    let limit = T::cst(0.25);
    // Pattern of 7: counted, counted (−limit), not (0), not (−0), not (NaN), not (> limit),
    // counted (tiny): 3 of every 7.
    let pattern = [
        T::cst(0.125),
        -limit,
        T::zero(),
        -T::zero(),
        T::cst(f64::NAN),
        T::cst(0.5),
        T::cst(1e-30),
    ];
    for n in 0..40 {
        let v: Vec<T> = (0..n).map(|i| pattern[i % 7]).collect();
        let want = (0..n).filter(|i| [0, 1, 6].contains(&(i % 7))).count();
        for k in T::variants() {
            assert_eq!((k.count_near_zero)(&v, limit), want, "{} n = {n}", k.name);
        }
    }
}

#[test]
fn count_near_zero_counts_exactly_the_elements_in_the_band() {
    near_zero_counts::<f32>();
    near_zero_counts::<f64>();
}

#[test]
fn every_kernel_variant_matches_the_portable_one_f32() {
    variants_agree::<f32>();
}

#[test]
fn every_kernel_variant_matches_the_portable_one_f64() {
    variants_agree::<f64>();
}

#[test]
fn the_chosen_variant_is_the_best_detected_one() {
    // On x86-64 the AVX2 + FMA table is there exactly when the CPU reports both features, the
    // AVX-512 one when it reports AVX-512F, and the widest is chosen.
    #[cfg(target_arch = "x86_64")]
    {
        let avx2 = std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma");
        let avx512 = std::arch::is_x86_feature_detected!("avx512f");
        let count = 1 + usize::from(avx2) + usize::from(avx512);
        assert_eq!(f32::variants().len(), count);
        assert_eq!(f64::variants().len(), count);
        let want = if avx512 {
            "avx512f"
        } else if avx2 {
            "avx2+fma"
        } else {
            "portable"
        };
        assert_eq!(f32::kernels().name, want);
        assert_eq!(vector_kernels(), want);
    }
    #[cfg(not(target_arch = "x86_64"))]
    assert_eq!(vector_kernels(), "portable");
}

#[test]
fn windows_of_rows_add_the_same_bits_as_one_call() {
    // Fractions (not integers), so a change of summation order would show in the bits; g with
    // runs of zeros, so the carried rows cross window edges.
    let (rows, cols) = (3 * BLOCK + 29, 7);
    let frac = |i: usize| ((i * 7919 % 1013) as f64 - 506.0) / 97.0;
    let a: Vec<f64> = (0..rows * cols).map(frac).collect();
    let g: Vec<f64> = (0..rows)
        .map(|i| if (i / 5) % 3 == 1 { 0.0 } else { frac(i + 3) })
        .collect();
    let mut whole = vec![0.0; cols];
    matvec_transpose_add(&a, &g, &mut whole);
    for window in [1, 3, 4, 17, 64, BLOCK, BLOCK + 1, rows] {
        let mut y = vec![0.0; cols];
        let mut carry = Carry::default();
        let mut lo = 0;
        while lo < rows {
            let hi = (lo + window).min(rows);
            transpose_add_rows(&a, &g, lo, hi, &mut carry, &mut y);
            lo = hi;
        }
        carry.finish(&a, &g, &mut y);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&y), bits(&whole), "windows of {window} rows");
    }
}

#[test]
fn outer_add_matches_the_naive_product_for_every_shape_remainder() {
    // y += Gᵀ·A by the definition, on integers (exact in any order), for every variant.
    for n in 0..9 {
        for k in 1..6 {
            for m in 1..11 {
                let a = ints(n * k, (n * 13 + k * 5 + m) as u64);
                let g = ints(n * m, (n * 7 + m) as u64 + 99);
                let start = ints(k * m, 3);
                let mut want = start.clone();
                for i in 0..n {
                    for kk in 0..k {
                        for c in 0..m {
                            want[c * k + kk] += a[i * k + kk] * g[i * m + c];
                        }
                    }
                }
                for v in f64::variants() {
                    let mut got = start.clone();
                    (v.outer_add)(&a, &g, k, &mut got);
                    assert_eq!(got, want, "{} outer_add n={n} k={k} m={m}", v.name);
                }
            }
        }
    }
}
