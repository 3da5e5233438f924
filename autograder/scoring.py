"""How an exercise's case verdicts become its points, and what is said once about them.

    gate     edge cases (empty inputs, disjoint boxes: cases a function returning zeros
             passes) count only once a case that shows a computation passes, so a trivial
             answer scores 0
    slips    the contract details that slipped (a dtype, a size-1 dimension) on cases not
             about them: said once, at the top of the exercise, and free on those cases
    weighting   one sentence saying how the points are made
"""

import re

WEIGHTING = ("Each case is worth the points in brackets; the exercise's score is the sum over "
             "the cases that pass. Edge cases (marked 'edge') count only once a case that shows "
             "the function computes something passes.")


def gate(outcomes: list) -> list:
    """Mark passed edge cases `withheld` when no non-edge case passed; returns `outcomes`."""
    computes = any(o.passed and not o.edge for o in outcomes)
    for o in outcomes:
        o.withheld = o.edge and o.passed and not computes
    return outcomes


def settle(outcomes: list, hint_text) -> list:
    """Where several mistakes predict a case's output, name the one that explains most of the
    exercise's failing cases (the diagnosis), not the first in the case's list.
    `hint_text(name)`: the hint of a mistake. Returns `outcomes`."""
    counts = {}
    for o in outcomes:
        for name in o.candidates:
            counts[name] = counts.get(name, 0) + 1
    for o in outcomes:
        if len(o.candidates) > 1:
            best = max(o.candidates, key=lambda n: counts[n])   # max keeps the first of equals
            o.hint_name, o.hint = best, hint_text(best)
    return outcomes


def slips(outcomes: list) -> list:
    """The distinct slips noted on the cases, public ones first (they may name shapes)."""
    ordered = sorted((o for o in outcomes if o.slip), key=lambda o: o.hidden)
    return list(dict.fromkeys(o.slip for o in ordered))


def slip_lines(outcomes: list) -> list:
    """What the feedback says once about the slips: what slipped and what it cost."""
    found = slips(outcomes)
    if not found:
        return []
    kinds = {re.sub(r"\[[^\]]*\]", "", s.split(" where ")[0]) for s in found}   # shapes vary per case
    failed = [o for o in outcomes if not o.passed and o.check in ("dtype", "shape", "device")]
    cost = f"it costs the {len(failed)} case(s) about that detail" if failed else "it costs nothing"
    more = f" (and {len(kinds) - 1} other slip(s))" if len(kinds) > 1 else ""
    return [f"slip (noted once): {found[0]}{more}",
            f"  the other cases compare the values as if it were right; {cost}"]
