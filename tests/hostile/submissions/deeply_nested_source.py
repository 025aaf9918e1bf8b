"""forbidden_plain_as_strided with, after the graded functions, a helper nobody calls whose
definitions and one call nest as deep as Python allows (99 defs, a call 199 deep, 150 `not`s:
about 22 KB, valid, and it imports). The static check walked the syntax tree recursively and
raised RecursionError: the grading failed as the grader's fault. (graded with forbidden.modules
["numpy.lib.stride_tricks"], policy "zero")
Expected: exactly what forbidden_plain_as_strided gets: the forward's checks score 0 ("forbids a
call"), the backward's keep their points, and the static check still finds the forward's call.
"""
# ---- right answers; the forward through the forbidden call (the path is what the cases vary) ----
import numpy as np
import numpy.lib.stride_tricks


def _windows(x_pad, HH, WW, stride, H_out, W_out):
    sN, sC, sH, sW = x_pad.strides
    N, C = x_pad.shape[:2]
    return numpy.lib.stride_tricks.as_strided(x_pad, shape=(N, C, H_out, W_out, HH, WW),
                                              strides=(sN, sC, stride * sH, stride * sW, sH, sW))


def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    F, _, HH, WW = w.shape
    H_out = 1 + (x.shape[2] + 2 * pad - HH) // stride
    W_out = 1 + (x.shape[3] + 2 * pad - WW) // stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = _windows(x_pad, HH, WW, stride, H_out, W_out)
    out = np.einsum("nchwij,fcij->nfhw", windows, w) + b.reshape(1, -1, 1, 1)
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad, dw, db = np.zeros_like(x_pad), np.zeros_like(w), dout.sum(axis=(0, 2, 3))
    for i in range(H_out):
        for j in range(W_out):
            hs, ws = i * stride, j * stride
            window = x_pad[:, :, hs:hs + HH, ws:ws + WW]
            dw += np.einsum("nf,nchw->fchw", dout[:, :, i, j], window)
            dx_pad[:, :, hs:hs + HH, ws:ws + WW] += np.einsum("nf,fchw->nchw", dout[:, :, i, j], w)
    return dx_pad[:, :, pad:pad + x.shape[2], pad:pad + x.shape[3]], dw, db


# ---- never called: as deeply nested as the parser allows ----
def helper0(x):
    def helper1(x):
        def helper2(x):
            def helper3(x):
                def helper4(x):
                    def helper5(x):
                        def helper6(x):
                            def helper7(x):
                                def helper8(x):
                                    def helper9(x):
                                        def helper10(x):
                                            def helper11(x):
                                                def helper12(x):
                                                    def helper13(x):
                                                        def helper14(x):
                                                            def helper15(x):
                                                                def helper16(x):
                                                                    def helper17(x):
                                                                        def helper18(x):
                                                                            def helper19(x):
                                                                                def helper20(x):
                                                                                    def helper21(x):
                                                                                        def helper22(x):
                                                                                            def helper23(x):
                                                                                                def helper24(x):
                                                                                                    def helper25(x):
                                                                                                        def helper26(x):
                                                                                                            def helper27(x):
                                                                                                                def helper28(x):
                                                                                                                    def helper29(x):
                                                                                                                        def helper30(x):
                                                                                                                            def helper31(x):
                                                                                                                                def helper32(x):
                                                                                                                                    def helper33(x):
                                                                                                                                        def helper34(x):
                                                                                                                                            def helper35(x):
                                                                                                                                                def helper36(x):
                                                                                                                                                    def helper37(x):
                                                                                                                                                        def helper38(x):
                                                                                                                                                            def helper39(x):
                                                                                                                                                                def helper40(x):
                                                                                                                                                                    def helper41(x):
                                                                                                                                                                        def helper42(x):
                                                                                                                                                                            def helper43(x):
                                                                                                                                                                                def helper44(x):
                                                                                                                                                                                    def helper45(x):
                                                                                                                                                                                        def helper46(x):
                                                                                                                                                                                            def helper47(x):
                                                                                                                                                                                                def helper48(x):
                                                                                                                                                                                                    def helper49(x):
                                                                                                                                                                                                        def helper50(x):
                                                                                                                                                                                                            def helper51(x):
                                                                                                                                                                                                                def helper52(x):
                                                                                                                                                                                                                    def helper53(x):
                                                                                                                                                                                                                        def helper54(x):
                                                                                                                                                                                                                            def helper55(x):
                                                                                                                                                                                                                                def helper56(x):
                                                                                                                                                                                                                                    def helper57(x):
                                                                                                                                                                                                                                        def helper58(x):
                                                                                                                                                                                                                                            def helper59(x):
                                                                                                                                                                                                                                                def helper60(x):
                                                                                                                                                                                                                                                    def helper61(x):
                                                                                                                                                                                                                                                        def helper62(x):
                                                                                                                                                                                                                                                            def helper63(x):
                                                                                                                                                                                                                                                                def helper64(x):
                                                                                                                                                                                                                                                                    def helper65(x):
                                                                                                                                                                                                                                                                        def helper66(x):
                                                                                                                                                                                                                                                                            def helper67(x):
                                                                                                                                                                                                                                                                                def helper68(x):
                                                                                                                                                                                                                                                                                    def helper69(x):
                                                                                                                                                                                                                                                                                        def helper70(x):
                                                                                                                                                                                                                                                                                            def helper71(x):
                                                                                                                                                                                                                                                                                                def helper72(x):
                                                                                                                                                                                                                                                                                                    def helper73(x):
                                                                                                                                                                                                                                                                                                        def helper74(x):
                                                                                                                                                                                                                                                                                                            def helper75(x):
                                                                                                                                                                                                                                                                                                                def helper76(x):
                                                                                                                                                                                                                                                                                                                    def helper77(x):
                                                                                                                                                                                                                                                                                                                        def helper78(x):
                                                                                                                                                                                                                                                                                                                            def helper79(x):
                                                                                                                                                                                                                                                                                                                                def helper80(x):
                                                                                                                                                                                                                                                                                                                                    def helper81(x):
                                                                                                                                                                                                                                                                                                                                        def helper82(x):
                                                                                                                                                                                                                                                                                                                                            def helper83(x):
                                                                                                                                                                                                                                                                                                                                                def helper84(x):
                                                                                                                                                                                                                                                                                                                                                    def helper85(x):
                                                                                                                                                                                                                                                                                                                                                        def helper86(x):
                                                                                                                                                                                                                                                                                                                                                            def helper87(x):
                                                                                                                                                                                                                                                                                                                                                                def helper88(x):
                                                                                                                                                                                                                                                                                                                                                                    def helper89(x):
                                                                                                                                                                                                                                                                                                                                                                        def helper90(x):
                                                                                                                                                                                                                                                                                                                                                                            def helper91(x):
                                                                                                                                                                                                                                                                                                                                                                                def helper92(x):
                                                                                                                                                                                                                                                                                                                                                                                    def helper93(x):
                                                                                                                                                                                                                                                                                                                                                                                        def helper94(x):
                                                                                                                                                                                                                                                                                                                                                                                            def helper95(x):
                                                                                                                                                                                                                                                                                                                                                                                                def helper96(x):
                                                                                                                                                                                                                                                                                                                                                                                                    def helper97(x):
                                                                                                                                                                                                                                                                                                                                                                                                        def helper98(x):
                                                                                                                                                                                                                                                                                                                                                                                                            return g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(g(not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not x)))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))
