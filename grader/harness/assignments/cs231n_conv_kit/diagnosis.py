"""Which bug a set of failing cases points to (shipped in the kit; numpy and stdlib only).

Each public case has shape properties (pad 0, pad not 1, ...), and each property holds
for a different set of cases. When a function fails on exactly the cases that have one
property, the bug depends on that property, and the message names the usual cause.
"""

from __future__ import annotations

# (property, what a bug that depends on it usually is)
PROPERTIES = [
    ("pad is 0", "it fails exactly when pad is 0: a slice like dx_pad[:, :, pad:-pad, pad:-pad] is empty when "
                 "pad is 0; crop with pad:pad + H and pad:pad + W instead"),
    ("pad is not 1", "it fails exactly when pad is not 1: is the padding hard-coded (1) instead of read from "
                     "conv_param['pad']?"),
    ("the kernel is not square", "it fails exactly when the kernel is not square (HH != WW): is HH used where WW "
                                 "belongs (or H where W does)?"),
    ("the output is not square", "it fails exactly when the output is not square (H' != W'): is H' used for W', "
                                 "or the height formula used for both axes?"),
    ("stride is above 1", "it fails exactly when stride is above 1: are windows stepped by the stride, and is the "
                          "output 1 + (H + 2 * pad - HH) // stride?"),
]


def case_properties(x_shape, w_shape, pad: int, stride: int) -> set[str]:
    _, _, h, w = x_shape
    _, _, hh, ww = w_shape
    h_out, w_out = 1 + (h + 2 * pad - hh) // stride, 1 + (w + 2 * pad - ww) // stride
    found = {"pad is 0": pad == 0, "pad is not 1": pad != 1, "the kernel is not square": hh != ww,
             "the output is not square": h_out != w_out, "stride is above 1": stride > 1}
    return {name for name, holds in found.items() if holds}


def diagnose(failing: set[str], properties: dict[str, set[str]]) -> str | None:
    """The likely bug when the ``failing`` case ids are exactly those with one property.
    ``properties`` maps each case id to its properties."""
    if not failing:
        return None
    for name, meaning in PROPERTIES:
        having = {case for case, props in properties.items() if name in props}
        if having == failing:
            return meaning
    return None
