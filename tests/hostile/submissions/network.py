"""Attack: reach the network at import: TCP to a listener the test opens on one of
127.0.0.1:47231-47235 (and [::1]:47231), TCP to 10.255.255.1:80, UDP to 8.8.8.8:53, a DNS lookup; and leave a socket
listening on 0.0.0.0:47232.
Expected: no connection is made and no name resolves (private network namespace, loopback
down), so the module raises ImportError("blocked: ..."): score 0. Any success makes it honest
(score 100, "LEAKED"). The test also checks the listener accepted nothing and that nothing
listens on the host's port 47232.
"""
# ---- honest, fast convolution (as in submissions/examples/fast_strided.py) ----
import numpy as np
from numpy.lib.stride_tricks import as_strided


def _columns(x, HH, WW, stride, pad, H_out, W_out):
    N, C = x.shape[:2]
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    sN, sC, sH, sW = x_pad.strides
    windows = as_strided(x_pad, shape=(C, HH, WW, N, H_out, W_out),
                         strides=(sC, sH, sW, sN, stride * sH, stride * sW))
    return np.ascontiguousarray(windows).reshape(C * HH * WW, N * H_out * W_out)


def _forward(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    x_cols = _columns(x, HH, WW, stride, pad, H_out, W_out)
    res = w.reshape(F, -1) @ x_cols + b.reshape(-1, 1)
    out = np.ascontiguousarray(res.reshape(F, N, H_out, W_out).transpose(1, 0, 2, 3))
    return out, (x, w, b, conv_param)


def _backward(dout, cache):
    x, w, b, conv_param = cache[:4]
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    x_cols = _columns(x, HH, WW, stride, pad, H_out, W_out)
    db = dout.sum(axis=(0, 2, 3))
    dout_mat = dout.transpose(1, 0, 2, 3).reshape(F, -1)
    dw = (dout_mat @ x_cols.T).reshape(w.shape)
    dcols = (w.reshape(F, -1).T @ dout_mat).reshape(C, HH, WW, N, H_out, W_out)
    dx_pad = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=dcols.dtype)
    for k in range(HH):
        for l in range(WW):
            dx_pad[:, :, k:k + stride * H_out:stride, l:l + stride * W_out:stride] += \
                dcols[:, k, l].transpose(1, 0, 2, 3)
    return dx_pad[:, :, pad:pad + H, pad:pad + W], dw, db
# ---- end of the honest part ----

import socket

_tried, _leaks = [], []
_targets = [(socket.AF_INET, ("127.0.0.1", port)) for port in range(47231, 47236)]  # the test listens on one
_targets += [(socket.AF_INET6, ("::1", 47231)), (socket.AF_INET, ("10.255.255.1", 80))]
for _family, _address in _targets:
    try:
        with socket.socket(_family, socket.SOCK_STREAM) as _s:
            _s.settimeout(1.0)
            _s.connect(_address)
            _leaks.append(f"connected to {_address}")
    except OSError as exc:
        _tried.append(f"connect {_address}: {exc}")
try:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as _s:
        _s.sendto(b"\x00" * 12, ("8.8.8.8", 53))
        _leaks.append("sent a UDP datagram to 8.8.8.8")
except OSError as exc:
    _tried.append(f"udp 8.8.8.8: {exc}")
try:
    _leaks.append(f"resolved example.com: {socket.getaddrinfo('example.com', 80)[0][4]}")
except OSError as exc:
    _tried.append(f"dns: {exc}")
try:
    _listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    _listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    _listener.bind(("0.0.0.0", 47232))
    _listener.listen()
except OSError as exc:
    _tried.append(f"listen: {exc}")

if _leaks:
    print("LEAKED:", _leaks)  # falls through to the honest code: a perfect score betrays the escape
else:
    raise ImportError("blocked: " + "; ".join(_tried)[:1500])


def conv_forward_naive(x, w, b, conv_param):
    return _forward(x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    return _backward(dout, cache)
