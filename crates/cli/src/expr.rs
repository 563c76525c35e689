//! The expression language of `subgrad grad`: parse, then build on a tape.
//!
//! ```text
//! expr    := term (('+' | '-') term)*
//! term    := unary (('*' | '/') unary)*
//! unary   := '-' unary | primary
//! primary := number | name | name '(' expr (',' expr)* ')' | '(' expr ')'
//! ```
//! Functions: `relu abs exp ln sqrt square` (one argument), `max min` (two arguments:
//! elementwise; three or more: a reduction over the arguments).

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

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A number.
    Num(f64, Span),
    /// A variable.
    Var(String, Span),
    /// Unary minus.
    Neg(Box<Expr>, Span),
    /// A binary operator `+ - * /`.
    Bin(char, Box<Expr>, Box<Expr>, Span),
    /// A function call.
    Call(String, Vec<Expr>, Span),
}

impl Expr {
    /// The columns this sub-expression covers.
    pub fn span(&self) -> Span {
        match self {
            Expr::Num(_, s)
            | Expr::Var(_, s)
            | Expr::Neg(_, s)
            | Expr::Bin(.., s)
            | Expr::Call(_, _, s) => *s,
        }
    }

    /// The variables, in order of first appearance.
    pub fn variables(&self) -> Vec<String> {
        fn walk(e: &Expr, out: &mut Vec<String>) {
            match e {
                Expr::Num(..) => {}
                Expr::Var(name, _) => {
                    if !out.contains(name) {
                        out.push(name.clone());
                    }
                }
                Expr::Neg(a, _) => walk(a, out),
                Expr::Bin(_, a, b, _) => {
                    walk(a, out);
                    walk(b, out);
                }
                Expr::Call(_, args, _) => args.iter().for_each(|a| walk(a, out)),
            }
        }
        let mut out = Vec::new();
        walk(self, &mut out);
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
        } else if "+-*/(),".contains(c) || c == '−' {
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

struct Parser {
    toks: Vec<(Tok, Span)>,
    pos: usize,
    end_col: usize,
}

const UNARY: [&str; 6] = ["relu", "abs", "exp", "ln", "sqrt", "square"];

impl Parser {
    fn peek(&self) -> Option<&(Tok, Span)> {
        self.toks.get(self.pos)
    }

    fn col(&self) -> usize {
        self.peek().map_or(self.end_col, |(_, s)| s.start)
    }

    fn eat(&mut self, c: char) -> bool {
        if matches!(self.peek(), Some((Tok::Sym(s), _)) if *s == c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expr(&mut self) -> Result<Expr, ExprError> {
        let mut lhs = self.term()?;
        loop {
            let op = if self.eat('+') {
                '+'
            } else if self.eat('-') {
                '-'
            } else {
                return Ok(lhs);
            };
            let rhs = self.term()?;
            let span = Span {
                start: lhs.span().start,
                end: rhs.span().end,
            };
            lhs = Expr::Bin(op, Box::new(lhs), Box::new(rhs), span);
        }
    }

    fn term(&mut self) -> Result<Expr, ExprError> {
        let mut lhs = self.unary()?;
        loop {
            let op = if self.eat('*') {
                '*'
            } else if self.eat('/') {
                '/'
            } else {
                return Ok(lhs);
            };
            let rhs = self.unary()?;
            let span = Span {
                start: lhs.span().start,
                end: rhs.span().end,
            };
            lhs = Expr::Bin(op, Box::new(lhs), Box::new(rhs), span);
        }
    }

    fn unary(&mut self) -> Result<Expr, ExprError> {
        let start = self.col();
        if self.eat('-') {
            let inner = self.unary()?;
            let span = Span {
                start,
                end: inner.span().end,
            };
            return Ok(Expr::Neg(Box::new(inner), span));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, ExprError> {
        let col = self.col();
        let Some((tok, span)) = self.peek().cloned() else {
            return Err(ExprError::at(
                col,
                "expected a number, a variable, a function or `(`",
            ));
        };
        self.pos += 1;
        match tok {
            Tok::Num(v) => Ok(Expr::Num(v, span)),
            Tok::Sym('(') => {
                let inner = self.expr()?;
                if !self.eat(')') {
                    return Err(ExprError::at(self.col(), "expected `)`"));
                }
                Ok(inner)
            }
            Tok::Sym(c) => Err(ExprError::at(col, format!("unexpected `{c}`"))),
            Tok::Name(name) => {
                if !self.eat('(') {
                    if UNARY.contains(&name.as_str()) || name == "max" || name == "min" {
                        return Err(ExprError::at(
                            self.col(),
                            format!("expected `(` after `{name}`"),
                        ));
                    }
                    return Ok(Expr::Var(name, span));
                }
                let mut args = vec![self.expr()?];
                while self.eat(',') {
                    args.push(self.expr()?);
                }
                let close = self.col();
                if !self.eat(')') {
                    return Err(ExprError::at(close, "expected `,` or `)`"));
                }
                let span = Span {
                    start: span.start,
                    end: close + 1,
                };
                let arity_ok = match name.as_str() {
                    n if UNARY.contains(&n) => args.len() == 1,
                    "max" | "min" => args.len() >= 2,
                    _ => return Err(ExprError::at(col, format!("unknown function `{name}`"))),
                };
                if !arity_ok {
                    let want = if name == "max" || name == "min" {
                        "at least 2 arguments"
                    } else {
                        "1 argument"
                    };
                    return Err(ExprError::at(
                        col,
                        format!("`{name}` takes {want}, got {}", args.len()),
                    ));
                }
                Ok(Expr::Call(name, args, span))
            }
        }
    }
}

/// Parses an expression.
///
/// # Errors
/// An [`ExprError`] pointing at the column of the first problem.
pub fn parse(src: &str) -> Result<Expr, ExprError> {
    let toks = lex(src)?;
    let mut p = Parser {
        toks,
        pos: 0,
        end_col: src.chars().count() + 1,
    };
    let e = p.expr()?;
    if p.pos < p.toks.len() {
        let col = p.col();
        return Err(ExprError::at(col, "unexpected input after the expression"));
    }
    Ok(e)
}

/// Which sub-expression each tape node came from.
#[derive(Debug, Default)]
pub struct Origins(Vec<(NodeId, Span)>);

impl Origins {
    /// The source span of a node, if it came from a sub-expression.
    pub fn span(&self, node: NodeId) -> Option<Span> {
        self.0.iter().find(|(n, _)| *n == node).map(|(_, s)| *s)
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "columns {}–{}", self.start, self.end - 1)
    }
}

/// Builds `e` on `tape`, looking variables up in `vars`; records each node's origin.
///
/// # Errors
/// An [`ExprError`] at the sub-expression the engine rejected (e.g. `ln` of a negative number)
/// or at an unknown variable.
pub fn build<'t>(
    e: &Expr,
    tape: &'t Tape<f64>,
    vars: &[(String, Var<'t, f64>)],
    origins: &mut Origins,
) -> Result<Var<'t, f64>, ExprError> {
    let span = e.span();
    let fail = |err: autodiff::Error| ExprError::at(span.start, err.to_string());
    let v = match e {
        Expr::Num(x, _) => tape.constant_scalar(*x).map_err(fail)?,
        Expr::Var(name, _) => {
            return vars
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| *v)
                .ok_or_else(|| {
                    ExprError::at(
                        span.start,
                        format!("no value for `{name}`: give --at {name}=VALUE"),
                    )
                })
        }
        Expr::Neg(a, _) => -build(a, tape, vars, origins)?,
        Expr::Bin(op, a, b, _) => {
            let (a, b) = (
                build(a, tape, vars, origins)?,
                build(b, tape, vars, origins)?,
            );
            match op {
                '+' => a.try_add(b),
                '-' => a.try_sub(b),
                '*' => a.try_mul(b),
                _ => a.try_div(b),
            }
            .map_err(fail)?
        }
        Expr::Call(name, args, _) => {
            let xs = args
                .iter()
                .map(|a| build(a, tape, vars, origins))
                .collect::<Result<Vec<_>, _>>()?;
            let x = xs[0];
            match name.as_str() {
                "relu" => x.relu(),
                "abs" => x.abs(),
                "exp" => x.try_exp().map_err(fail)?,
                "ln" => x.try_ln().map_err(fail)?,
                "sqrt" => x.try_sqrt().map_err(fail)?,
                "square" => x.square(),
                "max" if xs.len() == 2 => x.try_max(xs[1]).map_err(fail)?,
                "min" if xs.len() == 2 => x.try_min(xs[1]).map_err(fail)?,
                "max" => tape.try_max_n(&xs).map_err(fail)?,
                _ => tape.try_min_n(&xs).map_err(fail)?,
            }
        }
    };
    origins.0.push((v.id(), span));
    Ok(v)
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

    #[test]
    fn variables_are_listed_in_order_of_appearance() {
        assert_eq!(
            parse("max(b, a) + b * c").unwrap().variables(),
            vec!["b", "a", "c"]
        );
    }
}
