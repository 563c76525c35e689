//! The kink report: which nodes hit an exact tie in the forward pass, at which elements, and
//! optionally which came within a tolerance of one.

use std::fmt;

use crate::ops::Op;
use crate::tape::Inner;
use crate::{NodeId, Real, Tape};

/// One kinked node in a [`KinkReport`].
#[derive(Debug, Clone, PartialEq)]
pub struct KinkSite {
    /// The node.
    pub node: NodeId,
    /// The primitive's name (`relu`, `abs`, `max`, `min`, `clamp`, `max_n`, `min_n`,
    /// `reduce_max`, `reduce_min`, `row_max`, `row_min`).
    pub op: &'static str,
    /// Output element indices that sat exactly on the kink, where the policy chose the
    /// subgradient (for row reductions: the rows with a tied extreme).
    pub exact: Vec<usize>,
    /// Output element indices within the tolerance of the kink but not on it (empty unless the
    /// report was made by [`Tape::kinks_near`]).
    pub near: Vec<usize>,
}

/// Every kink the forward pass hit, per node in tape order.
///
/// # Example
/// ```
/// use autodiff::Tape;
/// # fn main() -> autodiff::Result<()> {
/// let tape = Tape::<f64>::new();
/// let margins = tape.param_vec(&[0.5, 1.0, 1.0 + 1e-12, 2.0])?;
/// let hinge = (1.0 - margins).relu().sum();
/// hinge.backward()?;
/// let report = tape.kinks_near(1e-9);
/// let site = &report.sites()[0];
/// assert_eq!(site.op, "relu");
/// assert_eq!(site.exact, vec![1]); // example 1 sits exactly on the margin
/// assert_eq!(site.near, vec![2]); // example 2 is within 1e-9 of it
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct KinkReport {
    sites: Vec<KinkSite>,
    tolerance: Option<f64>,
}

impl KinkReport {
    /// The kinked nodes, in tape order.
    pub fn sites(&self) -> &[KinkSite] {
        &self.sites
    }

    /// The site of one node, if it hit a kink.
    pub fn site(&self, node: NodeId) -> Option<&KinkSite> {
        self.sites.iter().find(|s| s.node == node)
    }

    /// Whether no kink (exact, or near if asked) was hit.
    pub fn is_empty(&self) -> bool {
        self.sites.is_empty()
    }

    /// Total number of exact ties over all nodes.
    pub fn exact_count(&self) -> usize {
        self.sites.iter().map(|s| s.exact.len()).sum()
    }

    /// Total number of near ties over all nodes.
    pub fn near_count(&self) -> usize {
        self.sites.iter().map(|s| s.near.len()).sum()
    }

    /// The tolerance used for near ties, if any.
    pub fn tolerance(&self) -> Option<f64> {
        self.tolerance
    }
}

impl fmt::Display for KinkReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.sites.is_empty() {
            return writeln!(f, "no kink hit");
        }
        for s in &self.sites {
            write!(f, "{} {}: exact at {:?}", s.node, s.op, s.exact)?;
            if self.tolerance.is_some() {
                write!(f, ", near at {:?}", s.near)?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

/// Distance of each output element from its kink, for near-tie reports.
fn distances<T: Real>(inner: &Inner<T>, id: u32, out: &mut Vec<T>) {
    let vals = inner.values();
    let node = inner.node(id);
    let n = node.shape.len();
    out.clear();
    let at = |v: &[T], i: usize| if v.len() == 1 { v[0] } else { v[i] };
    match node.op {
        Op::Relu(x) | Op::Abs(x) => out.extend(vals.get(x).iter().map(|v| v.abs())),
        Op::Max(a, b) | Op::Min(a, b) => {
            let (u, v) = (vals.get(a), vals.get(b));
            out.extend((0..n).map(|i| (at(u, i) - at(v, i)).abs()));
        }
        Op::Clamp { x, lo, hi } => {
            out.extend(
                vals.get(x)
                    .iter()
                    .map(|&v| (v - lo).abs().min((v - hi).abs())),
            );
        }
        Op::MaxN { start, len } | Op::MinN { start, len } => {
            let links = &inner.links[start..start + len];
            let best = vals.get(id);
            for (i, &b) in best.iter().enumerate() {
                let d = links
                    .iter()
                    .map(|&x| (at(vals.get(x), i) - b).abs())
                    .filter(|d| *d > T::zero())
                    .fold(T::infinity(), T::min);
                out.push(d);
            }
        }
        Op::ReduceMax(x) | Op::ReduceMin(x) | Op::RowMax(x) | Op::RowMin(x) => {
            let v = vals.get(x);
            let best = vals.get(id);
            let cols = v.len() / n.max(1);
            for (i, &b) in best.iter().enumerate() {
                let d = v[i * cols..(i + 1) * cols]
                    .iter()
                    .map(|&e| (e - b).abs())
                    .filter(|d| *d > T::zero())
                    .fold(T::infinity(), T::min);
                out.push(d);
            }
        }
        _ => {}
    }
}

fn is_kink_op<T>(op: &Op<T>) -> bool {
    matches!(
        op,
        Op::Relu(_)
            | Op::Abs(_)
            | Op::Max(..)
            | Op::Min(..)
            | Op::Clamp { .. }
            | Op::MaxN { .. }
            | Op::MinN { .. }
            | Op::ReduceMax(_)
            | Op::ReduceMin(_)
            | Op::RowMax(_)
            | Op::RowMin(_)
    )
}

impl<T: Real> Tape<T> {
    /// The exact ties hit so far: every kink operation's elements that sat exactly on the kink,
    /// where the policy's choice decided the gradient.
    ///
    /// Recorded during the forward pass, so the report can be asked before or after backward.
    pub fn kinks(&self) -> KinkReport {
        let inner = self.borrow();
        let sites = inner
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.ties.1 > n.ties.0)
            .map(|(i, n)| KinkSite {
                node: NodeId(i as u32),
                op: n.op.name(),
                exact: inner.ties[n.ties.0..n.ties.1].to_vec(),
                near: Vec::new(),
            })
            .collect();
        KinkReport {
            sites,
            tolerance: None,
        }
    }

    /// Like [`Tape::kinks`], and also the elements whose distance to the kink is positive but at
    /// most `tolerance` (for `relu`/`abs`: `|x|`; `max`/`min`: `|a − b|`; `clamp`: the distance
    /// to the nearer bound; n-ary and reductions: the gap to the runner-up).
    pub fn kinks_near(&self, tolerance: T) -> KinkReport {
        let inner = self.borrow();
        let mut dist = Vec::new();
        let mut sites = Vec::new();
        for (i, n) in inner.nodes.iter().enumerate() {
            if !is_kink_op(&n.op) {
                continue;
            }
            distances(&inner, i as u32, &mut dist);
            let near: Vec<usize> = dist
                .iter()
                .enumerate()
                .filter(|(_, &d)| d > T::zero() && d <= tolerance)
                .map(|(k, _)| k)
                .collect();
            let exact = inner.ties[n.ties.0..n.ties.1].to_vec();
            if !exact.is_empty() || !near.is_empty() {
                sites.push(KinkSite {
                    node: NodeId(i as u32),
                    op: n.op.name(),
                    exact,
                    near,
                });
            }
        }
        KinkReport {
            sites,
            tolerance: Some(tolerance.to_f64_lossless()),
        }
    }
}
