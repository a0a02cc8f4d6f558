//! Every PyTorch oracle case through the runtime-parsed `einsum()`, in f64 and f32: the output
//! and the gradient of every operand.

mod common;

use common::{oracle_cases, rel_err, Case};
use slowgrad::{einsum, Float, Operand, Var};

fn run_case<T: Float>(case: &Case, equation: &str, tol: f64) -> Result<(), String> {
    let vars: Vec<Var<T>> = case.operands.iter().map(|o| Var::new(o.array::<T>())).collect();
    let ops: Vec<&dyn Operand<T>> = vars.iter().map(|v| v as &dyn Operand<T>).collect();
    let out = einsum(equation, &ops).map_err(|e| format!("{}: {e}", case.name))?;
    let e = rel_err(&out.value(), &case.output);
    if e > tol {
        return Err(format!("{} ({equation}): output error {e:e}", case.name));
    }
    out.backward_with(case.upstream.array::<T>());
    for (k, (v, want)) in vars.iter().zip(&case.grads).enumerate() {
        let g = v.grad().ok_or_else(|| format!("{}: no gradient for operand {k}", case.name))?;
        let e = rel_err(&g, want);
        if e > tol {
            return Err(format!("{} ({equation}): gradient {k} error {e:e}", case.name));
        }
    }
    Ok(())
}

fn run_all<T: Float>(tol: f64) {
    let cases = oracle_cases();
    assert!(cases.len() >= 70, "fixture has {} cases", cases.len());
    let failures: Vec<String> = cases.iter().filter_map(|c| run_case::<T>(c, &c.equation, tol).err()).collect();
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[test]
fn oracle_f64() {
    run_all::<f64>(1e-9);
}

#[test]
fn oracle_f32() {
    run_all::<f32>(2e-4);
}

#[test]
fn named_cases_agree_with_their_letters() {
    let cases = oracle_cases();
    let named: Vec<&Case> = cases.iter().filter(|c| c.letters.is_some()).collect();
    assert!(named.len() >= 3);
    for c in named {
        let letters = c.letters.as_deref().expect("filtered");
        run_case::<f64>(c, letters, 1e-9).unwrap();
        run_case::<f64>(c, &c.equation, 1e-9).unwrap();
    }
}
