//! XPPAUT `.ode` model files: the common subset, compiled once to bytecode that evaluates on
//! plain and dual numbers.
//!
//! Read: `par`/`param`/`p` (`name=value` lists, by commas or spaces; values may be constant
//! expressions), `init`/`i` and `name(0)=value`, ODEs as `x'=` or `dx/dt=`, fixed quantities
//! `name=expr`, user functions `f(a,b)=expr`, `aux`, `number`, arrays (`x[1..n]' = … x[j-1]
//! …`, written out when read), `sum(lo,hi)of(…i'…)`, `shift(x,k)`, function tables (`table w
//! % n lo hi formula`), `conv`/`fconv` specials, global flags (state resets; simulation
//! only), `#` comments, `\` line continuations, `@` options (the run's and AUTO's are kept,
//! the rest ignored with a note), `done`. As in XPPAUT only a keyword's first letter counts
//! and names are case-insensitive. Ignored with a note: boundary conditions, quoted comment
//! lines, `set` and `only`. Refused with the line named: file tables, `markov`, `wiener`,
//! `export`, other specials, Volterra equations, algebraic equations, maps, delays and random
//! functions.
//!
//! Parameters keep the unit-free names of the file with an open range (XPPAUT has none).

mod arrays;
mod autonomy;
mod compile;
mod desugar;
pub mod expr;
mod flags;
mod jet;
pub mod lanes;
mod reader;
mod tables;
mod volterra;

use crate::model::params::{Param, ParamSet};
use crate::numerics::Scalar;
pub use autonomy::Known;
use compile::{NameReader, Scope, compile};
use expr::{Ast, Code, ExprError, Pos, Table, Tok, parse};
use flags::Flag;
use std::collections::HashMap;

pub use crate::error::OdeError;

/// A model read from an `.ode` file.
#[derive(Debug, Clone, PartialEq)]
pub struct OdeModel {
    /// The model's name as the caller gave it ([`crate::Model::from_file`] uses the file's
    /// stem: `hh` for `hh.ode`).
    pub name: String,
    /// The file's `par` declarations, with their values as written (no units: an `.ode` model's
    /// numbers carry none).
    pub params: ParamSet,
    /// State variables, in the order their equations appear.
    pub vars: Vec<String>,
    /// Initial values (0 unless given).
    pub init: Vec<f64>,
    rhs: Vec<Code>,
    /// Fixed quantities in evaluation order; slot `n_params + n_vars + 1 + k`.
    fixed: Vec<Code>,
    /// Auxiliary outputs.
    pub aux: Vec<(String, Code)>,
    /// `@` options kept: the run's (`total`, `dt`, `meth`) and AUTO's (`parmin`, `parmax`,
    /// `autoxmin`, `autoxmax`, `ntst`, `nmax`, `ds`, `dsmin`, `dsmax`), lower-cased, in the
    /// file's order. Boxed: read rarely, and it keeps [`crate::Model`]'s variants of
    /// similar size.
    pub options: Box<Vec<(String, String)>>,
    /// What was ignored, for the user.
    pub notes: Vec<String>,
    /// The units of its numbers: none for an `.ode` file ([`crate::model::Units::FILE`]); the toolkit's
    /// for a NeuroML2 cell compiled through the engine ([`crate::model::neuroml`]).
    pub units: &'static crate::model::Units,
    /// Every variable after the first is a gate, `x' = A(V) - B(V) x` (a NeuroML2 cell
    /// compiled through the engine): its steady state at any V is known
    /// ([`OdeModel::gates_at`]). False for an `.ode` file, whose variables are the author's.
    pub gated: bool,
    stack: usize,
    /// Index of the current parameter (found once by name: it is read at every evaluation).
    current: Option<usize>,
    /// The fixed quantities and right-hand sides as `f64` closure trees (simulation).
    fast: std::sync::Arc<FastRhs>,
    /// Global flags (state resets), in the file's order.
    flags: Vec<Flag>,
    /// Algebraic equations and the variables they solve for (a differential-algebraic
    /// system); their slots follow `t`.
    alg: Algebraic,
    /// How [`OdeModel::jacobian_into`] runs on jets (the directions each expression varies
    /// in); none where jets do not apply: algebraic variables or a function table.
    jets: Option<Box<jet::Plan>>,
}

/// The most Newton iterations for the algebraic variables at one evaluation (XPPAUT's
/// examples allow 1000).
const ALG_MAX_ITER: usize = 1000;

/// How many states [`OdeModel::jacobians_into`] takes through the bytecode at once: four
/// (the collocation's default number of points per interval), so a dispatch serves four
/// Jacobians and four independent chains of operations overlap.
pub const JET_LANES: usize = 4;

/// XPPAUT's algebraic equations `0 = g(…)` with `solv y = guess`: at every evaluation the
/// variables `y` are solved for by Newton's method (from the last solution when the same
/// buffers are used again, as XPPAUT does, else from the guesses) before the fixed quantities
/// and right-hand sides read them; on dual numbers their derivatives follow from the implicit
/// function theorem.
#[derive(Debug, Clone, PartialEq, Default)]
struct Algebraic {
    names: Vec<String>,
    guess: Vec<f64>,
    residuals: Vec<Code>,
}

/// `f64` closure trees of an [`OdeModel`]'s fixed quantities and equations.
struct FastRhs {
    fixed: Vec<expr::F64Fn>,
    rhs: Vec<expr::F64Fn>,
}

impl std::fmt::Debug for FastRhs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "FastRhs({} fixed, {} equations)",
            self.fixed.len(),
            self.rhs.len()
        )
    }
}

impl PartialEq for FastRhs {
    /// Built from the bytecode, which [`OdeModel`] compares.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// Fixed quantities that are computed together, in consecutive slots: one quantity, or all
/// the values of a table (a lookup reads them as a block).
struct Unit {
    members: Vec<(String, Ast, Pos)>,
    /// The table the members hold, if they do.
    table: Option<(String, f64, f64)>,
}

/// The most state variables an `.ode` file may have (its hidden integral states included).
/// The analyses' linear algebra grows with the cube of the count: `rest` took 10 s on 200
/// variables and passed two minutes on 1000; `simulate` on 20,000 took 2.5 GB.
pub const MAX_VARIABLES: usize = 200;

impl OdeModel {
    /// Parse an `.ode` file's text; `file` names it in errors. The first variable is the
    /// voltage-like one (spikes, plots).
    pub fn parse(text: &str, file: &str, name: &str) -> Result<OdeModel, OdeError> {
        OdeModel::parse_with_v(text, file, name, None)
    }

    /// [`OdeModel::parse`] with the voltage-like variable chosen by name: it is moved to the
    /// front of the state (the toolkit detects spikes and plots on the first variable).
    pub fn parse_with_v(
        text: &str,
        file: &str,
        name: &str,
        v_var: Option<&str>,
    ) -> Result<OdeModel, OdeError> {
        let err = |pos: Pos, reason: String| OdeError {
            file: file.into(),
            line: pos.line,
            col: pos.col,
            reason,
        };
        let from = |e: ExprError| err(e.pos, e.reason);
        let reader::Source {
            params,
            numbers,
            inits,
            mut odes,
            fixed,
            mut aux,
            mut functions,
            tables,
            specials,
            flags,
            algebraic,
            solve,
            mut integrals,
            volterra,
            options,
            mut notes,
        } = reader::read(text).map_err(from)?;
        // The file's order of state variables and fixed quantities (XPPAUT's layout, which
        // shift and the specials count in), before --v-var moves a variable.
        let lists: [Vec<String>; 2] = [
            odes.iter().map(|o| o.0.clone()).collect(),
            fixed.iter().map(|f| f.0.clone()).collect(),
        ];
        let mut order: HashMap<String, (usize, usize)> = HashMap::new();
        for (l, list) in lists.iter().enumerate() {
            for (k, n) in list.iter().enumerate() {
                order.entry(n.clone()).or_insert((l, k));
            }
        }
        if let Some(v) = v_var {
            let v = v.to_lowercase();
            let k = odes.iter().position(|o| o.0 == v).ok_or_else(|| {
                let names: Vec<&str> = odes.iter().map(|o| o.0.as_str()).collect();
                err(
                    Pos { line: 1, col: 1 },
                    format!(
                        "v_var = '{v}' is not a variable of the file (variables: {})",
                        names.join(", ")
                    ),
                )
            })?;
            let chosen = odes.remove(k);
            odes.insert(0, chosen);
        }
        // Sums, shifts and special values written out.
        let special_len: HashMap<String, usize> =
            specials.iter().map(|s| (s.name.clone(), s.n)).collect();
        let names = desugar::Names::new(
            order.clone(),
            [&lists[0], &lists[1]],
            &special_len,
            &numbers,
        );
        // Integrals: hidden states and the fixed quantities `int#k` they sum to.
        for d in &mut integrals {
            if let Some(k) = &mut d.kernel {
                *k = desugar::desugar(k, &names).map_err(from)?;
            }
            d.body = desugar::desugar(&d.body, &names).map_err(from)?;
        }
        let (integral_states, integral_values) =
            volterra::expand(&integrals, &functions).map_err(from)?;
        odes.extend(integral_states);
        if odes.len() > MAX_VARIABLES {
            return Err(err(
                Pos { line: 1, col: 1 },
                format!(
                    "{} differential equations; at most {MAX_VARIABLES} are allowed",
                    odes.len()
                ),
            ));
        }
        if odes.is_empty() {
            return Err(err(
                Pos { line: 1, col: 1 },
                "no differential equation (x' = … or dx/dt = …)".into(),
            ));
        }
        // Hidden fixed quantities: the values of tables (`w#k`) and of specials (`z#k`).
        let table_len: HashMap<String, usize> =
            tables.iter().map(|t| (t.name.clone(), t.n)).collect();
        let shift = |root: &str, k: usize| {
            order
                .get(root)
                .and_then(|&(l, i)| lists[l].get(i + k).cloned())
        };
        let mut units: Vec<Unit> = numbers
            .iter()
            .map(|(n, v, p)| Unit {
                members: vec![(n.clone(), Ast::Num(*v), *p)],
                table: None,
            })
            .chain(fixed.into_iter().chain(integral_values).map(|f| Unit {
                members: vec![f],
                table: None,
            }))
            .collect();
        for t in &tables {
            units.push(Unit {
                members: tables::table_values(t),
                table: Some((t.name.clone(), t.lo, t.hi)),
            });
        }
        for s in &specials {
            let values = tables::special_values(s, &table_len, &functions, &shift).map_err(from)?;
            units.extend(values.into_iter().map(|v| Unit {
                members: vec![v],
                table: None,
            }));
        }
        let plain = |a: &mut Ast| -> Result<(), OdeError> {
            *a = desugar::desugar(a, &names).map_err(from)?;
            Ok(())
        };
        for o in &mut odes {
            plain(&mut o.1)?;
        }
        for u in &mut units {
            for m in &mut u.members {
                plain(&mut m.1)?;
            }
        }
        for a in &mut aux {
            plain(&mut a.1)?;
        }
        for f in functions.values_mut() {
            plain(&mut f.1)?;
        }
        let mut flag_defs = flags;
        for f in &mut flag_defs {
            plain(&mut f.cond)?;
            for e in &mut f.events {
                plain(&mut e.1)?;
            }
        }
        let mut algebraic = algebraic;
        for a in &mut algebraic {
            plain(&mut a.0)?;
        }
        if algebraic.len() != solve.len() {
            let at = algebraic.first().map_or_else(|| solve[0].2, |a| a.1);
            return Err(err(
                at,
                format!(
                    "algebraic equations (0 = …) need as many variables to solve for (solv y=guess): {} equation(s), {} variable(s)",
                    algebraic.len(),
                    solve.len()
                ),
            ));
        }
        // Names: parameters, variables, t, numbers, fixed quantities, tables and specials;
        // each once.
        let vars: Vec<String> = odes.iter().map(|o| o.0.clone()).collect();
        let mut seen: HashMap<String, Pos> = HashMap::new();
        let all = params
            .iter()
            .map(|p| (&p.0, p.2))
            .chain(odes.iter().map(|o| (&o.0, o.2)))
            .chain(solve.iter().map(|a| (&a.0, a.2)))
            .chain(
                units
                    .iter()
                    .filter(|u| u.table.is_none())
                    .flat_map(|u| u.members.iter().map(|m| (&m.0, m.2))),
            )
            .chain(tables.iter().map(|t| (&t.name, t.pos)))
            .chain(specials.iter().map(|s| (&s.name, s.pos)));
        for (n, p) in all {
            if n == "t" || n == "pi" {
                return Err(err(p, format!("'{n}' is reserved")));
            }
            if let Some(first) = seen.insert(n.clone(), p) {
                return Err(err(
                    p,
                    format!("'{n}' is defined twice (first on line {})", first.line),
                ));
            }
        }
        for (n, p) in tables
            .iter()
            .map(|t| (&t.name, t.pos))
            .chain(specials.iter().map(|s| (&s.name, s.pos)))
        {
            if let Some((_, _, first)) = functions.get(n) {
                return Err(err(
                    p,
                    format!("'{n}' is defined twice (first on line {})", first.line),
                ));
            }
        }
        // Order the units so each follows what it reads; a cycle is an error.
        let table_names: HashMap<String, Vec<String>> = units
            .iter()
            .filter_map(|u| {
                let (name, ..) = u.table.as_ref()?;
                Some((
                    name.clone(),
                    u.members.iter().map(|m| m.0.clone()).collect(),
                ))
            })
            .collect();
        let index: HashMap<&str, usize> = units
            .iter()
            .enumerate()
            .flat_map(|(k, u)| u.members.iter().map(move |m| (m.0.as_str(), k)))
            .collect();
        let mut reader = NameReader::new(&functions, &table_names);
        let mut deps: Vec<Vec<usize>> = Vec::with_capacity(units.len());
        for u in &units {
            let mut names = vec![];
            for m in &u.members {
                reader.read(&m.1, &mut names);
                if reader.too_deep() {
                    return Err(err(
                        m.2,
                        format!(
                            "expression nested more than {} deep once user functions are inlined",
                            compile::MAX_DEPTH
                        ),
                    ));
                }
            }
            let mut d: Vec<usize> = names
                .iter()
                .filter_map(|n| index.get(n.as_str()).copied())
                .collect();
            d.sort_unstable();
            d.dedup();
            deps.push(d);
        }
        let order = topological(&deps).map_err(|cycle| {
            let names: Vec<&str> = cycle
                .iter()
                .map(|&k| {
                    units[k]
                        .table
                        .as_ref()
                        .map_or(units[k].members[0].0.as_str(), |t| t.0.as_str())
                })
                .collect();
            err(
                units[cycle[0]].members[0].2,
                format!("circular definition: {}", names.join(" -> ")),
            )
        })?;
        let (np, nv) = (params.len(), vars.len());
        let mut slots: HashMap<String, usize> = HashMap::new();
        for (k, p) in params.iter().enumerate() {
            slots.insert(p.0.clone(), k);
        }
        for (k, v) in vars.iter().enumerate() {
            slots.insert(v.clone(), np + k);
        }
        slots.insert("t".into(), np + nv);
        let na = solve.len();
        for (k, a) in solve.iter().enumerate() {
            slots.insert(a.0.clone(), np + nv + 1 + k);
        }
        let mut table_slots: HashMap<String, Table> = HashMap::new();
        let mut next = np + nv + 1 + na;
        for &k in &order {
            if let Some((name, lo, hi)) = &units[k].table {
                table_slots.insert(
                    name.clone(),
                    Table {
                        base: next,
                        n: units[k].members.len(),
                        lo: *lo,
                        hi: *hi,
                    },
                );
            }
            for m in &units[k].members {
                slots.insert(m.0.clone(), next);
                next += 1;
            }
        }
        let scope = Scope {
            slots: &slots,
            functions: &functions,
            tables: &table_slots,
        };
        let build = |a: &Ast| -> Result<Code, OdeError> {
            let mut c = Code::default();
            compile(a, &scope, &mut c).map_err(from)?;
            Ok(c)
        };
        // Fixed quantities in order; which of them change with the state or with t (a
        // table's formula may read only parameters: XPPAUT computes it once).
        let mut fixed_code = vec![];
        let mut moves: Vec<bool> = vec![];
        for &k in &order {
            for m in &units[k].members {
                let c = build(&m.1)?;
                let first_fixed = np + nv + 1 + na;
                let moving = c.slots_read().any(|s| {
                    (np..first_fixed).contains(&s) || (s >= first_fixed && moves[s - first_fixed])
                });
                if moving && let Some((name, ..)) = &units[k].table {
                    return Err(err(
                        m.2,
                        format!(
                            "table {name}: its formula reads a state variable or t through a function; a table's formula reads t as its argument and otherwise parameters only"
                        ),
                    ));
                }
                moves.push(moving);
                fixed_code.push(c);
            }
        }
        let rhs = odes
            .iter()
            .map(|o| build(&o.1))
            .collect::<Result<Vec<_>, _>>()?;
        let aux_code = aux
            .iter()
            .map(|a| Ok((a.0.clone(), build(&a.1)?)))
            .collect::<Result<Vec<_>, OdeError>>()?;
        // Every function body must compile too (an undefined name in an unused function is
        // still an error in the file).
        for (fname, (args, body, _)) in &functions {
            let mut s2 = slots.clone();
            for (k, a) in args.iter().enumerate() {
                s2.insert(a.clone(), k);
            }
            let scope2 = Scope {
                slots: &s2,
                functions: &functions,
                tables: &table_slots,
            };
            let mut c = Code::default();
            compile(body, &scope2, &mut c)
                .map_err(|e| err(e.pos, format!("in {fname}: {}", e.reason)))?;
        }
        let mut flag_code = vec![];
        for f in &flag_defs {
            let mut events = vec![];
            for (n, e, p) in &f.events {
                let Some(k) = vars.iter().position(|v| v == n) else {
                    let why = if params.iter().any(|q| &q.0 == n) {
                        format!("global flags reset state variables only: '{n}' is a parameter")
                    } else {
                        format!("global flags reset state variables only: '{n}' is not one")
                    };
                    return Err(err(*p, why));
                };
                events.push((k, build(e)?));
            }
            flag_code.push(Flag {
                sign: f.sign,
                cond: build(&f.cond)?,
                events,
            });
        }
        let alg = Algebraic {
            names: solve.iter().map(|a| a.0.clone()).collect(),
            guess: solve.iter().map(|a| a.1).collect(),
            residuals: algebraic
                .iter()
                .map(|a| build(&a.0))
                .collect::<Result<Vec<_>, _>>()?,
        };
        if na > 0 {
            notes.push(format!(
                "algebraic variable{} {} solved by Newton's method at every evaluation",
                if na > 1 { "s" } else { "" },
                alg.names.join(", ")
            ));
        }
        let mut init = vec![0.0; nv];
        let mut derived = vec![];
        let var_index: HashMap<&str, usize> = vars
            .iter()
            .enumerate()
            .map(|(k, v)| (v.as_str(), k))
            .collect();
        for (n, v, p) in inits {
            if volterra.contains(&n) {
                derived.push(n);
                continue;
            }
            let k = *var_index
                .get(n.as_str())
                .ok_or_else(|| err(p, format!("initial value for '{n}', which has no equation")))?;
            init[k] = v;
        }
        if !derived.is_empty() {
            notes.push(format!(
                "initial value of {} ignored: a Volterra equation gives it",
                derived.join(", ")
            ));
        }
        if !integrals.is_empty() {
            notes.push(format!(
                "{} int{{…}} integral(s) integrated as {} hidden state(s) (int#…)",
                integrals.len(),
                vars.iter().filter(|v| v.starts_with("int#")).count()
            ));
        }
        let params = ParamSet::new(
            params
                .iter()
                .map(|(n, v, _)| {
                    Param::new(
                        n,
                        *v,
                        "",
                        "from the .ode file",
                        f64::NEG_INFINITY,
                        f64::INFINITY,
                    )
                })
                .collect(),
        );
        let stack = rhs
            .iter()
            .chain(&fixed_code)
            .chain(aux_code.iter().map(|a| &a.1))
            .chain(
                flag_code
                    .iter()
                    .flat_map(|f| std::iter::once(&f.cond).chain(f.events.iter().map(|e| &e.1))),
            )
            .chain(&alg.residuals)
            .map(|c| c.depth)
            .max()
            .unwrap_or(1);
        let fast = std::sync::Arc::new(FastRhs {
            fixed: fixed_code.iter().map(Code::closure).collect(),
            rhs: rhs.iter().map(Code::closure).collect(),
        });
        let current = ["i_ext", "iapp", "i"].iter().find_map(|n| params.index(n));
        let jets = (alg.names.is_empty() && rhs.iter().chain(&fixed_code).all(jet::supported))
            .then(|| Box::new(jet::Plan::of(&fixed_code, &rhs, params.len(), vars.len())));
        Ok(OdeModel {
            jets,
            fast,
            current,
            name: name.into(),
            params,
            vars,
            init,
            rhs,
            fixed: fixed_code,
            aux: aux_code,
            options: Box::new(options),
            notes,
            units: &crate::model::Units::FILE,
            gated: false,
            stack,
            flags: flag_code,
            alg,
        })
    }

    /// The state with V = `v` and every gate at its steady state there, for a model whose
    /// variables after V are gates ([`OdeModel::gated`]): each gate's equation is affine in
    /// the gate, `x' = A - B x`, so `x_inf = A / B` from the right-hand side at x = 0 and
    /// x = 1 (V held at `v`). An error names a gate without a steady state at `v` (B = 0).
    pub fn gates_at(&self, v: f64) -> Result<Vec<f64>, String> {
        let p = self.params.values();
        let n = self.vars.len();
        let mut y = vec![0.0; n];
        y[0] = v;
        let mut slots = Vec::new();
        let (mut d0, mut d1) = (vec![0.0; n], vec![0.0; n]);
        self.rhs_f64(&p, 0.0, &y, &mut d0, &mut slots);
        y[1..].iter_mut().for_each(|x| *x = 1.0);
        self.rhs_f64(&p, 0.0, &y, &mut d1, &mut slots);
        let mut state = vec![v];
        for k in 1..n {
            let x = d0[k] / (d0[k] - d1[k]);
            if !x.is_finite() {
                return Err(format!(
                    "gate '{}' has no steady state at V = {v} mV",
                    self.vars[k]
                ));
            }
            state.push(x);
        }
        Ok(state)
    }

    /// The numeric value of the `@` option `name` (lower case), when the file gives one that
    /// is a finite number.
    pub fn option(&self, name: &str) -> Option<f64> {
        self.options
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.trim().parse::<f64>().ok())
            .filter(|x| x.is_finite())
    }

    /// The parameter the injected current (stimulus) is added to: the first of `i_ext`,
    /// `iapp`, `i` the file defines.
    pub fn current_param(&self) -> Option<usize> {
        self.current
    }

    /// Whether `t` can reach the right-hand side (directly or through a fixed quantity) at
    /// the model's parameter values, the current parameter left free (an injected current
    /// changes it): such a model is not autonomous, so it has no equilibria to continue. A
    /// term multiplied by a parameter that is 0 does not count (XPPAUT's `fhn.ode` and
    /// `hhred.ode` switch their forcing off so); set that parameter non-zero and it does.
    pub fn reads_time(&self) -> bool {
        let free: Vec<usize> = self.current.into_iter().collect();
        self.reads_time_with(&self.params.values(), &free)
    }

    /// [`OdeModel::reads_time`] at parameter values `p`, with the parameters `free` (indices)
    /// taken to be any value: a continuation in a parameter passes it here.
    pub fn reads_time_with(&self, p: &[f64], free: &[usize]) -> bool {
        let mut slots: Vec<Known> = p
            .iter()
            .enumerate()
            .map(|(k, &v)| {
                if free.contains(&k) {
                    Known::Varies { time: false }
                } else {
                    Known::Value(v)
                }
            })
            .collect();
        slots.extend(self.vars.iter().map(|_| Known::Varies { time: false }));
        slots.push(Known::Varies { time: true });
        let timed = |k: Known| matches!(k, Known::Varies { time: true });
        let base = slots.len();
        // Algebraic variables vary with the state, and with t if an equation can read it.
        let mut alg_time = false;
        loop {
            slots.truncate(base);
            slots.extend(
                self.alg
                    .names
                    .iter()
                    .map(|_| Known::Varies { time: alg_time }),
            );
            let mut any = false;
            for c in &self.fixed {
                let k = c.fold(&slots);
                any |= timed(k);
                slots.push(k);
            }
            let reads = self.alg.residuals.iter().any(|c| timed(c.fold(&slots)));
            if reads && !alg_time {
                alg_time = true;
                continue;
            }
            return any || alg_time || self.rhs.iter().any(|c| timed(c.fold(&slots)));
        }
    }

    /// Whether the file has global flags (state resets): then it is hybrid, simulated by
    /// fixed steps through [`OdeModel::step_with_flags`].
    pub fn has_flags(&self) -> bool {
        !self.flags.is_empty()
    }

    /// Run `f` on the parameter values `p` with the injected current `i_ext` added to the
    /// current parameter ([`OdeModel::current_param`]), then restore `p`: the one place a
    /// stimulus or a continued current enters an `.ode` model. Without a current parameter `p`
    /// is passed as it is (callers refuse a non-zero current first).
    #[inline]
    pub fn with_current<T: Scalar, R>(
        &self,
        p: &mut [T],
        i_ext: T,
        f: impl FnOnce(&[T]) -> R,
    ) -> R {
        match self.current_param() {
            Some(c) => {
                let base = p[c];
                p[c] = base + i_ext;
                let r = f(p);
                p[c] = base;
                r
            }
            None => f(p),
        }
    }

    /// `dy/dt` at time `t`, state `y`, parameter values `p` (in [`ParamSet`] order).
    ///
    /// The evaluation buffers are the calling thread's, kept between calls (one set per scalar
    /// type: [`crate::numerics::scratch`]), so a call allocates nothing once warm. Each call
    /// starts the algebraic variables (if any) from the file's guesses, as fresh buffers would.
    pub fn rhs<T: Scalar>(&self, p: &[T], t: T, y: &[T], dy: &mut [T]) {
        crate::numerics::scratch::with_scratch(|sc: &mut Scratch<T>| {
            // No warm start from whatever model used these buffers last.
            sc.slots.clear();
            self.rhs_with(p, t, y, dy, sc);
        })
    }

    /// `[df/dy | df/dp_k]` (n x (n+1)) into `j` and `f` into `f` at state `y`, parameter
    /// values `p` (the injected current already added) and `t = 0`, where `k = dparam` (none:
    /// a zero last column): one pass of the bytecode on jets carrying the n+1 directions
    /// (each op's dispatch paid once, instead of once per direction; each expression on the
    /// directions it can vary in: `jet::eval_sparse`). Exact like dual numbers, equal to
    /// them up to rounding. Buffers: the thread's ([`crate::numerics::scratch`]).
    ///
    /// Returns `false`, leaving `j` and `f` untouched, where jets do not apply (algebraic
    /// variables, function tables, no state variable or more than 11) or `y` and `f` are not
    /// of the model's number of state variables: use dual numbers then.
    pub fn jacobian_into(
        &self,
        p: &[f64],
        y: &[f64],
        dparam: Option<usize>,
        j: &mut nalgebra::DMatrix<f64>,
        f: &mut [f64],
    ) -> bool {
        self.jacobians_into(p, y, dparam, std::slice::from_mut(j), f)
    }

    /// [`OdeModel::jacobian_into`] at several states: `ys` holds them one after the other
    /// (`js.len()` states of n values), their Jacobians go to `js` and their values of `f`
    /// to `fs` in the same order. The states run through the bytecode [`JET_LANES`] at a time
    /// (each op dispatched once for all of them, their operations side by side); the numbers
    /// are those of one state at a time.
    pub fn jacobians_into(
        &self,
        p: &[f64],
        ys: &[f64],
        dparam: Option<usize>,
        js: &mut [nalgebra::DMatrix<f64>],
        fs: &mut [f64],
    ) -> bool {
        let Some(plan) = &self.jets else {
            return false;
        };
        let n = self.vars.len();
        if n == 0 || ys.len() != n * js.len() || fs.len() != ys.len() {
            return false;
        }
        macro_rules! passes {
            ($($m:literal)*) => {
                match n + 1 {
                    $($m => self.jet_passes::<$m>(plan, p, ys, dparam, js, fs),)*
                    _ => return false,
                }
            };
        }
        passes!(2 3 4 5 6 7 8 9 10 11 12);
        true
    }

    /// [`OdeModel::jacobians_into`] with `M = n + 1` directions: the states [`JET_LANES`] at
    /// a time, then the rest one at a time.
    fn jet_passes<const M: usize>(
        &self,
        plan: &jet::Plan,
        p: &[f64],
        ys: &[f64],
        dparam: Option<usize>,
        js: &mut [nalgebra::DMatrix<f64>],
        fs: &mut [f64],
    ) {
        let n = M - 1;
        let stride = JET_LANES * n;
        for ((j, f), y) in js
            .chunks_mut(JET_LANES)
            .zip(fs.chunks_mut(stride))
            .zip(ys.chunks(stride))
        {
            if j.len() == JET_LANES {
                self.jet_pass::<M, JET_LANES>(plan, p, y, dparam, j, f);
                continue;
            }
            for ((j, f), y) in j.chunks_mut(1).zip(f.chunks_mut(n)).zip(y.chunks(n)) {
                self.jet_pass::<M, 1>(plan, p, y, dparam, j, f);
            }
        }
    }

    /// [`OdeModel::jacobians_into`] with `M = n + 1` directions at `L` states.
    fn jet_pass<const M: usize, const L: usize>(
        &self,
        plan: &jet::Plan,
        p: &[f64],
        ys: &[f64],
        dparam: Option<usize>,
        js: &mut [nalgebra::DMatrix<f64>],
        fs: &mut [f64],
    ) {
        use jet::Jet;
        let n = M - 1;
        crate::numerics::scratch::with_scratch(
            |(slots, stacks): &mut (Vec<[Jet<M>; L]>, jet::Stacks<M, L>)| {
                slots.clear();
                slots.extend(p.iter().enumerate().map(|(k, &v)| {
                    [if dparam == Some(k) {
                        Jet::variable(v, M - 1)
                    } else {
                        Jet::constant(v)
                    }; L]
                }));
                slots.extend(
                    (0..n).map(|k| std::array::from_fn(|l| Jet::variable(ys[l * n + k], k))),
                );
                slots.push([Jet::constant(0.0); L]);
                for code in &plan.fixed {
                    let v = jet::eval_sparse(code, dparam, slots, stacks);
                    slots.push(v);
                }
                for (row, code) in plan.rhs.iter().enumerate() {
                    let r = jet::eval_sparse(code, dparam, slots, stacks);
                    for (l, (r, j)) in r.iter().zip(js.iter_mut()).enumerate() {
                        fs[l * n + row] = r.v;
                        for (col, d) in r.d.iter().enumerate() {
                            j[(row, col)] = *d;
                        }
                    }
                }
            },
        )
    }

    /// [`OdeModel::rhs`] on plain numbers through the closure trees (the simulation path),
    /// with `slots` as a reusable buffer.
    pub fn rhs_f64(&self, p: &[f64], t: f64, y: &[f64], dy: &mut [f64], slots: &mut Vec<f64>) {
        if !self.alg.names.is_empty() {
            // The algebraic variables are solved on the bytecode (as rhs_with does), then the
            // equations run on the closures.
            let mut sc = Scratch {
                slots: std::mem::take(slots),
                stack: Vec::new(),
            };
            self.fill(p, t, y, &mut sc);
            *slots = sc.slots;
            for (d, f) in dy.iter_mut().zip(&self.fast.rhs) {
                *d = f(slots);
            }
            return;
        }
        slots.clear();
        slots.extend_from_slice(p);
        slots.extend_from_slice(y);
        slots.push(t);
        for f in &self.fast.fixed {
            let v = f(slots);
            slots.push(v);
        }
        for (d, f) in dy.iter_mut().zip(&self.fast.rhs) {
            *d = f(slots);
        }
    }

    /// [`OdeModel::rhs`] with reusable buffers (no allocation per call once warm).
    pub fn rhs_with<T: Scalar>(
        &self,
        p: &[T],
        t: T,
        y: &[T],
        dy: &mut [T],
        scratch: &mut Scratch<T>,
    ) {
        self.fill(p, t, y, scratch);
        let Scratch { slots, stack } = scratch;
        for (d, code) in dy.iter_mut().zip(&self.rhs) {
            *d = code.eval(slots, stack);
        }
    }

    /// The value slots at (`p`, `t`, `y`): parameters, state, time, algebraic variables,
    /// fixed quantities.
    fn fill<T: Scalar>(&self, p: &[T], t: T, y: &[T], scratch: &mut Scratch<T>) {
        let Scratch { slots, stack } = scratch;
        let na = self.alg.names.len();
        let at = p.len() + y.len() + 1;
        // The last solution, when these buffers held one.
        let warm: Option<Vec<f64>> = (na > 0 && slots.len() == at + na + self.fixed.len())
            .then(|| slots[at..at + na].iter().map(|v| v.re()).collect());
        slots.clear();
        slots.extend_from_slice(p);
        slots.extend_from_slice(y);
        slots.push(t);
        if na > 0 {
            let x = self.solve_algebraic(slots, warm, stack);
            slots.extend(x);
        }
        for f in &self.fixed {
            let v = f.eval(slots, stack);
            slots.push(v);
        }
    }

    /// The algebraic variables at the slots `base` (parameters, state, t): Newton's method
    /// on the real parts (from `warm`, else from the file's guesses), then one step on `T` so
    /// dual parts carry the implicit derivatives. NaN where Newton fails.
    fn solve_algebraic<T: Scalar>(
        &self,
        base: &[T],
        warm: Option<Vec<f64>>,
        stack: &mut Vec<T>,
    ) -> Vec<T> {
        use nalgebra::DVector;
        use num_dual::Dual64;
        let na = self.alg.names.len();
        let b: Vec<f64> = base.iter().map(|v| v.re()).collect();
        let mut dual_slots: Vec<Dual64> = vec![];
        let mut dual_stack: Vec<Dual64> = vec![];
        let mut residuals = |x: &[Dual64], out: &mut [Dual64]| {
            dual_slots.clear();
            dual_slots.extend(b.iter().map(|&v| Dual64::from(v)));
            dual_slots.extend_from_slice(x);
            for f in &self.fixed {
                let v = f.eval(&dual_slots, &mut dual_stack);
                dual_slots.push(v);
            }
            for (o, r) in out.iter_mut().zip(&self.alg.residuals) {
                *o = r.eval(&dual_slots, &mut dual_stack);
            }
        };
        // Plain Newton steps, as XPPAUT takes them (no damping, many iterations allowed: past a
        // fold of the algebraic curve the iterates wander before they settle on another root).
        let mut solve = |x0: Vec<f64>| {
            let mut x = DVector::from_vec(x0);
            let mut g = vec![Dual64::from(0.0); na];
            for _ in 0..ALG_MAX_ITER {
                let j = crate::numerics::dual::dual_jacobian(x.as_slice(), &mut residuals);
                let xd: Vec<Dual64> = x.iter().map(|&v| Dual64::from(v)).collect();
                residuals(&xd, &mut g);
                let inverse = j.try_inverse()?;
                let dx = &inverse * DVector::from_iterator(na, g.iter().map(|v| v.re));
                x -= &dx;
                if !x.iter().all(|v| v.is_finite()) {
                    return None;
                }
                if dx.amax() <= 1e-12 * (1.0 + x.amax()) {
                    let j = crate::numerics::dual::dual_jacobian(x.as_slice(), &mut residuals);
                    return Some((x, j.try_inverse()?));
                }
            }
            None
        };
        let found = warm
            .filter(|w| w.iter().all(|v| v.is_finite()))
            .and_then(&mut solve)
            .or_else(|| solve(self.alg.guess.clone()));
        let Some((x, inverse)) = found else {
            return vec![T::from(f64::NAN); na];
        };
        // One Newton step on T: x - J^-1 g(x) carries dx/d(p, y, t) = -J^-1 dg/d(p, y, t).
        let mut s: Vec<T> = base.to_vec();
        s.extend(x.iter().map(|&v| T::from(v)));
        for f in &self.fixed {
            let v = f.eval(&s, stack);
            s.push(v);
        }
        let g: Vec<T> = self
            .alg
            .residuals
            .iter()
            .map(|r| r.eval(&s, stack))
            .collect();
        (0..na)
            .map(|i| {
                let step =
                    (0..na).fold(T::from(0.0), |acc, j| acc + g[j] * T::from(inverse[(i, j)]));
                T::from(x[i]) - step
            })
            .collect()
    }

    /// The flags' conditions at (`p`, `t`, `y`) into `out`.
    fn conditions(&self, p: &[f64], t: f64, y: &[f64], sc: &mut Scratch<f64>, out: &mut Vec<f64>) {
        self.fill(p, t, y, sc);
        out.clear();
        for f in &self.flags {
            out.push(f.cond.eval(&sc.slots, &mut sc.stack));
        }
    }

    /// One step of `dt` from (`t`, `y`) with the file's global flags, as XPPAUT takes it:
    /// `step(t, y, h)` advances `y` by `h` (the integrator's own step); when a flag's
    /// condition crosses zero within it, the state is moved back to the crossing (linear
    /// interpolation between the step's ends), the flag's assignments are made in order, a
    /// flag the reset itself sets off fires too, and the rest of the step is taken from the
    /// reset state. `i_ext` is the injected current (added to the current parameter).
    /// `state` carries the conditions' values from step to step.
    pub fn step_with_flags(
        &self,
        state: &mut FlagState,
        t: f64,
        y: &mut [f64],
        i_ext: f64,
        dt: f64,
        mut step: impl FnMut(f64, &mut [f64], f64),
    ) {
        if self.flags.is_empty() {
            step(t, y, dt);
            return;
        }
        let FlagState {
            last,
            p,
            y_old,
            f0,
            f1,
            scratch,
            ..
        } = state;
        p.clear();
        p.extend(self.params.iter().map(|q| q.value));
        if let Some(c) = self.current {
            p[c] += i_ext;
        }
        if last.len() != self.flags.len() {
            self.conditions(p, t, y, scratch, last);
        }
        let t_end = t + dt;
        let mut t = t;
        // XPPAUT gives up on a step after (flags + 2) resets; the rest is then taken plainly.
        for _ in 0..self.flags.len() + 3 {
            let h = t_end - t;
            if h <= 0.0 {
                return;
            }
            y_old.clear();
            y_old.extend_from_slice(y);
            step(t, y, h);
            self.conditions(p, t + h, y, scratch, f1);
            let Some(s) = flags::first_crossing(&self.flags, last, f1) else {
                std::mem::swap(last, f1);
                return;
            };
            let mut hit: Vec<bool> = self
                .flags
                .iter()
                .zip(last.iter().zip(f1.iter()))
                .map(|(f, (&a, &b))| flags::crosses(f.sign, a, b) && a / (a - b) <= s)
                .collect();
            let mut wave = hit.clone();
            t += s * h;
            for (x, x0) in y.iter_mut().zip(y_old.iter()) {
                *x = x0 + s * (*x - x0);
            }
            self.conditions(p, t, y, scratch, f0);
            loop {
                for (f, _) in self.flags.iter().zip(&wave).filter(|w| *w.1) {
                    for (k, code) in &f.events {
                        self.fill(p, t, y, scratch);
                        y[*k] = code.eval(&scratch.slots, &mut scratch.stack);
                    }
                }
                self.conditions(p, t, y, scratch, f1);
                let mut any = false;
                for (j, f) in self.flags.iter().enumerate() {
                    wave[j] = !hit[j] && flags::reset_crosses(f.sign, f0[j], f1[j]);
                    hit[j] |= wave[j];
                    any |= wave[j];
                }
                if !any {
                    break;
                }
            }
            std::mem::swap(last, f1);
        }
        if t_end > t {
            step(t, y, t_end - t);
            self.conditions(p, t_end, y, scratch, last);
        }
    }
}

/// What [`OdeModel::step_with_flags`] carries from step to step (the flags' conditions at
/// the last state) and its buffers.
#[derive(Debug, Clone, Default)]
pub struct FlagState {
    busy: bool,
    last: Vec<f64>,
    p: Vec<f64>,
    y_old: Vec<f64>,
    f0: Vec<f64>,
    f1: Vec<f64>,
    scratch: Scratch<f64>,
}

impl FlagState {
    /// A placeholder a stepper holds while it is inside [`OdeModel::step_with_flags`] (its
    /// own steps are then plain ones).
    pub fn busy() -> FlagState {
        FlagState {
            busy: true,
            ..Default::default()
        }
    }

    /// Whether this is the placeholder.
    pub fn is_busy(&self) -> bool {
        self.busy
    }
}

/// Reusable evaluation buffers for [`OdeModel::rhs_with`].
#[derive(Debug, Clone)]
pub struct Scratch<T> {
    slots: Vec<T>,
    stack: Vec<T>,
}

impl<T> Default for Scratch<T> {
    fn default() -> Self {
        Scratch {
            slots: Vec::new(),
            stack: Vec::new(),
        }
    }
}

/// `name = value` pairs (separated by commas or spaces) with constant values.
pub(super) fn assignments(
    toks: &[(Tok, Pos)],
    end: Pos,
) -> Result<Vec<(String, f64, Pos)>, ExprError> {
    let mut out = vec![];
    let mut k = 0;
    while k < toks.len() {
        match &toks[k] {
            (Tok::Comma, _) => {
                k += 1;
                continue;
            }
            (Tok::Name(n), p) => {
                // A name alone (`par a, b=2`, `init x=1, y`) is 0, as in XPPAUT.
                if matches!(toks.get(k + 1).map(|t| &t.0), None | Some(Tok::Comma)) {
                    out.push((n.clone(), 0.0, *p));
                    k += 1;
                    continue;
                }
                if toks.get(k + 1).map(|t| &t.0) != Some(&Tok::Op("=")) {
                    return Err(ExprError {
                        pos: toks.get(k + 1).map_or(end, |t| t.1),
                        reason: format!("expected '=' after '{n}'"),
                    });
                }
                // The value runs to the next comma, or to the next `name =`.
                let mut j = k + 2;
                while j < toks.len() {
                    let next_is_assignment = matches!(toks[j].0, Tok::Name(_))
                        && toks.get(j + 1).map(|t| &t.0) == Some(&Tok::Op("="))
                        && j > k + 2;
                    if toks[j].0 == Tok::Comma || next_is_assignment {
                        break;
                    }
                    j += 1;
                }
                let e = parse(&toks[k + 2..j], toks.get(j).map_or(end, |t| t.1))?;
                out.push((n.clone(), constant(&e, &out, *p)?, *p));
                k = j;
            }
            (t, p) => {
                return Err(ExprError {
                    pos: *p,
                    reason: format!("expected name=value, found {t:?}"),
                });
            }
        }
    }
    Ok(out)
}

/// The value of a constant expression (names: earlier assignments of the same line);
/// infinite or NaN results (a division by zero) are refused.
pub(super) fn constant(
    e: &Ast,
    earlier: &[(String, f64, Pos)],
    pos: Pos,
) -> Result<f64, ExprError> {
    let slots: HashMap<String, usize> = earlier
        .iter()
        .enumerate()
        .map(|(k, a)| (a.0.clone(), k))
        .collect();
    let values: Vec<f64> = earlier.iter().map(|a| a.1).collect();
    let functions = HashMap::new();
    let tables = HashMap::new();
    let mut code = Code::default();
    compile(
        e,
        &Scope {
            slots: &slots,
            functions: &functions,
            tables: &tables,
        },
        &mut code,
    )?;
    let v = code.eval::<f64>(&values, &mut vec![]);
    if !v.is_finite() {
        return Err(ExprError {
            pos,
            reason: format!("the value is {v} (a division by zero or an overflow)"),
        });
    }
    Ok(v)
}

/// An order of `0..deps.len()` where each item follows its dependencies, or a cycle. Iterative
/// (a chain of 100,000 fixed quantities, each reading the one before, needs no deep stack).
fn topological(deps: &[Vec<usize>]) -> Result<Vec<usize>, Vec<usize>> {
    // 0 = new, 1 = on the path, 2 = done
    let mut state = vec![0u8; deps.len()];
    let mut order = vec![];
    for root in 0..deps.len() {
        if state[root] != 0 {
            continue;
        }
        // The path from `root`: (item, next dependency to visit).
        let mut path: Vec<(usize, usize)> = vec![(root, 0)];
        state[root] = 1;
        while let Some(&(k, next)) = path.last() {
            if let Some(&d) = deps[k].get(next) {
                if let Some(top) = path.last_mut() {
                    top.1 += 1;
                }
                match state[d] {
                    0 => {
                        state[d] = 1;
                        path.push((d, 0));
                    }
                    1 => {
                        let from = path.iter().position(|p| p.0 == d).unwrap_or(0);
                        let mut cycle: Vec<usize> = path[from..].iter().map(|p| p.0).collect();
                        cycle.push(d);
                        return Err(cycle);
                    }
                    _ => {}
                }
            } else {
                state[k] = 2;
                order.push(k);
                path.pop();
            }
        }
    }
    Ok(order)
}

#[cfg(test)]
mod tests;
