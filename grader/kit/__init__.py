"""The student self-check kit: a zip students run before they submit (`python check.py layers.py`).

    build.py        `make student-kit`: packages the grader's own message and hint code, the
                    kit's runner and fixed cases with their expected outputs (data, not code)
    public_cases.py the fixed public cases (build side only; the kit gets their arrays)
    check.py        shipped as check.py: loads the student's file and runs every check
    diagnosis.py    shipped: names a bug from which cases fail (pad 0 only, non-square kernels...)
    gradient.py     shipped: backward against numerical gradients of the student's own forward
    speed.py        shipped: the student's time against numpy's GEMM of the same shape

No reference implementation and no hidden case generator ship: tests/kit proves it.
"""
