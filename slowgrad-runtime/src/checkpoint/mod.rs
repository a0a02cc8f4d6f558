//! Checkpoints: a module's parameters and an optimiser's state in
//! [safetensors](https://huggingface.co/docs/safetensors) files, the format PyTorch and candle
//! read and write.
//!
//! A module's file holds one tensor per parameter, named as
//! [`Module::named_parameters`] names them (`layers.0.weight`, ...). An optimiser's file holds
//! its buffers (`momentum_buffer.0`, `exp_avg.0`, `exp_avg_sq.0`, ...) and, as metadata, its
//! kind, its step count and its number of parameters. Tensors are stored in the element type
//! of the model, `F32` or `F64`, little-endian and row-major.
//!
//! Saving both and loading them into a fresh model and optimiser built the same way resumes
//! training exactly where it stopped:
//!
//! ```
//! use ndarray::array;
//! use slowgrad::checkpoint::{load_module, load_optimizer, save_module, save_optimizer};
//! use slowgrad::nn::{Linear, Module};
//! use slowgrad::optim::{Adam, Optimizer};
//! use slowgrad::Var;
//! let x = Var::constant(array![[1.0, 2.0], [3.0, -1.0]].into_dyn());
//! let step = |model: &Linear<f64>, opt: &mut Adam<f64>| {
//!     opt.zero_grad();
//!     let y = model.forward(&x);
//!     let loss = (&y * &y).mean();
//!     loss.backward();
//!     opt.step();
//!     loss.item()
//! };
//! let model = Linear::<f64>::new(2, 1, true);
//! let mut opt = Adam::new(model.parameters(), 0.1);
//! step(&model, &mut opt);
//! let dir = std::env::temp_dir();
//! let (m, o) = (dir.join("doc-linear.safetensors"), dir.join("doc-adam.safetensors"));
//! save_module(&model, &m)?;
//! save_optimizer(&opt, &o)?;
//! let next = step(&model, &mut opt);
//!
//! let fresh = Linear::<f64>::new(2, 1, true); // other initial values
//! let mut fresh_opt = Adam::new(fresh.parameters(), 0.1);
//! load_module(&fresh, &m)?;
//! load_optimizer(&mut fresh_opt, &o)?;
//! assert_eq!(step(&fresh, &mut fresh_opt), next); // bit for bit
//! # std::fs::remove_file(m).ok();
//! # std::fs::remove_file(o).ok();
//! # Ok::<(), slowgrad::checkpoint::CheckpointError>(())
//! ```
//!
//! This file holds the functions that save and load; `error.rs` holds [`CheckpointError`] and
//! `format.rs` the encoding of tensors in the safetensors format.

mod error;
mod format;

pub use error::CheckpointError;

use crate::nn::Module;
use crate::optim::{OptimizerState, OptimizerStateDict};
use crate::{Float, Var};
use format::{decode, encode, read, write};
use ndarray::ArrayD;
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// The module's parameters as a safetensors file in memory, named by
/// [`Module::named_parameters`].
///
/// **Errors** if two parameters have the same name.
///
/// ```
/// use slowgrad::checkpoint::{load_module_bytes, module_bytes};
/// use slowgrad::nn::{Linear, Module};
/// let a = slowgrad::seq![Linear::<f32>::new(3, 2, true)];
/// let b = slowgrad::seq![Linear::<f32>::new(3, 2, true)];
/// load_module_bytes(&b, &module_bytes(&a)?)?;
/// assert!(a.parameters().iter().zip(b.parameters()).all(|(p, q)| p.value() == q.value()));
/// # Ok::<(), slowgrad::checkpoint::CheckpointError>(())
/// ```
pub fn module_bytes<T: Float, M: Module<T> + ?Sized>(module: &M) -> Result<Vec<u8>, CheckpointError> {
    let named: Vec<(String, ArrayD<T>)> =
        module.named_parameters().into_iter().map(|(n, p)| (n, p.with_value(|v| v.clone()))).collect();
    encode(&named, None)
}

/// Sets the module's parameters from a safetensors file in memory.
///
/// **Errors** if the bytes are not a safetensors file, or a parameter has no tensor, a tensor
/// has no parameter, or a tensor's shape or element type differs from its parameter's (the
/// error names the tensor); nothing is changed then.
///
/// ```
/// use slowgrad::checkpoint::{load_module_bytes, module_bytes, CheckpointError};
/// use slowgrad::nn::Linear;
/// let with_bias = module_bytes(&Linear::<f64>::new(3, 2, true))?;
/// let e = load_module_bytes(&Linear::<f64>::new(3, 2, false), &with_bias).unwrap_err();
/// assert_eq!(
///     e.to_string(),
///     "the checkpoint has a tensor `bias` (shape [2]) that is not a parameter or buffer of what is loaded"
/// );
/// let e = load_module_bytes(&Linear::<f32>::new(3, 2, true), &with_bias).unwrap_err();
/// assert_eq!(e.to_string(), "tensor `weight` holds f64 values in the checkpoint, expected f32");
/// # Ok::<(), CheckpointError>(())
/// ```
pub fn load_module_bytes<T: Float, M: Module<T> + ?Sized>(module: &M, bytes: &[u8]) -> Result<(), CheckpointError> {
    let (mut tensors, _) = decode(bytes)?;
    let named = module.named_parameters();
    let mut seen = HashSet::new();
    let mut values: Vec<(Var<T>, ArrayD<T>)> = Vec::with_capacity(named.len());
    for (name, p) in named {
        if !seen.insert(name.clone()) {
            return Err(CheckpointError::DuplicateName { name });
        }
        let expected = p.shape();
        let Some(stored) = tensors.remove(&name) else {
            return Err(CheckpointError::Missing { name, shape: expected });
        };
        if stored.shape != expected {
            return Err(CheckpointError::Shape { name, expected, found: stored.shape });
        }
        values.push((p, stored.into_array(&name)?));
    }
    if let Some((name, stored)) = tensors.into_iter().next() {
        return Err(CheckpointError::Unexpected { name, shape: stored.shape });
    }
    for (p, v) in values {
        p.set_value(v);
    }
    Ok(())
}

/// Saves the module's parameters to a safetensors file at `path`, named by
/// [`Module::named_parameters`].
///
/// **Errors** if two parameters have the same name or the file cannot be written.
///
/// ```
/// use slowgrad::checkpoint::{load_module, save_module};
/// use slowgrad::nn::{LayerNorm, Module};
/// let path = std::env::temp_dir().join("doc-layer-norm.safetensors");
/// let a = LayerNorm::<f64>::new(4);
/// a.weight.update(|w| w.fill(3.0));
/// save_module(&a, &path)?;
/// let b = LayerNorm::<f64>::new(4);
/// load_module(&b, &path)?;
/// assert_eq!(b.weight.value(), a.weight.value());
/// # std::fs::remove_file(path).ok();
/// # Ok::<(), slowgrad::checkpoint::CheckpointError>(())
/// ```
pub fn save_module<T: Float, M: Module<T> + ?Sized>(module: &M, path: impl AsRef<Path>) -> Result<(), CheckpointError> {
    write(path.as_ref(), &module_bytes(module)?)
}

/// Sets the module's parameters from the safetensors file at `path`.
///
/// **Errors** if the file cannot be read or is not a safetensors file, or a parameter has no
/// tensor, a tensor has no parameter, or a tensor's shape or element type differs from its
/// parameter's (the error names the tensor); nothing is changed then.
///
/// ```
/// use slowgrad::checkpoint::{load_module, CheckpointError};
/// use slowgrad::nn::Linear;
/// let e = load_module(&Linear::<f64>::new(2, 2, true), "no/such/file.safetensors").unwrap_err();
/// assert!(matches!(e, CheckpointError::Io { .. }));
/// assert!(e.to_string().starts_with("no/such/file.safetensors: "));
/// ```
pub fn load_module<T: Float, M: Module<T> + ?Sized>(module: &M, path: impl AsRef<Path>) -> Result<(), CheckpointError> {
    load_module_bytes(module, &read(path.as_ref())?)
}

/// The optimiser's state as a safetensors file in memory: its buffers as tensors, and its
/// kind, step count and number of parameters as metadata.
///
/// **Errors** never in practice (buffer names are distinct); the `Result` is that of the
/// serialiser.
///
/// ```
/// use ndarray::array;
/// use slowgrad::checkpoint::{load_optimizer_bytes, optimizer_bytes};
/// use slowgrad::optim::{Optimizer, OptimizerState, SGD};
/// use slowgrad::Var;
/// let w = Var::new(array![1.0f32, -1.0]);
/// let mut opt = SGD::new(&w, 0.1).momentum(0.9);
/// w.sum().backward();
/// opt.step();
/// let mut other = SGD::new(Var::new(array![0.0f32, 0.0]), 0.1).momentum(0.9);
/// load_optimizer_bytes(&mut other, &optimizer_bytes(&opt)?)?;
/// assert_eq!(other.state_dict(), opt.state_dict());
/// # Ok::<(), slowgrad::checkpoint::CheckpointError>(())
/// ```
pub fn optimizer_bytes<T: Float, O: OptimizerState<T> + ?Sized>(opt: &O) -> Result<Vec<u8>, CheckpointError> {
    let state = opt.state_dict();
    let metadata = HashMap::from([
        ("optimizer".to_string(), state.kind),
        ("step".to_string(), state.step.to_string()),
        ("parameters".to_string(), state.params.to_string()),
    ]);
    encode(&state.buffers, Some(metadata))
}

/// Sets the optimiser's state from a safetensors file in memory.
///
/// **Errors** if the bytes are not a safetensors file, the metadata is missing or names
/// another kind of optimiser or number of parameters, or a buffer's name, shape or element
/// type does not fit (the error names the tensor); nothing is changed then.
///
/// ```
/// use ndarray::array;
/// use slowgrad::checkpoint::{load_optimizer_bytes, optimizer_bytes};
/// use slowgrad::optim::{Adam, Optimizer};
/// use slowgrad::Var;
/// let w = Var::new(array![1.0, 2.0]);
/// let mut opt = Adam::new(&w, 0.1);
/// w.sum().backward();
/// opt.step();
/// let mut smaller = Adam::new(Var::new(array![0.0]), 0.1);
/// let e = load_optimizer_bytes(&mut smaller, &optimizer_bytes(&opt)?).unwrap_err();
/// assert_eq!(e.to_string(), "tensor `exp_avg.0` has shape [2] in the checkpoint, expected [1]");
/// # Ok::<(), slowgrad::checkpoint::CheckpointError>(())
/// ```
pub fn load_optimizer_bytes<T: Float, O: OptimizerState<T> + ?Sized>(
    opt: &mut O,
    bytes: &[u8],
) -> Result<(), CheckpointError> {
    let (tensors, metadata) = decode(bytes)?;
    let get = |key: &str, expected: &str| {
        metadata.get(key).cloned().ok_or_else(|| CheckpointError::Metadata {
            key: key.into(),
            expected: expected.into(),
            found: "nothing".into(),
        })
    };
    let number = |key: &str| -> Result<u64, CheckpointError> {
        let text = get(key, "a number")?;
        text.parse().map_err(|_| CheckpointError::Metadata {
            key: key.into(),
            expected: "a number".into(),
            found: text,
        })
    };
    let kind = get("optimizer", "the optimiser's name")?;
    let step = number("step")?;
    let params = number("parameters")? as usize;
    let buffers = (tensors.into_iter())
        .map(|(name, stored)| {
            let array = stored.into_array(&name)?;
            Ok((name, array))
        })
        .collect::<Result<Vec<_>, CheckpointError>>()?;
    opt.load_state_dict(OptimizerStateDict { kind, step, params, buffers })
}

/// Saves the optimiser's state to a safetensors file at `path` (see [`optimizer_bytes`]).
///
/// **Errors** if the file cannot be written.
///
/// ```
/// use slowgrad::checkpoint::{load_optimizer, save_optimizer};
/// use slowgrad::optim::{AdamW, OptimizerState};
/// use slowgrad::Var;
/// let path = std::env::temp_dir().join("doc-adamw.safetensors");
/// let opt = AdamW::new(Var::new(ndarray::array![1.0]), 0.1);
/// save_optimizer(&opt, &path)?;
/// let mut other = AdamW::new(Var::new(ndarray::array![5.0]), 0.1);
/// load_optimizer(&mut other, &path)?;
/// assert_eq!(other.state_dict().step, 0);
/// # std::fs::remove_file(path).ok();
/// # Ok::<(), slowgrad::checkpoint::CheckpointError>(())
/// ```
pub fn save_optimizer<T: Float, O: OptimizerState<T> + ?Sized>(
    opt: &O,
    path: impl AsRef<Path>,
) -> Result<(), CheckpointError> {
    write(path.as_ref(), &optimizer_bytes(opt)?)
}

/// Sets the optimiser's state from the safetensors file at `path` (see
/// [`load_optimizer_bytes`]).
///
/// **Errors** if the file cannot be read, or as [`load_optimizer_bytes`].
///
/// ```
/// use slowgrad::checkpoint::{load_optimizer, save_module, CheckpointError};
/// use slowgrad::nn::Linear;
/// use slowgrad::optim::SGD;
/// use slowgrad::Var;
/// // a module's file has no optimiser metadata
/// let path = std::env::temp_dir().join("doc-not-an-optimizer.safetensors");
/// save_module(&Linear::<f64>::new(1, 1, false), &path)?;
/// let e = load_optimizer(&mut SGD::new(Var::new(ndarray::array![0.0]), 0.1), &path).unwrap_err();
/// assert!(matches!(e, CheckpointError::Metadata { .. }));
/// # std::fs::remove_file(path).ok();
/// # Ok::<(), CheckpointError>(())
/// ```
pub fn load_optimizer<T: Float, O: OptimizerState<T> + ?Sized>(
    opt: &mut O,
    path: impl AsRef<Path>,
) -> Result<(), CheckpointError> {
    load_optimizer_bytes(opt, &read(path.as_ref())?)
}
