//! The scalar type every model equation is written over.
//!
//! Model right-hand sides are generic over [`Scalar`] so that one definition serves plain `f64`
//! simulation and dual-number differentiation (exact Jacobians and the higher derivatives that the
//! first Lyapunov coefficient needs). `f64` and all `num-dual` number types implement it.

use num_dual::DualNum;

/// A number the model equations can be evaluated on: `f64` or a `num-dual` dual number over `f64`.
pub trait Scalar: DualNum<Primitive = f64> + Copy + Send + Sync {}

impl<T: DualNum<Primitive = f64> + Copy + Send + Sync> Scalar for T {}

/// Real part of a scalar (the `f64` value, dropping derivative parts).
#[inline]
pub fn re<T: Scalar>(x: T) -> f64 {
    x.re()
}
