"""Trusted reference code of every assignment pack (grader/harness/assignments/): only
packs name its modules. The harness imports this package, copies it for the reference
worker and then hides its folder from the student, so every module a pack uses is
imported here (tests/test_packs.py checks it).

The convolution pack's references come in three independent styles; each module offers
the same two functions:

    conv_forward(x, w, b, conv_param) -> (out, cache)
    conv_backward(dout, cache) -> (dx, dw, db)

with x (N, C, H, W), w (F, C, HH, WW), b (F,), conv_param {'stride': s, 'pad': p},
out (N, F, H', W'). They validate their arguments first (``validate.py``; a
ValueError quotes both numbers that disagree), compute in the inputs' common
floating dtype (float32 in, float32 out), and never modify their inputs. The
cache is private to the module that made it: pass it back to the same module.

    naive    one loop per output index; slow, obviously right.
    einsum   one einsum per output position over the whole batch.
    strided  im2col by strided copies plus BLAS; the fast yardstick that
             students are timed against (``make bench`` measures it against GEMM).

Three styles that agree to 1e-10 check each other; the grader's trusted harness
imports ``reference.strided`` and ``reference.validate``. Only numpy and the
standard library are used: this package also runs inside the grading container.
"""

# The other packs' references, one module per layer (see their own docstrings).
from . import affine, batchnorm, dropout, einsum, groupnorm, layernorm, losses, maxpool, naive, relu, strided

IMPLEMENTATIONS = {"naive": naive, "einsum": einsum, "strided": strided}

__all__ = ["IMPLEMENTATIONS", "affine", "batchnorm", "dropout", "einsum", "groupnorm", "layernorm", "losses", "maxpool",
           "naive", "relu", "strided"]
