//! The one error type of equation parsing, validation and shape checking.

use std::fmt;

/// Everything that can be wrong with an einsum pattern or with the operands given to it.
///
/// Every variant names what is at fault (the label, the term, the operand position, the sizes),
/// and its `Display` text says how to fix it.
///
/// ```
/// use slowgrad_core::{EinsumError, Equation, ExtEinsum};
/// let err = Equation::parse("ij->k").unwrap_err();
/// assert_eq!(err, EinsumError::OutputLabelNotInInput { label: "k".to_string() });
/// assert!(err.to_string().starts_with("label `k` is in the output but in no input"));
/// // shape errors name the label, the operands and the sizes
/// let e = ExtEinsum::parse("ij,jk->ik", &[2, 2]).unwrap();
/// match e.label_sizes(&[&[2, 3], &[4, 5]], None).unwrap_err() {
///     EinsumError::SizeMismatch { label, first, first_size, second, second_size } => {
///         assert_eq!((label.as_str(), first, first_size, second, second_size), ("j", Some(0), 3, Some(1), 4));
///     }
///     other => panic!("unexpected {other}"),
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EinsumError {
    /// A pattern with no term to run. (The parser reads an empty or white-space-only pattern
    /// as one scalar term, numpy-style, so it does not return this.)
    EmptyPattern,
    /// A character that is neither a label, `,`, `->`, `...` nor white space.
    InvalidCharacter {
        /// The character.
        ch: char,
        /// Its byte offset in the pattern.
        position: usize,
    },
    /// More than one `->`.
    TwoArrows {
        /// Byte offset of the second arrow.
        position: usize,
    },
    /// A comma after `->`: the output is a single term.
    CommaInOutput {
        /// Byte offset of the comma.
        position: usize,
    },
    /// A `.` that is not part of `...`.
    BadEllipsis {
        /// The term, as written.
        term: String,
    },
    /// `...` appears twice in one term.
    TwoEllipses {
        /// The term, as written.
        term: String,
    },
    /// In named-label mode, a token that is not an identifier (`[A-Za-z_][A-Za-z0-9_]*`) or `...`.
    InvalidName {
        /// The token.
        name: String,
    },
    /// A named-label pattern in which a token can be read two ways.
    AmbiguousLabel {
        /// The token.
        name: String,
        /// Why it is ambiguous and how to write it.
        reason: String,
    },
    /// A label appears twice in the output term.
    RepeatedOutputLabel {
        /// The label.
        label: String,
    },
    /// A label of the output term appears in no input term.
    OutputLabelNotInInput {
        /// The label.
        label: String,
    },
    /// The number of operands differs from the number of input terms.
    OperandCount {
        /// Input terms in the pattern.
        terms: usize,
        /// Operands given.
        operands: usize,
    },
    /// An operand's rank does not fit its term.
    RankMismatch {
        /// Operand position (0-based).
        operand: usize,
        /// The term, as written.
        term: String,
        /// Number of labels in the term (without the ellipsis).
        labels: usize,
        /// Whether the term has `...`.
        ellipsis: bool,
        /// The operand's rank.
        rank: usize,
    },
    /// Two sizes of one label that are neither equal nor 1.
    SizeMismatch {
        /// The label; `...` for a dimension covered by an ellipsis.
        label: String,
        /// The first operand (0-based), or `None` for the output.
        first: Option<usize>,
        /// The size there.
        first_size: usize,
        /// The second operand (0-based), or `None` for the output.
        second: Option<usize>,
        /// The size there.
        second_size: usize,
    },
    /// A label repeated inside one operand (a diagonal) with different sizes.
    DiagonalMismatch {
        /// The label.
        label: String,
        /// Operand position.
        operand: usize,
        /// One size.
        first_size: usize,
        /// The other size.
        second_size: usize,
    },
    /// An output label that appears in no operand and whose size was not given.
    UnknownSize {
        /// The label.
        label: String,
    },
    /// The shape given for an output does not fit its term and the label sizes.
    OutputShape {
        /// The expected shape (labels' sizes).
        expected: Vec<usize>,
        /// The shape given.
        got: Vec<usize>,
    },
    /// The number of elements of an operand or result overflows `usize`.
    TooLarge {
        /// The shape whose element count overflows.
        shape: Vec<usize>,
    },
    /// The memory for a result could not be allocated.
    AllocationFailed {
        /// The result's shape.
        shape: Vec<usize>,
        /// The bytes asked for.
        bytes: usize,
    },
}

/// The name error values give a dimension covered by `...`.
pub(crate) const ELLIPSIS: &str = "...";

/// `n` and the noun, plural unless `n` is 1: "1 label", "2 labels".
fn plural(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// `bytes` in the largest binary unit that leaves at least 1, with one decimal: "512.0 GiB".
fn human_bytes(bytes: usize) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

fn operand_name(op: Option<usize>) -> String {
    match op {
        Some(k) => format!("operand {k}"),
        None => "the output".to_string(),
    }
}

impl fmt::Display for EinsumError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use EinsumError::*;
        match self {
            EmptyPattern => write!(f, "empty einsum pattern: write at least one term, e.g. \"ij->ji\""),
            InvalidCharacter { ch, position } => write!(
                f,
                "invalid character `{}` at position {position}: labels are ASCII letters a-z A-Z, terms are separated by `,`, the output follows `->` and `...` stands for broadcast dimensions",
                ch.escape_default()
            ),
            TwoArrows { position } => write!(f, "second `->` at position {position}: a pattern has at most one output"),
            CommaInOutput { position } => write!(f, "`,` at position {position} after `->`: the output is a single term"),
            BadEllipsis { term } => write!(f, "stray `.` in term `{term}`: an ellipsis is written `...`"),
            TwoEllipses { term } => write!(f, "term `{term}` has two ellipses: `...` may appear at most once per term"),
            InvalidName { name } => write!(
                f,
                "invalid label `{name}`: in named-label patterns each label is an identifier ([A-Za-z_][A-Za-z0-9_]*) or `...`, separated by spaces"
            ),
            AmbiguousLabel { name, reason } => write!(f, "ambiguous label `{name}`: {reason}"),
            RepeatedOutputLabel { label } => write!(
                f,
                "label `{label}` is repeated in the output: each output label may appear once (use a diagonal in an input instead)"
            ),
            OutputLabelNotInInput { label } => write!(
                f,
                "label `{label}` is in the output but in no input: every output label must appear in some input term"
            ),
            OperandCount { terms, operands } => write!(
                f,
                "the pattern has {terms} input term{} but {operands} operand{} given",
                if *terms == 1 { "" } else { "s" },
                if *operands == 1 { " was" } else { "s were" }
            ),
            RankMismatch { operand, term, labels, ellipsis, rank } => {
                if *ellipsis {
                    write!(
                        f,
                        "operand {operand} has rank {rank} but its term `{term}` needs at least {} ({} plus `...`)",
                        plural(*labels, "dimension"),
                        plural(*labels, "label")
                    )
                } else if term.is_empty() {
                    write!(f, "operand {operand} has rank {rank} but its term is empty: an empty term is a scalar (rank 0)")
                } else {
                    write!(f, "operand {operand} has rank {rank} but its term `{term}` has {}", plural(*labels, "label"))
                }
            }
            SizeMismatch { label, first, first_size, second, second_size } if label == ELLIPSIS => write!(
                f,
                "the dimensions of `...` have size {first_size} in {} but {second_size} in {}: they broadcast numpy-style (aligned from the right, each pair equal or one of them 1)",
                operand_name(*first),
                operand_name(*second)
            ),
            SizeMismatch { label, first, first_size, second, second_size } => write!(
                f,
                "label `{label}` has size {first_size} in {} but {second_size} in {}: sizes of one label must be equal, or 1 to broadcast",
                operand_name(*first),
                operand_name(*second)
            ),
            DiagonalMismatch { label, operand, first_size, second_size } => write!(
                f,
                "label `{label}` is repeated in operand {operand} with sizes {first_size} and {second_size}: a diagonal needs equal sizes"
            ),
            UnknownSize { label } => write!(
                f,
                "label `{label}` appears only in the output, so its size must be given by the output shape"
            ),
            OutputShape { expected, got } => {
                write!(f, "output shape {got:?} does not fit the pattern: expected {expected:?} (or 1 where a dimension is summed)")
            }
            TooLarge { shape } => write!(f, "shape {shape:?} has more elements than fit in usize"),
            AllocationFailed { shape, bytes } => write!(
                f,
                "cannot allocate the result of shape {shape:?}: {bytes} bytes ({}) are more than the system gives",
                human_bytes(*bytes)
            ),
        }
    }
}

impl std::error::Error for EinsumError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn rank(labels: usize, ellipsis: bool, term: &str) -> String {
        EinsumError::RankMismatch { operand: 0, term: term.into(), labels, ellipsis, rank: 0 }.to_string()
    }

    #[test]
    fn counts_are_singular_or_plural() {
        assert_eq!(
            rank(1, true, "...i"),
            "operand 0 has rank 0 but its term `...i` needs at least 1 dimension (1 label plus `...`)"
        );
        assert_eq!(
            rank(2, true, "...ij"),
            "operand 0 has rank 0 but its term `...ij` needs at least 2 dimensions (2 labels plus `...`)"
        );
        assert_eq!(rank(1, false, "i"), "operand 0 has rank 0 but its term `i` has 1 label");
        assert_eq!(rank(3, false, "ijk"), "operand 0 has rank 0 but its term `ijk` has 3 labels");
        let count = |terms, operands| EinsumError::OperandCount { terms, operands }.to_string();
        assert_eq!(count(1, 2), "the pattern has 1 input term but 2 operands were given");
        assert_eq!(count(2, 1), "the pattern has 2 input terms but 1 operand was given");
        assert_eq!(count(3, 0), "the pattern has 3 input terms but 0 operands were given");
    }

    #[test]
    fn an_empty_term_is_named_a_scalar() {
        let text = EinsumError::RankMismatch { operand: 1, term: String::new(), labels: 0, ellipsis: false, rank: 2 }
            .to_string();
        assert_eq!(text, "operand 1 has rank 2 but its term is empty: an empty term is a scalar (rank 0)");
    }

    #[test]
    fn allocation_failures_name_the_shape_and_bytes() {
        let e = EinsumError::AllocationFailed { shape: vec![1 << 23, 1 << 23], bytes: 1 << 49 };
        assert_eq!(
            e.to_string(),
            "cannot allocate the result of shape [8388608, 8388608]: 562949953421312 bytes (512.0 TiB) are more than the system gives"
        );
        assert_eq!(human_bytes(1000), "1000 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 << 30), "3.0 GiB");
        assert_eq!(human_bytes(usize::MAX), "16.0 EiB");
    }
}
