"""One tabular conversion by a peer library, in its own process (bench/tabular.py times it).
usage: tabular_peer.py TOOL FROM TO INPUT OUTPUT"""
import csv
import sys

tool, src, dst, inp, out = sys.argv[1:6]

if tool == "pyarrow":
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq
    if (src, dst) == ("csv", "parquet"):
        pq.write_table(pacsv.read_csv(inp), out, compression="snappy")
    elif (src, dst) == ("parquet", "csv"):
        pacsv.write_csv(pq.read_table(inp), out)
    else:
        sys.exit(f"pyarrow: no {src}→{dst}")
elif tool == "duckdb":
    import duckdb
    readers = {"csv": "read_csv_auto(?)", "parquet": "read_parquet(?)", "json": "read_json_auto(?)"}
    formats = {"csv": "(FORMAT csv, HEADER true)", "parquet": "(FORMAT parquet, COMPRESSION snappy)",
               "json": "(FORMAT json, ARRAY true)"}
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    con.execute(f"COPY (SELECT * FROM {readers[src]}) TO '{out}' {formats[dst]}", [inp])
elif tool.startswith("pandas"):
    import pandas as pd
    if src == "csv":
        df = pd.read_csv(inp)
    elif src == "json":
        df = pd.read_json(inp, orient="records")
    elif src == "xlsx":
        df = pd.read_excel(inp, engine="calamine" if tool == "pandas+calamine" else "openpyxl")
    else:
        sys.exit(f"pandas: no {src}")
    if dst == "csv":
        df.to_csv(out, index=False)
    elif dst == "json":
        df.to_json(out, orient="records", date_format="iso")
    elif dst == "xlsx":
        df.to_excel(out, index=False, engine="xlsxwriter" if tool == "pandas+xlsxwriter" else "openpyxl")
    else:
        sys.exit(f"pandas: no {dst}")
elif tool == "python-calamine":
    from python_calamine import CalamineWorkbook
    wb = CalamineWorkbook.from_path(inp)
    rows = wb.get_sheet_by_index(0).to_python()
    with open(out, "w", newline="") as f:
        csv.writer(f).writerows(rows)
else:
    sys.exit(f"unknown tool {tool}")
