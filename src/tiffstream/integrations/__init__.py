"""Bridges to the ecosystem (dask, dask.distributed, zarr); each imported only when used."""
