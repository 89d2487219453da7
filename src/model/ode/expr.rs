//! The XPPAUT expression language: tokens, a precedence-climbing parser to an AST, and a
//! compiler to a small stack bytecode evaluated on any [`Scalar`] (plain numbers for
//! simulation, dual numbers for exact Jacobians), so an expression is parsed once and never
//! re-read per step.
//!
//! Grammar (XPPAUT's, lowest precedence first): `|`, `&`, comparisons (`< > <= >= == !=`),
//! `+ -`, `* /`, unary `-`, `^` or `**` (left-associative, as XPPAUT reads `2^3^2` = 64),
//! calls `f(a, b)`,
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
    /// `[`, and whether it follows a name with no space (`x[j]` rather than `[j]`): XPPAUT's
    /// array indices, expanded before parsing (in the reader's array pass).
    LBrack(bool),
    /// `]`.
    RBrack,
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
            // Digits and a decimal point; `1..3` (an array range) is 1, `..`, 3.
            while i < chars.len()
                && (chars[i].is_ascii_digit()
                    || (chars[i] == '.' && chars.get(i + 1) != Some(&'.')))
            {
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
        let op2 = ["**", "<=", ">=", "==", "!=", ".."]
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
            '[' => Tok::LBrack(
                i > 0
                    && (chars[i - 1].is_alphanumeric()
                        || chars[i - 1] == '_'
                        || chars[i - 1] == '.'),
            ),
            ']' => Tok::RBrack,
            '{' | '}' => {
                return Err(ExprError {
                    pos: here,
                    reason: format!(
                        "unexpected '{c}': braces here belong to XPPAUT's int{{…}} integrals (Volterra equations), which are not supported"
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
    /// `first op1 a1 op2 a2 …`, applied left to right: `a + b*c - d` is `a`, `(+, b*c)`,
    /// `(-, d)`. Flat, so a sum of 20,000 terms is one level deep (every walk over the tree
    /// recurses no deeper than the brackets nest).
    Chain(Box<Ast>, Vec<(&'static str, Ast)>),
    /// A call of a function by name, with its arguments and where the name was written.
    Call(String, Vec<Ast>, Pos),
    /// `if(condition)then(a)else(b)`: condition, then-branch, else-branch.
    If(Box<Ast>, Box<Ast>, Box<Ast>),
    /// XPPAUT's `sum(lo, hi)of(body)`, `i'` the index in `body`; expanded before compiling
    /// (by the reader's desugaring pass).
    Sum(Box<Ast>, Box<Ast>, Box<Ast>, Pos),
}

impl Ast {
    /// `a op b`.
    pub fn bin(op: &'static str, a: Ast, b: Ast) -> Ast {
        match a {
            Ast::Chain(first, mut steps) => {
                steps.push((op, b));
                Ast::Chain(first, steps)
            }
            a => Ast::Chain(Box::new(a), vec![(op, b)]),
        }
    }
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
        Tok::LBrack(_) => "'[' (array indices belong to a line that declares x[a..b])".into(),
        Tok::RBrack => "']'".into(),
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
        // Left to right, as XPPAUT's parser groups them (2^3^2 = 64), not as mathematics does.
        "^" => (7, false),
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

    /// Precedence climbing: each operator this loop takes applies to everything before it
    /// (`lhs = lhs op rhs`), so the operators of one loop form one flat [`Ast::Chain`]; only
    /// a tighter operator's operand recurses, so recursion follows the brackets, not the
    /// length of the line.
    fn expr_inner(&mut self, min: u8) -> Result<Ast, ExprError> {
        let mut lhs = self.unary()?;
        while let Some((Tok::Op(op), _)) = self.toks.get(self.at) {
            let Some((bp, right)) = binary(op) else { break };
            if bp < min {
                break;
            }
            self.at += 1;
            let rhs = self.expr(if right { bp } else { bp + 1 })?;
            lhs = Ast::bin(op, lhs, rhs);
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
            // `i'`: the index of a sum(lo, hi)of(…); `t'`: the integration variable of an
            // int{…}.
            Tok::Name(n)
                if (n == "i" || n == "t")
                    && self.toks.get(self.at).map(|t| &t.0) == Some(&Tok::Op("'")) =>
            {
                self.at += 1;
                Ok(Ast::Name(format!("{n}'"), pos))
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
                    if n == "sum"
                        && matches!(self.toks.get(self.at), Some((Tok::Name(o), _)) if o == "of")
                    {
                        // sum(lo, hi)of(body)
                        self.at += 1;
                        let [lo, hi]: [Ast; 2] = args.try_into().map_err(|_| ExprError {
                            pos,
                            reason: "sum(lo, hi)of(…) takes two bounds".into(),
                        })?;
                        self.expect(&Tok::LParen, "'(' after sum(lo, hi)of")?;
                        let body = self.expr(0)?;
                        self.expect(&Tok::RParen, "')' closing sum(lo, hi)of(…)")?;
                        return Ok(Ast::Sum(Box::new(lo), Box::new(hi), Box::new(body), pos));
                    }
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
    /// XPPAUT's table lookup `w(x)`: the top of the stack interpolated in a table whose values
    /// are slots.
    Lookup(Table),
}

impl Op {
    /// How many stack entries the op pops (every op pushes one).
    pub fn arity(&self) -> usize {
        match self {
            Op::Const(_) | Op::Slot(_) => 0,
            Op::Neg
            | Op::Call(_)
            | Op::PowI(_)
            | Op::ArithC(..)
            | Op::ArithS(..)
            | Op::Lookup(_) => 1,
            Op::Select => 3,
            _ => 2,
        }
    }

    /// The arithmetic of `Add`, `Sub`, `Mul` and `Div` (two operands off the stack).
    pub fn arith(&self) -> Option<Arith> {
        match self {
            Op::Add => Some(Arith::Add),
            Op::Sub => Some(Arith::Sub),
            Op::Mul => Some(Arith::Mul),
            Op::Div => Some(Arith::Div),
            _ => None,
        }
    }
}

/// A function table (`table w % n lo hi formula`) as bytecode sees it: its `n` values sit in
/// the slots from `base` on (fixed quantities, so a parameter the formula reads can change),
/// at `x = lo + k (hi - lo) / (n - 1)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Table {
    /// The slot of the table's first value.
    pub base: usize,
    /// How many values it holds.
    pub n: usize,
    /// The argument of its first value.
    pub lo: f64,
    /// The argument of its last value.
    pub hi: f64,
}

impl Table {
    /// The value at `x` as XPPAUT's `lookup` gives it: linear interpolation between the two
    /// values around `x`, extended linearly beyond the ends (the first or last interval).
    #[inline]
    pub fn at<T: Scalar>(&self, slots: &[T], x: T) -> T {
        let n = self.n;
        let dx = (self.hi - self.lo) / (n - 1) as f64;
        let y = &slots[self.base..self.base + n];
        // XPPAUT truncates towards zero: (int)((x - xlo) / dx).
        let r = ((x.re() - self.lo) / dx).trunc();
        if r >= 0.0 && r + 1.0 < n as f64 {
            let i = r as usize;
            let x1 = dx * i as f64 + self.lo;
            y[i] + (y[i + 1] - y[i]) * (x - T::from(x1)) / T::from(dx)
        } else if r < 0.0 {
            y[0] + (y[1] - y[0]) * (x - T::from(self.lo)) / T::from(dx)
        } else {
            y[n - 1] + (y[n - 1] - y[n - 2]) * (x - T::from(self.hi)) / T::from(dx)
        }
    }
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
    pub(super) fn apply<T: Scalar>(self, a: T, b: T) -> T {
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
        self.ops.iter().any(|op| match op {
            Op::Slot(s) | Op::ArithS(_, s) => *s == slot,
            Op::Lookup(t) => (t.base..t.base + t.n).contains(&slot),
            _ => false,
        })
    }

    /// The value slots this code reads (with repeats).
    pub fn slots_read(&self) -> impl Iterator<Item = usize> + '_ {
        self.ops.iter().flat_map(|op| match op {
            Op::Slot(s) | Op::ArithS(_, s) => *s..*s + 1,
            Op::Lookup(t) => t.base..t.base + t.n,
            _ => 0..0,
        })
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
                Op::Lookup(t) => st[sp - 1] = t.at(slots, st[sp - 1]),
                Op::Select => {
                    let (c, a, b) = (st[sp - 3], st[sp - 2], st[sp - 1]);
                    sp -= 2;
                    st[sp - 1] = if c.re() != 0.0 { a } else { b };
                }
                _ => {
                    let (a, b) = (st[sp - 2], st[sp - 1]);
                    sp -= 1;
                    st[sp - 1] = apply_binary(*op, a, b);
                }
            }
        }
        st[0]
    }
}

/// The binary op `op` on `a` (the lower operand) and `b` (the top of the stack). NaN for an op
/// that is not binary (the interpreters call it with binary ops only).
#[inline(always)]
pub(super) fn apply_binary<T: Scalar>(op: Op, a: T, b: T) -> T {
    match op {
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
        _ => T::from(f64::NAN),
    }
}

/// A compiled expression as a tree of closures over `f64` slots: the simulation path (no
/// operand stack, one indirect call per node); the bytecode stays for dual numbers.
pub type F64Fn = Box<dyn Fn(&[f64]) -> f64 + Send + Sync>;

/// Runs of arithmetic longer than this become one loop closure (so a sum of 20,000 terms is
/// a tree two levels high); shorter runs nest one closure per operation, the faster form.
const NEST: usize = 8;

/// A closure-tree node while building: a finished closure, or a run of arithmetic on a first
/// operand still open to more (`((a + b) * c) - d`).
enum Node {
    Fn(F64Fn, usize),
    Run(F64Fn, usize, Vec<(Arith, Operand)>),
}

/// The right operand of one operation of a run.
enum Operand {
    Const(f64),
    Slot(usize),
    Fn(F64Fn, usize),
}

impl Code {
    /// The closure tree of this code (for `f64` evaluation).
    pub fn closure(&self) -> F64Fn {
        self.tree().0
    }

    /// The height of the closure tree: how deep its evaluation recurses.
    pub fn height(&self) -> usize {
        self.tree().1
    }

    /// The closure tree and its height. Evaluating it performs the bytecode's operations in
    /// the bytecode's order, so the results are equal bit for bit.
    fn tree(&self) -> (F64Fn, usize) {
        let mut st: Vec<Node> = Vec::with_capacity(self.depth + 1);
        for op in &self.ops {
            let node = match *op {
                Op::Const(c) => Node::Fn(Box::new(move |_| c), 1),
                Op::Slot(k) => Node::Fn(Box::new(move |s| s[k]), 1),
                Op::ArithC(f, c) => extend(pop(&mut st), f, Operand::Const(c)),
                Op::ArithS(f, k) => extend(pop(&mut st), f, Operand::Slot(k)),
                Op::Add | Op::Sub | Op::Mul | Op::Div => {
                    let (b, hb) = finish(pop(&mut st));
                    let f = op.arith().expect("an arithmetic op");
                    extend(pop(&mut st), f, Operand::Fn(b, hb))
                }
                Op::Neg => {
                    let (a, h) = finish(pop(&mut st));
                    Node::Fn(Box::new(move |s| -a(s)), h + 1)
                }
                Op::Call(f) => {
                    let (a, h) = finish(pop(&mut st));
                    match f {
                        Fn1::Exp => Node::Fn(Box::new(move |s| a(s).exp()), h + 1),
                        _ => Node::Fn(Box::new(move |s| call1(f, a(s))), h + 1),
                    }
                }
                Op::PowI(n) => {
                    let (a, h) = finish(pop(&mut st));
                    Node::Fn(Box::new(move |s| a(s).powi(n)), h + 1)
                }
                Op::Lookup(t) => {
                    let (a, h) = finish(pop(&mut st));
                    Node::Fn(Box::new(move |s| t.at(s, a(s))), h + 1)
                }
                Op::Select => {
                    let (b, hb) = finish(pop(&mut st));
                    let (a, ha) = finish(pop(&mut st));
                    let (c, hc) = finish(pop(&mut st));
                    Node::Fn(
                        Box::new(move |s| if c(s) != 0.0 { a(s) } else { b(s) }),
                        ha.max(hb).max(hc) + 1,
                    )
                }
                binary => {
                    let (b, hb) = finish(pop(&mut st));
                    let (a, ha) = finish(pop(&mut st));
                    let f: F64Fn = match binary {
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
                    };
                    Node::Fn(f, ha.max(hb) + 1)
                }
            };
            st.push(node);
        }
        match st.pop() {
            Some(n) => finish(n),
            None => (Box::new(|_| 0.0), 1),
        }
    }
}

/// The top node (a well-formed program always has one).
fn pop(st: &mut Vec<Node>) -> Node {
    st.pop()
        .unwrap_or_else(|| Node::Fn(Box::new(|_| f64::NAN), 1))
}

/// `a f x`: the run `a` continued, or a new run on `a`.
fn extend(a: Node, f: Arith, x: Operand) -> Node {
    match a {
        Node::Run(first, h, mut steps) => {
            steps.push((f, x));
            Node::Run(first, h, steps)
        }
        Node::Fn(g, h) => Node::Run(g, h, vec![(f, x)]),
    }
}

/// A closure as an [`F64Fn`] (its argument's lifetime left general).
fn boxed(f: impl Fn(&[f64]) -> f64 + Send + Sync + 'static) -> F64Fn {
    Box::new(f)
}

/// A node as one closure: a short run nests one closure per operation, a long one loops.
fn finish(n: Node) -> (F64Fn, usize) {
    match n {
        Node::Fn(f, h) => (f, h),
        Node::Run(first, h, steps) if steps.len() <= NEST => {
            let (mut a, mut h) = (first, h);
            for (f, x) in steps {
                (a, h) = match x {
                    Operand::Const(c) => (
                        match f {
                            Arith::Add => boxed(move |s| a(s) + c),
                            Arith::Sub => boxed(move |s| a(s) - c),
                            Arith::Mul => boxed(move |s| a(s) * c),
                            Arith::Div => boxed(move |s| a(s) / c),
                        },
                        h + 1,
                    ),
                    Operand::Slot(k) => (
                        match f {
                            Arith::Add => boxed(move |s| a(s) + s[k]),
                            Arith::Sub => boxed(move |s| a(s) - s[k]),
                            Arith::Mul => boxed(move |s| a(s) * s[k]),
                            Arith::Div => boxed(move |s| a(s) / s[k]),
                        },
                        h + 1,
                    ),
                    Operand::Fn(b, hb) => (
                        match f {
                            Arith::Add => boxed(move |s| a(s) + b(s)),
                            Arith::Sub => boxed(move |s| a(s) - b(s)),
                            Arith::Mul => boxed(move |s| a(s) * b(s)),
                            Arith::Div => boxed(move |s| a(s) / b(s)),
                        },
                        h.max(hb) + 1,
                    ),
                };
            }
            (a, h)
        }
        Node::Run(first, h, steps) => {
            let height = steps
                .iter()
                .map(|(_, x)| match x {
                    Operand::Fn(_, h) => *h,
                    _ => 0,
                })
                .fold(h, usize::max)
                + 1;
            let run: F64Fn = boxed(move |s| {
                let mut acc = first(s);
                for (f, x) in &steps {
                    let b = match x {
                        Operand::Const(c) => *c,
                        Operand::Slot(k) => s[*k],
                        Operand::Fn(g, _) => g(s),
                    };
                    acc = f.apply(acc, b);
                }
                acc
            });
            (run, height)
        }
    }
}

pub(super) fn compare(c: CmpOp, a: f64, b: f64) -> bool {
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
pub(super) fn pow<T: Scalar>(a: T, b: T) -> T {
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

pub(super) fn call1<T: Scalar>(f: Fn1, a: T) -> T {
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
        // XPPAUT groups powers left to right: 2^3^2 = (2^3)^2 = 64 (XPPAUT 6.11 prints 64 for
        // `aux y=2^3^2` and for `2**3**2`); -2^2 = -4, 1-2-3 = -4, 2*3+4 = 10.
        let eval = |s: &str| -> f64 {
            let mut code = Code::default();
            compile_const(&ast(s), &mut code);
            code.eval::<f64>(&[], &mut vec![])
        };
        assert_eq!(eval("2^3^2"), 64.0);
        assert_eq!(eval("2**3**2"), 64.0);
        assert_eq!(eval("2^(3^2)"), 512.0);
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
