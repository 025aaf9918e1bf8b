"""The part of the graded functions every student starts from: the CS231n template's
skeleton (signatures, the START/END markers, the given first and last lines).

Its fingerprints are copydetect's "boilerplate": they never count as a match, so two
students are not similar merely for having kept the template. This belongs to the
assignment (an assignment pack will provide it); nothing else here knows the template.
"""

TEMPLATE = '''
def conv_forward_naive(x, w, b, conv_param):
    out = None
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    pass
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    cache = (x, w, b, conv_param)
    return out, cache


def conv_backward_naive(dout, cache):
    dx, dw, db = None, None, None
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    pass
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return dx, dw, db
'''
