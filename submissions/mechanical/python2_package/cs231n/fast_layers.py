# Python 2 helper of the cs231n package: its print statements keep it from parsing.
import numpy as np


def pad_input(x, pad):
    if pad > 0:
        print 'padding by', pad
    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode='constant')
