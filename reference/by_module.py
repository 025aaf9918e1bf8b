"""The reference worker's module when it serves an assignment bundle (several packs from
one file, grader/harness/assignments/bundle.py): every reference module of this package,
each function under "module.function" ("strided.conv_forward", "maxpool.max_pool_forward").

A worker imports one module and looks its functions up by name; naming them by module
keeps the styles apart that share a function name (naive, einsum and strided each have a
conv_forward). A name with a dot is no Python identifier, so nothing here can shadow one.
"""

import sys
from types import ModuleType

_package = sys.modules[__package__]  # imported first: it imports every reference module (its __init__)
for _module_name, _module in list(vars(_package).items()):
    if isinstance(_module, ModuleType) and _module.__name__.startswith(__package__ + "."):
        for _name, _value in vars(_module).items():
            # Whatever module defined it: a pack may name a function its reference module imports.
            if callable(_value) and not _name.startswith("_"):
                globals()[f"{_module_name}.{_name}"] = _value
