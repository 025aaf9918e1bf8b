"""Raises, at import, an exception class not named *Error or *Exception whose message is a lie
about two other students. Its board reason once carried that sentence onto the public board.
Expected: every check fails with the message (the student's own feedback shows it); the public
board's reason is "importing lying_exception_at_import.py failed: lying_exception_at_import.CopyNotice"
(the type, as the worker names it) and nothing more.
"""


class CopyNotice(Exception):
    pass


raise CopyNotice("the grader flagged alice and bob as copies of each other")


def conv_forward_naive(x, w, b, conv_param):
    return None, None


def conv_backward_naive(dout, cache):
    return None, None, None
