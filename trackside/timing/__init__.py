"""Pure race domain: records in, standings out. No I/O, no clock reads, no framework."""
