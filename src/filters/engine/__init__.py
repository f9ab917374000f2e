"""The pure filtering engine: normalising names and URLs, parsing list formats, compiling
snapshots and matching against them. No I/O beyond reading the files it is given."""
