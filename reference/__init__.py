"""Trusted reference convolutions for the CS231n API, in three independent styles.

Each module offers the same two functions:

    conv_forward(x, w, b, conv_param) -> (out, cache)
    conv_backward(dout, cache) -> (dx, dw, db)

with x (N, C, H, W), w (F, C, HH, WW), b (F,), conv_param {'stride': s, 'pad': p},
out (N, F, H', W'). They validate their arguments first (``validate.py``; a
ValueError quotes both numbers that disagree), compute in the inputs' common
floating dtype (float32 in, float32 out), and never modify their inputs. The
cache is private to the module that made it: pass it back to the same module.

    naive    one loop per output index; slow, obviously right.
    einsum   one einsum per output position over the whole batch.
    strided  im2col by a strided window view plus BLAS; the fast yardstick that
             students are timed against (``make bench`` measures it against GEMM).

Three styles that agree to 1e-10 check each other; the grader's trusted harness
imports ``reference.strided`` and ``reference.validate``. Only numpy and the
standard library are used: this package also runs inside the grading container.
"""

# maxpool: the max-pooling pack's references. Every module is imported here because the
# harness imports this package before the sandbox hides its folder (a module imported
# later is not found).
from . import einsum, maxpool, naive, strided

IMPLEMENTATIONS = {"naive": naive, "einsum": einsum, "strided": strided}

__all__ = ["IMPLEMENTATIONS", "einsum", "maxpool", "naive", "strided"]
