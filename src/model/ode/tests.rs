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
    let e = error("x[1..3]'=1\n");
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
        ("x'=1\nglobal 1 x-2 {x=0}\n", 2, "global flags"),
        ("global -1 {x-.2} {x=0}\nx'=1\n", 1, "global flags"),
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
