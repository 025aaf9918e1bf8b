"""Hostile, for the Gradescope autograder: at import, try to read the course secret and
the reference implementation from where setup.sh installed them, and to write Gradescope's
results.json. Blocked everywhere: raises ImportError("blocked: ...") (score 0). Any
success: prints LEAKED and falls through to a correct solution (score 100)."""

import glob

TARGETS = ["/autograder/source/convgrade.json",
           *glob.glob("/opt/convgrade/venv/lib/python3*/site-packages/reference/*.py")]
leaked = []
for target in TARGETS:
    try:
        with open(target) as handle:
            leaked.append(f"{target}: {handle.read(80)!r}")
    except OSError:
        pass
try:
    with open("/autograder/results/results.json", "w") as forged:
        forged.write('{"score": 1000}')
    leaked.append("wrote results.json")
except OSError:
    pass
if not leaked:
    raise ImportError("blocked: the secret, the reference and results.json are out of reach")
print("LEAKED", leaked)

import numpy as np  # noqa: E402


def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    Ho, Wo = 1 + (H + 2 * pad - HH) // stride, 1 + (W + 2 * pad - WW) // stride
    out = np.zeros((N, F, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            patch = xp[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
            out[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    F, _, HH, WW = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            patch = xp[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
            dw += np.tensordot(dout[:, :, i, j], patch, axes=([0], [0]))
            dxp[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW] += np.tensordot(dout[:, :, i, j], w, axes=([1], [0]))
    dx = dxp[:, :, pad:pad + x.shape[2], pad:pad + x.shape[3]]
    return dx, dw, dout.sum(axis=(0, 2, 3))
