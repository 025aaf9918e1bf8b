"""What running a statement at import would do, read from its syntax alone (nothing is run).

The notebook converter keeps a statement only when running it can call no code the
student wrote; these helpers answer the questions that takes: does evaluating this
expression call anything (a call, a subscript, a comprehension...)? which names does it
read now, and which only later, when a function runs? which names does a statement bind?
where does a decorator come from?
"""

from __future__ import annotations

import ast
import builtins

BUILTINS = frozenset(dir(builtins))


def short(text: str, limit: int = 70) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


_INERT = (ast.Constant, ast.Name, ast.Attribute, ast.Tuple, ast.List, ast.Set, ast.Dict, ast.UnaryOp, ast.BinOp,
          ast.BoolOp, ast.Compare, ast.IfExp, ast.Lambda, ast.Load, ast.operator, ast.unaryop, ast.boolop, ast.cmpop,
          ast.arguments, ast.arg)


def first_active(expression: ast.expr) -> ast.AST | None:
    """The first part of ``expression`` that may run code when it is evaluated (a call, a
    subscript, a comprehension, ...), or None when it is inert. Lambda bodies are not
    evaluated, only their defaults."""
    pending: list[ast.AST] = [expression]
    while pending:
        node = pending.pop()
        if not isinstance(node, _INERT) or isinstance(node, ast.Starred):
            return node
        if isinstance(node, ast.Dict) and any(key is None for key in node.keys):
            return node  # {**other}: unpacking calls keys() and __getitem__
        if isinstance(node, ast.Lambda):
            pending += node.args.defaults + [d for d in node.args.kw_defaults if d is not None]
            continue
        if isinstance(node, ast.arguments):
            continue
        pending += list(ast.iter_child_nodes(node))
    return None


def describe(node: ast.AST) -> str:
    kinds = {ast.Call: "a call", ast.Subscript: "a subscript", ast.JoinedStr: "an f-string",
             ast.NamedExpr: "an assignment expression", ast.Await: "await", ast.Starred: "unpacking",
             ast.Dict: "dict unpacking"}
    for kind, words in kinds.items():
        if isinstance(node, kind):
            return f"{words}: {short(ast.unparse(node), 50)}"
    if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
        return f"a comprehension: {short(ast.unparse(node), 50)}"
    return short(ast.unparse(node), 50)


def names_evaluated(expression: ast.expr) -> set[str]:
    """The names an inert expression looks up when evaluated (not those inside lambda bodies)."""
    names: set[str] = set()
    pending: list[ast.AST] = [expression]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Lambda):
            pending += node.args.defaults + [d for d in node.args.kw_defaults if d is not None]
        else:
            pending += list(ast.iter_child_nodes(node))
    return names


def bound_names(node: ast.stmt) -> set[str]:
    """The module-level names a statement binds."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {alias.asname or alias.name.split(".")[0] for alias in node.names if alias.name != "*"}
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, ast.AnnAssign) and node.value is None:
        targets = []  # `x: int` only annotates; x stays unbound
    elif isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor)):
        targets = [node.target]
    elif isinstance(node, (ast.With, ast.AsyncWith)):
        targets = [item.optional_vars for item in node.items if item.optional_vars is not None]
    names = {n.id for target in targets for n in ast.walk(target)
             if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}  # not `net` of net.params[...] = 0
    if isinstance(node, (ast.If, ast.Try, ast.For, ast.While, ast.With)):  # definitions inside blocks
        for child in ast.walk(node):
            if isinstance(child, (ast.FunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)) and child is not node:
                names |= bound_names(child)
            elif isinstance(child, ast.Assign):
                names |= {n.id for t in child.targets for n in ast.walk(t)
                          if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return names


def names_used_when_called(node: ast.AST) -> set[str]:
    """The global names a kept statement reads, including inside function and lambda bodies
    (roughly: a function's parameters and the names it assigns are its own)."""
    own: set[str] = set()
    for child in ast.walk(node):
        if isinstance(child, ast.arg):
            own.add(child.arg)
        elif isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
            own.add(child.id)
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.ClassDef)):
        own -= bound_names(node)  # what the statement itself binds is global
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)} - own


def dotted_origin(expression: ast.expr, student_bound: set[str], origins: dict[str, str]) -> str | None:
    """Where a decorator comes from: ``functools.lru_cache`` for ``@lru_cache`` imported from
    functools, ``builtins.property`` for an unshadowed ``@property``; None for anything the
    student defined or anything more than a dotted name."""
    parts: list[str] = []
    while isinstance(expression, ast.Attribute):
        parts.insert(0, expression.attr)
        expression = expression.value
    if not isinstance(expression, ast.Name):
        return None
    name = expression.id
    if name in origins:
        base = origins[name]
    elif name in student_bound or name not in BUILTINS:
        return None
    else:
        base = f"builtins.{name}"
    return ".".join([base, *parts])
