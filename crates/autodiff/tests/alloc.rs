//! A training loop that clears and rebuilds the tape allocates nothing per step after warm-up.
//!
//! Its own test binary, because it installs a counting global allocator.

use autodiff::{Data, Gradients, Shape, Tape};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn bump() {
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        bump();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

/// An n × d matrix of small fractions and labels ±1 (every third −1).
fn data(n: usize, d: usize) -> (Data<f64>, Data<f64>) {
    let x: Vec<f64> = (0..n * d)
        .map(|i| ((i * 7 % 11) as f64 - 5.0) / 3.0)
        .collect();
    let y: Vec<f64> = (0..n)
        .map(|i| if i % 3 == 0 { -1.0 } else { 1.0 })
        .collect();
    (
        Data::new(x, Shape::matrix(n, d)).unwrap(),
        Data::vector(y).unwrap(),
    )
}

#[test]
fn training_steps_allocate_nothing_after_warm_up() {
    let (n, d, k) = (50, 4, 3);
    let (x, y) = data(n, d);
    let labels: Vec<usize> = (0..n).map(|i| i % k).collect();
    let mut w = vec![0.1; d];
    let mut wk = vec![0.05; d * k];
    let mut tape = Tape::<f64>::new();
    let mut grads = Gradients::new();
    let mut per_step = Vec::new();
    for _ in 0..8 {
        let before = allocations();
        tape.clear();
        let wv = tape.param_vec(&w).unwrap();
        let wm = tape.param(&wk, Shape::matrix(d, k)).unwrap();
        let xm = tape.data(&x);
        let yv = tape.data(&y);
        let binary = (1.0 - yv * xm.matvec(wv)).relu().mean();
        let scores = xm.matmul(wm);
        let multi = (scores.row_max() - scores.gather(&labels)).max(0.0).sum();
        let both = tape.max_n(&[binary, multi, wv.abs().sum()]);
        let loss = both + wv.square().sum() * 0.5 + wm.clamp(-1.0, 1.0).sum();
        tape.backward_into(loss, &mut grads).unwrap();
        for (wj, gj) in w.iter_mut().zip(grads.wrt(wv)) {
            *wj -= 0.1 * gj;
        }
        for (wj, gj) in wk.iter_mut().zip(grads.wrt(wm)) {
            *wj -= 0.1 * gj;
        }
        per_step.push(allocations() - before);
    }
    assert!(per_step[0] > 0, "the first step allocates the buffers");
    assert_eq!(
        &per_step[2..],
        &[0; 6],
        "allocations per step: {per_step:?}"
    );
}

#[test]
fn large_products_split_into_blocks_allocate_nothing_after_warm_up() {
    // n·d = 1.28·10⁶ multiply–adds: above the split threshold, so `X·w` and `Xᵀg` run in row
    // blocks on rayon's pool, and the partial sums of `Xᵀg` live in the reused `Gradients`.
    let (n, d) = (20_000, 64);
    let (x, y) = data(n, d);
    let mut w = vec![0.01; d];
    let mut tape = Tape::<f64>::new();
    let mut grads = Gradients::new();
    let mut per_step = Vec::new();
    for _ in 0..6 {
        let before = allocations();
        tape.clear();
        let wv = tape.param_vec(&w).unwrap();
        let loss = (1.0 - tape.data(&y) * tape.data(&x).matvec(wv))
            .relu()
            .mean()
            + wv.square().sum() * 0.5;
        tape.backward_into(loss, &mut grads).unwrap();
        for (wj, gj) in w.iter_mut().zip(grads.wrt(wv)) {
            *wj -= 0.1 * gj;
        }
        per_step.push(allocations() - before);
    }
    assert!(per_step[0] > 0, "the first step allocates the buffers");
    assert_eq!(
        &per_step[2..],
        &[0; 4],
        "allocations per step: {per_step:?}"
    );
}
