"""The `belamy` command line: a thin layer of parsing and messages over the library."""
