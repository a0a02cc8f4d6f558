//! The safetensors file format as checkpoints use it: tensors as stored ([`Stored`]: element
//! type, shape, little-endian bytes), encoding and decoding whole files, and reading and writing
//! them.

use super::CheckpointError;
use crate::Float;
use ndarray::{ArrayD, IxDyn};
use safetensors::tensor::{Dtype, SafeTensors, View};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

/// A tensor as stored: its element type, shape and little-endian bytes.
pub(super) struct Stored {
    dtype: Dtype,
    /// The tensor's shape.
    pub(super) shape: Vec<usize>,
    data: Vec<u8>,
}

impl View for &Stored {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.data)
    }
    fn data_len(&self) -> usize {
        self.data.len()
    }
}

/// The safetensors element type of `T`.
fn dtype_of<T: Float>() -> Dtype {
    if std::mem::size_of::<T>() == 4 {
        Dtype::F32
    } else {
        Dtype::F64
    }
}

/// A readable name of an element type: `f32`, `f64`, `bf16`, `i64`, ...
fn dtype_name(d: Dtype) -> String {
    format!("{d:?}").to_lowercase()
}

impl Stored {
    fn from_array<T: Float>(a: &ArrayD<T>) -> Stored {
        let dtype = dtype_of::<T>();
        let data = match dtype {
            Dtype::F32 => a.iter().flat_map(|&x| (x.as_f64() as f32).to_le_bytes()).collect(),
            _ => a.iter().flat_map(|&x| x.as_f64().to_le_bytes()).collect(),
        };
        Stored { dtype, shape: a.shape().to_vec(), data }
    }

    /// The array, or the error naming the tensor if its element type is not `T`.
    pub(super) fn into_array<T: Float>(self, name: &str) -> Result<ArrayD<T>, CheckpointError> {
        let want = dtype_of::<T>();
        if self.dtype != want {
            return Err(CheckpointError::Dtype {
                name: name.to_string(),
                expected: dtype_name(want),
                found: dtype_name(self.dtype),
            });
        }
        let values: Vec<T> = match want {
            Dtype::F32 => (self.data.chunks_exact(4))
                .map(|b| T::cast(f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))))
                .collect(),
            _ => (self.data.chunks_exact(8))
                .map(|b| T::cast(f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])))
                .collect(),
        };
        ArrayD::from_shape_vec(IxDyn(&self.shape), values)
            .map_err(|e| CheckpointError::Format { message: format!("tensor `{name}` of shape {:?}: {e}", self.shape) })
    }
}

/// Serialises named arrays and metadata.
pub(super) fn encode<T: Float>(
    tensors: &[(String, ArrayD<T>)],
    metadata: Option<HashMap<String, String>>,
) -> Result<Vec<u8>, CheckpointError> {
    let mut seen = HashSet::new();
    for (name, _) in tensors {
        if !seen.insert(name.as_str()) {
            return Err(CheckpointError::DuplicateName { name: name.clone() });
        }
    }
    let stored: Vec<(String, Stored)> = tensors.iter().map(|(n, a)| (n.clone(), Stored::from_array(a))).collect();
    safetensors::serialize(stored.iter().map(|(n, s)| (n.as_str(), s)), metadata)
        .map_err(|e| CheckpointError::Format { message: e.to_string() })
}

/// Parses a file's tensors (by name) and metadata.
pub(super) fn decode(bytes: &[u8]) -> Result<(BTreeMap<String, Stored>, HashMap<String, String>), CheckpointError> {
    let format = |e: safetensors::SafeTensorError| CheckpointError::Format { message: e.to_string() };
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(format)?;
    let metadata = header.metadata().clone().unwrap_or_default();
    let file = SafeTensors::deserialize(bytes).map_err(format)?;
    let tensors = (file.tensors().into_iter())
        .map(|(name, t)| (name, Stored { dtype: t.dtype(), shape: t.shape().to_vec(), data: t.data().to_vec() }))
        .collect();
    Ok((tensors, metadata))
}

/// The bytes of the file at `path`.
pub(super) fn read(path: &Path) -> Result<Vec<u8>, CheckpointError> {
    std::fs::read(path).map_err(|source| CheckpointError::Io { path: path.to_path_buf(), source })
}

/// Writes `bytes` to the file at `path`.
pub(super) fn write(path: &Path, bytes: &[u8]) -> Result<(), CheckpointError> {
    std::fs::write(path, bytes).map_err(|source| CheckpointError::Io { path: path.to_path_buf(), source })
}
