"""Intake: a submission (.py, folder, .zip, .ipynb) becomes a staged module; nothing runs.

Loading, entry choice, staging, folders, zips, notebooks, syntax errors, hints, mechanical
repair, the class folder, rosters, and the host-side budget that bounds this work.
"""
