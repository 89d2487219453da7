//! Names to slots: user functions inlined at their call sites (arity checked, recursion
//! refused), fixed quantities ordered so each is computed after what it reads (a cycle is
//! refused), every other name resolved to a parameter, a variable, `t` or a constant.

use super::expr::{Arith, Ast, CmpOp, Code, ExprError, Fn1, Op, Pos, Table};
use std::collections::HashMap;

/// User functions: name -> (argument names, body, where defined).
pub type Functions = HashMap<String, (Vec<String>, Ast, Pos)>;

/// What the names of a model mean while compiling.
pub struct Scope<'a> {
    /// name -> slot
    pub slots: &'a HashMap<String, usize>,
    pub functions: &'a Functions,
    /// Function tables by name (`w(x)` looks `x` up in `w`).
    pub tables: &'a HashMap<String, Table>,
}

/// Functions XPPAUT has that this reader does not support, with why.
const UNSUPPORTED: [(&str, &str); 6] = [
    ("delay", "delay equations are not supported"),
    (
        "ran",
        "random numbers are not supported (use a noise stimulus)",
    ),
    (
        "normal",
        "random numbers are not supported (use a noise stimulus)",
    ),
    ("lookup", "a table is read by its name: w(x)"),
    ("sum", "a sum is written sum(lo, hi)of(expression in i')"),
    (
        "shift",
        "shift(name, k) needs a constant k (in a sum, i' is one)",
    ),
];

/// The most operations one expression may compile to, user functions inlined. Inlining can
/// grow a file exponentially (`f2(x)=f1(x)+f1(x)`, `f3(x)=f2(x)+f2(x)`, …); past this the
/// file is refused rather than exhausting memory.
pub const MAX_OPS: usize = 100_000;

/// The deepest an expression's tree may be after inlining: simulation evaluates it as nested
/// closures, recursively, on worker threads with small stacks.
pub const MAX_HEIGHT: usize = 2_000;

/// The deepest compiling recurses: an expression with every user function inlined may nest
/// this deep (real models nest a few levels). Checked before each step down, so no input,
/// however long or nested, exhausts the stack.
pub const MAX_DEPTH: usize = 300;

/// Compile `a` into `code`.
pub fn compile(a: &Ast, scope: &Scope, code: &mut Code) -> Result<(), ExprError> {
    let mut stack = vec![];
    emit(a, scope, &HashMap::new(), &mut stack, code, 0)?;
    code.depth = depth(&code.ops);
    let h = code.height();
    if h > MAX_HEIGHT {
        return Err(ExprError {
            // A tree this tall has names or calls (constants fold), so a position is there.
            pos: first_pos(a).unwrap_or(Pos { line: 1, col: 1 }),
            reason: format!(
                "expression nested {h} deep once user functions are inlined: allowed at most {MAX_HEIGHT}"
            ),
        });
    }
    Ok(())
}

/// The first position recorded in `a` (names and calls carry one).
fn first_pos(a: &Ast) -> Option<Pos> {
    match a {
        Ast::Num(_) => None,
        Ast::Name(_, p) | Ast::Call(_, _, p) => Some(*p),
        Ast::Sum(_, _, _, p) => Some(*p),
        Ast::Neg(x) => first_pos(x),
        Ast::Chain(x, rest) => first_pos(x).or_else(|| rest.iter().find_map(|(_, y)| first_pos(y))),
        Ast::If(c, x, y) => first_pos(c)
            .or_else(|| first_pos(x))
            .or_else(|| first_pos(y)),
    }
}

/// How deep `a` nests (1 for a leaf; a chain counts once however long).
pub fn ast_depth(a: &Ast) -> usize {
    1 + match a {
        Ast::Num(_) | Ast::Name(..) => 0,
        Ast::Neg(x) => ast_depth(x),
        Ast::Chain(x, rest) => rest
            .iter()
            .map(|(_, y)| ast_depth(y))
            .fold(ast_depth(x), usize::max),
        Ast::If(c, x, y) => ast_depth(c).max(ast_depth(x)).max(ast_depth(y)),
        Ast::Call(_, xs, _) => xs.iter().map(ast_depth).max().unwrap_or(0),
        Ast::Sum(a, b, c, _) => ast_depth(a).max(ast_depth(b)).max(ast_depth(c)),
    }
}

/// How deep `a` nests once the names bound in `args` (to trees `depths` deep) are replaced.
fn depth_with(a: &Ast, depths: &HashMap<String, usize>) -> usize {
    match a {
        Ast::Name(n, _) => depths.get(n).copied().unwrap_or(1),
        Ast::Num(_) => 1,
        Ast::Neg(x) => 1 + depth_with(x, depths),
        Ast::Chain(x, rest) => {
            1 + rest
                .iter()
                .map(|(_, y)| depth_with(y, depths))
                .fold(depth_with(x, depths), usize::max)
        }
        Ast::If(c, x, y) => {
            1 + depth_with(c, depths)
                .max(depth_with(x, depths))
                .max(depth_with(y, depths))
        }
        Ast::Call(_, xs, _) => 1 + xs.iter().map(|x| depth_with(x, depths)).max().unwrap_or(0),
        Ast::Sum(a, b, c, _) => {
            1 + depth_with(a, depths)
                .max(depth_with(b, depths))
                .max(depth_with(c, depths))
        }
    }
}

/// Number of nodes of `a`.
fn size(a: &Ast) -> usize {
    match a {
        Ast::Num(_) | Ast::Name(..) => 1,
        Ast::Neg(x) => 1 + size(x),
        Ast::Chain(x, rest) => 1 + size(x) + rest.iter().map(|(_, y)| size(y)).sum::<usize>(),
        Ast::If(c, x, y) => 1 + size(c) + size(x) + size(y),
        Ast::Call(_, xs, _) => 1 + xs.iter().map(size).sum::<usize>(),
        Ast::Sum(a, b, c, _) => 1 + size(a) + size(b) + size(c),
    }
}

/// Stack depth the ops need.
fn depth(ops: &[Op]) -> usize {
    let (mut d, mut max) = (0usize, 0usize);
    for op in ops {
        d = (d + 1).saturating_sub(op.arity());
        max = max.max(d);
    }
    max
}

fn emit(
    a: &Ast,
    scope: &Scope,
    args: &HashMap<String, Ast>,
    calls: &mut Vec<String>,
    code: &mut Code,
    depth: usize,
) -> Result<(), ExprError> {
    // Checked before recursing: the depth of the expression with every user function inlined.
    if depth > MAX_DEPTH {
        return Err(too_deep(first_pos(a).unwrap_or(Pos { line: 1, col: 1 })));
    }
    let d = depth + 1;
    match a {
        Ast::Num(v) => code.ops.push(Op::Const(*v)),
        Ast::Name(n, pos) => {
            if let Some(arg) = args.get(n) {
                // An argument of the function being inlined: its value was written in the
                // caller's scope (arguments of outer calls are already substituted).
                emit(arg, scope, &HashMap::new(), calls, code, d)?;
            } else if let Some(&k) = scope.slots.get(n) {
                code.ops.push(Op::Slot(k));
            } else if n == "pi" {
                code.ops.push(Op::Const(std::f64::consts::PI));
            } else if n == "i'" || n == "t'" {
                let what = if n == "i'" {
                    "the index of a sum(lo, hi)of(…)"
                } else {
                    "the integration variable of an int{…}"
                };
                return Err(ExprError {
                    pos: *pos,
                    reason: format!("{n} is {what}, used outside one"),
                });
            } else {
                return Err(ExprError {
                    pos: *pos,
                    reason: format!("undefined name '{n}'"),
                });
            }
        }
        Ast::Neg(x) => {
            emit(x, scope, args, calls, code, d)?;
            push_folded(code, Op::Neg);
        }
        Ast::Chain(x, rest) => {
            emit(x, scope, args, calls, code, d)?;
            for (op, y) in rest {
                emit(y, scope, args, calls, code, d)?;
                push_folded(
                    code,
                    match *op {
                        "+" => Op::Add,
                        "-" => Op::Sub,
                        "*" => Op::Mul,
                        "/" => Op::Div,
                        "^" => Op::Pow,
                        c => Op::Cmp(CmpOp::by_symbol(c)),
                    },
                );
            }
        }
        Ast::If(c, x, y) => {
            emit(c, scope, args, calls, code, d)?;
            emit(x, scope, args, calls, code, d)?;
            emit(y, scope, args, calls, code, d)?;
            code.ops.push(Op::Select);
        }
        Ast::Sum(_, _, _, pos) => {
            return Err(ExprError {
                pos: *pos,
                reason: "sum(lo, hi)of(…) is not allowed here".into(),
            });
        }
        Ast::Call(name, call_args, pos) => {
            emit_call(name, call_args, *pos, scope, args, calls, code, d)?
        }
    }
    Ok(())
}

/// The error for an expression nested past [`MAX_DEPTH`].
fn too_deep(pos: Pos) -> ExprError {
    ExprError {
        pos,
        reason: format!(
            "expression nested more than {MAX_DEPTH} deep once user functions are inlined"
        ),
    }
}

/// [`emit`] for a call (its own frame: the common path of `emit` stays small on the stack).
#[inline(never)]
#[allow(clippy::too_many_arguments)]
fn emit_call(
    name: &String,
    call_args: &[Ast],
    pos: Pos,
    scope: &Scope,
    args: &HashMap<String, Ast>,
    calls: &mut Vec<String>,
    code: &mut Code,
    d: usize,
) -> Result<(), ExprError> {
    let pos = &pos;
    let arity = |want: usize| -> Result<(), ExprError> {
        if call_args.len() == want {
            Ok(())
        } else {
            Err(ExprError {
                pos: *pos,
                reason: format!("{name} takes {want} argument(s), given {}", call_args.len()),
            })
        }
    };
    if let Some(f) = Fn1::by_name(name) {
        arity(1)?;
        emit(&call_args[0], scope, args, calls, code, d)?;
        code.ops.push(Op::Call(f));
    } else if let Some(op) = match name.as_str() {
        "min" => Some(Op::Min),
        "max" => Some(Op::Max),
        "atan2" => Some(Op::Atan2),
        "mod" => Some(Op::Mod),
        _ => None,
    } {
        arity(2)?;
        emit(&call_args[0], scope, args, calls, code, d)?;
        emit(&call_args[1], scope, args, calls, code, d)?;
        code.ops.push(op);
    } else if let Some((params, body, _)) = scope.functions.get(name) {
        arity(params.len())?;
        let too_large = || ExprError {
            pos: *pos,
            reason: format!(
                "expression too large once user functions are inlined (more than {MAX_OPS} operations)"
            ),
        };
        if code.ops.len() > MAX_OPS {
            return Err(too_large());
        }
        if calls.contains(name) {
            return Err(ExprError {
                pos: *pos,
                reason: format!("circular definition: {} -> {name}", calls.join(" -> ")),
            });
        }
        // The arguments, as trees: refuse before building one too deep to walk.
        let depths: HashMap<String, usize> = args
            .iter()
            .map(|(k, v)| (k.clone(), ast_depth(v)))
            .collect();
        if let Some(deep) = call_args
            .iter()
            .find(|x| depth_with(x, &depths) > MAX_DEPTH)
        {
            return Err(too_deep(first_pos(deep).unwrap_or(*pos)));
        }
        // Substitute the caller's argument expressions (themselves resolved in the
        // caller's argument scope) for the parameters.
        let bound: HashMap<String, Ast> = params
            .iter()
            .zip(call_args)
            .map(|(p, a)| (p.clone(), substitute(a, args)))
            .collect();
        if bound.values().map(size).sum::<usize>() > MAX_OPS {
            return Err(too_large());
        }
        calls.push(name.clone());
        let inlined = emit(body, scope, &bound, calls, code, d);
        calls.pop();
        match inlined {
            // Too large: name the outermost call, the one written in the expression
            // being compiled, rather than a call deep inside the functions.
            Err(e) if calls.is_empty() && e.reason == too_large().reason => {
                return Err(too_large());
            }
            other => other?,
        }
    } else if let Some(t) = scope.tables.get(name) {
        arity(1)?;
        emit(&call_args[0], scope, args, calls, code, d)?;
        code.ops.push(Op::Lookup(*t));
    } else if let Some((_, why)) = UNSUPPORTED.iter().find(|(n, _)| n == name) {
        return Err(ExprError {
            pos: *pos,
            reason: format!("{name}: {why}"),
        });
    } else {
        return Err(ExprError {
            pos: *pos,
            reason: format!("unknown function '{name}'"),
        });
    }
    Ok(())
}

/// Push `op`, folding it into a constant when its operands are constants (`-(v+40)/10`
/// keeps one division by a constant, `2*3` becomes `6`): fewer ops per evaluation.
fn push_folded(code: &mut Code, op: Op) {
    let n = code.ops.len();
    match (op, &code.ops[n.saturating_sub(2)..]) {
        (Op::Neg, [.., Op::Const(a)]) => {
            code.ops[n - 1] = Op::Const(-a);
            return;
        }
        (Op::Add | Op::Sub | Op::Mul | Op::Div, [Op::Const(a), Op::Const(b)]) => {
            let v = match op {
                Op::Add => a + b,
                Op::Sub => a - b,
                Op::Mul => a * b,
                _ => a / b,
            };
            code.ops.truncate(n - 2);
            code.ops.push(Op::Const(v));
            return;
        }
        _ => {}
    }
    // Fuse a binary operator with a constant or slot right operand.
    let arith = match op {
        Op::Add => Some(Arith::Add),
        Op::Sub => Some(Arith::Sub),
        Op::Mul => Some(Arith::Mul),
        Op::Div => Some(Arith::Div),
        _ => None,
    };
    match (op, arith, code.ops.last().copied()) {
        (_, Some(f), Some(Op::Const(c))) => code.ops[n - 1] = Op::ArithC(f, c),
        (_, Some(f), Some(Op::Slot(k))) => code.ops[n - 1] = Op::ArithS(f, k),
        (Op::Pow, _, Some(Op::Const(c))) if c == c.round() && c.abs() < 64.0 => {
            code.ops[n - 1] = Op::PowI(c as i32)
        }
        _ => code.ops.push(op),
    }
}

/// `a` with the names bound in `args` replaced by their expressions.
pub fn substitute(a: &Ast, args: &HashMap<String, Ast>) -> Ast {
    match a {
        Ast::Name(n, _) => args.get(n).cloned().unwrap_or_else(|| a.clone()),
        Ast::Num(_) => a.clone(),
        Ast::Neg(x) => Ast::Neg(Box::new(substitute(x, args))),
        Ast::Chain(x, rest) => Ast::Chain(
            Box::new(substitute(x, args)),
            rest.iter()
                .map(|(op, y)| (*op, substitute(y, args)))
                .collect(),
        ),
        Ast::Sum(a, b, c, p) => Ast::Sum(
            Box::new(substitute(a, args)),
            Box::new(substitute(b, args)),
            Box::new(substitute(c, args)),
            *p,
        ),
        Ast::If(c, x, y) => Ast::If(
            Box::new(substitute(c, args)),
            Box::new(substitute(x, args)),
            Box::new(substitute(y, args)),
        ),
        Ast::Call(n, xs, p) => Ast::Call(
            n.clone(),
            xs.iter().map(|x| substitute(x, args)).collect(),
            *p,
        ),
    }
}

/// The names expressions read (through inlined functions too), for ordering fixed
/// quantities. Each function's free names are found once and remembered, so a function called
/// many times (or a call chain that inlining would grow exponentially) costs its size once;
/// recursion is cut here and reported by [`compile`]. A table read by name reads all its
/// values.
pub struct NameReader<'a> {
    functions: &'a Functions,
    /// Table name -> the names of its values.
    tables: &'a HashMap<String, Vec<String>>,
    known: HashMap<String, Vec<String>>,
    open: Vec<String>,
    /// Current recursion depth, and whether it ever passed [`MAX_DEPTH`] (then reading
    /// stops: the file is refused, see [`NameReader::too_deep`]).
    depth: usize,
    too_deep: bool,
}

impl<'a> NameReader<'a> {
    pub fn new(
        functions: &'a Functions,
        tables: &'a HashMap<String, Vec<String>>,
    ) -> NameReader<'a> {
        NameReader {
            functions,
            tables,
            known: HashMap::new(),
            open: vec![],
            depth: 0,
            too_deep: false,
        }
    }

    /// Whether some expression nested past [`MAX_DEPTH`] with its functions inlined: the
    /// names read are then incomplete, and [`compile`] would refuse it.
    pub fn too_deep(&self) -> bool {
        self.too_deep
    }

    /// Append the names `a` reads to `out`.
    pub fn read(&mut self, a: &Ast, out: &mut Vec<String>) {
        if self.too_deep || self.depth > MAX_DEPTH {
            self.too_deep = true;
            return;
        }
        self.depth += 1;
        match a {
            Ast::Num(_) => {}
            Ast::Name(n, _) => out.push(n.clone()),
            Ast::Neg(x) => self.read(x, out),
            Ast::Chain(x, rest) => {
                self.read(x, out);
                for (_, y) in rest {
                    self.read(y, out);
                }
            }
            Ast::If(c, x, y) => {
                for e in [c, x, y] {
                    self.read(e, out);
                }
            }
            Ast::Sum(lo, hi, body, _) => {
                for e in [lo, hi, body] {
                    self.read(e, out);
                }
            }
            Ast::Call(n, xs, _) => {
                for x in xs {
                    self.read(x, out);
                }
                if let Some(values) = self.tables.get(n) {
                    out.extend(values.iter().cloned());
                }
                out.extend(self.function(n));
            }
        }
        self.depth -= 1;
    }

    /// The names function `name`'s body reads besides its arguments (none for a built-in).
    fn function(&mut self, name: &str) -> Vec<String> {
        if let Some(names) = self.known.get(name) {
            return names.clone();
        }
        let Some((params, body, _)) = self.functions.get(name) else {
            return vec![];
        };
        if self.open.iter().any(|n| n == name) {
            return vec![];
        }
        self.open.push(name.to_string());
        let mut inner = vec![];
        self.read(body, &mut inner);
        self.open.pop();
        inner.retain(|m| !params.contains(m));
        inner.sort();
        inner.dedup();
        if !self.too_deep {
            self.known.insert(name.to_string(), inner.clone());
        }
        inner
    }
}

/// Test helper: compile with `names` bound to slots 0, 1, …
#[cfg(test)]
pub fn compile_test(a: &Ast, names: &[&str], code: &mut Code) {
    let slots: HashMap<String, usize> = names
        .iter()
        .enumerate()
        .map(|(k, n)| (n.to_string(), k))
        .collect();
    let functions = HashMap::new();
    let tables = HashMap::new();
    compile(
        a,
        &Scope {
            slots: &slots,
            functions: &functions,
            tables: &tables,
        },
        code,
    )
    .unwrap();
}
