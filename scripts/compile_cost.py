#!/usr/bin/env python3
"""Generates the compile-cost crates of BENCHMARKS.md: 50 distinct two-operand patterns as
einsum! call sites (macro/), as runtime einsum() calls (runtime/), and a crate with none (none/),
each depending on this repository by path. Usage: python3 scripts/compile_cost.py [/tmp/compile-cost]
"""
import os
import random
import sys

OUT = sys.argv[1] if len(sys.argv) > 1 else "/tmp/compile-cost"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
random.seed(1)
pats=set()
L="abcde"
while len(pats)<50:
    r1=random.randint(1,3); r2=random.randint(1,3)
    a="".join(random.sample(L,r1)); b="".join(random.sample(L,r2))
    labs=sorted(set(a+b)); k=random.randint(0,len(labs))
    out="".join(random.sample(labs,k))
    pats.add(f"{a},{b}->{out}")
pats=sorted(pats)
def shape(t): return "&[" + ",".join("3" for _ in t) + "]"
for kind in ["macro","runtime"]:
    d=f"{OUT}/{kind}"; os.makedirs(d+"/src",exist_ok=True)
    open(d+"/Cargo.toml","w").write(f'''[package]
name = "cc_{kind}"
version = "0.1.0"
edition = "2021"
[dependencies]
slowgrad = {{ path = "{REPO}" }}
ndarray = "0.17"
[profile.release]
debug = false
''')
    body=[]
    for i,p in enumerate(pats):
        a,rest=p.split(","); b,o=rest.split("->")
        body.append(f"    let x = Var::new(ArrayD::<f64>::from_elem(IxDyn({shape(a)}), 1.0));")
        body.append(f"    let y = Var::new(ArrayD::<f64>::from_elem(IxDyn({shape(b)}), 1.0));")
        if kind=="macro":
            body.append(f'    let z = slowgrad::einsum!("{p}", &x, &y);')
        else:
            body.append(f'    let z = slowgrad::einsum("{p}", &[&x, &y]).unwrap();')
        body.append("    t += z.as_dyn().value().sum();")
    open(d+"/src/main.rs","w").write("use ndarray::{ArrayD, IxDyn};\nuse slowgrad::Var;\nfn main() {\n    let mut t = 0.0f64;\n"+"\n".join(body)+"\n    println!(\"{t}\");\n}\n")
    # baseline: zero patterns
d=OUT + "/none"; os.makedirs(d+"/src",exist_ok=True)
open(d+"/Cargo.toml","w").write(open(OUT + "/runtime/Cargo.toml").read().replace("cc_runtime","cc_none"))
open(d+"/src/main.rs","w").write("use ndarray::{ArrayD, IxDyn};\nuse slowgrad::Var;\nfn main() {\n    let x = Var::new(ArrayD::<f64>::from_elem(IxDyn(&[3]), 1.0));\n    println!(\"{}\", x.value().sum());\n}\n")
print(pats)
