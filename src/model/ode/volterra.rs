//! XPPAUT's integrals, `int{K#g}` = ∫₀ᵗ K(t - s) g(s) ds and `int{K(t, t')·g}` (the kernel
//! written in `t` and `t'`), for kernels that are sums of `c τⁿ e^(-aτ)` (τ = t - t'): such
//! an integral is a finite set of ODEs (the linear chain trick), so the file stays an ODE the
//! toolkit integrates and differentiates. With
//! `J_{a,m}(t) = ∫₀ᵗ (t-s)^m/m! e^(-a(t-s)) g(s) ds`,
//!
//! ```text
//! J_{a,0}' = -a J_{a,0} + g(t),   J_{a,m}' = -a J_{a,m} + J_{a,m-1},   J(0) = 0,
//! ∫₀ᵗ K(t-s) g(s) ds = Σ c m! J_{a,m}  over the kernel's terms c τ^m e^(-aτ).
//! ```
//!
//! The `J` are hidden state variables (`int#k.r.m`), the integral a hidden fixed quantity
//! (`int#k`). A Volterra equation `u(t) = G(t) + int{…}` (or `volt u = …`) makes `u` a fixed
//! quantity: its value follows from the `J`. Kernels with parameters, of other forms
//! (`exp(-t - d/t)`, XPPAUT's weakly singular `int[q]{…}`) or zero (XPPAUT files write
//! `int{0#x}` to switch on its Volterra solver for delays) are refused by name.

use super::compile::{Functions, substitute};
use super::expr::{Ast, ExprError, Pos};
use std::collections::HashMap;

/// One `int{…}` as read.
#[derive(Debug, Clone)]
pub struct IntegralDef {
    /// `K` of `int{K#g}`, in `t`; None for the form without `#`.
    pub kernel: Option<Ast>,
    /// `g` of `int{K#g}`, or the whole integrand of `int{…}`.
    pub body: Ast,
    pub pos: Pos,
}

/// A kernel `Σ c τⁿ e^(-aτ)`: terms `(c, n, a)`.
#[derive(Debug, Clone, PartialEq)]
struct ExpPoly(Vec<(f64, u32, f64)>);

/// The highest power of τ, and the most terms, a kernel may have.
const MAX_POWER: u32 = 8;
const MAX_KERNEL_TERMS: usize = 16;

impl ExpPoly {
    fn constant(c: f64) -> ExpPoly {
        ExpPoly(vec![(c, 0, 0.0)]).normal()
    }

    /// Like terms combined, zeros dropped.
    fn normal(self) -> ExpPoly {
        let mut out: Vec<(f64, u32, f64)> = vec![];
        for (c, n, a) in self.0 {
            match out.iter_mut().find(|t| t.1 == n && t.2 == a) {
                Some(t) => t.0 += c,
                None => out.push((c, n, a)),
            }
        }
        out.retain(|t| t.0 != 0.0);
        ExpPoly(out)
    }

    fn ok(self) -> Option<ExpPoly> {
        let p = self.normal();
        let fine = p.0.len() <= MAX_KERNEL_TERMS
            && p.0
                .iter()
                .all(|t| t.0.is_finite() && t.2.is_finite() && t.1 <= MAX_POWER);
        fine.then_some(p)
    }

    fn scale(mut self, k: f64) -> ExpPoly {
        for t in &mut self.0 {
            t.0 *= k;
        }
        self
    }

    fn add(mut self, b: ExpPoly) -> ExpPoly {
        self.0.extend(b.0);
        self
    }

    fn mul(&self, b: &ExpPoly) -> ExpPoly {
        let mut out = vec![];
        for x in &self.0 {
            for y in &b.0 {
                out.push((x.0 * y.0, x.1 + y.1, x.2 + y.2));
            }
        }
        ExpPoly(out)
    }

    /// The value if the kernel is a number.
    fn as_constant(&self) -> Option<f64> {
        match &self.0[..] {
            [] => Some(0.0),
            [(c, 0, a)] if *a == 0.0 => Some(*c),
            _ => None,
        }
    }

    /// Equal to `b` to rounding.
    fn close_to(&self, b: &ExpPoly) -> bool {
        self.0.len() == b.0.len()
            && self.0.iter().all(|x| {
                b.0.iter().any(|y| {
                    x.1 == y.1
                        && (x.2 - y.2).abs() <= 1e-12 * (1.0 + x.2.abs())
                        && (x.0 - y.0).abs() <= 1e-12 * (1.0 + x.0.abs())
                })
            })
    }
}

/// `a` as an exponential polynomial in the name `var`, if it is one (numbers and `var` only,
/// through `+ - * /`, integer powers, `exp` of a linear function and user functions).
fn exp_poly(a: &Ast, var: &str, functions: &Functions, depth: usize) -> Option<ExpPoly> {
    if depth > 64 {
        return None;
    }
    let go = |x: &Ast| exp_poly(x, var, functions, depth + 1);
    match a {
        Ast::Num(c) => ExpPoly::constant(*c).ok(),
        Ast::Name(n, _) if n == var => ExpPoly(vec![(1.0, 1, 0.0)]).ok(),
        Ast::Name(n, _) if n == "pi" => ExpPoly::constant(std::f64::consts::PI).ok(),
        Ast::Name(..) | Ast::If(..) | Ast::Sum(..) => None,
        Ast::Neg(x) => go(x).map(|p| p.scale(-1.0)),
        Ast::Chain(x, rest) => {
            let mut acc = go(x)?;
            for (op, y) in rest {
                let b = go(y)?;
                acc = match *op {
                    "+" => acc.add(b),
                    "-" => acc.add(b.scale(-1.0)),
                    "*" => acc.mul(&b),
                    "/" => match &b.0[..] {
                        [(c, 0, a)] if *c != 0.0 => acc.mul(&ExpPoly(vec![(1.0 / c, 0, -a)])),
                        _ => return None,
                    },
                    "^" => {
                        let k = b.as_constant()?;
                        if k != k.round() || !(0.0..=MAX_POWER as f64).contains(&k) {
                            return None;
                        }
                        let mut p = ExpPoly::constant(1.0);
                        for _ in 0..k as u32 {
                            p = p.mul(&acc).ok()?;
                        }
                        p
                    }
                    _ => return None,
                }
                .ok()?;
            }
            Some(acc)
        }
        Ast::Call(f, args, _) if f == "exp" && args.len() == 1 => {
            // exp(c0 + c1 τ) = e^c0 e^(c1 τ)
            let l = go(&args[0])?;
            let (mut c0, mut c1) = (0.0, 0.0);
            for &(c, n, a) in &l.0 {
                match (n, a == 0.0) {
                    (0, true) => c0 += c,
                    (1, true) => c1 += c,
                    _ => return None,
                }
            }
            ExpPoly(vec![(c0.exp(), 0, -c1)]).ok()
        }
        Ast::Call(f, args, _) => {
            let (params, body, _) = functions.get(f)?;
            if params.len() != args.len() {
                return None;
            }
            let bound: HashMap<String, Ast> =
                params.iter().cloned().zip(args.iter().cloned()).collect();
            go(&substitute(body, &bound))
        }
    }
}

/// Whether `a` reads any name but `t`, `t'`, `pi` (or a user function that does, or is
/// called with one).
fn reads_model(a: &Ast, functions: &Functions, depth: usize) -> bool {
    let go = |x: &Ast| reads_model(x, functions, depth + 1);
    depth > 64
        || match a {
            Ast::Num(_) => false,
            Ast::Name(n, _) => !matches!(n.as_str(), "t" | "t'" | "pi"),
            Ast::Neg(x) => go(x),
            Ast::Chain(x, rest) => go(x) || rest.iter().any(|(_, y)| go(y)),
            Ast::If(c, x, y) => go(c) || go(x) || go(y),
            Ast::Sum(..) => true,
            Ast::Call(f, args, _) => {
                args.iter().any(go)
                    || functions.get(f).is_some_and(|(params, body, _)| {
                        let bound: HashMap<String, Ast> =
                            params.iter().map(|p| (p.clone(), Ast::Num(0.0))).collect();
                        go(&substitute(body, &bound))
                    })
            }
        }
}

/// Whether `a` reads the name `n`.
fn mentions(a: &Ast, n: &str) -> bool {
    match a {
        Ast::Num(_) => false,
        Ast::Name(m, _) => m == n,
        Ast::Neg(x) => mentions(x, n),
        Ast::Chain(x, rest) => mentions(x, n) || rest.iter().any(|(_, y)| mentions(y, n)),
        Ast::If(c, x, y) => mentions(c, n) || mentions(x, n) || mentions(y, n),
        Ast::Sum(a, b, c, _) => mentions(a, n) || mentions(b, n) || mentions(c, n),
        Ast::Call(_, args, _) => args.iter().any(|x| mentions(x, n)),
    }
}

/// The kernel (in τ) and integrand of one integral.
fn kernel_and_integrand(
    d: &IntegralDef,
    functions: &Functions,
) -> Result<(ExpPoly, Ast), ExprError> {
    let err = |reason: String| ExprError { pos: d.pos, reason };
    let form = "int{K#g} takes a kernel K(t) that is a sum of c t^n exp(-a t) with numbers c, a";
    if let Some(k) = &d.kernel {
        let p = exp_poly(k, "t", functions, 0)
            .ok_or_else(|| err(format!("int{{…}}: this kernel is not supported; {form}")))?;
        return Ok((p, d.body.clone()));
    }
    // int{…} without #: the factors in t and t' alone form the kernel, the rest is g(t').
    // A chain applies its operations left to right, so its trailing `* f` and `/ f` steps are
    // factors of everything before them (`(t-t')*exp(t'-t)*u` is one chain).
    let factors: Vec<(&'static str, Ast)> = match &d.body {
        Ast::Chain(x, rest) => {
            let split = rest
                .iter()
                .rposition(|(op, _)| !matches!(*op, "*" | "/"))
                .map_or(0, |i| i + 1);
            let head = if split == 0 {
                (**x).clone()
            } else {
                Ast::Chain(x.clone(), rest[..split].to_vec())
            };
            std::iter::once(("*", head))
                .chain(rest[split..].iter().cloned())
                .collect()
        }
        other => vec![("*", other.clone())],
    };
    let tau = "t#";
    let mut kernel: [ExpPoly; 2] = [ExpPoly::constant(1.0), ExpPoly::constant(1.0)];
    let mut g: Option<Ast> = None;
    for (op, f) in factors {
        if reads_model(&f, functions, 0) {
            if mentions(&f, "t") {
                return Err(err(
                    "int{…}: the integrand reads t (write the kernel in t - t', or use int{K#g})"
                        .into(),
                ));
            }
            // g is evaluated at t' (the integration variable): as an ODE, at t.
            let at_t = substitute(
                &f,
                &HashMap::from([("t'".to_string(), Ast::Name("t".into(), d.pos))]),
            );
            g = Some(match g {
                None if op == "*" => at_t,
                None => Ast::bin("/", Ast::Num(1.0), at_t),
                Some(prev) => Ast::bin(op, prev, at_t),
            });
            continue;
        }
        // Kernel factor: the same function of τ = t - t' at two values of t, or refused.
        for (slot, t0) in [0.0, 1.7].into_iter().enumerate() {
            let at = substitute(
                &f,
                &HashMap::from([
                    ("t".to_string(), Ast::Num(t0)),
                    (
                        "t'".to_string(),
                        Ast::bin("-", Ast::Num(t0), Ast::Name(tau.into(), d.pos)),
                    ),
                ]),
            );
            let p = exp_poly(&at, tau, functions, 0)
                .ok_or_else(|| err(format!("int{{…}}: this kernel is not supported; {form}")))?;
            kernel[slot] = match op {
                "*" => kernel[slot].mul(&p),
                _ => match &p.0[..] {
                    [(c, 0, a)] if *c != 0.0 => kernel[slot].mul(&ExpPoly(vec![(1.0 / c, 0, -a)])),
                    _ => {
                        return Err(err(format!(
                            "int{{…}}: this kernel is not supported; {form}"
                        )));
                    }
                },
            }
            .ok()
            .ok_or_else(|| err(format!("int{{…}}: this kernel is not supported; {form}")))?;
        }
    }
    if !kernel[0].close_to(&kernel[1]) {
        return Err(err(
            "int{…}: the kernel depends on t and t' apart, not on t - t' alone".into(),
        ));
    }
    let [kernel, _] = kernel;
    Ok((kernel, g.unwrap_or(Ast::Num(1.0))))
}

/// The hidden states (name, right-hand side) and the fixed quantities `int#k` of the
/// integrals.
#[allow(clippy::type_complexity)]
pub fn expand(
    integrals: &[IntegralDef],
    functions: &Functions,
) -> Result<(Vec<(String, Ast, Pos)>, Vec<(String, Ast, Pos)>), ExprError> {
    let mut states = vec![];
    let mut values = vec![];
    for (k, d) in integrals.iter().enumerate() {
        let (kernel, g) = kernel_and_integrand(d, functions)?;
        if kernel.0.is_empty() {
            return Err(ExprError {
                pos: d.pos,
                reason: "int{…} integrals with a zero kernel (XPPAUT files write int{0#x} to switch on its Volterra solver for delays) are not supported".into(),
            });
        }
        // One chain of states per decay rate, as long as its highest power.
        let mut rates: Vec<(f64, u32)> = vec![];
        for &(_, n, a) in &kernel.0 {
            match rates.iter_mut().find(|r| r.0 == a) {
                Some(r) => r.1 = r.1.max(n),
                None => rates.push((a, n)),
            }
        }
        let name = |r: usize, m: u32| format!("int#{k}.{r}.{m}");
        for (r, &(a, top)) in rates.iter().enumerate() {
            for m in 0..=top {
                let input = if m == 0 {
                    g.clone()
                } else {
                    Ast::Name(name(r, m - 1), d.pos)
                };
                let decay = Ast::bin("*", Ast::Num(-a), Ast::Name(name(r, m), d.pos));
                states.push((name(r, m), Ast::bin("+", decay, input), d.pos));
            }
        }
        let mut sum: Option<Ast> = None;
        for &(c, n, a) in &kernel.0 {
            let r = rates.iter().position(|x| x.0 == a).unwrap_or(0);
            let factorial: f64 = (1..=n).map(f64::from).product();
            let term = Ast::bin("*", Ast::Num(c * factorial), Ast::Name(name(r, n), d.pos));
            sum = Some(match sum {
                None => term,
                Some(s) => Ast::bin("+", s, term),
            });
        }
        values.push((format!("int#{k}"), sum.unwrap_or(Ast::Num(0.0)), d.pos));
    }
    Ok((states, values))
}
