"""Artifacts for other machines: the Gradescope zip and the cluster node image."""
