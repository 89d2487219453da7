//! The one-sweep Jacobian `[df/dy | df/dlambda]` (all n+1 directions carried by one dual
//! number through the right-hand side: `.ode` bytecode or a conductance model's rates)
//! against n+1 sweeps of one direction each through the same right-hand side: both are
//! exact, so they agree to rounding (relative 1e-12 of the column's scale).

use excitable::continuation::{CURRENT, Family, Field};
use excitable::model::{Model, VectorField};
use num_dual::Dual64;
use std::path::Path;

/// `[df/dy | df/dlambda]` by one dual sweep per column through [`VectorField::eval`].
fn sweeps(fam: &Family, y: &[f64], lambda: f64, param: Option<usize>) -> Vec<Vec<f64>> {
    let n = y.len();
    let mut cols = vec![];
    for col in 0..=n {
        let mut p: Vec<Dual64> = fam.p.iter().map(|&v| Dual64::from(v)).collect();
        let yd: Vec<Dual64> = (0..n)
            .map(|k| Dual64::new(y[k], if k == col { 1.0 } else { 0.0 }))
            .collect();
        let lam = Dual64::new(lambda, if col == n { 1.0 } else { 0.0 });
        let mut out = vec![Dual64::from(0.0); n];
        match param {
            None => fam.field.eval(&mut p, &yd, lam, &mut out),
            Some(k) => {
                p[k] = lam;
                fam.field
                    .eval(&mut p, &yd, Dual64::from(fam.i_ext), &mut out)
            }
        }
        cols.push(out.iter().map(|o| o.eps).collect());
    }
    cols
}

fn check(path: &str, param: &str, lambda: f64) {
    let model = match path.strip_prefix("builtin:") {
        Some(name) => Model::builtin(name).unwrap(),
        None => Model::from_file(Path::new(&format!(
            "{}/studies/models/{path}",
            env!("CARGO_MANIFEST_DIR")
        )))
        .unwrap(),
    };
    let field = Field::of(&model).unwrap();
    // A model without a current parameter: its first parameter instead.
    let first = field.params().names()[0].to_string();
    let param = if param == CURRENT && !field.has_current() {
        first.as_str()
    } else {
        param
    };
    let k = field.params().index(param);
    let fam = Family::of_field(field, param, 0.0).unwrap();
    let n = fam.dim();
    // A state off the equilibria: the file's initial values nudged.
    let y: Vec<f64> = match &model {
        Model::Ode(m) => m.init.iter().map(|v| v * 1.01 + 0.01).collect(),
        _ => vec![-60.0, 0.1, 0.55, 0.35],
    };
    let (j, f) = fam.jacobian_full(&y, lambda);
    let want = sweeps(&fam, &y, lambda, if param == CURRENT { None } else { k });
    let plain = fam.f(&y, lambda);
    for row in 0..n {
        assert!((f[row] - plain[row]).abs() <= 1e-12 * plain[row].abs().max(1.0));
    }
    for (col, w) in want.iter().enumerate() {
        let scale = w.iter().fold(1e-300f64, |a, b| a.max(b.abs()));
        for row in 0..n {
            let got = j[(row, col)];
            assert!(
                (got - w[row]).abs() <= 1e-12 * scale,
                "{path} d f{row}/d col {col}: one sweep {got}, per direction {}",
                w[row]
            );
        }
    }
}

#[test]
fn one_sweep_jacobian_equals_per_direction_sweeps() {
    check("builtin:hh", CURRENT, 12.0);
    check("builtin:hh", "g_k", 36.5);
    check("hh.ode", CURRENT, 12.0);
    check("hh.ode", "gk", 36.5);
    check("ml.ode", CURRENT, 90.0);
    check("fhn.ode", CURRENT, 0.3);
    for f in [
        "hindmarsh_rose.ode",
        "ml_homoclinic.ode",
        "ml_snic.ode",
        "rinzel_hh2d.ode",
    ] {
        check(&format!("zoo/{f}"), CURRENT, 1.0);
    }
}
