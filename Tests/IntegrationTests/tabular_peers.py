"""Value-by-value agreement between Doc Flow's table output (as JSON) and a peer library reading the
same input. Test tooling only: the service never runs Python."""
import base64
import datetime as dt
import decimal
import json
import math


def normalise(v):
    """A peer's Python value → the JSON value Doc Flow writes for it."""
    if v is None:
        return None
    if isinstance(v, float):
        return None if not math.isfinite(v) else v
    if isinstance(v, bool) or isinstance(v, int) or isinstance(v, str):
        return v
    if isinstance(v, decimal.Decimal):
        return ("{:f}".format(v))
    if isinstance(v, (bytes, bytearray)):
        try:
            return bytes(v).decode("utf-8")
        except UnicodeDecodeError:
            return base64.b64encode(bytes(v)).decode()
    if isinstance(v, dt.datetime):
        return v
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, dt.time):
        return v.isoformat()
    if hasattr(v, "item"):  # numpy scalars
        return normalise(v.item())
    return str(v)


class Micros:
    """A peer timestamp as microseconds since the epoch (Python's datetime stops at year 9999)."""

    def __init__(self, value, utc):
        self.value, self.utc = value, utc

    def __repr__(self):
        return f"Micros({self.value}, utc={self.utc})"


def days_from_civil(y, m, d):
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def ours_micros(s):
    """Doc Flow's timestamp text → (µs since the epoch, is UTC)."""
    utc = s.endswith("Z")
    s = s.rstrip("Z")
    date, _, time = s.partition("T")
    neg = date.startswith("-")
    y, m, d = (int(x) for x in date.lstrip("-").split("-"))
    if neg:
        y = -y
    hh, mm, rest = time.split(":")
    sec, _, frac = rest.partition(".")
    us = int((frac + "000000")[:6]) if frac else 0
    return (days_from_civil(y, m, d) * 86400 + int(hh) * 3600 + int(mm) * 60 + int(sec)) * 1_000_000 + us, utc


def as_ours(v, t):
    """A pyarrow Python value of type `t` → what Doc Flow writes for it: FLOAT and FLOAT16 as the
    double of their shortest text (numpy prints it), UINT64 as text, maps as objects with text
    keys, lists and structs as JSON arrays and objects."""
    import numpy as np
    import pyarrow as pa
    if v is None:
        return None
    if pa.types.is_timestamp(t):  # read as int64 (raw units) by raw_timestamps
        per = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[t.unit]
        return Micros(v * 1_000_000 // per, t.tz is not None)
    if pa.types.is_float32(t) or pa.types.is_float16(t):
        f = (np.float32 if pa.types.is_float32(t) else np.float16)(v)
        return float(str(f)) if np.isfinite(f) else None
    if pa.types.is_uint64(t):
        return str(v)
    if pa.types.is_map(t):
        return {(k if isinstance(k, str) else json.dumps(as_ours(k, t.key_type))): as_ours(x, t.item_type) for k, x in v}
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return [as_ours(x, t.value_type) for x in v]
    if pa.types.is_struct(t):
        return {t.field(i).name: as_ours(v[t.field(i).name], t.field(i).type) for i in range(t.num_fields)}
    return v


def raw_timestamps(t):
    """`t` with every timestamp inside it as int64 (Python's datetime stops at year 9999)."""
    import pyarrow as pa
    if pa.types.is_timestamp(t):
        return pa.int64()
    if pa.types.is_struct(t):
        return pa.struct([pa.field(t.field(i).name, raw_timestamps(t.field(i).type), t.field(i).nullable) for i in range(t.num_fields)])
    if pa.types.is_list(t):
        return pa.list_(pa.field(t.value_field.name, raw_timestamps(t.value_type), t.value_field.nullable))
    if pa.types.is_large_list(t):
        return pa.large_list(pa.field(t.value_field.name, raw_timestamps(t.value_type), t.value_field.nullable))
    if pa.types.is_map(t):
        return pa.map_(raw_timestamps(t.key_type), pa.field(t.item_field.name, raw_timestamps(t.item_type), t.item_field.nullable))
    return t


def peer_columns(table):
    """pyarrow Table → {name: [values]}, timestamps as Micros."""
    import pyarrow as pa
    out = {}
    for name in table.column_names:
        col = table.column(name)
        if pa.types.is_timestamp(col.type):
            utc = col.type.tz is not None
            us = col.cast(pa.timestamp("us", tz=col.type.tz), safe=False).cast(pa.int64()).to_pylist()
            out[name] = [None if v is None else Micros(v, utc) for v in us]
        else:
            out[name] = [as_ours(v, col.type) for v in col.cast(raw_timestamps(col.type)).to_pylist()]
    return out


def parse_ours_timestamp(s):
    t = s.replace("Z", "+00:00")
    return dt.datetime.fromisoformat(t)


def same(ours, theirs):
    if isinstance(theirs, list):
        return isinstance(ours, list) and len(ours) == len(theirs) and all(same(a, b) for a, b in zip(ours, theirs))
    if isinstance(theirs, dict):
        return isinstance(ours, dict) and ours.keys() == theirs.keys() and all(same(ours[k], theirs[k]) for k in theirs)
    if isinstance(theirs, (bytes, bytearray)):
        # Binary: base64 in a binary column, the text itself in a column of text (legacy strings).
        return ours == base64.b64encode(bytes(theirs)).decode() or ours == bytes(theirs).decode("utf-8", "replace")
    if isinstance(theirs, Micros):
        if ours is None and abs(theirs.value) > 2**62:
            # Spark's out-of-range INT96 sentinels: pyarrow wraps them into some far date, Doc Flow
            # makes them empty (with a warning).
            return True
        if not isinstance(ours, str):
            return False
        mine = ours_micros(ours)
        if not -(2**63) <= mine[0] < 2**63:
            return True  # past what a µs int64 holds: the peer wraps around, we do not
        return mine == (theirs.value, theirs.utc)
    theirs = normalise(theirs)
    if isinstance(theirs, dt.datetime):
        if not isinstance(ours, str):
            return False
        mine = parse_ours_timestamp(ours)
        if (mine.tzinfo is None) != (theirs.tzinfo is None):
            return False
        return mine == theirs
    if isinstance(theirs, float) and isinstance(ours, (int, float)) and not isinstance(ours, bool):
        return ours == theirs or math.isclose(ours, theirs, rel_tol=1e-15)
    if isinstance(theirs, str) and isinstance(ours, str) and theirs != ours:
        # Decimals: compare as numbers ("1.50" vs "1.5" never happens for exact scales, but be fair).
        try:
            return decimal.Decimal(ours) == decimal.Decimal(theirs)
        except decimal.InvalidOperation:
            return False
    return ours == theirs


def disagreements(our_records, peer_columns, names):
    """our_records: list of dicts from Doc Flow's JSON; peer_columns: {name: [values]}."""
    out = []
    n = len(next(iter(peer_columns.values()))) if peer_columns else 0
    if len(our_records) != n:
        return [f"row count: ours {len(our_records)}, peer {n}"]
    for name in names:
        for i, theirs in enumerate(peer_columns[name]):
            ours = our_records[i].get(name)
            if not same(ours, theirs):
                out.append(f"{name}[{i}]: ours {ours!r}, peer {theirs!r}")
                if len(out) > 10:
                    return out
    return out


def load_json(path):
    with open(path, "rb") as f:
        return json.load(f)
