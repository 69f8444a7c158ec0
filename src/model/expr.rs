//! The weight expressions of general pools (docs/model.md §1.2 item 7): numbers, region
//! column names, `+ − * / ^`, parentheses, and `min`, `max`, `abs`, `ln`, `exp`.
//!
//! An expression is parsed once, when the scenario is read, into a tree whose leaves are
//! resolved column references, and evaluated over whole columns ([`Expr::eval`]): one
//! vector operation per node for all regions, with no name lookup per region. The grammar
//! is small enough that a hand-written recursive-descent parser is shorter than the glue a
//! general expression crate would need to evaluate column-wise.

use super::region::{Column, RegionData, RegionMeta};

/// A numeric region column: a built-in one, or the k-th declared extra column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnRef {
    Base(Column),
    Extra(usize),
}

impl RegionData {
    /// The values of column `c` (empty for an extra column the data does not have).
    pub fn column(&self, c: ColumnRef) -> &[f64] {
        match c {
            ColumnRef::Base(c) => self.col(c),
            ColumnRef::Extra(k) => self.extra.get(k).map_or(&[], |v| &v[..]),
        }
    }
}

/// The column named `name`: a built-in one, or one declared in `[regions] extra`.
pub fn resolve(meta: &RegionMeta, name: &str) -> Option<ColumnRef> {
    Column::from_name(name).map(ColumnRef::Base).or_else(|| {
        meta.extra_names
            .iter()
            .position(|e| e == name)
            .map(ColumnRef::Extra)
    })
}

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
}

/// A function of the language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    Min,
    Max,
    Abs,
    Ln,
    Exp,
}

impl Func {
    fn of(name: &str) -> Option<Func> {
        Some(match name {
            "min" => Func::Min,
            "max" => Func::Max,
            "abs" => Func::Abs,
            "ln" => Func::Ln,
            "exp" => Func::Exp,
            _ => return None,
        })
    }

    /// The number of arguments: exactly one, or (min, max) at least two.
    fn arity_ok(self, n: usize) -> bool {
        match self {
            Func::Min | Func::Max => n >= 2,
            Func::Abs | Func::Ln | Func::Exp => n == 1,
        }
    }
}

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Num(f64),
    Col(ColumnRef),
    Neg(Box<Expr>),
    Bin(Op, Box<Expr>, Box<Expr>),
    Call(Func, Vec<Expr>),
}

/// Why an expression does not parse, with the byte offset where it went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprError {
    pub at: usize,
    pub message: String,
}

impl std::fmt::Display for ExprError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (at character {})", self.message, self.at + 1)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Ident(String),
    Sym(char),
}

fn tokens(src: &str) -> Result<Vec<(usize, Tok)>, ExprError> {
    let mut out = Vec::new();
    let mut it = src.char_indices().peekable();
    while let Some(&(i, c)) = it.peek() {
        if c.is_whitespace() {
            it.next();
        } else if c.is_ascii_digit() || c == '.' {
            let mut end = i;
            while let Some(&(j, d)) = it.peek() {
                let exp_sign = (d == '+' || d == '-')
                    && src[..j].ends_with(['e', 'E'])
                    && src[i..j].chars().any(|x| x.is_ascii_digit());
                if d.is_ascii_digit() || d == '.' || d == 'e' || d == 'E' || exp_sign {
                    end = j + d.len_utf8();
                    it.next();
                } else {
                    break;
                }
            }
            let text = &src[i..end];
            let v = text.parse::<f64>().map_err(|_| ExprError {
                at: i,
                message: format!("'{text}' is not a number"),
            })?;
            out.push((i, Tok::Num(v)));
        } else if c.is_alphabetic() || c == '_' {
            let mut end = i;
            while let Some(&(j, d)) = it.peek() {
                if d.is_alphanumeric() || d == '_' {
                    end = j + d.len_utf8();
                    it.next();
                } else {
                    break;
                }
            }
            out.push((i, Tok::Ident(src[i..end].to_string())));
        } else if "+-*/^(),".contains(c) {
            out.push((i, Tok::Sym(c)));
            it.next();
        } else {
            return Err(ExprError {
                at: i,
                message: format!("unexpected character '{c}'"),
            });
        }
    }
    Ok(out)
}

/// Recursive-descent parser over the tokens; `resolve` turns a name into a column.
struct Parser<'a> {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    end: usize,
    resolve: &'a dyn Fn(&str) -> Option<ColumnRef>,
}

impl Parser<'_> {
    fn at(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end, |t| t.0)
    }

    fn err<T>(&self, message: impl Into<String>) -> Result<T, ExprError> {
        Err(ExprError {
            at: self.at(),
            message: message.into(),
        })
    }

    fn eat(&mut self, c: char) -> bool {
        if matches!(self.toks.get(self.pos), Some((_, Tok::Sym(s))) if *s == c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// sum := product (('+' | '-') product)*
    fn sum(&mut self) -> Result<Expr, ExprError> {
        let mut e = self.product()?;
        loop {
            let op = if self.eat('+') {
                Op::Add
            } else if self.eat('-') {
                Op::Sub
            } else {
                return Ok(e);
            };
            e = Expr::Bin(op, Box::new(e), Box::new(self.product()?));
        }
    }

    /// product := unary (('*' | '/') unary)*
    fn product(&mut self) -> Result<Expr, ExprError> {
        let mut e = self.unary()?;
        loop {
            let op = if self.eat('*') {
                Op::Mul
            } else if self.eat('/') {
                Op::Div
            } else {
                return Ok(e);
            };
            e = Expr::Bin(op, Box::new(e), Box::new(self.unary()?));
        }
    }

    /// unary := '-' unary | power
    fn unary(&mut self) -> Result<Expr, ExprError> {
        if self.eat('-') {
            return Ok(Expr::Neg(Box::new(self.unary()?)));
        }
        self.power()
    }

    /// power := atom ('^' unary)?, right-associative, binding tighter than a leading
    /// minus on its left (`-x^2` is `-(x^2)`).
    fn power(&mut self) -> Result<Expr, ExprError> {
        let base = self.atom()?;
        if self.eat('^') {
            return Ok(Expr::Bin(Op::Pow, Box::new(base), Box::new(self.unary()?)));
        }
        Ok(base)
    }

    fn atom(&mut self) -> Result<Expr, ExprError> {
        let Some((_, tok)) = self.toks.get(self.pos).cloned() else {
            return self.err("the expression ends too early");
        };
        match tok {
            Tok::Num(v) => {
                self.pos += 1;
                Ok(Expr::Num(v))
            }
            Tok::Sym('(') => {
                self.pos += 1;
                let e = self.sum()?;
                if !self.eat(')') {
                    return self.err("expected ')'");
                }
                Ok(e)
            }
            Tok::Ident(name) => {
                let start = self.at();
                self.pos += 1;
                if self.eat('(') {
                    let Some(func) = Func::of(&name) else {
                        return Err(ExprError {
                            at: start,
                            message: format!(
                                "unknown function '{name}'; the functions are min, max, abs, \
                                 ln and exp"
                            ),
                        });
                    };
                    let mut args = vec![self.sum()?];
                    while self.eat(',') {
                        args.push(self.sum()?);
                    }
                    if !self.eat(')') {
                        return self.err("expected ',' or ')'");
                    }
                    if !func.arity_ok(args.len()) {
                        return Err(ExprError {
                            at: start,
                            message: format!(
                                "'{name}' takes {}, not {}",
                                if matches!(func, Func::Min | Func::Max) {
                                    "two or more arguments"
                                } else {
                                    "one argument"
                                },
                                args.len()
                            ),
                        });
                    }
                    return Ok(Expr::Call(func, args));
                }
                match (self.resolve)(&name) {
                    Some(c) => Ok(Expr::Col(c)),
                    None => Err(ExprError {
                        at: start,
                        message: format!("unknown column '{name}'"),
                    }),
                }
            }
            Tok::Sym(c) => self.err(format!("unexpected '{c}'")),
        }
    }
}

impl Expr {
    /// Parse `src`; `resolve` maps a column name to its column (`None`: unknown).
    pub fn parse(
        src: &str,
        resolve: &dyn Fn(&str) -> Option<ColumnRef>,
    ) -> Result<Expr, ExprError> {
        let toks = tokens(src)?;
        let mut p = Parser {
            toks,
            pos: 0,
            end: src.len(),
            resolve,
        };
        let e = p.sum()?;
        if p.pos < p.toks.len() {
            return p.err("unexpected text after the expression");
        }
        Ok(e)
    }

    /// The expression's value for each of the `n` regions of `data`, into `out`.
    pub fn eval(&self, data: &RegionData, out: &mut Vec<f64>) {
        let n = data.n;
        out.clear();
        match self {
            Expr::Num(v) => out.resize(n, *v),
            Expr::Col(c) => {
                let col = data.column(*c);
                out.extend((0..n).map(|i| col.get(i).copied().unwrap_or(0.0)));
            }
            Expr::Neg(e) => {
                e.eval(data, out);
                out.iter_mut().for_each(|x| *x = -*x);
            }
            Expr::Bin(op, a, b) => {
                a.eval(data, out);
                let mut rhs = Vec::with_capacity(n);
                b.eval(data, &mut rhs);
                let f: fn(f64, f64) -> f64 = match op {
                    Op::Add => |x, y| x + y,
                    Op::Sub => |x, y| x - y,
                    Op::Mul => |x, y| x * y,
                    Op::Div => |x, y| x / y,
                    Op::Pow => f64::powf,
                };
                out.iter_mut().zip(&rhs).for_each(|(x, &y)| *x = f(*x, y));
            }
            Expr::Call(func, args) => {
                args[0].eval(data, out);
                match func {
                    Func::Abs => out.iter_mut().for_each(|x| *x = x.abs()),
                    Func::Ln => out.iter_mut().for_each(|x| *x = x.ln()),
                    Func::Exp => out.iter_mut().for_each(|x| *x = x.exp()),
                    Func::Min | Func::Max => {
                        let mut next = Vec::with_capacity(n);
                        for a in &args[1..] {
                            a.eval(data, &mut next);
                            for (x, &y) in out.iter_mut().zip(&next) {
                                // NaN-propagating, so that a bad weight is reported, not
                                // hidden by the other argument.
                                *x = if x.is_nan() || y.is_nan() {
                                    f64::NAN
                                } else if *func == Func::Min {
                                    x.min(y)
                                } else {
                                    x.max(y)
                                };
                            }
                        }
                    }
                }
            }
        }
    }

    /// The columns the expression reads.
    pub fn columns(&self, out: &mut Vec<ColumnRef>) {
        match self {
            Expr::Num(_) => {}
            Expr::Col(c) => out.push(*c),
            Expr::Neg(e) => e.columns(out),
            Expr::Bin(_, a, b) => {
                a.columns(out);
                b.columns(out);
            }
            Expr::Call(_, args) => args.iter().for_each(|a| a.columns(out)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(name: &str) -> Option<ColumnRef> {
        match name {
            "wetland_km2" => Some(ColumnRef::Extra(0)),
            other => Column::from_name(other).map(ColumnRef::Base),
        }
    }

    fn data() -> RegionData {
        let mut d = RegionData::zeros(2);
        d.col_mut(Column::AreaKm2).copy_from_slice(&[100.0, 200.0]);
        d.col_mut(Column::RedlineKm2).copy_from_slice(&[50.0, 20.0]);
        d.extra = vec![vec![10.0, 4.0]];
        d
    }

    fn value(src: &str) -> Vec<f64> {
        let mut out = Vec::new();
        Expr::parse(src, &resolve).unwrap().eval(&data(), &mut out);
        out
    }

    #[test]
    fn the_model_example_by_hand() {
        // Coverage 0.5 and 0.1: 10 · (1 + 0.5 · 0.2) = 11 and 4 · (1 + 0) = 4.
        let v = value("wetland_km2 * (1 + 0.5 * max(0, redline_km2 / area_km2 - 0.3))");
        assert!((v[0] - 11.0).abs() < 1e-12 && v[1] == 4.0, "{v:?}");
    }

    #[test]
    fn precedence_and_functions() {
        assert_eq!(value("1 + 2 * 3")[0], 7.0);
        assert_eq!(value("(1 + 2) * 3")[0], 9.0);
        assert_eq!(value("2 ^ 3 ^ 2")[0], 512.0);
        assert_eq!(value("-2 ^ 2")[0], -4.0);
        assert_eq!(value("10 - 4 - 3")[0], 3.0);
        assert_eq!(value("8 / 4 / 2")[0], 1.0);
        assert_eq!(value("min(3, wetland_km2, 7)"), vec![3.0, 3.0]);
        assert_eq!(value("abs(-1.5e1)")[0], 15.0);
        assert_eq!(value("ln(exp(2))")[0], 2.0);
        assert_eq!(value("2.5E-1 * 4")[0], 1.0);
    }

    #[test]
    fn errors_say_what_and_where() {
        let err = |src: &str| Expr::parse(src, &resolve).unwrap_err();
        let e = err("wetland_km2 * (1 + ");
        assert!(e.message.contains("ends too early"), "{e}");
        let e = err("forest_mu * 2");
        assert_eq!(
            (e.at, e.message.as_str()),
            (0, "unknown column 'forest_mu'")
        );
        assert!(
            err("sqrt(area_km2)")
                .message
                .contains("unknown function 'sqrt'")
        );
        assert!(err("max(area_km2)").message.contains("two or more"));
        assert!(
            err("area_km2 $ 2")
                .message
                .contains("unexpected character '$'")
        );
        assert!(err("(area_km2").message.contains("expected ')'"));
        assert!(err("area_km2 2").message.contains("after the expression"));
        assert!(err("1..2").message.contains("not a number"));
        assert_eq!(
            err("1 + * 2").to_string(),
            "unexpected '*' (at character 5)"
        );
    }

    #[test]
    fn columns_are_listed() {
        let e = Expr::parse("wetland_km2 / area_km2", &resolve).unwrap();
        let mut cols = Vec::new();
        e.columns(&mut cols);
        assert_eq!(
            cols,
            [ColumnRef::Extra(0), ColumnRef::Base(Column::AreaKm2)]
        );
    }
}
