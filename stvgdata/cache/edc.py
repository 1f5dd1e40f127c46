"""HDF5 read transfer lists with or without the error-detection (fletcher32) check.

h5py binds no ``H5Pset_edc_check``, so it is called through ctypes in the very HDF5 library
h5py is linked against: a second copy of the library would not know h5py's ids.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import warnings
from pathlib import Path

import h5py


def _loaded_hdf5() -> str | None:
    """Path of the HDF5 library loaded into this process (Linux), else the system's."""
    maps = Path("/proc/self/maps")
    if maps.exists():
        for line in maps.read_text().splitlines():
            name = line.rsplit(" ", 1)[-1]
            if Path(name).name.startswith("libhdf5") and "_hl" not in Path(name).name:
                return name
    return ctypes.util.find_library("hdf5")


@functools.cache
def transfer_list(verify_checksums: bool) -> h5py.h5p.PropDXID:
    """Dataset transfer property list for reads, checking fletcher32 or skipping the check.

    Where the library cannot be reached, reads stay checked (slower, never wrong)."""
    dxpl = h5py.h5p.create(h5py.h5p.DATASET_XFER)
    if verify_checksums:
        return dxpl
    path = _loaded_hdf5()
    library = ctypes.CDLL(path) if path else None
    if library is None or library.H5Pset_edc_check(ctypes.c_int64(dxpl.id), h5py.h5z.DISABLE_EDC):
        warnings.warn("HDF5's checksum check cannot be disabled: reads check it", stacklevel=2)
    return dxpl
