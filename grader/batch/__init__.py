"""A class: students to the executor (Dask), results back, progress, summary and outputs."""
