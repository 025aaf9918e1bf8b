# Written separately from submissions/examples/naive_loops.py, as a second student would:
# another loop order, padding by hand, the window taken once, db summed without loops.
import numpy as np


def conv_forward_naive(x, w, b, conv_param):
    out = None
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    S = conv_param['stride']
    P = conv_param['pad']
    num, chans, height, width = x.shape
    nfilt, _, kh, kw = w.shape
    oh = (height + 2 * P - kh) // S + 1
    ow = (width + 2 * P - kw) // S + 1
    padded = np.zeros((num, chans, height + 2 * P, width + 2 * P))
    padded[:, :, P:P + height, P:P + width] = x
    out = np.empty((num, nfilt, oh, ow))
    for img in range(num):
        for r in range(oh):
            top = r * S
            for c in range(ow):
                left = c * S
                patch = padded[img, :, top:top + kh, left:left + kw]
                for k in range(nfilt):
                    out[img, k, r, c] = (patch * w[k]).sum() + b[k]
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    cache = (x, w, b, conv_param)
    return out, cache


def conv_backward_naive(dout, cache):
    dx, dw, db = None, None, None
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    x, w, b, conv_param = cache
    S = conv_param['stride']
    P = conv_param['pad']
    num, chans, height, width = x.shape
    nfilt, _, kh, kw = w.shape
    oh, ow = dout.shape[2], dout.shape[3]
    padded = np.zeros((num, chans, height + 2 * P, width + 2 * P))
    padded[:, :, P:P + height, P:P + width] = x
    dpadded = np.zeros(padded.shape)
    dw = np.zeros(w.shape)
    db = dout.sum(axis=(0, 2, 3))
    for img in range(num):
        for r in range(oh):
            top = r * S
            for c in range(ow):
                left = c * S
                patch = padded[img, :, top:top + kh, left:left + kw]
                for k in range(nfilt):
                    g = dout[img, k, r, c]
                    dw[k] += g * patch
                    dpadded[img, :, top:top + kh, left:left + kw] += g * w[k]
    dx = dpadded[:, :, P:P + height, P:P + width]
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return dx, dw, db
