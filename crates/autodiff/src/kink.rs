//! The kink report: which nodes hit an exact tie in the forward pass, at which elements, and
//! optionally which came within a tolerance of one.

use std::fmt;

use crate::{NodeId, Real, Tape};

/// One kinked node in a [`KinkReport`].
#[derive(Debug, Clone, PartialEq)]
pub struct KinkSite {
    /// The node.
    pub node: NodeId,
    /// The primitive's name (`relu`, `leaky_relu`, `abs`, `max`, `min`, `clamp`, `max_n`, `min_n`,
    /// `reduce_max`, `reduce_min`, `row_max`, `row_min`, `norm`).
    pub op: &'static str,
    /// Output element indices that sat exactly on the kink, where the policy chose the
    /// subgradient (for row reductions: the rows with a tied extreme).
    pub exact: Vec<usize>,
    /// Output element indices within the tolerance of the kink but not on it (empty unless the
    /// report was made by [`Tape::kinks_near`], an absolute tolerance, or is a certified
    /// result's [`Certified::report`](crate::Certified::report): the near ties, within the
    /// relative tie tolerance, that were resolved as ties).
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
    pub(crate) fn from_parts(sites: Vec<KinkSite>, tolerance: Option<f64>) -> Self {
        KinkReport { sites, tolerance }
    }

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
    /// most `tolerance` (for `relu`/`leaky_relu`/`abs`: `|x|`; `max`/`min`: `|a − b|`; `clamp`:
    /// the distance to the nearer bound; n-ary and reductions: the gap to the runner-up; `norm`:
    /// `‖x‖`).
    pub fn kinks_near(&self, tolerance: T) -> KinkReport {
        let inner = self.borrow();
        let mut dist = Vec::new();
        let mut sites = Vec::new();
        for (i, n) in inner.nodes.iter().enumerate() {
            if !n.op.is_kink() {
                continue;
            }
            n.op.distance(&inner, i as u32, &mut dist);
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
