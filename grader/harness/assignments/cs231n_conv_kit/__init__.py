"""The convolution pack's student self-check kit (`make student-kit`, built by grader/kit/build.py):

    check.py        shipped as check.py: loads the student's file and runs every check
    README.txt      shipped as README.txt
    diagnosis.py    shipped: names a bug from which cases fail (pad 0 only, non-square kernels...)
    gradient.py     shipped: backward against numerical gradients of the student's own forward
    speed.py        shipped: the student's time against numpy's GEMM of the same shape
    public_cases.py build side only: the fixed public cases (the kit gets their arrays)

No reference implementation and no hidden case generator ship: tests/kit proves it.
"""

from .public_cases import case_arrays, public_cases

RUNNER = "check.py"  # the kit's top level: what the student runs, and what it says
README = "README.txt"
MODULES = ("diagnosis.py", "gradient.py", "speed.py")  # shipped as kit/<name>, numpy and stdlib only

__all__ = ["MODULES", "README", "RUNNER", "case_arrays", "public_cases"]
