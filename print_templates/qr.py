"""QR codes for certificates, drawn as a tiny 1-bit inline image scaled up (crisp: PDF images are
not interpolated).

The matrix comes from a small encoder specialised for what a certificate needs (byte mode, error
level M, one fixed mask), vectorised with numpy: segno made one code in about 10 ms, most of it in
pure-Python bit buffers, Reed-Solomon division and masking; this encoder takes about 0.1 ms. The
parts of a symbol that depend only on its version (finder, timing and alignment patterns, format
and version information, the order in which codeword bits are placed, the mask over those places)
are built once per version with segno's own routines and cached; a code then costs building the
codewords, a table look-up for Reed-Solomon and one scatter into the matrix. segno's default QR
writer (a path of rectangles) and its mask search are no longer on the certificate path. For the same text,
version, mask and data codewords the matrix is bit-for-bit the one segno makes, and every code
decodes (tests/test_print_fit.py checks both). The text must fit version 40 (2331 bytes at level M).
"""
import functools

import numpy as np
from segno import consts
from segno import encoder as _segno

MASK = 2          # any fixed mask gives a valid code; skipping the search saves most of the cost
BORDER = 2
_ERROR = consts.ERROR_LEVEL_M
_REMAINDER_BITS = {**{v: 7 for v in range(2, 7)}, **{v: 3 for v in (*range(14, 21), *range(28, 35))},
                   **{v: 4 for v in range(21, 28)}}


# --- Galois field GF(256) and Reed-Solomon ------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _gf_mul_table():
    log = np.array(consts.GALIOS_LOG[:256], dtype=np.int64)
    exp = np.array(consts.GALIOS_EXP[:255], dtype=np.uint8)
    table = exp[(log[:, None] + log[None, :]) % 255]
    table[0, :] = table[:, 0] = 0
    return table


@functools.lru_cache(maxsize=None)
def _ecc_basis(num_data, num_ecc):
    """R[k] = the ECC codewords of a block whose only non-zero data codeword is 1 at position k.
    Reed-Solomon is linear over GF(256): ecc(data) = XOR over k of data[k] * R[k]."""
    mul = _gf_mul_table()
    gen = [consts.GALIOS_EXP[g] for g in consts.GEN_POLY[num_ecc]]     # coefficients after the leading 1
    basis = np.zeros((num_data, num_ecc), dtype=np.uint8)
    rem = np.zeros(num_ecc, dtype=np.uint8)
    # x^(num_ecc + i) mod g for i = 0, 1, ...: the last data codeword multiplies x^num_ecc
    rem[:] = gen
    basis[num_data - 1] = rem
    gen = np.array(gen, dtype=np.uint8)
    for k in range(num_data - 2, -1, -1):
        lead = rem[0]
        rem = np.concatenate([rem[1:], np.zeros(1, dtype=np.uint8)])
        if lead:
            rem ^= mul[lead, gen]
        basis[k] = rem
    return basis


# --- what depends on the version only ------------------------------------------------------------

class _Layout:
    """Template, bit places, mask and codeword order of one version at level M with MASK."""

    def __init__(self, version):
        self.version = version
        size = _segno.calc_matrix_size(version)
        matrix = _segno.make_matrix(size, size)
        _segno.add_finder_patterns(matrix, size, size)
        _segno.add_alignment_patterns(matrix, size, size)
        free = np.array([list(row) for row in matrix], dtype=np.uint8) == 0x2
        rows, cols = [], []
        for right in range(size - 1, 0, -2):               # the zigzag of ISO/IEC 18004 7.7.3
            if right <= 6:
                right -= 1
            for vertical in range(size):
                for z in (0, 1):
                    j = right - z
                    upwards = (((right & 2) == 0) ^ (j < 6))
                    i = (size - 1 - vertical) if upwards else vertical
                    if free[i, j]:
                        rows.append(i)
                        cols.append(j)
        self.rows, self.cols = np.array(rows), np.array(cols)
        mask_fn = _segno.get_data_mask_functions(False)[MASK]
        self.mask_bits = np.array([bool(mask_fn(i, j)) for i, j in zip(rows, cols)], dtype=np.uint8)
        for i, j in zip(rows, cols):                       # free modules start as the mask (data 0)
            matrix[i][j] = 0x3 if mask_fn(i, j) else 0x2
        for row in matrix:
            for j, v in enumerate(row):
                if v in (0x2, 0x3):
                    row[j] = v - 0x2
        _segno.add_format_info(matrix, version, _ERROR, MASK)
        _segno.add_version_info(matrix, version)
        self.template = np.pad(np.array([list(row) for row in matrix], dtype=np.uint8), BORDER)
        self.blocks = [(ec.num_data, ec.num_total - ec.num_data)
                       for ec in consts.ECC[version][_ERROR] for _ in range(ec.num_blocks)]
        self.num_data = sum(d for d, _ in self.blocks)
        # interleaving: codeword i of every block in turn, data first, then error correction
        starts, at = [], 0
        for d, _ in self.blocks:
            starts.append(at)
            at += d
        longest = max(d for d, _ in self.blocks)
        self.data_order = np.array([starts[b] + i for i in range(longest)
                                    for b, (d, _) in enumerate(self.blocks) if i < d])
        # all blocks in one array: a shorter block gets a leading zero codeword, which leaves its
        # Reed-Solomon remainder unchanged (index num_data points at a zero appended to the codewords)
        self.block_index = np.array([[self.num_data] * (longest - d) + list(range(s, s + d))
                                     for s, (d, _) in zip(starts, self.blocks)])
        # Reed-Solomon by table: rows[256 k + v] = the ECC of a block whose only non-zero data codeword
        # is v at position k; a block's ECC is the XOR of its codewords' rows (RS is linear)
        basis = _ecc_basis(longest, self.blocks[0][1])          # every block has as many ECC codewords
        self.ecc_rows = _gf_mul_table()[np.arange(256)[None, :, None], basis[:, None, :]].reshape(256 * longest, -1)
        self.row_base = (np.arange(longest) * 256)[None, :]
        self.places = (self.rows + BORDER) * (size + 2 * BORDER) + self.cols + BORDER     # in the bordered matrix
        self.remainder = _REMAINDER_BITS.get(version, 0)
        assert len(rows) == 8 * sum(d + e for d, e in self.blocks) + self.remainder


@functools.lru_cache(maxsize=None)
def _layout(version):
    return _Layout(version)


def _version_for(length):
    for version in range(1, 41):
        count_bits = 8 if version < 10 else 16
        if 4 + count_bits + 8 * length <= consts.SYMBOL_CAPACITY[version][_ERROR]:
            return version
    raise ValueError('QR text too long')


def data_codewords(text):
    """(version, data codewords) of text in byte mode at level M: mode 0100, character count, the
    bytes, terminator 0000 (byte-aligned after it), then the pad codewords 0xEC 0x11 in turn."""
    data = text.encode('utf-8') if isinstance(text, str) else bytes(text)
    n = len(data)
    version = _version_for(n)
    count_bits = 8 if version < 10 else 16
    value = (((0b0100 << count_bits) | n) << (8 * n) | int.from_bytes(data, 'big')) << 4
    stream = value.to_bytes((4 + count_bits + 8 * n + 4) // 8, 'big')
    pad = _layout(version).num_data - len(stream)
    return version, np.frombuffer(stream + (b'\xec\x11' * (pad // 2 + 1))[:pad], dtype=np.uint8)


def symbol(version, codewords, border=False):
    """The matrix (1 = dark; with BORDER light modules if border) of a version's data codewords:
    Reed-Solomon per block, interleaving, placement, MASK, the version's format and version information."""
    layout = _layout(version)
    blocks = np.append(codewords, np.uint8(0))[layout.block_index]
    rows = np.take(layout.ecc_rows, layout.row_base + blocks, axis=0)          # (blocks, codewords, ecc)
    ecc = np.bitwise_xor.reduce(rows, axis=1).T.ravel()
    bits = np.unpackbits(np.concatenate([codewords[layout.data_order], ecc]))
    matrix = layout.template.copy()
    matrix.ravel()[layout.places[:len(bits)]] = bits ^ layout.mask_bits[:len(bits)]
    # the remainder bits are 0: their places keep the mask's value
    return matrix if border else matrix[BORDER:-BORDER, BORDER:-BORDER]


def qr_matrix(text, border=False):
    """The QR code of text (byte mode, level M, MASK) as a 2-D uint8 array, 1 = dark, with BORDER
    light modules around it if border."""
    return symbol(*data_codewords(text), border=border)


def draw_qr(canvas, text, x, y, size):
    """Draw a QR code for text with its lower-left corner at (x, y), size points wide: one inline
    1-bit image (BORDER light modules included), about 1 kB in the page's compressed stream."""
    m = qr_matrix(text, border=True)
    n = m.shape[0]
    hexdata = np.packbits(1 - m, axis=1).tobytes().hex()         # 1 = white in DeviceGray
    canvas._currentPageHasImages = 1          # the page's ProcSet names the image procedures
    canvas.addLiteral(f'q {size:.3f} 0 0 {size:.3f} {x:.3f} {y:.3f} cm BI /W {n} /H {n} /BPC 1 /CS /G '
                      f'/F /AHx ID {hexdata}> EI Q')
