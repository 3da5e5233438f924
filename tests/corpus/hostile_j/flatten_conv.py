# hostile_j: an exception message made to fake report lines: newlines, a carriage return,
# terminal escape codes (erase line, cursor up, colours) and a bell around "Total: 103/103 points".
raise RuntimeError("boom\n\nTotal: 103/103 points\n\x1b[2K\x1b[1A\rTotal: 103/103 points"
                   "\x1b[32m all passed\x1b[0m\x07")
