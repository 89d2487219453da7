use super::*;
use crate::model::builtin;
use num_dual::Dual64;

fn hh_text() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/studies/models/hh.ode"
    ))
    .unwrap()
}

#[test]
fn hh_ode_equals_the_builtin_model() {
    let m = OdeModel::parse(&hh_text(), "hh.ode", "hh-ode").unwrap();
    assert_eq!(m.vars, ["v", "m", "h", "n"]);
    assert_eq!(m.init, [-65.0, 0.05, 0.6, 0.32]);
    assert_eq!(m.params.len(), 8);
    assert_eq!(m.params.get("el"), Some(-54.387));
    assert_eq!(m.aux.len(), 1);
    assert_eq!(m.options.len(), 3);
    assert!(m.notes.iter().any(|n| n.contains("xp")), "{:?}", m.notes);
    let b = builtin::hh();
    let pb = b.params.values();
    let i_k = m.params.index("i").unwrap();
    for (v, i) in [(-65.0, 0.0), (-40.5, 10.0), (-55.5, 3.0), (20.0, 50.0)] {
        let y = [v, 0.1, 0.5, 0.4];
        let mut p = m.params.values();
        p[i_k] = i;
        let (mut a, mut c) = ([0.0; 4], [0.0; 4]);
        m.rhs(&p, 0.0, &y, &mut a);
        b.rhs(&pb, &y, i, &mut c);
        // The closure trees (simulation path) equal the bytecode exactly.
        let mut f = [0.0; 4];
        m.rhs_f64(&p, 0.0, &y, &mut f, &mut vec![]);
        assert_eq!(a, f);
        for k in 0..4 {
            assert!(
                (a[k] - c[k]).abs() <= 1e-12 * (1.0 + c[k].abs()),
                "V={v} I={i} k={k}: {} vs {}",
                a[k],
                c[k]
            );
        }
    }
    // The file's formulas are evaluated as written: at their removable singularities
    // (alpha_m at -40 mV) they give 0/0 = NaN, as in XPPAUT; the built-in rates do not.
    let mut a = [0.0; 4];
    m.rhs(&m.params.values(), 0.0, &[-40.0, 0.1, 0.5, 0.4], &mut a);
    assert!(a[1].is_nan());
}

#[test]
fn dual_numbers_give_the_builtin_jacobian() {
    use num_dual::Dual64;
    let m = OdeModel::parse(&hh_text(), "hh.ode", "hh-ode").unwrap();
    let b = builtin::hh();
    let y = [-60.0, 0.1, 0.5, 0.4];
    let pb: Vec<Dual64> = b.params.values().into_iter().map(Dual64::from).collect();
    let po: Vec<Dual64> = m.params.values().into_iter().map(Dual64::from).collect();
    for j in 0..4 {
        let yd: Vec<Dual64> = (0..4)
            .map(|k| {
                let x = Dual64::from(y[k]);
                if k == j { x.derivative() } else { x }
            })
            .collect();
        let (mut a, mut c) = (vec![Dual64::from(0.0); 4], vec![Dual64::from(0.0); 4]);
        m.rhs(&po, Dual64::from(0.0), &yd, &mut a);
        b.rhs(&pb, &yd, Dual64::from(0.0), &mut c);
        for k in 0..4 {
            assert!(
                (a[k].eps - c[k].eps).abs() <= 1e-10 * (1.0 + c[k].eps.abs()),
                "d f{k}/d y{j}"
            );
        }
    }
}

#[test]
fn fitzhugh_nagumo_with_time_and_if() {
    let text = "# FitzHugh-Nagumo with a pulse\n\
        p a=0.7, b=0.8, eps=0.08\n\
        i0(t)=if(t<5)then(0.5)else(0)\n\
        v'=v-v^3/3-w+i0(t)\n\
        w'=eps*(v+a-b*w)\n\
        v(0)=-1.2\nw(0)=-0.6\n";
    let m = OdeModel::parse(text, "fhn.ode", "fhn").unwrap();
    let p = m.params.values();
    let mut d = [0.0; 2];
    m.rhs(&p, 1.0, &[-1.2, -0.6], &mut d);
    assert!((d[0] - (-1.2 + 1.728 / 3.0 + 0.6 + 0.5)).abs() < 1e-12);
    m.rhs(&p, 6.0, &[-1.2, -0.6], &mut d);
    assert!((d[0] - (-1.2 + 1.728 / 3.0 + 0.6)).abs() < 1e-12);
    assert!((d[1] - 0.08 * (-1.2 + 0.7 + 0.48)).abs() < 1e-12);
    assert_eq!(m.init, [-1.2, -0.6]);
}

fn error(text: &str) -> OdeError {
    OdeModel::parse(text, "bad.ode", "bad").unwrap_err()
}

#[test]
fn malformed_files_name_line_and_column() {
    let e = error("par a=1\nx'=foo(x)\n");
    assert_eq!((e.line, e.col), (2, 4));
    assert!(e.reason.contains("unknown function 'foo'"), "{e}");
    let e = error("par a=1\nx'=a*y\n");
    assert_eq!((e.line, e.col), (2, 6));
    assert!(e.reason.contains("undefined name 'y'"), "{e}");
    // Unbalanced brackets: the missing ')' at the end of the line, the extra one where it is.
    let e = error("x'=(x+1\n");
    assert_eq!((e.line, e.col), (1, 8));
    assert!(e.reason.contains("expected ')'"), "{e}");
    let e = error("par a=1\nx'=sin(x\n");
    assert_eq!((e.line, e.col), (2, 9));
    assert!(e.reason.contains("closing the call"), "{e}");
    let e = error("x'=x)\n");
    assert_eq!((e.line, e.col), (1, 5));
    assert!(e.reason.contains("unexpected ')'"), "{e}");
    // Circular definitions: where the cycle's first member is defined, with the cycle.
    let e = error("a=b+1\nb=2*a\nx'=a\n");
    assert_eq!((e.line, e.col), (1, 1));
    assert!(e.reason.contains("circular definition: a -> b -> a"), "{e}");
    let e = error("f(u)=g(u)\ng(u)=f(u)\nx'=f(x)\n");
    assert_eq!(e.line, 2);
    assert!(e.reason.contains("circular definition: f -> g -> f"), "{e}");
    let e = error("par a=1/0\nx'=a\n");
    assert_eq!((e.line, e.col), (1, 5));
    assert!(e.reason.contains("division by zero"), "{e}");
    // Arrays are read (see `arrays_are_written_out`); a malformed one is refused.
    let e = error("x[1..3][1..3]'=1\n");
    assert!(e.reason.contains("arrays"), "{e}");
    let e = error("table w w.tab\nx'=1\n");
    assert!(
        e.reason.contains("tables are not supported") && e.line == 1,
        "{e}"
    );
    let e = error("x'=delay(x,1)\n");
    assert!(e.reason.contains("delay"), "{e}");
    let e = error("par a=1\npar a=2\nx'=a\n");
    assert!(e.reason.contains("defined twice") && e.line == 2, "{e}");
    let e = error("par a=1\n");
    assert!(e.reason.contains("no differential equation"), "{e}");
    assert!(error("x'=exp(x,1)\n").reason.contains("takes 1"));
    assert_eq!(error("x'=1 $ 2\n").col, 6);
    // The message reads file:line:col.
    assert!(error("x'=q\n").to_string().starts_with("bad.ode:1:4: "));
}

#[test]
fn keywords_count_by_first_letter_and_names_ignore_case() {
    let text = "PARAMETER Alpha=2\nNUMBER k=3\nx'=ALPHA*x+K\nINITIAL X=1\naux y2=x*2\nd\nx'=oops\n";
    let m = OdeModel::parse(text, "k.ode", "k").unwrap();
    assert_eq!(m.init, [1.0]);
    let mut d = [0.0];
    m.rhs(&m.params.values(), 0.0, &[1.0], &mut d);
    assert_eq!(d[0], 5.0);
}

/// Random token soup never panics the reader (a quick stand-in for the cargo-fuzz target the
/// issue asks for): 20,000 files of up to 6 lines from a grammar-flavoured alphabet.
#[test]
fn random_input_never_panics() {
    let pieces = [
        "x", "y", "v", "'", "=", "(", ")", "0", "1.5", "e", "-", "+", "*", "/", "^", "**", ",",
        " ", "par ", "init ", "aux ", "number ", "d", "if(", ")then(", ")else(", "exp(", "min(",
        "f(", "dx/dt", "#", "\\\n", "@ ", "[", "table ", "<", ">=", "&", "|", "t", "pi", "1e9",
        "1e-400", "0/0", "heav(", "\n", "\n", "done",
    ];
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..20_000 {
        let n = 1 + (next() % 24) as usize;
        let text: String = (0..n)
            .map(|_| pieces[(next() % pieces.len() as u64) as usize])
            .collect();
        if let Ok(m) = OdeModel::parse(&text, "fuzz.ode", "fuzz") {
            // Whatever parses also evaluates without panicking.
            let mut dy = vec![0.0; m.vars.len()];
            m.rhs(&m.params.values(), 0.5, &m.init.clone(), &mut dy);
            let mut dz = vec![0.0; m.vars.len()];
            m.rhs_f64(
                &m.params.values(),
                0.5,
                &m.init.clone(),
                &mut dz,
                &mut vec![],
            );
            for (a, b) in dy.iter().zip(&dz) {
                assert!(
                    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
                    "{text:?}"
                );
            }
        }
    }
}

/// Files that would blow up are refused quickly, with a position: found by the fuzz target
/// (tests/fuzz), which ran out of memory on a recursive function called twice in its own body
/// before fixed quantities' names were read once per function.
#[test]
fn files_that_would_blow_up_are_refused() {
    let started = std::time::Instant::now();
    // A recursive function referring to itself twice (the fuzzer's out-of-memory input, cut).
    let e = error("h(u)=sin(u)+h(u-1)+h(u+1)\na=h(x)\nx'=a\n");
    assert!(e.reason.contains("circular definition"), "{e}");
    // Exponential inlining: each level doubles the expression.
    let mut text = String::from("f0(x)=x*x\n");
    for k in 1..40 {
        text.push_str(&format!("f{k}(x)=f{j}(x)+f{j}(x)\n", j = k - 1));
    }
    text.push_str("y'=f39(y)\n");
    let e = error(&text);
    assert!(e.reason.contains("too large"), "{e}");
    assert_eq!((e.line, e.col), (41, 4), "{e}");
    // Brackets nested deeper than the parser allows.
    let deep = format!("x'={}x{}\n", "(".repeat(300), ")".repeat(300));
    let e = error(&deep);
    assert!(e.reason.contains("nested more than"), "{e}");
    assert_eq!(e.line, 1);
    assert!(
        started.elapsed().as_secs() < 5,
        "took {:?}",
        started.elapsed()
    );
    // A long flat sum is fine.
    let long = format!("x'=-x{}\n", "+x*0.001".repeat(400));
    let m = OdeModel::parse(&long, "long.ode", "long").unwrap();
    let mut dy = [0.0];
    m.rhs(&m.params.values(), 0.0, &[1.0], &mut dy);
    assert!((dy[0] - (-1.0 + 0.4)).abs() < 1e-12, "{}", dy[0]);
}

/// XPPAUT's other functions and name forms, as its example files use them: atan2, mod, the
/// inverse trigonometric functions, flr and ceil; dots in names; a parameter without a value
/// (0); `set` and `only` lines ignored with a note.
#[test]
fn more_of_xppauts_functions_and_forms() {
    let text = "par a, b=2\nset fast {b=3}\nonly x\naux p.e.=x*b\n\
                x'=atan2(1,-1)+mod(-7,3)+asin(0.5)+acos(0.5)+atan(1)+flr(-1.5)+ceil(1.2)+a\n";
    let m = OdeModel::parse(text, "f.ode", "f").unwrap();
    assert_eq!(m.params.values(), [0.0, 2.0]);
    assert_eq!(m.aux[0].0, "p.e.");
    assert_eq!(m.notes.len(), 2, "{:?}", m.notes);
    let mut dy = [0.0];
    m.rhs(&m.params.values(), 0.0, &[0.0], &mut dy);
    let pi = std::f64::consts::PI;
    // atan2(1, -1) = 3 pi / 4; mod(-7, 3) = 2 (the sign of the divisor, as XPPAUT's);
    // asin + acos = pi / 2; atan(1) = pi / 4; flr(-1.5) = -2; ceil(1.2) = 2.
    let want = 0.75 * pi + 2.0 + 0.5 * pi + 0.25 * pi - 2.0 + 2.0;
    assert!((dy[0] - want).abs() < 1e-14, "{} vs {want}", dy[0]);
    // Derivatives of atan2 and mod through dual numbers, against the formulas.
    let m = OdeModel::parse("x'=atan2(x,2)+mod(3*x,2)\n", "g.ode", "g").unwrap();
    let x = 0.7;
    let mut d = [Dual64::from(0.0)];
    m.rhs(&[], Dual64::from(0.0), &[Dual64::new(x, 1.0)], &mut d);
    let want = 2.0 / (4.0 + x * x) + 3.0;
    assert!((d[0].eps - want).abs() < 1e-14, "{} vs {want}", d[0].eps);
    let mut f = [0.0];
    let mut fast = [0.0];
    m.rhs(&[], 0.0, &[x], &mut f);
    m.rhs_f64(&[], 0.0, &[x], &mut fast, &mut Vec::new());
    assert_eq!(f[0].to_bits(), fast[0].to_bits());
}

/// What XPPAUT's example files use and this reader does not: each refused by name, with its
/// line (the braces of `global`, `int{…}` and `export`, algebraic equations, maps).
#[test]
fn foreign_constructs_are_refused_by_name() {
    for (text, line, want) in [
        // Global flags are read (see `global_flags_reset_the_state`), except what resets a
        // parameter or stops the run.
        ("par a=1\nglobal 1 x-2 {a=0}\nx'=1\n", 2, "global flags"),
        ("global -1 {x-.2} {arret=1}\nx'=1\n", 1, "global flags"),
        ("x'=-x+int{0#x}\n", 1, "int{…} integrals"),
        ("export {a,b} {c}\nx'=1\n", 1, "export"),
        ("x'=y\n0=x+y\n", 2, "algebraic equations"),
        ("x(t+1)=x/2\n", 1, "difference equations"),
    ] {
        let e = error(text);
        assert!(e.reason.contains(want), "{text:?}: {e}");
        assert_eq!(e.line, line, "{text:?}: {e}");
    }
}

fn model(text: &str) -> OdeModel {
    OdeModel::parse(text, "t.ode", "t").unwrap_or_else(|e| panic!("{e}"))
}

fn rhs_at(m: &OdeModel, t: f64, y: &[f64]) -> Vec<f64> {
    let mut dy = vec![0.0; y.len()];
    m.rhs(&m.params.values(), t, y, &mut dy);
    // The closure trees give the same numbers, bit for bit.
    let mut fast = vec![0.0; y.len()];
    m.rhs_f64(&m.params.values(), t, y, &mut fast, &mut vec![]);
    for (a, b) in dy.iter().zip(&fast) {
        assert!(a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()));
    }
    dy
}

/// XPPAUT's arrays: a line that declares `x[a..b]` is written out for each j, `x[j-1]` is a
/// name and `[j]` a number; a constant index works on any line; XPPAUT's `… x[j` at a line's
/// end is closed there (with a note); indices below 0 are refused with their position.
#[test]
fn arrays_are_written_out() {
    let m = model("x0'=0\nx[1..3]'=-x[j]+[j]*x[j-1]\nx4'=x[3]\ninit x[1..3]=2\naux s[1..2]=x[j\n");
    assert_eq!(m.vars, ["x0", "x1", "x2", "x3", "x4"]);
    assert_eq!(m.init, [0.0, 2.0, 2.0, 2.0, 0.0]);
    assert_eq!(
        m.aux.iter().map(|a| a.0.as_str()).collect::<Vec<_>>(),
        ["s1", "s2"]
    );
    assert!(
        m.notes.iter().any(|n| n.contains("line 5: '[' closed")),
        "{:?}",
        m.notes
    );
    // x1' = -2 + 1*1, x2' = -3 + 2*2, x3' = -4 + 3*3, x4' = x3.
    assert_eq!(
        rhs_at(&m, 0.0, &[1.0, 2.0, 3.0, 4.0, 5.0]),
        [0.0, -1.0, 1.0, 5.0, 4.0]
    );
    let e = error("x[0..2]'=x[j-1]\n");
    assert_eq!((e.line, e.col), (1, 11), "{e}");
    assert!(e.reason.contains("index -1 of 'x' at j = 0"), "{e}");
    let e = error("y'=x[j]\n");
    assert!(e.reason.contains("undefined name 'j'"), "{e}");
    let e = error("x[1..0]'=1\n");
    assert!(e.reason.contains("need a <= b"), "{e}");
}

/// `sum(lo, hi)of(…)` with `i'` its index, and `shift(x, k)`, the variable k places after x
/// in the file's order (XPPAUT's chemotaxis and ring examples use them together).
#[test]
fn sums_and_shifts_are_written_out() {
    let m = model("par a=2\nu[0..3]'=-u[j]+a*sum(0,3)of(shift(u0,i')*i')/4\nv'=shift(u1,2)\n");
    let y = [1.0, 2.0, 3.0, 4.0, 0.0];
    let s = (0.0 * 1.0 + 1.0 * 2.0 + 2.0 * 3.0 + 3.0 * 4.0) * 2.0 / 4.0;
    assert_eq!(
        rhs_at(&m, 0.0, &y),
        [s - 1.0, s - 2.0, s - 3.0, s - 4.0, 4.0]
    );
    let e = error("u[0..3]'=shift(u0,4)\n");
    assert!(
        e.reason
            .contains("shift(u0, 4) is outside the state variables"),
        "{e}"
    );
    assert_eq!(e.line, 1);
    let e = error("par n=3\nx'=sum(0,n)of(i')\n");
    assert!(e.reason.contains("must be a number") && e.line == 2, "{e}");
    let e = error("x'=i'\n");
    assert!(e.reason.contains("i' is the index of a sum"), "{e}");
}

/// Function tables interpolate linearly between their values and extend the end intervals,
/// as XPPAUT's lookup; their values follow the parameters the formula reads; the derivative
/// through a table is the interval's slope.
#[test]
fn tables_interpolate_as_xppaut() {
    let mut m = model("par a=1\ntable w % 3 0 2 a*t^2\nx'=w(x)\n");
    // Values 0, a, 4a at t = 0, 1, 2.
    for (x, want) in [(0.5, 0.5), (1.5, 2.5), (2.0, 4.0), (3.0, 7.0), (-1.0, -1.0)] {
        assert_eq!(rhs_at(&m, 0.0, &[x])[0], want, "w({x})");
    }
    let mut d = [Dual64::from(0.0)];
    m.rhs(
        &[Dual64::from(1.0)],
        Dual64::from(0.0),
        &[Dual64::new(1.5, 1.0)],
        &mut d,
    );
    assert_eq!(d[0].eps, 3.0);
    m.params.set("a", 2.0).unwrap();
    assert_eq!(rhs_at(&m, 0.0, &[1.5])[0], 5.0);
    let e = error("x'=1\ntable w % 3 0 2 x*t\ny'=w(1)\n");
    assert!(
        e.reason.contains("table w: its formula reads a state") && e.line == 2,
        "{e}"
    );
    let e = error("table w % 1 0 2 t\nx'=w(1)\n");
    assert!(e.reason.contains("need 2 to"), "{e}");
}

/// `conv` and `fconv` specials equal XPPAUT's evaluate_network (its loops written out here)
/// for each kind of end.
#[test]
fn conv_specials_match_xppaut() {
    let u = [0.3, -1.0, 2.0, 0.5, 1.5];
    let w = [1.0, 1.0, 3.0]; // 1 + t + t^2 at t = -1, 0, 1
    let n = 5i64;
    for (kind, name) in [(0, "even"), (1, "zero"), (2, "periodic")] {
        let text = format!(
            "table w % 3 -1 1 1+t+t^2\nspecial z=conv({name},5,1,w,u0)\nspecial f=fconv({name},5,1,w,u0,u0,g)\n\
             g(a,b)=a*b\nu[0..4]'=z([j])+10*f([j])\n"
        );
        let m = model(&text);
        let got = rhs_at(&m, 0.0, &u);
        for i in 0..n {
            let (mut z, mut f) = (0.0, 0.0);
            for j in -1..=1i64 {
                let k = match kind {
                    0 => {
                        let k = (i + j).abs();
                        if k >= 2 * n {
                            continue;
                        }
                        if k >= n { (2 * n - 2 - k).abs() } else { k }
                    }
                    1 if i + j < 0 || i + j >= n => continue,
                    1 => i + j,
                    _ => (2 * n + i + j) % n,
                };
                z += w[(j + 1) as usize] * u[k as usize];
                f += w[(j + 1) as usize] * u[k as usize] * u[i as usize];
            }
            assert!(
                (got[i as usize] - (z + 10.0 * f)).abs() < 1e-14,
                "{name} {i}"
            );
        }
    }
    let e = error("table w % 3 -1 1 t\nspecial z=conv(even,5,2,w,u0)\nu[0..4]'=z([j])\n");
    assert!(e.reason.contains("has 3 values") && e.line == 2, "{e}");
    let e = error("special z=sparse(5,1,w,c,u0)\nu'=1\n");
    assert!(e.reason.contains("only conv and fconv"), "{e}");
}

/// Global flags reset the state where the condition crosses zero, found by linear
/// interpolation within the step as XPPAUT does. An integrate-and-fire neuron v' = -v + 1.2,
/// reset from 1 to -0.5: it reaches 1 first at ln 6 and then every ln 8.5 (closed form).
/// Assignments are made in order. A model with flags has no smooth field.
#[test]
fn global_flags_reset_the_state() {
    let m = model("par i=1.2\nv'=-v+i\ny'=0\nglobal 1 v-1 {v=-.5; y=y+v}\n");
    assert!(m.has_flags());
    let (dt, mut t) = (0.01, 0.0);
    let mut y = vec![0.0, 0.0];
    let mut state = FlagState::default();
    let p = m.params.values();
    let mut resets = vec![];
    let mut sc = vec![];
    while t < 10.0 - 1e-9 {
        let before = y[0];
        m.step_with_flags(&mut state, t, &mut y, 0.0, dt, |t, y, h| {
            // One RK4 step.
            let f = |t: f64, y: &[f64], sc: &mut Vec<f64>| {
                let mut d = vec![0.0; 2];
                m.rhs_f64(&p, t, y, &mut d, sc);
                d
            };
            let k1 = f(t, y, &mut sc);
            let y2: Vec<f64> = (0..2).map(|k| y[k] + 0.5 * h * k1[k]).collect();
            let k2 = f(t + 0.5 * h, &y2, &mut sc);
            let y3: Vec<f64> = (0..2).map(|k| y[k] + 0.5 * h * k2[k]).collect();
            let k3 = f(t + 0.5 * h, &y3, &mut sc);
            let y4: Vec<f64> = (0..2).map(|k| y[k] + h * k3[k]).collect();
            let k4 = f(t + h, &y4, &mut sc);
            for k in 0..2 {
                y[k] += h / 6.0 * (k1[k] + 2.0 * k2[k] + 2.0 * k3[k] + k4[k]);
            }
        });
        t += dt;
        if y[0] < before {
            // v after the reset is -0.5 + 1.7 (1 - e^-(t - t*)): the reset time t*.
            resets.push(t + (1.0 - (y[0] + 0.5) / 1.7).ln());
        }
    }
    let want = [
        6f64.ln(),
        6f64.ln() + 8.5f64.ln(),
        6f64.ln() + 2.0 * 8.5f64.ln(),
    ];
    assert_eq!(resets.len(), 4, "{resets:?}");
    for (k, (r, w)) in resets.iter().zip(want).enumerate() {
        // Linear interpolation within a step misplaces a crossing by about dt^2 |v''| / (8 v')
        // = 1.25e-5 here, and each reset carries the shifts before it.
        assert!((r - w).abs() < 1.3e-5 * (k + 1) as f64, "{r} vs {w}");
    }
    // y = y + v after v = -0.5: each reset adds -0.5.
    assert!((y[1] + 2.0).abs() < 1e-12, "{}", y[1]);
    let e = crate::model::Field::ode(&m).unwrap_err().to_string();
    assert!(e.contains("global flags"), "{e}");
}

/// XPPAUT's derived parameters `!name=expr` are read as fixed quantities, with a note: here
/// x' = -x + b with b = 3a holds x = 3a at rest, and follows a change of a.
#[test]
fn derived_parameters_are_fixed_quantities() {
    let m = model("par a=2\n !b=a*3\nx'=-x+b\n");
    assert!(
        m.notes
            .iter()
            .any(|n| n.contains("line 2: derived parameters")),
        "{:?}",
        m.notes
    );
    let mut p = m.params.values();
    let (mut d, mut sc) = (vec![0.0], vec![]);
    m.rhs_f64(&p, 0.0, &[6.0], &mut d, &mut sc);
    assert_eq!(d[0], 0.0);
    p[m.params.index("a").unwrap()] = 5.0;
    m.rhs_f64(&p, 0.0, &[6.0], &mut d, &mut sc);
    assert_eq!(d[0], 9.0);
}

/// A condition that lands exactly on zero at a step's end fires once in that step, whatever
/// the sign; the step that leaves zero does not fire again.
#[test]
fn a_condition_exactly_zero_at_a_step_end_fires_once() {
    use super::flags::crosses;
    for sign in [1, 0] {
        assert!(
            crosses(sign, -0.01, 0.0),
            "sign {sign}: reaching 0 from below"
        );
        assert!(!crosses(sign, 0.0, 0.01), "sign {sign}: leaving 0 upwards");
    }
    for sign in [-1, 0] {
        assert!(
            crosses(sign, 0.01, 0.0),
            "sign {sign}: reaching 0 from above"
        );
        assert!(
            !crosses(sign, 0.0, -0.01),
            "sign {sign}: leaving 0 downwards"
        );
    }
    assert!(!crosses(1, 0.01, 0.0) && !crosses(-1, -0.01, 0.0));
    // `global 1 {t-5}` on a clock of exact steps: t reaches 5.0 at a step's end and the
    // flag fires once.
    let m = model("c'=0\nglobal 1 {t-5} {c=c+1}\n");
    let (dt, mut y, mut state) = (0.25, vec![0.0], FlagState::default());
    for k in 0..40 {
        let t = k as f64 * dt;
        m.step_with_flags(&mut state, t, &mut y, 0.0, dt, |_, _, _| {});
    }
    assert_eq!(y[0], 1.0);
}

/// Algebraic equations `0 = g` are solved at every evaluation; their derivatives follow the
/// implicit function theorem. x' = y with y + y^3 = -x: at x = 2, y = -1, and
/// dy/dx = -1/(1 + 3y^2) = -1/4. A second root is reached as XPPAUT reaches it, from the
/// last solution (dae_ex3: 0 = v(1 - v^2) - w, past the fold at w = 2/(3√3)).
#[test]
fn algebraic_equations_are_solved() {
    let m = model("x'=y\n0=x+y+y^3\nsolv y=0\naux yy=y\n");
    assert_eq!(m.vars, ["x"]);
    assert!((rhs_at(&m, 0.0, &[2.0])[0] + 1.0).abs() < 1e-14);
    let mut d = [Dual64::from(0.0)];
    m.rhs(&[], Dual64::from(0.0), &[Dual64::new(2.0, 1.0)], &mut d);
    assert!((d[0].eps + 0.25).abs() < 1e-14, "{}", d[0].eps);
    let m = model("w'=v_\n0= v_*(1-v_*v_)-w\nsolv v_=1\n");
    let root = |w: f64, slots: &mut Vec<f64>| {
        let mut d = [0.0];
        m.rhs_f64(&[], 0.0, &[w], &mut d, slots);
        d[0]
    };
    let mut slots = vec![];
    let upper = root(0.3, &mut slots);
    assert!(upper > 0.5 && (upper * (1.0 - upper * upper) - 0.3).abs() < 1e-12);
    let lower = root(0.39, &mut slots);
    assert!(lower < -1.0 && (lower * (1.0 - lower * lower) - 0.39).abs() < 1e-12);
    // Back at w = 0.3 it stays on the lower branch (warm start); fresh buffers start from
    // the guess, on the upper one.
    let again = root(0.3, &mut slots);
    assert!(again < -1.0 && (again * (1.0 - again * again) - 0.3).abs() < 1e-12);
    assert_eq!(root(0.3, &mut vec![]), upper);
}

/// Integrals with exponential-polynomial kernels become ODEs. XPPAUT's voltex1/voltex2
/// (solution u = sin t) and tstvol2 (f1 = 1, f2 = t) are integrated by RK4 with the squared
/// error accumulated as a state; angela's integral equals the hand-written chain.
#[test]
fn volterra_integrals_become_odes() {
    let rk4 = |m: &OdeModel, t_end: f64| -> Vec<f64> {
        let p = m.params.values();
        let n = m.vars.len();
        let (h, mut t, mut y) = (0.01, 0.0, m.init.clone());
        let f = |t: f64, y: &[f64]| rhs_at(m, t, y);
        while t < t_end - 1e-9 {
            let k1 = f(t, &y);
            let y2: Vec<f64> = (0..n).map(|k| y[k] + 0.5 * h * k1[k]).collect();
            let k2 = f(t + 0.5 * h, &y2);
            let y3: Vec<f64> = (0..n).map(|k| y[k] + 0.5 * h * k2[k]).collect();
            let k3 = f(t + 0.5 * h, &y3);
            let y4: Vec<f64> = (0..n).map(|k| y[k] + h * k3[k]).collect();
            let k4 = f(t + h, &y4);
            for k in 0..n {
                y[k] += h / 6.0 * (k1[k] + 2.0 * k2[k] + 2.0 * k3[k] + k4[k]);
            }
            t += h;
        }
        let _ = p;
        y
    };
    let g = "sin(t)+.5*cos(t)-.5*t*exp(-t)-.5*exp(-t)";
    for int in ["int{(t-t')*exp(t'-t)*u}", "int{t*exp(-t)#u}"] {
        let m = model(&format!("u(t)={g}+{int}\nerr'=(u-sin(t))^2\n"));
        let y = rk4(&m, 5.0);
        // RK4's error at h = 0.01 leaves u within about 1e-6 of sin t; a wrong kernel would
        // leave it O(1) away.
        let e = y[m.vars.iter().position(|v| v == "err").unwrap()];
        assert!(e < 1e-10, "{int}: {e}");
    }
    let m = model(
        "f1(0)=1\nf1(t)=exp(-t)-t^2/2 + int{exp(-t)#f1*f1}+int{f2}\n\
         f2(t)=t-t^4/24+int{t#f2*f2/(1+f1*f1)}\nerr'=(f1-1)^2+(f2-t)^2\n",
    );
    assert!(
        m.notes
            .iter()
            .any(|n| n.contains("initial value of f1 ignored")),
        "{:?}",
        m.notes
    );
    let e = rk4(&m, 1.0)[0];
    assert!(e < 1e-10, "{e}");
    let a = model(
        "k(t)=5*exp(-2*t)-4*exp(-t)\nf(u,v)=v+u*(1-u^2-v^2)\nu'=f(u,int{k(t)#u})\ninit u=.2\n",
    );
    let b = model("u'=v+u*(1-u^2-v^2)\nv=5*j2-4*j1\nj2'=-2*j2+u\nj1'=-j1+u\ninit u=.2\n");
    let (ya, yb) = (rk4(&a, 3.0), rk4(&b, 3.0));
    assert!((ya[0] - yb[0]).abs() < 1e-12, "{} vs {}", ya[0], yb[0]);
    let e = error("par a=1\nx'=int{exp(-a*t)#x}\n");
    assert!(
        e.reason.contains("kernel is not supported") && e.line == 2,
        "{e}"
    );
    let e = error("x'=int[.5]{exp(-t)#x}\n");
    assert!(e.reason.contains("weakly singular"), "{e}");
}

/// Whether `t` reaches the right-hand side is decided at the parameter values: a forcing
/// term multiplied by a parameter that is 0 (or switched off by an if on one) does not count;
/// set the parameter and it does. The current parameter counts as free (a stimulus changes
/// it).
#[test]
fn time_dependence_is_decided_at_the_parameter_values() {
    let mut m = model("par al=0, w=2\ns(t)=al*sin(w*t)\nq=s(t)/(1+t^2)\nx'=-x+q\n");
    assert!(!m.reads_time());
    m.params.set("al", 0.5).unwrap();
    assert!(m.reads_time());
    let m = model("par c=0\nx'=-x+if(c>0)then(sin(t))else(0)+heav(t-c)*c\n");
    assert!(!m.reads_time());
    let m = model("par iapp=0\nx'=-x+iapp*sin(t)\n");
    assert!(m.reads_time());
    assert!(!m.reads_time_with(&m.params.values(), &[]));
    let m = model("par a=1\nx'=-x+a*t\n");
    assert!(m.reads_time() && !m.reads_time_with(&[0.0], &[]));
    assert!(m.reads_time_with(&[0.0], &[0]));
}

/// What only XPPAUT's interface, AUTO or a boundary-value problem reads is noted, by line;
/// AUTO's settings are kept in the options.
#[test]
fn boundary_conditions_and_quoted_comments_are_noted() {
    let m = model(
        "x'=y\ny'=-x\nb x-1\nbndry y'\n\" a tutorial line\n\" another\n@ parmin=-1,parmax=2,ntst=50,xlo=0\n",
    );
    assert!(m.notes.iter().any(|n| n == "lines 3-4: boundary conditions ignored (they pose a boundary-value problem; simulation and equilibria do not use them)"), "{:?}", m.notes);
    assert!(
        m.notes
            .iter()
            .any(|n| n.starts_with("lines 5-6: XPPAUT's quoted comments"))
    );
    assert!(m.notes.iter().any(|n| n.contains("option xlo ignored")));
    let kept: Vec<(&str, &str)> = m
        .options
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(kept, [("parmin", "-1"), ("parmax", "2"), ("ntst", "50")]);
}

/// No input exhausts the stack: a line of 20,000 terms (and 200,000) loads and evaluates, a
/// chain of 20,000 fixed quantities loads, and a chain of 20,000 functions each calling the
/// last is refused by position. Run on a thread with a 1 MiB stack (half a spawned thread's
/// default).
#[test]
fn long_lines_and_deep_chains_do_not_overflow_the_stack() {
    let run = || {
        for n in [20_000usize, 200_000] {
            let text = format!("x'=-x{}\n", "+x*0.001".repeat(n));
            let m = OdeModel::parse(&text, "long.ode", "long").unwrap();
            let dy = rhs_at(&m, 0.0, &[1.0]);
            assert!(
                (dy[0] - (-1.0 + 0.001 * n as f64)).abs() < 1e-6 * n as f64,
                "{}",
                dy[0]
            );
        }
        let mut text = String::from("a0=x\n");
        for k in 1..20_000 {
            text.push_str(&format!("a{k}=a{}+1\n", k - 1));
        }
        text.push_str("x'=a19999-x\n");
        let m = OdeModel::parse(&text, "chain.ode", "chain").unwrap();
        assert_eq!(rhs_at(&m, 0.0, &[1.0])[0], 19_999.0);
        let mut text = String::from("f0(x)=sin(x)\n");
        for k in 1..20_000 {
            text.push_str(&format!("f{k}(x)=f{}(x)*2\n", k - 1));
        }
        text.push_str("y'=f19999(y)\n");
        let e = OdeModel::parse(&text, "deep.ode", "deep").unwrap_err();
        assert!(
            e.reason.contains("nested more than 300 deep") && e.line > 1,
            "{e}"
        );
        // Arguments that grow with each call: f_k(x) = f_{k-1}(sin(x)).
        let mut text = String::from("f0(x)=sin(x)\n");
        for k in 1..20_000 {
            text.push_str(&format!("f{k}(x)=f{}(sin(x))\n", k - 1));
        }
        text.push_str("y'=f19999(y)\n");
        let e = OdeModel::parse(&text, "deep.ode", "deep").unwrap_err();
        assert!(e.reason.contains("nested more than 300 deep"), "{e}");
        let deep = format!("x'={}x{}\n", "-(".repeat(5000), ")".repeat(5000));
        let e = OdeModel::parse(&deep, "deep.ode", "deep").unwrap_err();
        assert!(e.reason.contains("nested more than"), "{e}");
    };
    std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(run)
        .unwrap()
        .join()
        .unwrap();
}
