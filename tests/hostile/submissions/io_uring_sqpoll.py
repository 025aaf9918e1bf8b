"""Kernel-side work: an io_uring instance with a kernel submission-queue polling thread
(IORING_SETUP_SQPOLL), pinned to another core where it may (IORING_SETUP_SQ_AFF), that
spins for a minute: a kernel thread burning a core while the reference is timed, or
doing the student's I/O off its clock. It prints what the kernel allowed.
Expected: either the kernel refuses the thread (the worker may have one task only), or
the thread belongs to the worker's thread group, so its CPU time is the student's and
it is stopped with the worker. Score 100, both functions timed, and the speedup is no
better than honest_control.py's (see test_timing_tricks_do_not_pay).
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

import ctypes
import os

IORING_SETUP_SQPOLL, IORING_SETUP_SQ_AFF = 2, 4
SYS_IO_URING_SETUP = 425


class _Params(ctypes.Structure):
    _fields_ = [("sq_entries", ctypes.c_uint32), ("cq_entries", ctypes.c_uint32), ("flags", ctypes.c_uint32),
                ("sq_thread_cpu", ctypes.c_uint32), ("sq_thread_idle", ctypes.c_uint32),
                ("features", ctypes.c_uint32), ("wq_fd", ctypes.c_uint32), ("resv", ctypes.c_uint32 * 3),
                ("offsets", ctypes.c_uint8 * 80)]


def _setup() -> str:
    libc = ctypes.CDLL(None, use_errno=True)
    mine = os.sched_getaffinity(0)
    others = [cpu for cpu in range(os.cpu_count() or 1) if cpu not in mine]
    params = _Params(flags=IORING_SETUP_SQPOLL | (IORING_SETUP_SQ_AFF if others else 0),
                     sq_thread_cpu=others[0] if others else 0, sq_thread_idle=60_000)
    fd = libc.syscall(SYS_IO_URING_SETUP, 8, ctypes.byref(params))
    if fd < 0:
        return f"refused: {os.strerror(ctypes.get_errno())}"
    threads = sorted(os.listdir("/proc/self/task"))
    return f"fd {fd}, sq thread on cpu {params.sq_thread_cpu if others else 'any'}, tasks {threads}"


_RING = _setup()
print("io_uring_setup ->", _RING, flush=True)


def conv_forward_naive(x, w, b, conv_param):
    return _forward(x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    return _backward(dout, cache)
