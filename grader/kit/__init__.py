"""The student self-check kit: a zip students run before they submit (`python check.py layers.py`).

    build.py        `make student-kit`: packages the grader's own message and hint code with
                    the kit the assignment's pack declares (``KIT``: its runner, its shipped
                    modules, its fixed public cases with their expected outputs as data)
    submit_client.py  `convgrade submit` (and the kit's submit.py): upload, wait, print the
                    summary; standard library and httpx only, shipped as it is
    submit_runner.py  the kit's submit.py

No reference implementation and no hidden case generator ship: tests/kit proves it.
"""
