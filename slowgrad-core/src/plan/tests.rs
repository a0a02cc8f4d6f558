use super::*;

fn plan(p: &str, ranks: &[usize]) -> Plan {
    Plan::new(&ExtEinsum::parse(p, ranks).unwrap(), None)
}

#[test]
fn kinds() {
    let k = |p: &str, r: &[usize]| classify(&ExtEinsum::parse(p, r).unwrap());
    assert_eq!(k("ij->ji", &[2]), KernelKind::Permute);
    assert_eq!(k("ij->j", &[2]), KernelKind::Reduce);
    assert_eq!(k("ii->i", &[2]), KernelKind::Diagonal);
    assert_eq!(k("ij,ij->ij", &[2, 2]), KernelKind::Elementwise);
    assert_eq!(k("bij,bjk->bik", &[3, 3]), KernelKind::BatchedGemm);
    assert_eq!(classify(&ExtEinsum::from_letters("i", "ii").unwrap()), KernelKind::Scatter);
}

#[test]
fn roles_and_loop_order() {
    let e = ExtEinsum::parse("bij,bjk->bik", &[3, 3]).unwrap();
    let r: Vec<Role> = (0..4).map(|l| role(&e, l)).collect();
    assert_eq!(r, [Role::Batch, Role::LeftFree, Role::Contracted, Role::RightFree]);
    let e = ExtEinsum::parse("ij,jk->ik", &[2, 2]).unwrap();
    assert_eq!(loop_order(&e), vec![0, 1, 2]);
    // c = a·bᵀ: k is the fastest axis of both inputs, j only of the output, so the innermost
    // loop is the dot product over k
    let e = ExtEinsum::parse("ik,jk->ij", &[2, 2]).unwrap();
    let names: Vec<&str> = loop_order(&e).iter().map(|&l| e.names[l].as_str()).collect();
    assert_eq!(names, ["i", "j", "k"]);
    // dw = xᵀ·g: the summed i goes right outside the innermost k, so the output row j stays
    // in place while i runs
    let e = ExtEinsum::parse("ik,ij->jk", &[2, 2]).unwrap();
    let names: Vec<&str> = loop_order(&e).iter().map(|&l| e.names[l].as_str()).collect();
    assert_eq!(names, ["j", "i", "k"]);
}

#[test]
fn private_labels_are_reduced_first() {
    let p = plan("ab,cd->ab", &[2, 2]);
    assert_eq!(p.steps.len(), 2);
    assert_eq!(p.steps[0].spec.to_string(), "cd->");
    assert_eq!(p.steps[1].spec.to_string(), "ab,->ab");
    // a diagonal that is kept is not pre-reduced
    assert_eq!(plan("ii,ij->ij", &[2, 2]).steps.len(), 1);
    // a trace is
    assert_eq!(plan("ii,j->j", &[2, 1]).steps[0].spec.to_string(), "ii->");
}

#[test]
fn pairs_by_multiply_adds() {
    let planned = |p: &str, shapes: &[&[usize]]| {
        let e = ExtEinsum::parse(p, &shapes.iter().map(|s| s.len()).collect::<Vec<_>>()).unwrap();
        let sizes = e.label_sizes(shapes, None).unwrap();
        Plan::new(&e, Some(&sizes)).steps.iter().map(|s| s.spec.to_string()).collect::<Vec<_>>()
    };
    // W7: a chain of equal squares is contracted left to right, never as an outer product
    assert_eq!(planned("ij,jk,kl->il", &[&[64, 64], &[64, 64], &[64, 64]]), ["ij,jk->ik", "ik,kl->il"]);
    // a thin end is contracted first
    assert_eq!(planned("ij,jk,kl->il", &[&[64, 64], &[64, 64], &[64, 2]]), ["jk,kl->jl", "ij,jl->il"]);
    // W8: the 32K outer product bi,bj first, then one GEMM with K = ij (not 524K with o inside)
    assert_eq!(planned("bi,oij,bj->bo", &[&[32, 32], &[16, 32, 32], &[32, 32]]), ["bi,bj->bij", "bij,oij->bo"]);
}

#[test]
fn pairs_without_sizes_as_if_equal() {
    let steps = |p: &str, r: &[usize]| plan(p, r).steps.iter().map(|s| s.spec.to_string()).collect::<Vec<_>>();
    // the bilinear form: the three-label outer product bi,bj before any four-label pair
    assert_eq!(steps("bi,oij,bj->bo", &[2, 3, 2]), ["bi,bj->bij", "bij,oij->bo"]);
    // a chain: three labels a pair, left to right
    assert_eq!(steps("ij,jk,kl->il", &[2, 2, 2]), ["ij,jk->ik", "ik,kl->il"]);
    // a matrix-vector chain: the vector end first (two labels, not three)
    assert_eq!(steps("ij,jk,k->i", &[2, 2, 1]), ["jk,k->j", "ij,j->i"]);
}

#[test]
fn chains_are_pairwise() {
    let p = plan("ab,bc,cd,de->ae", &[2, 2, 2, 2]);
    assert_eq!(p.steps.len(), 3);
    assert!(p.steps.iter().all(|s| s.operands.len() == 2));
    assert_eq!(p.steps.last().unwrap().spec.output, p.equation.output);
    let text = p.to_string();
    assert!(text.starts_with("ab,bc,cd,de->ae\n"), "{text}");
    let e = Explanation::new(&p.equation);
    assert_eq!(e.gradients.len(), 3);
    assert!(e.gradients.iter().all(|g| g.len() == 2));
    let text = e.to_string();
    assert!(text.contains("d#0 from d#4"), "{text}");
}
