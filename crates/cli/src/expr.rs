//! The expression language of `subgrad grad`: parse, then build on a tape.
//!
//! ```text
//! expr    := term (('+' | '-') term)*
//! term    := unary (('*' | '/') unary)*
//! unary   := '-' unary | power
//! power   := primary ('^' unary)?          right-associative, tighter than unary minus
//! primary := number | name | name '(' expr (',' expr)* ')' | '(' expr ')'
//! ```
//! So `-x^2` is `-(x^2)`, `2^3^2` is `2^9` and `x^-1` is `1/x`.
//! Functions: `relu abs exp ln log1p sqrt square softplus sigmoid tanh` (one argument),
//! `leaky_relu(x, α)` with a slope α that is a number (an expression without variables),
//! `max min` (two arguments: elementwise; three or more: a reduction over the arguments),
//! `pow(x, p)` (the same as `x^p`), and `clamp(x, lo, hi)` with bounds that are numbers.
//! The kinks are `relu`, `leaky_relu` and `abs` at 0, `max`/`min` at a tie and `clamp` at a
//! bound; the other functions are smooth.
//!
//! `x^p` is the engine's `powi` for an exponent that is an integer constant (|p| < 2³¹; so `x^2`
//! at 0 is 0 with derivative 0, and `x^-1` at 0 is an error at the `^`), its `powf` for any
//! other constant exponent (defined for `x ≥ 0`, and `x > 0` when `p < 1`), and `exp(p·ln x)`
//! for an exponent with variables, which is defined for `x > 0` only and says so at the `^`.
//!
//! Nothing here recurses on the input: the parser is an operator-precedence (shunting-yard)
//! loop with explicit stacks, the parsed [`Expr`] is a flat list of nodes, and [`build`] is one
//! pass over it, so a million-term sum or ten thousand nested parentheses parse, build and drop
//! in constant stack space.

use std::fmt;

use autodiff::{NodeId, Tape, Var};

/// A parse or evaluation error, with the 1-based column it points at.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct ExprError {
    /// 1-based column in the expression.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl ExprError {
    fn at(column: usize, message: impl Into<String>) -> Self {
        ExprError {
            column,
            message: message.into(),
        }
    }

    /// The expression with a caret under the offending column.
    pub fn pointer(&self, source: &str) -> String {
        format!(
            "  {source}\n  {}^",
            " ".repeat(self.column.saturating_sub(1))
        )
    }
}

/// Columns `[start, end)` of a sub-expression (1-based, characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// First column.
    pub start: usize,
    /// One past the last column.
    pub end: usize,
}

/// A function of the grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    /// `relu(e)`.
    Relu,
    /// `leaky_relu(x, α)`: the engine's leaky relu, with a slope that is a number.
    LeakyRelu,
    /// `abs(e)`.
    Abs,
    /// `exp(e)`.
    Exp,
    /// `ln(e)`.
    Ln,
    /// `log1p(e)`: `ln(1 + e)`.
    Log1p,
    /// `sqrt(e)`.
    Sqrt,
    /// `square(e)`.
    Square,
    /// `softplus(e)`: `ln(1 + exp(e))`.
    Softplus,
    /// `sigmoid(e)`: `1/(1 + exp(−e))`.
    Sigmoid,
    /// `tanh(e)`.
    Tanh,
    /// `max(a, b)` (elementwise) or `max(a, b, c, …)` (n-ary).
    Max,
    /// `min(a, b)` or `min(a, b, c, …)`.
    Min,
    /// `clamp(x, lo, hi)`: the engine's clamp, with bounds that are numbers.
    Clamp,
    /// `pow(x, p)`: the same as `x^p`.
    Pow,
}

impl Func {
    const ALL: [Func; 15] = [
        Func::Relu,
        Func::LeakyRelu,
        Func::Abs,
        Func::Exp,
        Func::Ln,
        Func::Log1p,
        Func::Sqrt,
        Func::Square,
        Func::Softplus,
        Func::Sigmoid,
        Func::Tanh,
        Func::Max,
        Func::Min,
        Func::Clamp,
        Func::Pow,
    ];

    /// The function's name in the grammar.
    pub fn name(self) -> &'static str {
        match self {
            Func::Relu => "relu",
            Func::LeakyRelu => "leaky_relu",
            Func::Abs => "abs",
            Func::Exp => "exp",
            Func::Ln => "ln",
            Func::Log1p => "log1p",
            Func::Sqrt => "sqrt",
            Func::Square => "square",
            Func::Softplus => "softplus",
            Func::Sigmoid => "sigmoid",
            Func::Tanh => "tanh",
            Func::Max => "max",
            Func::Min => "min",
            Func::Clamp => "clamp",
            Func::Pow => "pow",
        }
    }

    fn from_name(name: &str) -> Option<Func> {
        Func::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Whether `n` arguments are accepted, and the rule in words.
    fn arity(self, n: usize) -> (bool, &'static str) {
        match self {
            Func::Max | Func::Min => (n >= 2, "at least 2 arguments"),
            Func::Pow => (n == 2, "2 arguments (the base and the exponent)"),
            Func::Clamp => (n == 3, "3 arguments (x, lo, hi)"),
            Func::LeakyRelu => (n == 2, "2 arguments (x and the slope α)"),
            Func::Relu
            | Func::Abs
            | Func::Exp
            | Func::Ln
            | Func::Log1p
            | Func::Sqrt
            | Func::Square
            | Func::Softplus
            | Func::Sigmoid
            | Func::Tanh => (n == 1, "1 argument"),
        }
    }
}

/// What a node of a parsed expression is; operands are indices of earlier nodes.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// A number.
    Num(f64),
    /// A variable.
    Var(String),
    /// Unary minus of a node.
    Neg(usize),
    /// A binary operator `+ - * / ^` of two nodes.
    Bin(char, usize, usize),
    /// A function call on its argument nodes.
    Call(Func, Vec<usize>),
}

/// One node of a parsed expression, with the columns it covers.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// What the node is.
    pub kind: Kind,
    /// Its columns in the source.
    pub span: Span,
    /// The column that names its operation: the operator of a binary node, the minus of a
    /// negation, the function's name of a call, the start of a number or variable.
    pub op_column: usize,
}

/// A parsed expression, stored flat: every node's operands come before it and the root is last,
/// so walking, building and dropping it never recurse, however deeply the source nests.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    nodes: Vec<Node>,
}

impl Expr {
    /// The nodes, operands before the nodes that use them; the last one is the root.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The columns the whole expression covers.
    pub fn span(&self) -> Span {
        self.nodes
            .last()
            .map_or(Span { start: 1, end: 1 }, |n| n.span)
    }

    /// The variables, in order of first appearance.
    pub fn variables(&self) -> Vec<String> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for node in &self.nodes {
            if let Kind::Var(name) = &node.kind {
                if seen.insert(name.as_str()) {
                    out.push(name.clone());
                }
            }
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Name(String),
    Sym(char),
}

fn lex(src: &str) -> Result<Vec<(Tok, Span)>, ExprError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let col = i + 1;
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() || c == '.' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            // An exponent: 1e-3, 2.5E4.
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
            let text: String = chars[start..i].iter().collect();
            let value: f64 = text
                .parse()
                .map_err(|_| ExprError::at(col, format!("`{text}` is not a number")))?;
            out.push((
                Tok::Num(value),
                Span {
                    start: col,
                    end: i + 1,
                },
            ));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let text: String = chars[start..i].iter().collect();
            out.push((
                Tok::Name(text),
                Span {
                    start: col,
                    end: i + 1,
                },
            ));
        } else if "+-*/^(),".contains(c) || c == '−' {
            let sym = if c == '−' { '-' } else { c };
            out.push((
                Tok::Sym(sym),
                Span {
                    start: col,
                    end: col + 1,
                },
            ));
            i += 1;
        } else {
            return Err(ExprError::at(col, format!("unexpected character `{c}`")));
        }
    }
    Ok(out)
}

/// An operator or bracket waiting on the parser's stack for its right-hand side.
enum Frame {
    /// Unary minus at this column.
    Neg(usize),
    /// A binary operator with its precedence and its column.
    Bin(char, u8, usize),
    /// `(` at this column.
    Paren,
    /// A call of `func` (named at `column`) with `args` arguments complete so far.
    Call {
        func: Func,
        column: usize,
        args: usize,
    },
}

impl Frame {
    /// Precedence of an operator frame (unary minus binds tightest); brackets have none.
    fn precedence(&self) -> Option<u8> {
        match self {
            Frame::Neg(_) => Some(3),
            Frame::Bin(_, p, _) => Some(*p),
            Frame::Paren | Frame::Call { .. } => None,
        }
    }
}

/// The shunting-yard state: finished nodes, the operand stack (node indices) and the frames.
struct Parser {
    nodes: Vec<Node>,
    operands: Vec<usize>,
    frames: Vec<Frame>,
}

impl Parser {
    fn push(&mut self, kind: Kind, span: Span) {
        self.push_at(kind, span, span.start);
    }

    fn push_at(&mut self, kind: Kind, span: Span, op_column: usize) {
        self.operands.push(self.nodes.len());
        self.nodes.push(Node {
            kind,
            span,
            op_column,
        });
    }

    fn pop_operand(&mut self) -> usize {
        // The parser pushes an operand before every operator that consumes it.
        self.operands.pop().unwrap_or_default()
    }

    /// Applies operator frames while their precedence is at least `min`.
    fn reduce(&mut self, min: u8) {
        while let Some(p) = self.frames.last().and_then(Frame::precedence) {
            if p < min {
                break;
            }
            match self.frames.pop() {
                Some(Frame::Neg(start)) => {
                    let a = self.pop_operand();
                    let end = self.nodes[a].span.end;
                    self.push(Kind::Neg(a), Span { start, end });
                }
                Some(Frame::Bin(op, _, column)) => {
                    let b = self.pop_operand();
                    let a = self.pop_operand();
                    let span = Span {
                        start: self.nodes[a].span.start,
                        end: self.nodes[b].span.end,
                    };
                    self.push_at(Kind::Bin(op, a, b), span, column);
                }
                _ => unreachable!("only operator frames have a precedence"),
            }
        }
    }

    /// The error for a token where an operator, `,` or `)` was expected.
    fn unexpected(&self, column: usize) -> ExprError {
        let open = self
            .frames
            .iter()
            .rev()
            .find(|f| matches!(f, Frame::Paren | Frame::Call { .. }));
        ExprError::at(
            column,
            match open {
                Some(Frame::Paren) => "expected `)`",
                Some(_) => "expected `,` or `)`",
                None => "unexpected input after the expression",
            },
        )
    }
}

/// A did-you-mean hint: the grammar's name for a few names users reach for from other
/// languages, else the nearest function name (one edit away for names of up to three letters,
/// two for longer ones), else nothing.
fn suggestion(name: &str) -> String {
    let known = match name {
        "log" | "log_e" | "loge" => Some("ln"),
        "sq" | "sqr" | "pow2" => Some("square"),
        "fabs" => Some("abs"),
        "maximum" | "amax" | "fmax" => Some("max"),
        "minimum" | "amin" | "fmin" => Some("min"),
        "clip" | "clip_by_value" | "hardtanh" => Some("clamp"),
        "power" | "powf" | "powi" => Some("pow"),
        "leakyrelu" | "leaky" | "lrelu" | "leaky_relu_" => Some("leaky_relu"),
        "logistic" | "expit" => Some("sigmoid"),
        "log1" | "ln1p" => Some("log1p"),
        _ => None,
    };
    let nearest = || {
        Func::ALL
            .into_iter()
            .map(|f| (edit_distance(name, f.name()), f.name()))
            .filter(|&(d, _)| d <= if name.chars().count() <= 3 { 1 } else { 2 })
            .min_by_key(|&(d, _)| d)
            .map(|(_, n)| n)
    };
    match known.or_else(nearest) {
        Some(n) => format!(" (did you mean `{n}`?)"),
        None => String::new(),
    }
}

/// The Levenshtein distance between two names (insertions, deletions and substitutions).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// Parses an expression without recursion (operator precedence with explicit stacks), so a
/// deeply nested or very long expression is limited by memory, never by the stack.
///
/// # Errors
/// An [`ExprError`] pointing at the column of the first problem.
pub fn parse(src: &str) -> Result<Expr, ExprError> {
    let toks = lex(src)?;
    let end_col = src.chars().count() + 1;
    let mut p = Parser {
        nodes: Vec::new(),
        operands: Vec::new(),
        frames: Vec::new(),
    };
    let mut expect_operand = true;
    let mut pos = 0;
    while pos < toks.len() || expect_operand {
        let Some((tok, span)) = toks.get(pos).cloned() else {
            return Err(ExprError::at(
                end_col,
                "expected a number, a variable, a function or `(`",
            ));
        };
        pos += 1;
        if expect_operand {
            match tok {
                Tok::Sym('-') => p.frames.push(Frame::Neg(span.start)),
                Tok::Sym('(') => p.frames.push(Frame::Paren),
                Tok::Num(v) => {
                    p.push(Kind::Num(v), span);
                    expect_operand = false;
                }
                Tok::Name(name) => {
                    let called = matches!(toks.get(pos), Some((Tok::Sym('('), _)));
                    match (Func::from_name(&name), called) {
                        (Some(func), true) => {
                            pos += 1;
                            p.frames.push(Frame::Call {
                                func,
                                column: span.start,
                                args: 0,
                            });
                        }
                        (None, true) => {
                            return Err(ExprError::at(
                                span.start,
                                format!("unknown function `{name}`{}", suggestion(&name)),
                            ))
                        }
                        (Some(_), false) => {
                            let col = toks.get(pos).map_or(end_col, |(_, s)| s.start);
                            return Err(ExprError::at(col, format!("expected `(` after `{name}`")));
                        }
                        (None, false) => {
                            p.push(Kind::Var(name), span);
                            expect_operand = false;
                        }
                    }
                }
                Tok::Sym(c) => return Err(ExprError::at(span.start, format!("unexpected `{c}`"))),
            }
            continue;
        }
        match tok {
            // `^` binds tighter than unary minus and is right-associative: it reduces nothing
            // before it (no frame has precedence 5), so `-x^2` is `-(x^2)` and `2^3^2` is `2^9`.
            Tok::Sym('^') => {
                p.reduce(5);
                p.frames.push(Frame::Bin('^', 4, span.start));
                expect_operand = true;
            }
            Tok::Sym(op @ ('+' | '-' | '*' | '/')) => {
                let prec = if op == '+' || op == '-' { 1 } else { 2 };
                p.reduce(prec);
                p.frames.push(Frame::Bin(op, prec, span.start));
                expect_operand = true;
            }
            Tok::Sym(',') => {
                p.reduce(0);
                match p.frames.last_mut() {
                    Some(Frame::Call { args, .. }) => *args += 1,
                    _ => return Err(p.unexpected(span.start)),
                }
                expect_operand = true;
            }
            Tok::Sym(')') => {
                p.reduce(0);
                match p.frames.pop() {
                    // Parentheses only group: the inner node stays as it is.
                    Some(Frame::Paren) => {}
                    Some(Frame::Call { func, column, args }) => {
                        let n = args + 1;
                        let (ok, want) = func.arity(n);
                        if !ok {
                            return Err(ExprError::at(
                                column,
                                format!("`{}` takes {want}, got {n}", func.name()),
                            ));
                        }
                        let argv = p.operands.split_off(p.operands.len().saturating_sub(n));
                        let span = Span {
                            start: column,
                            end: span.end,
                        };
                        p.push(Kind::Call(func, argv), span);
                    }
                    _ => {
                        return Err(ExprError::at(
                            span.start,
                            "unexpected input after the expression",
                        ))
                    }
                }
            }
            _ => return Err(p.unexpected(span.start)),
        }
    }
    p.reduce(0);
    if let Some(open) = p.frames.last() {
        let message = match open {
            Frame::Paren => "expected `)`",
            _ => "expected `,` or `)`",
        };
        return Err(ExprError::at(end_col, message));
    }
    Ok(Expr { nodes: p.nodes })
}

/// Which sub-expression each tape node came from, by node index.
#[derive(Debug, Default)]
pub struct Origins(Vec<Option<Span>>);

impl Origins {
    /// The source span of a node, if it came from a sub-expression.
    pub fn span(&self, node: NodeId) -> Option<Span> {
        self.0.get(node.index()).copied().flatten()
    }

    fn record(&mut self, node: NodeId, span: Span) {
        let i = node.index();
        if self.0.len() <= i {
            self.0.resize(i + 1, None);
        }
        self.0[i] = Some(span);
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "columns {}–{}", self.start, self.end - 1)
    }
}

/// Builds `e` on `tape`, looking variables up in `vars`; records each node's origin.
///
/// One pass over the flat nodes, so any depth builds in constant stack space. Every
/// sub-expression's value must be finite: the engine differentiates only finite values, so an
/// overflow (`1e200*1e200`, `exp(710)`) or a NaN (`1e308*10 - 1e308*10`) is reported at the
/// sub-expression where it first appears, rather than as a NaN result.
///
/// # Errors
/// An [`ExprError`] at the sub-expression the engine rejected (e.g. `ln` of a negative number),
/// at the first sub-expression whose value is not finite, or at an unknown variable.
pub fn build<'t>(
    e: &Expr,
    tape: &'t Tape<f64>,
    vars: &[(String, Var<'t, f64>)],
    origins: &mut Origins,
) -> Result<Var<'t, f64>, ExprError> {
    Ok(build_pieces(e, tape, vars, origins, &Pieces::new())?.root())
}

/// The branch a kink sub-expression is replaced by in [`build_pieces`]: a smooth function that
/// agrees with the kink at the point (a *piece* of the piecewise function).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Piece {
    /// Argument `k` as it is: the positive side of relu, leaky_relu or abs, the `k`-th argument
    /// of max or min, clamp inside its bounds.
    Arg(usize),
    /// Argument `k` negated: abs's negative side.
    NegArg(usize),
    /// Argument `k` times a number: leaky_relu's negative side `α·x`.
    ScaledArg(usize, f64),
    /// A constant: relu's zero side, clamp at a bound.
    Const(f64),
}

/// Which call nodes [`build_pieces`] replaces by a piece, by node index.
pub type Pieces = std::collections::HashMap<usize, Piece>;

/// What [`build_pieces`] made: one tape handle per node of the expression, and per node whether
/// it is constant (depends on no variable) and affine in the variables near the point.
#[derive(Debug)]
pub struct Built<'t> {
    /// The handle of each node, in node order; the root is last.
    pub vars: Vec<Var<'t, f64>>,
    /// Whether each node depends on no variable.
    pub constant: Vec<bool>,
    /// Whether each node is an affine function of the variables near the point: built from
    /// variables and numbers by `+ − ·number /number`, and kinks of affine arguments (which keep
    /// one branch near the point unless they sit on the kink, where the piece decides).
    pub affine: Vec<bool>,
}

impl<'t> Built<'t> {
    /// The root's handle.
    pub fn root(&self) -> Var<'t, f64> {
        // `build_pieces` rejects an empty expression, so there is a last node.
        self.vars[self.vars.len() - 1]
    }

    /// The value of node `i`.
    pub fn value(&self, i: usize) -> f64 {
        self.vars[i].item()
    }
}

/// Refuses an argument that must be a number (clamp's bounds, leaky_relu's slope) but depends
/// on a variable, at its column; `rule` says so in words.
fn number_argument(
    e: &Expr,
    arg: usize,
    is_constant: bool,
    rule: &'static str,
) -> Result<(), ExprError> {
    if is_constant {
        Ok(())
    } else {
        Err(ExprError::at(e.nodes[arg].span.start, rule))
    }
}

const CLAMP_BOUNDS: &str = "clamp's bounds must be numbers (expressions without variables); \
                            for a variable bound write max(lo, min(x, hi))";
const LEAKY_SLOPE: &str = "leaky_relu's slope must be a number (an expression without variables); \
                           for a variable slope a write max(x, a*x) (a ≤ 1)";

/// `x^p` on the tape: the engine's `powi` for an integer constant `p` (|p| < 2³¹), its `powf`
/// for any other constant, and `exp(p·ln x)` for an exponent with variables.
fn power<'t>(
    x: Var<'t, f64>,
    p: Var<'t, f64>,
    p_constant: bool,
    column: usize,
) -> Result<Var<'t, f64>, ExprError> {
    let fail = |err: autodiff::Error| ExprError::at(column, format!("`^`: {err}"));
    let exponent = p.item();
    let base = x.item();
    if p_constant && exponent.fract() == 0.0 && exponent.abs() <= f64::from(i32::MAX) {
        // In range: the cast is exact.
        let n = exponent as i32;
        return x.try_powi(n).map_err(|err| {
            if n < 0 && base == 0.0 {
                ExprError::at(
                    column,
                    format!("`^`: x^{n} is 1/x^{} and the base is 0 here", -i64::from(n)),
                )
            } else {
                fail(err)
            }
        });
    }
    if p_constant {
        return x.try_powf(exponent).map_err(|err| {
            let domain = if exponent < 1.0 && exponent != 0.0 {
                "x > 0 (at 0 its derivative is infinite)"
            } else {
                "x ≥ 0"
            };
            if base < 0.0 || (base == 0.0 && exponent < 1.0) {
                ExprError::at(
                    column,
                    format!(
                        "`^` with a non-integer exponent ({exponent}) is powf, defined for {domain}, and the base is {base} here"
                    ),
                )
            } else {
                fail(err)
            }
        });
    }
    if base <= 0.0 {
        return Err(ExprError::at(
            column,
            format!(
                "`^` with an exponent with variables is computed as exp(p·ln x), defined for x > 0 only, and the base is {base} here"
            ),
        ));
    }
    let ln = x.try_ln().map_err(fail)?;
    p.try_mul(ln).map_err(fail)?.try_exp().map_err(fail)
}

/// Builds `e` on `tape` like [`build`], with the call nodes listed in `pieces` replaced by the
/// given branch; returns every node's handle.
///
/// # Errors
/// As [`build`]; also a piece that does not fit its node (an argument it does not have).
pub fn build_pieces<'t>(
    e: &Expr,
    tape: &'t Tape<f64>,
    vars: &[(String, Var<'t, f64>)],
    origins: &mut Origins,
    pieces: &Pieces,
) -> Result<Built<'t>, ExprError> {
    let lookup: std::collections::HashMap<&str, Var<'t, f64>> =
        vars.iter().map(|(n, v)| (n.as_str(), *v)).collect();
    let n = e.nodes.len();
    let mut vals: Vec<Var<'t, f64>> = Vec::with_capacity(n);
    let mut constant: Vec<bool> = Vec::with_capacity(n);
    let mut affine: Vec<bool> = Vec::with_capacity(n);
    for (index, node) in e.nodes.iter().enumerate() {
        let span = node.span;
        let fail = |err: autodiff::Error| ExprError::at(span.start, err.to_string());
        let (v, is_constant, is_affine) = match &node.kind {
            Kind::Num(x) => (tape.constant_scalar(*x).map_err(fail)?, true, true),
            Kind::Var(name) => {
                let v = lookup.get(name.as_str()).copied().ok_or_else(|| {
                    ExprError::at(
                        span.start,
                        format!("no value for `{name}`: give --at {name}=VALUE"),
                    )
                })?;
                vals.push(v);
                constant.push(false);
                affine.push(true);
                continue;
            }
            Kind::Neg(a) => (-vals[*a], constant[*a], affine[*a]),
            Kind::Bin(op, a, b) => {
                let (ca, cb) = (constant[*a], constant[*b]);
                let (fa, fb) = (affine[*a], affine[*b]);
                let (a, b) = (vals[*a], vals[*b]);
                let v = match op {
                    '+' => a.try_add(b).map_err(fail)?,
                    '-' => a.try_sub(b).map_err(fail)?,
                    '*' => a.try_mul(b).map_err(fail)?,
                    '/' => a.try_div(b).map_err(fail)?,
                    _ => power(a, b, cb, node.op_column)?,
                };
                let is_affine = match op {
                    '+' | '-' => fa && fb,
                    '*' => (ca && fb) || (fa && cb),
                    '/' => fa && cb,
                    _ => ca && cb,
                };
                (v, ca && cb, is_affine || (ca && cb))
            }
            Kind::Call(func, args) => {
                let xs: Vec<Var<'t, f64>> = args.iter().map(|&a| vals[a]).collect();
                let all_constant = args.iter().all(|&a| constant[a]);
                let all_affine = args.iter().all(|&a| affine[a]);
                let piece = pieces.get(&index).copied();
                let argument = |k: usize| {
                    args.get(k).copied().ok_or_else(|| {
                        ExprError::at(span.start, format!("no argument {k} to take a piece of"))
                    })
                };
                match piece {
                    Some(Piece::Arg(k)) => {
                        let a = argument(k)?;
                        (vals[a], constant[a], affine[a])
                    }
                    Some(Piece::NegArg(k)) => {
                        let a = argument(k)?;
                        (-vals[a], constant[a], affine[a])
                    }
                    Some(Piece::ScaledArg(k, c)) => {
                        let a = argument(k)?;
                        (
                            vals[a].try_affine(c, 0.0).map_err(fail)?,
                            constant[a],
                            affine[a],
                        )
                    }
                    Some(Piece::Const(c)) => (tape.constant_scalar(c).map_err(fail)?, true, true),
                    None => {
                        let x = xs[0];
                        let v = match func {
                            Func::Relu => x.relu(),
                            Func::LeakyRelu => {
                                number_argument(e, args[1], constant[args[1]], LEAKY_SLOPE)?;
                                x.try_leaky_relu(xs[1].item()).map_err(fail)?
                            }
                            Func::Abs => x.abs(),
                            Func::Exp => x.try_exp().map_err(fail)?,
                            Func::Ln => x.try_ln().map_err(fail)?,
                            Func::Log1p => x.try_log1p().map_err(fail)?,
                            Func::Sqrt => x.try_sqrt().map_err(fail)?,
                            Func::Square => x.square(),
                            Func::Softplus => x.softplus(),
                            Func::Sigmoid => x.sigmoid(),
                            Func::Tanh => x.tanh(),
                            Func::Max if xs.len() == 2 => x.try_max(xs[1]).map_err(fail)?,
                            Func::Min if xs.len() == 2 => x.try_min(xs[1]).map_err(fail)?,
                            Func::Max => tape.try_max_n(&xs).map_err(fail)?,
                            Func::Min => tape.try_min_n(&xs).map_err(fail)?,
                            Func::Pow => power(x, xs[1], constant[args[1]], span.start)?,
                            Func::Clamp => {
                                for &bound in &args[1..] {
                                    number_argument(e, bound, constant[bound], CLAMP_BOUNDS)?;
                                }
                                x.try_clamp(xs[1].item(), xs[2].item()).map_err(fail)?
                            }
                        };
                        // Kinks of affine arguments are affine near the point on each branch;
                        // the smooth functions are affine only of constants.
                        let is_affine = match func {
                            Func::Relu
                            | Func::LeakyRelu
                            | Func::Abs
                            | Func::Max
                            | Func::Min
                            | Func::Clamp => all_affine,
                            Func::Exp
                            | Func::Ln
                            | Func::Log1p
                            | Func::Sqrt
                            | Func::Square
                            | Func::Softplus
                            | Func::Sigmoid
                            | Func::Tanh
                            | Func::Pow => all_constant,
                        };
                        (v, all_constant, is_affine)
                    }
                }
            }
        };
        let value = v.try_item().map_err(fail)?;
        if !value.is_finite() {
            let what = if value.is_nan() {
                "is NaN (an undefined operation such as inf − inf)"
            } else {
                "overflows to infinity"
            };
            return Err(ExprError::at(
                span.start,
                format!("the value of this sub-expression ({span}) {what}: only finite values can be differentiated"),
            ));
        }
        origins.record(v.id(), span);
        vals.push(v);
        constant.push(is_constant);
        affine.push(is_affine);
    }
    if vals.is_empty() {
        return Err(ExprError::at(1, "empty expression"));
    }
    Ok(Built {
        vars: vals,
        constant,
        affine,
    })
}

/// The first `sqrt` whose argument is 0 and depends on a variable: its derivative `1/(2√x)` is
/// infinite there, so backward would only report a non-finite number.
pub fn infinite_derivative(e: &Expr, built: &Built<'_>) -> Option<ExprError> {
    e.nodes.iter().find_map(|node| match &node.kind {
        Kind::Call(Func::Sqrt, args)
            if built.value(args[0]) == 0.0 && built.vars[args[0]].requires_grad() =>
        {
            let arg = e.nodes[args[0]].span;
            Some(ExprError::at(
                node.span.start,
                format!(
                    "the derivative of sqrt is infinite at 0 (its argument, {arg}, is 0 here): f has no finite gradient at this point"
                ),
            ))
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_err(src: &str, column: usize, message_part: &str) {
        let err = parse(src).unwrap_err();
        assert_eq!(err.column, column, "{src}: {err}");
        assert!(err.message.contains(message_part), "{src}: {err}");
    }

    #[test]
    fn precedence_and_unary_minus_follow_arithmetic() {
        let tape = Tape::<f64>::new();
        let x = tape.param_scalar(2.0).unwrap();
        let vars = vec![("x".to_string(), x)];
        for (src, want) in [
            ("1 + 2 * x", 5.0),
            ("(1 + 2) * x", 6.0),
            ("-x * 3", -6.0),
            ("- - x", 2.0),
            ("8 / x / 2", 2.0),
            ("1 - x - 1", -2.0),
            ("max(x, 1, 3)", 3.0),
            ("min(x, 1)", 1.0),
            ("square(x) + sqrt(4) + ln(1) + exp(0)", 7.0),
            ("relu(-x) + abs(-x)", 2.0),
            ("2.5e1 − x", 23.0),
            // leaky_relu at x = 2 and −2: 2 and ½·(−2).
            ("leaky_relu(x, 0.1) + leaky_relu(-x, 1/2)", 1.0),
            // `^` above unary minus and right-associative; integer constant powers are powi.
            ("-x^2", -4.0),
            ("2^3^2", 512.0),
            ("x^-1", 0.5),
            ("x^0 + x^1", 3.0),
            ("pow(x, 3) - x^3", 0.0),
            ("(-x)^3", -8.0),
            ("clamp(x, 0, 1) + clamp(-x, -1/2, 1)", 0.5),
        ] {
            let e = parse(src).unwrap();
            let v = build(&e, &tape, &vars, &mut Origins::default()).unwrap();
            assert_eq!(v.item(), want, "{src}");
        }
    }

    #[test]
    fn errors_point_at_the_column() {
        check_err("1 + ", 5, "expected a number");
        check_err("relu(x", 7, "expected `,` or `)`");
        check_err("foo(x)", 1, "unknown function `foo`");
        check_err("x $ 2", 3, "unexpected character `$`");
        check_err("max(x)", 1, "at least 2 arguments");
        check_err("relu(x, y)", 1, "1 argument");
        check_err("x y", 3, "unexpected input");
        check_err("relu + 1", 6, "expected `(` after `relu`");
        check_err("(x + 1", 7, "expected `)`");
        check_err("x ^", 4, "expected a number");
        check_err("x ^ * 2", 5, "unexpected `*`");
        check_err("clamp(x, 1)", 1, "3 arguments (x, lo, hi)");
        check_err("pow(x)", 1, "2 arguments");
    }

    #[test]
    fn nodes_name_the_column_of_their_operation() {
        let e = parse("x + y ^ 2").unwrap();
        let columns: Vec<usize> = e.nodes().iter().map(|n| n.op_column).collect();
        // x, y, 2, y ^ 2 (the `^` at column 7), x + … (the `+` at column 3).
        assert_eq!(columns, [1, 5, 9, 7, 3]);
    }

    #[test]
    fn power_and_clamp_errors_point_at_their_operation() {
        let tape = Tape::<f64>::new();
        let x = tape.param_scalar(-1.0).unwrap();
        let y = tape.param_scalar(2.0).unwrap();
        let vars = vec![("x".to_string(), x), ("y".to_string(), y)];
        for (src, column, part) in [
            (
                "1 + x^0.5",
                6,
                "is powf, defined for x > 0 (at 0 its derivative is infinite), and the base is -1",
            ),
            ("x^2.5", 2, "is powf, defined for x ≥ 0, and the base is -1"),
            // y^x is fine (y = 2 > 0); x^y (the `^` at column 8) has the base −1.
            ("y^x + x^y", 8, "an exponent with variables"),
            ("clamp(x, y, 1)", 10, "clamp's bounds must be numbers"),
            (
                "leaky_relu(x, y)",
                15,
                "leaky_relu's slope must be a number",
            ),
            ("clamp(x, 1, -1)", 1, "clamp"),
            ("(x + 1)^-2", 8, "x^-2 is 1/x^2 and the base is 0 here"),
        ] {
            let e = parse(src).unwrap();
            let err = build(&e, &tape, &vars, &mut Origins::default()).unwrap_err();
            assert_eq!(err.column, column, "{src}: {err}");
            assert!(err.message.contains(part), "{src}: {err}");
        }
    }

    #[test]
    fn sqrt_at_zero_is_an_infinite_derivative_only_where_a_variable_reaches_it() {
        let tape = Tape::<f64>::new();
        let x = tape.param_scalar(0.0).unwrap();
        let vars = vec![("x".to_string(), x)];
        let built = |src: &str| {
            let e = parse(src).unwrap();
            let b = build_pieces(&e, &tape, &vars, &mut Origins::default(), &Pieces::new());
            (e, b.unwrap())
        };
        let (e, b) = built("2 * sqrt(x)");
        let err = infinite_derivative(&e, &b).unwrap();
        assert_eq!(err.column, 5);
        assert!(err
            .message
            .contains("the derivative of sqrt is infinite at 0"));
        // sqrt(0) of a constant has no derivative to take; sqrt(x + 1) is away from 0.
        for src in ["sqrt(0) + x", "sqrt(x + 1)"] {
            let (e, b) = built(src);
            assert_eq!(infinite_derivative(&e, &b), None, "{src}");
        }
    }

    #[test]
    fn the_smooth_functions_and_powf_equal_their_definitions() {
        let tape = Tape::<f64>::new();
        let x = tape.param_scalar(2.0).unwrap();
        let vars = vec![("x".to_string(), x)];
        let e2 = 2f64.exp();
        for (src, want) in [
            ("softplus(x)", (1.0 + e2).ln()),
            ("sigmoid(x)", 1.0 / (1.0 + 1.0 / e2)),
            ("tanh(x)", (e2 - 1.0 / e2) / (e2 + 1.0 / e2)),
            ("log1p(x)", 3f64.ln()),
            ("x^1.5", 2.0 * 2f64.sqrt()),
            ("pow(x, -0.5)", 1.0 / 2f64.sqrt()),
        ] {
            let e = parse(src).unwrap();
            let v = build(&e, &tape, &vars, &mut Origins::default()).unwrap();
            assert!(
                (v.item() - want).abs() < 1e-14,
                "{src}: {} vs {want}",
                v.item()
            );
        }
        check_err("leaky_relu(x)", 1, "2 arguments (x and the slope α)");
        check_err("tanh(x, 1)", 1, "1 argument");
        check_err("expit(x)", 1, "did you mean `sigmoid`?");
    }

    #[test]
    fn leaky_relus_negative_side_is_its_slope_times_the_argument() {
        let tape = Tape::<f64>::new();
        let x = tape.param_scalar(0.0).unwrap();
        let vars = vec![("x".to_string(), x)];
        let e = parse("leaky_relu(3*x, 0.25)").unwrap();
        // Nodes: 3, x, 3*x, 0.25, leaky_relu(…): its negative side 0.25·(3x), slope 0.75.
        let pieces = Pieces::from([(4, Piece::ScaledArg(0, 0.25))]);
        let b = build_pieces(&e, &tape, &vars, &mut Origins::default(), &pieces).unwrap();
        assert_eq!(b.root().backward().unwrap().wrt(x)[0], 0.75);
        assert!(b.affine[4]);
        // Unreplaced, the engine's leaky_relu at its kink: MinNorm's α = 0.25, times 3.
        let b = build_pieces(&e, &tape, &vars, &mut Origins::default(), &Pieces::new()).unwrap();
        assert_eq!(b.root().backward().unwrap().wrt(x)[0], 0.75);
    }

    #[test]
    fn pieces_replace_kinks_by_their_branches_and_affinity_is_tracked() {
        let tape = Tape::<f64>::new();
        let x = tape.param_scalar(0.0).unwrap();
        let vars = vec![("x".to_string(), x)];
        let e = parse("relu(x) - abs(2*x) + square(x)").unwrap();
        // Nodes: x, relu(x), 2, x, 2*x, abs(2*x), …: take relu → x and abs → −(2x).
        let pieces = Pieces::from([(1, Piece::Arg(0)), (5, Piece::NegArg(0))]);
        let b = build_pieces(&e, &tape, &vars, &mut Origins::default(), &pieces).unwrap();
        // f = x + 2x + x², so f'(0) = 3.
        assert_eq!(b.root().backward().unwrap().wrt(x)[0], 3.0);
        // relu(x) − abs(2x) (node 6) is affine on its pieces, square(x) (node 8) is not.
        assert!(b.affine[6] && !b.affine[8] && b.constant[2] && !b.constant[1]);
    }

    #[test]
    fn unknown_variable_and_domain_errors_point_at_the_subexpression() {
        let tape = Tape::<f64>::new();
        let x = tape.param_scalar(-1.0).unwrap();
        let vars = vec![("x".to_string(), x)];
        let e = parse("1 + ln(x)").unwrap();
        let err = build(&e, &tape, &vars, &mut Origins::default()).unwrap_err();
        assert_eq!(err.column, 5);
        assert!(err.message.contains("ln"));
        let e = parse("x + y").unwrap();
        let err = build(&e, &tape, &vars, &mut Origins::default()).unwrap_err();
        assert_eq!(err.column, 5);
        assert!(err.message.contains("--at y=VALUE"));
    }

    /// Parses and builds `src` at `x = 1`, returning the value.
    fn value_at_one(src: &str) -> f64 {
        let tape = Tape::<f64>::new();
        let x = tape.param_scalar(1.0).unwrap();
        let e = parse(src).unwrap();
        let vars = vec![("x".to_string(), x)];
        build(&e, &tape, &vars, &mut Origins::default())
            .unwrap()
            .item()
    }

    // The issue's inputs overflowed the (2 MB test-thread) stack at 7,148–11,139 levels; these
    // go ten to a hundred times deeper, so a recursive parser, builder or drop would abort here.
    #[test]
    fn deep_nesting_parses_and_builds_without_recursion() {
        let n = 100_000;
        // ((…(x)…)) is x.
        let parens = format!("{}x{}", "(".repeat(n), ")".repeat(n));
        assert_eq!(value_at_one(&parens), 1.0);
        // An even number of unary minuses is the identity.
        assert_eq!(value_at_one(&format!("{}x", "-".repeat(n))), 1.0);
        // relu(relu(…relu(x)…)) at x = 1 is 1.
        let relus = format!("{}x{}", "relu(".repeat(n), ")".repeat(n));
        assert_eq!(value_at_one(&relus), 1.0);
        // Only parsed and dropped, deeper still.
        let deep = format!("{}x{}", "abs(-(".repeat(4 * n), "))".repeat(4 * n));
        assert_eq!(parse(&deep).unwrap().nodes().len(), 1 + 8 * n);
    }

    #[test]
    fn a_million_term_sum_parses_builds_and_drops() {
        let n = 1_000_000;
        // x + x + … + x (n terms) at x = 1 is n, exactly in f64.
        let src = format!("x{}", " + x".repeat(n - 1));
        assert_eq!(value_at_one(&src), n as f64);
    }

    #[test]
    fn non_finite_sub_expressions_are_errors_at_their_column() {
        let tape = Tape::<f64>::new();
        let x = tape.param_scalar(710.0).unwrap();
        let vars = vec![("x".to_string(), x)];
        for (src, column, part) in [
            // 1e308·10 overflows; the difference of the two infinities would be NaN.
            (
                "1e308*10 - 1e308*10".to_string(),
                1,
                "overflows to infinity",
            ),
            ("1e200*1e200".to_string(), 1, "overflows to infinity"),
            // e^710 > f64::MAX ≈ e^709.78: `try_exp` rejects it at the call.
            ("2 + exp(x)".to_string(), 5, "exp: input 710"),
            // 120 factors of 710: 710¹⁰⁹ already exceeds f64::MAX ≈ 1.8e308.
            (format!("x{}", "*x".repeat(119)), 1, "overflows to infinity"),
        ] {
            let e = parse(&src).unwrap();
            let err = build(&e, &tape, &vars, &mut Origins::default()).unwrap_err();
            assert_eq!(err.column, column, "{src}: {err}");
            assert!(err.message.contains(part), "{src}: {err}");
        }
    }

    #[test]
    fn unknown_functions_suggest_the_grammar_name() {
        check_err("log(x)", 1, "did you mean `ln`?");
        check_err("1 + maximum(x, 1)", 5, "did you mean `max`?");
        check_err("(x, y)", 3, "expected `)`");
        check_err("max(x, y))", 10, "unexpected input");
        check_err("relu()", 6, "unexpected `)`");
        check_err("max(x, ", 8, "expected a number");
        check_err("2 * * x", 5, "unexpected `*`");
        check_err("rleu(x)", 1, "did you mean `relu`?");
        check_err("clip(x, 0, 1)", 1, "did you mean `clamp`?");
        check_err("sqrtt(x)", 1, "did you mean `sqrt`?");
        // Three letters two edits from `pow`: no guess.
        let err = parse("foo(x)").unwrap_err();
        assert!(!err.message.contains("did you mean"), "{err}");
    }

    /// A random expression tree, rendered as source and evaluated directly in f64 (the oracle
    /// the parser and builder are checked against).
    #[derive(Debug, Clone)]
    enum Tree {
        Num(u8),
        X,
        Neg(Box<Tree>),
        Bin(char, Box<Tree>, Box<Tree>),
        Max(Vec<Tree>),
        Abs(Box<Tree>),
    }

    impl Tree {
        fn eval(&self, x: f64) -> f64 {
            match self {
                Tree::Num(n) => f64::from(*n),
                Tree::X => x,
                Tree::Neg(a) => -a.eval(x),
                Tree::Bin('+', a, b) => a.eval(x) + b.eval(x),
                Tree::Bin('-', a, b) => a.eval(x) - b.eval(x),
                Tree::Bin(_, a, b) => a.eval(x) * b.eval(x),
                Tree::Max(args) => args.iter().map(|a| a.eval(x)).fold(f64::MIN, f64::max),
                Tree::Abs(a) => a.eval(x).abs(),
            }
        }

        /// Source with just the parentheses precedence needs (`parent` is the precedence of
        /// the operator this sits under, 0 at the top).
        fn render(&self, parent: u8, out: &mut String) {
            match self {
                Tree::Num(n) => out.push_str(&n.to_string()),
                Tree::X => out.push('x'),
                Tree::Neg(a) => {
                    out.push_str(if parent > 2 { "(-" } else { "-" });
                    a.render(3, out);
                    if parent > 2 {
                        out.push(')');
                    }
                }
                Tree::Bin(op, a, b) => {
                    let p = if *op == '*' { 2 } else { 1 };
                    if p <= parent {
                        out.push('(');
                    }
                    a.render(p - 1, out);
                    out.push_str(&format!(" {op} "));
                    b.render(p, out);
                    if p <= parent {
                        out.push(')');
                    }
                }
                Tree::Max(args) => {
                    out.push_str("max(");
                    for (k, a) in args.iter().enumerate() {
                        if k > 0 {
                            out.push_str(", ");
                        }
                        a.render(0, out);
                    }
                    out.push(')');
                }
                Tree::Abs(a) => {
                    out.push_str("abs(");
                    a.render(0, out);
                    out.push(')');
                }
            }
        }
    }

    fn tree() -> impl proptest::strategy::Strategy<Value = Tree> {
        use proptest::prelude::*;
        let leaf = prop_oneof![(0u8..10).prop_map(Tree::Num), Just(Tree::X)];
        leaf.prop_recursive(6, 48, 4, |inner| {
            prop_oneof![
                inner.clone().prop_map(|a| Tree::Neg(Box::new(a))),
                (
                    prop::sample::select(vec!['+', '-', '*']),
                    inner.clone(),
                    inner.clone()
                )
                    .prop_map(|(op, a, b)| Tree::Bin(op, Box::new(a), Box::new(b))),
                prop::collection::vec(inner.clone(), 2..4).prop_map(Tree::Max),
                inner.prop_map(|a| Tree::Abs(Box::new(a))),
            ]
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        // Integer leaves and + − · max abs keep every value an exact integer (far below 2⁵³),
        // so the engine's value must equal the directly evaluated tree exactly.
        #[test]
        fn parsed_value_equals_the_tree_it_was_rendered_from(t in tree(), x in -3i8..4) {
            let mut src = String::new();
            t.render(0, &mut src);
            let tape = Tape::<f64>::new();
            let xv = tape.param_scalar(f64::from(x)).unwrap();
            let e = parse(&src).unwrap();
            let vars = vec![("x".to_string(), xv)];
            let v = build(&e, &tape, &vars, &mut Origins::default()).unwrap();
            proptest::prop_assert_eq!(v.item(), t.eval(f64::from(x)), "{}", src);
        }

        // Token soup: whatever the input, parsing and building return (Ok or a column inside
        // the input, or one past its end) and never panic.
        #[test]
        fn token_soup_never_panics_and_errors_point_inside(
            toks in proptest::collection::vec(
                proptest::sample::select(vec![
                    "x", "y", "1", "0", "1e308", ".", "e", "+", "-", "*", "/", "(", ")", ",",
                    "relu", "max", "min", "ln", "sqrt", "exp", "abs", "log", " ", "−", "$", "é",
                    "^", "clamp", "pow", "0.5", "leaky_relu", "softplus", "tanh", "log1p",
                ]),
                0..40,
            )
        ) {
            let src: String = toks.concat();
            let end = src.chars().count() + 1;
            match parse(&src) {
                Err(err) => proptest::prop_assert!((1..=end).contains(&err.column), "{}: {}", src, err),
                Ok(e) => {
                    let tape = Tape::<f64>::new();
                    let vars: Vec<_> = e
                        .variables()
                        .into_iter()
                        .map(|n| (n, tape.param_scalar(0.0).unwrap()))
                        .collect();
                    if let Err(err) = build(&e, &tape, &vars, &mut Origins::default()) {
                        proptest::prop_assert!((1..=end).contains(&err.column), "{}: {}", src, err);
                    }
                }
            }
        }
    }

    #[test]
    fn variables_are_listed_in_order_of_appearance() {
        assert_eq!(
            parse("max(b, a) + b * c").unwrap().variables(),
            vec!["b", "a", "c"]
        );
    }
}
