"""Fitting text into boxes on printed documents: no field is ever cut.

Text is wrapped by measured width (pdfmetrics.stringWidth, not a count of characters), between any two
CJK characters and at spaces in Latin text, keeping closing punctuation off the start of a line and
opening punctuation off the end. When a box is too small the font shrinks step by step down to a
floor, and the text wraps at that size. Every helper returns where it drew, so tests can check that
nothing left its box.
"""
from reportlab.pdfbase.pdfmetrics import stringWidth

from . import fastdraw

NO_LINE_START = set('，。、；：？！）》」』】〕〉”’,.;:?!)]}%·…—')
NO_LINE_END = set('（《「『【〔〈“‘([{')
STEP = 0.25


def _tokens(text):
    """Runs of Latin letters, digits and ASCII punctuation (words, dates like 2029.11.25, numbers)
    stay whole; every other character (CJK, spaces) is one token."""
    tokens, word = [], ''
    for ch in text:
        if ch.isascii() and not ch.isspace():
            word += ch
            continue
        if word:
            tokens.append(word)
            word = ''
        tokens.append(ch)
    if word:
        tokens.append(word)
    return tokens


def _split_long(token, font, size, max_width):
    """A token wider than the line (a long Latin word): cut it into pieces that fit."""
    pieces, piece = [], ''
    for ch in token:
        if piece and stringWidth(piece + ch, font, size) > max_width:
            pieces.append(piece)
            piece = ''
        piece += ch
    return pieces + ([piece] if piece else [])


def wrap(text, font, size, max_width):
    """Lines of text, each at most max_width points wide at this font and size. Every character of
    text is in the lines, in order: only line-break spaces are dropped, and explicit newlines break."""
    lines = []
    for paragraph in str(text).split('\n'):
        tokens = []
        for token in _tokens(paragraph):
            tokens.extend(_split_long(token, font, size, max_width)
                          if stringWidth(token, font, size) > max_width else [token])
        line, width = [], 0.0              # the tokens of the line being filled
        for token in tokens:
            w = stringWidth(token, font, size)
            if line and width + w > max_width:
                if token == ' ':                  # a break at a space: the space goes
                    lines.append(''.join(line))
                    line, width = [], 0.0
                    continue
                # closing punctuation does not start a line, opening punctuation does not end one:
                # whole tokens move down with the one that did not fit, if they fit on a line together
                carry = [token]
                while len(line) > 1 and (carry[0][0] in NO_LINE_START or line[-1][-1] in NO_LINE_END):
                    carry.insert(0, line.pop())
                if len(carry) > 1 and stringWidth(''.join(carry), font, size) > max_width:
                    line, carry = line + carry[:-1], [token]          # cannot move: break anyway
                lines.append(''.join(line).rstrip(' ') or ''.join(line))
                line = carry
                width = stringWidth(''.join(line), font, size)
            else:
                line.append(token)
                width += w
        lines.append(''.join(line))
    return lines


def fit(text, font, size, max_width, max_lines=1, min_size=6.0):
    """(size, lines): the largest size from `size` down to `min_size` (in STEP) at which text wraps
    into at most max_lines lines of max_width; at min_size, as many lines as it takes."""
    s = size
    while True:
        lines = wrap(text, font, s, max_width)
        if len(lines) <= max_lines or s - STEP < min_size - 1e-9:
            return s, lines
        s -= STEP


def draw_fitted(c, text, font, x, y, size, max_width, max_lines=1, min_size=6.0, leading=1.2, align='left'):
    """Draw text from baseline y downwards in a box max_width wide, shrinking then wrapping to fit.
    Returns (size, lines, y of the last baseline)."""
    size, lines = fit(text, font, size, max_width, max_lines, min_size)
    c.setFont(font, size)
    for i, line in enumerate(lines):
        yy = y - i * size * leading
        if align == 'right':
            c.drawRightString(x, yy, line)
        elif align == 'centre':
            c.drawCentredString(x, yy, line)
        else:
            c.drawString(x, yy, line)
    return size, lines, y - (len(lines) - 1) * size * leading


def fits_line(text, font, size, max_width):
    return stringWidth(text, font, size) <= max_width


class Row:
    """One row of a form layout: a label at label_x, the value wrapped between value_x and right;
    pitch (if given) replaces the layout's distance to the next row."""

    def __init__(self, label, value, value_x, right, label_x=None, pitch=None):
        self.label, self.value, self.value_x, self.right = label, str(value), value_x, right
        self.label_x, self.pitch = label_x, pitch


def layout_rows(rows, font, size, top, bottom, pitch, leading=1.2, label_size=None, floor=4.0):
    """Place rows from baseline `top` down, the last line not below `bottom`: one size for every value
    (and the labels, scaled alike), the largest from `size` down to `floor` that fits. A row takes
    max(its pitch, its lines) in height, both scaled. Returns (value size, label size,
    [(row, lines, baseline of its first line)]); at `floor` the rows are placed even if they overflow."""
    label_size = label_size or size
    s = size
    while True:
        scale = s / size
        placed, y = [], top
        for row in rows:
            lines = wrap(row.value, font, s, row.right - row.value_x) if row.value else ['']
            placed.append((row, lines, y))
            y -= max((row.pitch or pitch) * scale, len(lines) * s * leading)
        last = placed[-1][2] - (len(placed[-1][1]) - 1) * s * leading if placed else top
        if last - s * 0.25 >= bottom or s - STEP < floor - 1e-9:
            return s, label_size * scale, placed
        s -= STEP


def draw_rows(c, font, value_size, label_size, placed, leading=1.2, labels=True):
    """Draw what layout_rows placed: labels (unless labels=False) and the values' lines."""
    for row, lines, y in placed:
        if labels and row.label and row.label_x is not None:
            fastdraw.text(c, font, label_size, row.label_x, y, row.label)
        for i, line in enumerate(lines):
            fastdraw.text(c, font, value_size, row.value_x, y - i * value_size * leading, line)


class TextFlow:
    """Paragraphs down a page between x and right, from top to bottom, continued on a new page (the
    caller's canvas.showPage()) when the page is full. y is the baseline of the next line."""

    def __init__(self, c, font, size, x, right, top, bottom, leading, page_top=None):
        self.c, self.font, self.size, self.x, self.right = c, font, size, x, right
        self.top, self.bottom, self.leading = top, bottom, leading
        self.page_top = page_top if page_top is not None else top
        self.y = top
        self.pages = 1

    def _room(self, height):
        if self.y - height < self.bottom:
            self.c.showPage()
            self.pages += 1
            self.y = self.page_top

    def paragraph(self, text, size=None, align='left'):
        """Wrap text by measured width and draw it line by line; returns the lines."""
        size = size or self.size
        lines = wrap(text, self.font, size, self.right - self.x)
        for line in lines:
            self._room(0)
            self.c.setFont(self.font, size)
            if align == 'right':
                self.c.drawRightString(self.right, self.y, line)
            elif align == 'centre':
                self.c.drawCentredString((self.x + self.right) / 2, self.y, line)
            else:
                self.c.drawString(self.x, self.y, line)
            self.y -= self.leading
        return lines

    def skip(self, height):
        """Leave height of blank space (or go to a new page if it does not fit)."""
        self._room(height)
        self.y -= height
