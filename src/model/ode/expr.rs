//! The XPPAUT expression language: tokens, a precedence-climbing parser to an AST, and a
//! compiler to a small stack bytecode evaluated on any [`Scalar`] (plain numbers for
//! simulation, dual numbers for exact Jacobians), so an expression is parsed once and never
//! re-read per step.
//!
//! Grammar (XPPAUT's, lowest precedence first): `|`, `&`, comparisons (`< > <= >= == !=`),
//! `+ -`, `* /`, unary `-`, `^` or `**` (right-associative), calls `f(a, b)`,
//! `if(c)then(a)else(b)`, numbers, names; `not(x)` is a function. Comparisons and logic give
//! 1 or 0 (with zero derivative). Names are case-insensitive (lower-cased by the lexer).

use crate::numerics::Scalar;

/// Where in the file a token starts (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    /// 1-based line in the file.
    pub line: usize,
    /// 1-based column (in characters) within the line.
    pub col: usize,
}

/// A syntax or name error with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct ExprError {
    /// Where the offending token starts.
    pub pos: Pos,
    /// What is wrong, and what was expected.
    pub reason: String,
}

/// A token.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// A number literal (`1.5e-1`).
    Num(f64),
    /// A name (parameter, variable, function), lower-cased.
    Name(String),
    /// An operator symbol (`+`, `<=`, `&`, ...); `**` is lexed as `^`.
    Op(&'static str),
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `,` between call arguments.
    Comma,
}

/// Split `text` (one logical line, starting at `pos`) into tokens with their positions.
pub fn lex(text: &str, pos: Pos) -> Result<Vec<(Tok, Pos)>, ExprError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = vec![];
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let here = Pos {
            line: pos.line,
            col: pos.col + i,
        };
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
                let mut j = i + 1;
                if j < chars.len() && (chars[j] == '+' || chars[j] == '-') {
                    j += 1;
                }
                if j < chars.len() && chars[j].is_ascii_digit() {
                    i = j;
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        i += 1;
                    }
                }
            }
            let s: String = chars[start..i].iter().collect();
            let v = s.parse::<f64>().map_err(|_| ExprError {
                pos: here,
                reason: format!("'{s}' is not a number"),
            })?;
            out.push((Tok::Num(v), here));
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let start = i;
            // XPPAUT names may contain dots after the first character (`P.E.`).
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '.')
            {
                i += 1;
            }
            let s: String = chars[start..i].iter().collect::<String>().to_lowercase();
            out.push((Tok::Name(s), here));
            continue;
        }
        let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
        let op2 = ["**", "<=", ">=", "==", "!="]
            .into_iter()
            .find(|o| *o == two);
        if let Some(o) = op2 {
            out.push((Tok::Op(if o == "**" { "^" } else { o }), here));
            i += 2;
            continue;
        }
        let tok = match c {
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            ',' => Tok::Comma,
            '+' => Tok::Op("+"),
            '-' => Tok::Op("-"),
            '*' => Tok::Op("*"),
            '/' => Tok::Op("/"),
            '^' => Tok::Op("^"),
            '<' => Tok::Op("<"),
            '>' => Tok::Op(">"),
            '&' => Tok::Op("&"),
            '|' => Tok::Op("|"),
            '=' => Tok::Op("="),
            '\'' => Tok::Op("'"),
            '{' | '}' => {
                return Err(ExprError {
                    pos: here,
                    reason: format!(
                        "unexpected '{c}': braces belong to XPPAUT's int{{…}} integrals, global flags and export, which are not supported"
                    ),
                });
            }
            _ => {
                return Err(ExprError {
                    pos: here,
                    reason: format!("unexpected character '{c}'"),
                });
            }
        };
        out.push((tok, here));
        i += 1;
    }
    Ok(out)
}

/// An expression tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Ast {
    /// A number literal.
    Num(f64),
    /// A name to resolve (parameter, variable, `t`, fixed quantity), with where it was written.
    Name(String, Pos),
    /// Unary minus.
    Neg(Box<Ast>),
    /// A binary operator (its symbol as lexed) applied to left and right operands.
    Bin(&'static str, Box<Ast>, Box<Ast>),
    /// A call of a function by name, with its arguments and where the name was written.
    Call(String, Vec<Ast>, Pos),
    /// `if(condition)then(a)else(b)`: condition, then-branch, else-branch.
    If(Box<Ast>, Box<Ast>, Box<Ast>),
}

/// Parse a whole token list as one expression.
pub fn parse(toks: &[(Tok, Pos)], end: Pos) -> Result<Ast, ExprError> {
    let mut p = Parser {
        toks,
        at: 0,
        end,
        nesting: 0,
    };
    let e = p.expr(0)?;
    if let Some((t, pos)) = toks.get(p.at) {
        return Err(ExprError {
            pos: *pos,
            reason: format!("unexpected {} after the expression", show(t)),
        });
    }
    Ok(e)
}

fn show(t: &Tok) -> String {
    match t {
        Tok::Num(v) => format!("number {v}"),
        Tok::Name(n) => format!("name '{n}'"),
        Tok::Op(o) => format!("'{o}'"),
        Tok::LParen => "'('".into(),
        Tok::RParen => "')'".into(),
        Tok::Comma => "','".into(),
    }
}

/// How deep brackets, calls and operators may nest in one expression (the parser recurses;
/// real models nest a few levels).
pub const MAX_NESTING: usize = 256;

struct Parser<'a> {
    toks: &'a [(Tok, Pos)],
    at: usize,
    end: Pos,
    /// Current recursion depth of `expr`.
    nesting: usize,
}

/// Binding power of a binary operator (higher binds tighter) and right-associativity.
fn binary(op: &str) -> Option<(u8, bool)> {
    Some(match op {
        "|" => (1, false),
        "&" => (2, false),
        "<" | ">" | "<=" | ">=" | "==" | "!=" => (3, false),
        "+" | "-" => (4, false),
        "*" | "/" => (5, false),
        "^" => (7, true),
        _ => return None,
    })
}

impl Parser<'_> {
    fn pos(&self) -> Pos {
        self.toks.get(self.at).map_or(self.end, |t| t.1)
    }

    fn err<T>(&self, reason: String) -> Result<T, ExprError> {
        Err(ExprError {
            pos: self.pos(),
            reason,
        })
    }

    fn expect(&mut self, want: &Tok, what: &str) -> Result<(), ExprError> {
        match self.toks.get(self.at) {
            Some((t, _)) if t == want => {
                self.at += 1;
                Ok(())
            }
            Some((t, _)) => self.err(format!("expected {what}, found {}", show(t))),
            None => self.err(format!("expected {what} at the end of the line")),
        }
    }

    fn expr(&mut self, min: u8) -> Result<Ast, ExprError> {
        if self.nesting >= MAX_NESTING {
            return self.err(format!(
                "expression nested more than {MAX_NESTING} levels deep"
            ));
        }
        self.nesting += 1;
        let e = self.expr_inner(min);
        self.nesting -= 1;
        e
    }

    fn expr_inner(&mut self, min: u8) -> Result<Ast, ExprError> {
        let mut lhs = self.unary()?;
        while let Some((Tok::Op(op), _)) = self.toks.get(self.at) {
            let Some((bp, right)) = binary(op) else { break };
            if bp < min {
                break;
            }
            self.at += 1;
            let rhs = self.expr(if right { bp } else { bp + 1 })?;
            lhs = Ast::Bin(op, Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Ast, ExprError> {
        match self.toks.get(self.at) {
            Some((Tok::Op("-"), _)) => {
                self.at += 1;
                // -x^2 is -(x^2), as in XPPAUT and mathematics.
                Ok(Ast::Neg(Box::new(self.expr(6)?)))
            }
            Some((Tok::Op("+"), _)) => {
                self.at += 1;
                self.expr(6)
            }
            _ => self.atom(),
        }
    }

    fn atom(&mut self) -> Result<Ast, ExprError> {
        let Some((t, pos)) = self.toks.get(self.at).cloned() else {
            return self.err("expected an expression at the end of the line".into());
        };
        self.at += 1;
        match t {
            Tok::Num(v) => Ok(Ast::Num(v)),
            Tok::LParen => {
                let e = self.expr(0)?;
                self.expect(&Tok::RParen, "')'")?;
                Ok(e)
            }
            Tok::Name(n) if n == "if" => {
                self.expect(&Tok::LParen, "'(' after if")?;
                let c = self.expr(0)?;
                self.expect(&Tok::RParen, "')'")?;
                self.keyword("then")?;
                self.expect(&Tok::LParen, "'(' after then")?;
                let a = self.expr(0)?;
                self.expect(&Tok::RParen, "')'")?;
                self.keyword("else")?;
                self.expect(&Tok::LParen, "'(' after else")?;
                let b = self.expr(0)?;
                self.expect(&Tok::RParen, "')'")?;
                Ok(Ast::If(Box::new(c), Box::new(a), Box::new(b)))
            }
            Tok::Name(n) => {
                if self.toks.get(self.at).map(|t| &t.0) == Some(&Tok::LParen) {
                    self.at += 1;
                    let mut args = vec![];
                    if self.toks.get(self.at).map(|t| &t.0) != Some(&Tok::RParen) {
                        loop {
                            args.push(self.expr(0)?);
                            match self.toks.get(self.at).map(|t| &t.0) {
                                Some(Tok::Comma) => self.at += 1,
                                _ => break,
                            }
                        }
                    }
                    self.expect(&Tok::RParen, "')' closing the call")?;
                    Ok(Ast::Call(n, args, pos))
                } else {
                    Ok(Ast::Name(n, pos))
                }
            }
            other => Err(ExprError {
                pos,
                reason: format!("expected an expression, found {}", show(&other)),
            }),
        }
    }

    fn keyword(&mut self, word: &str) -> Result<(), ExprError> {
        match self.toks.get(self.at) {
            Some((Tok::Name(n), _)) if n == word => {
                self.at += 1;
                Ok(())
            }
            _ => self.err(format!("expected '{word}' in if(…)then(…)else(…)")),
        }
    }
}

/// Built-in functions of one argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fn1 {
    /// `exp(x)`
    Exp,
    /// Natural logarithm, `ln(x)` or `log(x)`.
    Ln,
    /// Base-10 logarithm, `log10(x)`.
    Log10,
    /// `sqrt(x)`
    Sqrt,
    /// `sin(x)`, x in radians.
    Sin,
    /// `cos(x)`, x in radians.
    Cos,
    /// `tan(x)`, x in radians.
    Tan,
    /// `tanh(x)`
    Tanh,
    /// `sinh(x)`
    Sinh,
    /// `cosh(x)`
    Cosh,
    /// `abs(x)`; its derivative is the sign of x (1 at 0).
    Abs,
    /// Heaviside step `heav(x)`: 1 for x >= 0, else 0 (zero derivative).
    Heav,
    /// `sign(x)`: 1, -1 or 0 (zero derivative).
    Sign,
    /// Logical not `not(x)`: 1 where x is 0, else 0 (zero derivative).
    Not,
    /// `asin(x)`, in radians.
    Asin,
    /// `acos(x)`, in radians.
    Acos,
    /// `atan(x)`, in radians.
    Atan,
    /// Floor and ceiling: piecewise constant, zero derivative.
    Flr,
    /// Ceiling, `ceil(x)` (zero derivative).
    Ceil,
}

impl Fn1 {
    /// The function XPPAUT calls `n` (lower-case), or `None` for a name that is not a built-in
    /// function of one argument.
    pub fn by_name(n: &str) -> Option<Fn1> {
        Some(match n {
            "exp" => Fn1::Exp,
            "ln" | "log" => Fn1::Ln,
            "log10" => Fn1::Log10,
            "sqrt" => Fn1::Sqrt,
            "sin" => Fn1::Sin,
            "cos" => Fn1::Cos,
            "tan" => Fn1::Tan,
            "tanh" => Fn1::Tanh,
            "sinh" => Fn1::Sinh,
            "cosh" => Fn1::Cosh,
            "abs" => Fn1::Abs,
            "heav" => Fn1::Heav,
            "sign" => Fn1::Sign,
            "not" => Fn1::Not,
            "asin" => Fn1::Asin,
            "acos" => Fn1::Acos,
            "atan" => Fn1::Atan,
            "flr" => Fn1::Flr,
            "ceil" => Fn1::Ceil,
            _ => return None,
        })
    }
}

/// One bytecode instruction of the stack machine.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    /// Push a constant.
    Const(f64),
    /// A value slot: parameters, then state variables, then time, then fixed quantities.
    Slot(usize),
    /// Negate the top of the stack.
    Neg,
    /// Pop b, a; push a + b.
    Add,
    /// Pop b, a; push a - b.
    Sub,
    /// Pop b, a; push a * b.
    Mul,
    /// Pop b, a; push a / b.
    Div,
    /// Pop b, a; push a^b (an integer power when b is a constant integer).
    Pow,
    /// Comparisons and logic on the real parts: 1 or 0 (constant: zero derivative).
    Cmp(CmpOp),
    /// Apply a built-in function of one argument to the top of the stack.
    Call(Fn1),
    /// Pop b, a; push the smaller (by value; its derivative comes with it).
    Min,
    /// Pop b, a; push the larger (by value; its derivative comes with it).
    Max,
    /// `atan2(y, x)`, the angle of (x, y).
    Atan2,
    /// `mod(a, b) = a - b flr(a / b)` (XPPAUT's; the sign follows `b`).
    Mod,
    /// Pop else, then, condition; push `then` where the condition is non-zero.
    Select,
    /// Fused forms (fewer dispatches): the top of the stack combined with a constant, with a
    /// slot, or raised to a constant integer power.
    ArithC(Arith, f64),
    /// The top of the stack combined with a value slot (`x op slots[k]`).
    ArithS(Arith, usize),
    /// The top of the stack raised to a constant integer power.
    PowI(i32),
}

/// Comparison and logic operators (results 1 or 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `<`
    Lt,
    /// `>`
    Gt,
    /// `<=`
    Le,
    /// `>=`
    Ge,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `&`: 1 when both operands are non-zero.
    And,
    /// `|`: 1 when either operand is non-zero.
    Or,
}

impl CmpOp {
    /// The operator lexed as `s` (`<`, `>`, `<=`, `>=`, `==`, `!=`, `&`); any other symbol is
    /// `|`, as the compiler calls this only for comparison and logic operators.
    pub fn by_symbol(s: &str) -> CmpOp {
        match s {
            "<" => CmpOp::Lt,
            ">" => CmpOp::Gt,
            "<=" => CmpOp::Le,
            ">=" => CmpOp::Ge,
            "==" => CmpOp::Eq,
            "!=" => CmpOp::Ne,
            "&" => CmpOp::And,
            _ => CmpOp::Or,
        }
    }
}

/// The four arithmetic operators of the fused ops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arith {
    /// `x + c`
    Add,
    /// `x - c`
    Sub,
    /// `x * c`
    Mul,
    /// `x / c`
    Div,
}

impl Arith {
    #[inline(always)]
    fn apply<T: Scalar>(self, a: T, b: T) -> T {
        match self {
            Arith::Add => a + b,
            Arith::Sub => a - b,
            Arith::Mul => a * b,
            Arith::Div => a / b,
        }
    }
}

/// A compiled expression.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Code {
    /// The instructions, run in order; the value is left on the stack's bottom.
    pub ops: Vec<Op>,
    /// Largest stack depth it needs.
    pub depth: usize,
}

impl Code {
    /// Whether this code reads value slot `slot`.
    pub fn reads_slot(&self, slot: usize) -> bool {
        self.ops
            .iter()
            .any(|op| matches!(op, Op::Slot(s) | Op::ArithS(_, s) if *s == slot))
    }

    /// Evaluate with `slots` as the value slots; `stack` is scratch (reused across calls).
    #[inline]
    pub fn eval<T: Scalar>(&self, slots: &[T], stack: &mut Vec<T>) -> T {
        // A stack of the compiled depth, indexed (no push/pop capacity checks in the loop).
        if stack.len() < self.depth + 1 {
            stack.resize(self.depth + 1, T::zero());
        }
        let st = &mut stack[..];
        let mut sp = 0usize;
        for op in &self.ops {
            match *op {
                Op::Const(c) => {
                    st[sp] = T::from(c);
                    sp += 1;
                }
                Op::Slot(k) => {
                    st[sp] = slots[k];
                    sp += 1;
                }
                Op::Neg => st[sp - 1] = -st[sp - 1],
                Op::ArithC(f, c) => st[sp - 1] = f.apply(st[sp - 1], T::from(c)),
                Op::ArithS(f, k) => st[sp - 1] = f.apply(st[sp - 1], slots[k]),
                Op::PowI(n) => st[sp - 1] = st[sp - 1].powi(n),
                Op::Call(f) => st[sp - 1] = call1(f, st[sp - 1]),
                Op::Select => {
                    let (c, a, b) = (st[sp - 3], st[sp - 2], st[sp - 1]);
                    sp -= 2;
                    st[sp - 1] = if c.re() != 0.0 { a } else { b };
                }
                _ => {
                    let (a, b) = (st[sp - 2], st[sp - 1]);
                    sp -= 1;
                    st[sp - 1] = match *op {
                        Op::Add => a + b,
                        Op::Sub => a - b,
                        Op::Mul => a * b,
                        Op::Div => a / b,
                        Op::Pow => pow(a, b),
                        Op::Min => {
                            if b.re() < a.re() {
                                b
                            } else {
                                a
                            }
                        }
                        Op::Max => {
                            if b.re() > a.re() {
                                b
                            } else {
                                a
                            }
                        }
                        Op::Cmp(c) => T::from(f64::from(compare(c, a.re(), b.re()))),
                        Op::Atan2 => a.atan2(b),
                        Op::Mod => a - b * T::from((a.re() / b.re()).floor()),
                        _ => unreachable!("other ops are handled above"),
                    };
                }
            }
        }
        st[0]
    }
}

/// A compiled expression as a tree of closures over `f64` slots: the simulation path (no
/// operand stack, one indirect call per node); the bytecode stays for dual numbers.
pub type F64Fn = Box<dyn Fn(&[f64]) -> f64 + Send + Sync>;

impl Code {
    /// The closure tree of this code (for `f64` evaluation).
    pub fn closure(&self) -> F64Fn {
        let mut st: Vec<F64Fn> = Vec::with_capacity(self.depth + 1);
        for op in &self.ops {
            let node: F64Fn = match *op {
                Op::Const(c) => Box::new(move |_| c),
                Op::Slot(k) => Box::new(move |s| s[k]),
                Op::Neg => {
                    let a = pop(&mut st);
                    Box::new(move |s| -a(s))
                }
                Op::Call(f) => {
                    let a = pop(&mut st);
                    match f {
                        Fn1::Exp => Box::new(move |s| a(s).exp()),
                        _ => Box::new(move |s| call1(f, a(s))),
                    }
                }
                Op::ArithC(f, c) => {
                    let a = pop(&mut st);
                    match f {
                        Arith::Add => Box::new(move |s| a(s) + c),
                        Arith::Sub => Box::new(move |s| a(s) - c),
                        Arith::Mul => Box::new(move |s| a(s) * c),
                        Arith::Div => Box::new(move |s| a(s) / c),
                    }
                }
                Op::ArithS(f, k) => {
                    let a = pop(&mut st);
                    match f {
                        Arith::Add => Box::new(move |s| a(s) + s[k]),
                        Arith::Sub => Box::new(move |s| a(s) - s[k]),
                        Arith::Mul => Box::new(move |s| a(s) * s[k]),
                        Arith::Div => Box::new(move |s| a(s) / s[k]),
                    }
                }
                Op::PowI(n) => {
                    let a = pop(&mut st);
                    Box::new(move |s| a(s).powi(n))
                }
                Op::Select => {
                    let (b, a, c) = (pop(&mut st), pop(&mut st), pop(&mut st));
                    Box::new(move |s| if c(s) != 0.0 { a(s) } else { b(s) })
                }
                binary => {
                    let (b, a) = (pop(&mut st), pop(&mut st));
                    match binary {
                        Op::Add => Box::new(move |s| a(s) + b(s)),
                        Op::Sub => Box::new(move |s| a(s) - b(s)),
                        Op::Mul => Box::new(move |s| a(s) * b(s)),
                        Op::Div => Box::new(move |s| a(s) / b(s)),
                        Op::Pow => Box::new(move |s| pow(a(s), b(s))),
                        Op::Min => Box::new(move |s| {
                            let (x, y) = (a(s), b(s));
                            if y < x { y } else { x }
                        }),
                        Op::Max => Box::new(move |s| {
                            let (x, y) = (a(s), b(s));
                            if y > x { y } else { x }
                        }),
                        Op::Cmp(c) => Box::new(move |s| f64::from(compare(c, a(s), b(s)))),
                        Op::Atan2 => Box::new(move |s| a(s).atan2(b(s))),
                        Op::Mod => Box::new(move |s| {
                            let (x, y) = (a(s), b(s));
                            x - y * (x / y).floor()
                        }),
                        _ => unreachable!("every other op is matched above"),
                    }
                }
            };
            st.push(node);
        }
        st.pop().unwrap_or_else(|| Box::new(|_| 0.0))
    }
}

/// The top closure (a well-formed program always has one).
fn pop(st: &mut Vec<F64Fn>) -> F64Fn {
    st.pop().unwrap_or_else(|| Box::new(|_| f64::NAN))
}

fn compare(c: CmpOp, a: f64, b: f64) -> bool {
    match c {
        CmpOp::Lt => a < b,
        CmpOp::Gt => a > b,
        CmpOp::Le => a <= b,
        CmpOp::Ge => a >= b,
        CmpOp::Eq => a == b,
        CmpOp::Ne => a != b,
        CmpOp::And => a != 0.0 && b != 0.0,
        CmpOp::Or => a != 0.0 || b != 0.0,
    }
}

/// `a^b`: an integer power when `b` is a constant integer (exact for negative `a`), else
/// `exp(b ln a)`.
fn pow<T: Scalar>(a: T, b: T) -> T {
    let e = b.re();
    // A derivative part in the exponent needs the general form.
    if e == e.round() && e.abs() < 64.0 && is_constant(b) {
        return a.powi(e as i32);
    }
    a.powd(b)
}

/// Whether a scalar carries no derivative (its value equals itself with derivatives dropped).
fn is_constant<T: Scalar>(x: T) -> bool {
    x == T::from(x.re())
}

fn call1<T: Scalar>(f: Fn1, a: T) -> T {
    match f {
        Fn1::Exp => a.exp(),
        Fn1::Ln => a.ln(),
        Fn1::Log10 => a.log10(),
        Fn1::Sqrt => a.sqrt(),
        Fn1::Sin => a.sin(),
        Fn1::Cos => a.cos(),
        Fn1::Tan => a.tan(),
        Fn1::Tanh => a.tanh(),
        Fn1::Sinh => a.sinh(),
        Fn1::Cosh => a.cosh(),
        Fn1::Abs => {
            if a.re() < 0.0 {
                -a
            } else {
                a
            }
        }
        Fn1::Heav => T::from(if a.re() >= 0.0 { 1.0 } else { 0.0 }),
        Fn1::Sign => T::from(if a.re() > 0.0 {
            1.0
        } else if a.re() < 0.0 {
            -1.0
        } else {
            0.0
        }),
        Fn1::Not => T::from(if a.re() == 0.0 { 1.0 } else { 0.0 }),
        Fn1::Asin => a.asin(),
        Fn1::Acos => a.acos(),
        Fn1::Atan => a.atan(),
        Fn1::Flr => T::from(a.re().floor()),
        Fn1::Ceil => T::from(a.re().ceil()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_dual::Dual64;

    fn p0() -> Pos {
        Pos { line: 1, col: 1 }
    }

    fn ast(s: &str) -> Ast {
        parse(&lex(s, p0()).unwrap(), p0()).unwrap()
    }

    #[test]
    fn precedence_and_associativity() {
        // 2^3^2 = 2^9, -2^2 = -4, 1-2-3 = -4, 2*3+4 = 10
        let eval = |s: &str| -> f64 {
            let mut code = Code::default();
            compile_const(&ast(s), &mut code);
            code.eval::<f64>(&[], &mut vec![])
        };
        assert_eq!(eval("2^3^2"), 512.0);
        assert_eq!(eval("2**3**2"), 512.0);
        assert_eq!(eval("-2^2"), -4.0);
        assert_eq!(eval("1-2-3"), -4.0);
        assert_eq!(eval("2*3+4"), 10.0);
        assert_eq!(eval("(1<2)&(3>=3)"), 1.0);
        assert_eq!(eval("if(1>2)then(5)else(7)"), 7.0);
        assert_eq!(eval("max(1,min(5,3))"), 3.0);
        assert_eq!(eval("heav(-1)+heav(0)+sign(-3)"), 0.0);
        assert_eq!(eval("1.5e-1*2E1"), 3.0);
        assert_eq!(eval("(-2)^3"), -8.0);
    }

    #[test]
    fn dual_numbers_carry_exact_derivatives() {
        // d/dx of x^3 * exp(-x) at 2 is (3x^2 - x^3) e^-x = 4 e^-2.
        let mut code = Code::default();
        compile_names(&ast("x^3*exp(-x)"), &["x"], &mut code);
        let x = Dual64::from(2.0).derivative();
        let y = code.eval(&[x], &mut vec![]);
        assert!((y.eps - 4.0 * (-2.0f64).exp()).abs() < 1e-14);
    }

    #[test]
    fn errors_have_positions() {
        let e = lex("a + $b", Pos { line: 4, col: 3 }).unwrap_err();
        assert_eq!((e.pos.line, e.pos.col), (4, 7));
        let toks = lex("(a+b", p0()).unwrap();
        let e = parse(&toks, Pos { line: 1, col: 5 }).unwrap_err();
        assert!(e.reason.contains("')'"), "{}", e.reason);
        let toks = lex("a b", p0()).unwrap();
        let e = parse(&toks, p0()).unwrap_err();
        assert_eq!(e.pos.col, 3);
    }

    /// Test helper: compile with names bound to slots in order.
    fn compile_names(a: &Ast, names: &[&str], code: &mut Code) {
        super::super::compile::compile_test(a, names, code);
    }

    fn compile_const(a: &Ast, code: &mut Code) {
        compile_names(a, &[], code);
    }
}
