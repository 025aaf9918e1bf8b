"""The student self-check kit: a zip students run before they submit (`python check.py layers.py`).

    build.py        `make student-kit`: packages the grader's own message and hint code with
                    the kit the assignment's pack declares (``KIT``: its runner, its shipped
                    modules, its fixed public cases with their expected outputs as data)

No reference implementation and no hidden case generator ship: tests/kit proves it.
"""
