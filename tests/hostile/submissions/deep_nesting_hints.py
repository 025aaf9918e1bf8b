"""Deeply nested code for the host's analyses (23 KB): a Python 2 division file (forward's
output size is `(H + 2 * pad - HH) / stride + 1`, a float in Python 3) that also holds 60
nested definitions, each calling the next, the innermost indexing with 190 nested max()
calls around a 600-deep `n / 2 / 2 ...`. The loader and the sandbox accept it; the division
analysis behind the hint recursed through it: RecursionError on the host, a traceback from
`grade`, "not gradable, grader failure" from grade-all and the service.
Expected: the forward checks fail with the float error and the Python 2 division hint,
which names forward's division line; backward (honest) passes; no grader failure.
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


def level_0(n):
    def level_1(n):
        def level_2(n):
            def level_3(n):
                def level_4(n):
                    def level_5(n):
                        def level_6(n):
                            def level_7(n):
                                def level_8(n):
                                    def level_9(n):
                                        def level_10(n):
                                            def level_11(n):
                                                def level_12(n):
                                                    def level_13(n):
                                                        def level_14(n):
                                                            def level_15(n):
                                                                def level_16(n):
                                                                    def level_17(n):
                                                                        def level_18(n):
                                                                            def level_19(n):
                                                                                def level_20(n):
                                                                                    def level_21(n):
                                                                                        def level_22(n):
                                                                                            def level_23(n):
                                                                                                def level_24(n):
                                                                                                    def level_25(n):
                                                                                                        def level_26(n):
                                                                                                            def level_27(n):
                                                                                                                def level_28(n):
                                                                                                                    def level_29(n):
                                                                                                                        def level_30(n):
                                                                                                                            def level_31(n):
                                                                                                                                def level_32(n):
                                                                                                                                    def level_33(n):
                                                                                                                                        def level_34(n):
                                                                                                                                            def level_35(n):
                                                                                                                                                def level_36(n):
                                                                                                                                                    def level_37(n):
                                                                                                                                                        def level_38(n):
                                                                                                                                                            def level_39(n):
                                                                                                                                                                def level_40(n):
                                                                                                                                                                    def level_41(n):
                                                                                                                                                                        def level_42(n):
                                                                                                                                                                            def level_43(n):
                                                                                                                                                                                def level_44(n):
                                                                                                                                                                                    def level_45(n):
                                                                                                                                                                                        def level_46(n):
                                                                                                                                                                                            def level_47(n):
                                                                                                                                                                                                def level_48(n):
                                                                                                                                                                                                    def level_49(n):
                                                                                                                                                                                                        def level_50(n):
                                                                                                                                                                                                            def level_51(n):
                                                                                                                                                                                                                def level_52(n):
                                                                                                                                                                                                                    def level_53(n):
                                                                                                                                                                                                                        def level_54(n):
                                                                                                                                                                                                                            def level_55(n):
                                                                                                                                                                                                                                def level_56(n):
                                                                                                                                                                                                                                    def level_57(n):
                                                                                                                                                                                                                                        def level_58(n):
                                                                                                                                                                                                                                            def level_59(n):
                                                                                                                                                                                                                                                return n[max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(max(n / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2 / 2)))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))) / 2]
                                                                                                                                                                                                                                            return level_59(n) + 1
                                                                                                                                                                                                                                        return level_58(n) + 1
                                                                                                                                                                                                                                    return level_57(n) + 1
                                                                                                                                                                                                                                return level_56(n) + 1
                                                                                                                                                                                                                            return level_55(n) + 1
                                                                                                                                                                                                                        return level_54(n) + 1
                                                                                                                                                                                                                    return level_53(n) + 1
                                                                                                                                                                                                                return level_52(n) + 1
                                                                                                                                                                                                            return level_51(n) + 1
                                                                                                                                                                                                        return level_50(n) + 1
                                                                                                                                                                                                    return level_49(n) + 1
                                                                                                                                                                                                return level_48(n) + 1
                                                                                                                                                                                            return level_47(n) + 1
                                                                                                                                                                                        return level_46(n) + 1
                                                                                                                                                                                    return level_45(n) + 1
                                                                                                                                                                                return level_44(n) + 1
                                                                                                                                                                            return level_43(n) + 1
                                                                                                                                                                        return level_42(n) + 1
                                                                                                                                                                    return level_41(n) + 1
                                                                                                                                                                return level_40(n) + 1
                                                                                                                                                            return level_39(n) + 1
                                                                                                                                                        return level_38(n) + 1
                                                                                                                                                    return level_37(n) + 1
                                                                                                                                                return level_36(n) + 1
                                                                                                                                            return level_35(n) + 1
                                                                                                                                        return level_34(n) + 1
                                                                                                                                    return level_33(n) + 1
                                                                                                                                return level_32(n) + 1
                                                                                                                            return level_31(n) + 1
                                                                                                                        return level_30(n) + 1
                                                                                                                    return level_29(n) + 1
                                                                                                                return level_28(n) + 1
                                                                                                            return level_27(n) + 1
                                                                                                        return level_26(n) + 1
                                                                                                    return level_25(n) + 1
                                                                                                return level_24(n) + 1
                                                                                            return level_23(n) + 1
                                                                                        return level_22(n) + 1
                                                                                    return level_21(n) + 1
                                                                                return level_20(n) + 1
                                                                            return level_19(n) + 1
                                                                        return level_18(n) + 1
                                                                    return level_17(n) + 1
                                                                return level_16(n) + 1
                                                            return level_15(n) + 1
                                                        return level_14(n) + 1
                                                    return level_13(n) + 1
                                                return level_12(n) + 1
                                            return level_11(n) + 1
                                        return level_10(n) + 1
                                    return level_9(n) + 1
                                return level_8(n) + 1
                            return level_7(n) + 1
                        return level_6(n) + 1
                    return level_5(n) + 1
                return level_4(n) + 1
            return level_3(n) + 1
        return level_2(n) + 1
    return level_1(n) + 1


def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = (H + 2 * pad - HH) / stride + 1
    return np.zeros((N, F, H_out, H_out)), (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    return _backward(dout, cache)
