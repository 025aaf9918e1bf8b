"""A synthetic class of distinct, correct loop solutions, for the similarity test and benchmark.

Each student combines independent choices real students make differently (how the
parameters are read, the output size formula, the padding, the loop order, how a window
is multiplied, how db is summed, how dx is cropped) with their own variable names; no two
students make the same set of choices. ``planted_copy`` is what a copier hands in: another
student's code with every name changed, comments added and the layout redone.
"""

from __future__ import annotations

import io
import itertools
import random
import tokenize

PARAMS = [
    "{s}, {p} = conv_param['stride'], conv_param['pad']",
    "{s} = conv_param['stride']\n{p} = conv_param['pad']",
    "{p} = conv_param.get('pad', 0)\n{s} = conv_param.get('stride', 1)",
]
OUT_SIZE = [
    "{ho} = 1 + ({h} + 2 * {p} - {kh}) // {s}\n{wo} = 1 + ({w} + 2 * {p} - {kw}) // {s}",
    "{ho} = ({h} - {kh} + 2 * {p}) // {s} + 1\n{wo} = ({w} - {kw} + 2 * {p}) // {s} + 1",
    "{ho}, {wo} = int(({h} + 2*{p} - {kh}) / {s}) + 1, int(({w} + 2*{p} - {kw}) / {s}) + 1",
]
PAD = [
    "{xp} = np.pad({x}, ((0, 0), (0, 0), ({p}, {p}), ({p}, {p})), mode='constant')",
    "{xp} = np.zeros(({n}, {c}, {h} + 2 * {p}, {w} + 2 * {p}))\n{xp}[:, :, {p}:{p} + {h}, {p}:{p} + {w}] = {x}",
    "{xp} = np.pad({x}, [(0, 0), (0, 0), ({p}, {p}), ({p}, {p})], 'constant', constant_values=0)",
]
# The forward's loop nest: (header lines, indentation of the body).
LOOPS = [
    ["for {i1} in range({n}):", "for {i2} in range({f}):", "for {i3} in range({ho}):", "for {i4} in range({wo}):"],
    ["for {i1} in range({n}):", "for {i3} in range({ho}):", "for {i4} in range({wo}):", "for {i2} in range({f}):"],
    ["for {i2} in range({f}):", "for {i1} in range({n}):", "for {i3} in range({ho}):", "for {i4} in range({wo}):"],
    ["for {i3} in range({ho}):", "for {i4} in range({wo}):", "for {i1} in range({n}):", "for {i2} in range({f}):"],
]
PRODUCT = [
    "np.sum({win} * {wt}[{i2}]) + {bb}[{i2}]",
    "({win} * {wt}[{i2}]).sum() + {bb}[{i2}]",
    "np.tensordot({win}, {wt}[{i2}], axes=3) + {bb}[{i2}]",
    "np.einsum('chw,chw->', {win}, {wt}[{i2}]) + {bb}[{i2}]",
    "np.dot({win}.ravel(), {wt}[{i2}].ravel()) + {bb}[{i2}]",
]
DB = [
    "{db} = np.sum({dout}, axis=(0, 2, 3))",
    "{db} = {dout}.sum(axis=3).sum(axis=2).sum(axis=0)",
    "{db} = np.zeros({f})\nfor {i2} in range({f}):\n    {db}[{i2}] = {dout}[:, {i2}, :, :].sum()",
]
CROP = [
    "{dx} = {dxp}[:, :, {p}:{p} + {h}, {p}:{p} + {w}]",
    "{dx} = {dxp}[:, :, {p}:{dxp}.shape[2] - {p}, {p}:{dxp}.shape[3] - {p}]",
    "{dx} = {dxp}[..., {p}:{h} + {p}, {p}:{w} + {p}]",
]
NAMES = {
    "s": ["stride", "s", "S", "st", "step"], "p": ["pad", "p", "P", "pd", "padding"],
    "n": ["N", "num", "n_img", "batch", "NN"], "c": ["C", "chans", "ch", "n_c", "CC"],
    "h": ["H", "height", "h_in", "Hx", "rows"], "w": ["W", "width", "w_in", "Wx", "cols"],
    "f": ["F", "nf", "n_filters", "K", "FF"], "kh": ["HH", "kh", "fh", "KH", "hf"],
    "kw": ["WW", "kw", "fw", "KW", "wf"], "ho": ["H_out", "oh", "Hp", "out_h", "H2"],
    "wo": ["W_out", "ow", "Wp", "out_w", "W2"], "xp": ["x_pad", "xp", "padded", "x_padded", "xpad"],
    "win": ["window", "patch", "region", "piece", "xs"], "i1": ["n", "i", "img", "idx", "ni"],
    "i2": ["f", "k", "flt", "fi", "kk"], "i3": ["i", "r", "row", "y", "hh"], "i4": ["j", "q", "col", "xx", "ww_"],
    "dxp": ["dx_pad", "dxp", "dpadded", "dx_padded", "grad_pad"],
}


# Whole strategies for the loops (the part students differ on most), each as
# (loop headers, body lines). {win4} is the window of one image, {winall} of every image.
FORWARD_STYLES = [
    None,  # four loops in the order LOOPS gives, one output element at a time (PRODUCT)
    (["for {i1} in range({n}):", "for {i3} in range({ho}):", "for {i4} in range({wo}):"],
     ["{win} = {win4}", "out[{i1}, :, {i3}, {i4}] = np.tensordot(w, {win}, axes=([1, 2, 3], [0, 1, 2])) + b"]),
    (["for {i2} in range({f}):", "for {i3} in range({ho}):", "for {i4} in range({wo}):"],
     ["out[:, {i2}, {i3}, {i4}] = np.sum({winall} * w[{i2}], axis=(1, 2, 3)) + b[{i2}]"]),
    (["for {i3} in range({ho}):", "for {i4} in range({wo}):"],
     ["{win} = {winall}", "out[:, :, {i3}, {i4}] = np.einsum('nchw,fchw->nf', {win}, w) + b"]),
    (["for {i3} in range({ho}):", "for {i4} in range({wo}):"],
     ["{win} = {winall}.reshape({n}, -1)", "out[:, :, {i3}, {i4}] = {win} @ w.reshape({f}, -1).T + b[None, :]"]),
]
BACKWARD_STYLES = [
    None,  # four loops, one output gradient at a time
    (["for {i1} in range({n}):", "for {i3} in range({ho}):", "for {i4} in range({wo}):"],
     ["{win} = {win4}", "g = dout[{i1}, :, {i3}, {i4}]", "dw += g[:, None, None, None] * {win}[None]",
      "{dxp}[{i1}, :, {rows}, {cols}] += np.tensordot(g, w, axes=1)"]),
    (["for {i3} in range({ho}):", "for {i4} in range({wo}):"],
     ["{win} = {winall}", "dw += np.einsum('nf,nchw->fchw', dout[:, :, {i3}, {i4}], {win})",
      "{dxp}[:, :, {rows}, {cols}] += np.einsum('nf,fchw->nchw', dout[:, :, {i3}, {i4}], w)"]),
    (["for {i3} in range({ho}):", "for {i4} in range({wo}):"],
     ["g = dout[:, :, {i3}, {i4}]", "{win} = {winall}.reshape({n}, -1)", "dw += (g.T @ {win}).reshape(w.shape)",
      "{dxp}[:, :, {rows}, {cols}] += (g @ w.reshape({f}, -1)).reshape({n}, {c}, {kh}, {kw})"]),
]
ROWS = "{i3} * {s}:{i3} * {s} + {kh}"
COLS = "{i4} * {s}:{i4} * {s} + {kw}"


def _indent(text: str, depth: int) -> str:
    return "\n".join("    " * depth + line for line in text.split("\n"))


def _nest(headers: list[str], body: list[str]) -> list[str]:
    return [_indent(line, depth) for depth, line in enumerate(headers)] + [_indent(line, len(headers)) for line in body]


def solution(choices: tuple[int, ...], rng: random.Random) -> str:
    forward_style, backward_style, params, out_size, pad, loops, product, db, crop = choices
    names = {key: rng.choice(options) for key, options in NAMES.items()}
    names.update(x="x", wt="w", bb="b", dout="dout", dx="dx", db="db", dw="dw")
    names.update(rows=ROWS.format(**names), cols=COLS.format(**names))
    names.update(win4="{xp}[{i1}, :, {rows}, {cols}]".format(**names), winall="{xp}[:, :, {rows}, {cols}]".format(**names))
    header = [PARAMS[params], "{n}, {c}, {h}, {w} = x.shape", "{f}, _, {kh}, {kw} = w.shape", OUT_SIZE[out_size],
              PAD[pad]]
    forward = header + ["out = np.zeros(({n}, {f}, {ho}, {wo}))"]
    if FORWARD_STYLES[forward_style] is None:
        forward += _nest(LOOPS[loops], ["{win} = {win4}", "out[{i1}, {i2}, {i3}, {i4}] = " + PRODUCT[product]])
    else:
        forward += _nest(*FORWARD_STYLES[forward_style])
    backward = header + ["{dxp} = np.zeros_like({xp})", "dw = np.zeros_like(w)", DB[db]]
    if BACKWARD_STYLES[backward_style] is None:
        backward += _nest(LOOPS[loops], ["{win} = {win4}", "dw[{i2}] += {win} * dout[{i1}, {i2}, {i3}, {i4}]",
                                         "{dxp}[{i1}, :, {rows}, {cols}] += w[{i2}] * dout[{i1}, {i2}, {i3}, {i4}]"])
    else:
        backward += _nest(*BACKWARD_STYLES[backward_style])
    backward.append(CROP[crop])
    text = ("import numpy as np\n\n\ndef conv_forward_naive(x, w, b, conv_param):\n    out = None\n"
            "    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****\n"
            + _indent("\n".join(forward), 1) + "\n"
            "    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****\n"
            "    cache = (x, w, b, conv_param)\n    return out, cache\n\n\n"
            "def conv_backward_naive(dout, cache):\n    dx, dw, db = None, None, None\n"
            "    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****\n"
            "    x, w, b, conv_param = cache\n"
            + _indent("\n".join(backward), 1) + "\n"
            "    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****\n"
            "    return dx, dw, db\n")
    return text.format(**names)


# Students who made nearly the same choices would write nearly the same code; real
# independent solutions differ more, so any two synthetic students differ in this many choices.
MIN_DIFFERENT_CHOICES = 3


def _effective(choices: tuple[int, ...]) -> tuple[int, ...]:
    """The choices that change the code: the loop order only for four-loop styles, the
    product only for the four-loop forward."""
    forward_style, backward_style, params, out_size, pad, loops, product, db, crop = choices
    four_loops = forward_style == 0 or backward_style == 0
    return (forward_style, backward_style, params, out_size, pad, loops if four_loops else 0,
            product if forward_style == 0 else 0, db, crop)


def synthetic_class(size: int, seed: int = 0, four_loops_only: bool = False) -> list[str]:
    """``size`` correct solutions, any two differing in at least MIN_DIFFERENT_CHOICES choices;
    with ``four_loops_only``, only the template's four loops in both functions (what most of a
    real class hands in: a call pair of seconds at the notebook's speed cell)."""
    rng = random.Random(seed)
    every = sorted({_effective(choices) for choices in itertools.product(*(range(len(options)) for options in (
        FORWARD_STYLES, BACKWARD_STYLES, PARAMS, OUT_SIZE, PAD, LOOPS, PRODUCT, DB, CROP)))
        if not four_loops_only or choices[:2] == (0, 0)})
    rng.shuffle(every)
    chosen = []
    for choices in every:
        if all(sum(a != b for a, b in zip(choices, other)) >= MIN_DIFFERENT_CHOICES for other in chosen):
            chosen.append(choices)
            if len(chosen) == size:
                return [solution(choices, rng) for choices in chosen]
    raise ValueError(f"no {size} students differ in {MIN_DIFFERENT_CHOICES} choices")


_RENAMES = {"stride": "stp", "pad": "zpad", "height": "hgt", "width": "wdt", "window": "blk", "patch": "blk",
            "region": "blk", "piece": "blk", "xs": "blk", "x_pad": "xz", "xp": "xz", "padded": "xz",
            "x_padded": "xz", "xpad": "xz", "dx_pad": "gz", "dxp": "gz", "dpadded": "gz", "dx_padded": "gz",
            "grad_pad": "gz", "out": "result", "dout": "upstream"}


def planted_copy(text: str) -> str:
    """``text`` renamed (every variable the copier noticed, never an attribute such as np.pad),
    recommented, with other quotes and the layout of ``tokenize.untokenize``."""
    renamed, previous = [], None
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        value = token.string
        if token.type == tokenize.NAME and value in _RENAMES and previous != ".":
            value = _RENAMES[value]
        elif token.type == tokenize.STRING:
            value = value.replace("'", '"')
        renamed.append((token.type, value))
        previous = token.string
    lines = []
    for line in tokenize.untokenize(renamed).split("\n"):
        stripped = line.strip()
        indent = line[:len(line) - len(line.lstrip())]
        if stripped.startswith("for "):
            lines.append(f"{indent}# loop over {stripped[4:].split(' in ')[0]}")
        lines.append(line.rstrip() + ("  # my work" if stripped.startswith("dw [") else ""))
        if stripped.endswith(")") and not stripped.startswith("#"):
            lines.append("")
    return "\n".join(lines)
