"""Uploads one file with Python requests, as a Python client of the service would.

Usage: requests-upload.py <url> <path> <field> <filename> <content type>
Prints {"status", "contentType", "body": <the JSON answer, or its text>} on one line.
"""

import json
import sys

import requests

url, path, field, filename, content_type = sys.argv[1:6]
with open(path, "rb") as file:
    response = requests.post(
        url,
        files={field: (filename, file, content_type)},
        data={"note": "sent by python requests"},
        timeout=30,
    )
try:
    body = response.json()
except ValueError:
    body = response.text
print(
    json.dumps(
        {
            "status": response.status_code,
            "contentType": response.headers.get("content-type", ""),
            "body": body,
        }
    )
)
