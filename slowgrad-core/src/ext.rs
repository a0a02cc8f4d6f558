//! Extended einsum: the single computational primitive.
//!
//! An [`ExtEinsum`] is an einsum whose labels are resolved to ids and whose output term may
//! repeat a label (write a diagonal) or hold labels absent from every input (broadcast, with
//! the size given by the output shape). Together with size-1 broadcasting on both sides, this
//! family is closed under differentiation: [`ExtEinsum::gradient`] gives another member.

use crate::error::{EinsumError, ELLIPSIS};
use crate::parse::{Axis, Equation};
use std::fmt;

/// A resolved, extended einsum equation: inputs and output as lists of label ids.
///
/// ```
/// use slowgrad_core::ExtEinsum;
/// // the sum of each row, written with label ids: 0 is `i`, 1 is `j`
/// let rows = ExtEinsum { inputs: vec![vec![0, 1]], output: vec![0], names: vec!["i".into(), "j".into()] };
/// assert_eq!(rows.to_string(), "ij->i");
/// assert_eq!(rows, ExtEinsum::from_letters("ij", "i").unwrap());
/// // its gradient broadcasts back over `j`, a label in no input of the gradient
/// assert_eq!(rows.gradient(0).to_string(), "i->ij");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExtEinsum {
    /// Label ids of each input's axes (a repeated id is a diagonal).
    pub inputs: Vec<Vec<usize>>,
    /// Label ids of the output's axes (may repeat, may name labels absent from the inputs).
    pub output: Vec<usize>,
    /// Name of every label id (ellipsis dimensions are named `0`, `1`, ... from the left).
    pub names: Vec<String>,
}

/// Which operand a dimension belongs to, for shape errors.
type Who = Option<usize>;

impl ExtEinsum {
    /// Builds an extended einsum directly from single-letter terms, e.g. `("ij,jk", "ik")`.
    /// Letters are the labels; repeats and output-only labels are allowed.
    ///
    /// **Errors** on characters other than ASCII letters and `,`.
    ///
    /// ```
    /// use slowgrad_core::ExtEinsum;
    /// let e = ExtEinsum::from_letters("i", "ii").unwrap();   // scatter onto the diagonal
    /// assert_eq!(e.to_string(), "i->ii");
    /// assert_eq!(e.gradient(0).to_string(), "ii->i");
    /// ```
    pub fn from_letters(inputs: &str, output: &str) -> Result<ExtEinsum, EinsumError> {
        let mut names: Vec<String> = Vec::new();
        let mut id = |c: char, pos: usize| -> Result<usize, EinsumError> {
            if !c.is_ascii_alphabetic() {
                return Err(EinsumError::InvalidCharacter { ch: c, position: pos });
            }
            let s = c.to_string();
            Ok(match names.iter().position(|n| *n == s) {
                Some(i) => i,
                None => {
                    names.push(s);
                    names.len() - 1
                }
            })
        };
        let mut ins = Vec::new();
        let mut pos = 0;
        for term in inputs.split(',') {
            let mut t = Vec::new();
            for c in term.chars() {
                t.push(id(c, pos)?);
                pos += 1;
            }
            pos += 1;
            ins.push(t);
        }
        let mut out = Vec::new();
        for c in output.chars() {
            out.push(id(c, pos)?);
            pos += 1;
        }
        Ok(ExtEinsum { inputs: ins, output: out, names })
    }

    /// Resolves a parsed equation for operands of the given ranks: expands every `...` into
    /// labels (right-aligned, numpy-style) and computes an implicit output.
    ///
    /// **Errors** if the operand count or a rank does not fit the pattern.
    ///
    /// ```
    /// use slowgrad_core::{EinsumError, Equation, ExtEinsum};
    /// let eq = Equation::parse("...i,i").unwrap();
    /// // `...` covers two dimensions of the first operand; the implicit output keeps them
    /// assert_eq!(ExtEinsum::resolve(&eq, &[3, 1]).unwrap().to_string(), "01i,i->01");
    /// assert!(matches!(ExtEinsum::resolve(&eq, &[0, 1]), Err(EinsumError::RankMismatch { operand: 0, .. })));
    /// assert_eq!(ExtEinsum::resolve(&eq, &[1]), Err(EinsumError::OperandCount { terms: 2, operands: 1 }));
    /// ```
    pub fn resolve(eq: &Equation, ranks: &[usize]) -> Result<ExtEinsum, EinsumError> {
        if ranks.len() != eq.inputs.len() {
            return Err(EinsumError::OperandCount { terms: eq.inputs.len(), operands: ranks.len() });
        }
        let mut ell_dims = Vec::with_capacity(ranks.len());
        for (k, (term, &rank)) in eq.inputs.iter().zip(ranks).enumerate() {
            let labels = term.label_count();
            let ellipsis = term.has_ellipsis();
            if (ellipsis && rank < labels) || (!ellipsis && rank != labels) {
                return Err(EinsumError::RankMismatch { operand: k, term: term.text.clone(), labels, ellipsis, rank });
            }
            ell_dims.push(rank - labels);
        }
        let e = ell_dims.iter().copied().max().unwrap_or(0);
        let mut names = eq.names.clone();
        let base = names.len();
        for p in 0..e {
            names.push(p.to_string());
        }
        let expand = |axes: &[Axis], dims: usize| -> Vec<usize> {
            let mut out = Vec::new();
            for a in axes {
                match a {
                    Axis::Label(l) => out.push(*l),
                    Axis::Ellipsis => out.extend(base + e - dims..base + e),
                }
            }
            out
        };
        let inputs: Vec<Vec<usize>> = eq.inputs.iter().zip(&ell_dims).map(|(t, &d)| expand(&t.axes, d)).collect();
        let output = match &eq.output {
            Some(t) => expand(&t.axes, e),
            None => {
                let mut out: Vec<usize> = (base..base + e).collect();
                let mut once: Vec<usize> = (0..base)
                    .filter(|&l| {
                        eq.inputs.iter().map(|t| t.axes.iter().filter(|a| **a == Axis::Label(l)).count()).sum::<usize>()
                            == 1
                    })
                    .collect();
                once.sort_by(|a, b| names[*a].cmp(&names[*b]));
                out.extend(once);
                out
            }
        };
        Ok(ExtEinsum { inputs, output, names })
    }

    /// Parses `pattern` and resolves it for operands of the given ranks.
    ///
    /// **Errors** as [`Equation::parse`] and [`ExtEinsum::resolve`].
    ///
    /// ```
    /// use slowgrad_core::ExtEinsum;
    /// let e = ExtEinsum::parse("...ij,...jk->...ik", &[4, 3]).unwrap();
    /// assert_eq!(e.to_string(), "01ij,1jk->01ik");
    /// ```
    pub fn parse(pattern: &str, ranks: &[usize]) -> Result<ExtEinsum, EinsumError> {
        Self::resolve(&Equation::parse(pattern)?, ranks)
    }

    /// Number of label ids.
    ///
    /// ```
    /// use slowgrad_core::ExtEinsum;
    /// let e = ExtEinsum::parse("...ij,jk->...ik", &[3, 2]).unwrap();
    /// assert_eq!(e.num_labels(), 4); // i, j, k and one ellipsis dimension
    /// ```
    pub fn num_labels(&self) -> usize {
        self.names.len()
    }

    /// The equation of the gradient with respect to input `k`: the upstream gradient takes the
    /// output's place among the inputs, and input `k`'s term becomes the output.
    ///
    /// Labels of input `k` that appear in no other term become broadcast labels of the result,
    /// a repeated label becomes a diagonal scatter, and a dimension of size 1 broadcast in the
    /// forward is summed back to size 1 when the result is given input `k`'s shape.
    ///
    /// **Panics** if `k` is not an input position.
    ///
    /// ```
    /// use slowgrad_core::ExtEinsum;
    /// let e = ExtEinsum::parse("ij,jk->ik", &[2, 2]).unwrap();
    /// assert_eq!(e.gradient(0).to_string(), "ik,jk->ij");
    /// assert_eq!(e.gradient(1).to_string(), "ik,ij->jk");
    /// ```
    pub fn gradient(&self, k: usize) -> ExtEinsum {
        let mut inputs = Vec::with_capacity(self.inputs.len());
        inputs.push(self.output.clone());
        for (j, t) in self.inputs.iter().enumerate() {
            if j != k {
                inputs.push(t.clone());
            }
        }
        ExtEinsum { inputs, output: self.inputs[k].clone(), names: self.names.clone() }
    }

    /// Sizes of every label, from the input shapes and (optionally) the output shape, with
    /// size-1 broadcasting. A label that appears nowhere gets size 1.
    ///
    /// **Errors** if the number of shapes differs from the number of inputs, if an input
    /// shape's rank differs from its term, if one label has two sizes that are neither equal
    /// nor 1, if a repeated label has two sizes within one operand, if the output shape's rank
    /// differs from the output term, or if an output label absent from the inputs has no size
    /// given.
    ///
    /// ```
    /// use slowgrad_core::{EinsumError, ExtEinsum};
    /// let e = ExtEinsum::parse("ij,jk->ik", &[2, 2]).unwrap();
    /// // `j` is 3 in the first operand and broadcast from 1 in the second
    /// assert_eq!(e.label_sizes(&[&[2, 3], &[1, 4]], None).unwrap(), [2, 3, 4]);
    /// // an output-only label takes its size from the output shape
    /// let b = ExtEinsum::from_letters("i", "ij").unwrap();
    /// assert_eq!(b.label_sizes(&[&[2]], Some(&[2, 5])).unwrap(), [2, 5]);
    /// assert_eq!(b.label_sizes(&[&[2]], None), Err(EinsumError::UnknownSize { label: "j".to_string() }));
    /// ```
    pub fn label_sizes(&self, shapes: &[&[usize]], output: Option<&[usize]>) -> Result<Vec<usize>, EinsumError> {
        if shapes.len() != self.inputs.len() {
            return Err(EinsumError::OperandCount { terms: self.inputs.len(), operands: shapes.len() });
        }
        let mut sizes: Vec<Option<(usize, Who)>> = vec![None; self.names.len()];
        for (k, (term, shape)) in self.inputs.iter().zip(shapes).enumerate() {
            if term.len() != shape.len() {
                return Err(EinsumError::RankMismatch {
                    operand: k,
                    term: self.term_string(term),
                    labels: term.len(),
                    ellipsis: false,
                    rank: shape.len(),
                });
            }
            for (i, (&l, &d)) in term.iter().zip(shape.iter()).enumerate() {
                if let Some(j) = term[..i].iter().position(|&m| m == l) {
                    if shape[j] != d {
                        return Err(EinsumError::DiagonalMismatch {
                            label: self.error_name(l),
                            operand: k,
                            first_size: shape[j],
                            second_size: d,
                        });
                    }
                }
                merge(&mut sizes[l], d, Some(k), || self.error_name(l))?;
            }
        }
        if let Some(shape) = output {
            if shape.len() != self.output.len() {
                let expected = self.output.iter().map(|&l| sizes[l].map_or(0, |s| s.0)).collect();
                return Err(EinsumError::OutputShape { expected, got: shape.to_vec() });
            }
            for (&l, &d) in self.output.iter().zip(shape) {
                merge(&mut sizes[l], d, None, || self.error_name(l))?;
            }
        }
        let mut out = Vec::with_capacity(sizes.len());
        for (l, s) in sizes.iter().enumerate() {
            match s {
                Some((d, _)) => out.push(*d),
                None if self.output.contains(&l) => return Err(EinsumError::UnknownSize { label: self.error_name(l) }),
                None => out.push(1),
            }
        }
        Ok(out)
    }

    /// The name errors give label `l`: its own, or `...` for a dimension covered by an ellipsis
    /// (named `0`, `1`, ... here, which the user never wrote).
    fn error_name(&self, l: usize) -> String {
        let name = &self.names[l];
        if name.starts_with(|c: char| c.is_ascii_digit()) {
            ELLIPSIS.to_string()
        } else {
            name.clone()
        }
    }

    /// The output shape for the given label sizes (every output label at its full size).
    ///
    /// **Errors** with [`EinsumError::TooLarge`] if the element count overflows.
    ///
    /// **Panics** if `sizes` has fewer entries than there are labels.
    ///
    /// ```
    /// use slowgrad_core::{EinsumError, ExtEinsum};
    /// let t = ExtEinsum::from_letters("ij", "ji").unwrap();
    /// assert_eq!(t.output_shape(&[2, 3]).unwrap(), [3, 2]);
    /// let outer = ExtEinsum::from_letters("i,j", "ij").unwrap();
    /// let huge = usize::MAX / 2;
    /// assert!(matches!(outer.output_shape(&[huge, huge]), Err(EinsumError::TooLarge { .. })));
    /// ```
    pub fn output_shape(&self, sizes: &[usize]) -> Result<Vec<usize>, EinsumError> {
        let shape: Vec<usize> = self.output.iter().map(|&l| sizes[l]).collect();
        checked_len(&shape)?;
        Ok(shape)
    }

    /// Renders one term with this equation's label names, separated by spaces when some name is
    /// longer than one letter.
    ///
    /// **Panics** if a label id is not below [`ExtEinsum::num_labels`].
    ///
    /// ```
    /// use slowgrad_core::ExtEinsum;
    /// let named = ExtEinsum::parse("batch inp, out inp -> batch out", &[2, 2]).unwrap();
    /// assert_eq!(named.term_string(&named.inputs[1]), "out inp");
    /// let letters = ExtEinsum::parse("ij,jk->ik", &[2, 2]).unwrap();
    /// assert_eq!(letters.term_string(&[2, 0, 0]), "kii");
    /// ```
    pub fn term_string(&self, term: &[usize]) -> String {
        let spaced = self.names.iter().any(|n| n.len() != 1);
        let parts: Vec<&str> = term.iter().map(|&l| self.names[l].as_str()).collect();
        parts.join(if spaced { " " } else { "" })
    }

    /// Labels that appear in some input or the output, in id order. (A step of a [`Plan`]
    /// keeps the label ids of its whole equation, so it may not use all of them.)
    ///
    /// [`Plan`]: crate::Plan
    ///
    /// ```
    /// use slowgrad_core::ExtEinsum;
    /// let names = ["i", "j", "k"].map(String::from).to_vec();
    /// // `j` (id 1) appears in no term
    /// let e = ExtEinsum { inputs: vec![vec![2, 0]], output: vec![0], names };
    /// assert_eq!(e.used_labels(), [0, 2]);
    /// ```
    pub fn used_labels(&self) -> Vec<usize> {
        (0..self.names.len())
            .filter(|l| self.inputs.iter().chain(std::iter::once(&self.output)).any(|t| t.contains(l)))
            .collect()
    }
}

/// The number of elements of `shape`.
///
/// **Errors** with [`EinsumError::TooLarge`] if it, or the product of the nonzero dimensions
/// (which bounds the strides of an array of that shape), exceeds `isize::MAX`.
///
/// ```
/// use slowgrad_core::{checked_len, EinsumError};
/// assert_eq!(checked_len(&[2, 3, 4]), Ok(24));
/// assert_eq!(checked_len(&[]), Ok(1)); // a scalar
/// assert_eq!(checked_len(&[0, 5]), Ok(0));
/// assert!(matches!(checked_len(&[usize::MAX, 2]), Err(EinsumError::TooLarge { .. })));
/// // with a 0 the product is 0, but the other dimensions must still fit
/// assert!(checked_len(&[0, usize::MAX, 2]).is_err());
/// ```
pub fn checked_len(shape: &[usize]) -> Result<usize, EinsumError> {
    let too_large = || EinsumError::TooLarge { shape: shape.to_vec() };
    let nonzero = shape
        .iter()
        .filter(|&&d| d != 0)
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&n| n <= isize::MAX as usize)
        .ok_or_else(too_large)?;
    Ok(if shape.contains(&0) { 0 } else { nonzero })
}

fn merge(slot: &mut Option<(usize, Who)>, d: usize, who: Who, name: impl Fn() -> String) -> Result<(), EinsumError> {
    match *slot {
        None => *slot = Some((d, who)),
        Some((s, w)) => {
            if s == d || d == 1 {
            } else if s == 1 {
                *slot = Some((d, who));
            } else {
                return Err(EinsumError::SizeMismatch {
                    label: name(),
                    first: w,
                    first_size: s,
                    second: who,
                    second_size: d,
                });
            }
        }
    }
    Ok(())
}

impl fmt::Display for ExtEinsum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let spaced = self.names.iter().any(|n| n.len() != 1);
        let ins: Vec<String> = self.inputs.iter().map(|t| self.term_string(t)).collect();
        write!(f, "{}", ins.join(if spaced { ", " } else { "," }))?;
        write!(f, "{}{}", if spaced { " -> " } else { "->" }, self.term_string(&self.output))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grads(p: &str, ranks: &[usize]) -> Vec<String> {
        let e = ExtEinsum::parse(p, ranks).unwrap();
        (0..e.inputs.len()).map(|k| e.gradient(k).to_string()).collect()
    }

    #[test]
    fn backward_equations() {
        assert_eq!(grads("ij,jk->ik", &[2, 2]), ["ik,jk->ij", "ik,ij->jk"]);
        // `b` is private to x: it becomes a broadcast label of x's gradient
        assert_eq!(grads("bij,jk->ik", &[3, 2]), ["ik,jk->bij", "ik,bij->jk"]);
        // diagonal: the gradient scatters onto the diagonal
        assert_eq!(grads("ii->i", &[2]), ["i->ii"]);
        assert_eq!(grads("ii->", &[2]), ["->ii"]);
        assert_eq!(grads("ij,ij->ij", &[2, 2]), ["ij,ij->ij", "ij,ij->ij"]);
        assert_eq!(grads("...ij,...jk->...ik", &[3, 2]), ["0ik,jk->0ij", "0ik,0ij->jk"]);
    }

    #[test]
    fn size_one_broadcasting_sums_back() {
        // ij,ij->ij with (3,1) and (3,4): j has size 4; the gradient of x has shape (3,1),
        // so its output dimension 1 sums over j.
        let e = ExtEinsum::parse("ij,ij->ij", &[2, 2]).unwrap();
        let sizes = e.label_sizes(&[&[3, 1], &[3, 4]], None).unwrap();
        assert_eq!(sizes, vec![3, 4]);
        let g = e.gradient(0);
        assert_eq!(g.label_sizes(&[&[3, 4], &[3, 4]], Some(&[3, 1])).unwrap(), vec![3, 4]);
    }

    #[test]
    fn implicit_output_and_ellipsis() {
        assert_eq!(ExtEinsum::parse("ij,jk", &[2, 2]).unwrap().to_string(), "ij,jk->ik");
        assert_eq!(ExtEinsum::parse("ba", &[2]).unwrap().to_string(), "ba->ab");
        assert_eq!(ExtEinsum::parse("Ab,bC", &[2, 2]).unwrap().to_string(), "Ab,bC->AC");
        assert_eq!(ExtEinsum::parse("ii", &[2]).unwrap().to_string(), "ii->");
        assert_eq!(ExtEinsum::parse("...ij,...jk", &[3, 3]).unwrap().to_string(), "0ij,0jk->0ik");
        // explicit output without `...` sums the ellipsis dimensions
        assert_eq!(ExtEinsum::parse("...i->i", &[3]).unwrap().to_string(), "01i->i");
        assert_eq!(ExtEinsum::parse("i...j,j...->i...", &[3, 2]).unwrap().to_string(), "i0j,j0->i0");
    }

    #[test]
    fn ellipsis_size_errors_name_the_ellipsis() {
        // batch shapes (2,3) and (4,3): the ellipsis's first dimension is 2 against 4
        let e = ExtEinsum::parse("...i,...i->...i", &[3, 3]).unwrap();
        let err = e.label_sizes(&[&[2, 3, 5], &[4, 3, 5]], None).unwrap_err();
        assert_eq!(
            err,
            EinsumError::SizeMismatch {
                label: "...".into(),
                first: Some(0),
                first_size: 2,
                second: Some(1),
                second_size: 4
            }
        );
        let text = err.to_string();
        assert!(text.starts_with("the dimensions of `...` have size 2 in operand 0 but 4 in operand 1"), "{text}");
        assert!(!text.contains("`0`"), "{text}");
        // right-aligned: a shorter ellipsis meets the last dimensions of a longer one
        let e = ExtEinsum::parse("...i,...i->...i", &[3, 2]).unwrap();
        let err = e.label_sizes(&[&[2, 3, 5], &[4, 5]], None).unwrap_err();
        assert!(
            matches!(err, EinsumError::SizeMismatch { ref label, first_size: 3, second_size: 4, .. } if label == "...")
        );
        // the output's own ellipsis dimensions, in a gradient equation
        let g = ExtEinsum::parse("...i->...", &[2]).unwrap().gradient(0);
        let err = g.label_sizes(&[&[3]], Some(&[5, 2])).unwrap_err();
        assert!(matches!(err, EinsumError::SizeMismatch { ref label, second: None, .. } if label == "..."), "{err}");
        // a real label keeps its name
        let e = ExtEinsum::parse("...i,...i->...i", &[2, 2]).unwrap();
        let err = e.label_sizes(&[&[2, 3], &[2, 4]], None).unwrap_err();
        assert!(matches!(err, EinsumError::SizeMismatch { ref label, .. } if label == "i"));
    }

    #[test]
    fn shape_errors() {
        let e = ExtEinsum::parse("ij,jk->ik", &[2, 2]).unwrap();
        let err = e.label_sizes(&[&[2, 3], &[4, 5]], None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "label `j` has size 3 in operand 0 but 4 in operand 1: sizes of one label must be equal, or 1 to broadcast"
        );
        let err = ExtEinsum::parse("ij,jk->ik", &[2, 3]).unwrap_err();
        assert!(matches!(err, EinsumError::RankMismatch { operand: 1, rank: 3, labels: 2, .. }));
        let err = ExtEinsum::parse("ij,jk->ik", &[2]).unwrap_err();
        assert_eq!(err, EinsumError::OperandCount { terms: 2, operands: 1 });
        let e = ExtEinsum::parse("ii->i", &[2]).unwrap();
        assert!(matches!(e.label_sizes(&[&[2, 3]], None), Err(EinsumError::DiagonalMismatch { .. })));
        let g = ExtEinsum::parse("ij->", &[2]).unwrap().gradient(0);
        assert_eq!(g.label_sizes(&[&[]], None), Err(EinsumError::UnknownSize { label: "i".into() }));
        assert!(matches!(checked_len(&[usize::MAX, 2]), Err(EinsumError::TooLarge { .. })));
        assert!(matches!(checked_len(&[0, 1 << 62, 1 << 62]), Err(EinsumError::TooLarge { .. })));
        assert_eq!(checked_len(&[0, 1 << 62]), Ok(0));
        assert_eq!(checked_len(&[]), Ok(1));
    }
}
