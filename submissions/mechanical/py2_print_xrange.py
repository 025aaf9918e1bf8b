# A 2016 Python 2 solution: print statements, xrange and `/` for the output size.
# Behind those, its backward slices dx with pad:-pad, which is empty at pad 0.
import numpy as np


def conv_forward_naive(x, w, b, conv_param):
  out = None
  N, C, H, W = x.shape
  F, C, HH, WW = w.shape
  stride, pad = conv_param['stride'], conv_param['pad']
  Hp = 1 + (H + 2 * pad - HH) / stride
  Wp = 1 + (W + 2 * pad - WW) / stride
  print "output size", Hp, Wp
  xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode='constant')
  out = np.zeros((N, F, Hp, Wp))
  for n in xrange(N):
    for f in xrange(F):
      for i in xrange(Hp):
        for j in xrange(Wp):
          out[n, f, i, j] = np.sum(xp[n, :, i*stride:i*stride+HH, j*stride:j*stride+WW] * w[f]) + b[f]
  cache = (x, w, b, conv_param)
  return out, cache


def conv_backward_naive(dout, cache):
  dx, dw, db = None, None, None
  x, w, b, conv_param = cache
  N, C, H, W = x.shape
  F, C, HH, WW = w.shape
  stride, pad = conv_param['stride'], conv_param['pad']
  Hp = 1 + (H + 2 * pad - HH) / stride
  Wp = 1 + (W + 2 * pad - WW) / stride
  xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode='constant')
  dxp = np.zeros_like(xp)
  dw = np.zeros_like(w)
  db = np.zeros_like(b)
  for n in xrange(N):
    for f in xrange(F):
      db[f] += np.sum(dout[n, f])
      for i in xrange(Hp):
        for j in xrange(Wp):
          dw[f] += xp[n, :, i*stride:i*stride+HH, j*stride:j*stride+WW] * dout[n, f, i, j]
          dxp[n, :, i*stride:i*stride+HH, j*stride:j*stride+WW] += w[f] * dout[n, f, i, j]
  dx = dxp[:, :, pad:-pad, pad:-pad]
  print "dx", dx.shape,
  return dx, dw, db
