//! Parsing einsum patterns into an [`Equation`].
//!
//! # Grammar
//!
//! ```text
//! pattern := inputs [ "->" output ]
//! inputs  := term ( "," term )*
//! term    := letter-term | named-term
//! letter-term := ( letter | "..." )*           -- each ASCII letter a-z A-Z is one label
//! named-term  := token ( ws+ token )*          -- token: identifier or "..."
//! ```
//!
//! White space around terms, commas and the arrow is ignored. An empty term is a scalar
//! (0-dimensional) operand or output, so an empty or white-space-only pattern, like `"->"`, is
//! one scalar operand returned as it is (numpy's and torch's reading).
//!
//! # Letters or names
//!
//! A pattern uses **named labels** when some term (input or output) contains two tokens
//! separated by white space, as in `"batch inp, out inp -> batch out"`. Otherwise every ASCII
//! letter is its own label (`"bi,oi->bo"`, `"ij, jk -> ik"`). In named mode a label is an
//! identifier `[A-Za-z_][A-Za-z0-9_]*` and `...` must stand alone.
//!
//! A named pattern is rejected as ambiguous when one of its tokens could equally be read as a
//! run of single-letter labels: a multi-letter token that appears only once while each of its
//! letters is a one-letter label elsewhere in the pattern (`"b i, oi -> b o"`: is `oi` one label
//! or `o i`?).

use crate::error::EinsumError;
use std::fmt;

/// One axis of a term: a label (an index into [`Equation::names`]) or the ellipsis.
///
/// ```
/// use slowgrad_core::{Axis, Equation};
/// let eq = Equation::parse("...ij,j->...i").unwrap();
/// assert_eq!(eq.inputs[0].axes, [Axis::Ellipsis, Axis::Label(0), Axis::Label(1)]);
/// assert_eq!(eq.names[1], "j"); // label ids in order of first appearance
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Axis {
    /// A label, by id.
    Label(usize),
    /// `...`: zero or more broadcast dimensions.
    Ellipsis,
}

/// One term of a pattern, as parsed.
///
/// ```
/// use slowgrad_core::{Axis, Equation};
/// let eq = Equation::parse(" b i , o i -> b o ").unwrap();
/// let t = &eq.inputs[1];
/// assert_eq!(t.text, "o i"); // trimmed
/// assert_eq!(t.axes, [Axis::Label(2), Axis::Label(1)]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// The axes in order.
    pub axes: Vec<Axis>,
    /// The term as written (trimmed), for error messages.
    pub text: String,
}

impl Term {
    /// Number of labelled axes (the ellipsis not counted).
    ///
    /// ```
    /// use slowgrad_core::Equation;
    /// let eq = Equation::parse("...ii,j->").unwrap();
    /// assert_eq!(eq.inputs[0].label_count(), 2); // a repeated label counts twice
    /// assert_eq!(eq.inputs[1].label_count(), 1);
    /// assert_eq!(eq.output.unwrap().label_count(), 0);
    /// ```
    pub fn label_count(&self) -> usize {
        self.axes.iter().filter(|a| matches!(a, Axis::Label(_))).count()
    }

    /// Whether the term contains `...`.
    ///
    /// ```
    /// use slowgrad_core::Equation;
    /// let eq = Equation::parse("...ij,jk->...ik").unwrap();
    /// assert!(eq.inputs[0].has_ellipsis() && !eq.inputs[1].has_ellipsis());
    /// ```
    pub fn has_ellipsis(&self) -> bool {
        self.axes.contains(&Axis::Ellipsis)
    }
}

/// A parsed and validated einsum pattern, before operand ranks are known.
///
/// ```
/// use slowgrad_core::Equation;
/// let eq = Equation::parse("ij,jk").unwrap();
/// assert_eq!(eq.inputs.len(), 2);
/// assert!(eq.output.is_none()); // implicit output
/// assert_eq!(eq.names, ["i", "j", "k"]);
/// assert!(!eq.named);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Equation {
    /// Input terms.
    pub inputs: Vec<Term>,
    /// The output term; `None` for an implicit output.
    pub output: Option<Term>,
    /// Label names by id.
    pub names: Vec<String>,
    /// Whether the pattern was written with named labels.
    pub named: bool,
}

impl Equation {
    /// Parses and validates `pattern`.
    ///
    /// **Errors** if the pattern is malformed: see [`EinsumError`].
    ///
    /// ```
    /// use slowgrad_core::Equation;
    /// let eq = Equation::parse("batch inp, out inp -> batch out").unwrap();
    /// assert!(eq.named);
    /// assert_eq!(eq.to_string(), "batch inp,out inp->batch out");
    /// assert_eq!(Equation::parse("bi,oi->bo").unwrap().to_string(), "bi,oi->bo");
    /// ```
    pub fn parse(pattern: &str) -> Result<Equation, EinsumError> {
        parse(pattern)
    }

    /// The labels of a named-label pattern that appear exactly once across the input terms and
    /// not in the explicit output, in order of first appearance: each is summed away, which in a
    /// pattern such as `"batch inp, out inpt -> batch out"` is more likely a typo than intended.
    /// Empty for single-letter patterns (where `"ij->i"` sums `j` on purpose, numpy-style) and for
    /// an implicit output (which keeps every label seen once).
    ///
    /// The pattern stays valid: callers may show these labels as a hint.
    ///
    /// ```
    /// use slowgrad_core::Equation;
    /// let typo = Equation::parse("batch inp, out inpt -> batch out").unwrap();
    /// assert_eq!(typo.summed_once_named_labels(), ["inp", "inpt"]);
    /// let fine = Equation::parse("batch inp, out inp -> batch out").unwrap();
    /// assert!(fine.summed_once_named_labels().is_empty());
    /// // single letters: summing a label away is ordinary
    /// assert!(Equation::parse("ij->i").unwrap().summed_once_named_labels().is_empty());
    /// ```
    pub fn summed_once_named_labels(&self) -> Vec<String> {
        let Some(output) = self.output.as_ref().filter(|_| self.named) else {
            return Vec::new();
        };
        (0..self.names.len())
            .filter(|&l| {
                let uses: usize =
                    self.inputs.iter().map(|t| t.axes.iter().filter(|a| **a == Axis::Label(l)).count()).sum();
                uses == 1 && !output.axes.contains(&Axis::Label(l))
            })
            .map(|l| self.names[l].clone())
            .collect()
    }

    fn fmt_term(&self, term: &Term, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in term.axes.iter().enumerate() {
            if self.named && i > 0 {
                f.write_str(" ")?;
            }
            match a {
                Axis::Label(l) => f.write_str(&self.names[*l])?,
                Axis::Ellipsis => f.write_str("...")?,
            }
        }
        Ok(())
    }
}

impl fmt::Display for Equation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, t) in self.inputs.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            self.fmt_term(t, f)?;
        }
        if let Some(out) = &self.output {
            f.write_str("->")?;
            self.fmt_term(out, f)?;
        }
        Ok(())
    }
}

/// A raw term: its text and its byte offset in the pattern.
struct RawTerm<'a> {
    text: &'a str,
    offset: usize,
}

fn split_terms(pattern: &str) -> Result<(Vec<RawTerm<'_>>, Option<RawTerm<'_>>), EinsumError> {
    let mut arrow = None;
    let bytes = pattern.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'-' => {
                if bytes.get(i + 1) != Some(&b'>') {
                    return Err(EinsumError::InvalidCharacter { ch: '-', position: i });
                }
                if arrow.is_some() {
                    return Err(EinsumError::TwoArrows { position: i });
                }
                arrow = Some(i);
            }
            b'>' if i == 0 || bytes[i - 1] != b'-' => {
                return Err(EinsumError::InvalidCharacter { ch: '>', position: i });
            }
            _ => {}
        }
    }
    let (lhs, rhs) = match arrow {
        Some(a) => (&pattern[..a], Some((&pattern[a + 2..], a + 2))),
        None => (pattern, None),
    };
    let mut inputs = Vec::new();
    let mut start = 0;
    for (i, c) in lhs.char_indices() {
        if c == ',' {
            inputs.push(RawTerm { text: &lhs[start..i], offset: start });
            start = i + 1;
        }
    }
    inputs.push(RawTerm { text: &lhs[start..], offset: start });
    let output = match rhs {
        Some((text, offset)) => {
            if let Some(p) = text.find(',') {
                return Err(EinsumError::CommaInOutput { position: offset + p });
            }
            Some(RawTerm { text, offset })
        }
        None => None,
    };
    Ok((inputs, output))
}

#[derive(Default)]
struct Labels {
    names: Vec<String>,
}

impl Labels {
    fn id(&mut self, name: &str) -> usize {
        match self.names.iter().position(|n| n == name) {
            Some(i) => i,
            None => {
                self.names.push(name.to_string());
                self.names.len() - 1
            }
        }
    }
}

fn parse_letter_term(raw: &RawTerm<'_>, labels: &mut Labels) -> Result<Term, EinsumError> {
    let trimmed = raw.text.trim();
    let lead = raw.text.len() - raw.text.trim_start().len();
    let bytes = trimmed.as_bytes();
    let mut axes = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_alphabetic() {
            axes.push(Axis::Label(labels.id(&(c as char).to_string())));
            i += 1;
        } else if c == b'.' {
            if bytes[i..].starts_with(b"...") {
                if axes.contains(&Axis::Ellipsis) {
                    return Err(EinsumError::TwoEllipses { term: trimmed.to_string() });
                }
                axes.push(Axis::Ellipsis);
                i += 3;
            } else {
                return Err(EinsumError::BadEllipsis { term: trimmed.to_string() });
            }
        } else {
            let ch = trimmed[i..].chars().next().unwrap_or('?');
            return Err(EinsumError::InvalidCharacter { ch, position: raw.offset + lead + i });
        }
    }
    Ok(Term { axes, text: trimmed.to_string() })
}

fn is_identifier(tok: &str) -> bool {
    let mut chars = tok.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn parse_named_term(raw: &RawTerm<'_>, labels: &mut Labels) -> Result<Term, EinsumError> {
    let trimmed = raw.text.trim();
    let mut axes = Vec::new();
    for tok in trimmed.split_whitespace() {
        if tok == "..." {
            if axes.contains(&Axis::Ellipsis) {
                return Err(EinsumError::TwoEllipses { term: trimmed.to_string() });
            }
            axes.push(Axis::Ellipsis);
        } else if is_identifier(tok) {
            axes.push(Axis::Label(labels.id(tok)));
        } else if tok.contains("...") {
            return Err(EinsumError::AmbiguousLabel {
                name: tok.to_string(),
                reason: "in a named-label pattern `...` must stand alone: separate it from labels with a space"
                    .to_string(),
            });
        } else {
            return Err(EinsumError::InvalidName { name: tok.to_string() });
        }
    }
    Ok(Term { axes, text: trimmed.to_string() })
}

fn parse(pattern: &str) -> Result<Equation, EinsumError> {
    // an empty or white-space-only pattern is one empty term: a scalar operand, kept as it is
    if let Some((position, ch)) = pattern.char_indices().find(|(_, c)| !c.is_ascii()) {
        return Err(EinsumError::InvalidCharacter { ch, position });
    }
    let (raw_inputs, raw_output) = split_terms(pattern)?;
    let named = raw_inputs.iter().chain(raw_output.iter()).any(|t| t.text.split_whitespace().count() > 1);
    let mut labels = Labels::default();
    let parse_term = |raw: &RawTerm<'_>, labels: &mut Labels| {
        if named {
            parse_named_term(raw, labels)
        } else {
            parse_letter_term(raw, labels)
        }
    };
    let mut inputs = Vec::with_capacity(raw_inputs.len());
    for raw in &raw_inputs {
        inputs.push(parse_term(raw, &mut labels)?);
    }
    let n_input_labels = labels.names.len();
    let output = match &raw_output {
        Some(raw) => Some(parse_term(raw, &mut labels)?),
        None => None,
    };
    if named {
        let terms: Vec<&Term> = inputs.iter().chain(output.iter()).collect();
        for (id, name) in labels.names.iter().enumerate() {
            let uses: usize = terms.iter().map(|t| t.axes.iter().filter(|a| **a == Axis::Label(id)).count()).sum();
            if uses == 1 {
                check_ambiguous(name, &labels.names)?;
            }
        }
    }
    if let Some(out) = &output {
        let mut seen = Vec::new();
        for a in &out.axes {
            if let Axis::Label(l) = a {
                if seen.contains(l) {
                    return Err(EinsumError::RepeatedOutputLabel { label: labels.names[*l].clone() });
                }
                seen.push(*l);
            }
        }
        if let Some(&l) = seen.iter().find(|&&l| l >= n_input_labels) {
            return Err(EinsumError::OutputLabelNotInInput { label: labels.names[l].clone() });
        }
    }
    Ok(Equation { inputs, output, names: labels.names, named })
}

/// A multi-letter name all of whose letters are one-letter labels of the pattern reads two ways.
fn check_ambiguous(name: &str, names: &[String]) -> Result<(), EinsumError> {
    let letters_used = name.len() > 1
        && name.chars().all(|c| c.is_ascii_alphabetic() && names.iter().any(|n| n.len() == 1 && n.starts_with(c)));
    if letters_used {
        let spaced: Vec<String> = name.chars().map(|c| c.to_string()).collect();
        return Err(EinsumError::AmbiguousLabel {
            name: name.to_string(),
            reason: format!(
                "it is one label here, but each of its letters is also a label of this pattern; write `{}` if you mean separate labels, or use a distinct name",
                spaced.join(" ")
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(p: &str) -> EinsumError {
        Equation::parse(p).unwrap_err()
    }

    #[test]
    fn letters_and_roundtrip() {
        for p in ["ij,jk->ik", "ii->i", "...ij,...jk->...ik", ",ij->ij", "ij,jk", "Ab,bC->AC", "i,->i", "->"] {
            let eq = Equation::parse(p).unwrap();
            assert!(!eq.named, "{p}");
            assert_eq!(eq.to_string(), p);
        }
        let eq = Equation::parse(" ij , jk -> ik ").unwrap();
        assert_eq!(eq.to_string(), "ij,jk->ik");
        assert_eq!(eq.inputs.len(), 2);
        assert_eq!(eq.names, vec!["i", "j", "k"]);
    }

    #[test]
    fn named_labels() {
        let eq = Equation::parse("batch inp, out inp -> batch out").unwrap();
        assert!(eq.named);
        assert_eq!(eq.names, vec!["batch", "inp", "out"]);
        assert_eq!(eq.inputs[1].axes, vec![Axis::Label(2), Axis::Label(1)]);
        let eq = Equation::parse("... row col, col out -> ... out").unwrap();
        assert!(eq.named);
        assert_eq!(eq.inputs[0].axes[0], Axis::Ellipsis);
        // one multi-token term switches the whole pattern to names
        let eq = Equation::parse("x, x y -> y").unwrap();
        assert!(eq.named);
    }

    #[test]
    fn empty_and_blank_patterns_are_one_scalar_term() {
        let scalar = Term { axes: vec![], text: String::new() };
        for p in ["", " ", " \t\n ", "->", " -> ", "  ->"] {
            let eq = Equation::parse(p).unwrap_or_else(|e| panic!("{p:?}: {e}"));
            assert_eq!(eq.inputs, std::slice::from_ref(&scalar), "{p:?}");
            assert!(eq.names.is_empty() && !eq.named, "{p:?}");
            let explicit = p.contains("->");
            assert_eq!(eq.output, explicit.then(|| scalar.clone()), "{p:?}");
            assert_eq!(eq.to_string(), if explicit { "->" } else { "" }, "{p:?}");
        }
        // two scalars multiplied, as in numpy's `einsum(",", 2, 3)`
        let eq = Equation::parse(" , ").unwrap();
        assert_eq!(eq.inputs, [scalar.clone(), scalar]);
        // an output label still needs an input
        assert_eq!(err("->i"), EinsumError::OutputLabelNotInInput { label: "i".into() });
        assert_eq!(err(" ->  i "), EinsumError::OutputLabelNotInInput { label: "i".into() });
    }

    #[test]
    fn named_labels_summed_once_are_listed() {
        let once = |p: &str| Equation::parse(p).unwrap().summed_once_named_labels();
        // the typo `inpt`: both `inp` and `inpt` appear once and are summed away
        assert_eq!(once("batch inp, out inpt -> batch out"), ["inp", "inpt"]);
        // every label seen once and summed away is listed, whether meant or not
        assert_eq!(once("batch hidden, out inp -> batch out"), ["hidden", "inp"]);
        assert_eq!(once("... row col, col out -> ... out"), ["row"]);
        // contracted labels appear twice; kept labels are in the output
        assert!(once("batch inp, out inp -> batch out").is_empty());
        assert!(once("... row col, col out -> ... row out").is_empty());
        // a diagonal counts its label twice: a trace is not a typo
        assert!(once("row row -> ").is_empty());
        // an implicit output keeps every label seen once
        assert!(once("batch inp, out inpt").is_empty());
        // single-letter patterns sum on purpose
        assert!(once("ij,kj->i").is_empty());
        assert!(once("ij -> i").is_empty());
        // order of first appearance, each name once
        assert_eq!(once("zeta a1, b2 alpha -> a1"), ["zeta", "b2", "alpha"]);
    }

    #[test]
    fn errors() {
        assert_eq!(err("ij,jk->ik->i"), EinsumError::TwoArrows { position: 9 });
        assert_eq!(err("i1,j->ij"), EinsumError::InvalidCharacter { ch: '1', position: 1 });
        assert_eq!(err("ij->i,j"), EinsumError::CommaInOutput { position: 5 });
        assert_eq!(err("i..j->ij"), EinsumError::BadEllipsis { term: "i..j".into() });
        assert_eq!(err("...i...->i"), EinsumError::TwoEllipses { term: "...i...".into() });
        assert_eq!(err("ij->ii"), EinsumError::RepeatedOutputLabel { label: "i".into() });
        assert_eq!(err("ij->k"), EinsumError::OutputLabelNotInInput { label: "k".into() });
        assert_eq!(err("i-j"), EinsumError::InvalidCharacter { ch: '-', position: 1 });
        assert_eq!(err("ij>i"), EinsumError::InvalidCharacter { ch: '>', position: 2 });
        assert_eq!(err("ié->i"), EinsumError::InvalidCharacter { ch: 'é', position: 1 });
        assert!(matches!(err("a b, c-d -> a"), EinsumError::InvalidCharacter { ch: '-', .. }));
        assert!(matches!(err("a b, 1x -> a"), EinsumError::InvalidName { .. }));
        assert!(matches!(err("a ...b -> a"), EinsumError::AmbiguousLabel { .. }));
        assert!(matches!(err("b i, oi -> b o"), EinsumError::AmbiguousLabel { ref name, .. } if name == "oi"));
        assert!(matches!(err("b i, o i -> bo"), EinsumError::AmbiguousLabel { ref name, .. } if name == "bo"));
    }

    #[test]
    fn messages_name_the_problem() {
        assert!(err("ij->k").to_string().contains("label `k` is in the output but in no input"));
        assert!(err("...i...->i").to_string().contains("`...i...`"));
    }
}
