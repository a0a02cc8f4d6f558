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
    /// The pattern is empty or only white space.
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
        /// The label.
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
                        "operand {operand} has rank {rank} but its term `{term}` needs at least {labels} dimensions ({labels} labels plus `...`)"
                    )
                } else {
                    write!(
                        f,
                        "operand {operand} has rank {rank} but its term `{term}` has {labels} label{}",
                        if *labels == 1 { "" } else { "s" }
                    )
                }
            }
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
        }
    }
}

impl std::error::Error for EinsumError {}
