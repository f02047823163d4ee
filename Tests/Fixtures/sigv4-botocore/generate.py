#!/usr/bin/env python3
"""Presigned S3 URLs and POST policies made by botocore (PyPI), for DocFlowS3Tests to match.

    generate.py            write cases.json beside this file
    generate.py --check    exit 1 unless botocore still makes exactly cases.json (scripts/test)

Inputs are fixed (credentials, clock, endpoint, keys), so the outputs are botocore's own for them:
presigned GET/PUT/HEAD/DELETE URLs (path-style, UNSIGNED-PAYLOAD, with and without a session token,
with response-content-disposition as downloads use it) from botocore.auth.S3SigV4QueryAuth, and
presigned POST forms from a client's generate_presigned_post.
"""
import datetime
import json
import os
import sys
from unittest import mock
from urllib.parse import quote

import botocore
import botocore.session
from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

HERE = os.path.dirname(os.path.abspath(__file__))
NOW = datetime.datetime(2026, 12, 3, 6, 0, 0, tzinfo=datetime.timezone.utc)
ENDPOINT = "http://127.0.0.1:8333"
REGION = "us-east-1"
KEY_ID, SECRET = "AKIADOCFLOWEXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYDOCFLOWKEY"
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE//token+with/odd=chars"
KEYS = ["input/0b6f1d3c-8a2e-4f5b-9c7d-1e2f3a4b5c6d/11111111-2222-4333-8444-555555555555.csv",
        "output/0b6f1d3c-8a2e-4f5b-9c7d-1e2f3a4b5c6d/11111111-2222-4333-8444-555555555555-a2.pdf",
        "odd/a b+c=d&e/ä~.txt"]


def urls():
    out = []
    for token in (None, TOKEN):
        creds = Credentials(KEY_ID, SECRET, token)
        for method in ("GET", "PUT", "HEAD", "DELETE"):
            for key in KEYS:
                for params in ({}, {"response-content-disposition": "attachment; filename=\"Q1 report.pdf\"; filename*=UTF-8''Q1%20r%C3%A9port.pdf"}):
                    if params and method != "GET":
                        continue
                    # The URL with the key encoded, as botocore's S3 serializer writes it for a client.
                    req = AWSRequest(method=method, url=f"{ENDPOINT}/docflow/{quote(key, safe='/~')}", params=dict(params))
                    with mock.patch("botocore.auth.get_current_datetime", return_value=NOW):
                        S3SigV4QueryAuth(creds, "s3", REGION, expires=3600).add_auth(req)
                    out.append({"method": method, "bucket": "docflow", "key": key, "params": params, "token": token,
                                "expires": 3600, "url": req.prepare().url})
    return out


def posts():
    out = []
    for token in (None, TOKEN):
        client = botocore.session.get_session().create_client(
            "s3", region_name=REGION, endpoint_url=ENDPOINT, aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET,
            aws_session_token=token, config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"))
        for key, size in ((KEYS[0], 1), (KEYS[1], 262144000)):
            fields = {"Content-Type": "application/octet-stream"}
            conditions = [["content-length-range", size, size], {"Content-Type": "application/octet-stream"}]
            with mock.patch("botocore.signers.get_current_datetime", return_value=NOW), \
                 mock.patch("botocore.auth.get_current_datetime", return_value=NOW):
                post = client.generate_presigned_post("docflow", key, Fields=fields, Conditions=conditions, ExpiresIn=3600)
            out.append({"bucket": "docflow", "key": key, "size": size, "token": token, "expires": 3600,
                        "url": post["url"], "fields": post["fields"]})
    return out


def main():
    doc = {"botocore": botocore.__version__, "now": NOW.strftime("%Y-%m-%dT%H:%M:%SZ"), "region": REGION,
           "access_key_id": KEY_ID, "secret_access_key": SECRET, "urls": urls(), "posts": posts()}
    text = json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    path = os.path.join(HERE, "cases.json")
    if "--check" in sys.argv:
        same = open(path, encoding="utf-8").read() == text
        print(f"botocore {botocore.__version__}: {'makes exactly' if same else 'does NOT make'} {path}")
        return 0 if same else 1
    open(path, "w", encoding="utf-8").write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
