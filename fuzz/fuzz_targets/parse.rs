//! Arbitrary pattern text through parsing, resolution for a few ranks, planning and display:
//! any `Err` is fine, a panic is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slowgrad_core::{Equation, Explanation, ExtEinsum};

fuzz_target!(|data: &[u8]| {
    let Some((&rank_byte, text)) = data.split_first() else { return };
    let Ok(pattern) = std::str::from_utf8(text) else { return };
    let Ok(eq) = Equation::parse(pattern) else { return };
    // the display form parses back to the same equation
    let again = Equation::parse(&eq.to_string()).expect("display output parses");
    assert_eq!(again.inputs.len(), eq.inputs.len());
    let ranks: Vec<usize> = eq
        .inputs
        .iter()
        .enumerate()
        .map(|(k, t)| t.label_count() + ((rank_byte as usize >> (k % 4)) & 3) * usize::from(t.has_ellipsis()))
        .collect();
    if let Ok(ext) = ExtEinsum::resolve(&eq, &ranks) {
        // planning is cubic in the operand count: explain the patterns a program would write
        if ext.inputs.len() <= 8 {
            let _ = Explanation::new(&ext).to_string();
        }
        for k in 0..ext.inputs.len() {
            assert_eq!(ext.gradient(k).output, ext.inputs[k]);
        }
    }
});
