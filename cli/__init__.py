"""The ``stvg`` command line: thin Typer wrappers over library functions (Typer and rich live
here only)."""
