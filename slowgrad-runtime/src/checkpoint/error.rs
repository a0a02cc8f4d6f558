//! [`CheckpointError`]: what can go wrong saving or loading a checkpoint, with its messages.

use std::fmt;
use std::path::PathBuf;

/// What can go wrong saving or loading a checkpoint. Loading checks every tensor before it
/// changes anything, so after an error the module or optimiser is as it was.
///
/// ```
/// use slowgrad::checkpoint::{load_module, save_module, CheckpointError};
/// use slowgrad::nn::Linear;
/// let path = std::env::temp_dir().join("doc-error.safetensors");
/// save_module(&Linear::<f64>::new(3, 2, true), &path).unwrap();
/// let e = load_module(&Linear::<f64>::new(4, 2, true), &path).unwrap_err();
/// assert_eq!(e.to_string(), "tensor `weight` has shape [2, 3] in the checkpoint, expected [2, 4]");
/// assert!(matches!(e, CheckpointError::Shape { .. }));
/// # std::fs::remove_file(path).ok();
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum CheckpointError {
    /// Reading or writing the file failed.
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The bytes are not a safetensors file.
    Format {
        /// What the safetensors reader reported.
        message: String,
    },
    /// A parameter (or an optimiser buffer) has no tensor in the checkpoint.
    Missing {
        /// The tensor's name.
        name: String,
        /// The shape it needs.
        shape: Vec<usize>,
    },
    /// The checkpoint has a tensor that no parameter (or optimiser buffer) is named as.
    Unexpected {
        /// The tensor's name.
        name: String,
        /// Its shape in the checkpoint.
        shape: Vec<usize>,
    },
    /// A tensor's shape differs from its parameter's (or buffer's).
    Shape {
        /// The tensor's name.
        name: String,
        /// The parameter's shape.
        expected: Vec<usize>,
        /// The tensor's shape in the checkpoint.
        found: Vec<usize>,
    },
    /// A tensor's element type differs from the model's.
    Dtype {
        /// The tensor's name.
        name: String,
        /// The model's element type (`f32` or `f64`).
        expected: String,
        /// The tensor's element type in the checkpoint.
        found: String,
    },
    /// An optimiser checkpoint's metadata does not fit the optimiser (another kind of
    /// optimiser, another number of parameters) or is missing.
    Metadata {
        /// The metadata key: `optimizer`, `step` or `parameters`.
        key: String,
        /// What the optimiser needs.
        expected: String,
        /// What the checkpoint has.
        found: String,
    },
    /// Two parameters of the module have the same name, so a checkpoint cannot tell them apart.
    DuplicateName {
        /// The name.
        name: String,
    },
}

impl fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckpointError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            CheckpointError::Format { message } => write!(f, "not a safetensors checkpoint: {message}"),
            CheckpointError::Missing { name, shape } => {
                write!(f, "tensor `{name}` (shape {shape:?}) is missing from the checkpoint")
            }
            CheckpointError::Unexpected { name, shape } => write!(
                f,
                "the checkpoint has a tensor `{name}` (shape {shape:?}) that is not a parameter or buffer of what is loaded"
            ),
            CheckpointError::Shape { name, expected, found } => {
                write!(f, "tensor `{name}` has shape {found:?} in the checkpoint, expected {expected:?}")
            }
            CheckpointError::Dtype { name, expected, found } => {
                write!(f, "tensor `{name}` holds {found} values in the checkpoint, expected {expected}")
            }
            CheckpointError::Metadata { key, expected, found } => {
                write!(f, "the checkpoint's `{key}` is `{found}`, expected `{expected}`")
            }
            CheckpointError::DuplicateName { name } => {
                write!(f, "two parameters are named `{name}`: a checkpoint needs distinct names")
            }
        }
    }
}

impl std::error::Error for CheckpointError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CheckpointError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
