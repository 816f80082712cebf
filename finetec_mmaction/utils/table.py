"""Plain-text tables for the benchmarks' console output."""
import math
from typing import List, Optional


def render_table(header: List[str], rows: List[List[str]]) -> str:
    """Columns padded to their widest cell: the first left-aligned, the
    others right-aligned, a dashed rule under the header."""
    widths = [max(len(r[i]) for r in [header] + rows)
              for i in range(len(header))]
    lines = []
    for i, row in enumerate([header] + rows):
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:])
        ]
        lines.append('  '.join(cells))
        if i == 0:
            lines.append('  '.join('-' * w for w in widths))
    return '\n'.join(lines)


def format_number(value: Optional[float], digits: int = 4) -> str:
    """``value`` with ``digits`` decimals; ``'-'`` for ``None`` or NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return '-'
    return f'{value:.{digits}f}'
