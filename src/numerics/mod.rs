//! Numerics every layer above shares, with no knowledge of neurons: the scalar type model
//! equations are written over, exact Jacobians by dual numbers, eigenpairs, Newton's method and
//! root bracketing. Nothing here depends on another module of the crate except [`crate::error`].

pub mod balance;
pub mod dual;
pub mod eigen;
pub mod lanes;
pub mod newton;
pub mod phi;
pub mod polynomial;
pub mod pool;
pub mod power_family;
pub mod roots;
pub mod scalar;
pub mod scratch;

pub use eigen::{C64, EigenPair, eigen};
pub use newton::{NewtonFailure, newton};
pub use scalar::Scalar;
