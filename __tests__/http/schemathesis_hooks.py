# Loaded by schemathesis (SCHEMATHESIS_HOOKS, __tests__/http/schemathesis.test.ts).
import sys

import schemathesis

# Hypothesis describes a strategy by parsing the source of its lambdas (ast). Since
# ImageJsonRequest gained an object member (focus) beside its open additionalProperties, that
# happens deep in the stack for POST /v1/images, and Python 3.11's ast constructor failed there
# with "AST constructor recursion depth mismatch" at the default limit of 1000 frames: a runtime
# error of the tool, not an answer of ours. With a higher limit it does not happen (seen).
sys.setrecursionlimit(10_000)

# Still seen with the higher limit (2026-12-07, Python 3.11.7): hypothesis builds the repr of a
# recursive strategy while validating it, and the repr of a lambda parses its module's source
# with ast, deep in the stack, where 3.11's ast constructor fails with that SystemError. The
# description is only ever text for messages: where the parse fails, the lambda is described as
# hypothesis describes any lambda whose source it cannot read ("<unknown>").
from hypothesis.internal import lambda_sources  # noqa: E402

_describe_lambda = lambda_sources._lambda_description


def _lambda_description(f, *args, **kwargs):
    try:
        return _describe_lambda(f, *args, **kwargs)
    except (SystemError, RecursionError):
        return "lambda: <unknown>"


lambda_sources._lambda_description = _lambda_description

# A tus chunk (application/offset+octet-stream) is raw bytes, as application/octet-stream is.
schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")
