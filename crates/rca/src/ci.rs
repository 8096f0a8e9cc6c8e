//! The conditional-independence test interface the PC search calls. The search knows nothing
//! of the test's statistics (as in causal-learn, where `pc` takes the test as an argument):
//! Fisher-z ([`crate::fisher_z::FisherZ`]) is one implementation; a kernel or a G^2 test
//! could be another without touching [`crate::pc`].

use crate::error::RcaError;

/// A test of `X ⟂ Y | S` on one fixed data set.
pub trait CiTest {
    /// Number of variables the test knows.
    fn n_vars(&self) -> usize;

    /// The p-value of the null hypothesis "`x` and `y` are independent given `s`". PC
    /// removes the edge `x - y` when the p-value exceeds its alpha. `&mut self` lets a test
    /// keep scratch space or a cache between calls.
    fn p_value(&mut self, x: usize, y: usize, s: &[usize]) -> Result<f64, RcaError>;
}
