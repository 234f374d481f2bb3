"""Pure parsers for the wire formats trackside reads: bytes or str in, typed records out."""
